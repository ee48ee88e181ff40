/* The nginx module and the TLS layer: every ssl_verify_client mode,
 * a server-level policy with its own trust profile, and the
 * once-per-connection verification (HTTP/1.1 keepalive and HTTP/2),
 * proven by counting the module's "verified" lines in the error log.
 * Configuration: tests/web/nginx-tls.conf.in. */
#define _GNU_SOURCE
#include "testutil.h"
#include "web/nginxtest.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The module's line for each verification (in the handshake, or in the
 * access phase for a connection the handshake verified nothing for). */
#define VERIFIED "certrole: verified the connection's client certificate"

static int port_on(struct ngx *n) { return n->port; }
static int port_optional(struct ngx *n) { return n->more[0]; }
static int port_other_policy(struct ngx *n) { return n->more[1]; }
static int port_h2(struct ngx *n) { return n->more[2]; }

/* One curl, several URLs on the same port: one connection, several
 * requests. Returns curl's -w output ("code version connects " each). */
static char *curl_many(struct ngx *n, int port, const char *cert, const char *key,
                       const char *proto, const char *const *paths)
{
    char *urls = tu_strf("%s", ""), *outs = tu_strf("%s", "");
    for (int i = 0; paths[i]; i++) {
        char *u = tu_strf("%s 'https://127.0.0.1:%d%s'", urls, port, paths[i]);
        char *o = tu_strf("%s -o /dev/null", outs);
        free(urls); free(outs);
        urls = u; outs = o;
    }
    char *cmd = tu_strf("'%s' -sS %s %s --max-time 10 "
                        "-w '%%{http_code} %%{http_version} %%{num_connects} ' "
                        "--cacert '%s' --cert '%s' --key '%s' %s",
                        tu_env("CURL", "curl"), proto, outs, tu_pki("ca-file.pem"),
                        tu_pki(cert), tu_pki(key), urls);
    char *out = NULL;
    for (int i = 0; paths[i]; i++)
        n->requests++;
    tu_run(cmd, &out);
    free(cmd); free(urls); free(outs);
    return out ? out : tu_strf("%s", "");
}

static int count_in(struct ngx *n, const char *file, const char *needle)
{
    char *t = nt_file(n, file);
    int c = nt_count(t, needle);
    free(t);
    return c;
}

START_TEST(verify_client_on_the_handshake_verdict_is_certrole)
{
    struct ngx n;
    nt_start(&n, "nginx-tls.conf.in");
    char *body = NULL;
    int st = nt_get_port(&n, port_on(&n), "client-chain.pem", "client.key", NULL,
                         "/InvoiceService/list", &body);
    ck_assert_msg(st == 200, "status %d", st);
    ck_assert_msg(body && strstr(body, "user=[crm] roles=[invoice-readonly]"), "%s", body ? body : "");
    free(body);
    /* certrole verifies in the handshake, with the policy's CRL (nginx's
     * CA file alone would pass it): nginx answers its own 400 */
    ck_assert_int_eq(nt_get_port(&n, port_on(&n), "revoked-chain.pem", "revoked.key", NULL,
                                 "/InvoiceService/list", NULL), 400);
    /* a trusted chain without the role: certrole's 403 */
    ck_assert_int_eq(nt_get_port(&n, port_on(&n), "norole-chain.pem", "norole.key", NULL,
                                 "/InvoiceService/list", NULL), 403);
    /* with "on", nginx itself refuses a missing or untrusted certificate
     * (its 400 page) before any access handler */
    ck_assert_int_eq(nt_get_port(&n, port_on(&n), NULL, NULL, NULL, "/InvoiceService/list", NULL), 400);
    ck_assert_int_eq(nt_get_port(&n, port_on(&n), "other-client.pem", "other-client.key", NULL,
                                 "/InvoiceService/list", NULL), 400);
    char *acc = nt_access(&n);
    /* the handshake's refusal is in $certrole_code */
    char *want = tu_strf("%d 400 code=revoked ", port_on(&n));
    ck_assert_msg(strstr(acc, want), "%s", acc);
    free(want);
    want = tu_strf("%d 400 code=untrusted_issuer ", port_on(&n));
    ck_assert_msg(strstr(acc, want), "%s", acc);
    free(want);
    want = tu_strf("%d 400 code=- user=- ", port_on(&n));
    ck_assert_int_eq(nt_count(acc, want), 1);
    free(want);
    want = tu_strf("%d 403 code=forbidden user=guest ", port_on(&n));
    ck_assert_msg(strstr(acc, want), "%s", acc);
    free(want);
    free(acc);
    nt_stop(&n);
}
END_TEST

