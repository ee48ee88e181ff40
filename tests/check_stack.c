/* Realm stack semantics, end to end through the public API: a real chain
 * from the test PKI, verified under policies whose realms are the
 * scriptable test plugin (tests/realm_test.c). A trace file records which
 * realms were asked, in order, so short-circuits are observable. Also
 * argument quoting, role merging, resource rules and the audit line. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "certrole.h"
#include "testutil.h"

static char *dir, *trace;
static char *chain_pem, *norole_pem;
static size_t chain_len, norole_len;

static void setup(void)
{
    setenv("CERTROLE_REALM_DIR", tu_build("tests/.libs"), 1);
    dir = tu_mkdtemp("stack");
    trace = tu_strf("%s/trace", dir);
    chain_pem = tu_read_file(tu_pki("client-chain.pem"), &chain_len);
    norole_pem = tu_read_file(tu_pki("norole-chain.pem"), &norole_len);
    ck_assert_ptr_nonnull(chain_pem);
    ck_assert_ptr_nonnull(norole_pem);
}

static void teardown(void)
{
    tu_rmrf(dir);
    free(dir);
    free(trace);
    free(chain_pem);
    free(norole_pem);
}

/* A realm line of the test module with a trace tag. */
static char *R(const char *control, const char *tag, const char *args)
{
    return tu_strf("realm %s test tag=%s trace=%s %s\n", control, tag, trace, args);
}

/* Opens trust + the given realm lines (each malloc'd, freed here; list
 * ends with NULL) with the cache off. */
static certrole_ctx *open_with(const char *extra, char *first, ...)
{
    size_t cap = 4096;
    char *text = calloc(1, cap);
    ck_assert_ptr_nonnull(text);
    snprintf(text, cap, "trust ca-file=%s\noption cache-ttl=0 deny-ttl=0\n%s",
             tu_pki("ca-file.pem"), extra ? extra : "");
    va_list ap;
    va_start(ap, first);
    for (char *l = first; l; l = va_arg(ap, char *)) {
        ck_assert(strlen(text) + strlen(l) + 1 < cap);
        strcat(text, l);
        free(l);
    }
    va_end(ap);
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    certrole_code rc = certrole_open_string(&ctx, text, "stack.policy", &err);
    ck_assert_msg(rc == CERTROLE_OK, "open: %s\n%s", err ? err : "?", text);
    free(text);
    return ctx;
}

static certrole_result *verify(certrole_ctx *ctx, const char *pem, size_t len)
{
    certrole_result *res = NULL;
    unlink(trace);
    certrole_verify_pem(ctx, pem, len, &res);
    ck_assert_ptr_nonnull(res);
    return res;
}

static void trace_is(const char *want)
{
    char *t = tu_read_file(trace, NULL);
    ck_assert_str_eq(t ? t : "", want);
    free(t);
}

/* Runs the client chain through the stack; checks code and call order. */
static certrole_result *run(certrole_ctx *ctx, certrole_code want, const char *order)
{
    certrole_result *res = verify(ctx, chain_pem, chain_len);
    ck_assert_msg(certrole_result_code(res) == want, "code %s (%s), want %s",
                  certrole_code_name(certrole_result_code(res)), certrole_result_message(res),
                  certrole_code_name(want));
    ck_assert_int_eq(certrole_result_allowed(res), want == CERTROLE_OK);
    if (want != CERTROLE_OK) {
        ck_assert_ptr_null(certrole_result_user(res));
        ck_assert_int_eq(certrole_result_role_count(res), 0);
    }
    trace_is(order);
    return res;
}

static void run_free(certrole_ctx *ctx, certrole_code want, const char *order)
{
    certrole_result_free(run(ctx, want, order));
    certrole_close(ctx);
}

START_TEST(empty_stack_verifies_only)
{
    certrole_ctx *ctx = open_with(NULL, NULL);
    certrole_result *res = run(ctx, CERTROLE_OK, "");
    ck_assert_ptr_null(certrole_result_user(res));
    ck_assert_ptr_null(certrole_result_realm(res));
    ck_assert_int_eq(certrole_result_role_count(res), 0);
    certrole_result_free(res);
    certrole_close(ctx);
}
END_TEST

