/* The nginx module's configuration life cycle against a real nginx:
 * `nginx -s reload` (and SIGHUP) pick up a changed policy and realm, a
 * broken policy fails `nginx -t` and a reload with file:line while the
 * running configuration stays, and misplaced directives are refused.
 * Configuration: tests/web/nginx.conf.in. */
#define _GNU_SOURCE
#include "testutil.h"
#include "web/nginxtest.h"
#include "crl_util.h"
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLIENT_DN NT_CLIENT_DN
#define GUEST_DN NT_GUEST_DN

/* Polls until the path answers want, up to 10 s (a loaded machine
 * included): a reload or a refresh is asynchronous. */
static int wait_status(struct ngx *n, const char *cert, const char *key,
                       const char *path, int want)
{
    int st = 0;
    for (int i = 0; i < 100; i++) {
        st = nt_get(n, cert, key, NULL, path, NULL);
        if (st == want)
            return st;
        wt_sleep_ms(100);
    }
    return st;
}

/* Polls the error log for needle. */
static int wait_log(struct ngx *n, const char *needle)
{
    for (int i = 0; i < 100; i++) {
        char *err = nt_file(n, "error.log");
        int found = strstr(err, needle) != NULL;
        free(err);
        if (found)
            return 1;
        wt_sleep_ms(100);
    }
    return 0;
}

static char *policy_path(struct ngx *n)
{
    return tu_strf("%s/acme.policy", n->dir);
}

START_TEST(nginx_s_reload_picks_up_a_changed_realm_and_policy)
{
    struct ngx n;
    nt_start(&n, "nginx.conf.in");
    ck_assert_int_eq(nt_get(&n, "norole-chain.pem", "norole.key", NULL, "/InvoiceService/list", NULL), 403);
    ck_assert_int_eq(nt_get(&n, "client-chain.pem", "client.key", NULL, "/InvoiceService/list", NULL), 200);
    ck_assert_int_eq(nt_get(&n, "client-chain.pem", "client.key", NULL, "/public/info", NULL), 200);
    /* As root, nginx runs its worker as nobody, which cannot stat the files
     * in this private directory: the default refresh says so once, and
     * the reload below still applies the change. */
    if (geteuid() == 0)
        ck_assert_msg(wait_log(&n, "applies on reload only"), "no refresh warning in error.log");

    /* realm: the guest gets the role, CRMApplication loses it;
     * policy: a new rule closes /public/ to all but admins */
    char *realm = tu_strf("%s/users.realm", n.dir);
    tu_write_file(realm, "\"" CLIENT_DN "\" invoice-none user=crm\n"
                         "\"" GUEST_DN "\" invoice-readonly user=guest\n");
    char *pol = policy_path(&n);
    char *old = tu_read_file(pol, NULL);
    char *nw = tu_strf("%srequire * /public/ admin\n", old);
    tu_write_file(pol, nw);

    char *out = NULL;
    int rc = nt_reload(&n, &out);
    ck_assert_msg(rc == 0, "nginx -s reload: %d %s", rc, out ? out : "");
    free(out);
    ck_assert_int_eq(wait_status(&n, "norole-chain.pem", "norole.key", "/InvoiceService/list", 200), 200);
    ck_assert_int_eq(nt_get(&n, "client-chain.pem", "client.key", NULL, "/InvoiceService/list", NULL), 403);
    ck_assert_int_eq(nt_get(&n, "client-chain.pem", "client.key", NULL, "/public/info", NULL), 403);
    char *acc = nt_access(&n);
    ck_assert_msg(strstr(acc, "200 code=ok user=guest roles=invoice-readonly"), "%s", acc);
    free(acc);
    free(old); free(nw); free(pol); free(realm);
    nt_stop(&n);
}
END_TEST

