/* Stock lighttpd (mod_openssl + mod_fastcgi authorizer mode) in front of
 * servers/lighttpd/certrole-fcgi-authorizer, the Acme policy and the test
 * PKI, curl as the client. Each test starts its own authorizer and
 * lighttpd in a private directory and always stops them. */
#define _GNU_SOURCE
#include "testutil.h"
#include "web/webtest.h"
#include "crl_util.h"
#include <certrole.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CLIENT_DN "CN=CRMApplication,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US"
#define GUEST_DN "CN=Guest User,OU=Marketing,O=Acme Corp,L=San Francisco,ST=CA,C=US"

struct lt {
    char *dir;
    int port;
    pid_t auth, httpd;
};

static const char *authorizer_path(void)
{
    return tu_build("servers/lighttpd/certrole-fcgi-authorizer");
}

static char *file_in(struct lt *l, const char *name)
{
    return wt_file(l->dir, name);
}

static void lt_start(struct lt *l)
{
    memset(l, 0, sizeof *l);
    l->dir = tu_mkdtemp("lighttpd");
    l->port = tu_free_port();

    /* lighttpd exports the leaf only: the policy's anchor file also holds
     * the issuing CA so certrole can complete the chain. */
    char *root = tu_read_file(tu_pki("root-ca.pem"), NULL);
    char *inter = tu_read_file(tu_pki("int-ca.pem"), NULL);
    ck_assert_msg(root && inter, "test PKI missing in %s", tu_env("CERTROLE_PKI", "?"));
    char *bundle = tu_strf("%s%s", root, inter), *bpath = tu_strf("%s/ca-bundle.pem", l->dir);
    tu_write_file(bpath, bundle);
    char *realm = tu_strf("%s/users.realm", l->dir);
    tu_write_file(realm, "\"" CLIENT_DN "\" invoice-readonly user=crm\n"
                         "\"" GUEST_DN "\" guest user=guest\n");
    char *pol = tu_strf("trust ca-file=%s crl-file=%s crl-check=chain\n"
                        "realm required file path=users.realm\n"
                        "require GET /InvoiceService/list invoice-readonly\n"
                        "require POST /InvoiceService/ invoice-write\n"
                        "require * /admin admin\n",
                        bpath, tu_pki("crl.pem"));
    char *ppath = tu_strf("%s/acme.policy", l->dir);
    tu_write_file(ppath, pol);

    /* the backend: the same CGI script at every path the tests use */
    char *cgi = tu_read_file(tu_src("tests/web/backend.cgi"), NULL);
    ck_assert_msg(cgi != NULL, "tests/web/backend.cgi missing");
    /* under www/admin/ and its look-alikes: what a request that slipped
     * past "require * /admin admin" would be served */
    const char *paths[] = { "www/InvoiceService/list", "www/public/info",
                            "www/admin/%2e%2e/public", "www/admin;x", "www/admin;/secret",
                            "www/admin/secret", NULL };
    for (int i = 0; paths[i]; i++) {
        char *f = tu_strf("%s/%s", l->dir, paths[i]);
        char *d = tu_strf("%s", f);
        *strrchr(d, '/') = '\0';
        char *mk = tu_strf("mkdir -p '%s'", d);
        ck_assert_int_eq(tu_run(mk, NULL), 0);
        tu_write_file(f, cgi);
        free(mk); free(d); free(f);
    }

    char *tmpl = tu_read_file(tu_src("tests/web/lighttpd.conf.in"), NULL);
    ck_assert_msg(tmpl != NULL, "tests/web/lighttpd.conf.in missing");
    char *port = tu_strf("%d", l->port), *pki = wt_pki_dir();
    const char *kv[] = { "DIR", l->dir, "PORT", port, "PKI", pki, NULL };
    char *conf = wt_subst(tmpl, kv), *cpath = tu_strf("%s/lighttpd.conf", l->dir);
    tu_write_file(cpath, conf);

    char *sock = tu_strf("%s/authorizer.sock", l->dir);
    /* reasons go to the -l file; stderr only gets startup errors */
    char *alog = tu_strf("%s/authorizer.stderr", l->dir);
    char *lfile = tu_strf("%s/authorizer.log", l->dir);
    char *sfile = tu_strf("%s/authorizer.prom", l->dir);
    char *const aargv[] = { (char *)authorizer_path(), "-p", ppath, "-s", sock,
                            "-l", lfile, "-S", sfile, NULL };
    l->auth = wt_spawn(aargv, alog, l->dir);
    struct stat st;
    for (int i = 0; i < 100 && stat(sock, &st) != 0; i++)
        wt_sleep_ms(50);
    if (stat(sock, &st) != 0) {
        char *t = file_in(l, "authorizer.stderr");
        ck_abort_msg("authorizer did not start: %s", t);
    }

    char *hlog = tu_strf("%s/lighttpd.out", l->dir);
    char *const hargv[] = { (char *)tu_env("LIGHTTPD", "lighttpd"), "-D", "-f", cpath, NULL };
    l->httpd = wt_spawn(hargv, hlog, NULL);
    if (tu_wait_port(l->port, 10000) != 0) {
        char *t = file_in(l, "lighttpd.out"), *e = file_in(l, "error.log");
        ck_abort_msg("lighttpd did not start:\n%s\n%s", t, e);
    }
    free(root); free(inter); free(bundle); free(bpath); free(realm); free(pol);
    free(ppath); free(cgi); free(tmpl); free(port); free(pki); free(conf);
    free(cpath); free(sock); free(alog); free(lfile); free(sfile); free(hlog);
}

