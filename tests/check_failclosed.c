/* Fail-closed audit of the realm stack: for every control and every
 * two-realm stack around it, a realm whose backend fails never turns into
 * "allow". The failing realm is, in turn, the test plugin answering
 * "unavailable", the test plugin answering a status outside the enum, and
 * the real ldap realm pointed at a port where nothing listens; the first
 * two also hand back a user and roles with their failure (a buggy module),
 * which must never reach the result.
 *
 * For each stack the outcome is compared with the same stack where the
 * failing realm answers "not found": an error may never be more
 * permissive than a plain "no" (same decision, same roles), a failing
 * required/requisite realm always denies, and the code of a denial is
 * the PAM one: the first required/requisite failure, else the worst
 * ignored answer (realm_unavailable). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "certrole.h"
#include "testutil.h"

static const char *const controls[] = { "required", "requisite", "sufficient", "optional" };
enum { REQUIRED, REQUISITE, SUFFICIENT, OPTIONAL };

static char *dir, *chain_pem;
static size_t chain_len;
static int dead_port;

static void setup(void)
{
    dir = tu_mkdtemp("failclosed");
    /* The test and ldap realms in one module directory (copies: the
     * loader refuses symlinks that lead out of it). */
    static char libs[4096];   /* the built modules, before setenv below */
    if (!libs[0])
        snprintf(libs, sizeof libs, "%s", tu_env("CERTROLE_REALM_DIR", tu_build(".libs")));
    char *cmd = tu_strf("mkdir '%s/mods' && cp '%s/realm_ldap.so' '%s' '%s/mods/'", dir, libs,
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
    dead_port = tu_free_port();   /* nothing listens there */
}

static void teardown(void)
{
    tu_rmrf(dir);
    free(dir);
    free(chain_pem);
}

/* The failing backends, as realm module + arguments. */
static char *failing(int which)
{
    switch (which) {
    case 0: return strdup("test answer=unavailable leak user=evil roles=admin");
    case 1: return strdup("test answer=invalid leak user=evil roles=admin");
    default:
        return tu_strf("ldap uri=ldap://127.0.0.1:%d map=dn base=c=US timeout=1 "
                       "network-timeout=1", dead_port);
    }
}
#define N_FAILING 3

struct outcome {
    certrole_code code;
    int allowed;
    char roles[256];
    char user[64];
    char message[512];
};

/* Verifies the client under trust + the given realm lines. */
static struct outcome run(const char *realms)
{
    char *text = tu_strf("trust ca-file=%s\noption cache-ttl=0 deny-ttl=0\n%s",
                         tu_pki("ca-file.pem"), realms);
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    certrole_code rc = certrole_open_string(&ctx, text, "failclosed.policy", &err);
    ck_assert_msg(rc == CERTROLE_OK, "open: %s\n%s", err ? err : "?", text);
    free(text);
    certrole_result *res = NULL;
    struct outcome o;
    memset(&o, 0, sizeof o);
    o.code = certrole_verify_pem(ctx, chain_pem, chain_len, &res);
    ck_assert_ptr_nonnull(res);
    o.allowed = certrole_result_allowed(res);
    ck_assert_int_eq(o.code, certrole_result_code(res));
    ck_assert_int_eq(o.allowed, o.code == CERTROLE_OK);
    for (size_t i = 0; i < certrole_result_role_count(res); i++) {
        strncat(o.roles, certrole_result_role(res, i), sizeof o.roles - strlen(o.roles) - 2);
        strcat(o.roles, ",");
    }
    if (certrole_result_user(res))
        snprintf(o.user, sizeof o.user, "%s", certrole_result_user(res));
    snprintf(o.message, sizeof o.message, "%s", certrole_result_message(res));
    /* A denied peer never passes a resource check, whatever it asks. */
    if (!o.allowed)
        ck_assert_int_ne(certrole_authorize(ctx, res, "GET", "/anything"), CERTROLE_OK);
    certrole_result_free(res);
    certrole_close(ctx);
    return o;
}

/* Never a trace of what the failing realm handed back. */
static void no_leak(const struct outcome *o, const char *stack)
{
    ck_assert_msg(!strstr(o->roles, "admin"), "%s: failed realm's role leaked: %s", stack, o->roles);
    ck_assert_msg(strcmp(o->user, "evil") != 0, "%s: failed realm's user leaked", stack);
    if (!o->allowed) {
        ck_assert_msg(o->roles[0] == '\0' && o->user[0] == '\0',
                      "%s: a denied peer has roles \"%s\" / user \"%s\"", stack, o->roles, o->user);
    }
}

START_TEST(single_failing_realm_denies_under_every_control)
{
    for (int f = 0; f < N_FAILING; f++) {
        char *mod = failing(f);
        for (int c = 0; c < 4; c++) {
            char *stack = tu_strf("realm %s %s\n", controls[c], mod);
            struct outcome o = run(stack);
            ck_assert_msg(o.code == CERTROLE_E_REALM_UNAVAILABLE, "%s-> %s (%s)", stack,
                          certrole_code_name(o.code), o.message);
            no_leak(&o, stack);
            free(stack);
        }
        free(mod);
    }
}
END_TEST

