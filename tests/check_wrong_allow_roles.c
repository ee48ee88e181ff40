/* Role names that cannot be confused: one rule for every realm (the file
 * realm's, role_name.h), applied by the core where realm answers are
 * merged, so a realm module cannot hand out "x,admin" and have a
 * comma-joined export read it as the roles x and admin. Policies that
 * name such a role do not load. Driven through the public API with the
 * scriptable test realm (tests/realm_test.c) and a real chain. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "certrole.h"
#include "testutil.h"

static char *dir, *chain_pem;
static size_t chain_len;

struct lines { char buf[16384]; };

static void collect(void *ud, certrole_log_level level, const char *line)
{
    struct lines *l = ud;
    size_t used = strlen(l->buf);
    snprintf(l->buf + used, sizeof l->buf - used, "%d|%s\n", (int)level, line);
}

static void setup(void)
{
    dir = tu_mkdtemp("roles");
    /* The test and file realms in one module directory (copies: the
     * loader refuses symlinks that lead out of it). */
    static char libs[4096];
    if (!libs[0])
        snprintf(libs, sizeof libs, "%s", tu_env("CERTROLE_REALM_DIR", tu_build(".libs")));
    char *cmd = tu_strf("mkdir '%s/mods' && cp '%s/realm_file.so' '%s' '%s/mods/'", dir, libs,
                        tu_build("tests/.libs/realm_test.so"), dir);
    char *out = NULL;
    ck_assert_msg(tu_run(cmd, &out) == 0, "%s: %s", cmd, out ? out : "");
    free(out);
    free(cmd);
    char *mods = tu_strf("%s/mods", dir);
    setenv("CERTROLE_REALM_DIR", mods, 1);
    free(mods);
    chain_pem = tu_read_file(tu_pki("client-chain.pem"), &chain_len);
    ck_assert_ptr_nonnull(chain_pem);
}

static void teardown(void)
{
    tu_rmrf(dir);
    free(dir);
    free(chain_pem);
}

/* Opens trust + body; returns the context (or NULL with *err). */
static certrole_ctx *open_policy(const char *body, char **err)
{
    char *text = tu_strf("trust ca-file=%s\noption cache-ttl=0\n%s", tu_pki("ca-file.pem"), body);
    certrole_ctx *ctx = NULL;
    *err = NULL;
    certrole_code rc = certrole_open_string(&ctx, text, "roles.policy", err);
    free(text);
    return rc == CERTROLE_OK ? ctx : NULL;
}

static certrole_ctx *open_ok(const char *body)
{
    char *err = NULL;
    certrole_ctx *ctx = open_policy(body, &err);
    ck_assert_msg(ctx != NULL, "open: %s\n%s", err ? err : "?", body);
    return ctx;
}

static certrole_result *verify(certrole_ctx *ctx)
{
    certrole_result *res = NULL;
    certrole_verify_pem(ctx, chain_pem, chain_len, &res);
    ck_assert_ptr_nonnull(res);
    return res;
}

START_TEST(realm_role_with_a_comma_is_dropped_and_logged)
{
    certrole_ctx *ctx = open_ok("realm required test user=crm roles=reader role=x,admin\n"
                                "require GET /admin admin\n");
    struct lines log = { "" };
    certrole_set_log(ctx, collect, &log);
    certrole_result *res = verify(ctx);
    ck_assert_msg(certrole_result_allowed(res), "%s", certrole_result_message(res));
    ck_assert_int_eq(certrole_result_role_count(res), 1);
    ck_assert_str_eq(certrole_result_role(res, 0), "reader");
    ck_assert(!certrole_result_has_role(res, "x,admin"));
    ck_assert(!certrole_result_has_role(res, "admin"));
    /* The comma-joined views cannot show it either. */
    char *json = certrole_result_json(res);
    ck_assert_ptr_nonnull(json);
    ck_assert_msg(strstr(json, "\"roles\":[\"reader\"]") && !strstr(json, "admin"), "%s", json);
    certrole_free(json);
    ck_assert_int_eq(certrole_authorize(ctx, res, "GET", "/admin"), CERTROLE_E_FORBIDDEN);
    ck_assert_msg(strstr(log.buf, "4|realm test (required roles.policy:3): dropped role "
                                  "\"x,admin\": byte 2 (0x2c) is outside the role-name rule"),
                  "%s", log.buf);
    certrole_result_free(res);
    certrole_close(ctx);
}
END_TEST