static void lt_stop(struct lt *l)
{
    wt_stop(l->httpd);
    wt_stop(l->auth);
    tu_rmrf(l->dir);
    free(l->dir);
}

static int get(struct lt *l, const char *cert, const char *key,
               const char *extra, const char *path, char **body)
{
    return wt_get(l->dir, l->port, cert, key, extra, path, body);
}

/* The authorizer's log line for a refused request names the code; it is
 * in the file given with -l, not on stderr (which lighttpd drops once it
 * daemonises). */
static void assert_auth_log(struct lt *l, const char *needle)
{
    char *t = file_in(l, "authorizer.log"), *e = file_in(l, "authorizer.stderr");
    ck_assert_msg(strstr(t, needle), "authorizer log lacks \"%s\":\n%s", needle, t);
    ck_assert_msg(!strstr(e, needle), "on stderr too:\n%s", e);
    free(t);
    free(e);
}

START_TEST(right_certificate_reaches_backend_with_user_and_roles)
{
    struct lt l;
    lt_start(&l);
    char *body = NULL;
    int st = get(&l, "client-chain.pem", "client.key", NULL, "/InvoiceService/list", &body);
    ck_assert_msg(st == 200, "status %d: %s", st, body ? body : "");
    ck_assert_msg(body && strstr(body, "user=[crm] roles=[invoice-readonly]"), "%s", body ? body : "");
    ck_assert_msg(strstr(body, "subject=[" CLIENT_DN "]"), "%s", body);
    free(body);
    /* lighttpd buffers its access log and flushes it on shutdown */
    wt_stop(l.httpd);
    l.httpd = 0;
    char *acc = file_in(&l, "access.log");
    ck_assert_msg(strstr(acc, "200 /InvoiceService/list user=crm"), "%s", acc);
    free(acc);
    lt_stop(&l);
}
END_TEST

START_TEST(no_certificate_is_401)
{
    struct lt l;
    lt_start(&l);
    ck_assert_int_eq(get(&l, NULL, NULL, NULL, "/InvoiceService/list", NULL), 401);
    assert_auth_log(&l, "no_certificate (status 401)");
    lt_stop(&l);
}
END_TEST

START_TEST(other_ca_is_refused)
{
    struct lt l;
    lt_start(&l);
    ck_assert_int_eq(get(&l, "other-client.pem", "other-client.key", NULL,
                         "/InvoiceService/list", NULL), 403);
    assert_auth_log(&l, "untrusted_issuer (status 403)");
    lt_stop(&l);
}
END_TEST

START_TEST(expired_is_refused)
{
    struct lt l;
    lt_start(&l);
    ck_assert_int_eq(get(&l, "expired-chain.pem", "expired.key", NULL,
                         "/InvoiceService/list", NULL), 403);
    assert_auth_log(&l, "expired (status 403)");
    lt_stop(&l);
}
END_TEST

