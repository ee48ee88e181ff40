/* The nginx dynamic module against a real nginx on loopback: decisions,
 * variables and headers, with the Acme policy, the test PKI and curl as
 * the client. Each test starts its own nginx (master + one worker) in a
 * private prefix and always stops it. ssl_verify_client modes and the
 * per-connection cache: check_nginx_tls.c; reload and nginx -t:
 * check_nginx_reload.c. */
#define _GNU_SOURCE
#include "testutil.h"
#include "web/nginxtest.h"
#include <certrole.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLIENT_DN NT_CLIENT_DN
#define GUEST_DN NT_GUEST_DN

static void ngx_start(struct ngx *n)
{
    nt_start(n, "nginx.conf.in");
}

static void ngx_stop(struct ngx *n)
{
    nt_stop(n);
}

static int get(struct ngx *n, const char *cert, const char *key,
               const char *extra, const char *path, char **body)
{
    return nt_get(n, cert, key, extra, path, body);
}

static char *file_in(struct ngx *n, const char *name)
{
    return nt_file(n, name);
}

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
    ck_assert_msg(strstr(body, "subj=[" CLIENT_DN "]"), "%s", body);
    /* RFC 9440: the leaf as :base64 DER:, the intermediate in the chain */
    char *leaf = der_b64("client.pem"), *inter = der_b64("int-ca.pem");
    char *want = tu_strf("cert=[:%s:] chain=[:%s:]", leaf, inter);
    ck_assert_msg(strstr(body, want), "want %s\nin %s", want, body);
    free(want); free(leaf); free(inter);
    char *acc = nt_access(&n);
    ck_assert_msg(strstr(acc, "200 code=ok user=crm roles=invoice-readonly"), "%s", acc);
    ck_assert_msg(strstr(acc, "subject=\"" CLIENT_DN "\""), "%s", acc);
    /* the client certificate's one URI SAN is a SPIFFE ID */
    ck_assert_msg(strstr(acc, "uri=/InvoiceService/list spiffe=spiffe://acme.example/crm"), "%s",
                  acc);
    char *ski = tu_ski_hex(tu_pki("client.pem")), *want_ski = tu_strf("ski=%s\n", ski);
    ck_assert_msg(strstr(acc, want_ski), "want %s in %s", want_ski, acc);
    free(ski);
    free(want_ski);
    free(acc);
    free(body);
    ngx_stop(&n);
}
END_TEST

START_TEST(no_certificate_is_401)
{
    struct ngx n;
    ngx_start(&n);
    int st = get(&n, NULL, NULL, NULL, "/InvoiceService/list", NULL);
    ck_assert_int_eq(st, 401);
    char *acc = nt_access(&n);
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
    char *acc = nt_access(&n);
    ck_assert_msg(strstr(acc, "403 code=untrusted_issuer"), "%s", acc);
    free(acc);
    /* the reason, at info level, in the error log */
    char *err = file_in(&n, "error.log");
    ck_assert_msg(strstr(err, "[info]") && strstr(err, "code=untrusted_issuer status=403"),
                  "%s", err);
    /* the audit line names the client's address */
    ck_assert_msg(strstr(err, "certrole: decision=deny code=untrusted_issuer") &&
                  strstr(err, " peer=\"127.0.0.1\" resource=\"GET /InvoiceService/list\""),
                  "%s", err);
    free(err);
    ngx_stop(&n);
}
END_TEST

