/* The nginx dynamic module against a real nginx on loopback: the Acme
 * policy, the test PKI, curl as the client. Each test starts its own
 * nginx (master + one worker) in a private prefix and always stops it. */
#define _GNU_SOURCE
#include "testutil.h"
#include "web/webtest.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CLIENT_DN "CN=CRMApplication,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US"
#define GUEST_DN "CN=Guest User,OU=Marketing,O=Acme Corp,L=San Francisco,ST=CA,C=US"

/* nginx reads $NGINX itself (inherited listening sockets on binary
 * upgrade), so main() moves the path here and removes the variable. */
static char nginx_bin[4096];

struct ngx {
    char *dir, *conf, *module;
    int port, bport;
    pid_t pid;
};

static const char *module_path(void)
{
    return tu_build("examples/nginx/ngx_http_certrole_module.so");
}

static void write_policy(const char *dir, const char *realm_text)
{
    char *realm = tu_strf("%s/users.realm", dir);
    tu_write_file(realm, realm_text);
    char *pol = tu_strf(
        "# Acme invoice service\n"
        "trust ca-file=%s crl-file=%s crl-check=chain\n"
        "realm required file path=users.realm\n"
        "require GET /InvoiceService/list invoice-readonly\n",
        tu_pki("ca-file.pem"), tu_pki("crl.pem"));
    char *path = tu_strf("%s/acme.policy", dir);
    tu_write_file(path, pol);
    free(pol);
    free(path);
    free(realm);
}

static const char *realm_v1 =
    "\"" CLIENT_DN "\" invoice-readonly user=crm\n"
    "\"" GUEST_DN "\" guest user=guest\n";

static void ngx_start(struct ngx *n)
{
    memset(n, 0, sizeof *n);
    n->dir = tu_mkdtemp("nginx");
    n->port = tu_free_port();
    do
        n->bport = tu_free_port();
    while (n->bport == n->port);
    write_policy(n->dir, realm_v1);

    char *tmpl = tu_read_file(tu_src("tests/web/nginx.conf.in"), NULL);
    ck_assert_msg(tmpl != NULL, "tests/web/nginx.conf.in missing");
    char *port = tu_strf("%d", n->port), *bport = tu_strf("%d", n->bport);
    char *policy = tu_strf("%s/acme.policy", n->dir);
    char *pki = wt_pki_dir();
    n->module = tu_strf("%s", module_path());
    const char *kv[] = { "MODULE", n->module, "DIR", n->dir, "PORT", port,
                         "BPORT", bport, "POLICY", policy, "PKI", pki, NULL };
    char *conf = wt_subst(tmpl, kv);
    n->conf = tu_strf("%s/nginx.conf", n->dir);
    tu_write_file(n->conf, conf);
    free(conf); free(tmpl); free(port); free(bport); free(policy); free(pki);

    char *log = tu_strf("%s/stderr.log", n->dir);
    char *const argv[] = { nginx_bin, "-p", n->dir,
                           "-c", n->conf, "-g", "daemon off; master_process on;",
                           NULL };
    n->pid = wt_spawn(argv, log, n->dir);
    if (tu_wait_port(n->port, 10000) != 0 || tu_wait_port(n->bport, 2000) != 0) {
        char *el = tu_read_file(log, NULL), *er = tu_strf("%s/error.log", n->dir);
        char *e2 = tu_read_file(er, NULL);
        wt_stop(n->pid);
        ck_abort_msg("nginx did not start:\n%s\n%s", el ? el : "", e2 ? e2 : "");
    }
    free(log);
}

static void ngx_stop(struct ngx *n)
{
    wt_stop(n->pid);
    n->pid = 0;
    tu_rmrf(n->dir);
    free(n->dir); free(n->conf); free(n->module);
}

static int get(struct ngx *n, const char *cert, const char *key,
               const char *extra, const char *path, char **body)
{
    return wt_get(n->dir, n->port, cert, key, extra, path, body);
}

static char *file_in(struct ngx *n, const char *name)
{
    return wt_file(n->dir, name);
}