START_TEST(revoked_is_refused_by_certrole)
{
    struct lt l;
    lt_start(&l);
    /* lighttpd has no CRL here and passes it on; the policy's CRL stops it */
    ck_assert_int_eq(get(&l, "revoked-chain.pem", "revoked.key", NULL,
                         "/InvoiceService/list", NULL), 403);
    assert_auth_log(&l, "revoked (status 403)");
    lt_stop(&l);
}
END_TEST

START_TEST(valid_dn_without_the_role_is_403)
{
    struct lt l;
    lt_start(&l);
    ck_assert_int_eq(get(&l, "norole-chain.pem", "norole.key", NULL,
                         "/InvoiceService/list", NULL), 403);
    assert_auth_log(&l, "forbidden (status 403)");
    /* the audit line names the client's address, from REMOTE_ADDR */
    assert_auth_log(&l, "decision=deny code=forbidden");
    assert_auth_log(&l, " peer=\"127.0.0.1\" resource=\"GET /InvoiceService/list\"");
    /* the rule also holds for other spellings of the same path */
    ck_assert_int_eq(get(&l, "norole-chain.pem", "norole.key", "--path-as-is",
                         "/public/../InvoiceService/%6cist", NULL), 403);
    /* a path no rule covers is open to any mapped peer */
    char *body = NULL;
    ck_assert_int_eq(get(&l, "norole-chain.pem", "norole.key", NULL, "/public/info", &body), 200);
    ck_assert_msg(body && strstr(body, "user=[guest] roles=[guest]"), "%s", body ? body : "");
    free(body);
    lt_stop(&l);
}
END_TEST

START_TEST(spoofed_headers_do_not_reach_the_backend)
{
    struct lt l;
    lt_start(&l);
    char *body = NULL;
    int st = get(&l, "client-chain.pem", "client.key",
                 "-H 'Client-Cert: :AAAA:' -H 'X-Certrole-Roles: admin' "
                 "-H 'X-Certrole-User: root' -H 'Certrole-User: root'",
                 "/InvoiceService/list", &body);
    ck_assert_msg(st == 200, "status %d", st);
    ck_assert_msg(body && strstr(body, "user=[crm] roles=[invoice-readonly]"), "%s", body ? body : "");
    ck_assert_msg(strstr(body, "hdr_roles=[] hdr_cert=[]"), "%s", body);
    ck_assert_msg(!strstr(body, "admin") && !strstr(body, "root"), "%s", body);
    free(body);
    /* a lesser peer cannot lift itself by header */
    ck_assert_int_eq(get(&l, "norole-chain.pem", "norole.key",
                         "-H 'X-Certrole-Roles: invoice-readonly'",
                         "/InvoiceService/list", NULL), 403);
    lt_stop(&l);
}
END_TEST

START_TEST(changed_realm_takes_effect_without_restart)
{
    struct lt l;
    lt_start(&l);
    ck_assert_int_eq(get(&l, "norole-chain.pem", "norole.key", NULL, "/InvoiceService/list", NULL), 403);
    ck_assert_int_eq(get(&l, "client-chain.pem", "client.key", NULL, "/InvoiceService/list", NULL), 200);
    char *realm = tu_strf("%s/users.realm", l.dir);
    /* different length too, so even a coarse mtime clock sees the change */
    tu_write_file(realm, "\"" CLIENT_DN "\" invoice-none user=crm\n"
                         "\"" GUEST_DN "\" invoice-readonly user=guest2\n");
    int st = 0;
    for (int i = 0; i < 30 && st != 200; i++) {
        st = get(&l, "norole-chain.pem", "norole.key", NULL, "/InvoiceService/list", NULL);
        if (st != 200)
            wt_sleep_ms(100);
    }
    ck_assert_int_eq(st, 200);
    ck_assert_int_eq(get(&l, "client-chain.pem", "client.key", NULL, "/InvoiceService/list", NULL), 403);
    assert_auth_log(&l, "policy reloaded");
    free(realm);
    lt_stop(&l);
}
END_TEST

/* Polls up to 10 s for path to answer want; returns the last answer. */
static int wait_status(struct lt *l, const char *cert, const char *key, const char *path, int want)
{
    int st = 0;
    for (int i = 0; i < 100 && (st = get(l, cert, key, NULL, path, NULL)) != want; i++)
        wt_sleep_ms(100);
    return st;
}

