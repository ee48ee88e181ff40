/* Input decoding through the public API: every format of the test PKI,
 * sniffing, leaf selection in bundles, and each kind of damaged input
 * with its code and a message that says what is wrong. The identity
 * extracted from the leaf is tested in check_input_identity.c. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "certrole.h"
#include "testutil.h"
#include "input_util.h"

#define CLIENT_DN "CN=CRMApplication,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US"

static void expect_file(const char *name, certrole_format fmt, const char *pw,
                        certrole_code want, const char *fragment)
{
    size_t len;
    char *d = pki(name, &len);
    certrole_result *res = expect(d, len, fmt, pw, want, fragment);
    if (want == CERTROLE_OK || want == CERTROLE_E_UNTRUSTED_ISSUER)
        ck_assert_str_eq(certrole_result_subject(res), CLIENT_DN);
    certrole_result_free(res);
    free(d);
}

/* Runs an openssl command in a scratch dir and returns the file it made. */
static char *openssl_make(const char *dir, const char *args, const char *outname, size_t *len)
{
    char *cmd = tu_strf("cd '%s' && '%s' %s", dir, tu_env("OPENSSL", "openssl"), args);
    char *out = NULL;
    int st = tu_run(cmd, &out);
    ck_assert_msg(st == 0, "%s failed: %s", cmd, out ? out : "");
    free(out);
    free(cmd);
    char *path = tu_strf("%s/%s", dir, outname);
    char *d = tu_read_file(path, len);
    ck_assert_ptr_nonnull(d);
    free(path);
    return d;
}

/* ----- every format -------------------------------------------------- */

START_TEST(pem_chain_ok)
{
    expect_file("client-chain.pem", CERTROLE_FORMAT_AUTO, NULL, CERTROLE_OK, NULL);
    expect_file("client-chain.pem", CERTROLE_FORMAT_PEM, NULL, CERTROLE_OK, NULL);
}
END_TEST

START_TEST(pem_api_ok)
{
    size_t len;
    char *d = pki("client-chain.pem", &len);
    certrole_result *res = NULL;
    ck_assert_int_eq(certrole_verify_pem(ctx, d, len, &res), CERTROLE_OK);
    ck_assert_int_eq(certrole_result_depth(res), 3);
    certrole_result_free(res);
    free(d);
}
END_TEST

START_TEST(pem_leaf_alone_decodes)
{
    /* Decodes fine; the chain then lacks the intermediate. */
    expect_file("client.pem", CERTROLE_FORMAT_AUTO, NULL, CERTROLE_E_UNTRUSTED_ISSUER, NULL);
}
END_TEST

START_TEST(der_leaf_decodes)
{
    expect_file("client.der", CERTROLE_FORMAT_AUTO, NULL, CERTROLE_E_UNTRUSTED_ISSUER, NULL);
    expect_file("client.der", CERTROLE_FORMAT_DER, NULL, CERTROLE_E_UNTRUSTED_ISSUER, NULL);
}
END_TEST