START_TEST(a_broken_policy_fails_the_reload_and_the_old_one_stays)
{
    struct ngx n;
    nt_start(&n, "nginx.conf.in");
    ck_assert_int_eq(nt_get(&n, "client-chain.pem", "client.key", NULL, "/InvoiceService/list", NULL), 200);

    char *pol = policy_path(&n);
    char *good = tu_read_file(pol, NULL);
    /* line 5: a control flag that does not exist */
    char *bad = tu_strf("%srealm bogus file path=users.realm\n", good);
    tu_write_file(pol, bad);

    /* `nginx -s reload` reads the configuration before it signals: it
     * refuses, naming the line, and signals nothing */
    char *out = NULL;
    int rc = nt_ctl(&n, "-s reload", &out);
    ck_assert_msg(rc != 0, "nginx -s reload accepted a broken policy: %s", out ? out : "");
    ck_assert_msg(out && strstr(out, "acme.policy:5:"), "no file:line in: %s", out ? out : "");
    free(out);

    /* SIGHUP straight to the master: the reload fails in the error log
     * with file:line, the old workers keep the old policy */
    ck_assert_int_eq(kill(n.pid, SIGHUP), 0);
    ck_assert_msg(wait_log(&n, "acme.policy:5:"), "the reload error does not name acme.policy:5");
    ck_assert_int_eq(nt_get(&n, "client-chain.pem", "client.key", NULL, "/InvoiceService/list", NULL), 200);
    ck_assert_int_eq(nt_get(&n, "norole-chain.pem", "norole.key", NULL, "/InvoiceService/list", NULL), 403);

    /* fixed again: the next reload works */
    tu_write_file(pol, good);
    out = NULL;
    rc = nt_reload(&n, &out);
    ck_assert_msg(rc == 0, "nginx -s reload: %s", out ? out : "");
    free(out);
    ck_assert_int_eq(nt_get(&n, "client-chain.pem", "client.key", NULL, "/InvoiceService/list", NULL), 200);
    free(good); free(bad); free(pol);
    nt_stop(&n);
}
END_TEST

START_TEST(nginx_t_fails_on_a_broken_policy_with_file_and_line)
{
    struct ngx n;
    nt_prepare(&n, "nginx.conf.in");
    char *out = NULL;
    ck_assert_int_eq(nt_ctl(&n, "-t", &out), 0);
    free(out);

    char *pol = policy_path(&n);
    char *text = tu_strf("# broken\ntrust ca-file=%s\nrealm maybe file path=users.realm\n",
                         tu_pki("ca-file.pem"));
    tu_write_file(pol, text);
    out = NULL;
    int rc = nt_ctl(&n, "-t", &out);
    ck_assert_msg(rc != 0, "nginx -t accepted a broken policy: %s", out ? out : "");
    /* the policy's file:line, and where nginx.conf names the policy */
    char *want = tu_strf("%s:3:", pol);
    ck_assert_msg(out && strstr(out, want), "no %s in: %s", want, out ? out : "");
    ck_assert_msg(strstr(out, "certrole_policy") && strstr(out, "nginx.conf:"), "%s", out);
    ck_assert_msg(strstr(out, "test failed"), "%s", out);
    free(out); free(want); free(text);

    /* a policy that names a realm file with a bad line */
    nt_write_policy(n.dir, "\"" CLIENT_DN "\" invoice-readonly user=crm\n"
                           "\"CN=unterminated\n");
    out = NULL;
    rc = nt_ctl(&n, "-t", &out);
    ck_assert_msg(rc != 0, "nginx -t accepted a broken realm: %s", out ? out : "");
    ck_assert_msg(out && strstr(out, "users.realm:2"), "no users.realm:2 in: %s", out ? out : "");
    free(out); free(pol);
    nt_stop(&n);
}
END_TEST

/* text with its first 'from' replaced by 'to' (malloc'd). */
static char *replace1(const char *text, const char *from, const char *to)
{
    const char *p = strstr(text, from);
    ck_assert_msg(p != NULL, "%s not in the template", from);
    return tu_strf("%.*s%s%s", (int)(p - text), text, to, p + strlen(from));
}

/* nginx -t on nginx.conf with one or two replacements made (from2 NULL:
 * one); returns its output. */
