/* Hostile input: certificates that are correctly signed by the trusted CA
 * but try to be read as someone else (tests/pki/mkhostile.sh), oversize
 * inputs, and policies that try to load code or slip past the parser.
 * Each case is refused with one exact code, and where a positive control
 * makes sense the same setup is shown to accept the honest spelling, so
 * a refusal is never an accident of a broken fixture. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <openssl/pem.h>
#include "certrole.h"
#include "hostile_util.h"
#include "testutil.h"

#define CLIENT_DN "CN=CRMApplication,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US"

static void setup(void)
{
    setenv("CERTROLE_REALM_DIR", hx("mods"), 1);
}

/* Policy: the test PKI's trust, one file realm with the given lines. */
static certrole_ctx *with_realm(const char *lines, const char *trust_extra)
{
    static int n;
    char *realm = tu_strf("%s/users-%d.realm", hx_dir(), n++);
    tu_write_file(realm, lines);
    char *text = tu_strf("trust ca-file=%s %s\nrealm required file path=%s\n"
                         "option cache-ttl=0\nrequire * / admin ok invoice-readonly\n",
                         tu_pki("ca-file.pem"), trust_extra ? trust_extra : "", realm);
    certrole_ctx *ctx = hx_open(text);
    free(text);
    free(realm);
    return ctx;
}

static void allowed_with_role(certrole_ctx *ctx, const char *pem, const char *role)
{
    certrole_result *res = hx_verify(ctx, pem);
    ck_assert_msg(certrole_result_allowed(res), "%s: %s", pem, certrole_result_message(res));
    ck_assert(certrole_result_has_role(res, role));
    certrole_result_free(res);
}

/* ---- names ------------------------------------------------------------ */

START_TEST(dn_injection_is_one_escaped_rdn)
{
    /* CN "x,O=Acme Corp": every unescaped reading is in the realm. */
    certrole_ctx *ctx = with_realm("\"O=Acme Corp,C=US\" admin\n"
                                   "\"CN=x,O=Acme Corp,O=Acme Corp,C=US\" admin\n"
                                   "\"CN=x,O=Acme Corp,C=US\" admin\n"
                                   "\"CN=x\" admin\n", NULL);
    certrole_result *res = hx_verify(ctx, hx("dninject-chain.pem"));
    ck_assert_str_eq(certrole_result_subject(res), "CN=x\\,O=Acme Corp,O=Acme Corp,C=US");
    certrole_result_free(res);
    hx_denied(ctx, hx("dninject-chain.pem"), CERTROLE_E_UNKNOWN_IDENTITY);
    certrole_close(ctx);
    /* Positive control: the escaped spelling is that peer. */
    ctx = with_realm("\"CN=x\\,O=Acme Corp, O=Acme Corp, C=US\" ok\n", NULL);
    allowed_with_role(ctx, hx("dninject-chain.pem"), "ok");
    certrole_close(ctx);
    ck_assert_int_eq(certrole_dn_equal("CN=x\\,O=Acme Corp,O=Acme Corp,C=US",
                                       "CN=x,O=Acme Corp,O=Acme Corp,C=US"), 0);
}
END_TEST

/* A pin on the exact certificate must not rescue an ambiguous name. */
static void bad_name_even_if_pinned(const char *name, const char *why)
{
    char *chain = tu_strf("%s-chain.pem", name), *leaf = tu_strf("%s.pem", name);
    char *lines = tu_strf("sha256:%s admin\n\"" CLIENT_DN "\" admin\n", hx_sha256(hx(leaf)));
    certrole_ctx *ctx = with_realm(lines, NULL);
    certrole_result *res = hx_verify(ctx, hx(chain));
    ck_assert_msg(strstr(certrole_result_message(res), why), "%s: message \"%s\" lacks \"%s\"",
                  name, certrole_result_message(res), why);
    certrole_result_free(res);
    hx_denied(ctx, hx(chain), CERTROLE_E_BAD_NAME);
    certrole_close(ctx);
    free(lines);
    free(chain);
    free(leaf);
}