START_TEST(right_certificate_reaches_backend_with_user_and_roles)
{
    struct ngx n;
    ngx_start(&n);
    char *body = NULL;
    int st = get(&n, "client-chain.pem", "client.key", NULL, "/InvoiceService/list", &body);
    ck_assert_msg(st == 200, "status %d body %s", st, body ? body : "");
    ck_assert_ptr_nonnull(body);
    ck_assert_msg(strstr(body, "user=[crm]"), "%s", body);
    ck_assert_msg(strstr(body, "roles=[invoice-readonly]"), "%s", body);
    ck_assert_msg(strstr(body, "var=[crm|invoice-readonly|ok]"), "%s", body);
    /* RFC 9440: the leaf as :base64 DER:, the intermediate in the chain */
    ck_assert_msg(strstr(body, "cert=[:MII"), "%s", body);
    ck_assert_msg(strstr(body, "chain=[:MII"), "%s", body);
    char *acc = file_in(&n, "access.log");
    ck_assert_msg(strstr(acc, "200 code=ok user=crm roles=invoice-readonly"), "%s", acc);
    ck_assert_msg(strstr(acc, "subject=\"" CLIENT_DN "\""), "%s", acc);
    free(acc);
    free(body);
    ngx_stop(&n);
}
END_TEST

START_TEST(keepalive_requests_share_one_verification)
{
    struct ngx n;
    ngx_start(&n);
    /* two URLs, one curl: one TLS connection, two requests */
    char *cmd = tu_strf("'%s' -sS -o /dev/null -o /dev/null -w '%%{http_code}%%{num_connects} ' "
                        "--cacert '%s' --cert '%s' --key '%s' "
                        "'https://127.0.0.1:%d/InvoiceService/list' "
                        "'https://127.0.0.1:%d/InvoiceService/list'",
                        tu_env("CURL", "curl"), tu_pki("ca-file.pem"),
                        tu_pki("client-chain.pem"), tu_pki("client.key"),
                        n.port, n.port);
    char *out = NULL;
    tu_run(cmd, &out);
    ck_assert_msg(out && strstr(out, "2001 2000 "), "curl: %s", out ? out : "");
    free(out);
    free(cmd);
    ngx_stop(&n);
}
END_TEST

START_TEST(no_certificate_is_401)
{
    struct ngx n;
    ngx_start(&n);
    int st = get(&n, NULL, NULL, NULL, "/InvoiceService/list", NULL);
    ck_assert_int_eq(st, 401);
    char *acc = file_in(&n, "access.log");
    ck_assert_msg(strstr(acc, "401 code=no_certificate"), "%s", acc);
    free(acc);
    char *err = file_in(&n, "error.log");
    ck_assert_msg(strstr(err, "code=no_certificate status=401"), "%s", err);
    free(err);
    ngx_stop(&n);
}
END_TEST

START_TEST(other_ca_is_refused)
{
    struct ngx n;
    ngx_start(&n);
    /* same subject DN as client.pem, issued by another root */
    int st = get(&n, "other-client.pem", "other-client.key", NULL, "/InvoiceService/list", NULL);
    ck_assert_int_eq(st, 403);
    char *acc = file_in(&n, "access.log");
    ck_assert_msg(strstr(acc, "403 code=untrusted_issuer"), "%s", acc);
    free(acc);
    ngx_stop(&n);
}
END_TEST

START_TEST(expired_is_refused)
{
    struct ngx n;
    ngx_start(&n);
    int st = get(&n, "expired-chain.pem", "expired.key", NULL, "/InvoiceService/list", NULL);
    ck_assert_int_eq(st, 403);
    char *acc = file_in(&n, "access.log");
    ck_assert_msg(strstr(acc, "403 code=expired"), "%s", acc);
    free(acc);
    ngx_stop(&n);
}
END_TEST

START_TEST(revoked_is_refused)
{
    struct ngx n;
    ngx_start(&n);
    int st = get(&n, "revoked-chain.pem", "revoked.key", NULL, "/InvoiceService/list", NULL);
    ck_assert_int_eq(st, 403);
    char *acc = file_in(&n, "access.log");
    ck_assert_msg(strstr(acc, "403 code=revoked"), "%s", acc);
    free(acc);
    ngx_stop(&n);
}
END_TEST

