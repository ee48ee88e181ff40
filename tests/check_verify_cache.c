/* The verification cache (identical answers, bounded by notAfter and
 * the CRLs' nextUpdate) and many threads verifying on one context, with
 * and without the cache. */
#define _GNU_SOURCE
#include "verify_util.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* ----- cache ----------------------------------------------------------------------- */

START_TEST(cache_hit_identical)
{
    certrole_ctx *ctx = open_acme(NULL);
    char *p = tu_strf("trust ca-file=\"%s\" crl-file=\"%s\" crl-check=chain\n"
                      "option cache-ttl=60 cache-size=100\n",
                      tu_pki("ca-file.pem"), tu_pki("crl.pem"));
    certrole_close(ctx);
    ctx = open_policy(p);
    free(p);
    certrole_result *a = NULL, *b = NULL;
    ck_assert_int_eq(verify_files(ctx, &a, "client-chain.pem", NULL), CERTROLE_OK);
    ck_assert_int_eq(certrole_result_cached(a), 0);
    ck_assert_int_eq(verify_files(ctx, &b, "client-chain.pem", NULL), CERTROLE_OK);
    ck_assert_int_eq(certrole_result_cached(b), 1);
    ck_assert_str_eq(certrole_result_subject(a), certrole_result_subject(b));
    ck_assert_str_eq(certrole_result_issuer(a), certrole_result_issuer(b));
    ck_assert_str_eq(certrole_result_serial(a), certrole_result_serial(b));
    ck_assert_str_eq(certrole_result_fingerprint(a), certrole_result_fingerprint(b));
    ck_assert_str_eq(certrole_result_message(a), certrole_result_message(b));
    ck_assert_int_eq(certrole_result_depth(a), certrole_result_depth(b));
    ck_assert_int_eq(certrole_result_not_after(a), certrole_result_not_after(b));
    ck_assert_uint_eq(certrole_result_san_count(a), certrole_result_san_count(b));
    for (size_t i = 0; i < certrole_result_san_count(a); i++)
        ck_assert_str_eq(certrole_result_san(a, i, NULL), certrole_result_san(b, i, NULL));
    ck_assert_int_eq(X509_cmp(certrole_result_leaf(a), certrole_result_leaf(b)), 0);
    /* the results are independent copies */
    certrole_result_free(a);
    ck_assert_str_eq(certrole_result_subject(b), CLIENT_DN);
    certrole_result_free(b);

    /* a different chain (same leaf, intermediate missing) is a different key */
    verify_files(ctx, &a, "client.pem", NULL);
    assert_denied(a, CERTROLE_E_UNTRUSTED_ISSUER, NULL, NULL);
    ck_assert_int_eq(certrole_result_cached(a), 0);
    certrole_result_free(a);
    /* denials are not cached with deny-ttl unset */
    verify_files(ctx, &a, "revoked-chain.pem", NULL);
    verify_files(ctx, &b, "revoked-chain.pem", NULL);
    ck_assert_int_eq(certrole_result_code(b), CERTROLE_E_REVOKED);
    ck_assert_int_eq(certrole_result_cached(b), 0);
    certrole_result_free(a);
    certrole_result_free(b);
    certrole_close(ctx);

    /* with deny-ttl, a denial is served from the cache, same message */
    p = tu_strf("trust ca-file=\"%s\" crl-file=\"%s\" crl-check=chain\n"
                "option cache-ttl=60 deny-ttl=30\n", tu_pki("ca-file.pem"), tu_pki("crl.pem"));
    ctx = open_policy(p);
    free(p);
    verify_files(ctx, &a, "revoked-chain.pem", NULL);
    verify_files(ctx, &b, "revoked-chain.pem", NULL);
    ck_assert_int_eq(certrole_result_code(b), CERTROLE_E_REVOKED);
    ck_assert_int_eq(certrole_result_cached(b), 1);
    ck_assert_str_eq(certrole_result_message(a), certrole_result_message(b));
    ck_assert_str_eq(certrole_result_hint(a), certrole_result_hint(b));
    certrole_result_free(a);
    certrole_result_free(b);
    certrole_close(ctx);
}
END_TEST

/* Verifies file at a fixed validation time 'at' with the policy 'extra'
 * twice; returns the first code and whether the second came from cache. */
static certrole_code verify_twice_at(time_t at, const char *extra, const char *file,
                                     int *cached)
{
    char *p = tu_strf("trust ca-file=\"%s\" time=@%lld %s\noption cache-ttl=600 deny-ttl=0\n",
                      tu_pki("ca-file.pem"), (long long)at, extra);
    certrole_ctx *ctx = open_policy(p);
    free(p);
    certrole_result *a = NULL, *b = NULL;
    certrole_code rc = verify_files(ctx, &a, file, NULL);
    verify_files(ctx, &b, file, NULL);
    ck_assert_int_eq(certrole_result_code(b), rc);
    *cached = certrole_result_cached(b);
    certrole_result_free(a);
    certrole_result_free(b);
    certrole_close(ctx);
    return rc;
}

