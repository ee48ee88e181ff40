/* 'certrole check' and 'certrole policy-check', run as a person or a
 * script would, on a real policy with a file realm and resource rules:
 * exit 0 allow / 1 deny / 2 usage or policy error, the human output, the
 * JSON object with decision, user, roles, realm, and the lint summary. */
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
    dir = tu_mkdtemp("clicheck");
    char *realm = tu_strf("%s/users.realm", dir);
    tu_write_file(realm, "\"" CRM_DN "\" invoice-readonly user=crm\n");
    policy = tu_strf("%s/acme.policy", dir);
    char *text = tu_strf("# the Acme invoice service\n"
                         "trust ca-file=\"%s\" crl-file=\"%s\" crl-check=chain\n"
                         "realm required file path=users.realm\n"
                         "require GET /InvoiceService/list invoice-readonly\n"
                         "require * /admin invoice-admin\n",
                         tu_pki("ca-file.pem"), tu_pki("crl.pem"));
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


/* "check --policy <acme> [rest] <pki file>" */
static int check(char **out, const char *rest, const char *pkifile)
{
    return tu_certrole(out, "check --policy '%s' %s '%s'", policy, rest, tu_pki(pkifile));
}

START_TEST(allow_with_user_roles_realm)
{
    char *out = NULL;
    ck_assert_int_eq(check(&out, "", "client-chain.pem"), 0);
    HAS(out, "decision: allow");
    HAS(out, "code: ok");
    HAS(out, "subject: CN=CRMApplication,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US");
    HAS(out, "user: crm");
    HAS(out, "roles: invoice-readonly");
    HAS(out, "realm: file");
    free(out);
}
END_TEST

START_TEST(json_allow_on_resource)
{
    char *out = NULL;
    ck_assert_int_eq(check(&out, "--json --method GET --path /InvoiceService/list",
                           "client-chain.pem"), 0);
    static const char *const keys[] = {
        "\"ok\":true", "\"decision\":\"allow\"", "\"code\":\"ok\"", "\"user\":\"crm\"",
        "\"roles\":[\"invoice-readonly\"]", "\"realm\":\"file\"", "\"authorized\":true",
        "\"resource\":\"GET /InvoiceService/list\"", "\"fingerprint_sha256\":\"",
        "\"subject\":\"CN=CRMApplication,", "\"san\":[" };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        HAS(out, keys[i]);
    ck_assert_msg(out[0] == '{' && strchr(out, '\n') == strrchr(out, '\n'),
                  "not one JSON line: %s", out);
    free(out);
}
END_TEST

START_TEST(json_forbidden_on_resource)
{
    char *out = NULL;
    /* Mapped and verified, but /admin needs invoice-admin: exit 1. */
    ck_assert_int_eq(check(&out, "--json --method GET --path /admin/users", "client-chain.pem"),
                     1);
    HAS(out, "\"ok\":false");
    HAS(out, "\"decision\":\"deny\"");
    HAS(out, "\"code\":\"forbidden\"");
    HAS(out, "invoice-admin");
    HAS(out, "\"authorized\":false");
    HAS(out, "\"user\":\"crm\"");
    /* which rule, which roles, which path: from the library's answer */
    HAS(out, "\"judged_path\":\"/admin/users\"");
    HAS(out, "\"required_roles\":[\"invoice-admin\"]");
    char *rule = tu_strf("\"rule\":\"%s:", policy);
    HAS(out, rule);
    free(rule);
    free(out);
    ck_assert_int_eq(check(&out, "--method GET --path /admin", "client-chain.pem"), 1);
    HAS(out, "decision: deny");
    HAS(out, "code: forbidden");
    HAS(out, "hint: ");
    HAS(out, "judged path: /admin\n");
    HAS(out, " requires invoice-admin\n");
    free(out);
}
END_TEST

