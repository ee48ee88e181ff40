/* Lookalike names must not become someone else's identity. A CA that lets
 * requesters pick their subject can be asked for "CRMApplİcation" (U+0130)
 * or "CRM<zero-width space>Application"; certificates made by openssl at
 * test time (tests/pki/mkhostile.sh) are checked against a file realm
 * that knows the real CRMApplication:
 *  - U+0130 is not ASCII 'i': the name is unknown;
 *  - invisible or format characters (U+200B, U+00AD) in a subject value,
 *    an issuer name or a subjectAltName are bad_name before any realm is
 *    asked, so a realm that says yes to everyone, or a SHA-256 pin, cannot
 *    rescue them; a realm file naming such a DN does not load;
 *  - honest case-insensitive matching still works (ASCII, German ß/ẞ,
 *    Greek final sigma), but no non-ASCII letter folds into ASCII ("ß" is
 *    not "ss", the ligature "ﬃ" is not "ffi", the Kelvin sign is not 'k'). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "certrole.h"
#include "hostile_util.h"
#include "testutil.h"

#define CLIENT_DN "CN=CRMApplication,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US"
#define ZWSP "\xE2\x80\x8B"
#define SHY "\xC2\xAD"
#define DOTTED_I "\xC4\xB0"

static void setup(void)
{
    setenv("CERTROLE_REALM_DIR", hx("mods"), 1);
}

/* Policy: the test PKI's trust and one file realm holding lines. */
static certrole_ctx *with_realm(const char *lines)
{
    static int n;
    char *realm = tu_strf("%s/names-%d.realm", hx_dir(), n++);
    tu_write_file(realm, lines);
    char *text = tu_strf("trust ca-file=%s\nrealm required file path=%s\n"
                         "option cache-ttl=0\nrequire * / admin ok\n",
                         tu_pki("ca-file.pem"), realm);
    certrole_ctx *ctx = hx_open(text);
    free(text);
    free(realm);
    return ctx;
}

/* chain: a file made by mkhostile.sh, or a path. */
static void allowed(certrole_ctx *ctx, const char *chain, const char *role)
{
    certrole_result *res = hx_verify(ctx, chain[0] == '/' ? chain : hx(chain));
    ck_assert_msg(certrole_result_allowed(res), "%s: %s (%s)", chain,
                  certrole_code_name(certrole_result_code(res)), certrole_result_message(res));
    ck_assert(certrole_result_has_role(res, role));
    certrole_result_free(res);
}

/* ---- U+0130 and friends: other names ---------------------------------- */

START_TEST(dotted_capital_i_is_not_ascii_i)
{
    certrole_ctx *ctx = with_realm("\"" CLIENT_DN "\" admin\n");
    allowed(ctx, tu_pki("client-chain.pem"), "admin");
    certrole_result *res = hx_verify(ctx, hx("dotted-i-chain.pem"));
    ck_assert_msg(strstr(certrole_result_subject(res), "CN=CRMAppl" DOTTED_I "cation,"), "%s",
                  certrole_result_subject(res));
    certrole_result_free(res);
    hx_denied(ctx, hx("dotted-i-chain.pem"), CERTROLE_E_UNKNOWN_IDENTITY);
    certrole_close(ctx);
    /* Nor is it 'I', in a realm entry spelled in either case. */
    ctx = with_realm("\"CN=CRMAPPLICATION,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US\" admin\n");
    hx_denied(ctx, hx("dotted-i-chain.pem"), CERTROLE_E_UNKNOWN_IDENTITY);
    certrole_close(ctx);
    /* Dotless U+0131 is another name again. */
    ctx = with_realm("\"CN=CRMAppl\xC4\xB1" "cation,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,"
                     "C=US\" admin\n");
    hx_denied(ctx, hx("dotted-i-chain.pem"), CERTROLE_E_UNKNOWN_IDENTITY);
    hx_denied(ctx, tu_pki("client-chain.pem"), CERTROLE_E_UNKNOWN_IDENTITY);
    certrole_close(ctx);
    /* Positive control: the realm entry spelled with U+0130 is that peer. */
    ctx = with_realm("\"CN=crmappl" DOTTED_I "cation,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,"
                     "C=US\" admin\n");
    allowed(ctx, "dotted-i-chain.pem", "admin");
    certrole_close(ctx);
}
END_TEST

/* ---- invisible characters: bad_name before any realm ------------------ */

/* The subject, issuer or SAN holds an invisible character: a realm that
 * finds every peer (and traces each lookup), plus a file realm with both
 * the honest DN and a pin on this very certificate, must not be asked. */
