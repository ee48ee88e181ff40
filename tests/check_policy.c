/* Policy parsing and loading: every bad input names file:line:column and
 * never yields a context; good policies (comments, quotes, continuation,
 * includes, relative paths) open. Also the resource-rule matcher and path
 * normaliser (module/authorize.c is compiled into this test). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "certrole.h"
#include "authorize.h"
#include "testutil.h"

static char *dir;

static void setup(void)
{
    dir = tu_mkdtemp("policy");
    /* The scriptable test realm and the wrong-ABI one live in tests/.libs. */
    setenv("CERTROLE_REALM_DIR", tu_build("tests/.libs"), 1);
}

static void teardown(void)
{
    tu_rmrf(dir);
    free(dir);
    dir = NULL;
}

/* Writes name in the temp dir with text; returns its malloc'd path. */
static char *put(const char *name, const char *text)
{
    char *p = tu_strf("%s/%s", dir, name);
    tu_write_file(p, text);
    return p;
}

static const char *ca(void)
{
    return tu_pki("ca-file.pem");
}

/* Opens text as DIR/p.policy; asserts failure with a message containing
 * "/p.policy:" + want, and that *ctx stays NULL. */
static void expect_error(const char *text, const char *want)
{
    char *path = put("p.policy", text);
    certrole_ctx *ctx = (certrole_ctx *)&ctx;   /* not NULL: must be cleared */
    char *err = NULL;
    certrole_code rc = certrole_open(&ctx, path, &err);
    ck_assert_msg(rc == CERTROLE_E_POLICY_ERROR, "rc %d for:\n%s", rc, text);
    ck_assert_ptr_null(ctx);
    ck_assert_ptr_nonnull(err);
    char *full = tu_strf("/p.policy:%s", want);
    ck_assert_msg(strstr(err, full) != NULL, "want '%s'\n got '%s'", full, err);
    ck_assert_msg(strncmp(err, dir, strlen(dir)) == 0, "message should start with the path: %s", err);
    free(full);
    certrole_free(err);
    free(path);
}

static void expect_ok(const char *text)
{
    char *path = put("p.policy", text);
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    certrole_code rc = certrole_open(&ctx, path, &err);
    ck_assert_msg(rc == CERTROLE_OK, "rc %d: %s\nfor:\n%s", rc, err ? err : "", text);
    ck_assert_ptr_nonnull(ctx);
    ck_assert_ptr_null(err);
    certrole_close(ctx);
    free(path);
}

START_TEST(unknown_directive)
{
    char *t = tu_strf("# comment\ntrust ca-file=%s\n  bogus x y\n", ca());
    expect_error(t, "3:3: unknown directive 'bogus'");
    free(t);
}
END_TEST

START_TEST(missing_trust)
{
    expect_error("# nothing but\n\nrequire GET / a\n", "1:1: no 'trust' directive");
}
END_TEST

START_TEST(two_trust_lines)
{
    char *t = tu_strf("trust ca-file=%s\n\ntrust ca-file=%s\n", ca(), ca());
    expect_error(t, "3:1: second 'trust' directive (the first is at ");
    free(t);
}
END_TEST

START_TEST(bad_control)
{
    char *t = tu_strf("trust ca-file=%s\nrealm  mandatory test\n", ca());
    expect_error(t, "2:8: unknown control 'mandatory'");
    free(t);
}
END_TEST

START_TEST(realm_too_short)
{
    char *t = tu_strf("trust ca-file=%s\nrealm required\n", ca());
    expect_error(t, "2:1: realm: expected CONTROL MODULE");
    free(t);
}
END_TEST

START_TEST(unterminated_quote)
{
    char *t = tu_strf("trust ca-file=%s\nrealm required test user=\"abc\n", ca());
    expect_error(t, "2:26: unterminated quoted string");
    free(t);
}
END_TEST

START_TEST(unknown_module)
{
    char *t = tu_strf("trust ca-file=%s\nrealm required ldapx uri=x\n", ca());
    char *want = tu_strf("2:16: realm module 'ldapx' not found in %s", tu_build("tests/.libs"));
    expect_error(t, want);
    free(want);
    free(t);
}
END_TEST

START_TEST(bad_module_name)
{
    char *t = tu_strf("trust ca-file=%s\nrealm required Test.x\n", ca());
    expect_error(t, "2:16: bad realm module name 'Test.x'");
    free(t);
}
END_TEST