/* A CA publishes a new CRL (rename over the old one) under the running
 * authorizer: the revocation applies with no restart, and a damaged CRL
 * published after it never lifts it. */
START_TEST(a_new_crl_applies_without_restart)
{
    struct lt l;
    lt_start(&l);
    char *crl = tu_strf("%s/int.crl", l.dir), *tmp = tu_strf("%s/int.crl.new", l.dir);
    char *empty = cu_int_crl_pem(NULL), *revoking = cu_int_crl_pem("client.pem");
    tu_write_file(crl, empty);
    char *pol = tu_strf("trust ca-file=%s/ca-bundle.pem crl-file=%s crl-check=leaf\n"
                        "realm required file path=users.realm\n"
                        "require GET /InvoiceService/list invoice-readonly\n", l.dir, crl);
    char *ppath = tu_strf("%s/acme.policy", l.dir);
    tu_write_file(ppath, pol);
    ck_assert_int_eq(wait_status(&l, "client-chain.pem", "client.key", "/InvoiceService/list", 200), 200);

    tu_write_file(tmp, revoking);
    ck_assert_int_eq(rename(tmp, crl), 0);
    ck_assert_int_eq(wait_status(&l, "client-chain.pem", "client.key", "/InvoiceService/list", 403), 403);
    assert_auth_log(&l, "revoked (status 403)");

    tu_write_file(tmp, "-----BEGIN X509 CRL-----\nnot base64\n-----END X509 CRL-----\n");
    ck_assert_int_eq(rename(tmp, crl), 0);
    for (int i = 0; i < 20; i++) {
        ck_assert_int_eq(get(&l, "client-chain.pem", "client.key", NULL, "/InvoiceService/list", NULL), 403);
        wt_sleep_ms(100);
    }
    assert_auth_log(&l, "keeping the previous policy");
    free(crl); free(tmp); free(empty); free(revoking); free(pol); free(ppath);
    lt_stop(&l);
}
END_TEST

/* A POST the authorizer refuses is answered before lighttpd reads its
 * body; over HTTP/2 curl then sometimes reports a stream error (92)
 * instead of the 403, so these requests use HTTP/1.1: the method rule is
 * what they test, not the framing. */
#define POST_BODY "--http1.1 -d 'amount=1'"

START_TEST(require_rules_apply_to_the_method)
{
    struct lt l;
    lt_start(&l);
    char *body = NULL;
    /* GET /InvoiceService/list needs invoice-readonly, which crm holds */
    ck_assert_int_eq(get(&l, "client-chain.pem", "client.key", NULL, "/InvoiceService/list", &body), 200);
    ck_assert_msg(body && strstr(body, "method=[GET]"), "%s", body ? body : "");
    free(body);
    /* POST under /InvoiceService/ needs invoice-write, which crm lacks */
    ck_assert_int_eq(get(&l, "client-chain.pem", "client.key", POST_BODY,
                         "/InvoiceService/list", NULL), 403);
    assert_auth_log(&l, "POST /InvoiceService/list: forbidden (status 403)");
    /* no POST rule covers /public/: any mapped peer may POST there */
    body = NULL;
    ck_assert_int_eq(get(&l, "norole-chain.pem", "norole.key", POST_BODY,
                         "/public/info", &body), 200);
    ck_assert_msg(body && strstr(body, "user=[guest]") && strstr(body, "method=[POST]"),
                  "%s", body ? body : "");
    free(body);

    /* crm gets invoice-write too (the realm edit is picked up by mtime):
     * now the POST passes and the GET still does */
    char *realm = tu_strf("%s/users.realm", l.dir);
    tu_write_file(realm, "\"" CLIENT_DN "\" invoice-readonly,invoice-write user=crm\n"
                         "\"" GUEST_DN "\" guest user=guest\n");
    int st = 0;
    for (int i = 0; i < 30 && st != 200; i++) {
        st = get(&l, "client-chain.pem", "client.key", POST_BODY, "/InvoiceService/list", NULL);
        if (st != 200)
            wt_sleep_ms(100);
    }
    ck_assert_int_eq(st, 200);
    body = NULL;
    ck_assert_int_eq(get(&l, "client-chain.pem", "client.key", NULL, "/InvoiceService/list", &body), 200);
    ck_assert_msg(body && strstr(body, "roles=[invoice-readonly,invoice-write]"), "%s", body ? body : "");
    free(body);
    /* the guest still may not POST there */
    ck_assert_int_eq(get(&l, "norole-chain.pem", "norole.key", POST_BODY,
                         "/InvoiceService/list", NULL), 403);
    free(realm);
    lt_stop(&l);
}
END_TEST