static char *t_with2(struct ngx *n, const char *from, const char *to,
                     const char *from2, const char *to2, int *rc)
{
    char *conf = tu_read_file(n->conf, NULL);
    ck_assert_ptr_nonnull(conf);
    char *edited = replace1(conf, from, to);
    if (from2) {
        char *again = replace1(edited, from2, to2);
        free(edited);
        edited = again;
    }
    char *path = tu_strf("%s/edited.conf", n->dir);
    tu_write_file(path, edited);
    char *cmd = tu_strf("'%s' -t -p '%s' -c '%s'", nt_nginx_bin, n->dir, path);
    char *out = NULL;
    *rc = tu_run(cmd, &out);
    free(cmd); free(path); free(edited); free(conf);
    return out ? out : tu_strf("%s", "");
}

static char *t_with(struct ngx *n, const char *from, const char *to, int *rc)
{
    return t_with2(n, from, to, NULL, NULL, rc);
}

START_TEST(misplaced_or_incomplete_directives_are_refused)
{
    struct ngx n;
    nt_prepare(&n, "nginx.conf.in");
    int rc;
    /* certrole_require only in a location */
    char *out = t_with(&n, "        certrole on;\n", "        certrole on;\n        certrole_require admin;\n", &rc);
    ck_assert_msg(rc != 0 && strstr(out, "\"certrole_require\" directive is not allowed here"), "%s", out);
    free(out);
    /* certrole_policy not in a location */
    out = t_with(&n, "            certrole off;\n", "            certrole_policy x.policy;\n", &rc);
    ck_assert_msg(rc != 0 && strstr(out, "\"certrole_policy\" directive is not allowed here"), "%s", out);
    free(out);
    /* certrole on without a policy in scope fails closed */
    char *pol = tu_strf("    certrole_policy %s/acme.policy;\n", n.dir);
    out = t_with(&n, pol, "\n", &rc);
    ck_assert_msg(rc != 0 && strstr(out, "needs a \"certrole_policy\""), "%s", out);
    free(out);
    /* certrole_status reports a policy: without one in scope it is
     * refused, also where certrole is off and nothing else needs one */
    out = t_with2(&n, pol, "\n", "        certrole on;\n", "        certrole off;\n", &rc);
    ck_assert_msg(rc != 0 && strstr(out, "\"certrole_status\" needs a \"certrole_policy\""),
                  "%s", out);
    free(out);
    out = t_with(&n, "        certrole on;\n", "        certrole off;\n", &rc);
    ck_assert_msg(rc == 0, "nginx -t refused certrole_status with a policy: %s", out);
    free(out);
    /* only in a location, and without arguments */
    out = t_with(&n, "        certrole on;\n", "        certrole on;\n        certrole_status;\n", &rc);
    ck_assert_msg(rc != 0 && strstr(out, "\"certrole_status\" directive is not allowed here"), "%s", out);
    free(out);
    out = t_with(&n, "            certrole off;\n", "            certrole off;\n            certrole_status x;\n", &rc);
    ck_assert_msg(rc != 0 && strstr(out, "invalid number of arguments"), "%s", out);
    free(out);
    /* certrole takes on|off only */
    out = t_with(&n, "        certrole on;\n", "        certrole maybe;\n", &rc);
    ck_assert_msg(rc != 0 && strstr(out, "invalid value \"maybe\""), "%s", out);
    free(out);
    free(pol);
    nt_stop(&n);
}
END_TEST

/* A server that never asks for a certificate would refuse every request:
 * nginx -t says so instead of starting. */
START_TEST(certrole_on_without_ssl_verify_client_is_refused)
{
    struct ngx n;
    nt_prepare(&n, "nginx.conf.in");
    int rc;
    char *out = t_with(&n, "        ssl_verify_client optional_no_ca;\n", "\n", &rc);
    ck_assert_msg(rc != 0, "nginx -t accepted certrole on without ssl_verify_client: %s", out);
    ck_assert_msg(strstr(out, "\"certrole on\" in a server without \"ssl_verify_client\"")
                  && strstr(out, "401 (no_certificate)"), "%s", out);
    free(out);
    /* the same server with a client certificate requested passes */
    out = t_with(&n, "        certrole on;\n", "        certrole on;\n", &rc);
    ck_assert_msg(rc == 0, "nginx -t refused the template: %s", out);
    free(out);
    nt_stop(&n);
}
END_TEST

