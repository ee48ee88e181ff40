/* mod_certrole against a real httpd: the authz providers composed with
 * `Require ip`, <RequireAll> and <RequireAny>, `Require user`, the raw
 * request-target judged as httpd routes it, `apache2 -t` on a bad policy
 * and a graceful restart picking up a changed policy. Helpers and the
 * configuration: tests/web/apachetest.h, tests/web/apache.conf.in. */
#define _GNU_SOURCE
#include "testutil.h"
#include "web/apachetest.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CRM "client-chain.pem", "client.key"
#define GUEST "norole-chain.pem", "norole.key"
#define NOCERT NULL, NULL

static int get(struct apa *a, const char *cert, const char *key, const char *path)
{
    return at_get(a, cert, key, NULL, path, NULL);
}

START_TEST(require_all_with_require_ip)
{
    struct apa a;
    at_start(&a);
    /* role and address both match */
    ck_assert_int_eq(get(&a, CRM, "/all-ip-ok/x"), 200);
    /* the role matches, the address does not */
    ck_assert_int_eq(get(&a, CRM, "/all-ip-bad/x"), 403);
    /* the address matches, the role does not; no certificate at all */
    ck_assert_int_eq(get(&a, GUEST, "/all-ip-ok/x"), 403);
    ck_assert_int_eq(get(&a, NOCERT, "/all-ip-ok/x"), 401);
    at_stop(&a);
}
END_TEST

START_TEST(require_any_with_require_ip)
{
    struct apa a;
    at_start(&a);
    /* 127.0.0.1 is enough: no admin role, even no certificate */
    char *body = NULL;
    ck_assert_int_eq(at_get(&a, GUEST, NULL, "/any-ip-ok/x", &body), 200);
    /* not authenticated by certrole there, but the variables are set */
    ck_assert_msg(body && strstr(body, "remote_user=[] auth_type=[] user=[guest]"), "%s",
                  body ? body : "");
    free(body);
    ck_assert_int_eq(get(&a, NOCERT, "/any-ip-ok/x"), 200);
    /* neither branch: the role is missing, or there is no certificate */
    ck_assert_int_eq(get(&a, CRM, "/any-ip-bad/x"), 403);
    ck_assert_int_eq(get(&a, NOCERT, "/any-ip-bad/x"), 401);
    char *err = at_error_log(&a);
    ck_assert_msg(strstr(err, "holds none of the roles 'Require certrole-role admin' names"),
                  "%s", err);
    free(err);
    at_stop(&a);
}
END_TEST

START_TEST(require_role_and_require_user)
{
    struct apa a;
    at_start(&a);
    /* any one of the listed roles */
    ck_assert_int_eq(get(&a, CRM, "/roles/x"), 200);
    ck_assert_int_eq(get(&a, GUEST, "/roles/x"), 403);
    ck_assert_int_eq(get(&a, NOCERT, "/roles/x"), 401);
    /* r->user is the mapped user: httpd's own Require user works */
    ck_assert_int_eq(get(&a, CRM, "/user/x"), 200);
    ck_assert_int_eq(get(&a, GUEST, "/user/x"), 403);
    char *acc = at_access(&a);
    ck_assert_msg(strstr(acc, "200 code=ok user=crm roles=invoice-readonly subject=\""
                              AT_CLIENT_DN "\" uri=/user/x"), "%s", acc);
    free(acc);
    at_stop(&a);
}
END_TEST

START_TEST(encoded_targets_are_judged_as_routed)
{
    struct apa a;
    at_start(&a);
    /* "require * /admin admin" in the policy; guest is no admin. httpd
     * decodes %252e once, to a directory literally named %2e%2e under
     * /admin: decoding twice would make it /admin/../public = /public */
    ck_assert_int_eq(get(&a, GUEST, "/admin/%252e%252e/public"), 403);
    ck_assert_int_eq(get(&a, GUEST, "/admin;x"), 403);
    ck_assert_int_eq(get(&a, GUEST, "/admin/x"), 403);
    ck_assert_int_eq(get(&a, GUEST, "/%61dmin/x"), 403);
    ck_assert_int_eq(get(&a, CRM, "/admin/x"), 403);
    /* a dot segment httpd resolves leaves /admin: judged the same way */
    char *body = NULL;
    ck_assert_int_eq(at_get(&a, GUEST, NULL, "/admin/%2e%2e/public", &body), 200);
    ck_assert_msg(body && strstr(body, "path_info=[/public]"), "%s", body ? body : "");
    free(body);
    /* CertroleApplyPolicyRules Off: only the Require lines count */
    ck_assert_int_eq(get(&a, GUEST, "/admin/norules/x"), 200);
    char *err = at_error_log(&a);
    ck_assert_msg(strstr(err, "code=forbidden status=403"), "%s", err);
    free(err);
    at_stop(&a);
}
END_TEST