/* backend.log (written by backend.cgi) once it has 'lines' lines. */
static char *backend_log(struct lt *l, int lines)
{
    char *t = NULL;
    for (int i = 0; i < 40; i++) {
        free(t);
        t = file_in(l, "backend.log");
        int n = 0;
        for (const char *c = t; *c; c++)
            n += *c == '\n';
        if (n >= lines)
            break;
        wt_sleep_ms(50);
    }
    return t;
}

START_TEST(hostile_paths_are_refused_and_never_reach_the_backend)
{
    /* each would be served from under www/admin/ (or a look-alike); an
     * overlong "/%C0%AF" lighttpd refuses itself, with 400 */
    static const char *const hostile[] = {
        "/admin/%252e%252e/public", "/admin;x", "/admin;/secret",
        "/a/../admin/secret", "//admin/secret", "/%61dmin/secret", "/admin%2Fsecret",
    };
    struct lt l;
    lt_start(&l);
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        char *body = NULL;
        int st = get(&l, "client-chain.pem", "client.key", "--path-as-is", hostile[i], &body);
        ck_assert_msg(st == 403, "%s: status %d, body %s", hostile[i], st, body ? body : "");
        free(body);
    }
    assert_auth_log(&l, "request path refused: encoded '%' (%25)");
    assert_auth_log(&l, "request path refused: path parameter");
    /* none reached the backend; an allowed request does */
    ck_assert_int_eq(get(&l, "client-chain.pem", "client.key", NULL, "/public/info", NULL), 200);
    char *log = backend_log(&l, 1);
    ck_assert_msg(strcmp(log, "target=[/public/info] routed=[/public/info]\n") == 0, "%s", log);
    free(log);
    lt_stop(&l);
}
END_TEST

START_TEST(accepted_paths_reach_the_backend_as_judged)
{
    static const char *const accepted[] = {
        "/public/info", "/a/../public/info", "/%70ublic/info", "/public//./info",
        "/admin/%2e%2e/public/info", "/public/info?q=/../admin",
    };
    size_t nacc = sizeof accepted / sizeof accepted[0];
    struct lt l;
    lt_start(&l);
    char *pol = tu_strf("%s/acme.policy", l.dir), *err = NULL;
    certrole_ctx *ctx = NULL;
    ck_assert_msg(certrole_open(&ctx, pol, &err) == CERTROLE_OK, "%s", err ? err : "");
    size_t len = 0;
    char *pem = tu_read_file(tu_pki("client-chain.pem"), &len);
    certrole_result *res = NULL;
    ck_assert_int_eq(certrole_verify_pem(ctx, pem, len, &res), CERTROLE_OK);
    for (size_t i = 0; i < nacc; i++) {
        int st = get(&l, "client-chain.pem", "client.key", "--path-as-is", accepted[i], NULL);
        ck_assert_msg(st == 200, "%s: status %d", accepted[i], st);
        char *log = backend_log(&l, (int)i + 1);
        char *last = log + strlen(log);
        ck_assert_msg(last > log, "nothing reached the backend for %s", accepted[i]);
        last--;                                   /* the final '\n' */
        while (last > log && last[-1] != '\n')
            last--;
        certrole_authz *a = NULL;
        ck_assert_int_eq(certrole_authorize_target(ctx, res, "GET", accepted[i],
                                                   CERTROLE_TARGET_RAW, &a), CERTROLE_OK);
        char *want = tu_strf("target=[%s] routed=[%s]\n", accepted[i], certrole_authz_path(a));
        ck_assert_msg(strcmp(last, want) == 0, "backend: %swant:    %s", last, want);
        free(want);
        certrole_authz_free(a);
        free(log);
    }
    certrole_result_free(res);
    certrole_close(ctx);
    free(pem);
    free(pol);
    lt_stop(&l);
}
END_TEST