/* option refresh: a CRL published under a running nginx (rename over the
 * old one) revokes a certificate within the interval, with no
 * `nginx -s reload`; the worker applies it, not the master. */
START_TEST(a_new_crl_applies_itself_without_nginx_s_reload)
{
    struct ngx n;
    nt_prepare(&n, "nginx.conf.in");
    char *crl = tu_strf("%s/int.crl", n.dir), *tmp = tu_strf("%s/int.crl.new", n.dir);
    char *empty = cu_int_crl_pem(NULL), *revoking = cu_int_crl_pem("client.pem");
    tu_write_file(crl, empty);
    char *pol = tu_strf("trust ca-file=%s crl-file=%s crl-check=leaf\n"
                        "realm required file path=users.realm\n"
                        "require GET /InvoiceService/list invoice-readonly\n"
                        "option refresh=1 cache-ttl=300\n", tu_pki("ca-file.pem"), crl);
    char *path = policy_path(&n);
    tu_write_file(path, pol);
    /* The worker re-reads the files, as the user it runs as (nobody
     * when the master is root): the files must be readable to it. */
    ck_assert_int_eq(chmod(n.dir, 0755), 0);
    nt_launch(&n);
    ck_assert_int_eq(nt_get(&n, "client-chain.pem", "client.key", NULL, "/InvoiceService/list", NULL), 200);
    ck_assert_int_eq(nt_get(&n, "client-chain.pem", "client.key", NULL, "/InvoiceService/list", NULL), 200);

    tu_write_file(tmp, revoking);
    ck_assert_int_eq(rename(tmp, crl), 0);
    if (wait_status(&n, "client-chain.pem", "client.key", "/InvoiceService/list", 403) != 403) {
        /* The lines that say why (not every request's). */
        char *el = nt_file(&n, "error.log"), *why = tu_strf("%s", "");
        for (char *line = strtok(el, "\n"); line; line = strtok(NULL, "\n"))
            if (!strstr(line, "[info]") && !strstr(line, "decision=") && strlen(why) < 1500) {
                char *w = tu_strf("%s%.200s\n", why, line);
                free(why);
                why = w;
            }
        ck_abort_msg("the new CRL was not applied; error.log:\n%s", why);
    }
    char *acc = nt_access(&n);
    ck_assert_msg(strstr(acc, "403 code=revoked"), "%s", acc);
    free(acc);
    ck_assert_msg(wait_log(&n, "policy refreshed"), "no refresh line in error.log");
    char *el = nt_file(&n, "error.log");
    ck_assert_msg(!strstr(el, "applies on reload only"), "%s", el);
    free(el);

    /* A broken CRL keeps the revocation in force. */
    tu_write_file(tmp, "-----BEGIN X509 CRL-----\nnot base64\n-----END X509 CRL-----\n");
    ck_assert_int_eq(rename(tmp, crl), 0);
    ck_assert_msg(wait_log(&n, "not applied"), "no refusal line in error.log");
    ck_assert_int_eq(nt_get(&n, "client-chain.pem", "client.key", NULL, "/InvoiceService/list", NULL), 403);
    nt_stop(&n);
    free(path); free(pol); free(empty); free(revoking); free(tmp); free(crl);
}
END_TEST

static Suite *nginx_reload_suite(void)
{
    Suite *s = suite_create("nginx_reload");
    TCase *tc = tcase_create("reload");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, nginx_s_reload_picks_up_a_changed_realm_and_policy);
    tcase_add_test(tc, a_broken_policy_fails_the_reload_and_the_old_one_stays);
    tcase_add_test(tc, nginx_t_fails_on_a_broken_policy_with_file_and_line);
    tcase_add_test(tc, misplaced_or_incomplete_directives_are_refused);
    tcase_add_test(tc, certrole_on_without_ssl_verify_client_is_refused);
    tcase_add_test(tc, a_new_crl_applies_itself_without_nginx_s_reload);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int rc = nt_init();
    return rc ? rc : nt_run(nginx_reload_suite());
}