START_TEST(expired_is_refused)
{
    struct ngx n;
    ngx_start(&n);
    int st = get(&n, "expired-chain.pem", "expired.key", NULL, "/InvoiceService/list", NULL);
    ck_assert_int_eq(st, 403);
    char *acc = nt_access(&n);
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
    char *acc = nt_access(&n);
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
    char *acc = nt_access(&n);
    ck_assert_msg(strstr(acc, "403 code=forbidden user=guest roles=guest"), "%s", acc);
    free(acc);
    char *err = file_in(&n, "error.log");
    ck_assert_msg(strstr(err, "code=forbidden status=403"), "%s", err);
    free(err);
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
    char *acc = nt_access(&n);
    ck_assert_msg(strstr(acc, "403 code=forbidden user=crm"), "%s", acc);
    free(acc);
    char *err = file_in(&n, "error.log");
    ck_assert_msg(strstr(err, "requires one of its certrole_require roles"), "%s", err);
    free(err);
    /* "certrole_require admin invoice-readonly": any one of them will do */
    char *body = NULL;
    ck_assert_int_eq(get(&n, "client-chain.pem", "client.key", NULL, "/reports/q1", &body), 200);
    ck_assert_msg(body && strstr(body, "user=[crm]"), "%s", body ? body : "");
    free(body);
    ck_assert_int_eq(get(&n, "norole-chain.pem", "norole.key", NULL, "/reports/q1", NULL), 403);
    ck_assert_int_eq(get(&n, NULL, NULL, NULL, "/reports/q1", NULL), 401);
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

START_TEST(certrole_off_location_is_untouched)
{
    struct ngx n;
    ngx_start(&n);
    char *body = NULL;
    int st = get(&n, NULL, NULL, NULL, "/open/x", &body);
    ck_assert_int_eq(st, 200);
    ck_assert_msg(body && strstr(body, "user=[] roles=[]"), "%s", body ? body : "");
    free(body);
    /* not checked, but what certrole_export_headers vouches for elsewhere
     * cannot be forged here either */
    body = NULL;
    st = get(&n, NULL, NULL, "-H 'X-Certrole-User: root' -H 'Client-Cert: :AAAA:'",
             "/open/x", &body);
    ck_assert_int_eq(st, 200);
    ck_assert_msg(body && strstr(body, "user=[] roles=[] cert=[]"), "%s", body ? body : "");
    free(body);
    char *acc = nt_access(&n);
    ck_assert_msg(strstr(acc, "200 code=- user=- roles=- subject=\"-\" uri=/open/x spiffe=- ski=-"), "%s", acc);
    free(acc);
    ngx_stop(&n);
}
END_TEST

START_TEST(export_headers_off_exports_nothing_but_still_strips)
{
    struct ngx n;
    ngx_start(&n);
    char *body = NULL;
    int st = get(&n, "client-chain.pem", "client.key",
                 "-H 'X-Certrole-User: root' -H 'Client-Cert: :AAAA:'",
                 "/noexport/x", &body);
    ck_assert_msg(st == 200, "status %d", st);
    ck_assert_ptr_nonnull(body);
    ck_assert_msg(strstr(body, "user=[] roles=[] cert=[] chain=[]"), "%s", body);
    /* the variables work without the export, e.g. in proxy_set_header */
    ck_assert_msg(strstr(body, "var=[crm|invoice-readonly|ok]"), "%s", body);
    free(body);
    /* and the location is still checked */
    ck_assert_int_eq(get(&n, NULL, NULL, NULL, "/noexport/x", NULL), 401);
    ngx_stop(&n);
}
END_TEST


/* ---- request paths: what is judged is what the backend routes -------- */

/* nginx-paths.conf.in with /admin guarded for the admin role, which the
 * client certificate's user (crm, invoice-readonly) lacks. */
static void paths_start(struct ngx *n)
{
    nt_prepare(n, "nginx-paths.conf.in");
    char *pol = tu_strf("trust ca-file=%s crl-file=%s crl-check=chain\n"
                        "realm required file path=users.realm\n"
                        "require * /admin admin\n"
                        "require GET /InvoiceService/list invoice-readonly\n",
                        tu_pki("ca-file.pem"), tu_pki("crl.pem"));
    char *path = tu_strf("%s/acme.policy", n->dir);
    tu_write_file(path, pol);
    free(pol);
    free(path);
    nt_launch(n);
}

/* backend.log once it has 'lines' lines (nginx logs after answering). */
static char *backend_log(struct ngx *n, int lines)
{
    char *t = NULL;
    for (int i = 0; i < 60; i++) {
        free(t);
        t = file_in(n, "backend.log");
        if (nt_count(t, "\n") >= lines)
            break;
        wt_sleep_ms(50);
    }
    return t;
}

START_TEST(hostile_paths_are_refused_and_never_reach_the_backend)
{
    /* each would reach /admin (or be routed two ways) on some backend */
    static const char *const hostile[] = {
        "/admin/%252e%252e/public", "/admin;x", "/admin;jsessionid=x", "/admin;/secret",
        "/%C0%AFadmin", "/alias/x", "/a/../admin", "//admin", "/%61dmin", "/admin%2Fx",
        "/public/%2e%2e/admin;x", "/admin%3Bx",
    };
    struct ngx n;
    paths_start(&n);
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        char *body = NULL;
        int st = get(&n, "client-chain.pem", "client.key", "--path-as-is", hostile[i], &body);
        ck_assert_msg(st == 403, "%s: status %d, body %s", hostile[i], st, body ? body : "");
        free(body);
    }
    /* not one of them reached the backend; an allowed request does */
    ck_assert_int_eq(get(&n, "client-chain.pem", "client.key", NULL, "/public/x", NULL), 200);
    char *log = backend_log(&n, 1);
    ck_assert_msg(nt_count(log, "\n") == 1 && strstr(log, "target=[/public/x]"), "%s", log);
    free(log);
    char *err = file_in(&n, "error.log");
    ck_assert_msg(strstr(err, "request path refused: encoded '%' (%25)"), "%s", err);
    ck_assert_msg(strstr(err, "request path refused: path parameter"), "%s", err);
    free(err);
    ngx_stop(&n);
}
END_TEST