/* Replaces the policy with text whose line 3 is wrong. */
static void break_policy(struct apa *a)
{
    char *path = tu_strf("%s/acme.policy", a->dir);
    char *pol = tu_strf("trust ca-file=%s\n"
                        "realm required file path=users.realm\n"
                        "require GET\n", tu_pki("ca-file.pem"));
    tu_write_file(path, pol);
    free(pol);
    free(path);
}

START_TEST(configtest_names_the_policy_error)
{
    struct apa a;
    at_prepare(&a);
    char *out = NULL;
    ck_assert_msg(at_ctl(&a, "-t", &out) == 0, "%s", out ? out : "");
    ck_assert_msg(out && strstr(out, "Syntax OK"), "%s", out ? out : "");
    free(out);
    break_policy(&a);
    out = NULL;
    ck_assert_int_ne(at_ctl(&a, "-t", &out), 0);
    /* file:line:column: message */
    char *want = tu_strf("%s/acme.policy:3:", a.dir);
    const char *at = out ? strstr(out, want) : NULL;
    ck_assert_msg(at != NULL, "want %s in:\n%s", want, out ? out : "");
    at += strlen(want);
    ck_assert_msg(*at >= '1' && *at <= '9' && strchr(at, ':'), "no column:\n%s", out);
    ck_assert_msg(!strstr(out, "Syntax OK"), "%s", out);
    free(want);
    free(out);
    at_stop(&a);
}
END_TEST

START_TEST(configtest_refuses_bad_require_lines)
{
    struct apa a;
    at_prepare(&a);
    char *conf = tu_read_file(a.conf, NULL);
    char *more = tu_strf("%s<Location /bad/>\n    Require certrole-role\n</Location>\n", conf);
    tu_write_file(a.conf, more);
    char *out = NULL;
    ck_assert_int_ne(at_ctl(&a, "-t", &out), 0);
    ck_assert_msg(out && strstr(out, "Require certrole-role needs at least one role"), "%s",
                  out ? out : "");
    free(out); free(more);
    more = tu_strf("%s<Location /bad/>\n    Require certrole-valid admin\n</Location>\n", conf);
    tu_write_file(a.conf, more);
    out = NULL;
    ck_assert_int_ne(at_ctl(&a, "-t", &out), 0);
    ck_assert_msg(out && strstr(out, "Require certrole-valid takes no arguments"), "%s",
                  out ? out : "");
    free(out); free(more); free(conf);
    at_stop(&a);
}
END_TEST

START_TEST(graceful_restart_reloads_the_policy)
{
    struct apa a;
    at_start(&a);
    ck_assert_int_eq(get(&a, GUEST, "/InvoiceService/list"), 403);
    /* guest now holds invoice-readonly */
    at_write_policy(a.dir, "\"" AT_CLIENT_DN "\" invoice-readonly user=crm\n"
                           "\"" AT_GUEST_DN "\" guest,invoice-readonly user=guest\n");
    ck_assert_int_eq(kill(a.pid, SIGUSR1), 0);
    int st = 0;
    for (int i = 0; i < 100 && st != 200; i++) {
        wt_sleep_ms(100);
        st = get(&a, GUEST, "/InvoiceService/list");
    }
    ck_assert_int_eq(st, 200);
    char *err = at_error_log(&a);
    ck_assert_msg(strstr(err, "SIGUSR1 received"), "%s", err);
    free(err);
    at_stop(&a);
}
END_TEST

static Suite *apache_authz_suite(void)
{
    Suite *s = suite_create("apache_authz");
    TCase *tc = tcase_create("authz");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, require_all_with_require_ip);
    tcase_add_test(tc, require_any_with_require_ip);
    tcase_add_test(tc, require_role_and_require_user);
    tcase_add_test(tc, encoded_targets_are_judged_as_routed);
    tcase_add_test(tc, configtest_names_the_policy_error);
    tcase_add_test(tc, configtest_refuses_bad_require_lines);
    tcase_add_test(tc, graceful_restart_reloads_the_policy);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int rc = at_init();
    return rc ? rc : at_run(apache_authz_suite());
}
