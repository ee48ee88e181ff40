/* The identity extracted from the leaf of a verified input: issuer,
 * serial and fingerprint as openssl reports them, the SANs in order and
 * the validity; and leaves whose names must be refused (two CNs, a NUL
 * byte in the CN or in a SAN), made with the OpenSSL API. The decoding
 * of the input itself is tested in check_input.c. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include "certrole.h"
#include "testutil.h"
#include "input_util.h"

START_TEST(identity_fields)
{
    size_t len;
    char *d = pki("client-chain.pem", &len);
    certrole_result *res = expect(d, len, CERTROLE_FORMAT_AUTO, NULL, CERTROLE_OK, NULL);
    ck_assert_str_eq(certrole_result_issuer(res), "CN=Acme Issuing CA,O=Acme Corp,C=US");

    /* Serial and fingerprint as openssl reports them. */
    char *out = NULL;
    char *cmd = tu_strf("'%s' x509 -in '%s' -noout -serial -fingerprint -sha256",
                        tu_env("OPENSSL", "openssl"), tu_pki("client.pem"));
    ck_assert_int_eq(tu_run(cmd, &out), 0);
    char *want_serial = tu_strf("serial=%s\n", certrole_result_serial(res));
    ck_assert_msg(strstr(out, want_serial) != NULL, "%s vs %s", out, want_serial);
    char fp[65] = "";
    const char *f = strstr(out, "Fingerprint=");
    ck_assert_ptr_nonnull(f);
    size_t k = 0;
    for (f += 12; *f && *f != '\n' && k < 64; f++)
        if (*f != ':')
            fp[k++] = (char)(*f >= 'A' && *f <= 'F' ? *f + 32 : *f);
    fp[k] = '\0';
    ck_assert_str_eq(certrole_result_fingerprint(res), fp);

    ck_assert_uint_eq(certrole_result_san_count(res), 4);
    certrole_san_type t;
    ck_assert_str_eq(certrole_result_san(res, 0, &t), "crm@acme.example");
    ck_assert_int_eq(t, CERTROLE_SAN_EMAIL);
    ck_assert_str_eq(certrole_result_san(res, 1, &t), "crm.acme.example");
    ck_assert_int_eq(t, CERTROLE_SAN_DNS);
    ck_assert_str_eq(certrole_result_san(res, 2, &t), "spiffe://acme.example/crm");
    ck_assert_int_eq(t, CERTROLE_SAN_URI);
    ck_assert_str_eq(certrole_result_san(res, 3, &t), "192.0.2.10");
    ck_assert_int_eq(t, CERTROLE_SAN_IP);
    ck_assert_ptr_null(certrole_result_san(res, 4, &t));
    ck_assert(certrole_result_not_before(res) == 1577836800);  /* 2020-01-01 */
    ck_assert(certrole_result_not_after(res) > certrole_result_not_before(res));
    free(want_serial);
    free(cmd);
    free(out);
    certrole_result_free(res);
    free(d);
}
END_TEST

/* A certificate issued by the test int CA with a crafted subject/SAN
 * (a NUL byte, two CNs): made with the OpenSSL API because the command
 * line cannot spell a NUL byte. Returns PEM of leaf + int. */
static char *crafted_chain(const char *cn1, size_t cn1len, const char *cn2,
                           const char *dns, size_t dnslen)
{
    FILE *f = fopen(tu_pki("int-ca.key"), "r");
    ck_assert_ptr_nonnull(f);
    EVP_PKEY *cakey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    f = fopen(tu_pki("int-ca.pem"), "r");
    ck_assert_ptr_nonnull(f);
    X509 *ca = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    ck_assert(cakey && ca);
    EVP_PKEY *key = EVP_EC_gen("P-256");
    ck_assert_ptr_nonnull(key);

    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 0x7e57);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"Acme Corp", -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn1, (int)cn1len, -1, 0);
    if (cn2)
        X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn2, -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(ca));
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 30);
    X509_set_pubkey(x, key);
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, ca, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, NID_ext_key_usage, "clientAuth");
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    e = X509V3_EXT_conf_nid(NULL, &v3, NID_authority_key_identifier, "keyid:always");
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    if (dns) {
        GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
        GENERAL_NAME *g = GENERAL_NAME_new();
        ASN1_IA5STRING *s = ASN1_IA5STRING_new();
        ASN1_STRING_set(s, dns, (int)dnslen);
        GENERAL_NAME_set0_value(g, GEN_DNS, s);
        sk_GENERAL_NAME_push(gens, g);
        X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, 0);
        GENERAL_NAMES_free(gens);
    }
    ck_assert(X509_sign(x, cakey, EVP_sha256()) > 0);

    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, x);
    PEM_write_bio_X509(b, ca);
    char *p;
    long n2 = BIO_get_mem_data(b, &p);
    char *text = strndup(p, (size_t)n2);
    BIO_free(b);
    X509_free(x);
    X509_free(ca);
    EVP_PKEY_free(key);
    EVP_PKEY_free(cakey);
    return text;
}

START_TEST(identity_two_cns_refused)
{
    char *pem = crafted_chain("alice", 5, "Admin", NULL, 0);
    certrole_result *res = expect(pem, strlen(pem), CERTROLE_FORMAT_AUTO, NULL,
                                  CERTROLE_E_BAD_NAME, "2 CN attributes");
    ck_assert(!certrole_result_allowed(res));
    certrole_result_free(res);
    free(pem);
}
END_TEST

START_TEST(identity_nul_in_cn_refused)
{
    char *pem = crafted_chain("alice\0admin", 11, NULL, NULL, 0);
    certrole_result *res = expect(pem, strlen(pem), CERTROLE_FORMAT_AUTO, NULL,
                                  CERTROLE_E_BAD_NAME, NULL);
    ck_assert_ptr_nonnull(strstr(certrole_result_message(res), "NUL"));
    certrole_result_free(res);
    free(pem);
}
END_TEST

START_TEST(identity_nul_in_san_refused)
{
    char *pem = crafted_chain("bob", 3, NULL, "good.example\0.evil.example", 26);
    certrole_result *res = expect(pem, strlen(pem), CERTROLE_FORMAT_AUTO, NULL,
                                  CERTROLE_E_BAD_NAME, "subjectAltName entry 1 (DNS) contains a NUL");
    ck_assert_str_eq(certrole_result_subject(res), "CN=bob,O=Acme Corp");
    certrole_result_free(res);
    free(pem);
}
END_TEST

static Suite *input_identity_suite(void)
{
    Suite *s = suite_create("input_identity");
    TCase *i = tcase_create("identity");
    tcase_add_checked_fixture(i, setup, teardown);
    tcase_set_timeout(i, 30);
    tcase_add_test(i, identity_fields);
    tcase_add_test(i, identity_two_cns_refused);
    tcase_add_test(i, identity_nul_in_cn_refused);
    tcase_add_test(i, identity_nul_in_san_refused);
    suite_add_tcase(s, i);
    return s;
}

int main(void)
{
    return tu_run_suite(input_identity_suite());
}