START_TEST(every_byte_outside_the_rule_is_dropped_escaped_in_the_log)
{
    /* "a b", "q\"x", "n\nl" (a log-line injection), "é" (UTF-8), "" */
    certrole_ctx *ctx = open_ok("realm required test roles=ok \"role=a b\" role-hex=71227820 "
                                "role-hex=6e0a6c206465636973696f6e3d616c6c6f77 role-hex=c3a9 "
                                "role=\n");
    struct lines log = { "" };
    certrole_set_log(ctx, collect, &log);
    certrole_result *res = verify(ctx);
    ck_assert_msg(certrole_result_allowed(res), "%s", certrole_result_message(res));
    ck_assert_int_eq(certrole_result_role_count(res), 1);
    ck_assert_str_eq(certrole_result_role(res, 0), "ok");
    ck_assert_msg(strstr(log.buf, "dropped role \"a b\": byte 2 (0x20)"), "%s", log.buf);
    ck_assert_msg(strstr(log.buf, "dropped role \"q\\\"x \": byte 2 (0x22)"), "%s", log.buf);
    ck_assert_msg(strstr(log.buf, "dropped role \"n\\x0al decision=allow\": byte 2 (0x0a)"),
                  "%s", log.buf);
    ck_assert_msg(strstr(log.buf, "dropped role \"\xc3\xa9\": byte 1 (0xc3)"), "%s", log.buf);
    ck_assert_msg(strstr(log.buf, "dropped an empty role name"), "%s", log.buf);
    /* Each log call is one line: the newline never reached the sink. */
    for (const char *p = log.buf; *p; p = strchr(p, '\n') + 1)
        ck_assert_msg(p[0] >= '3' && p[0] <= '7' && p[1] == '|', "split line: %s", log.buf);
    certrole_result_free(res);
    certrole_close(ctx);
}
END_TEST

START_TEST(a_found_realm_with_only_bad_roles_gives_no_role)
{
    certrole_ctx *ctx = open_ok("realm sufficient test role=x,admin\n"
                                "realm required test roles=never\n"
                                "require GET / admin x\n");
    certrole_result *res = verify(ctx);
    ck_assert(certrole_result_allowed(res));
    ck_assert_int_eq(certrole_result_role_count(res), 0);
    ck_assert_int_eq(certrole_authorize(ctx, res, "GET", "/"), CERTROLE_E_FORBIDDEN);
    certrole_result_free(res);
    certrole_close(ctx);
}
END_TEST

static void policy_refused(const char *body, const char *want)
{
    char *err = NULL;
    certrole_ctx *ctx = open_policy(body, &err);
    ck_assert_msg(ctx == NULL, "loaded: %s", body);
    ck_assert_msg(err && strstr(err, want), "error \"%s\", wanted \"%s\"", err ? err : "", want);
    certrole_free(err);
}

START_TEST(require_with_a_comma_role_is_a_policy_error)
{
    policy_refused("require GET /a r,s\n",
                   "roles.policy:3:16: require: role name 'r,s' contains ','; list roles as "
                   "separate words");
    policy_refused("require GET /a ok \"r s\"\n",
                   "roles.policy:3:19: require: role name 'r s' has a character outside "
                   "A-Z a-z 0-9 . _ : -");
    policy_refused("require GET /a \"\"\n", "roles.policy:3:16: require: empty role name");
    policy_refused("require GET /a **\n", "roles.policy:3:16: require: role name '**'");
    /* '*' alone keeps its meaning: every accepted peer. */
    certrole_ctx *ctx = open_ok("require GET /a r s\nrequire GET /b *\n");
    certrole_close(ctx);
}
END_TEST

START_TEST(file_realm_keeps_the_same_rule)
{
    char *users = tu_strf("%s/users.realm", dir);
    tu_write_file(users, "\"CN=CRMApplication,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US\" "
                         "x,admin\n");
    char *body = tu_strf("realm required file path=%s\n", users);
    certrole_ctx *ctx = open_ok(body);   /* "x" and "admin": two roles, as written */
    certrole_result *res = verify(ctx);
    ck_assert_int_eq(certrole_result_role_count(res), 2);
    certrole_result_free(res);
    certrole_close(ctx);
    free(body);
    tu_write_file(users, "\"CN=CRMApplication,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US\" "
                         "x;admin\n");
    body = tu_strf("realm required file path=%s\n", users);
    policy_refused(body, "bad character in role name (allowed: A-Z a-z 0-9 . _ : -)");
    free(body);
    free(users);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("wrong allow: role names");
    TCase *tc = tcase_create("roles");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, realm_role_with_a_comma_is_dropped_and_logged);
    tcase_add_test(tc, every_byte_outside_the_rule_is_dropped_escaped_in_the_log);
    tcase_add_test(tc, a_found_realm_with_only_bad_roles_gives_no_role);
    tcase_add_test(tc, require_with_a_comma_role_is_a_policy_error);
    tcase_add_test(tc, file_realm_keeps_the_same_rule);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
