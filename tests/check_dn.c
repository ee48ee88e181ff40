/* DN strings (certrole_dn_canonical, certrole_dn_key, certrole_dn_equal):
 * spellings that must match, must not match, every built-in attribute
 * type, canonical strings and their round trip, hostile and huge input,
 * and keys computed by several threads at once. X509_NAMEs are tested
 * in check_dn_x509.c. */
#define _GNU_SOURCE
#include "certrole.h"
#include "testutil.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CRM "CN=CRMApplication,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US"

static char *canon(const char *dn)
{
    char *out = NULL, *err = NULL;
    certrole_code rc = certrole_dn_canonical(dn, &out, &err);
    ck_assert_msg(rc == CERTROLE_OK, "canonical(\"%s\") failed: %s", dn, err ? err : "?");
    ck_assert_ptr_null(err);
    ck_assert_ptr_nonnull(out);
    return out;
}

static char *key(const char *dn)
{
    char *out = NULL, *err = NULL;
    certrole_code rc = certrole_dn_key(dn, &out, &err);
    ck_assert_msg(rc == CERTROLE_OK, "key(\"%s\") failed: %s", dn, err ? err : "?");
    ck_assert_ptr_nonnull(out);
    return out;
}

/* ---- spellings ------------------------------------------------------------ */

static const char *const same_as_crm[] = {
    CRM,
    "CN=CRMApplication, OU=Sales, O=Acme Corp, L=San Francisco, ST=CA, C=US",
    "cn=crmapplication,ou=SALES,o=acme corp,l=SAN FRANCISCO,st=ca,c=us",
    "CN=CRMApplication , OU=Sales,O=Acme    Corp,L=San  Francisco,ST=CA,C=US",
    "CN=\\ CRMApplication\\ ,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US",
    "commonName=CRMApplication,organizationalUnitName=Sales,O=Acme Corp,L=San Francisco,"
    "stateOrProvinceName=CA,countryName=US",
    "2.5.4.3=CRMApplication,2.5.4.11=Sales,2.5.4.10=Acme Corp,2.5.4.7=San Francisco,"
    "2.5.4.8=CA,2.5.4.6=US",
    "OID.2.5.4.3=CRMApplication,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US",
    "/C=US/ST=CA/L=San Francisco/O=Acme Corp/OU=Sales/CN=CRMApplication",
    "  /C=US/ST=CA/L=San Francisco/O=Acme Corp/OU=Sales/CN=CRMApplication",
    "CN=#0C0E43524D4170706C69636174696F6E,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US",
    "CN=#130E43524D4170706C69636174696F6E,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US",
    "CN=\"CRMApplication\", OU=Sales, O=\"Acme Corp\", L=San Francisco, ST=CA, C=US",
    "CN=CRMApplication;OU=Sales;O=Acme Corp;L=San Francisco;ST=CA;C=US",
    "<CN=CRMApplication,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US>",
    "CN=\\43RMApplication,OU=Sales,O=Acme\\20Corp,L=San Francisco,S=CA,C=US",
};

START_TEST(test_equal_spellings)
{
    char *k0 = key(CRM);
    ck_assert_str_eq(k0, "2.5.4.3=crmapplication,2.5.4.11=sales,2.5.4.10=acme corp,"
                         "2.5.4.7=san francisco,2.5.4.8=ca,2.5.4.6=us");
    for (size_t i = 0; i < sizeof same_as_crm / sizeof same_as_crm[0]; i++) {
        char *k = key(same_as_crm[i]);
        ck_assert_msg(!strcmp(k, k0), "\"%s\" -> %s", same_as_crm[i], k);
        ck_assert_int_eq(certrole_dn_equal(CRM, same_as_crm[i]), 1);
        free(k);
    }
    free(k0);
}
END_TEST

static const char *const pairs_equal[][2] = {
    { "CN=a+UID=b,O=x", "UID=b+CN=a,O=x" },                    /* RDN is a set */
    { "CN=a+UID=b+OU=c", "OU=c+CN=a+UID=b" },
    { "E=crm@Acme.Example,CN=x", "emailAddress=CRM@acme.example,CN=x" },
    { "DC=Acme,DC=Example", "dc=acme,dc=example" },
    { "CN=ÉCOLE Ωmega Жук", "cn=école ωmega жук" },             /* simple Unicode folding */
    { "CN=a\tb", "CN=a b" },                                     /* white space -> space */
    { "CN=a  \\20 b", "CN=a b" },
    { "CN=John Smith\\2C III", "CN=John Smith\\, III" },
    { "CN=\\23x", "CN=\\#x" },
    { "", "" },
    { "SN=Doe,GN=John", "surname=doe,givenName=JOHN" },
    { "serialNumber=ABC123", "2.5.4.5=abc123" },
    { "1.2.3.4=x", "1.2.3.4=X" },
    { "/CN=a+UID=b/O=x", "O=x,UID=b+CN=a" },
};

