/* The certrole command tells the truth: with --json every outcome,
 * usage and file errors included, is one JSON object on standard output
 * (and nothing on standard error) with exit status 2 for errors; an empty
 * --method is a usage error; a PKCS#12 file without an integrity MAC is
 * described as what it is; a denied peer reports no realm. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"

#define CRM_DN "CN=CRMApplication, OU=Sales, O=Acme Corp, L=San Francisco, ST=CA, C=US"
#define HAS(out, s) ck_assert_msg(strstr((out), (s)) != NULL, "output lacks '%s':\n%s", (s), (out))

static char *dir, *policy;

static void setup(void)
{
    dir = tu_mkdtemp("clitruth");
    char *realm = tu_strf("%s/users.realm", dir);
    tu_write_file(realm, "\"" CRM_DN "\" invoice-readonly user=crm\n");
    policy = tu_strf("%s/acme.policy", dir);
    char *text = tu_strf("trust ca-file=\"%s\"\n"
                         "realm required file path=users.realm\n"
                         "require GET /InvoiceService/list invoice-readonly\n",
                         tu_pki("ca-file.pem"));
    tu_write_file(policy, text);
    free(text);
    free(realm);
}

static void teardown(void)
{
    tu_rmrf(dir);
    free(dir);
    free(policy);
}

/* Runs "certrole ARGS"; stdout in *out, stderr in *err; the status. */
static int run2(char **out, char **err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int run2(char **out, char **err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *args = NULL;
    ck_assert_int_ge(vasprintf(&args, fmt, ap), 0);
    va_end(ap);
    char *errfile = tu_strf("%s/stderr", dir);
    char *cmd = tu_strf("'%s' %s 2>'%s'", tu_build("certrole"), args, errfile);
    int st = tu_run(cmd, out);
    ck_assert_ptr_nonnull(*out);
    *err = tu_read_file(errfile, NULL);
    if (!*err)
        *err = strdup("");
    free(cmd);
    free(errfile);
    free(args);
    return st;
}

/* stdout is exactly one line holding one object that starts with
 * {"ok":false,"code":"<code>","message":" and mentions want; stderr is
 * empty; the status is 2. */
static void json_error(const char *code, const char *want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void json_error(const char *code, const char *want, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *args = NULL;
    ck_assert_int_ge(vasprintf(&args, fmt, ap), 0);
    va_end(ap);
    char *out = NULL, *err = NULL;
    int st = run2(&out, &err, "%s", args);
    ck_assert_msg(st == 2, "'%s' exited %d:\n%s%s", args, st, out, err);
    char *head = tu_strf("{\"ok\":false,\"code\":\"%s\",\"message\":\"", code);
    ck_assert_msg(strncmp(out, head, strlen(head)) == 0, "'%s' printed:\n%s", args, out);
    size_t n = strlen(out);
    ck_assert_msg(n >= 2 && out[n - 1] == '\n' && out[n - 2] == '}' && !memchr(out, '\n', n - 1),
                  "not one line ending in '}': %s", out);
    HAS(out, want);
    ck_assert_msg(*err == '\0', "'%s' wrote to stderr: %s", args, err);
    free(head);
    free(out);
    free(err);
    free(args);
}

START_TEST(json_usage_and_file_errors_are_json)
{
    const char *ca = tu_pki("ca-file.pem"), *cert = tu_pki("client-chain.pem");
    json_error("invalid_argument", "--depth must be a number", "verify --json --ca-file '%s' "
               "--depth many '%s'", ca, cert);
    /* --json after the bad option still counts */
    json_error("invalid_argument", "--crl-check must be none", "verify --ca-file '%s' "
               "--crl-check sometimes '%s' --json", ca, cert);
    json_error("invalid_argument", "option --no-such-option is unknown",
               "verify --json --ca-file '%s' --no-such-option '%s'", ca, cert);
    json_error("invalid_argument", "option --ca-file needs a value", "verify '%s' --json --ca-file",
               cert);
    json_error("invalid_argument", "--ca-file (or --ca-dir) is required", "verify --json '%s'", cert);
    json_error("io_error", "/nonexistent/cert.pem: No such file",
               "verify --json --ca-file '%s' /nonexistent/cert.pem", ca);
    json_error("policy_error", "/nonexistent/ca.pem", "verify --json --ca-file /nonexistent/ca.pem '%s'",
               cert);
    json_error("io_error", "missing.pem: No such file", "check --json --policy '%s' '%s/missing.pem'",
               policy, dir);
    json_error("invalid_argument", "--policy is required", "check --json '%s'", cert);
    json_error("invalid_argument", "--method and --path go together",
               "check --json --policy '%s' --method GET '%s'", policy, cert);
    json_error("io_error", "nope.policy: cannot read policy", "check --json --policy '%s/nope.policy' '%s'", dir, cert);
    /* Control characters in the message stay inside the JSON string. */
    json_error("io_error", "a\\nb.pem", "verify --json --ca-file '%s' \"$(printf 'a\\nb.pem')\"", ca);
}
END_TEST

START_TEST(empty_or_bad_method_is_a_usage_error)
{
    char *out = NULL, *err = NULL;
    const char *cert = tu_pki("client-chain.pem");
    int st = run2(&out, &err, "check --policy '%s' --method '' --path /InvoiceService/list '%s'",
                  policy, cert);
    ck_assert_msg(st == 2, "exit %d:\n%s%s", st, out, err);
    HAS(err, "--method '' is not an HTTP method");
    free(out);
    free(err);
    json_error("invalid_argument", "not an HTTP method",
               "check --json --policy '%s' --method 'G T' --path / '%s'", policy, cert);
    json_error("invalid_argument", "--path must not be empty",
               "check --json --policy '%s' --method GET --path '' '%s'", policy, cert);
    /* A real method still decides as before. */
    st = run2(&out, &err, "check --policy '%s' --method GET --path /InvoiceService/list '%s'",
              policy, cert);
    ck_assert_msg(st == 0, "exit %d:\n%s%s", st, out, err);
    free(out);
    free(err);
}
END_TEST

/* Makes a PKCS#12 of the client chain without an integrity MAC, its
 * certificates encrypted with the password "secret". */
static char *nomac_p12(void)
{
    char *p12 = tu_strf("%s/nomac.p12", dir);
    char *cmd = tu_strf("'%s' pkcs12 -export -inkey '%s' -in '%s' -certfile '%s' -passout pass:secret "
                        "-nomac -certpbe AES-256-CBC -keypbe AES-256-CBC -out '%s' 2>&1",
                        tu_env("OPENSSL", "openssl"), tu_pki("client.key"), tu_pki("client.pem"),
                        tu_pki("int-ca.pem"), p12);
    char *out = NULL;
    ck_assert_msg(tu_run(cmd, &out) == 0, "%s: %s", cmd, out ? out : "");
    free(out);
    free(cmd);
    return p12;
}

START_TEST(pkcs12_without_mac_says_so)
{
    char *p12 = nomac_p12();
    const char *ca = tu_pki("ca-file.pem");
    char *out = NULL, *err = NULL;
    /* The right password: the certificates decrypt and the chain is valid. */
    int st = run2(&out, &err, "verify --ca-file '%s' --password secret '%s'", ca, p12);
    ck_assert_msg(st == 0, "exit %d:\n%s%s", st, out, err);
    HAS(out, "OK: certificate chain is valid");
    free(out);
    free(err);
    /* A wrong one: never "password accepted". */
    st = run2(&out, &err, "verify --ca-file '%s' --password wrong '%s'", ca, p12);
    ck_assert_int_eq(st, 1);
    HAS(out, "NOT VALID (bad_password): PKCS#12: the file has no integrity MAC, so the password "
             "cannot be checked by one; the certificates do not decrypt with the password given");
    ck_assert_msg(!strstr(out, "password accepted") && !strstr(out, "mac verify failure"), "%s", out);
    free(out);
    free(err);
    st = run2(&out, &err, "verify --ca-file '%s' '%s'", ca, p12);
    ck_assert_int_eq(st, 1);
    HAS(out, "NOT VALID (bad_password): PKCS#12: the certificates are encrypted and no password "
             "was given (the file has no integrity MAC)");
    free(out);
    free(err);
    free(p12);
}
END_TEST

START_TEST(denied_peer_reports_no_realm)
{
    char *out = NULL, *err = NULL;
    int st = run2(&out, &err, "check --json --policy '%s' '%s'", policy, tu_pki("norole-chain.pem"));
    ck_assert_msg(st == 1, "exit %d:\n%s%s", st, out, err);
    HAS(out, "\"code\":\"unknown_identity\"");
    HAS(out, "\"realm\":null");
    free(out);
    free(err);
    st = run2(&out, &err, "check --policy '%s' '%s'", policy, tu_pki("norole-chain.pem"));
    ck_assert_int_eq(st, 1);
    HAS(out, "realm file (required");          /* the message names the realm that decided */
    ck_assert_msg(!strstr(out, "\nrealm: "), "a denied peer has no realm:\n%s", out);
    free(out);
    free(err);
    /* An accepted peer names the realm that answered found. */
    st = run2(&out, &err, "check --json --policy '%s' '%s'", policy, tu_pki("client-chain.pem"));
    ck_assert_int_eq(st, 0);
    HAS(out, "\"realm\":\"file\"");
    free(out);
    free(err);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cli truth");
    TCase *t = tcase_create("cli");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 60);
    tcase_add_test(t, json_usage_and_file_errors_are_json);
    tcase_add_test(t, empty_or_bad_method_is_a_usage_error);
    tcase_add_test(t, pkcs12_without_mac_says_so);
    tcase_add_test(t, denied_peer_reports_no_realm);
    suite_add_tcase(s, t);
    return tu_run_suite(s);
}