START_TEST(two_cns_are_a_bad_name)
{
    bad_name_even_if_pinned("twocn", "CN");
}
END_TEST

START_TEST(nul_in_cn_is_a_bad_name)
{
    bad_name_even_if_pinned("nulcn", "NUL");
}
END_TEST

START_TEST(nul_in_san_is_a_bad_name)
{
    bad_name_even_if_pinned("nulsan", "NUL");
}
END_TEST

START_TEST(utf8_lookalikes_are_other_names)
{
    certrole_ctx *ctx = with_realm("\"" CLIENT_DN "\" invoice-readonly\n", NULL);
    allowed_with_role(ctx, tu_pki("client-chain.pem"), "invoice-readonly");
    certrole_result *res = hx_verify(ctx, hx("lookalike-o-chain.pem"));
    ck_assert_msg(strstr(certrole_result_subject(res), "O=\xd0\x90" "cme Corp"), "%s",
                  certrole_result_subject(res));
    certrole_result_free(res);
    hx_denied(ctx, hx("lookalike-o-chain.pem"), CERTROLE_E_UNKNOWN_IDENTITY);
    hx_denied(ctx, hx("lookalike-cn-chain.pem"), CERTROLE_E_UNKNOWN_IDENTITY);
    certrole_close(ctx);
    ck_assert_int_eq(certrole_dn_equal(CLIENT_DN,
        "CN=CRMApplication,OU=Sales,O=\xd0\x90" "cme Corp,L=San Francisco,ST=CA,C=US"), 0);
    /* The test realm matches the CN byte for byte. */
    char *text = tu_strf("trust ca-file=%s\nrealm required test if-cn=CRMApplication roles=ok\n",
                         tu_pki("ca-file.pem"));
    ctx = hx_open(text);
    free(text);
    hx_denied(ctx, hx("lookalike-cn-chain.pem"), CERTROLE_E_UNKNOWN_IDENTITY);
    certrole_close(ctx);
}
END_TEST

START_TEST(empty_subject_with_only_sans_is_unknown)
{
    /* Its only identity is the SAN crm@acme.example, the client's address:
     * a realm keyed on DNs must not match it to anything. */
    certrole_ctx *ctx = with_realm("\"" CLIENT_DN "\" admin\n", NULL);
    certrole_result *res = hx_verify(ctx, hx("emptysubj-chain.pem"));
    ck_assert_str_eq(certrole_result_subject(res), "");
    certrole_result_free(res);
    hx_denied(ctx, hx("emptysubj-chain.pem"), CERTROLE_E_UNKNOWN_IDENTITY);
    certrole_close(ctx);
    /* A realm that reads the CN has nothing to read. */
    char *text = tu_strf("trust ca-file=%s\nrealm required test if-cn= roles=admin\n",
                         tu_pki("ca-file.pem"));
    ctx = hx_open(text);
    free(text);
    hx_denied(ctx, hx("emptysubj-chain.pem"), CERTROLE_E_UNKNOWN_IDENTITY);
    certrole_close(ctx);
}
END_TEST

/* ---- chains and extensions ------------------------------------------- */

START_TEST(deep_chain_exceeds_the_depth_limit)
{
    certrole_ctx *ctx = with_realm("\"" CLIENT_DN "\" admin\n", "depth=3");
    hx_denied(ctx, hx("deep13-chain.pem"), CERTROLE_E_CHAIN_TOO_LONG);
    certrole_close(ctx);
    /* The chain itself is sound: with room for 13 intermediates it
     * validates, and only the realm does not know the peer. */
    ctx = with_realm("\"" CLIENT_DN "\" admin\n", "depth=13");
    hx_denied(ctx, hx("deep13-chain.pem"), CERTROLE_E_UNKNOWN_IDENTITY);
    certrole_close(ctx);
}
END_TEST

