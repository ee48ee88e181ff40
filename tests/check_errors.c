/* Error codes: stable numbers, names, descriptions and hints; the JSON
 * writer's escaping; result accessors on a NULL result. */
#include "testutil.h"
#include <stdlib.h>
#include <string.h>
#include <certrole.h>
/* Internal pieces compiled into this test (see Makefile.am). */
#include "errors.h"
#include "json.h"

/* The documented numbers and JSON names (include/certrole.h). */
static const struct { int code; const char *name; } documented[] = {
    { CERTROLE_OK, "ok" },
    { CERTROLE_E_NO_CERTIFICATE, "no_certificate" },
    { CERTROLE_E_BAD_ENCODING, "bad_encoding" },
    { CERTROLE_E_BAD_PASSWORD, "bad_password" },
    { CERTROLE_E_UNTRUSTED_ISSUER, "untrusted_issuer" },
    { CERTROLE_E_SELF_SIGNED_UNTRUSTED, "self_signed_untrusted" },
    { CERTROLE_E_EXPIRED, "expired" },
    { CERTROLE_E_NOT_YET_VALID, "not_yet_valid" },
    { CERTROLE_E_REVOKED, "revoked" },
    { CERTROLE_E_CRL_UNAVAILABLE, "crl_unavailable" },
    { CERTROLE_E_WRONG_PURPOSE, "wrong_purpose" },
    { CERTROLE_E_CHAIN_TOO_LONG, "chain_too_long" },
    { CERTROLE_E_BAD_SIGNATURE, "bad_signature" },
    { CERTROLE_E_INVALID_CA, "invalid_ca" },
    { CERTROLE_E_UNKNOWN_IDENTITY, "unknown_identity" },
    { CERTROLE_E_REALM_UNAVAILABLE, "realm_unavailable" },
    { CERTROLE_E_FORBIDDEN, "forbidden" },
    { CERTROLE_E_POLICY_ERROR, "policy_error" },
    { CERTROLE_E_BAD_NAME, "bad_name" },
    { CERTROLE_E_CHAIN_INVALID, "chain_invalid" },
    { CERTROLE_E_INVALID_ARGUMENT, "invalid_argument" },
    { CERTROLE_E_NO_MEMORY, "no_memory" },
    { CERTROLE_E_IO, "io_error" },
    { CERTROLE_E_INTERNAL, "internal_error" },
    { CERTROLE_E_REALM_REFUSED, "realm_refused" },
    { CERTROLE_E_CHAIN_ORDER, "chain_order" },
    { CERTROLE_E_OCSP_UNAVAILABLE, "ocsp_unavailable" },
};

START_TEST(numbers_are_stable)
{
    static const int expect[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
                                  13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26 };
    size_t n = sizeof documented / sizeof documented[0];
    ck_assert_uint_eq(n, CERTROLE_CODE_COUNT);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(documented[i].code, expect[i]);
}
END_TEST

START_TEST(every_code_has_name_text_and_hint)
{
    for (size_t i = 0; i < sizeof documented / sizeof documented[0]; i++) {
        certrole_code c = (certrole_code)documented[i].code;
        ck_assert_str_eq(certrole_code_name(c), documented[i].name);
        const char *s = certrole_strerror(c);
        ck_assert_ptr_nonnull(s);
        ck_assert_msg(strlen(s) > 3, "strerror(%d) too short", (int)c);
        ck_assert_str_ne(s, "unknown error");
        const char *h = cr_default_hint(c);
        ck_assert_ptr_nonnull(h);
        if (c == CERTROLE_OK)
            ck_assert_str_eq(h, "");
        else
            ck_assert_msg(strlen(h) > 10, "hint for %s too short", documented[i].name);
    }
}
END_TEST

/* Every code is in the README's table ("| N | `name` |"); every code a
 * verification can report is in the man page's code table (a line
 * starting "name<TAB>"); load and API failures end the command with
 * status 2 instead. */
static int reported_by_verify(int code)
{
    return code != CERTROLE_E_POLICY_ERROR && code != CERTROLE_E_INVALID_ARGUMENT &&
           code != CERTROLE_E_NO_MEMORY && code != CERTROLE_E_IO &&
           code != CERTROLE_E_INTERNAL;
}

START_TEST(every_code_is_documented)
{
    char *readme = tu_read_file(tu_src("README.md"), NULL);
    char *man = tu_read_file(tu_src("doc/certrole.1"), NULL);
    ck_assert_ptr_nonnull(readme);
    ck_assert_ptr_nonnull(man);
    for (size_t i = 0; i < sizeof documented / sizeof documented[0]; i++) {
        char *row = tu_strf("| %d | `%s` |", documented[i].code, documented[i].name);
        char *line = tu_strf("\n%s\t", documented[i].name);
        ck_assert_msg(strstr(readme, row), "README.md lacks %s", row);
        ck_assert_msg(!reported_by_verify(documented[i].code) || strstr(man, line),
                      "doc/certrole.1 lacks code %s", documented[i].name);
        free(row);
        free(line);
    }
    free(readme);
    free(man);
}
END_TEST

START_TEST(names_round_trip)
{
    for (int c = 0; c < CERTROLE_CODE_COUNT; c++) {
        const char *n = certrole_code_name((certrole_code)c);
        ck_assert_int_eq(certrole_code_from_name(n), c);
    }
    ck_assert_int_eq(certrole_code_from_name("nonsense"), -1);
    ck_assert_int_eq(certrole_code_from_name(""), -1);
    ck_assert_int_eq(certrole_code_from_name(NULL), -1);
    ck_assert_int_eq(certrole_code_from_name("EXPIRED"), -1);   /* exact names only */
}
END_TEST