START_TEST(single_realm_each_answer)
{
    certrole_ctx *ctx = open_with(NULL, R("required", "a", "user=crm roles=r1,r2"), NULL);
    certrole_result *res = run(ctx, CERTROLE_OK, "a\n");
    ck_assert_str_eq(certrole_result_user(res), "crm");
    ck_assert_str_eq(certrole_result_realm(res), "test");
    ck_assert_int_eq(certrole_result_role_count(res), 2);
    ck_assert_str_eq(certrole_result_role(res, 0), "r1");
    ck_assert_str_eq(certrole_result_role(res, 1), "r2");
    ck_assert(certrole_result_has_role(res, "r2"));
    ck_assert(!certrole_result_has_role(res, "r3"));
    certrole_result_free(res);
    certrole_close(ctx);

    run_free(open_with(NULL, R("required", "a", "answer=notfound"), NULL),
             CERTROLE_E_UNKNOWN_IDENTITY, "a\n");
    run_free(open_with(NULL, R("required", "a", "answer=unavailable"), NULL),
             CERTROLE_E_REALM_UNAVAILABLE, "a\n");
    run_free(open_with(NULL, R("requisite", "a", "answer=refused"), NULL),
             CERTROLE_E_REALM_REFUSED, "a\n");
}
END_TEST

START_TEST(required_failure_continues_but_fails)
{
    run_free(open_with(NULL, R("required", "a", "answer=notfound"),
                       R("required", "b", "roles=x"), NULL),
             CERTROLE_E_UNKNOWN_IDENTITY, "a\nb\n");
    /* The first failure's code is the stack's, not a later one's. */
    run_free(open_with(NULL, R("required", "a", "answer=unavailable"),
                       R("required", "b", "answer=refused"), NULL),
             CERTROLE_E_REALM_UNAVAILABLE, "a\nb\n");
    run_free(open_with(NULL, R("required", "a", "answer=found"),
                       R("required", "b", "answer=refused"), NULL),
             CERTROLE_E_REALM_REFUSED, "a\nb\n");
}
END_TEST

START_TEST(requisite_failure_returns_at_once)
{
    run_free(open_with(NULL, R("requisite", "a", "answer=unavailable"),
                       R("sufficient", "b", ""), R("required", "c", ""), NULL),
             CERTROLE_E_REALM_UNAVAILABLE, "a\n");
    /* After a required failure, a requisite failure stops the walk; the
     * code stays the first failure's. */
    run_free(open_with(NULL, R("required", "a", "answer=refused"),
                       R("requisite", "b", "answer=notfound"), R("required", "c", ""), NULL),
             CERTROLE_E_REALM_REFUSED, "a\nb\n");
    /* A requisite success just goes on. */
    run_free(open_with(NULL, R("requisite", "a", ""), R("required", "b", ""), NULL),
             CERTROLE_OK, "a\nb\n");
}
END_TEST

START_TEST(sufficient_success_returns_at_once)
{
    certrole_ctx *ctx = open_with(NULL, R("sufficient", "a", "user=s roles=fast"),
                                  R("required", "b", "answer=unavailable"), NULL);
    certrole_result *res = run(ctx, CERTROLE_OK, "a\n");
    ck_assert_str_eq(certrole_result_user(res), "s");
    ck_assert(certrole_result_has_role(res, "fast"));
    certrole_result_free(res);
    certrole_close(ctx);
    /* ... but not after a required failure: the walk goes on and fails. */
    run_free(open_with(NULL, R("required", "a", "answer=notfound"),
                       R("sufficient", "b", ""), R("required", "c", ""), NULL),
             CERTROLE_E_UNKNOWN_IDENTITY, "a\nb\nc\n");
    /* A required success before it is fine. */
    run_free(open_with(NULL, R("required", "a", ""), R("sufficient", "b", ""),
                       R("required", "c", "answer=unavailable"), NULL),
             CERTROLE_OK, "a\nb\n");
}
END_TEST