static const char *const pairs_different[][2] = {
    { "CN=a,O=b", "O=b,CN=a" },                                  /* order matters */
    { "CN=a,O=b", "CN=a,O=b,C=US" },                             /* extra RDN */
    { "CN=a\\,O=Admin", "CN=a,O=Admin" },                        /* one CN, not two RDNs */
    { "CN=a+UID=b", "CN=a,UID=b" },                              /* one RDN vs two */
    { "CN=a+CN=a", "CN=a" },                                     /* duplicate AVA kept */
    { "CN=a", "OU=a" },
    { "CN=a b", "CN=ab" },
    { "CN=a\\01", "CN=a" },                                      /* controls stay */
    { "CN=#0403616263", "CN=abc" },                              /* OCTET STRING is not text */
    { "CN=#1403616263", "CN=abc" },                              /* T61: exact */
    { "E=a@b", "mail=a@b" },                                     /* different OIDs */
    { "CN=a", "" },
};

/* Every type with a built-in OID string in dn.c keys as its dotted OID
 * and prints as OpenSSL's short name. */
START_TEST(test_types)
{
    static const char *const t[][3] = {
        { "cn", "2.5.4.3", "CN" }, { "SN", "2.5.4.4", "SN" },
        { "serialnumber", "2.5.4.5", "serialNumber" }, { "c", "2.5.4.6", "C" },
        { "l", "2.5.4.7", "L" }, { "st", "2.5.4.8", "ST" }, { "STREET", "2.5.4.9", "street" },
        { "o", "2.5.4.10", "O" }, { "ou", "2.5.4.11", "OU" }, { "Title", "2.5.4.12", "title" },
        { "gn", "2.5.4.42", "GN" }, { "dc", "0.9.2342.19200300.100.1.25", "DC" },
        { "uid", "0.9.2342.19200300.100.1.1", "UID" },
        { "e", "1.2.840.113549.1.9.1", "emailAddress" },
        { "postalcode", "2.5.4.17", "postalCode" }, { "initials", "2.5.4.43", "initials" },
        { "pseudonym", "2.5.4.65", "pseudonym" }, { "mail", "0.9.2342.19200300.100.1.3", "mail" },
        { "organizationIdentifier", "2.5.4.97", "organizationIdentifier" },
        { "dnQualifier", "2.5.4.46", "dnQualifier" },
        { "1.3.6.1.4.1.311.60.2.1.3", "1.3.6.1.4.1.311.60.2.1.3", "jurisdictionC" },
        { "1.2.3.4.5", "1.2.3.4.5", "1.2.3.4.5" },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char *dn = tu_strf("%s=v", t[i][0]), *want_k = tu_strf("%s=v", t[i][1]);
        char *want_c = tu_strf("%s=v", t[i][2]);
        char *k = key(dn), *c = canon(dn);
        ck_assert_str_eq(k, want_k);
        ck_assert_str_eq(c, want_c);
        char *c2 = canon(want_k);
        ck_assert_str_eq(c2, want_c);    /* the dotted form names the same type */
        free(dn), free(want_k), free(want_c), free(k), free(c), free(c2);
    }
}
END_TEST

START_TEST(test_pairs)
{
    for (size_t i = 0; i < sizeof pairs_equal / sizeof pairs_equal[0]; i++)
        ck_assert_msg(certrole_dn_equal(pairs_equal[i][0], pairs_equal[i][1]) == 1,
                      "\"%s\" should equal \"%s\"", pairs_equal[i][0], pairs_equal[i][1]);
    for (size_t i = 0; i < sizeof pairs_different / sizeof pairs_different[0]; i++)
        ck_assert_msg(certrole_dn_equal(pairs_different[i][0], pairs_different[i][1]) == 0,
                      "\"%s\" should differ from \"%s\"", pairs_different[i][0],
                      pairs_different[i][1]);
    ck_assert_int_eq(certrole_dn_equal("CN=a", "foo=bar"), -1);
    ck_assert_int_eq(certrole_dn_equal(NULL, "CN=a"), -1);
}
END_TEST

/* ---- canonical strings ------------------------------------------------------ */

