/* CRLs made at test time (header-only): the issuing CA of the test PKI
 * signs a CRL revoking one certificate of it, or none. */
#ifndef CERTROLE_CRL_UTIL_H
#define CERTROLE_CRL_UTIL_H
#include <stdio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "testutil.h"

static X509 *cu_read_cert(const char *name)
{
    FILE *f = fopen(tu_pki(name), "r");
    ck_assert_msg(f != NULL, "%s missing", name);
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    ck_assert_ptr_nonnull(x);
    return x;
}

/* PEM of a CRL of int-ca (valid from an hour ago for a week) listing the
 * serial of the certificate in the PKI file victim (NULL: none), and
 * extra made-up serials (a big CRL, slow to parse). */
static __attribute__((unused)) char *cu_int_crl_pem_n(const char *victim, int extra)
{
    X509 *ca = cu_read_cert("int-ca.pem");
    FILE *f = fopen(tu_pki("int-ca.key"), "r");
    ck_assert_ptr_nonnull(f);
    EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    ck_assert_ptr_nonnull(key);
    X509_CRL *crl = X509_CRL_new();
    ck_assert_ptr_nonnull(crl);
    ck_assert_int_eq(X509_CRL_set_version(crl, 1), 1);
    ck_assert_int_eq(X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)), 1);
    ASN1_TIME *t = X509_gmtime_adj(NULL, -3600);
    ck_assert_int_eq(X509_CRL_set1_lastUpdate(crl, t), 1);
    if (victim) {
        X509 *v = cu_read_cert(victim);
        X509_REVOKED *r = X509_REVOKED_new();
        ck_assert_ptr_nonnull(r);
        ck_assert_int_eq(X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(v)), 1);
        ck_assert_int_eq(X509_REVOKED_set_revocationDate(r, t), 1);
        ck_assert_int_eq(X509_CRL_add0_revoked(crl, r), 1);
        X509_free(v);
    }
    for (int i = 0; i < extra; i++) {
        X509_REVOKED *r = X509_REVOKED_new();
        ASN1_INTEGER *sn = ASN1_INTEGER_new();
        ck_assert(r && sn && ASN1_INTEGER_set(sn, 1000000L + i) == 1);
        ck_assert_int_eq(X509_REVOKED_set_serialNumber(r, sn), 1);
        ck_assert_int_eq(X509_REVOKED_set_revocationDate(r, t), 1);
        ck_assert_int_eq(X509_CRL_add0_revoked(crl, r), 1);
        ASN1_INTEGER_free(sn);
    }
    ck_assert_ptr_nonnull(X509_gmtime_adj(t, 7 * 86400));
    ck_assert_int_eq(X509_CRL_set1_nextUpdate(crl, t), 1);
    ASN1_TIME_free(t);
    ck_assert_int_gt(X509_CRL_sign(crl, key, EVP_sha256()), 0);
    BIO *b = BIO_new(BIO_s_mem());
    ck_assert_int_eq(PEM_write_bio_X509_CRL(b, crl), 1);
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    char *out = tu_strf("%.*s", (int)n, data);
    BIO_free(b);
    X509_CRL_free(crl);
    EVP_PKEY_free(key);
    X509_free(ca);
    return out;
}

static __attribute__((unused)) char *cu_int_crl_pem(const char *victim)
{
    return cu_int_crl_pem_n(victim, 0);
}
#endif