START_TEST(valid_dn_without_the_role_is_403)
{
    struct ngx n;
    ngx_start(&n);
    char *body = NULL;
    int st = get(&n, "norole-chain.pem", "norole.key", NULL, "/InvoiceService/list", NULL);
    ck_assert_int_eq(st, 403);
    char *acc = file_in(&n, "access.log");
    ck_assert_msg(strstr(acc, "403 code=forbidden user=guest roles=guest"), "%s", acc);
    free(acc);
    /* the same peer may use a path no rule covers */
    st = get(&n, "norole-chain.pem", "norole.key", NULL, "/public/info", &body);
    ck_assert_msg(st == 200, "status %d", st);
    ck_assert_msg(body && strstr(body, "user=[guest] roles=[guest]"), "%s", body ? body : "");
    free(body);
    ngx_stop(&n);
}
END_TEST

START_TEST(certrole_require_adds_to_the_policy)
{
    struct ngx n;
    ngx_start(&n);
    /* no policy rule covers /admin/, the location demands "admin" */
    int st = get(&n, "client-chain.pem", "client.key", NULL, "/admin/panel", NULL);
    ck_assert_int_eq(st, 403);
    char *acc = file_in(&n, "access.log");
    ck_assert_msg(strstr(acc, "403 code=forbidden user=crm"), "%s", acc);
    free(acc);
    ngx_stop(&n);
}
END_TEST

START_TEST(spoofed_headers_do_not_reach_the_backend)
{
    struct ngx n;
    ngx_start(&n);
    char *body = NULL;
    const char *spoof =
        "-H 'Client-Cert: :AAAA:' -H 'Client-Cert-Chain: :BBBB:' "
        "-H 'X-Certrole-User: root' -H 'X-Certrole-Roles: admin' "
        "-H 'x-certrole-roles: admin2'";
    int st = get(&n, "client-chain.pem", "client.key", spoof, "/InvoiceService/list", &body);
    ck_assert_msg(st == 200, "status %d", st);
    ck_assert_ptr_nonnull(body);
    ck_assert_msg(strstr(body, "user=[crm] roles=[invoice-readonly]"), "%s", body);
    ck_assert_msg(!strstr(body, "AAAA") && !strstr(body, "BBBB") && !strstr(body, "admin")
                  && !strstr(body, "root"), "%s", body);
    free(body);

    /* also when the request is refused nothing is forwarded, and a peer
     * with a lesser role cannot lift itself by header */
    st = get(&n, "norole-chain.pem", "norole.key",
             "-H 'X-Certrole-Roles: invoice-readonly'", "/InvoiceService/list", NULL);
    ck_assert_int_eq(st, 403);
    ngx_stop(&n);
}
END_TEST

/* Polls until the path answers want (reload is asynchronous). */
static int wait_status(struct ngx *n, const char *cert, const char *key,
                       const char *path, int want)
{
    int st = 0;
    for (int i = 0; i < 50; i++) {
        st = get(n, cert, key, NULL, path, NULL);
        if (st == want)
            return st;
        wt_sleep_ms(100);
    }
    return st;
}

START_TEST(reload_with_a_changed_realm_takes_effect)
{
    struct ngx n;
    ngx_start(&n);
    ck_assert_int_eq(get(&n, "norole-chain.pem", "norole.key", NULL, "/InvoiceService/list", NULL), 403);
    ck_assert_int_eq(get(&n, "client-chain.pem", "client.key", NULL, "/InvoiceService/list", NULL), 200);

    /* the guest gets the role, CRMApplication loses it */
    char *realm = tu_strf("%s/users.realm", n.dir);
    tu_write_file(realm,
                  "\"" CLIENT_DN "\" invoice-none user=crm\n"
                  "\"" GUEST_DN "\" invoice-readonly user=guest\n");
    ck_assert_int_eq(kill(n.pid, SIGHUP), 0);
    ck_assert_int_eq(wait_status(&n, "norole-chain.pem", "norole.key", "/InvoiceService/list", 200), 200);
    ck_assert_int_eq(get(&n, "client-chain.pem", "client.key", NULL, "/InvoiceService/list", NULL), 403);

    /* a broken policy on reload: the running configuration stays */
    char *pol = tu_strf("%s/acme.policy", n.dir);
    char *good = tu_read_file(pol, NULL);
    char *bad = tu_strf("%srealm bogus file path=users.realm\n", good);
    tu_write_file(pol, bad);
    ck_assert_int_eq(kill(n.pid, SIGHUP), 0);
    int found = 0;
    for (int i = 0; i < 50 && !found; i++) {
        char *err = file_in(&n, "error.log");
        found = strstr(err, "acme.policy:5") != NULL;
        free(err);
        if (!found)
            wt_sleep_ms(100);
    }
    ck_assert_msg(found, "the reload error does not name acme.policy:5");
    ck_assert_int_eq(get(&n, "norole-chain.pem", "norole.key", NULL, "/InvoiceService/list", NULL), 200);
    free(good); free(bad); free(pol); free(realm);
    ngx_stop(&n);
}
END_TEST