static STACK_OF(X509) *read_all(const char *path)
{
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    STACK_OF(X509) *sk = sk_X509_new_null();
    X509 *x;
    while ((x = PEM_read_X509(f, NULL, NULL, NULL)))
        ck_assert(sk_X509_push(sk, x) > 0);
    fclose(f);
    return sk;
}

START_TEST(too_many_certificates_are_refused)
{
    certrole_ctx *ctx = with_realm("\"" CLIENT_DN "\" admin\n", NULL);
    /* 40 certificates, the client's valid chain first. */
    certrole_result *res = hx_verify(ctx, hx("many-chain.pem"));
    ck_assert_msg(strstr(certrole_result_message(res), "more than 32"), "%s",
                  certrole_result_message(res));
    certrole_result_free(res);
    hx_denied(ctx, hx("many-chain.pem"), CERTROLE_E_BAD_ENCODING);
    /* Through the X509 entry point the count is not limited by us, but
     * the depth is: the 13-deep leaf with 39 extra certificates. */
    certrole_close(ctx);
    ctx = with_realm("\"" CLIENT_DN "\" admin\n", "depth=3");
    STACK_OF(X509) *deep = read_all(hx("deep13-chain.pem"));
    STACK_OF(X509) *many = read_all(hx("many-chain.pem"));
    X509 *leaf = sk_X509_shift(deep);
    while (sk_X509_num(many) > 0)
        ck_assert(sk_X509_push(deep, sk_X509_shift(many)) > 0);
    ck_assert_int_ge(sk_X509_num(deep), 50);
    res = NULL;
    ck_assert_int_eq(certrole_verify_x509(ctx, leaf, deep, &res), CERTROLE_E_CHAIN_TOO_LONG);
    ck_assert(!certrole_result_allowed(res));
    certrole_result_free(res);
    X509_free(leaf);
    sk_X509_pop_free(deep, X509_free);
    sk_X509_pop_free(many, X509_free);
    certrole_close(ctx);
}
END_TEST

START_TEST(unknown_critical_extension_is_refused_even_if_pinned)
{
    char *lines = tu_strf("sha256:%s admin\n", hx_sha256(hx("critext.pem")));
    certrole_ctx *ctx = with_realm(lines, NULL);
    hx_denied(ctx, hx("critext-chain.pem"), CERTROLE_E_CHAIN_INVALID);
    certrole_close(ctx);
    free(lines);
}
END_TEST

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

START_TEST(enormous_extensions_are_bounded)
{
    certrole_ctx *ctx = with_realm("\"" CLIENT_DN "\" admin\n", NULL);
    /* 2 MB of PEM: refused before parsing. */
    hx_denied(ctx, hx("bigext-chain.pem"), CERTROLE_E_BAD_ENCODING);
    /* 1.5 MB of DER: the same byte limit. */
    FILE *f = fopen(hx("bigext.pem"), "r");
    ck_assert_ptr_nonnull(f);
    X509 *big = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    ck_assert_ptr_nonnull(big);
    unsigned char *der = NULL;
    int dlen = i2d_X509(big, &der);
    ck_assert_int_gt(dlen, 1500000);
    certrole_result *res = NULL;
    ck_assert_int_eq(certrole_verify_data(ctx, der, (size_t)dlen, CERTROLE_FORMAT_AUTO, NULL, &res),
                     CERTROLE_E_BAD_ENCODING);
    certrole_result_free(res);
    OPENSSL_free(der);
    /* Handed over as an X509 (a TLS stack already parsed it): processed
     * in bounded time, and the realm does not know it. */
    double t0 = now_s();
    res = NULL;
    ck_assert_int_eq(certrole_verify_x509(ctx, big, NULL, &res), CERTROLE_E_UNTRUSTED_ISSUER);
    certrole_result_free(res);
    STACK_OF(X509) *chain = read_all(tu_pki("int-ca.pem"));
    res = NULL;
    ck_assert_int_eq(certrole_verify_x509(ctx, big, chain, &res), CERTROLE_E_UNKNOWN_IDENTITY);
    ck_assert(!certrole_result_allowed(res));
    certrole_result_free(res);
    ck_assert_msg(now_s() - t0 < 5.0, "took %.1f s", now_s() - t0);
    sk_X509_pop_free(chain, X509_free);
    X509_free(big);
    /* 4000 SANs: every one extracted, none matches a DN entry. */
    t0 = now_s();
    res = hx_verify(ctx, hx("manysan-chain.pem"));
    ck_assert_int_eq(certrole_result_code(res), CERTROLE_E_UNKNOWN_IDENTITY);
    ck_assert_uint_eq(certrole_result_san_count(res), 4000);
    ck_assert_str_eq(certrole_result_san(res, 3999, NULL), "h3999.acme.example");
    certrole_result_free(res);
    ck_assert_msg(now_s() - t0 < 5.0, "took %.1f s", now_s() - t0);
    certrole_close(ctx);
}
END_TEST