START_TEST(module_path_outside_dir)
{
    /* A perfectly good module, copied outside the module directory. */
    char *copy = tu_strf("%s/realm_test.so", dir);
    char *cmd = tu_strf("cp '%s' '%s'", tu_build("tests/.libs/realm_test.so"), copy);
    ck_assert_int_eq(tu_run(cmd, NULL), 0);
    char *t = tu_strf("trust ca-file=%s\nrealm required %s\n", ca(), copy);
    expect_error(t, "2:16: realm module '");
    char *path = put("p.policy", t);
    char *err = NULL;
    certrole_ctx *ctx = NULL;
    ck_assert_int_eq(certrole_open(&ctx, path, &err), CERTROLE_E_POLICY_ERROR);
    ck_assert_msg(strstr(err, "is outside the module directory") != NULL, "%s", err);
    certrole_free(err);
    free(path);
    free(t);
    /* ".." out of the directory is the same thing. */
    t = tu_strf("trust ca-file=%s\nrealm required %s/../../../%s\n", ca(),
                tu_build("tests/.libs"), copy);
    expect_error(t, "2:16: realm module '");
    free(t);
    free(cmd);
    free(copy);
}
END_TEST

START_TEST(module_path_inside_dir_ok)
{
    char *t = tu_strf("trust ca-file=%s\nrealm required %s answer=found\n", ca(),
                      tu_build("tests/.libs/realm_test.so"));
    expect_ok(t);
    free(t);
}
END_TEST

START_TEST(module_wrong_abi)
{
    char *t = tu_strf("trust ca-file=%s\nrealm sufficient badabi\n", ca());
    expect_error(t, "2:18: realm module 'badabi': ABI version 2, expected 1");
    free(t);
}
END_TEST

START_TEST(module_rejects_arguments)
{
    char *t = tu_strf("trust ca-file=%s\nrealm optional test answer=maybe\n", ca());
    expect_error(t, "2:16: realm test: answer=maybe: expected found");
    free(t);
    t = tu_strf("trust ca-file=%s\nrealm optional test frobnicate\n", ca());
    expect_error(t, "2:16: realm test: unknown argument 'frobnicate'");
    free(t);
}
END_TEST

START_TEST(bad_require)
{
    char *t = tu_strf("trust ca-file=%s\nrequire GET /x\n", ca());
    expect_error(t, "2:1: require: expected METHOD PATH-PREFIX ROLE");
    free(t);
    t = tu_strf("trust ca-file=%s\nrequire GET x/y role\n", ca());
    expect_error(t, "2:13: require: path prefix 'x/y' must start with '/'");
    free(t);
    t = tu_strf("trust ca-file=%s\nrequire G/ET /x role\n", ca());
    expect_error(t, "2:9: require: bad method 'G/ET'");
    free(t);
    t = tu_strf("trust ca-file=%s\nrequire GET /x/../.. role\n", ca());
    expect_error(t, "2:13: require: bad path prefix '/x/../..': path climbs above the root");
    free(t);
    t = tu_strf("trust ca-file=%s\nrequire GET /a r1\nrequire get /a/ r2\n", ca());
    expect_error(t, "3:13: require: duplicate rule for get /a (first at ");
    free(t);
}
END_TEST

START_TEST(bad_trust_and_option)
{
    char *t = tu_strf("trust ca-file=%s depth\n", ca());
    char *want = tu_strf("1:%zu: trust: expected key=value, got 'depth'", strlen(ca()) + 16);
    expect_error(t, want);
    free(want);
    free(t);
    t = tu_strf("trust ca-file=%s\noption cache-tll=5\n", ca());
    expect_error(t, "2:8: unknown option 'cache-tll'");
    free(t);
    t = tu_strf("trust ca-file=%s\noption cache-ttl=-5\n", ca());
    expect_error(t, "2:18: option cache-ttl: expected a whole number");
    free(t);
    t = tu_strf("trust ca-file=%s\noption audit=maybe\n", ca());
    expect_error(t, "2:14: option audit: expected yes or no");
    free(t);
    expect_error("trust \\\n   ca-file=does-not-exist.pem\n", "2:4: trust: ");
    /* the second of two crl-file options is the missing one: the error
     * points at it, not at the first (whose path the message contains) */
    const char *crl = tu_pki("crl.pem");
    t = tu_strf("trust ca-file=%s crl-file=%s crl-file=%s.missing\n", ca(), crl, crl);
    want = tu_strf("1:%zu: trust: crl-file", strlen(ca()) + 16 + 9 + strlen(crl) + 1);
    expect_error(t, want);
    free(want);
    free(t);
}
END_TEST

