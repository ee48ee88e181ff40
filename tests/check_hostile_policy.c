/* Hostile policies and realm files (part of tests/check_hostile): quotes
 * left open, realm modules from outside the module directory, oversize
 * lines and files. A policy that fails never yields a context. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "certrole.h"
#include "hostile_util.h"
#include "testutil.h"

static void setup(void)
{
    setenv("CERTROLE_REALM_DIR", hx("mods"), 1);
}

static char *trust_line(void)
{
    return tu_strf("trust ca-file=%s\n", tu_pki("ca-file.pem"));
}

START_TEST(policy_realm_line_with_unterminated_quote)
{
    char *t = trust_line();
    char *text = tu_strf("%srealm required file \"path=users.realm\n", t);
    hx_open_fails(text, CERTROLE_E_POLICY_ERROR, "hostile.policy:2:");
    hx_open_fails(text, CERTROLE_E_POLICY_ERROR, "unterminated");
    free(text);
    /* A quote left open must not swallow the next line either. */
    text = tu_strf("%srealm required test \"roles=admin\nrealm required test answer=notfound\"\n", t);
    hx_open_fails(text, CERTROLE_E_POLICY_ERROR, "unterminated");
    free(text);
    free(t);
}
END_TEST

START_TEST(realm_file_line_with_unterminated_quote)
{
    char *t = trust_line();
    tu_write_file(hx("open-quote.realm"),
                  "\"CN=CRMApplication,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US  admin\n"
                  "\"CN=Guest User,OU=Marketing,O=Acme Corp\" guest\n");
    char *text = tu_strf("%srealm required file path=open-quote.realm\n", t);
    hx_open_fails(text, CERTROLE_E_POLICY_ERROR, "open-quote.realm:1:");
    hx_open_fails(text, CERTROLE_E_POLICY_ERROR, "unterminated quoted DN");
    free(text);
    /* A quote escaped to the end of the line. */
    tu_write_file(hx("escaped-quote.realm"), "\"CN=x\\\" admin\n");
    text = tu_strf("%srealm required file path=escaped-quote.realm\n", t);
    hx_open_fails(text, CERTROLE_E_POLICY_ERROR, "unterminated");
    free(text);
    free(t);
}
END_TEST

START_TEST(realm_module_outside_the_module_directory)
{
    char *t = trust_line();
    tu_write_file(hx("users.realm"), "\"CN=CRMApplication,OU=Sales,O=Acme Corp,"
                  "L=San Francisco,ST=CA,C=US\" admin\n");
    char *cmd = tu_strf("mkdir -p '%s/evil' '%s/mods-evil' && cp '%s/mods/realm_file.so' '%s/evil/' && "
                        "cp '%s/mods/realm_file.so' '%s/mods-evil/' && "
                        "ln -sf ../evil/realm_file.so '%s/mods/realm_evil.so'",
                        hx_dir(), hx_dir(), hx_dir(), hx_dir(), hx_dir(), hx_dir(), hx_dir());
    ck_assert_int_eq(tu_run(cmd, NULL), 0);
    free(cmd);
    static const char *const outside[] = {
        "/evil/realm_file.so",             /* absolute path elsewhere */
        "/mods/../evil/realm_file.so",     /* climbing out with .. */
        "/mods-evil/realm_file.so",        /* a sibling sharing the prefix */
        "/mods/realm_evil.so",             /* a symlink leading out */
    };
    for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
        char *mod = tu_strf("%s%s", hx_dir(), outside[i]);
        char *text = tu_strf("%srealm required %s path=users.realm\n", t, mod);
        hx_open_fails(text, CERTROLE_E_POLICY_ERROR, "outside the module directory");
        hx_open_fails(text, CERTROLE_E_POLICY_ERROR, "hostile.policy:2:");
        free(text);
        free(mod);
    }
    /* By name, the symlink is refused the same way. */
    char *text = tu_strf("%srealm required evil path=users.realm\n", t);
    hx_open_fails(text, CERTROLE_E_POLICY_ERROR, "outside the module directory");
    free(text);
    /* Names that are not plain module names. */
    text = tu_strf("%srealm required FILE path=users.realm\n", t);
    hx_open_fails(text, CERTROLE_E_POLICY_ERROR, "bad realm module name");
    free(text);
    text = tu_strf("%srealm required ../evil/realm_file.so path=users.realm\n", t);
    hx_open_fails(text, CERTROLE_E_POLICY_ERROR, "realm module");
    free(text);
    /* Positive control: the same module by path inside the directory. */
    text = tu_strf("%srealm required %s/mods/realm_file.so path=users.realm\n", t, hx_dir());
    certrole_ctx *ctx = hx_open(text);
    certrole_result *res = hx_verify(ctx, tu_pki("client-chain.pem"));
    ck_assert_msg(certrole_result_allowed(res), "%s", certrole_result_message(res));
    certrole_result_free(res);
    certrole_close(ctx);
    free(text);
    free(t);
}
END_TEST