/* Expected code of the two-realm stack [first, second] by the policy's
 * documented rule: the first required/requisite failure decides; with no
 * failure of those, any success allows; else the worst ignored answer. */
static certrole_code expected(int c1, certrole_code a1, int c2, certrole_code a2)
{
    int ctl[2] = { c1, c2 };
    certrole_code ans[2] = { a1, a2 };
    int any_ok = 0;
    certrole_code worst = CERTROLE_OK;
    for (int i = 0; i < 2; i++) {
        if (ans[i] == CERTROLE_OK) {
            any_ok = 1;
            if (ctl[i] == SUFFICIENT)
                return CERTROLE_OK;       /* no earlier required failure here */
            continue;
        }
        if (ctl[i] == REQUIRED || ctl[i] == REQUISITE)
            return ans[i];
        if (worst != CERTROLE_E_REALM_UNAVAILABLE)
            worst = ans[i];
    }
    return any_ok ? CERTROLE_OK : worst;
}

START_TEST(two_realm_stacks_never_allow_more_on_error)
{
    int checked = 0;
    for (int f = 0; f < N_FAILING; f++) {
        char *mod = failing(f);
        for (int ce = 0; ce < 4; ce++)
            for (int co = 0; co < 4; co++)
                for (int other_found = 0; other_found < 2; other_found++)
                    for (int e_first = 0; e_first < 2; e_first++) {
                        char *e = tu_strf("realm %s %s\n", controls[ce], mod);
                        char *e_nf = tu_strf("realm %s test answer=notfound leak user=evil "
                                             "roles=admin\n", controls[ce]);
                        char *o = tu_strf("realm %s test user=good roles=ok%s\n", controls[co],
                                          other_found ? "" : " answer=notfound");
                        char *stack = e_first ? tu_strf("%s%s", e, o) : tu_strf("%s%s", o, e);
                        char *stack_nf = e_first ? tu_strf("%s%s", e_nf, o) : tu_strf("%s%s", o, e_nf);
                        struct outcome got = run(stack), nf = run(stack_nf);
                        no_leak(&got, stack);
                        no_leak(&nf, stack_nf);
                        /* An error is never more permissive than "not found". */
                        if (got.allowed)
                            ck_assert_msg(nf.allowed && strcmp(got.roles, nf.roles) == 0 &&
                                          strcmp(got.user, nf.user) == 0,
                                          "%s allowed (%s) where not-found gives %s", stack,
                                          got.roles, certrole_code_name(nf.code));
                        /* A failing required/requisite realm that is asked
                         * always denies (PAM: a sufficient success before it
                         * ends the stack, and then it is never asked). */
                        int asked = e_first || !(other_found && co == SUFFICIENT);
                        if (asked && (ce == REQUIRED || ce == REQUISITE))
                            ck_assert_msg(!got.allowed, "%s allowed", stack);
                        certrole_code oc = other_found ? CERTROLE_OK : CERTROLE_E_UNKNOWN_IDENTITY;
                        certrole_code want = e_first
                            ? expected(ce, CERTROLE_E_REALM_UNAVAILABLE, co, oc)
                            : expected(co, oc, ce, CERTROLE_E_REALM_UNAVAILABLE);
                        ck_assert_msg(got.code == want, "%s-> %s, expected %s (%s)", stack,
                                      certrole_code_name(got.code), certrole_code_name(want),
                                      got.message);
                        if (got.allowed)
                            ck_assert_str_eq(got.roles, "ok,");
                        checked++;
                        free(e); free(e_nf); free(o); free(stack); free(stack_nf);
                    }
        free(mod);
    }
    ck_assert_int_eq(checked, N_FAILING * 64);
}
END_TEST

START_TEST(failure_message_names_the_failing_backend)
{
    char *mod = failing(2);
    char *stack = tu_strf("realm required %s\n", mod);
    struct outcome o = run(stack);
    ck_assert_int_eq(o.code, CERTROLE_E_REALM_UNAVAILABLE);
    ck_assert_msg(strstr(o.message, "ldap") != NULL, "%s", o.message);
    free(stack);
    free(mod);
}
END_TEST

START_TEST(a_realm_that_cannot_open_refuses_the_policy)
{
    char *text = tu_strf("trust ca-file=%s\nrealm optional test fail-open\n", tu_pki("ca-file.pem"));
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    ck_assert_int_eq(certrole_open_string(&ctx, text, "failclosed.policy", &err),
                     CERTROLE_E_POLICY_ERROR);
    ck_assert_ptr_null(ctx);
    ck_assert_msg(err && strstr(err, "fail-open"), "%s", err ? err : "");
    certrole_free(err);
    free(text);
}
END_TEST

static Suite *failclosed_suite(void)
{
    Suite *s = suite_create("fail closed");
    TCase *tc = tcase_create("stack");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, single_failing_realm_denies_under_every_control);
    tcase_add_test(tc, two_realm_stacks_never_allow_more_on_error);
    tcase_add_test(tc, failure_message_names_the_failing_backend);
    tcase_add_test(tc, a_realm_that_cannot_open_refuses_the_policy);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(failclosed_suite());
}
