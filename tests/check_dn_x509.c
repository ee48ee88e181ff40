/* DN canonical strings and matching keys of OpenSSL X509_NAMEs
 * (certrole_dn_from_x509, certrole_dn_key_from_x509): names built with
 * OpenSSL in each string type, names the string form cannot spell (a
 * NUL, bad UTF-8), the test PKI's client certificate, and a few
 * name-matching vectors from the conformance data. The string forms
 * themselves are tested in check_dn.c. */
#define _GNU_SOURCE
#include "certrole.h"
#include "testutil.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define CRM "CN=CRMApplication,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US"

/* The key of a DN string, which every X509_NAME key must agree with. */
static char *key(const char *dn)
{
    char *out = NULL, *err = NULL;
    certrole_code rc = certrole_dn_key(dn, &out, &err);
    ck_assert_msg(rc == CERTROLE_OK, "key(\"%s\") failed: %s", dn, err ? err : "?");
    ck_assert_ptr_nonnull(out);
    return out;
}

/* ---- X509_NAME ---------------------------------------------------------------- */

static void add(X509_NAME *n, const char *f, int type, const void *v, int len, int set)
{
    ck_assert_msg(X509_NAME_add_entry_by_txt(n, f, type, v, len, -1, set) == 1,
                  "cannot add %s to a name", f);
}

static char *x509_canon(const X509_NAME *n)
{
    char *out = NULL;
    ck_assert_int_eq(certrole_dn_from_x509(n, &out), CERTROLE_OK);
    ck_assert_ptr_nonnull(out);
    return out;
}

static char *x509_key(const X509_NAME *n)
{
    char *out = NULL;
    ck_assert_int_eq(certrole_dn_key_from_x509(n, &out), CERTROLE_OK);
    ck_assert_ptr_nonnull(out);
    return out;
}

/* Adds ASCII text as a value of the given ASN.1 string type (BMP: UCS-2). */
static void add_as(X509_NAME *n, const char *f, int type, const char *text)
{
    if (type != V_ASN1_BMPSTRING) {
        add(n, f, type, text, -1, 0);
        return;
    }
    unsigned char bmp[256];
    size_t l = strlen(text);
    ck_assert_uint_lt(2 * l, sizeof bmp);
    for (size_t i = 0; i < l; i++) {
        bmp[2 * i] = 0;
        bmp[2 * i + 1] = (unsigned char)text[i];
    }
    add(n, f, type, bmp, (int)(2 * l), 0);
}

/* The CRMApplication subject in DER order (C first), as mkpki.sh makes it. */
static X509_NAME *crm_name(int type, const char *cn)
{
    X509_NAME *n = X509_NAME_new();
    ck_assert_ptr_nonnull(n);
    add(n, "C", MBSTRING_ASC, "US", -1, 0);
    add_as(n, "ST", type, "CA");
    add_as(n, "L", type, "San Francisco");
    add_as(n, "O", type, "Acme Corp");
    add_as(n, "OU", type, "Sales");
    add_as(n, "CN", type, cn);
    return n;
}