/* n bytes of c, NUL-terminated. */
static char *filled(size_t n, char c)
{
    char *s = malloc(n + 1);
    ck_assert_ptr_nonnull(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

START_TEST(oversize_policy_and_realm_lines)
{
    char *t = trust_line();
    /* A policy file over the 16 MB limit. */
    char *path = tu_strf("%s/huge.policy", hx_dir());
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert(fputs(t, f) >= 0);
    char *comment = filled(1024 * 1024, 'x');
    comment[0] = '#';
    for (int i = 0; i < 17; i++)
        ck_assert(fputs(comment, f) >= 0 && fputc('\n', f) != EOF);
    ck_assert_int_eq(fclose(f), 0);
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    certrole_code rc = certrole_open(&ctx, path, &err);
    ck_assert_msg(rc != CERTROLE_OK && ctx == NULL, "a 17 MB policy was accepted");
    /* certrole_open's contract: an unreadable policy file is io_error. */
    ck_assert_msg(rc == CERTROLE_E_IO, "%s: %s", certrole_code_name(rc), err ? err : "");
    ck_assert_msg(err && strstr(err, "too large"), "%s", err ? err : "");
    certrole_free(err);
    unlink(path);
    free(path);
    free(comment);

    /* A 2 MB word as a realm argument: the module rejects what it does not know. */
    char *word = filled(2 * 1024 * 1024, 'A');
    char *text = tu_strf("%srealm required test %s\n", t, word);
    hx_open_fails(text, CERTROLE_E_POLICY_ERROR, "unknown argument");
    free(text);
    /* ... and a 2 MB path names no file. */
    text = tu_strf("%srealm required file path=%s\n", t, word);
    certrole_ctx *c2 = NULL;
    err = NULL;
    rc = certrole_open_string(&c2, text, hx("hostile.policy"), &err);
    ck_assert_ptr_null(c2);
    ck_assert_msg(rc == CERTROLE_E_POLICY_ERROR, "%s: %.200s", certrole_code_name(rc), err ? err : "");
    ck_assert_msg(err && strstr(err, "hostile.policy:2:"), "%.300s", err ? err : "");
    certrole_free(err);
    free(text);
    /* A 2 MB trust anchor path. */
    text = tu_strf("trust ca-file=%s\n", word);
    err = NULL;
    rc = certrole_open_string(&c2, text, hx("hostile.policy"), &err);
    ck_assert_ptr_null(c2);
    ck_assert_msg(rc == CERTROLE_E_POLICY_ERROR, "%s: %.200s", certrole_code_name(rc), err ? err : "");
    certrole_free(err);
    free(text);

    /* A realm file line over the 64 KiB line limit. */
    char *dn = tu_strf("\"CN=%.*s,O=Acme Corp\" admin\n", 70000, word);
    tu_write_file(hx("longline.realm"), dn);
    free(dn);
    text = tu_strf("%srealm required file path=longline.realm\n", t);
    hx_open_fails(text, CERTROLE_E_POLICY_ERROR, "line too long");
    free(text);
    /* A 60 KB DN fits the line: loaded (a long CN is not malformed), and
     * it matches nobody. */
    dn = tu_strf("\"CN=%.*s,O=Acme Corp\" admin\n", 60000, word);
    tu_write_file(hx("longdn.realm"), dn);
    free(dn);
    text = tu_strf("%srealm required file path=longdn.realm\n", t);
    certrole_ctx *c3 = NULL;
    err = NULL;
    rc = certrole_open_string(&c3, text, hx("hostile.policy"), &err);
    ck_assert_msg(rc == CERTROLE_OK && c3, "%s: %.300s", certrole_code_name(rc), err ? err : "");
    hx_denied(c3, tu_pki("client-chain.pem"), CERTROLE_E_UNKNOWN_IDENTITY);
    certrole_close(c3);
    certrole_free(err);
    free(text);
    free(word);
    free(t);
}
END_TEST

START_TEST(nul_bytes_in_policy_and_realm_file)
{
    char *t = trust_line();
    char *path = tu_strf("%s/nul.policy", hx_dir());
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert(fputs(t, f) >= 0);
    ck_assert(fwrite("realm required test roles=admin\0x\n", 1, 35, f) == 35);
    ck_assert_int_eq(fclose(f), 0);
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    ck_assert_int_eq(certrole_open(&ctx, path, &err), CERTROLE_E_POLICY_ERROR);
    ck_assert_ptr_null(ctx);
    ck_assert_msg(err && strstr(err, "NUL"), "%s", err ? err : "");
    certrole_free(err);
    free(path);

    path = tu_strf("%s/nul.realm", hx_dir());
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    static const char line[] = "\"CN=CRMApplication\0,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US\" admin\n";
    ck_assert(fwrite(line, 1, sizeof line - 1, f) == sizeof line - 1);
    ck_assert_int_eq(fclose(f), 0);
    char *text = tu_strf("%srealm required file path=nul.realm\n", t);
    err = NULL;
    certrole_code rc = certrole_open_string(&ctx, text, hx("hostile.policy"), &err);
    ck_assert_ptr_null(ctx);
    ck_assert_msg(rc == CERTROLE_E_POLICY_ERROR, "%s: %s", certrole_code_name(rc), err ? err : "");
    certrole_free(err);
    free(text);
    free(path);
    free(t);
}
END_TEST

void hx_add_policy_tcase(Suite *s)
{
    TCase *tc = tcase_create("policies");
    tcase_add_unchecked_fixture(tc, hx_prepare, NULL);
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, policy_realm_line_with_unterminated_quote);
    tcase_add_test(tc, realm_file_line_with_unterminated_quote);
    tcase_add_test(tc, realm_module_outside_the_module_directory);
    tcase_add_test(tc, oversize_policy_and_realm_lines);
    tcase_add_test(tc, nul_bytes_in_policy_and_realm_file);
    suite_add_tcase(s, tc);
}