START_TEST(include_cycle_and_depth)
{
    char *t = tu_strf("trust ca-file=%s\ninclude a.inc\n", ca());
    free(put("a.inc", "# a\ninclude b.inc\n"));
    free(put("b.inc", "option audit=no\n  include p.policy\n"));
    char *path = put("p.policy", t);
    char *err = NULL;
    certrole_ctx *ctx = NULL;
    ck_assert_int_eq(certrole_open(&ctx, path, &err), CERTROLE_E_POLICY_ERROR);
    ck_assert_ptr_null(ctx);
    ck_assert_msg(strstr(err, "/b.inc:2:11: include '") && strstr(err, "include cycle"), "%s", err);
    certrole_free(err);
    free(path);
    free(t);

    /* A chain of distinct files deeper than the limit. */
    for (int i = 0; i < 12; i++) {
        char *n = tu_strf("d%d.inc", i), *x = tu_strf("include d%d.inc\n", i + 1);
        free(put(n, x));
        free(n);
        free(x);
    }
    free(put("d12.inc", "option audit=yes\n"));
    t = tu_strf("trust ca-file=%s\ninclude d0.inc\n", ca());
    path = put("p.policy", t);
    ck_assert_int_eq(certrole_open(&ctx, path, &err), CERTROLE_E_POLICY_ERROR);
    ck_assert_msg(strstr(err, "nested deeper than 8"), "%s", err);
    certrole_free(err);
    free(path);
    free(t);

    t = tu_strf("trust ca-file=%s\ninclude missing.inc\n", ca());
    expect_error(t, "2:9: include '");
    free(t);
}
END_TEST

START_TEST(nul_byte)
{
    char *path = tu_strf("%s/p.policy", dir);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fwrite("trust ca-file=x\nrea\0lm", 1, 22, f);
    fclose(f);
    char *err = NULL;
    certrole_ctx *ctx = NULL;
    ck_assert_int_eq(certrole_open(&ctx, path, &err), CERTROLE_E_POLICY_ERROR);
    ck_assert_msg(strstr(err, "/p.policy:2:4: NUL byte"), "%s", err);
    certrole_free(err);
    free(path);
}
END_TEST

START_TEST(missing_file_is_io_error)
{
    char *err = NULL;
    certrole_ctx *ctx = (certrole_ctx *)&err;
    char *path = tu_strf("%s/nope.policy", dir);
    ck_assert_int_eq(certrole_open(&ctx, path, &err), CERTROLE_E_IO);
    ck_assert_ptr_null(ctx);
    ck_assert_msg(strstr(err, "nope.policy: cannot read policy"), "%s", err);
    certrole_free(err);
    free(path);
    ck_assert_int_eq(certrole_open(&ctx, NULL, NULL), CERTROLE_E_INVALID_ARGUMENT);
}
END_TEST

START_TEST(good_policies)
{
    /* Comments, quoting, continuation, include, every control, options. */
    free(put("rules.inc", "require GET /InvoiceService/list invoice-readonly  # trailing\n"
                          "require * /admin \"admin-role\" root\n"));
    char *t = tu_strf("# Acme\n"
                      "trust \"ca-file=%s\" \\\n"
                      "      depth=4   # continuation\n"
                      "realm sufficient test answer=notfound tag=\"a \\\"b\\\" \\\\c\"\n"
                      "realm requisite  test answer=found roles=x,y\n"
                      "realm required   test\n"
                      "realm optional   test answer=unavailable\n"
                      "option cache-ttl=60 deny-ttl=5 cache-size=100 audit=no\n"
                      "include rules.inc\n"
                      "\n   \t\n#end",
                      ca());
    expect_ok(t);
    free(t);
    /* No realm at all: verification only. */
    t = tu_strf("trust ca-file=%s\n", ca());
    expect_ok(t);
    free(t);
}
END_TEST