START_TEST(names_and_texts_are_distinct)
{
    for (int a = 0; a < CERTROLE_CODE_COUNT; a++)
        for (int b = a + 1; b < CERTROLE_CODE_COUNT; b++) {
            ck_assert_str_ne(certrole_code_name((certrole_code)a),
                             certrole_code_name((certrole_code)b));
            ck_assert_str_ne(certrole_strerror((certrole_code)a),
                             certrole_strerror((certrole_code)b));
        }
}
END_TEST

START_TEST(unknown_codes)
{
    ck_assert_str_eq(certrole_strerror((certrole_code)CERTROLE_CODE_COUNT), "unknown error");
    ck_assert_str_eq(certrole_strerror((certrole_code)-1), "unknown error");
    ck_assert_str_eq(certrole_code_name((certrole_code)999), "unknown");
    ck_assert_str_eq(certrole_code_name((certrole_code)-5), "unknown");
}
END_TEST

START_TEST(version_string)
{
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", CERTROLE_VERSION_MAJOR,
             CERTROLE_VERSION_MINOR, CERTROLE_VERSION_PATCH);
    ck_assert_str_eq(certrole_version(), want);
    certrole_free(NULL);   /* a no-op, must not crash */
}
END_TEST

/* Accessors must tolerate NULL: a caller that ignored an out-of-memory
 * return still must not crash or read "allowed". */
START_TEST(null_result_accessors)
{
    ck_assert_int_eq(certrole_result_allowed(NULL), 0);
    ck_assert_int_eq(certrole_result_code(NULL), CERTROLE_E_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(certrole_result_message(NULL));
    ck_assert_ptr_null(certrole_result_subject(NULL));
    ck_assert_uint_eq(certrole_result_san_count(NULL), 0);
    ck_assert_ptr_null(certrole_result_san(NULL, 0, NULL));
    ck_assert_uint_eq(certrole_result_role_count(NULL), 0);
    ck_assert_int_eq(certrole_result_has_role(NULL, "x"), 0);
    ck_assert_int_eq(certrole_result_cached(NULL), 0);
    ck_assert_ptr_null(certrole_result_json(NULL));
    certrole_result_free(NULL);
}
END_TEST

START_TEST(verify_rejects_null_arguments)
{
    certrole_result *res = (certrole_result *)1;
    ck_assert_int_eq(certrole_verify_x509(NULL, NULL, NULL, &res), CERTROLE_E_INVALID_ARGUMENT);
    ck_assert_ptr_null(res);
    ck_assert_int_eq(certrole_verify_ssl(NULL, NULL, NULL), CERTROLE_E_INVALID_ARGUMENT);
}
END_TEST

static char *json_of(const char *s, size_t n)
{
    cr_strbuf b = CR_STRBUF_INIT;
    cr_json_stringn(&b, s, n);
    return cr_sb_take(&b);
}

START_TEST(json_escaping)
{
    static const struct { const char *in; size_t n; const char *out; } cases[] = {
        { "plain", 5, "\"plain\"" },
        { "a\"b\\c", 5, "\"a\\\"b\\\\c\"" },
        { "\n\r\t\b\f", 5, "\"\\n\\r\\t\\b\\f\"" },
        { "\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"" },
        { "a\0b", 3, "\"a\\u0000b\"" },
        { "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
          "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"" },      /* valid UTF-8 kept */
        { "\xff", 1, "\"\\ufffd\"" },                                 /* invalid byte */
        { "\xc3", 1, "\"\\ufffd\"" },                                 /* truncated */
        { "\xc0\xaf", 2, "\"\\ufffd\\ufffd\"" },                     /* overlong '/' */
        { "\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"" },         /* surrogate */
        { "\xf4\x90\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" }, /* > U+10FFFF */
        { "", 0, "\"\"" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *j = json_of(cases[i].in, cases[i].n);
        ck_assert_ptr_nonnull(j);
        ck_assert_msg(strcmp(j, cases[i].out) == 0, "case %zu: got %s want %s", i, j,
                      cases[i].out);
        free(j);
    }
    cr_strbuf b = CR_STRBUF_INIT;
    cr_json_string(&b, NULL);
    char *j = cr_sb_take(&b);
    ck_assert_str_eq(j, "null");
    free(j);
}
END_TEST

static Suite *errors_suite(void)
{
    Suite *s = suite_create("errors");
    TCase *tc = tcase_create("codes");
    tcase_add_test(tc, numbers_are_stable);
    tcase_add_test(tc, every_code_has_name_text_and_hint);
    tcase_add_test(tc, every_code_is_documented);
    tcase_add_test(tc, names_round_trip);
    tcase_add_test(tc, names_and_texts_are_distinct);
    tcase_add_test(tc, unknown_codes);
    tcase_add_test(tc, version_string);
    tcase_add_test(tc, null_result_accessors);
    tcase_add_test(tc, verify_rejects_null_arguments);
    suite_add_tcase(s, tc);
    TCase *tj = tcase_create("json");
    tcase_add_test(tj, json_escaping);
    suite_add_tcase(s, tj);
    return s;
}

int main(void)
{
    return tu_run_suite(errors_suite());
}
