/* mod_certrole against a real httpd on loopback: decisions, variables and
 * headers with the Acme policy, the test PKI and curl as the client. Each
 * test starts its own httpd in a private ServerRoot and always stops it.
 * Require composition, request targets, apache2 -t and graceful restart:
 * check_apache_authz.c. */
#define _GNU_SOURCE
#include "testutil.h"
#include "web/apachetest.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* base64 of the DER of a PKI certificate, by the openssl command. */
static char *der_b64(const char *name)
{
    char *cmd = tu_strf("'%s' x509 -in '%s' -outform DER | '%s' base64 -A",
                        tu_env("OPENSSL", "openssl"), tu_pki(name),
                        tu_env("OPENSSL", "openssl"));
    char *out = NULL;
    ck_assert_int_eq(tu_run(cmd, &out), 0);
    ck_assert_ptr_nonnull(out);
    out[strcspn(out, "\r\n")] = '\0';
    ck_assert_msg(strlen(out) > 100, "openssl base64: %s", out);
    free(cmd);
    return out;
}

static void assert_in(const char *hay, const char *needle)
{
    ck_assert_msg(hay && strstr(hay, needle), "want [%s] in:\n%s", needle,
                  hay ? hay : "(null)");
}

START_TEST(right_certificate_reaches_backend_with_user_and_roles)
{
    struct apa a;
    at_start(&a);
    char *body = NULL;
    int st = at_get(&a, "client-chain.pem", "client.key", NULL, "/InvoiceService/list", &body);
    ck_assert_msg(st == 200, "status %d body %s", st, body ? body : "");
    /* r->user (REMOTE_USER, %u) and the CERTROLE_* variables */
    assert_in(body, "remote_user=[crm] auth_type=[certrole] user=[crm] "
                    "roles=[invoice-readonly] code=[ok] subject=[" AT_CLIENT_DN "]");
    /* RFC 9440: the leaf as :base64 DER:, the intermediate in the chain */
    char *leaf = der_b64("client.pem"), *inter = der_b64("int-ca.pem");
    char *want = tu_strf("hdr user=[crm] roles=[invoice-readonly] cert=[:%s:] chain=[:%s:]",
                         leaf, inter);
    assert_in(body, want);
    free(body);
    char *acc = at_access(&a);
    assert_in(acc, "200 code=ok user=crm roles=invoice-readonly subject=\"" AT_CLIENT_DN "\"");
    free(acc);

    /* the same headers reach a backend behind mod_proxy */
    body = NULL;
    st = at_get(&a, "client-chain.pem", "client.key", NULL, "/proxied/x", &body);
    ck_assert_msg(st == 200, "status %d body %s", st, body ? body : "");
    assert_in(body, want);
    assert_in(body, "uri=[/proxied/x]");
    free(body); free(want); free(leaf); free(inter);
    at_stop(&a);
}
END_TEST

START_TEST(no_certificate_is_401)
{
    struct apa a;
    at_start(&a);
    ck_assert_int_eq(at_get(&a, NULL, NULL, NULL, "/InvoiceService/list", NULL), 401);
    char *acc = at_access(&a);
    assert_in(acc, "401 code=no_certificate user=-");
    free(acc);
    char *err = at_error_log(&a);
    assert_in(err, "code=no_certificate status=401");
    free(err);
    at_stop(&a);
}
END_TEST

/* status, access-log code and an error-log reason for one certificate */
static void refused(const char *cert, const char *key, const char *code)
{
    struct apa a;
    at_start(&a);
    int st = at_get(&a, cert, key, NULL, "/InvoiceService/list", NULL);
    ck_assert_msg(st == 403, "%s: status %d", cert, st);
    char *acc = at_access(&a), *want = tu_strf("403 code=%s", code);
    assert_in(acc, want);
    free(want); free(acc);
    char *err = at_error_log(&a);
    want = tu_strf("[certrole:error]");
    assert_in(err, want);
    free(want);
    want = tu_strf("code=%s status=403: ", code);
    assert_in(err, want);
    free(want); free(err);
    at_stop(&a);
}

START_TEST(other_ca_is_refused)
{
    /* same subject DN as client.pem, issued by another root */
    refused("other-client.pem", "other-client.key", "untrusted_issuer");
}
END_TEST

START_TEST(expired_is_refused)
{
    refused("expired-chain.pem", "expired.key", "expired");
}
END_TEST

START_TEST(revoked_is_refused)
{
    refused("revoked-chain.pem", "revoked.key", "revoked");
}
END_TEST

START_TEST(valid_dn_without_the_role_is_403)
{
    struct apa a;
    at_start(&a);
    ck_assert_int_eq(at_get(&a, "norole-chain.pem", "norole.key", NULL,
                            "/InvoiceService/list", NULL), 403);
    char *acc = at_access(&a);
    assert_in(acc, "403 code=forbidden user=- roles=guest");
    free(acc);
    char *err = at_error_log(&a);
    assert_in(err, "code=forbidden status=403: ");
    free(err);
    /* the same peer may use a path no rule covers */
    char *body = NULL;
    int st = at_get(&a, "norole-chain.pem", "norole.key", NULL, "/public/info", &body);
    ck_assert_msg(st == 200, "status %d", st);
    assert_in(body, "remote_user=[guest] auth_type=[certrole] user=[guest] roles=[guest] code=[ok]");
    free(body);
    at_stop(&a);
}
END_TEST