START_TEST(open_string_relative_paths)
{
    /* ca-file relative to the name's directory. */
    char *copy = tu_strf("%s/anchor.pem", dir);
    char *cmd = tu_strf("cp '%s' '%s'", ca(), copy);
    ck_assert_int_eq(tu_run(cmd, NULL), 0);
    char *name = tu_strf("%s/virtual.policy", dir);
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    ck_assert_int_eq(certrole_open_string(&ctx, "trust ca-file=anchor.pem\n", name, &err),
                     CERTROLE_OK);
    ck_assert_ptr_nonnull(ctx);
    certrole_close(ctx);
    ck_assert_int_eq(certrole_open_string(&ctx, "trust ca-file=anchor.pem\nfoo\n", name, &err),
                     CERTROLE_E_POLICY_ERROR);
    ck_assert_ptr_null(ctx);
    ck_assert_msg(strstr(err, "/virtual.policy:2:1: unknown directive 'foo'"), "%s", err);
    certrole_free(err);
    /* Without a name: "policy text", never an internal placeholder. */
    ck_assert_int_eq(certrole_open_string(&ctx, "realm", NULL, &err), CERTROLE_E_POLICY_ERROR);
    ck_assert_str_eq(err, "policy text:1:1: realm: expected CONTROL MODULE [ARG ...]");
    certrole_free(err);
    free(name);
    free(cmd);
    free(copy);
}
END_TEST

/* ---- path normalisation and rule matching (module/authorize.c) ---------- */

static void norm_is(const char *in, const char *want)
{
    char *out = NULL;
    const char *why = NULL;
    int rc = cr_path_normalize(in, &out, &why);
    if (want) {
        ck_assert_msg(rc == 0, "'%s' refused: %s", in, why ? why : "");
        ck_assert_str_eq(out, want);
    } else {
        ck_assert_msg(rc != 0, "'%s' should be refused, got '%s'", in, out ? out : "");
        ck_assert_ptr_null(out);
        ck_assert_ptr_nonnull(why);
    }
    free(out);
}

START_TEST(path_normalisation)
{
    norm_is("/", "/");
    norm_is("/InvoiceService/list", "/InvoiceService/list");
    norm_is("/InvoiceService/list/", "/InvoiceService/list");
    norm_is("//InvoiceService///list", "/InvoiceService/list");
    norm_is("/a/./b/.", "/a/b");
    norm_is("/a/../admin", "/admin");
    norm_is("/a/b/../../admin/x", "/admin/x");
    norm_is("/%61dmin", "/admin");
    norm_is("/a/%2e%2e/admin", "/admin");
    norm_is("/a/%2E./admin?x=/../y#frag", "/admin");
    norm_is("/list?q=1", "/list");
    norm_is("/..", NULL);
    norm_is("/a/../../etc", NULL);
    norm_is("/a%2fb", NULL);
    norm_is("/a%2Fb", NULL);
    norm_is("/a%5cb", NULL);
    norm_is("/a%00b", NULL);
    norm_is("/a%252e%252e/admin", NULL);   /* double encoding */
    norm_is("/a%zz", NULL);
    norm_is("/a%2", NULL);
    norm_is("/a\\..\\admin", NULL);
    norm_is("/a\tb", NULL);
    norm_is("relative", NULL);
    norm_is("http://host/admin", NULL);
    norm_is("", NULL);
}
END_TEST

static struct cr_rules *acme_rules(void)
{
    struct cr_rules *r = cr_rules_new();
    char err[256];
    const char *ro[] = { "invoice-readonly", "invoice-admin" };
    const char *adm[] = { "invoice-admin" };
    const char *any[] = { "*" };
    const char *root[] = { "root" };
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(cr_rules_add(r, "GET", "/InvoiceService/list", ro, 2, "p:1", err, sizeof err), 0);
    ck_assert_int_eq(cr_rules_add(r, "*", "/InvoiceService", adm, 1, "p:2", err, sizeof err), 0);
    ck_assert_int_eq(cr_rules_add(r, "GET", "/public", any, 1, "p:3", err, sizeof err), 0);
    ck_assert_int_eq(cr_rules_add(r, "*", "/admin", root, 1, "p:4", err, sizeof err), 0);
    ck_assert_int_eq(cr_rules_add(r, "POST", "/admin", adm, 1, "p:5", err, sizeof err), 0);
    ck_assert_int_eq(cr_rules_count(r), 5);
    return r;
}

static certrole_code decide(const struct cr_rules *r, const char *m, const char *p,
                            const char *role)
{
    const char *roles[] = { role };
    char *why = NULL;
    certrole_code c = cr_rules_check(r, m, p, roles, role ? 1 : 0, &why);
    if (c != CERTROLE_OK)
        ck_assert_msg(why != NULL && *why, "a denial explains itself");
    free(why);
    return c;
}