START_TEST(test_x509_built)
{
    X509_NAME *n = crm_name(MBSTRING_UTF8, "CRMApplication");
    char *c = x509_canon(n), *k = x509_key(n), *ks = key(CRM);
    ck_assert_str_eq(c, CRM);
    ck_assert_str_eq(k, ks);
    char *kc = key(c);                      /* the string path agrees */
    ck_assert_str_eq(kc, k);
    free(kc);
    free(c);
    free(k);
    X509_NAME_free(n);

    /* Case and spaces differ, string types differ (Printable/BMP): equal. */
    n = crm_name(V_ASN1_PRINTABLESTRING, "  crmAPPLICATION ");
    k = x509_key(n);
    ck_assert_str_eq(k, ks);
    free(k);
    X509_NAME_free(n);
    n = crm_name(V_ASN1_BMPSTRING, "CRMApplication");
    k = x509_key(n);
    ck_assert_str_eq(k, ks);
    c = x509_canon(n);
    ck_assert_str_eq(c, CRM);
    free(c);
    free(k);
    X509_NAME_free(n);
    free(ks);

    /* T61String compares exactly (RFC 5280 §7.1 as the vectors expect),
     * so it is written in hex in both forms. */
    n = X509_NAME_new();
    add(n, "CN", V_ASN1_T61STRING, "Abc", -1, 0);
    c = x509_canon(n);
    k = x509_key(n);
    ck_assert_str_eq(c, "CN=#1403416263");
    ck_assert_str_eq(k, "2.5.4.3=#1403416263");
    char *kh = key("CN=#1403416263");
    ck_assert_str_eq(kh, k);
    free(kh);
    free(c);
    free(k);
    X509_NAME_free(n);

    /* Multi-valued RDN: a set, canonical sorted; the empty name. */
    n = X509_NAME_new();
    add(n, "O", MBSTRING_ASC, "x", -1, 0);
    add(n, "UID", MBSTRING_ASC, "b", -1, 0);
    add(n, "CN", MBSTRING_ASC, "a", -1, -1);   /* joins the previous RDN */
    c = x509_canon(n);
    ck_assert_str_eq(c, "CN=a+UID=b,O=x");
    k = x509_key(n);
    char *k2 = key("UID=B+CN=A,O=X");
    ck_assert_str_eq(k, k2);
    free(k2);
    free(c);
    free(k);
    X509_NAME_free(n);
    n = X509_NAME_new();
    c = x509_canon(n);
    ck_assert_str_eq(c, "");
    free(c);
    X509_NAME_free(n);

    /* Escapes, non-ASCII and unknown OIDs render like the string form. */
    n = X509_NAME_new();
    add(n, "1.2.3.4", MBSTRING_UTF8, "v", -1, 0);
    add(n, "CN", MBSTRING_UTF8, "#a, b+c ", -1, 0);
    add(n, "OU", MBSTRING_UTF8, "\xC3\x89" "cole", -1, 0);
    c = x509_canon(n);
    ck_assert_str_eq(c, "OU=\xC3\x89" "cole,CN=\\#a\\, b\\+c\\ ,1.2.3.4=v");
    k = x509_key(n);
    kc = key(c);
    ck_assert_str_eq(k, kc);
    ck_assert_str_eq(k, "2.5.4.11=\xC3\xA9" "cole,2.5.4.3=\\#a\\, b\\+c,1.2.3.4=v");
    free(kc);
    free(c);
    free(k);
    X509_NAME_free(n);
}
END_TEST

START_TEST(test_x509_bad)
{
    /* A NUL inside a value (OpenSSL stores the bytes as given). */
    X509_NAME *n = X509_NAME_new();
    add(n, "O", V_ASN1_UTF8STRING, "Acme", -1, 0);
    add(n, "CN", V_ASN1_UTF8STRING, "admin\0.evil", 11, 0);
    char *out = (char *)1;
    ck_assert_int_eq(certrole_dn_from_x509(n, &out), CERTROLE_E_BAD_NAME);
    ck_assert_ptr_null(out);
    out = (char *)1;
    ck_assert_int_eq(certrole_dn_key_from_x509(n, &out), CERTROLE_E_BAD_NAME);
    ck_assert_ptr_null(out);
    X509_NAME_free(n);

    n = X509_NAME_new();
    add(n, "CN", V_ASN1_UTF8STRING, "\xff\xfe", 2, 0);      /* not UTF-8 */
    ck_assert_int_eq(certrole_dn_key_from_x509(n, &out), CERTROLE_E_BAD_NAME);
    X509_NAME_free(n);
    n = X509_NAME_new();
    add(n, "CN", V_ASN1_BMPSTRING, "\0a\0\0", 4, 0);        /* NUL as BMP */
    ck_assert_int_eq(certrole_dn_key_from_x509(n, &out), CERTROLE_E_BAD_NAME);
    X509_NAME_free(n);
    ERR_clear_error();
}
END_TEST

/* The real client certificate of the test PKI. */
START_TEST(test_pki_client)
{
    char *pem = tu_read_file(tu_pki("client.pem"), NULL);
    ck_assert_msg(pem != NULL, "cannot read %s", tu_pki("client.pem"));
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    ck_assert_ptr_nonnull(x);
    char *c = x509_canon(X509_get_subject_name(x));
    ck_assert_str_eq(c, CRM);
    char *k = x509_key(X509_get_subject_name(x)), *ks = key("/C=US/ST=CA/L=San Francisco/"
                                                            "O=Acme Corp/OU=Sales/CN=crmapplication");
    ck_assert_str_eq(k, ks);
    char *ci = x509_canon(X509_get_issuer_name(x));
    ck_assert_str_eq(ci, "CN=Acme Issuing CA,O=Acme Corp,C=US");
    free(c);
    free(k);
    free(ks);
    free(ci);
    X509_free(x);
    BIO_free(b);
    free(pem);
}
END_TEST