static void refused_before_realms(const char *name, const char *want1, const char *want2)
{
    char *chain = tu_strf("%s-chain.pem", name), *leaf = tu_strf("%s.pem", name);
    char *realm = tu_strf("%s/%s.realm", hx_dir(), name);
    char *trace = tu_strf("%s/%s.trace", hx_dir(), name);
    char *lines = tu_strf("sha256:%s admin\n\"" CLIENT_DN "\" admin\n", hx_sha256(hx(leaf)));
    tu_write_file(realm, lines);
    unlink(trace);
    char *text = tu_strf("trust ca-file=%s\nrealm required test trace=%s tag=any roles=admin\n"
                         "realm optional file path=%s\noption cache-ttl=0\nrequire * / admin\n",
                         tu_pki("ca-file.pem"), trace, realm);
    certrole_ctx *ctx = hx_open(text);
    certrole_result *res = hx_verify(ctx, hx(chain));
    const char *msg = certrole_result_message(res);
    ck_assert_msg(msg && strstr(msg, want1) && strstr(msg, want2),
                  "%s: message \"%s\" lacks \"%s\" or \"%s\"", name, msg ? msg : "", want1, want2);
    certrole_result_free(res);
    hx_denied(ctx, hx(chain), CERTROLE_E_BAD_NAME);
    certrole_close(ctx);
    ck_assert_msg(access(trace, F_OK) != 0, "%s: a realm was asked", name);
    free(text);
    free(lines);
    free(trace);
    free(realm);
    free(leaf);
    free(chain);
}

START_TEST(zero_width_space_in_cn_is_a_bad_name)
{
    refused_before_realms("zwsp-cn", "CN value contains character U+200B", "ZERO WIDTH SPACE");
}
END_TEST

START_TEST(soft_hyphen_in_cn_is_a_bad_name)
{
    refused_before_realms("shy-cn", "CN value contains character U+00AD", "SOFT HYPHEN");
}
END_TEST

START_TEST(zero_width_space_in_san_email_is_a_bad_name)
{
    refused_before_realms("zwsp-san", "subjectAltName entry 1 (email) contains character U+200B",
                          "ZERO WIDTH SPACE");
}
END_TEST

START_TEST(zero_width_space_in_issuer_is_a_bad_name)
{
    refused_before_realms("zwsp-issued", "issuer name", "U+200B");
}
END_TEST

/* The same realm setup lets the honest certificate in: the refusals above
 * are the names, not a broken fixture. */
START_TEST(the_same_realms_admit_the_honest_name)
{
    char *trace = tu_strf("%s/honest.trace", hx_dir());
    char *text = tu_strf("trust ca-file=%s\nrealm required test trace=%s tag=any roles=admin\n"
                         "option cache-ttl=0\nrequire * / admin\n", tu_pki("ca-file.pem"), trace);
    certrole_ctx *ctx = hx_open(text);
    certrole_result *res = hx_verify(ctx, tu_pki("client-chain.pem"));
    ck_assert_msg(certrole_result_allowed(res), "%s", certrole_result_message(res));
    certrole_result_free(res);
    certrole_close(ctx);
    ck_assert_int_eq(access(trace, F_OK), 0);
    free(text);
    free(trace);
}
END_TEST

/* A realm entry with such a character could never match (the certificate
 * is refused), so the realm file is refused where it says so. */