/* The path the library judges for target, with the test's policy. */
static char *judged_path(struct ngx *n, const char *target)
{
    char *pol = tu_strf("%s/acme.policy", n->dir), *err = NULL;
    certrole_ctx *ctx = NULL;
    ck_assert_msg(certrole_open(&ctx, pol, &err) == CERTROLE_OK, "%s", err ? err : "");
    size_t len = 0;
    char *pem = tu_read_file(tu_pki("client-chain.pem"), &len);
    certrole_result *res = NULL;
    ck_assert_int_eq(certrole_verify_pem(ctx, pem, len, &res), CERTROLE_OK);
    certrole_authz *a = NULL;
    ck_assert_int_eq(certrole_authorize_target(ctx, res, "GET", target, CERTROLE_TARGET_RAW, &a),
                     CERTROLE_OK);
    char *out = tu_strf("%s", certrole_authz_path(a));
    certrole_authz_free(a);
    certrole_result_free(res);
    certrole_close(ctx);
    free(pem);
    free(pol);
    return out;
}

START_TEST(accepted_paths_reach_the_backend_as_judged)
{
    static const char *const accepted[] = {
        "/public/x", "/a/../public/y", "/%70ublic/z", "/admin/%2e%2e/public/w",
        "/public/./q//r", "/public/a%20b", "/public/s?q=/../admin", "/ADMIN",
        "/InvoiceService/list",
    };
    size_t nacc = sizeof accepted / sizeof accepted[0];
    struct ngx n;
    paths_start(&n);
    for (size_t i = 0; i < nacc; i++) {
        int st = get(&n, "client-chain.pem", "client.key", "--path-as-is", accepted[i], NULL);
        ck_assert_msg(st == 200, "%s: status %d", accepted[i], st);
    }
    char *log = backend_log(&n, (int)nacc);
    ck_assert_msg(nt_count(log, "\n") == (int)nacc, "%s", log);
    /* line i: what the backend received and the path it routed */
    char *line = log;
    for (size_t i = 0; i < nacc; i++) {
        char *nl = strchr(line, '\n');
        *nl = '\0';
        char *judged = judged_path(&n, accepted[i]);
        char *want = tu_strf("target=[%s] routed=[%s]", accepted[i], judged);
        ck_assert_msg(strcmp(line, want) == 0, "backend: %s\nwant:    %s", line, want);
        free(want);
        free(judged);
        line = nl + 1;
    }
    free(log);
    ngx_stop(&n);
}
END_TEST

/* $certrole_san_*: every name of a type, as an RFC 9651 List that reads
 * one way only, whatever the names hold (commas, quotes, non-ASCII);
 * $certrole_issuer / _serial / _fingerprint beside them. */
START_TEST(san_variables_are_structured_field_lists)
{
    struct ngx n;
    ngx_start(&n);
    /* the client's DN (so the realm knows it), names of every kind */
    char *ext = tu_strf("%s/san.cnf", n.dir);
    tu_write_file(ext,
        "extendedKeyUsage=clientAuth\nsubjectAltName=@alt\n[alt]\n"
        "email.1 = one@acme.example\nemail.2 = two,\\\"x\\\"@acme.example\n"
        "DNS.1 = b\xc3\xbc" "cher.example\nDNS.2 = plain.example\n"
        "URI.1 = spiffe://acme.example/crm\nIP.1 = 192.0.2.7\n"
        "otherName.1 = 1.3.6.1.4.1.311.20.2.3;UTF8:j\xc3\xb6rg%@corp.example\n");
    char *cmd = tu_strf(
        "cd '%s' && '%s' req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
        "-keyout san.key -subj '/C=US/ST=CA/L=San Francisco/O=Acme Corp/OU=Sales/CN=CRMApplication' "
        "-out san.csr 2>&1 && '%s' x509 -req -in san.csr -CA '%s' -CAkey '%s' -set_serial 0x5A17 "
        "-days 2 -extfile san.cnf -out san.pem 2>&1 && cat san.pem '%s' > san-chain.pem",
        n.dir, tu_env("OPENSSL", "openssl"), tu_env("OPENSSL", "openssl"), tu_pki("int-ca.pem"),
        tu_pki("int-ca.key"), tu_pki("int-ca.pem"));
    char *out = NULL;
    ck_assert_msg(tu_run(cmd, &out) == 0, "%s", out ? out : "");
    free(out);
    char *cert = tu_strf("%s/san-chain.pem", n.dir), *key = tu_strf("%s/san.key", n.dir);
    char *body = NULL, *args = tu_strf("--cert '%s' --key '%s'", cert, key);
    int st = get(&n, NULL, NULL, args, "/x", &body);
    ck_assert_msg(st == 200, "status %d: %s", st, body ? body : "");
    ck_assert_msg(strstr(body, "san=[\"one@acme.example\", \"two,\\\"x\\\"@acme.example\"|"
                               "%\"b%c3%bccher.example\", \"plain.example\"|"
                               "\"spiffe://acme.example/crm\"|\"192.0.2.7\"|"
                               /* openssl's UTF8: reads its input as Latin-1:
                                * the UPN holds U+00C3 U+00B6 */
                               "%\"j%c3%83%c2%b6rg%25@corp.example\"]"), "%s", body);
    ck_assert_msg(strstr(body, "leaf=[CN=Acme Issuing CA,O=Acme Corp,C=US|5A17|"), "%s", body);
    free(body);
    /* a type the certificate lacks is an empty list */
    free(args);
    st = get(&n, "client-chain.pem", "client.key", NULL, "/x", &body);
    ck_assert_int_eq(st, 200);
    ck_assert_msg(strstr(body, "san=[\"crm@acme.example\"|\"crm.acme.example\"|"
                               "\"spiffe://acme.example/crm\"|\"192.0.2.10\"|]"), "%s", body);
    free(body);
    free(cert); free(key); free(cmd); free(ext);
    ngx_stop(&n);
}
END_TEST