START_TEST(sufficient_failure_is_ignored)
{
    run_free(open_with(NULL, R("sufficient", "a", "answer=notfound"),
                       R("required", "b", ""), NULL),
             CERTROLE_OK, "a\nb\n");
    /* Even a backend failure: PAM ignores a failing sufficient module. */
    run_free(open_with(NULL, R("sufficient", "a", "answer=unavailable"),
                       R("required", "b", ""), NULL),
             CERTROLE_OK, "a\nb\n");
    /* Nothing positive at all: denied, naming the worst ignored failure. */
    certrole_ctx *ctx = open_with(NULL, R("sufficient", "a", "answer=notfound"),
                                  R("sufficient", "b", "answer=unavailable"),
                                  R("sufficient", "c", "answer=refused"), NULL);
    certrole_result *res = run(ctx, CERTROLE_E_REALM_UNAVAILABLE, "a\nb\nc\n");
    ck_assert_msg(strstr(certrole_result_message(res), "unavailable") != NULL, "%s",
                  certrole_result_message(res));
    certrole_result_free(res);
    certrole_close(ctx);
    run_free(open_with(NULL, R("sufficient", "a", "answer=notfound"),
                       R("optional", "b", "answer=notfound"), NULL),
             CERTROLE_E_UNKNOWN_IDENTITY, "a\nb\n");
}
END_TEST

START_TEST(optional_matters_only_alone)
{
    run_free(open_with(NULL, R("optional", "a", ""), NULL), CERTROLE_OK, "a\n");
    run_free(open_with(NULL, R("optional", "a", "answer=notfound"), NULL),
             CERTROLE_E_UNKNOWN_IDENTITY, "a\n");
    run_free(open_with(NULL, R("required", "a", ""), R("optional", "b", "answer=unavailable"),
                       NULL),
             CERTROLE_OK, "a\nb\n");
    /* An optional success does not rescue a required failure. */
    run_free(open_with(NULL, R("optional", "a", ""), R("required", "b", "answer=notfound"),
                       NULL),
             CERTROLE_E_UNKNOWN_IDENTITY, "a\nb\n");
}
END_TEST

START_TEST(roles_merged_from_every_found_realm)
{
    certrole_ctx *ctx = open_with(NULL, R("required", "a", "user=first roles=a,b"),
                                  R("optional", "b", "answer=notfound roles=zzz"),
                                  R("optional", "c", "user=second roles=b,c"),
                                  R("sufficient", "d", "roles=d"),
                                  R("required", "e", "roles=never"), NULL);
    certrole_result *res = run(ctx, CERTROLE_OK, "a\nb\nc\nd\n");
    ck_assert_str_eq(certrole_result_user(res), "first");
    ck_assert_str_eq(certrole_result_realm(res), "test");
    ck_assert_int_eq(certrole_result_role_count(res), 4);
    const char *want[] = { "a", "b", "c", "d" };
    for (size_t i = 0; i < 4; i++)
        ck_assert_str_eq(certrole_result_role(res, i), want[i]);
    ck_assert(!certrole_result_has_role(res, "zzz"));
    ck_assert(!certrole_result_has_role(res, "never"));
    certrole_result_free(res);
    certrole_close(ctx);
}
END_TEST

START_TEST(identity_reaches_the_realm)
{
    certrole_ctx *ctx = open_with(NULL, R("required", "a", "if-cn=CRMApplication roles=ok"), NULL);
    certrole_result_free(run(ctx, CERTROLE_OK, "a\n"));
    certrole_result *res = verify(ctx, norole_pem, norole_len);
    ck_assert_int_eq(certrole_result_code(res), CERTROLE_E_UNKNOWN_IDENTITY);
    certrole_result_free(res);
    certrole_close(ctx);
}
END_TEST

START_TEST(quoted_arguments_reach_the_module)
{
    certrole_ctx *ctx = open_with(NULL,
                                  tu_strf("realm required test \"user=John \\\"Q\\\" Smith\\, III\" "
                                          "roles=\"a b,c\\\\d\"\n"),
                                  NULL);
    certrole_result *res = verify(ctx, chain_pem, chain_len);
    ck_assert_int_eq(certrole_result_code(res), CERTROLE_OK);
    ck_assert_str_eq(certrole_result_user(res), "John \"Q\" Smith\\, III");
    /* The roles reached the module too, but "a b" and "c\\d" are outside
     * the role-name rule: the core drops both (check_wrong_allow_roles). */
    ck_assert_int_eq(certrole_result_role_count(res), 0);
    certrole_result_free(res);
    certrole_close(ctx);
}
END_TEST