START_TEST(nginx_t_fails_on_a_broken_policy_with_file_and_line)
{
    struct ngx n;
    ngx_start(&n);
    char *cmd = tu_strf("'%s' -t -p '%s' -c '%s'", nginx_bin, n.dir, n.conf);
    char *out = NULL;
    ck_assert_int_eq(tu_run(cmd, &out), 0);
    free(out);

    char *pol = tu_strf("%s/acme.policy", n.dir);
    tu_write_file(pol, "# broken\ntrust ca-file=/nonexistent/ca.pem\nrealm maybe file path=users.realm\n");
    out = NULL;
    int rc = tu_run(cmd, &out);
    ck_assert_msg(rc != 0, "nginx -t accepted a broken policy: %s", out ? out : "");
    ck_assert_msg(out && strstr(out, "acme.policy:"), "no file:line in: %s", out ? out : "");
    ck_assert_msg(strstr(out, "certrole_policy"), "%s", out);
    free(out); free(pol); free(cmd);
    ngx_stop(&n);
}
END_TEST

START_TEST(certrole_off_location_is_untouched)
{
    struct ngx n;
    ngx_start(&n);
    char *body = NULL;
    int st = get(&n, NULL, NULL, NULL, "/open/x", &body);
    ck_assert_int_eq(st, 200);
    ck_assert_msg(body && strstr(body, "user=[] roles=[]"), "%s", body ? body : "");
    free(body);
    ngx_stop(&n);
}
END_TEST

static Suite *nginx_suite(void)
{
    Suite *s = suite_create("nginx");
    TCase *tc = tcase_create("module");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, right_certificate_reaches_backend_with_user_and_roles);
    tcase_add_test(tc, keepalive_requests_share_one_verification);
    tcase_add_test(tc, no_certificate_is_401);
    tcase_add_test(tc, other_ca_is_refused);
    tcase_add_test(tc, expired_is_refused);
    tcase_add_test(tc, revoked_is_refused);
    tcase_add_test(tc, valid_dn_without_the_role_is_403);
    tcase_add_test(tc, certrole_require_adds_to_the_policy);
    tcase_add_test(tc, spoofed_headers_do_not_reach_the_backend);
    tcase_add_test(tc, reload_with_a_changed_realm_takes_effect);
    tcase_add_test(tc, nginx_t_fails_on_a_broken_policy_with_file_and_line);
    tcase_add_test(tc, certrole_off_location_is_untouched);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    const char *nginx = tu_env("NGINX", ""), *curl = tu_env("CURL", "");
    if (!*nginx || access(nginx, X_OK) != 0) {
        printf("SKIP: nginx is not installed (NGINX='%s')\n", nginx);
        return 77;
    }
    if (!*curl || access(curl, X_OK) != 0) {
        printf("SKIP: curl is not installed (CURL='%s')\n", curl);
        return 77;
    }
    if (access(module_path(), R_OK) != 0) {
        char *skip = tu_strf("%s.skip", module_path());
        char *why = tu_read_file(skip, NULL);
        printf("SKIP: the nginx module was not built: %s\n",
               why ? why : "run 'make nginx-module' (needs the nginx sources, Debian: nginx-dev)");
        free(why);
        free(skip);
        return 77;
    }
    snprintf(nginx_bin, sizeof nginx_bin, "%s", nginx);
    unsetenv("NGINX");
    if (wt_guard_init() != 0) {
        printf("cannot create a temporary directory\n");
        return 99;
    }
    int rc = tu_run_suite(nginx_suite());
    wt_guard_cleanup();
    return rc;
}