/* certrole_status: the policy's counters in Prometheus text, after the
 * access phase (certrole_require admin guards it). */
START_TEST(status_location_reports_the_policy_counters)
{
    struct ngx n;
    ngx_start(&n);
    char *body = NULL;
    ck_assert_int_eq(get(&n, "client-chain.pem", "client.key", NULL, "/InvoiceService/list",
                         &body), 200);
    free(body);
    ck_assert_int_eq(get(&n, "revoked-chain.pem", "revoked.key", NULL, "/InvoiceService/list",
                         &body), 403);
    free(body);
    /* a peer without the admin role does not see the counters */
    ck_assert_int_eq(get(&n, "client-chain.pem", "client.key", NULL, "/certrole-status",
                         &body), 403);
    free(body);
    char *hdr = tu_strf("-D '%s/status.hdr'", n.dir);
    int st = get(&n, NULL, NULL, hdr, "/certrole-status-open", &body);
    ck_assert_msg(st == 200, "status %d: %s", st, body ? body : "");
    ck_assert_ptr_nonnull(body);
    ck_assert_msg(strstr(body, "# certrole: worker process "), "%s", body);
    /* three decisions so far: ok (list), revoked, ok (the 403 on the
     * status location was the role rule, after an allowed verification) */
    ck_assert_int_ge(wt_metric(body, "certrole_decisions_total{code=\"ok\"}"), 2);
    ck_assert_int_eq(wt_metric(body, "certrole_decisions_total{code=\"revoked\"}"), 1);
    ck_assert_int_ge(wt_metric(body, "certrole_realm_lookups_total{realm=\"file\",position=\"1\","
                                  "outcome=\"found\"}"), 1);
    ck_assert_ptr_nonnull(strstr(body, "# TYPE certrole_verify_seconds histogram\n"));
    char *h = file_in(&n, "status.hdr");
    ck_assert_msg(strstr(h, "Content-Type: text/plain; version=0.0.4"), "%s", h);
    free(h);
    free(body);
    /* GET and HEAD only */
    ck_assert_int_eq(get(&n, NULL, NULL, "-X POST -d x=1", "/certrole-status-open", &body), 405);
    free(body);
    free(hdr);
    ngx_stop(&n);
}
END_TEST

static Suite *nginx_suite(void)
{
    Suite *s = suite_create("nginx");
    TCase *tc = tcase_create("module");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, right_certificate_reaches_backend_with_user_and_roles);
    tcase_add_test(tc, no_certificate_is_401);
    tcase_add_test(tc, other_ca_is_refused);
    tcase_add_test(tc, expired_is_refused);
    tcase_add_test(tc, revoked_is_refused);
    tcase_add_test(tc, valid_dn_without_the_role_is_403);
    tcase_add_test(tc, certrole_require_adds_to_the_policy);
    tcase_add_test(tc, spoofed_headers_do_not_reach_the_backend);
    tcase_add_test(tc, certrole_off_location_is_untouched);
    tcase_add_test(tc, export_headers_off_exports_nothing_but_still_strips);
    tcase_add_test(tc, hostile_paths_are_refused_and_never_reach_the_backend);
    tcase_add_test(tc, accepted_paths_reach_the_backend_as_judged);
    tcase_add_test(tc, status_location_reports_the_policy_counters);
    tcase_add_test(tc, san_variables_are_structured_field_lists);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int rc = nt_init();
    return rc ? rc : nt_run(nginx_suite());
}
