/* The certrole command, run as a person or a script would: exit codes,
 * what the human output names, the JSON object, usage errors. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"

#define CLIENT_DN "CN=CRMApplication,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US"

/* Runs "certrole ARGS" (ARGS already shell-quoted), returns the status,
 * output in *out (malloc'd). */
static int run(char **out, const char *args)
{
    char *cmd = tu_strf("'%s' %s 2>&1", tu_build("certrole"), args);
    int st = tu_run(cmd, out);
    free(cmd);
    ck_assert_ptr_nonnull(*out);
    return st;
}

/* "verify --ca-file <root> " prefix. */
static char *verify_args(const char *rest)
{
    return tu_strf("verify --ca-file '%s' %s", tu_pki("ca-file.pem"), rest);
}

static int run_verify(char **out, const char *fmt_rest)
{
    char *a = verify_args(fmt_rest);
    int st = run(out, a);
    free(a);
    return st;
}

#define HAS(out, s) ck_assert_msg(strstr((out), (s)) != NULL, "output lacks '%s':\n%s", (s), (out))

/* A minimal structural check: one object, balanced braces/brackets
 * outside strings, and "key": present at the top level. */
static void json_check(const char *j, const char *const *keys)
{
    const char *p = j;
    while (*p == ' ' || *p == '\n')
        p++;
    ck_assert_msg(*p == '{', "not an object: %s", j);
    int depth = 0, in_str = 0, closed = 0;
    for (; *p; p++) {
        if (in_str) {
            if (*p == '\\' && p[1])
                p++;
            else if (*p == '"')
                in_str = 0;
            continue;
        }
        if (*p == '"')
            in_str = 1;
        else if (*p == '{' || *p == '[')
            depth++;
        else if (*p == '}' || *p == ']') {
            depth--;
            ck_assert_msg(depth >= 0, "unbalanced: %s", j);
            if (depth == 0)
                closed = 1;
        } else if (closed && *p != '\n' && *p != ' ') {
            ck_abort_msg("text after the object: %s", j);
        }
    }
    ck_assert_msg(depth == 0 && !in_str && closed, "unterminated: %s", j);
    for (size_t i = 0; keys[i]; i++) {
        char *k = tu_strf("\"%s\":", keys[i]);
        HAS(j, k);
        free(k);
    }
}

static const char *const RESULT_KEYS[] = {
    "ok", "code", "message", "hint", "subject", "issuer", "serial", "fingerprint_sha256",
    "san", "not_before", "not_after", NULL
};

START_TEST(valid_chain_exit0)
{
    char *out = NULL, *a = tu_strf("'%s'", tu_pki("client-chain.pem"));
    ck_assert_int_eq(run_verify(&out, a), 0);
    HAS(out, CLIENT_DN);
    HAS(out, "CN=Acme Issuing CA,O=Acme Corp,C=US");
    HAS(out, "2045-12-31");
    HAS(out, "crm@acme.example");
    HAS(out, "192.0.2.10");
    char *ski = tu_ski_hex(tu_pki("client.pem")), *line = tu_strf("SKI:         %s\n", ski);
    HAS(out, line);
    free(line);
    free(ski);
    free(out);
    free(a);
}
END_TEST

START_TEST(expired_exit1_with_hint)
{
    char *out = NULL, *a = tu_strf("'%s'", tu_pki("expired-chain.pem"));
    ck_assert_int_eq(run_verify(&out, a), 1);
    HAS(out, "expired");
    HAS(out, "CN=Expired User");
    HAS(out, "2020-01-01");
    HAS(out, "hint:");
    free(out);
    free(a);
}
END_TEST

START_TEST(json_valid)
{
    char *out = NULL, *a = tu_strf("--json '%s'", tu_pki("client-chain.pem"));
    ck_assert_int_eq(run_verify(&out, a), 0);
    json_check(out, RESULT_KEYS);
    HAS(out, "\"ok\":true");
    HAS(out, "\"code\":\"ok\"");
    HAS(out, "\"subject\":\"" CLIENT_DN "\"");
    HAS(out, "spiffe://acme.example/crm");
    char *ski = tu_ski_hex(tu_pki("client.pem")), *field = tu_strf("\"ski\":\"%s\"", ski);
    HAS(out, field);
    free(field);
    free(ski);
    free(out);
    free(a);
}
END_TEST