START_TEST(denials_exit1_with_json_names)
{
    static const struct { const char *file; const char *code; } cases[] = {
        { "norole-chain.pem", "\"code\":\"unknown_identity\"" },
        { "other-client.pem", "\"code\":\"untrusted_issuer\"" },
        { "expired-chain.pem", "\"code\":\"expired\"" },
        { "revoked-chain.pem", "\"code\":\"revoked\"" },
        { "serveronly-chain.pem", "\"code\":\"wrong_purpose\"" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = NULL;
        ck_assert_msg(check(&out, "--json", cases[i].file) == 1, "%s: %s", cases[i].file, out);
        HAS(out, cases[i].code);
        HAS(out, "\"decision\":\"deny\"");
        HAS(out, "\"hint\":\"");
        ck_assert_ptr_null(strstr(out, "\"hint\":\"\""));
        free(out);
    }
}
END_TEST

START_TEST(p12_chain_and_stdin_inputs)
{
    char *out = NULL;
    ck_assert_int_eq(check(&out, "--password secret --json", "client.p12"), 0);
    HAS(out, "\"user\":\"crm\"");
    free(out);
    ck_assert_int_eq(check(&out, "--password wrong --json", "client.p12"), 1);
    HAS(out, "\"code\":\"bad_password\"");
    free(out);
    char *rest = tu_strf("--chain '%s'", tu_pki("int-ca.pem"));
    ck_assert_int_eq(check(&out, rest, "client.pem"), 0);
    HAS(out, "user: crm");
    free(out);
    free(rest);
    ck_assert_int_eq(tu_certrole(&out, "check --policy '%s' - < '%s'", policy, tu_pki("client-chain.pem")),
                     0);
    HAS(out, "decision: allow");
    free(out);
}
END_TEST

START_TEST(policy_and_usage_errors_exit2)
{
    char *out = NULL;
    char *bad = tu_strf("%s/bad.policy", dir);
    tu_write_file(bad, "trust ca-file=/nonexistent/ca.pem\n");
    ck_assert_int_eq(tu_certrole(&out, "check --policy '%s' '%s'", bad, tu_pki("client-chain.pem")), 2);
    HAS(out, "bad.policy:1:");
    free(out);
    tu_write_file(bad, "trust ca-file=\"x\"\nrealm sometimes file\n");
    ck_assert_int_eq(tu_certrole(&out, "check --policy '%s' '%s'", bad, tu_pki("client-chain.pem")), 2);
    HAS(out, "bad.policy:2:");
    free(out);
    ck_assert_int_eq(tu_certrole(&out, "check '%s'", tu_pki("client-chain.pem")), 2);
    HAS(out, "--policy is required");
    free(out);
    ck_assert_int_eq(check(&out, "--method GET", "client-chain.pem"), 2);
    HAS(out, "--method and --path go together");
    free(out);
    ck_assert_int_eq(tu_certrole(&out, "check --policy '%s'", policy), 2);
    free(out);
    ck_assert_int_eq(tu_certrole(&out, "check --policy '%s' --bogus x", policy), 2);
    free(out);
    ck_assert_int_eq(tu_certrole(&out, "check --policy '%s' '%s/missing.pem'", policy, dir), 2);
    HAS(out, "missing.pem");
    free(out);
    free(bad);
}
END_TEST

START_TEST(policy_check_lints)
{
    char *out = NULL;
    ck_assert_int_eq(tu_certrole(&out, "policy-check '%s'", policy), 0);
    HAS(out, "OK: ");
    HAS(out, "trust:");
    HAS(out, "realms: 1");
    HAS(out, "required");
    HAS(out, "rules: 2");
    HAS(out, "/InvoiceService/list");
    free(out);
    /* An include is followed and counted. */
    char *inc = tu_strf("%s/more.inc", dir), *main_p = tu_strf("%s/main.policy", dir);
    tu_write_file(inc, "require GET /reports invoice-readonly\n");
    char *text = tu_read_file(policy, NULL);
    char *t2 = tu_strf("%sinclude more.inc\n", text);
    tu_write_file(main_p, t2);
    ck_assert_int_eq(tu_certrole(&out, "policy-check '%s'", main_p), 0);
    HAS(out, "rules: 3");
    HAS(out, "files: 2");
    free(out);
    /* An error names file:line:column; exit 2. */
    tu_write_file(inc, "require GET\n");
    ck_assert_int_eq(tu_certrole(&out, "policy-check '%s'", main_p), 2);
    HAS(out, "more.inc:1:");
    free(out);
    ck_assert_int_eq(tu_certrole(&out, "policy-check"), 2);
    free(out);
    free(t2);
    free(text);
    free(inc);
    free(main_p);
}
END_TEST

static Suite *cli_check_suite(void)
{
    Suite *s = suite_create("cli_check");
    TCase *t = tcase_create("check");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 60);
    tcase_add_test(t, allow_with_user_roles_realm);
    tcase_add_test(t, json_allow_on_resource);
    tcase_add_test(t, json_forbidden_on_resource);
    tcase_add_test(t, denials_exit1_with_json_names);
    tcase_add_test(t, p12_chain_and_stdin_inputs);
    tcase_add_test(t, policy_and_usage_errors_exit2);
    tcase_add_test(t, policy_check_lints);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return tu_run_suite(cli_check_suite());
}