/* ---- resource rules and audit lines ---------------------------------- */

struct lines { char buf[8192]; int n; };

static void collect(void *ud, certrole_log_level level, const char *line)
{
    struct lines *l = ud;
    if (level != CERTROLE_LOG_NOTICE)
        return;
    size_t used = strlen(l->buf);
    snprintf(l->buf + used, sizeof l->buf - used, "%s\n", line);
    l->n++;
}

START_TEST(authorize_end_to_end)
{
    certrole_ctx *ctx = open_with("require GET /InvoiceService/list invoice-readonly\n"
                                  "require * /InvoiceService invoice-admin\n",
                                  R("required", "a", "if-cn=CRMApplication user=crm "
                                                     "roles=invoice-readonly"), NULL);
    struct lines lines = { .n = 0 };
    lines.buf[0] = '\0';
    certrole_set_log(ctx, collect, &lines);
    certrole_result *res = verify(ctx, chain_pem, chain_len);
    ck_assert_int_eq(certrole_result_code(res), CERTROLE_OK);
    lines.buf[0] = '\0';
    ck_assert_int_eq(certrole_authorize(ctx, res, "GET", "/InvoiceService/list"), CERTROLE_OK);
    ck_assert_msg(strstr(lines.buf, "decision=allow code=ok") &&
                  strstr(lines.buf, "user=\"crm\" realm=\"test\"") &&
                  strstr(lines.buf, "resource=\"GET /InvoiceService/list\""), "%s", lines.buf);
    ck_assert_msg(strstr(lines.buf, "subject=\"CN=CRMApplication,OU=Sales,O=Acme Corp"), "%s",
                  lines.buf);
    lines.buf[0] = '\0';
    ck_assert_int_eq(certrole_authorize(ctx, res, "POST", "/InvoiceService/list"),
                     CERTROLE_E_FORBIDDEN);
    ck_assert_msg(strstr(lines.buf, "decision=deny code=forbidden") &&
                  strstr(lines.buf, "needs role invoice-admin"), "%s", lines.buf);
    ck_assert_int_eq(certrole_authorize(ctx, res, "GET", "/InvoiceService/list/../edit"),
                     CERTROLE_E_FORBIDDEN);
    ck_assert_int_eq(certrole_authorize(ctx, res, "GET", "/InvoiceService/listing"),
                     CERTROLE_E_FORBIDDEN);
    ck_assert_int_eq(certrole_authorize(ctx, res, "GET", "/elsewhere"), CERTROLE_OK);
    ck_assert_int_eq(certrole_authorize(ctx, res, NULL, "/x"), CERTROLE_E_INVALID_ARGUMENT);
    certrole_result_free(res);

    /* A denied peer stays denied with its own code, whatever the path. */
    res = verify(ctx, norole_pem, norole_len);
    ck_assert_int_eq(certrole_result_code(res), CERTROLE_E_UNKNOWN_IDENTITY);
    lines.buf[0] = '\0';
    ck_assert_int_eq(certrole_authorize(ctx, res, "GET", "/elsewhere"),
                     CERTROLE_E_UNKNOWN_IDENTITY);
    ck_assert_msg(strstr(lines.buf, "decision=deny code=unknown_identity"), "%s", lines.buf);
    certrole_result_free(res);
    certrole_close(ctx);
}
END_TEST

START_TEST(audit_off)
{
    certrole_ctx *ctx = open_with("option audit=no\nrequire GET / r\n",
                                  R("required", "a", "roles=r"), NULL);
    struct lines lines = { .n = 0 };
    lines.buf[0] = '\0';
    certrole_set_log(ctx, collect, &lines);
    certrole_result *res = verify(ctx, chain_pem, chain_len);
    int before = lines.n;
    ck_assert_int_eq(certrole_authorize(ctx, res, "GET", "/x"), CERTROLE_OK);
    ck_assert_int_eq(lines.n, before);
    certrole_result_free(res);
    certrole_close(ctx);
}
END_TEST

