/* Identity beyond the DN: the UPN otherName shown as a SAN, the SPIFFE ID
 * of an X.509-SVID and why a spiffe URI is not one. Certificates are
 * issued at test time by `openssl x509 -req` from the test PKI's issuing
 * CA, each with the subjectAltName under test. */
#define _GNU_SOURCE
#include "testutil.h"
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "certrole.h"
#include "spiffe.h"

static char *dir;

static void setup(void)
{
    dir = tu_mkdtemp("idsan");
    char *cmd = tu_strf("cd '%s' && '%s' req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
                        "-nodes -keyout k.pem -subj '/CN=svid test' -out r.csr 2>&1",
                        dir, tu_env("OPENSSL", "openssl"));
    char *out = NULL;
    ck_assert_msg(tu_run(cmd, &out) == 0, "%s", out ? out : "");
    free(out);
    free(cmd);
}

static void teardown(void)
{
    tu_rmrf(dir);
    free(dir);
}

/* Issues a client certificate with subjectAltName san and verifies its
 * chain under the test PKI's anchors (verification only: no realm). */
static certrole_code verify_with_san(const char *san, certrole_result **res)
{
    char *ext = tu_strf("%s/ext.cnf", dir), *text = tu_strf(
        "subjectAltName=%s\nextendedKeyUsage=clientAuth\n", san);
    tu_write_file(ext, text);
    char *cmd = tu_strf("cd '%s' && '%s' x509 -req -in r.csr -CA '%s' -CAkey '%s' "
                        "-set_serial 4242 -days 30 -extfile ext.cnf -out leaf.pem 2>&1",
                        dir, tu_env("OPENSSL", "openssl"), tu_pki("int-ca.pem"),
                        tu_pki("int-ca.key"));
    char *out = NULL;
    ck_assert_msg(tu_run(cmd, &out) == 0, "openssl x509 -req with %s: %s", san, out ? out : "");
    char *leaf_path = tu_strf("%s/leaf.pem", dir);
    char *leaf = tu_read_file(leaf_path, NULL), *inter = tu_read_file(tu_pki("int-ca.pem"), NULL);
    char *chain = tu_strf("%s%s", leaf, inter);
    char *pol = tu_strf("trust ca-file=\"%s\"\n", tu_pki("ca-file.pem"));
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    ck_assert_msg(certrole_open_string(&ctx, pol, "t", &err) == CERTROLE_OK, "%s", err);
    certrole_code rc = certrole_verify_pem(ctx, chain, strlen(chain), res);
    ck_assert_ptr_nonnull(*res);
    certrole_close(ctx);
    free(pol); free(chain); free(inter); free(leaf); free(leaf_path);
    free(out); free(cmd); free(text); free(ext);
    return rc;
}

START_TEST(upn_other_name_is_a_san)
{
    certrole_result *res = NULL;
    ck_assert_int_eq(verify_with_san("otherName:1.3.6.1.4.1.311.20.2.3;UTF8:alice@ACME.example,"
                                     "email:alice@acme.example", &res), CERTROLE_OK);
    ck_assert_int_eq(certrole_result_san_count(res), 2);
    certrole_san_type t = 0;
    ck_assert_str_eq(certrole_result_san(res, 0, &t), "alice@ACME.example");
    ck_assert_int_eq(t, CERTROLE_SAN_UPN);
    char *j = certrole_result_json(res);
    ck_assert_msg(strstr(j, "{\"type\":\"upn\",\"value\":\"alice@ACME.example\"}"), "%s", j);
    free(j);
    certrole_result_free(res);
}
END_TEST

/* A UPN that is not a UTF8String can be read more than one way: the
 * certificate is refused, not the entry skipped. */
START_TEST(upn_of_another_string_type_is_refused)
{
    certrole_result *res = NULL;
    ck_assert_int_eq(verify_with_san("otherName:1.3.6.1.4.1.311.20.2.3;IA5STRING:alice@x", &res),
                     CERTROLE_E_BAD_NAME);
    ck_assert_msg(strstr(certrole_result_message(res), "(UPN) is not a UTF8String"), "%s",
                  certrole_result_message(res));
    certrole_result_free(res);
}
END_TEST

/* Other otherNames are not part of the identity and change nothing. */
START_TEST(other_other_names_are_left_out)
{
    certrole_result *res = NULL;
    ck_assert_int_eq(verify_with_san("otherName:1.2.3.4;UTF8:whatever,DNS:a.example", &res),
                     CERTROLE_OK);
    ck_assert_int_eq(certrole_result_san_count(res), 1);
    certrole_result_free(res);
}
END_TEST

/* The subjectKeyIdentifier as lower-case hex, or NULL without one. */
START_TEST(subject_key_identifier)
{
    certrole_result *res = NULL;
    ck_assert_int_eq(verify_with_san("DNS:a.example\nsubjectKeyIdentifier=01:02:0A:FF", &res),
                     CERTROLE_OK);
    ck_assert_pstr_eq(certrole_result_ski(res), "01020aff");
    char *j = certrole_result_json(res);
    ck_assert_msg(strstr(j, "\"ski\":\"01020aff\""), "%s", j);
    free(j);
    certrole_result_free(res);
    ck_assert_int_eq(verify_with_san("DNS:a.example\nsubjectKeyIdentifier=none", &res),
                     CERTROLE_OK);
    ck_assert_ptr_null(certrole_result_ski(res));
    j = certrole_result_json(res);
    ck_assert_msg(strstr(j, "\"ski\":null"), "%s", j);
    free(j);
    certrole_result_free(res);
}
END_TEST

