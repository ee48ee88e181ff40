/* Test helper for tests/tools/certmap-diff-test.sh: what certrole's
 * libsss_certmap wrapper makes of a certificate, and a certificate no
 * openssl command line can make.
 *
 *   certmap_eval filter MATCH MAP CERT.pem
 *       the LDAP filter the LDAP realm would search with (certmap-match=,
 *       certmap-map=): prints "filter: F" (exit 0), "no match" (exit 1) or
 *       "refused: why" (exit 2)
 *   certmap_eval nul-upn CA.pem CA.key OUT.pem
 *       a client certificate whose UPN otherName is the UTF8String
 *       "alice\0@evil.example", signed by the CA */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include "certmap_rule.h"

static X509 *read_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    return x;
}

static int filter(const char *match, const char *map, const char *pem)
{
    char err[1024];
    X509 *x = read_cert(pem);
    unsigned char *der = NULL;
    int len = x ? i2d_X509(x, &der) : -1;
    X509_free(x);
    if (len <= 0) {
        printf("refused: cannot read %s\n", pem);
        return 2;
    }
    cr_certmap *cm = cr_certmap_new(match, map, err, sizeof err);
    if (!cm) {
        OPENSSL_free(der);
        printf("refused: %s\n", err);
        return 2;
    }
    char *f = NULL;
    int rc = cr_certmap_filter(cm, der, (size_t)len, &f, err, sizeof err);
    if (rc == 1)
        printf("filter: %s\n", f);
    else if (rc == 0)
        printf("no match\n");
    else
        printf("refused: %s\n", err);
    free(f);
    cr_certmap_free(cm);
    OPENSSL_free(der);
    return rc == 1 ? 0 : rc == 0 ? 1 : 2;
}

/* subjectAltName with one UPN otherName holding value[0..len). */
static int add_upn(X509 *x, const char *value, int len)
{
    GENERAL_NAMES *gens = GENERAL_NAMES_new();
    GENERAL_NAME *g = GENERAL_NAME_new();
    ASN1_TYPE *t = ASN1_TYPE_new();
    ASN1_UTF8STRING *s = ASN1_UTF8STRING_new();
    ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.4.1.311.20.2.3", 1);
    int ok = gens && g && t && s && oid && ASN1_STRING_set(s, value, len);
    if (ok) {
        ASN1_TYPE_set(t, V_ASN1_UTF8STRING, s);
        s = NULL;
        ok = GENERAL_NAME_set0_othername(g, oid, t);
    }
    if (ok) {
        oid = NULL;
        t = NULL;
        ok = sk_GENERAL_NAME_push(gens, g) > 0;
    }
    if (ok) {
        g = NULL;
        ok = X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) == 1;
    }
    ASN1_OBJECT_free(oid);
    ASN1_STRING_free(s);
    ASN1_TYPE_free(t);
    GENERAL_NAME_free(g);
    GENERAL_NAMES_free(gens);
    return ok;
}

static int nul_upn(const char *ca_pem, const char *ca_key, const char *out)
{
    static const char upn[] = "alice\0@evil.example";
    X509 *ca = read_cert(ca_pem), *x = X509_new();
    FILE *f = fopen(ca_key, "r");
    EVP_PKEY *cakey = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL, *key = EVP_EC_gen("P-256");
    if (f)
        fclose(f);
    X509_NAME *n = X509_NAME_new();
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, ca, x, NULL, NULL, 0);
    X509_EXTENSION *eku = X509V3_EXT_conf_nid(NULL, &v3, NID_ext_key_usage, "clientAuth");
    int ok = ca && cakey && key && x && n && eku && X509_set_version(x, 2) &&
             ASN1_INTEGER_set(X509_get_serialNumber(x), 0x4e554c) &&
             X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
             X509_gmtime_adj(X509_getm_notAfter(x), 86400) &&
             X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)"Acme", -1, -1, 0) &&
             X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)"nul upn", -1, -1, 0) &&
             X509_set_subject_name(x, n) && X509_set_issuer_name(x, X509_get_subject_name(ca)) &&
             X509_set_pubkey(x, key) && X509_add_ext(x, eku, -1) &&
             add_upn(x, upn, (int)sizeof upn - 1) && X509_sign(x, cakey, EVP_sha256()) > 0;
    FILE *o = ok ? fopen(out, "w") : NULL;
    ok = o && PEM_write_X509(o, x);
    if (o)
        fclose(o);
    X509_EXTENSION_free(eku);
    X509_NAME_free(n);
    X509_free(x);
    X509_free(ca);
    EVP_PKEY_free(key);
    EVP_PKEY_free(cakey);
    if (!ok)
        fprintf(stderr, "certmap_eval: cannot make %s\n", out);
    return ok ? 0 : 2;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "filter") == 0)
        return filter(argv[2], argv[3], argv[4]);
    if (argc == 5 && strcmp(argv[1], "nul-upn") == 0)
        return nul_upn(argv[2], argv[3], argv[4]);
    fprintf(stderr, "usage: certmap_eval filter MATCH MAP CERT.pem\n"
                    "       certmap_eval nul-upn CA.pem CA.key OUT.pem\n");
    return 2;
}