START_TEST(realm_file_naming_an_invisible_character_does_not_load)
{
    static const struct { const char *dn, *want; } bad[] = {
        { "CN=CRM" ZWSP "Application,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US",
          ":2:1: bad DN: character U+200B ZERO WIDTH SPACE" },
        { "CN=CRM" SHY "Application,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US",
          ":2:1: bad DN: character U+00AD SOFT HYPHEN" },
        { "CN=#0C1143524DE2808B4170706C69636174696F6E,O=Acme Corp", ":2:1: bad DN: character U+200B" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *realm = tu_strf("%s/invisible-%zu.realm", hx_dir(), i);
        char *lines = tu_strf("\"CN=Someone Else,O=Acme Corp\" ok\n\"%s\" admin\n", bad[i].dn);
        tu_write_file(realm, lines);
        char *text = tu_strf("trust ca-file=%s\nrealm required file path=%s\n",
                             tu_pki("ca-file.pem"), realm);
        char *want = tu_strf("invisible-%zu.realm%s", i, bad[i].want);
        hx_open_fails(text, CERTROLE_E_POLICY_ERROR, want);
        free(want);
        free(text);
        free(lines);
        free(realm);
    }
}
END_TEST

/* ---- honest folding ---------------------------------------------------- */

START_TEST(case_insensitive_match_still_works)
{
    certrole_ctx *ctx = with_realm(
        "\"cn=crmapplication,ou=sales,o=acme corp,l=san francisco,st=ca,c=us\" admin\n");
    allowed(ctx, tu_pki("client-chain.pem"), "admin");
    certrole_close(ctx);
}
END_TEST

START_TEST(german_sharp_s_folds_consistently)
{
    /* Capital sharp s U+1E9E folds to U+00DF, as does U+00DF itself. */
    certrole_ctx *ctx = with_realm("\"CN=STRA\xE1\xBA\x9E" "E,OU=Sales,O=Acme Corp,C=US\" admin\n");
    allowed(ctx, "sharp-s-chain.pem", "admin");
    certrole_close(ctx);
    /* ... but never into ASCII "ss". */
    ctx = with_realm("\"CN=Strasse,OU=Sales,O=Acme Corp,C=US\" admin\n");
    hx_denied(ctx, hx("sharp-s-chain.pem"), CERTROLE_E_UNKNOWN_IDENTITY);
    certrole_close(ctx);
}
END_TEST

START_TEST(greek_final_sigma_folds_consistently)
{
    /* "ΟΔΥΣΣΕΥΣ" against its lower case with a final sigma (U+03C2). */
    certrole_ctx *ctx = with_realm("\"cn=\xCE\xBF\xCE\xB4\xCF\x85\xCF\x83\xCF\x83\xCE\xB5\xCF\x85"
                                   "\xCF\x82,ou=sales,o=acme corp,c=us\" admin\n");
    allowed(ctx, "greek-chain.pem", "admin");
    certrole_close(ctx);
}
END_TEST

START_TEST(no_non_ascii_letter_folds_into_ascii)
{
    certrole_ctx *ctx = with_realm("\"CN=Office Admin,OU=Sales,O=Acme Corp,C=US\" admin\n"
                                   "\"CN=kiosk,OU=Sales,O=Acme Corp,C=US\" admin\n");
    hx_denied(ctx, hx("ligature-chain.pem"), CERTROLE_E_UNKNOWN_IDENTITY);
    hx_denied(ctx, hx("kelvin-chain.pem"), CERTROLE_E_UNKNOWN_IDENTITY);
    certrole_close(ctx);
    /* Positive control: each matches its own spelling, in any case. */
    ctx = with_realm("\"CN=O\xEF\xAC\x83" "CE ADMIN,OU=Sales,O=Acme Corp,C=US\" admin\n"
                     "\"CN=\xE2\x84\xAA" "IOSK,OU=Sales,O=Acme Corp,C=US\" admin\n");
    allowed(ctx, "ligature-chain.pem", "admin");
    allowed(ctx, "kelvin-chain.pem", "admin");
    certrole_close(ctx);
}
END_TEST

/* ---- the DN functions -------------------------------------------------- */

static void expect_refused(const char *dn, const char *want)
{
    char *out = NULL, *err = NULL;
    ck_assert_int_eq(certrole_dn_key(dn, &out, &err), CERTROLE_E_BAD_NAME);
    ck_assert_ptr_null(out);
    ck_assert_msg(err && strstr(err, want), "\"%s\": \"%s\" lacks \"%s\"", dn, err ? err : "",
                  want);
    certrole_free(err);
    ck_assert_int_eq(certrole_dn_equal(dn, dn), -1);
}

START_TEST(dn_strings_refuse_invisible_and_format_characters)
{
    expect_refused("CN=CRM" ZWSP "Application", "U+200B ZERO WIDTH SPACE");
    expect_refused("CN=CRM" SHY "Application", "U+00AD SOFT HYPHEN");
    expect_refused("O=Acme,CN=a\xE2\x80\x8D" "b", "U+200D ZERO WIDTH JOINER");
    expect_refused("CN=a\xCD\x8F" "b", "U+034F COMBINING GRAPHEME JOINER");   /* ignorable, Mn */
    expect_refused("CN=a\xD8\x80" "1", "U+0600 ARABIC NUMBER SIGN");          /* Cf, not ignorable */
    expect_refused("CN=admin\xE2\x80\xAE" "nimda", "U+202E RIGHT-TO-LEFT OVERRIDE");
    expect_refused("CN=\xEF\xBB\xBF" "x", "U+FEFF ZERO WIDTH NO-BREAK SPACE");
    expect_refused("CN=a\xEF\xB8\x8F", "U+FE0F VARIATION SELECTOR-16");
    expect_refused("CN=\xE3\x85\xA4", "U+3164 HANGUL FILLER");
    expect_refused("CN=a\xF3\xA0\x81\x81", "U+E0041 TAG LATIN CAPITAL LETTER A");
    expect_refused("/C=US/CN=CRM" ZWSP "Application", "U+200B");
    expect_refused("CN=#0C03E2808B", "U+200B");
    expect_refused("CN=#1E0400AD0041", "U+00AD");   /* BMPString */
}
END_TEST

START_TEST(dn_string_folding)
{
    ck_assert_int_eq(certrole_dn_equal("CN=CRMAppl" DOTTED_I "cation", "CN=CRMApplication"), 0);
    ck_assert_int_eq(certrole_dn_equal("CN=CRMAppl" DOTTED_I "cation", "CN=crmapplication"), 0);
    ck_assert_int_eq(certrole_dn_equal("CN=crmappl\xC4\xB1" "cation", "CN=crmapplication"), 0);
    ck_assert_int_eq(certrole_dn_equal("CN=crmappl\xC4\xB1" "cation", "CN=CRMApplIcation"), 0);
    ck_assert_int_eq(certrole_dn_equal("CN=\xC3\x9F", "CN=ss"), 0);
    ck_assert_int_eq(certrole_dn_equal("CN=\xC5\xBF", "CN=s"), 0);            /* long s */
    ck_assert_int_eq(certrole_dn_equal("CN=\xEF\xAC\x81", "CN=fi"), 0);       /* ligature */
    ck_assert_int_eq(certrole_dn_equal("CN=\xEF\xBC\xA1", "CN=A"), 0);        /* fullwidth A */
    ck_assert_int_eq(certrole_dn_equal("CN=\xC3\x9F", "CN=\xE1\xBA\x9E"), 1);
    ck_assert_int_eq(certrole_dn_equal("CN=\xCE\xA3", "CN=\xCF\x82"), 1);     /* Σ ς */
    ck_assert_int_eq(certrole_dn_equal("CN=\xCF\x83", "CN=\xCF\x82"), 1);     /* σ ς */
    ck_assert_int_eq(certrole_dn_equal("CN=\xEF\xBC\xA1", "CN=\xEF\xBD\x81"), 1);   /* Ａ ａ */
    ck_assert_int_eq(certrole_dn_equal("CN=\xE1\x8E\xA0", "CN=\xEA\xAD\xB0"), 1);   /* Cherokee */
    ck_assert_int_eq(certrole_dn_equal("CN=\xC3\x89" "cole", "CN=\xC3\xA9" "COLE"), 1);
    char *k = NULL;
    ck_assert_int_eq(certrole_dn_key("CN=CRMAppl" DOTTED_I "cation", &k, NULL), CERTROLE_OK);
    ck_assert_str_eq(k, "2.5.4.3=crmappli\xCC\x87" "cation");   /* full folding: i U+0307 */
    certrole_free(k);
}
END_TEST

static Suite *names_suite(void)
{
    Suite *s = suite_create("wrong allow: lookalike names");
    TCase *tc = tcase_create("certificates");
    tcase_add_unchecked_fixture(tc, hx_prepare, NULL);
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, dotted_capital_i_is_not_ascii_i);
    tcase_add_test(tc, zero_width_space_in_cn_is_a_bad_name);
    tcase_add_test(tc, soft_hyphen_in_cn_is_a_bad_name);
    tcase_add_test(tc, zero_width_space_in_san_email_is_a_bad_name);
    tcase_add_test(tc, zero_width_space_in_issuer_is_a_bad_name);
    tcase_add_test(tc, the_same_realms_admit_the_honest_name);
    tcase_add_test(tc, realm_file_naming_an_invisible_character_does_not_load);
    tcase_add_test(tc, case_insensitive_match_still_works);
    tcase_add_test(tc, german_sharp_s_folds_consistently);
    tcase_add_test(tc, greek_final_sigma_folds_consistently);
    tcase_add_test(tc, no_non_ascii_letter_folds_into_ascii);
    suite_add_tcase(s, tc);
    TCase *dn = tcase_create("dn strings");
    tcase_add_test(dn, dn_strings_refuse_invisible_and_format_characters);
    tcase_add_test(dn, dn_string_folding);
    suite_add_tcase(s, dn);
    return s;
}

int main(void)
{
    int rc = tu_run_suite(names_suite());
    hx_cleanup();
    return rc;
}