/* ---- conformance vectors (a few; the full run is tests/conformance) ----------- */

static X509_NAME *vector_name(const char *file)
{
    char *path = tu_strf("%s/dn/names/%s", getenv("CERTROLE_CONFORMANCE"), file);
    char *text = tu_read_file(path, NULL);
    ck_assert_msg(text != NULL, "cannot read %s", path);
    free(path);
    BIO *b = BIO_new_mem_buf(text, -1);
    char *name = NULL, *header = NULL;
    unsigned char *der = NULL;
    long len = 0;
    X509_NAME *xn = NULL;
    if (PEM_read_bio(b, &name, &header, &der, &len) == 1) {
        const unsigned char *p = der;
        xn = d2i_X509_NAME(NULL, &p, len);
    }
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(der);
    BIO_free(b);
    free(text);
    ERR_clear_error();
    return xn;
}

static int vectors_match(const char *a, const char *b)
{
    X509_NAME *na = vector_name(a), *nb = vector_name(b);
    char *ka = NULL, *kb = NULL;
    int r = na && nb && certrole_dn_key_from_x509(na, &ka) == CERTROLE_OK &&
            certrole_dn_key_from_x509(nb, &kb) == CERTROLE_OK && !strcmp(ka, kb);
    free(ka);
    free(kb);
    X509_NAME_free(na);
    X509_NAME_free(nb);
    return r;
}

START_TEST(test_vectors)
{
    ck_assert(vectors_match("ascii-PRINTABLESTRING-unmangled.pem",
                            "ascii-PRINTABLESTRING-case_swap.pem"));
    ck_assert(vectors_match("ascii-UTF8-unmangled.pem", "ascii-UTF8-extra_whitespace.pem"));
    ck_assert(vectors_match("ascii-BMPSTRING-unmangled.pem", "ascii-UTF8-unmangled.pem"));
    ck_assert(vectors_match("unicode_bmp-UTF8-unmangled.pem",
                            "unicode_bmp-UNIVERSALSTRING-unmangled.pem"));
    ck_assert(vectors_match("ascii-PRINTABLESTRING-rdn_sorting_1.pem",
                            "ascii-PRINTABLESTRING-rdn_sorting_2.pem"));
    ck_assert(!vectors_match("ascii-T61STRING-unmangled.pem", "ascii-T61STRING-case_swap.pem"));
    ck_assert(!vectors_match("ascii-PRINTABLESTRING-unmangled.pem",
                             "ascii-T61STRING-unmangled.pem"));
    ck_assert(!vectors_match("ascii-PRINTABLESTRING-unmangled.pem",
                             "ascii-PRINTABLESTRING-unmangled-extra_rdn.pem"));
    ck_assert(!vectors_match("ascii-PRINTABLESTRING-unmangled.pem",
                             "ascii-PRINTABLESTRING-unmangled-dupe_attr.pem"));
    /* An empty RDN decodes in OpenSSL but is not a valid name. */
    X509_NAME *n = vector_name("invalid-RDN-empty.pem");
    if (n) {
        char *out = NULL;
        ck_assert_int_eq(certrole_dn_key_from_x509(n, &out), CERTROLE_E_BAD_NAME);
        X509_NAME_free(n);
    }
    ck_assert(!vectors_match("invalid-RDN-empty.pem", "invalid-RDN-empty.pem"));
}
END_TEST

static Suite *dn_x509_suite(void)
{
    Suite *s = suite_create("dn_x509");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_x509_built);
    tcase_add_test(tc, test_x509_bad);
    tcase_add_test(tc, test_pki_client);
    const char *conf = getenv("CERTROLE_CONFORMANCE");
    if (conf && *conf)
        tcase_add_test(tc, test_vectors);
    else
        printf("note: CERTROLE_CONFORMANCE not set, DN vectors not run\n");
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(dn_x509_suite());
}