START_TEST(der_concatenated_chain_ok)
{
    char *dir = tu_mkdtemp("input");
    size_t l1, l2;
    char *leaf = pki("client.der", &l1);
    char *args = tu_strf("x509 -in '%s' -outform DER -out int.der", tu_pki("int-ca.pem"));
    char *intd = openssl_make(dir, args, "int.der", &l2);
    free(args);
    char *both = malloc(l1 + l2);
    memcpy(both, leaf, l1);
    memcpy(both + l1, intd, l2);
    certrole_result_free(expect(both, l1 + l2, CERTROLE_FORMAT_AUTO, NULL, CERTROLE_OK, NULL));
    free(both);
    free(leaf);
    free(intd);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(p7b_der_ok)
{
    expect_file("client-chain.p7b", CERTROLE_FORMAT_AUTO, NULL, CERTROLE_OK, NULL);
    expect_file("client-chain.p7b", CERTROLE_FORMAT_PKCS7, NULL, CERTROLE_OK, NULL);
}
END_TEST

START_TEST(p7b_pem_intermediate_first_ok)
{
    char *dir = tu_mkdtemp("input");
    size_t len;
    /* Intermediate first: the leaf must be found by issuance, not order. */
    char *args = tu_strf("crl2pkcs7 -nocrl -certfile '%s' -certfile '%s' -out b.p7b",
                         tu_pki("int-ca.pem"), tu_pki("client.pem"));
    char *d = openssl_make(dir, args, "b.p7b", &len);
    ck_assert_ptr_nonnull(strstr(d, "-----BEGIN PKCS7-----"));
    expect_file("client-chain.p7b", CERTROLE_FORMAT_AUTO, NULL, CERTROLE_OK, NULL);
    certrole_result *res = expect(d, len, CERTROLE_FORMAT_AUTO, NULL, CERTROLE_OK, NULL);
    ck_assert_str_eq(certrole_result_subject(res), CLIENT_DN);
    certrole_result_free(res);
    free(d);
    free(args);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(p7b_two_leaves_refused)
{
    char *dir = tu_mkdtemp("input");
    size_t len;
    char *args = tu_strf("crl2pkcs7 -nocrl -certfile '%s' -certfile '%s' -certfile '%s' "
                         "-outform DER -out b.p7b", tu_pki("client.pem"),
                         tu_pki("norole.pem"), tu_pki("int-ca.pem"));
    char *d = openssl_make(dir, args, "b.p7b", &len);
    certrole_result_free(expect(d, len, CERTROLE_FORMAT_AUTO, NULL, CERTROLE_E_CHAIN_ORDER,
                                "cannot tell which is the peer"));
    free(d);
    free(args);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(p12_ok)
{
    expect_file("client.p12", CERTROLE_FORMAT_AUTO, "secret", CERTROLE_OK, NULL);
    expect_file("client.p12", CERTROLE_FORMAT_PKCS12, "secret", CERTROLE_OK, NULL);
}
END_TEST

START_TEST(p12_wrong_password)
{
    expect_file("client.p12", CERTROLE_FORMAT_AUTO, "Secret", CERTROLE_E_BAD_PASSWORD,
                "wrong password");
    expect_file("client.p12", CERTROLE_FORMAT_PKCS12, NULL, CERTROLE_E_BAD_PASSWORD,
                "no password was given");
}
END_TEST

START_TEST(p12_without_key_finds_leaf)
{
    char *dir = tu_mkdtemp("input");
    size_t len;
    /* Intermediate first, no key: the leaf is the one that issues nothing. */
    char *args = tu_strf("pkcs12 -export -nokeys -in '%s' -certfile '%s' -passout pass:pw "
                         "-out n.p12", tu_pki("int-ca.pem"), tu_pki("client.pem"));
    char *d = openssl_make(dir, args, "n.p12", &len);
    certrole_result *res = expect(d, len, CERTROLE_FORMAT_AUTO, "pw", CERTROLE_OK, NULL);
    ck_assert_str_eq(certrole_result_subject(res), CLIENT_DN);
    certrole_result_free(res);
    free(d);
    free(args);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(p12_damaged)
{
    size_t len;
    char *d = pki("client.p12", &len);
    /* Cut in the middle: the outer structure no longer decodes. */
    certrole_result_free(expect(d, len / 2, CERTROLE_FORMAT_PKCS12, "secret",
                                CERTROLE_E_BAD_ENCODING, "PKCS#12: damaged"));
    free(d);
}
END_TEST

START_TEST(ec_chain_ok)
{
    char *err = NULL;
    certrole_ctx *ec = NULL;
    char *pol = tu_strf("trust ca-file=\"%s\"\n", tu_pki("ec/root-ca.pem"));
    ck_assert_int_eq(certrole_open_string(&ec, pol, NULL, &err), CERTROLE_OK);
    size_t len;
    char *d = pki("ec/deep-chain.pem", &len);
    certrole_result *res = NULL;
    ck_assert_int_eq(certrole_verify_data(ec, d, len, CERTROLE_FORMAT_AUTO, NULL, &res),
                     CERTROLE_OK);
    ck_assert_int_eq(certrole_result_depth(res), 4);
    certrole_result_free(res);
    certrole_close(ec);
    free(d);
    free(pol);
}
END_TEST

START_TEST(intermediates_any_order)
{
    size_t l1, l2, l3;
    char *leaf = pki("deep.pem", &l1), *i1 = pki("int-ca.pem", &l2), *i2 = pki("int2-ca.pem", &l3);
    char *text = tu_strf("%s%s%s", leaf, i1, i2); /* int before int2: reversed */
    certrole_result *res = expect(text, strlen(text), CERTROLE_FORMAT_PEM, NULL, CERTROLE_OK, NULL);
    ck_assert_int_eq(certrole_result_depth(res), 4);
    certrole_result_free(res);
    free(text);
    free(leaf);
    free(i1);
    free(i2);
}
END_TEST

START_TEST(pem_with_key_and_text_around)
{
    size_t l1, l2, l3;
    char *key = pki("client.key", &l1), *c = pki("client.pem", &l2), *i = pki("int-ca.pem", &l3);
    char *text = tu_strf("Bag Attributes: friendlyName CRM\n%s%s\nsome comment\n%s", key, c, i);
    certrole_result_free(expect(text, strlen(text), CERTROLE_FORMAT_AUTO, NULL, CERTROLE_OK, NULL));
    free(text);
    free(key);
    free(c);
    free(i);
}
END_TEST

/* ----- damaged input --------------------------------------------------- */

START_TEST(empty_input)
{
    certrole_result_free(expect("", 0, CERTROLE_FORMAT_AUTO, NULL,
                                CERTROLE_E_NO_CERTIFICATE, "empty"));
    certrole_result_free(expect(" \r\n\n", 4, CERTROLE_FORMAT_AUTO, NULL,
                                CERTROLE_E_NO_CERTIFICATE, "empty"));
    certrole_result_free(expect(NULL, 0, CERTROLE_FORMAT_AUTO, NULL,
                                CERTROLE_E_NO_CERTIFICATE, NULL));
}
END_TEST

START_TEST(pem_without_certificate)
{
    size_t len;
    char *d = pki("client.key", &len);
    certrole_result *res = expect(d, len, CERTROLE_FORMAT_AUTO, NULL,
                                  CERTROLE_E_NO_CERTIFICATE, "PRIVATE KEY");
    ck_assert_ptr_null(certrole_result_subject(res));
    certrole_result_free(res);
    free(d);
}
END_TEST

START_TEST(pem_truncated)
{
    size_t len;
    char *d = pki("client.pem", &len);
    certrole_result_free(expect(d, len / 2, CERTROLE_FORMAT_AUTO, NULL,
                                CERTROLE_E_BAD_ENCODING, "PEM block 1"));
    /* Without the END line only. */
    char *end = strstr(d, "-----END");
    ck_assert_ptr_nonnull(end);
    certrole_result *res = expect(d, (size_t)(end - d), CERTROLE_FORMAT_PEM, NULL,
                                  CERTROLE_E_BAD_ENCODING, "PEM block 1: armour broken");
    certrole_result_free(res);
    free(d);
}
END_TEST

START_TEST(pem_bad_base64_block2)
{
    size_t len;
    char *d = pki("client-chain.pem", &len);
    char *second = strstr(strstr(d, "-----END") + 8, "-----BEGIN CERTIFICATE-----\n");
    ck_assert_ptr_nonnull(second);
    second[28 + 10] = '*';   /* not a base64 character */
    certrole_result_free(expect(d, len, CERTROLE_FORMAT_AUTO, NULL,
                                CERTROLE_E_BAD_ENCODING, "PEM block 2: base64 damaged"));
    free(d);
}
END_TEST

START_TEST(pem_body_not_certificate)
{
    size_t len;
    char *d = pki("client.pem", &len);
    /* Valid base64 whose DER is cut: the certificate inside is truncated. */
    char *body = strchr(d, '\n') + 1;
    char *end = strstr(d, "-----END");
    char *cut = body + ((end - body) / 2 / 65) * 65; /* whole lines only */
    char *text = tu_strf("-----BEGIN CERTIFICATE-----\n%.*s-----END CERTIFICATE-----\n",
                         (int)(cut - body), body);
    certrole_result_free(expect(text, strlen(text), CERTROLE_FORMAT_AUTO, NULL,
                                CERTROLE_E_BAD_ENCODING, "PEM block 1: DER: length error"));
    free(text);
    free(d);
}
END_TEST

START_TEST(der_garbage)
{
    size_t len;
    char *d = pki("client.der", &len);
    d[0] = 0x31; /* SET instead of SEQUENCE */
    certrole_result_free(expect(d, len, CERTROLE_FORMAT_DER, NULL, CERTROLE_E_BAD_ENCODING,
                                "DER: not a certificate (tag 0x31 at offset 0"));
    d[0] = 0x30;
    d[4] = 0x02; /* tbsCertificate is no longer a SEQUENCE */
    certrole_result_free(expect(d, len, CERTROLE_FORMAT_AUTO, NULL, CERTROLE_E_BAD_ENCODING,
                                "DER: not a certificate (tag 0x02 at offset 4"));
    d[4] = 0x30;
    certrole_result_free(expect(d, len - 10, CERTROLE_FORMAT_AUTO, NULL,
                                CERTROLE_E_BAD_ENCODING, "DER: length error at offset 0"));
    free(d);
}
END_TEST

START_TEST(der_trailing_garbage)
{
    size_t len;
    char *d = pki("client.der", &len);
    char *more = malloc(len + 3);
    memcpy(more, d, len);
    memcpy(more + len, "\x04\x7f\x00", 3);
    char *frag = tu_strf("DER: not a certificate (tag 0x04 at offset %zu", len);
    certrole_result_free(expect(more, len + 3, CERTROLE_FORMAT_AUTO, NULL,
                                CERTROLE_E_BAD_ENCODING, frag));
    free(frag);
    free(more);
    free(d);
}
END_TEST

START_TEST(random_bytes)
{
    unsigned char buf[700];
    unsigned x = 12345;
    for (size_t i = 0; i < sizeof buf; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (unsigned char)(x >> 16);
    }
    buf[0] = 0x9c;
    certrole_result_free(expect(buf, sizeof buf, CERTROLE_FORMAT_AUTO, NULL,
                                CERTROLE_E_BAD_ENCODING, "unrecognised format"));
    buf[0] = 0x30; /* looks like DER at first */
    certrole_result_free(expect(buf, sizeof buf, CERTROLE_FORMAT_AUTO, NULL,
                                CERTROLE_E_BAD_ENCODING, "DER: "));
    const char *text = "hello, this is not a certificate\n";
    certrole_result_free(expect(text, strlen(text), CERTROLE_FORMAT_AUTO, NULL,
                                CERTROLE_E_BAD_ENCODING, "no -----BEGIN line"));
}
END_TEST

START_TEST(format_mismatch)
{
    size_t len;
    char *der = pki("client.der", &len);
    certrole_result *res = NULL;
    ck_assert_int_eq(certrole_verify_pem(ctx, der, len, &res), CERTROLE_E_BAD_ENCODING);
    ck_assert_ptr_nonnull(strstr(certrole_result_message(res), "not PEM"));
    certrole_result_free(res);
    free(der);
    char *pem = pki("client.pem", &len);
    certrole_result_free(expect(pem, len, CERTROLE_FORMAT_DER, NULL, CERTROLE_E_BAD_ENCODING,
                                "not DER"));
    free(pem);
}
END_TEST

START_TEST(oversize_refused)
{
    size_t len;
    char *d = pki("client-chain.pem", &len);
    size_t big = 1024 * 1024 + 1;
    char *buf = malloc(big);
    memcpy(buf, d, len);
    memset(buf + len, '\n', big - len);
    certrole_result_free(expect(buf, big, CERTROLE_FORMAT_AUTO, NULL, CERTROLE_E_BAD_ENCODING,
                                "limit"));
    free(buf);
    free(d);
}
END_TEST

START_TEST(too_many_certificates)
{
    size_t l1, l2;
    char *leaf = pki("client.pem", &l1), *in = pki("int-ca.pem", &l2);
    char *text = malloc(l1 + 40 * l2 + 1);
    memcpy(text, leaf, l1);
    for (int i = 0; i < 40; i++)
        memcpy(text + l1 + (size_t)i * l2, in, l2);
    text[l1 + 40 * l2] = '\0';
    certrole_result_free(expect(text, strlen(text), CERTROLE_FORMAT_AUTO, NULL,
                                CERTROLE_E_BAD_ENCODING, "more than 32 certificates"));
    /* 32 is still fine. */
    text[l1 + 31 * l2] = '\0';
    certrole_result_free(expect(text, strlen(text), CERTROLE_FORMAT_AUTO, NULL, CERTROLE_OK, NULL));
    free(text);
    free(leaf);
    free(in);
}
END_TEST

START_TEST(invalid_arguments)
{
    certrole_result *res = (certrole_result *)1;
    ck_assert_int_eq(certrole_verify_data(NULL, "x", 1, CERTROLE_FORMAT_AUTO, NULL, &res),
                     CERTROLE_E_INVALID_ARGUMENT);
    ck_assert_int_eq(certrole_verify_data(ctx, "x", 1, CERTROLE_FORMAT_AUTO, NULL, NULL),
                     CERTROLE_E_INVALID_ARGUMENT);
    res = NULL;
    ck_assert_int_eq(certrole_verify_data(ctx, "x", 1, (certrole_format)99, NULL, &res),
                     CERTROLE_E_INVALID_ARGUMENT);
    ck_assert_ptr_null(res);
}
END_TEST

static Suite *input_suite(void)
{
    Suite *s = suite_create("input");
    TCase *f = tcase_create("formats");
    tcase_add_checked_fixture(f, setup, teardown);
    tcase_set_timeout(f, 30);
    tcase_add_test(f, pem_chain_ok);
    tcase_add_test(f, pem_api_ok);
    tcase_add_test(f, pem_leaf_alone_decodes);
    tcase_add_test(f, der_leaf_decodes);
    tcase_add_test(f, der_concatenated_chain_ok);
    tcase_add_test(f, p7b_der_ok);
    tcase_add_test(f, p7b_pem_intermediate_first_ok);
    tcase_add_test(f, p7b_two_leaves_refused);
    tcase_add_test(f, p12_ok);
    tcase_add_test(f, p12_wrong_password);
    tcase_add_test(f, p12_without_key_finds_leaf);
    tcase_add_test(f, p12_damaged);
    tcase_add_test(f, ec_chain_ok);
    tcase_add_test(f, intermediates_any_order);
    tcase_add_test(f, pem_with_key_and_text_around);
    suite_add_tcase(s, f);

    TCase *d = tcase_create("damaged");
    tcase_add_checked_fixture(d, setup, teardown);
    tcase_set_timeout(d, 30);
    tcase_add_test(d, empty_input);
    tcase_add_test(d, pem_without_certificate);
    tcase_add_test(d, pem_truncated);
    tcase_add_test(d, pem_bad_base64_block2);
    tcase_add_test(d, pem_body_not_certificate);
    tcase_add_test(d, der_garbage);
    tcase_add_test(d, der_trailing_garbage);
    tcase_add_test(d, random_bytes);
    tcase_add_test(d, format_mismatch);
    tcase_add_test(d, oversize_refused);
    tcase_add_test(d, too_many_certificates);
    tcase_add_test(d, invalid_arguments);
    suite_add_tcase(s, d);
    return s;
}

int main(void)
{
    return tu_run_suite(input_suite());
}