START_TEST(rule_matching)
{
    struct cr_rules *r = acme_rules();
    const certrole_code OK = CERTROLE_OK, NO = CERTROLE_E_FORBIDDEN;
    ck_assert_int_eq(decide(r, "GET", "/InvoiceService/list", "invoice-readonly"), OK);
    ck_assert_int_eq(decide(r, "GET", "/InvoiceService/list?all=1", "invoice-readonly"), OK);
    ck_assert_int_eq(decide(r, "HEAD", "/InvoiceService/list", "invoice-readonly"), OK);
    ck_assert_int_eq(decide(r, "get", "/InvoiceService/list/2026", "invoice-readonly"), OK);
    /* The longest prefix for POST is /InvoiceService (admin only). */
    ck_assert_int_eq(decide(r, "POST", "/InvoiceService/list", "invoice-readonly"), NO);
    ck_assert_int_eq(decide(r, "POST", "/InvoiceService/list", "invoice-admin"), OK);
    /* Whole segments: /InvoiceService/listing is not under .../list. */
    ck_assert_int_eq(decide(r, "GET", "/InvoiceService/listing", "invoice-readonly"), NO);
    ck_assert_int_eq(decide(r, "GET", "/InvoiceServiceX", "invoice-readonly"), OK); /* no rule */
    ck_assert_int_eq(decide(r, "GET", "/InvoiceService", NULL), NO);
    /* Dot segments and encodings never slip past a rule. */
    ck_assert_int_eq(decide(r, "GET", "/public/../admin", "invoice-readonly"), NO);
    ck_assert_int_eq(decide(r, "GET", "/public/%2e%2e/admin", "invoice-readonly"), NO);
    ck_assert_int_eq(decide(r, "GET", "//admin", "invoice-readonly"), NO);
    ck_assert_int_eq(decide(r, "GET", "/public%2f..%2fadmin", "invoice-readonly"), NO);
    ck_assert_int_eq(decide(r, "GET", "/admin/x", "root"), OK);
    /* A named method beats '*' on the same prefix. */
    ck_assert_int_eq(decide(r, "POST", "/admin", "root"), NO);
    ck_assert_int_eq(decide(r, "POST", "/admin", "invoice-admin"), OK);
    /* Role '*': any mapped peer, even without roles. */
    ck_assert_int_eq(decide(r, "GET", "/public/x", NULL), OK);
    /* /public is protected for GET only: other methods are refused, not let through. */
    ck_assert_int_eq(decide(r, "DELETE", "/public/x", "invoice-admin"), NO);
    ck_assert_int_eq(decide(r, "PUT", "/elsewhere", NULL), OK);   /* no rule at all */
    cr_rules_free(r);

    /* A rule on "/" covers everything. */
    r = cr_rules_new();
    char err[128];
    const char *ro[] = { "staff" };
    ck_assert_int_eq(cr_rules_add(r, "*", "/", ro, 1, "p:1", err, sizeof err), 0);
    ck_assert_int_eq(decide(r, "GET", "/anything/at/all", NULL), NO);
    ck_assert_int_eq(decide(r, "GET", "/anything/at/all", "staff"), OK);
    ck_assert_int_eq(decide(r, "GET", "/../x", "staff"), NO);   /* refused path */
    cr_rules_free(r);
}
END_TEST

static Suite *policy_suite(void)
{
    Suite *s = suite_create("policy");
    TCase *tc = tcase_create("parse");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, unknown_directive);
    tcase_add_test(tc, missing_trust);
    tcase_add_test(tc, two_trust_lines);
    tcase_add_test(tc, bad_control);
    tcase_add_test(tc, realm_too_short);
    tcase_add_test(tc, unterminated_quote);
    tcase_add_test(tc, unknown_module);
    tcase_add_test(tc, bad_module_name);
    tcase_add_test(tc, module_path_outside_dir);
    tcase_add_test(tc, module_path_inside_dir_ok);
    tcase_add_test(tc, module_wrong_abi);
    tcase_add_test(tc, module_rejects_arguments);
    tcase_add_test(tc, bad_require);
    tcase_add_test(tc, bad_trust_and_option);
    tcase_add_test(tc, include_cycle_and_depth);
    tcase_add_test(tc, nul_byte);
    tcase_add_test(tc, missing_file_is_io_error);
    tcase_add_test(tc, good_policies);
    tcase_add_test(tc, open_string_relative_paths);
    suite_add_tcase(s, tc);
    TCase *rules = tcase_create("rules");
    tcase_add_test(rules, path_normalisation);
    tcase_add_test(rules, rule_matching);
    suite_add_tcase(s, rules);
    return s;
}

int main(void)
{
    return tu_run_suite(policy_suite());
}