START_TEST(verify_client_optional)
{
    struct ngx n;
    nt_start(&n, "nginx-tls.conf.in");
    int p = port_optional(&n);
    ck_assert_int_eq(nt_get_port(&n, p, "client-chain.pem", "client.key", NULL,
                                 "/InvoiceService/list", NULL), 200);
    /* no certificate reaches certrole: 401 */
    ck_assert_int_eq(nt_get_port(&n, p, NULL, NULL, NULL, "/InvoiceService/list", NULL), 401);
    ck_assert_int_eq(nt_get_port(&n, p, "norole-chain.pem", "norole.key", NULL,
                                 "/InvoiceService/list", NULL), 403);
    /* a chain the policy does not trust: nginx's own 400, the handshake
     * being certrole's verification */
    ck_assert_int_eq(nt_get_port(&n, p, "revoked-chain.pem", "revoked.key", NULL,
                                 "/InvoiceService/list", NULL), 400);
    ck_assert_int_eq(nt_get_port(&n, p, "other-client.pem", "other-client.key", NULL,
                                 "/InvoiceService/list", NULL), 400);
    char *acc = nt_access(&n);
    char *w1 = tu_strf("%d 401 code=no_certificate ", p);
    char *w2 = tu_strf("%d 403 code=forbidden user=guest ", p);
    char *w3 = tu_strf("%d 400 code=revoked ", p);
    ck_assert_msg(strstr(acc, w1) && strstr(acc, w2) && strstr(acc, w3), "%s", acc);
    free(w1); free(w2); free(w3); free(acc);
    nt_stop(&n);
}
END_TEST

START_TEST(optional_no_ca_verifies_against_the_policy_trust_profile)
{
    struct ngx n;
    nt_start(&n, "nginx-tls.conf.in");
    /* The http-level Acme policy (HTTP/2 server, optional_no_ca): a
     * certificate from another CA is refused by certrole, not nginx. */
    int h2 = port_h2(&n), other = port_other_policy(&n);
    ck_assert_int_eq(nt_get_port(&n, h2, "other-client.pem", "other-client.key", NULL,
                                 "/InvoiceService/list", NULL), 403);
    ck_assert_int_eq(nt_get_port(&n, h2, "selfsigned.pem", "selfsigned.key", NULL,
                                 "/InvoiceService/list", NULL), 403);
    ck_assert_int_eq(nt_get_port(&n, h2, "expired-chain.pem", "expired.key", NULL,
                                 "/InvoiceService/list", NULL), 403);
    ck_assert_int_eq(nt_get_port(&n, h2, "client-chain.pem", "client.key", NULL,
                                 "/InvoiceService/list", NULL), 200);

    /* The server-level policy trusts only the Other Root CA: the same DN
     * from Acme is refused there, the other CA's certificate accepted. */
    ck_assert_int_eq(nt_get_port(&n, other, "client-chain.pem", "client.key", NULL,
                                 "/InvoiceService/list", NULL), 403);
    char *body = NULL;
    int st = nt_get_port(&n, other, "other-client.pem", "other-client.key", NULL,
                         "/InvoiceService/list", &body);
    ck_assert_msg(st == 200, "status %d", st);
    ck_assert_msg(body && strstr(body, "user=[partner] roles=[partner]"), "%s", body ? body : "");
    free(body);
    ck_assert_int_eq(nt_get_port(&n, other, NULL, NULL, NULL, "/InvoiceService/list", NULL), 401);
    /* certrole off in a location of that server */
    ck_assert_int_eq(nt_get_port(&n, other, NULL, NULL, NULL, "/acme/x", NULL), 200);

    char *acc = nt_access(&n);
    char *w1 = tu_strf("%d 403 code=untrusted_issuer ", h2);
    char *w2 = tu_strf("%d 403 code=self_signed_untrusted ", h2);
    char *w3 = tu_strf("%d 403 code=expired ", h2);
    char *w4 = tu_strf("%d 403 code=untrusted_issuer ", other);
    char *w5 = tu_strf("%d 200 code=ok user=partner ", other);
    ck_assert_msg(strstr(acc, w1), "%s\n%s", w1, acc);
    ck_assert_msg(strstr(acc, w2), "%s\n%s", w2, acc);
    ck_assert_msg(strstr(acc, w3), "%s\n%s", w3, acc);
    ck_assert_msg(strstr(acc, w4), "%s\n%s", w4, acc);
    ck_assert_msg(strstr(acc, w5), "%s\n%s", w5, acc);
    free(w1); free(w2); free(w3); free(w4); free(w5); free(acc);
    nt_stop(&n);
}
END_TEST