START_TEST(json_revoked)
{
    char *out = NULL, *a = tu_strf("--json --crl-file '%s' --crl-check leaf '%s'",
                                   tu_pki("crl.pem"), tu_pki("revoked-chain.pem"));
    ck_assert_int_eq(run_verify(&out, a), 1);
    json_check(out, RESULT_KEYS);
    HAS(out, "\"ok\":false");
    HAS(out, "\"code\":\"revoked\"");
    free(out);
    free(a);
}
END_TEST

START_TEST(json_decode_error)
{
    char *out = NULL, *a = tu_strf("--json --format der '%s'", tu_pki("client.pem"));
    ck_assert_int_eq(run_verify(&out, a), 1);
    json_check(out, RESULT_KEYS);
    HAS(out, "\"code\":\"bad_encoding\"");
    HAS(out, "\"subject\":null");
    free(out);
    free(a);
}
END_TEST

START_TEST(failure_codes)
{
    static const struct { const char *file, *extra, *code; } t[] = {
        { "serveronly-chain.pem", "", "wrong_purpose" },
        { "selfsigned.pem", "", "self_signed_untrusted" },
        { "other-client.pem", "", "untrusted_issuer" },
        { "noca-client-chain.pem", "", "invalid_ca" },
        { "deep-chain.pem", "--depth 0", "chain_too_long" },
        { "client-chain.pem", "--crl-file CRLEXP --crl-check leaf", "crl_unavailable" },
        { "notyet-chain.pem", "", "not_yet_valid" },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char *extra = strcmp(t[i].extra, "--crl-file CRLEXP --crl-check leaf") == 0
            ? tu_strf("--crl-file '%s' --crl-check leaf", tu_pki("crl-expired.pem"))
            : tu_strf("%s", t[i].extra);
        char *out = NULL, *a = tu_strf("--json %s '%s'", extra, tu_pki(t[i].file));
        ck_assert_int_eq(run_verify(&out, a), 1);
        char *want = tu_strf("\"code\":\"%s\"", t[i].code);
        HAS(out, want);
        free(want);
        free(out);
        free(a);
        free(extra);
    }
}
END_TEST

START_TEST(bad_signature_with_chain_option)
{
    char *out = NULL, *a = tu_strf("--chain '%s' '%s'", tu_pki("int-ca.pem"), tu_pki("badsig.pem"));
    ck_assert_int_eq(run_verify(&out, a), 1);
    HAS(out, "bad_signature");
    HAS(out, CLIENT_DN);
    free(out);
    free(a);
}
END_TEST

START_TEST(chain_option_der_leaf)
{
    char *out = NULL, *a = tu_strf("--chain '%s' '%s'", tu_pki("int-ca.pem"), tu_pki("client.der"));
    ck_assert_int_eq(run_verify(&out, a), 0);
    HAS(out, CLIENT_DN);
    free(out);
    free(a);
}
END_TEST

START_TEST(stdin_input)
{
    char *out = NULL, *a = tu_strf("- < '%s'", tu_pki("client-chain.pem"));
    ck_assert_int_eq(run_verify(&out, a), 0);
    HAS(out, CLIENT_DN);
    free(out);
    free(a);
}
END_TEST

START_TEST(p12_password)
{
    char *out = NULL, *a = tu_strf("'%s' --password secret", tu_pki("client.p12"));
    ck_assert_int_eq(run_verify(&out, a), 0);
    free(out);
    free(a);
    a = tu_strf("--password nope '%s'", tu_pki("client.p12"));
    ck_assert_int_eq(run_verify(&out, a), 1);
    HAS(out, "bad_password");
    HAS(out, "--password");
    free(out);
    free(a);
}
END_TEST

START_TEST(p7b_and_ca_dir)
{
    char *out = NULL;
    char *a = tu_strf("verify --ca-dir '%s' '%s'", tu_pki("ca-dir"), tu_pki("client-chain.p7b"));
    ck_assert_int_eq(run(&out, a), 0);
    HAS(out, CLIENT_DN);
    free(out);
    free(a);
}
END_TEST