/* The integration's peer address reaches the audit line, escaped, and
 * stays with the result it was set on: a cache hit is a private view, so
 * another caller served from the same cache entry never sees it. */
START_TEST(peer_address_in_the_audit_line)
{
    char *realm = R("required", "a", "user=crm roles=r");
    char *text = tu_strf("trust ca-file=%s\noption cache-ttl=60\nrequire GET / r\n%s",
                         tu_pki("ca-file.pem"), realm);
    free(realm);
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    ck_assert_msg(certrole_open_string(&ctx, text, "peer.policy", &err) == CERTROLE_OK, "%s", err);
    free(text);
    struct lines lines = { .n = 0 };
    lines.buf[0] = '\0';
    certrole_set_log(ctx, collect, &lines);
    certrole_result *a = verify(ctx, chain_pem, chain_len);
    certrole_result *b = verify(ctx, chain_pem, chain_len);
    ck_assert(!certrole_result_cached(a) && certrole_result_cached(b));
    ck_assert_ptr_null(certrole_result_peer(b));
    ck_assert_int_eq(certrole_result_set_peer(a, "192.0.2.7"), CERTROLE_OK);
    ck_assert_int_eq(certrole_result_set_peer(b, "2001:db8::1\"\n x=\"y"), CERTROLE_OK);
    ck_assert_str_eq(certrole_result_peer(a), "192.0.2.7");
    lines.buf[0] = '\0';
    ck_assert_int_eq(certrole_authorize(ctx, a, "GET", "/x"), CERTROLE_OK);
    ck_assert_msg(strstr(lines.buf, "decision=allow code=ok") &&
                  strstr(lines.buf, " peer=\"192.0.2.7\" resource=\"GET /x\""), "%s", lines.buf);
    lines.buf[0] = '\0';
    ck_assert_int_eq(certrole_authorize(ctx, b, "GET", "/x"), CERTROLE_OK);
    ck_assert_msg(strstr(lines.buf, " peer=\"2001:db8::1\\\"\\x0a x=\\\"y\" resource="),
                  "%s", lines.buf);
    ck_assert_int_eq(lines.n, 2 + 2);    /* two verifications, two decisions: one line each */
    /* A third caller, served from the same entry, starts without one. */
    certrole_result *c = verify(ctx, chain_pem, chain_len);
    ck_assert(certrole_result_cached(c));
    ck_assert_ptr_null(certrole_result_peer(c));
    lines.buf[0] = '\0';
    ck_assert_int_eq(certrole_authorize(ctx, c, "GET", "/x"), CERTROLE_OK);
    ck_assert_msg(!strstr(lines.buf, "peer="), "%s", lines.buf);
    ck_assert_int_eq(certrole_result_set_peer(a, NULL), CERTROLE_OK);
    ck_assert_ptr_null(certrole_result_peer(a));
    ck_assert_int_eq(certrole_result_set_peer(NULL, "x"), CERTROLE_E_INVALID_ARGUMENT);
    certrole_result_free(c);
    certrole_result_free(b);
    certrole_result_free(a);
    certrole_close(ctx);
}
END_TEST

static Suite *stack_suite(void)
{
    Suite *s = suite_create("stack");
    TCase *tc = tcase_create("controls");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, empty_stack_verifies_only);
    tcase_add_test(tc, single_realm_each_answer);
    tcase_add_test(tc, required_failure_continues_but_fails);
    tcase_add_test(tc, requisite_failure_returns_at_once);
    tcase_add_test(tc, sufficient_success_returns_at_once);
    tcase_add_test(tc, sufficient_failure_is_ignored);
    tcase_add_test(tc, optional_matters_only_alone);
    tcase_add_test(tc, roles_merged_from_every_found_realm);
    tcase_add_test(tc, identity_reaches_the_realm);
    tcase_add_test(tc, quoted_arguments_reach_the_module);
    tcase_add_test(tc, authorize_end_to_end);
    tcase_add_test(tc, audit_off);
    tcase_add_test(tc, peer_address_in_the_audit_line);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(stack_suite());
}