static const char *const canon_cases[][2] = {
    { CRM, CRM },
    { "cn=CRMApplication, ou=Sales, o=Acme Corp, l=San Francisco, st=CA, c=US", CRM },
    { "/C=US/ST=CA/L=San Francisco/O=Acme Corp/OU=Sales/CN=CRMApplication", CRM },
    { "UID=b+CN=a,DC=example,DC=net", "CN=a+UID=b,DC=example,DC=net" },
    { "CN=John Smith\\2C III,O=x", "CN=John Smith\\, III,O=x" },
    { "CN=\\23John Smith\\20", "CN=\\#John Smith\\ " },
    { "CN=\" a;b \"", "CN=\\ a\\;b\\ " },
    { "CN=x\\0dy", "CN=x\\0Dy" },
    { "CN=Lu\\C4\\8Di\\C4\\87", "CN=Lu\xC4\x8D" "i\xC4\x87" },
    { "CN=a\\<b\\>c\\\"d\\\\e\\+f\\=g", "CN=a\\<b\\>c\\\"d\\\\e\\+f=g" },
    { "E=x@y,serialNumber=1,SN=Doe,GN=Jo,title=Dr,street=Main,postalCode=9",
      "emailAddress=x@y,serialNumber=1,SN=Doe,GN=Jo,title=Dr,street=Main,postalCode=9" },
    { "1.2.3.4=x,2.5.4.3=y", "1.2.3.4=x,CN=y" },
    { "CN=#0C03616263", "CN=abc" },
    { "CN=#0403616263", "CN=#0403616263" },
    { "CN=#1403616263", "CN=#1403616263" },                     /* T61String */
    { "/CN=a\\/b/O=c", "O=c,CN=a/b" },
    { "/CN=a/", "CN=a/" },
    { "/CN=www.example.com/emailAddress=a@b", "emailAddress=a@b,CN=www.example.com" },
    { "/CN=a/b", "CN=a/b" },
    { "", "" },
};

START_TEST(test_canonical)
{
    for (size_t i = 0; i < sizeof canon_cases / sizeof canon_cases[0]; i++) {
        char *c = canon(canon_cases[i][0]);
        ck_assert_msg(!strcmp(c, canon_cases[i][1]), "canonical(\"%s\") = \"%s\", want \"%s\"",
                      canon_cases[i][0], c, canon_cases[i][1]);
        free(c);
    }
}
END_TEST

/* parse -> canonical -> parse -> canonical is stable, and the key of the
 * canonical string is the key of the original. */
START_TEST(test_round_trip)
{
    const char *const inputs[] = {
        CRM, "CN=\\ a \\#b\\ ", "CN=a\\,O=Admin", "CN=x\\0Ay\\7F", "OU=Sales\\; Data\\+Algorithms",
        "CN=#0403616263", "CN=Lu\\C4\\8Di\\C4\\87+UID=x", "1.3.6.1.4.1.1466.0=#04024869",
        "CN=a\\\"b<c>", "CN=\\#", "CN=", "CN=x=y", "/C=US/O=Acme, Inc./CN=a+UID=b",
    };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        char *c1 = canon(inputs[i]);
        char *c2 = canon(c1);
        ck_assert_msg(!strcmp(c1, c2), "\"%s\": \"%s\" then \"%s\"", inputs[i], c1, c2);
        char *k1 = key(inputs[i]), *k2 = key(c1);
        ck_assert_str_eq(k1, k2);
        free(c1);
        free(c2);
        free(k1);
        free(k2);
    }
}
END_TEST

/* ---- hostile input ------------------------------------------------------------ */

static void expect_bad(const char *dn, const char *msg_part)
{
    char *out = (char *)1, *err = NULL;
    certrole_code rc = certrole_dn_canonical(dn, &out, &err);
    ck_assert_msg(rc == CERTROLE_E_BAD_NAME, "\"%.60s\" accepted (%d)", dn, rc);
    ck_assert_ptr_null(out);
    ck_assert_ptr_nonnull(err);
    if (msg_part)
        ck_assert_msg(strstr(err, msg_part), "message for \"%.60s\": %s", dn, err);
    free(err);
    char *k = (char *)1;
    ck_assert_int_eq(certrole_dn_key(dn, &k, NULL), CERTROLE_E_BAD_NAME);
    ck_assert_ptr_null(k);
}