static time_t asn1_time(const ASN1_TIME *t)
{
    struct tm tm;
    ck_assert(ASN1_TIME_to_tm(t, &tm) == 1);
    return timegm(&tm);
}

START_TEST(cache_bounded_by_not_after_and_crl)
{
    int cached = -1;
    /* control: a chain valid now is cached */
    ck_assert_int_eq(verify_twice_at(time(NULL), "", "client-chain.pem", &cached), CERTROLE_OK);
    ck_assert_int_eq(cached, 1);

    /* expired.pem validated at a time inside its validity: allowed then, but
     * its notAfter is past, so the verdict may not be kept */
    X509 *x = load_one(tu_pki("expired.pem"));
    time_t na = asn1_time(X509_get0_notAfter(x));
    X509_free(x);
    certrole_code rc = verify_twice_at(na - 60, "", "expired-chain.pem", &cached);
    ck_assert_int_eq(cached, 0);   /* allowed (if the CAs were valid then) or denied: never cached */
    if (rc != CERTROLE_OK)
        fprintf(stderr, "note: expired-chain at notAfter-60 gave %s (CAs not valid then?)\n",
                certrole_code_name(rc));

    /* a CRL whose nextUpdate is past bounds the entry the same way */
    BIO *b = BIO_new_file(tu_pki("crl-expired.pem"), "r");
    ck_assert_ptr_nonnull(b);
    X509_CRL *crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
    BIO_free(b);
    ck_assert_ptr_nonnull(crl);
    time_t nu = asn1_time(X509_CRL_get0_nextUpdate(crl));
    X509_CRL_free(crl);
    char *extra = tu_strf("crl-file=\"%s\" crl-check=leaf", tu_pki("crl-expired.pem"));
    rc = verify_twice_at(nu - 60, extra, "client-chain.pem", &cached);
    free(extra);
    ck_assert_int_eq(cached, 0);
    if (rc != CERTROLE_OK)
        fprintf(stderr, "note: client-chain at CRL nextUpdate-60 gave %s\n",
                certrole_code_name(rc));
}
END_TEST

/* ----- threads --------------------------------------------------------------------- */

struct thr {
    certrole_ctx *ctx;
    X509 *good, *bad;
    STACK_OF(X509) *good_chain, *bad_chain;
    int errors;
};

static void *thr_main(void *arg)
{
    struct thr *t = arg;
    for (int i = 0; i < 200; i++) {
        certrole_result *r = NULL;
        int good = (i % 3) != 0;
        certrole_code rc = good ? certrole_verify_x509(t->ctx, t->good, t->good_chain, &r)
                                : certrole_verify_x509(t->ctx, t->bad, t->bad_chain, &r);
        if (good && (rc != CERTROLE_OK || !certrole_result_subject(r) ||
                     strcmp(certrole_result_subject(r), CLIENT_DN) != 0))
            t->errors++;
        if (!good && rc != CERTROLE_E_REVOKED)
            t->errors++;
        certrole_result_free(r);
    }
    return NULL;
}

static void run_threads(const char *extra)
{
    certrole_ctx *ctx = open_acme(extra);
    STACK_OF(X509) *g = load_pem(tu_pki("client-chain.pem"));
    STACK_OF(X509) *b = load_pem(tu_pki("revoked-chain.pem"));
    X509 *gl = sk_X509_shift(g), *bl = sk_X509_shift(b);
    enum { N = 8 };
    pthread_t th[N];
    struct thr t[N];
    for (int i = 0; i < N; i++) {
        t[i] = (struct thr){ ctx, gl, bl, g, b, 0 };
        ck_assert_int_eq(pthread_create(&th[i], NULL, thr_main, &t[i]), 0);
    }
    int errors = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        errors += t[i].errors;
    }
    ck_assert_int_eq(errors, 0);
    X509_free(gl);
    X509_free(bl);
    sk_X509_pop_free(g, X509_free);
    sk_X509_pop_free(b, X509_free);
    certrole_close(ctx);
}

START_TEST(many_threads_one_ctx)
{
    run_threads(NULL);
}
END_TEST

START_TEST(many_threads_with_cache)
{
    run_threads("\noption cache-ttl=60 deny-ttl=5 cache-size=64");
}
END_TEST

static Suite *verify_cache_suite(void)
{
    Suite *s = suite_create("verify_cache");
    TCase *cache = tcase_create("cache");
    tcase_add_test(cache, cache_hit_identical);
    tcase_add_test(cache, cache_bounded_by_not_after_and_crl);
    suite_add_tcase(s, cache);
    TCase *thr = tcase_create("threads");
    tcase_set_timeout(thr, 60);
    tcase_add_test(thr, many_threads_one_ctx);
    tcase_add_test(thr, many_threads_with_cache);
    suite_add_tcase(s, thr);
    return s;
}

int main(void)
{
    return tu_run_suite(verify_cache_suite());
}