START_TEST(svid_has_its_spiffe_id)
{
    certrole_result *res = NULL;
    ck_assert_int_eq(verify_with_san("URI:spiffe://acme.example/ns/billing/sa/api,DNS:api.example",
                                     &res), CERTROLE_OK);
    ck_assert_str_eq(certrole_result_spiffe_id(res), "spiffe://acme.example/ns/billing/sa/api");
    ck_assert_ptr_null(certrole_result_spiffe_problem(res));
    char *j = certrole_result_json(res);
    ck_assert_msg(strstr(j, "\"spiffe_id\":\"spiffe://acme.example/ns/billing/sa/api\","
                            "\"spiffe_problem\":null"), "%s", j);
    free(j);
    certrole_result_free(res);
}
END_TEST

/* Hostile and malformed SVIDs: never a SPIFFE ID, always a reason; the
 * chain itself stays valid (the URI is still shown as a SAN). */
START_TEST(malformed_svids_have_no_spiffe_id)
{
    static const struct { const char *san, *why; } cases[] = {
        { "URI:spiffe://acme.example/a,URI:spiffe://evil.example/a", "has 2" },
        { "URI:spiffe://acme.example/a,URI:https://acme.example/", "has 2" },
        { "URI:spiffe://acme.example/a?admin=1", "query" },
        { "URI:spiffe://acme.example/a\\#frag", "fragment" },   /* \\# : not a config comment */
        { "URI:spiffe://acme.example:8443/a", "port" },
        { "URI:spiffe://root@acme.example/a", "user info" },
        { "URI:spiffe://ACME.example/a", "lower-case" },
        { "URI:SPIFFE://acme.example/a", "scheme" },
        { "URI:spiffe://acme.example/a/../admin", "'..'" },
        { "URI:spiffe://acme.example/a//b", "empty segment" },
        { "URI:spiffe://acme.example/a/", "ends in '/'" },
        { "URI:spiffe://acme.example/%61dmin", "percent" },
        { "URI:spiffe:///a", "trust domain is empty" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        certrole_result *res = NULL;
        ck_assert_int_eq(verify_with_san(cases[i].san, &res), CERTROLE_OK);
        ck_assert_msg(certrole_result_spiffe_id(res) == NULL, "%s: SPIFFE ID %s", cases[i].san,
                      certrole_result_spiffe_id(res));
        const char *why = certrole_result_spiffe_problem(res);
        ck_assert_msg(why && strstr(why, cases[i].why), "%s: problem '%s', wanted '%s'",
                      cases[i].san, why ? why : "(none)", cases[i].why);
        certrole_result_free(res);
    }
}
END_TEST

START_TEST(no_spiffe_uri_means_no_id_and_no_problem)
{
    certrole_result *res = NULL;
    ck_assert_int_eq(verify_with_san("URI:https://acme.example/svc,DNS:a.example", &res),
                     CERTROLE_OK);
    ck_assert_ptr_null(certrole_result_spiffe_id(res));
    ck_assert_ptr_null(certrole_result_spiffe_problem(res));
    certrole_result_free(res);
}
END_TEST

/* The parser alone, on what a certificate cannot easily carry. */
START_TEST(spiffe_parser_limits)
{
    const char *why = NULL;
    ck_assert(cr_spiffe_valid("spiffe://a-b_c.d9", &why));
    ck_assert(cr_spiffe_valid("spiffe://td/A.b-c_9/x", &why));
    ck_assert(!cr_spiffe_valid("spiffe://td/a b", &why));
    ck_assert(!cr_spiffe_valid("spiffe://td/./a", &why));
    ck_assert(!cr_spiffe_valid("spiffe:/td/a", &why));
    char *longid = malloc(2100);
    memcpy(longid, "spiffe://td/", 12);
    memset(longid + 12, 'a', 2060);
    longid[2072] = '\0';
    ck_assert(!cr_spiffe_valid(longid, &why));
    ck_assert_msg(strstr(why, "2048"), "%s", why);
    free(longid);
}
END_TEST

static Suite *identity_san_suite(void)
{
    Suite *s = suite_create("identity_san");
    TCase *tc = tcase_create("san");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, upn_other_name_is_a_san);
    tcase_add_test(tc, upn_of_another_string_type_is_refused);
    tcase_add_test(tc, other_other_names_are_left_out);
    tcase_add_test(tc, subject_key_identifier);
    tcase_add_test(tc, svid_has_its_spiffe_id);
    tcase_add_test(tc, malformed_svids_have_no_spiffe_id);
    tcase_add_test(tc, no_spiffe_uri_means_no_id_and_no_problem);
    tcase_add_test(tc, spiffe_parser_limits);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(identity_san_suite());
}