START_TEST(test_hostile)
{
    expect_bad("CN=a\\00b", "NUL");
    expect_bad("CN=a\\00", "NUL");
    expect_bad("CN=#0C03610062", "NUL");              /* NUL inside a hex UTF8String */
    expect_bad("CN=\\ff", "UTF-8");
    expect_bad("CN=\\c3", "UTF-8");
    expect_bad("CN=\\ed\\a0\\80", "UTF-8");           /* surrogate */
    expect_bad("CN=\\c0\\af", "UTF-8");               /* overlong '/' */
    expect_bad("CN=a\\", NULL);                       /* unterminated escape */
    expect_bad("CN=a\\4", NULL);
    expect_bad("CN=a\\?b", "escape");
    expect_bad("=", NULL);
    expect_bad("=a", NULL);
    expect_bad("CN", NULL);
    expect_bad("   ", NULL);
    expect_bad("foo=bar", "unknown attribute type 'foo'");
    expect_bad("uid;x-option=jsmith", "option");
    expect_bad("CN=a,", "separator");
    expect_bad("CN=a,,O=b", NULL);
    expect_bad("CN=a+", NULL);
    expect_bad("CN=a,O=b,garbage", NULL);
    expect_bad("CN=#", NULL);
    expect_bad("CN=#0", NULL);
    expect_bad("CN=#0403616263FF", "BER");            /* trailing bytes */
    expect_bad("CN=#0405616263", "BER");              /* short */
    expect_bad("01.1=x", "OID");
    expect_bad("1..1=x", NULL);
    expect_bad("<CN=a", NULL);
    expect_bad("/", NULL);
    expect_bad("//CN=a", NULL);
    expect_bad("/CN=a\\", NULL);
    expect_bad("/garbage", NULL);
    expect_bad("\x01\x02\x03", NULL);
    expect_bad("CN=\"unterminated", NULL);

    char *out = NULL;
    ck_assert_int_eq(certrole_dn_canonical(NULL, &out, NULL), CERTROLE_E_INVALID_ARGUMENT);
    ck_assert_int_eq(certrole_dn_canonical("CN=a", NULL, NULL), CERTROLE_E_INVALID_ARGUMENT);
    ck_assert_int_eq(certrole_dn_key(NULL, &out, NULL), CERTROLE_E_INVALID_ARGUMENT);
    ck_assert_int_eq(certrole_dn_from_x509(NULL, &out), CERTROLE_E_INVALID_ARGUMENT);
    ck_assert_int_eq(certrole_dn_key_from_x509(NULL, &out), CERTROLE_E_INVALID_ARGUMENT);
}
END_TEST

/* Long and deep inputs: parse or refuse, never crash, never truncate. */
START_TEST(test_huge)
{
    size_t n = 100 * 1024;
    char *s = malloc(n + 16);
    ck_assert_ptr_nonnull(s);

    memcpy(s, "CN=", 3);                  /* one 100 KB value */
    memset(s + 3, 'A', n);
    s[n + 3] = '\0';
    char *k = key(s);
    ck_assert_uint_eq(strlen(k), strlen("2.5.4.3=") + n);
    ck_assert_int_eq(k[8], 'a');
    free(k);

    for (size_t i = 0; i + 5 <= n; i += 5)   /* ~20000 RDNs "CN=a," */
        memcpy(s + i, "CN=a,", 5);
    memcpy(s + n - n % 5 - 1, "\0", 1);      /* drop the last ',' */
    char *c = canon(s);
    ck_assert_str_eq(c, s);
    free(c);
    for (size_t i = 0; i + 5 <= n; i += 5)   /* one RDN of ~20000 AVAs */
        memcpy(s + i, i % 10 ? "OU=b+" : "CN=a+", 5);
    s[n - 1] = '\0';
    c = canon(s);
    ck_assert_uint_eq(strlen(c), strlen(s));
    ck_assert(!strncmp(c, "CN=a+CN=a+", 10));
    free(c);

    memset(s, '\\', n);                   /* garbage */
    s[n] = '\0';
    expect_bad(s, NULL);
    memset(s, ',', n);
    expect_bad(s, NULL);
    memset(s, '=', n);
    expect_bad(s, NULL);
    memset(s, '/', n);
    expect_bad(s, NULL);
    memset(s, '+', n);
    expect_bad(s, NULL);
    free(s);
}
END_TEST

/* ---- threads ---------------------------------------------------------------- */

static void *worker(void *arg)
{
    const char *want = arg;
    for (int i = 0; i < 2000; i++) {
        char *k = NULL;
        if (certrole_dn_key(same_as_crm[i % (sizeof same_as_crm / sizeof same_as_crm[0])], &k,
                            NULL) != CERTROLE_OK || strcmp(k, want)) {
            free(k);
            return (void *)1;
        }
        free(k);
    }
    return NULL;
}

START_TEST(test_threads)
{
    char *want = key(CRM);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, worker, want), 0);
    for (int i = 0; i < 4; i++) {
        void *r = (void *)1;
        pthread_join(t[i], &r);
        ck_assert_ptr_null(r);
    }
    free(want);
}
END_TEST

static Suite *dn_suite(void)
{
    Suite *s = suite_create("dn");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_equal_spellings);
    tcase_add_test(tc, test_types);
    tcase_add_test(tc, test_pairs);
    tcase_add_test(tc, test_canonical);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_hostile);
    tcase_add_test(tc, test_huge);
    tcase_add_test(tc, test_threads);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(dn_suite());
}