/* -S FILE: the authorizer's counters, rewritten on SIGUSR1 (and every
 * few seconds); the signal neither stops nor disturbs it. */
START_TEST(counters_file_on_sigusr1)
{
    struct lt l;
    lt_start(&l);
    ck_assert_int_eq(get(&l, "client-chain.pem", "client.key", NULL, "/InvoiceService/list",
                         NULL), 200);
    ck_assert_int_eq(get(&l, "revoked-chain.pem", "revoked.key", NULL, "/InvoiceService/list",
                         NULL), 403);
    ck_assert_int_eq(kill(l.auth, SIGUSR1), 0);
    char *t = NULL;
    long ok = -1, revoked = -1;
    /* well before the periodic rewrite (10 s after start): the signal did it */
    for (int i = 0; i < 50; i++) {
        free(t);
        t = file_in(&l, "authorizer.prom");
        ok = wt_metric(t, "certrole_decisions_total{code=\"ok\"}");
        revoked = wt_metric(t, "certrole_decisions_total{code=\"revoked\"}");
        if (ok >= 1 && revoked >= 1)
            break;
        wt_sleep_ms(100);
    }
    ck_assert_msg(ok == 1 && revoked == 1, "counters file after SIGUSR1:\n%s", t);
    ck_assert_ptr_nonnull(strstr(t, "# TYPE certrole_realm_lookups_total counter\n"));
    ck_assert_int_eq(wt_metric(t, "certrole_realm_lookups_total{realm=\"file\",position=\"1\","
                               "outcome=\"found\"}"), 1);
    free(t);
    /* written by rename: no temporary file left behind */
    char *pat = tu_strf("%s/authorizer.prom.*", l.dir);
    glob_t g;
    ck_assert_int_eq(glob(pat, 0, NULL, &g), GLOB_NOMATCH);
    free(pat);
    /* still serving after the signal */
    ck_assert_int_eq(kill(l.auth, 0), 0);
    ck_assert_int_eq(get(&l, "client-chain.pem", "client.key", NULL, "/InvoiceService/list",
                         NULL), 200);
    lt_stop(&l);
}
END_TEST

static Suite *lighttpd_suite(void)
{
    Suite *s = suite_create("lighttpd");
    TCase *tc = tcase_create("authorizer");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, right_certificate_reaches_backend_with_user_and_roles);
    tcase_add_test(tc, no_certificate_is_401);
    tcase_add_test(tc, other_ca_is_refused);
    tcase_add_test(tc, expired_is_refused);
    tcase_add_test(tc, revoked_is_refused_by_certrole);
    tcase_add_test(tc, valid_dn_without_the_role_is_403);
    tcase_add_test(tc, spoofed_headers_do_not_reach_the_backend);
    tcase_add_test(tc, changed_realm_takes_effect_without_restart);
    tcase_add_test(tc, a_new_crl_applies_without_restart);
    tcase_add_test(tc, require_rules_apply_to_the_method);
    tcase_add_test(tc, hostile_paths_are_refused_and_never_reach_the_backend);
    tcase_add_test(tc, accepted_paths_reach_the_backend_as_judged);
    tcase_add_test(tc, counters_file_on_sigusr1);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    const char *lighttpd = tu_env("LIGHTTPD", ""), *curl = tu_env("CURL", "");
    if (!*lighttpd || access(lighttpd, X_OK) != 0) {
        printf("SKIP: lighttpd is not installed (LIGHTTPD='%s')\n", lighttpd);
        return 77;
    }
    if (!*curl || access(curl, X_OK) != 0) {
        printf("SKIP: curl is not installed (CURL='%s')\n", curl);
        return 77;
    }
    if (access(authorizer_path(), X_OK) != 0) {
        printf("SKIP: the FastCGI authorizer was not built (configure found no libfcgi; "
               "Debian: apt-get install libfcgi-dev)\n");
        return 77;
    }
    if (wt_guard_init() != 0) {
        printf("cannot create a temporary directory\n");
        return 99;
    }
    int rc = tu_run_suite(lighttpd_suite());
    wt_guard_cleanup();
    return rc;
}