static const char *const spoof =
    "-H 'Client-Cert: :AAAA:' -H 'Client-Cert-Chain: :BBBB:' "
    "-H 'X-Certrole-User: root' -H 'X-Certrole-Roles: admin' "
    "-H 'x-certrole-other: evil'";

static void assert_clean(const char *body)
{
    ck_assert_ptr_nonnull(body);
    ck_assert_msg(!strstr(body, "AAAA") && !strstr(body, "BBBB") && !strstr(body, "root")
                  && !strstr(body, "admin") && !strstr(body, "evil"), "%s", body);
    assert_in(body, "other=[]");
}

START_TEST(spoofed_headers_do_not_reach_the_backend)
{
    struct apa a;
    at_start(&a);
    char *body = NULL;
    int st = at_get(&a, "client-chain.pem", "client.key", spoof, "/InvoiceService/list", &body);
    ck_assert_msg(st == 200, "status %d", st);
    assert_in(body, "hdr user=[crm] roles=[invoice-readonly] cert=[:");
    assert_clean(body);
    free(body);
    /* behind mod_proxy too */
    body = NULL;
    st = at_get(&a, "client-chain.pem", "client.key", spoof, "/proxied/y", &body);
    ck_assert_msg(st == 200, "status %d", st);
    assert_in(body, "hdr user=[crm] roles=[invoice-readonly] cert=[:");
    assert_clean(body);
    free(body);
    /* where nothing is checked (Require all granted) and nothing exported */
    body = NULL;
    st = at_get(&a, NULL, NULL, spoof, "/open/x", &body);
    ck_assert_int_eq(st, 200);
    assert_in(body, "hdr user=[] roles=[] cert=[] chain=[] other=[]");
    assert_in(body, "remote_user=[] auth_type=[] user=[] roles=[] code=[no_certificate]");
    assert_clean(body);
    free(body);
    /* a lesser role cannot lift itself by header */
    st = at_get(&a, "norole-chain.pem", "norole.key",
                "-H 'X-Certrole-Roles: invoice-readonly'", "/InvoiceService/list", NULL);
    ck_assert_int_eq(st, 403);
    char *err = at_error_log(&a);
    assert_in(err, "dropped client header \"X-Certrole-User\"");
    free(err);
    at_stop(&a);
}
END_TEST

START_TEST(export_headers_off_exports_nothing_but_still_strips)
{
    struct apa a;
    at_start(&a);
    char *body = NULL;
    int st = at_get(&a, "client-chain.pem", "client.key", spoof, "/noexport/x", &body);
    ck_assert_msg(st == 200, "status %d", st);
    assert_in(body, "hdr user=[] roles=[] cert=[] chain=[] other=[]");
    /* the variables are set without the export */
    assert_in(body, "remote_user=[crm] auth_type=[certrole] user=[crm] roles=[invoice-readonly] code=[ok]");
    assert_clean(body);
    free(body);
    ck_assert_int_eq(at_get(&a, NULL, NULL, NULL, "/noexport/x", NULL), 401);
    at_stop(&a);
}
END_TEST

START_TEST(one_verification_per_connection)
{
    struct apa a;
    at_start(&a);
    /* two requests on one keepalive connection */
    char *second = tu_strf("https://127.0.0.1:%d/public/b", a.port);
    int st = at_get(&a, "client-chain.pem", "client.key", second, "/public/a", NULL);
    a.requests++;
    ck_assert_int_eq(st, 200);
    char *acc = at_access(&a);
    assert_in(acc, "uri=/public/a");
    assert_in(acc, "uri=/public/b");
    free(acc);
    char *err = at_error_log(&a);
    ck_assert_msg(at_count(err, "verified the connection's client certificate") == 1, "%s", err);
    free(err); free(second);
    at_stop(&a);
}
END_TEST

static Suite *apache_suite(void)
{
    Suite *s = suite_create("apache");
    TCase *tc = tcase_create("module");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, right_certificate_reaches_backend_with_user_and_roles);
    tcase_add_test(tc, no_certificate_is_401);
    tcase_add_test(tc, other_ca_is_refused);
    tcase_add_test(tc, expired_is_refused);
    tcase_add_test(tc, revoked_is_refused);
    tcase_add_test(tc, valid_dn_without_the_role_is_403);
    tcase_add_test(tc, spoofed_headers_do_not_reach_the_backend);
    tcase_add_test(tc, export_headers_off_exports_nothing_but_still_strips);
    tcase_add_test(tc, one_verification_per_connection);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int rc = at_init();
    return rc ? rc : at_run(apache_suite());
}
