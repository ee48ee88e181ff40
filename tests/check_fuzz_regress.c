/* Regressions for faults found with the fuzz targets (tests/fuzz/), each
 * replaying the input that showed the fault, rebuilt from the test PKI at
 * run time (certificates are never committed).
 *
 *  1. PKCS#12 key-derivation work: certrole_verify_data ran whatever
 *     iteration count a .p12 named; client.p12 with its MAC iteration
 *     count set to 2^31-1 (3.7 KB) kept the calling thread busy for more
 *     than 20 s (the fuzz target's time limit is 10 s). Every count
 *     (MAC, encrypted safe, shrouded key) is now checked first and the
 *     file refused with bad_encoding. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include "certrole.h"
#include "testutil.h"

/* The library's limit (module/input.h), restated: it is part of the
 * behaviour under test. */
#define MAX_ITER 1000000L

static certrole_ctx *ctx;

static void setup(void)
{
    char *err = NULL;
    char *pol = tu_strf("trust ca-file=\"%s\"\n", tu_pki("ca-file.pem"));
    certrole_code rc = certrole_open_string(&ctx, pol, NULL, &err);
    ck_assert_msg(rc == CERTROLE_OK, "policy: %s", err ? err : "?");
    free(pol);
}

static void teardown(void)
{
    certrole_close(ctx);
    ctx = NULL;
}

static PKCS12 *load_p12(void)
{
    FILE *f = fopen(tu_pki("client.p12"), "rb");
    ck_assert_msg(f != NULL, "cannot open %s", tu_pki("client.p12"));
    PKCS12 *p12 = d2i_PKCS12_fp(f, NULL);
    fclose(f);
    ck_assert_ptr_nonnull(p12);
    return p12;
}

/* Verifies DER p12 bytes; returns the code, checks that the answer came
 * quickly and, when refused, that nothing was allowed. */
static certrole_code verify(const unsigned char *der, int len, const char *pw, char **msg)
{
    certrole_result *res = NULL;
    time_t t0 = time(NULL);
    certrole_code rc = certrole_verify_data(ctx, der, (size_t)len, CERTROLE_FORMAT_AUTO, pw, &res);
    ck_assert_msg(time(NULL) - t0 <= 5, "verify took %ld s", (long)(time(NULL) - t0));
    ck_assert_ptr_nonnull(res);
    ck_assert_int_eq(certrole_result_code(res), rc);
    if (rc != CERTROLE_OK)
        ck_assert_int_eq(certrole_result_allowed(res), 0);
    if (msg)
        *msg = strdup(certrole_result_message(res));
    certrole_result_free(res);
    return rc;
}

/* client.p12 with its MAC iteration count replaced. */
static int p12_with_mac_iter(long iter, unsigned char **der)
{
    PKCS12 *p12 = load_p12();
    const ASN1_INTEGER *it = NULL;
    PKCS12_get0_mac(NULL, NULL, NULL, &it, p12);
    ck_assert_ptr_nonnull(it);
    ck_assert_int_eq(ASN1_INTEGER_set((ASN1_INTEGER *)it, iter), 1);
    *der = NULL;
    int len = i2d_PKCS12(p12, der);
    ck_assert_int_gt(len, 0);
    PKCS12_free(p12);
    return len;
}

START_TEST(p12_huge_mac_iterations_refused)
{
    /* The fuzzer's input: client.p12, MAC iteration count 0x7FFFFFFF. */
    unsigned char *der = NULL;
    int len = p12_with_mac_iter(0x7FFFFFFFL, &der);
    const char *pws[] = { "secret", NULL, "" };
    for (size_t i = 0; i < 3; i++) {
        char *msg = NULL;
        ck_assert_int_eq(verify(der, len, pws[i], &msg), CERTROLE_E_BAD_ENCODING);
        ck_assert_msg(strstr(msg, "iterations") != NULL, "message: %s", msg);
        free(msg);
    }
    OPENSSL_free(der);
}
END_TEST

START_TEST(p12_mac_iterations_at_limit)
{
    /* One past the limit is refused; an ordinary count still verifies
     * (and a wrong password is still told apart). */
    unsigned char *der = NULL;
    int len = p12_with_mac_iter(MAX_ITER + 1, &der);
    ck_assert_int_eq(verify(der, len, "secret", NULL), CERTROLE_E_BAD_ENCODING);
    OPENSSL_free(der);
    len = p12_with_mac_iter(2048, &der);
    ck_assert_int_eq(verify(der, len, "secret", NULL), CERTROLE_OK);
    ck_assert_int_eq(verify(der, len, "wrong", NULL), CERTROLE_E_BAD_PASSWORD);
    OPENSSL_free(der);
}
END_TEST

/* A new p12 of client + key + int CA with the given encryption iteration
 * count (certificates and key) and a MAC iteration count of 1. */
static int p12_with_enc_iter(int iter, int certs_encrypted, unsigned char **der)
{
    FILE *f = fopen(tu_pki("client.key"), "r");
    ck_assert_ptr_nonnull(f);
    EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    f = fopen(tu_pki("client.pem"), "r");
    ck_assert_ptr_nonnull(f);
    X509 *cert = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    f = fopen(tu_pki("int-ca.pem"), "r");
    ck_assert_ptr_nonnull(f);
    STACK_OF(X509) *ca = sk_X509_new_null();
    X509 *inter = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    ck_assert_ptr_nonnull(key);
    ck_assert_ptr_nonnull(cert);
    ck_assert(ca && inter && sk_X509_push(ca, inter));
    PKCS12 *p12 = PKCS12_create("secret", "client", key, cert, ca, NID_aes_256_cbc,
                                certs_encrypted ? NID_aes_256_cbc : -1, iter, 1, 0);
    ck_assert_ptr_nonnull(p12);
    *der = NULL;
    int len = i2d_PKCS12(p12, der);
    ck_assert_int_gt(len, 0);
    PKCS12_free(p12);
    sk_X509_pop_free(ca, X509_free);
    X509_free(cert);
    EVP_PKEY_free(key);
    return len;
}

START_TEST(p12_huge_encryption_iterations_refused)
{
    /* Encrypted certificate safe and shrouded key just past the limit;
     * then the key alone (certificates in clear). */
    unsigned char *der = NULL;
    char *msg = NULL;
    int len = p12_with_enc_iter((int)MAX_ITER + 1, 1, &der);
    ck_assert_int_eq(verify(der, len, "secret", &msg), CERTROLE_E_BAD_ENCODING);
    ck_assert_msg(strstr(msg, "encrypted safe") != NULL, "message: %s", msg);
    free(msg);
    OPENSSL_free(der);
    len = p12_with_enc_iter((int)MAX_ITER + 1, 0, &der);
    ck_assert_int_eq(verify(der, len, "secret", &msg), CERTROLE_E_BAD_ENCODING);
    ck_assert_msg(strstr(msg, "private key") != NULL, "message: %s", msg);
    free(msg);
    OPENSSL_free(der);
    /* Ordinary counts still work. */
    len = p12_with_enc_iter(2048, 1, &der);
    ck_assert_int_eq(verify(der, len, "secret", NULL), CERTROLE_OK);
    OPENSSL_free(der);
}
END_TEST

static Suite *fuzz_regress_suite(void)
{
    Suite *s = suite_create("fuzz_regress");
    TCase *tc = tcase_create("pkcs12_work");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, p12_huge_mac_iterations_refused);
    tcase_add_test(tc, p12_mac_iterations_at_limit);
    tcase_add_test(tc, p12_huge_encryption_iterations_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(fuzz_regress_suite());
}