START_TEST(validation_time)
{
    char *out = NULL, *a = tu_strf("--time 2019-06-01T00:00:00Z '%s'", tu_pki("expired-chain.pem"));
    ck_assert_int_eq(run_verify(&out, a), 0);
    free(out);
    free(a);
    a = tu_strf("--time 2046-06-01T00:00:00Z '%s'", tu_pki("client-chain.pem"));
    ck_assert_int_eq(run_verify(&out, a), 1);
    HAS(out, "expired");
    free(out);
    free(a);
}
END_TEST

START_TEST(quoted_paths)
{
    /* A CA path with a blank, a quote and a backslash survives the
     * policy line the command builds. */
    char *dir = tu_mkdtemp("cli");
    char *ca = tu_strf("%s/my \"root\\ca\".pem", dir);
    char *pem = tu_read_file(tu_pki("root-ca.pem"), NULL);
    ck_assert_ptr_nonnull(pem);
    tu_write_file(ca, pem);
    char *out = NULL;
    char *a = tu_strf("verify --ca-file '%s' '%s'", ca, tu_pki("client-chain.pem"));
    ck_assert_int_eq(run(&out, a), 0);
    free(out);
    free(a);
    free(pem);
    free(ca);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(usage_errors_exit2)
{
    char ca[1024], cert[1024];
    snprintf(ca, sizeof ca, "'%s'", tu_pki("ca-file.pem"));
    snprintf(cert, sizeof cert, "'%s'", tu_pki("client-chain.pem"));
    char *bad[] = {
        tu_strf("%s", ""),
        tu_strf("frobnicate"),
        tu_strf("verify"),
        tu_strf("verify --no-such-option %s", cert),
        tu_strf("verify %s", cert),                                   /* no --ca-file */
        tu_strf("verify --ca-file %s --crl-check sometimes %s", ca, cert),
        tu_strf("verify --ca-file %s --depth many %s", ca, cert),
        tu_strf("verify --ca-file %s --format xml %s", ca, cert),
        tu_strf("verify --ca-file %s %s %s", ca, cert, cert),
        tu_strf("verify --ca-file %s /nonexistent/cert.pem", ca),
        tu_strf("verify --ca-file /nonexistent/ca.pem %s", cert),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *out = NULL;
        int st = run(&out, bad[i]);
        ck_assert_msg(st == 2, "'%s' exited %d, want 2:\n%s", bad[i], st, out);
        ck_assert_msg(strlen(out) > 0, "'%s' printed nothing", bad[i]);
        free(out);
        free(bad[i]);
    }
}
END_TEST

START_TEST(version_and_help)
{
    char *out = NULL;
    ck_assert_int_eq(run(&out, "--version"), 0);
    HAS(out, "certrole 0.");
    free(out);
    ck_assert_int_eq(run(&out, "--help"), 0);
    HAS(out, "verify");
    HAS(out, "policy-check");
    free(out);
    ck_assert_int_eq(run(&out, "verify --help"), 0);
    HAS(out, "--ca-file");
    free(out);
}
END_TEST

static Suite *cli_suite(void)
{
    Suite *s = suite_create("cli");
    TCase *t = tcase_create("verify");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, valid_chain_exit0);
    tcase_add_test(t, expired_exit1_with_hint);
    tcase_add_test(t, json_valid);
    tcase_add_test(t, json_revoked);
    tcase_add_test(t, json_decode_error);
    tcase_add_test(t, failure_codes);
    tcase_add_test(t, bad_signature_with_chain_option);
    tcase_add_test(t, chain_option_der_leaf);
    tcase_add_test(t, stdin_input);
    tcase_add_test(t, p12_password);
    tcase_add_test(t, p7b_and_ca_dir);
    tcase_add_test(t, validation_time);
    tcase_add_test(t, quoted_paths);
    tcase_add_test(t, usage_errors_exit2);
    tcase_add_test(t, version_and_help);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return tu_run_suite(cli_suite());
}