START_TEST(huge_pem_is_refused)
{
    certrole_ctx *ctx = with_realm("\"" CLIENT_DN "\" invoice-readonly\n", NULL);
    /* The client's valid chain followed by 1.1 MB of comment text. */
    size_t clen = 0;
    char *chain = tu_read_file(tu_pki("client-chain.pem"), &clen);
    ck_assert_ptr_nonnull(chain);
    size_t pad = 1100u * 1024u, len = clen + pad;
    char *pem = malloc(len);
    ck_assert_ptr_nonnull(pem);
    memcpy(pem, chain, clen);
    memset(pem + clen, 'x', pad);
    for (size_t i = clen + 79; i < len; i += 80)
        pem[i] = '\n';
    certrole_result *res = NULL;
    ck_assert_int_eq(certrole_verify_pem(ctx, pem, len, &res), CERTROLE_E_BAD_ENCODING);
    ck_assert(!certrole_result_allowed(res));
    ck_assert_msg(strstr(certrole_result_message(res), "limit"), "%s", certrole_result_message(res));
    certrole_result_free(res);
    /* The same chain alone is accepted: the size alone refused it. */
    res = NULL;
    ck_assert_int_eq(certrole_verify_pem(ctx, pem, clen, &res), CERTROLE_OK);
    certrole_result_free(res);
    /* One PEM block whose base64 body is 1.1 MB. */
    memcpy(pem, "-----BEGIN CERTIFICATE-----\n", 28);
    memset(pem + 28, 'Q', len - 28);
    memcpy(pem + len - 26, "\n-----END CERTIFICATE-----", 26);
    res = NULL;
    ck_assert_int_eq(certrole_verify_pem(ctx, pem, len, &res), CERTROLE_E_BAD_ENCODING);
    certrole_result_free(res);
    free(pem);
    free(chain);
    certrole_close(ctx);
}
END_TEST

static Suite *hostile_suite(void)
{
    Suite *s = suite_create("hostile input");
    TCase *tc = tcase_create("certificates");
    tcase_add_unchecked_fixture(tc, hx_prepare, NULL);
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, dn_injection_is_one_escaped_rdn);
    tcase_add_test(tc, two_cns_are_a_bad_name);
    tcase_add_test(tc, nul_in_cn_is_a_bad_name);
    tcase_add_test(tc, nul_in_san_is_a_bad_name);
    tcase_add_test(tc, utf8_lookalikes_are_other_names);
    tcase_add_test(tc, empty_subject_with_only_sans_is_unknown);
    tcase_add_test(tc, deep_chain_exceeds_the_depth_limit);
    tcase_add_test(tc, too_many_certificates_are_refused);
    tcase_add_test(tc, unknown_critical_extension_is_refused_even_if_pinned);
    tcase_add_test(tc, enormous_extensions_are_bounded);
    tcase_add_test(tc, huge_pem_is_refused);
    suite_add_tcase(s, tc);
    hx_add_policy_tcase(s);   /* check_hostile_policy.c */
    return s;
}

int main(void)
{
    int rc = tu_run_suite(hostile_suite());
    hx_cleanup();
    return rc;
}