START_TEST(keepalive_requests_share_one_verification)
{
    struct ngx n;
    nt_start(&n, "nginx-tls.conf.in");
    int p = port_optional(&n);
    const char *paths[] = { "/InvoiceService/list", "/public/a", "/InvoiceService/list", NULL };
    char *out = curl_many(&n, p, "client-chain.pem", "client.key", "--http1.1", paths);
    /* one connection, three requests */
    ck_assert_msg(strcmp(out, "200 1.1 1 200 1.1 0 200 1.1 0 ") == 0, "curl: %s", out);
    free(out);
    ck_assert_int_eq(count_in(&n, "error.log", VERIFIED), 1);
    ck_assert_int_eq(count_in(&n, "error.log", "certrole: allowed \""), 3);
    char *acc = nt_access(&n);
    ck_assert_msg(strstr(acc, "req=1 uri=/InvoiceService/list") && strstr(acc, "req=3 uri=/InvoiceService/list"),
                  "%s", acc);
    free(acc);

    /* a refused peer is not re-verified per request either */
    const char *two[] = { "/InvoiceService/list", "/InvoiceService/list", NULL };
    out = curl_many(&n, p, "norole-chain.pem", "norole.key", "--http1.1", two);
    ck_assert_msg(strcmp(out, "403 1.1 1 403 1.1 0 ") == 0, "curl: %s", out);
    free(out);
    ck_assert_int_eq(count_in(&n, "error.log", VERIFIED), 2);
    ck_assert_int_eq(count_in(&n, "error.log", "code=forbidden status=403"), 2);

    /* a new connection is verified afresh */
    ck_assert_int_eq(nt_get_port(&n, p, "client-chain.pem", "client.key", "--http1.1",
                                 "/InvoiceService/list", NULL), 200);
    ck_assert_int_eq(count_in(&n, "error.log", VERIFIED), 3);
    nt_stop(&n);
}
END_TEST

START_TEST(http2_streams_share_one_verification)
{
    struct ngx n;
    nt_start(&n, "nginx-tls.conf.in");
    const char *paths[] = { "/InvoiceService/list", "/public/a", "/public/b", NULL };
    char *out = curl_many(&n, port_h2(&n), "client-chain.pem", "client.key", "--http2", paths);
    ck_assert_msg(strcmp(out, "200 2 1 200 2 0 200 2 0 ") == 0, "curl: %s", out);
    free(out);
    ck_assert_int_eq(count_in(&n, "error.log", VERIFIED), 1);
    ck_assert_int_eq(count_in(&n, "error.log", "certrole: allowed \""), 3);
    char *acc = nt_access(&n);
    char *w = tu_strf("%d 200 code=ok user=crm roles=invoice-readonly ", port_h2(&n));
    ck_assert_int_eq(nt_count(acc, w), 3);
    free(w);
    free(acc);
    nt_stop(&n);
}
END_TEST

static Suite *nginx_tls_suite(void)
{
    Suite *s = suite_create("nginx_tls");
    TCase *tc = tcase_create("tls");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, verify_client_on_the_handshake_verdict_is_certrole);
    tcase_add_test(tc, verify_client_optional);
    tcase_add_test(tc, optional_no_ca_verifies_against_the_policy_trust_profile);
    tcase_add_test(tc, keepalive_requests_share_one_verification);
    tcase_add_test(tc, http2_streams_share_one_verification);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int rc = nt_init();
    return rc ? rc : nt_run(nginx_tls_suite());
}
