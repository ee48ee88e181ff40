/* Request targets that try to reach a protected path without the role:
 * double encoding, path parameters, overlong UTF-8, dot segments, encoded
 * separators, NUL, case. Each is judged through certrole_authorize_target
 * in both target forms, with a real chain verified against the test PKI,
 * and the code and the judged path are checked; the policy options
 * path-parameters=strip and path-case=insensitive get their own tables. */
#define _GNU_SOURCE
#include "testutil.h"
#include <certrole.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLIENT_DN "CN=CRMApplication,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US"

static const certrole_code OK = CERTROLE_OK, NO = CERTROLE_E_FORBIDDEN;
static const certrole_target_form RAW = CERTROLE_TARGET_RAW, DEC = CERTROLE_TARGET_DECODED;

/* A peer with invoice-readonly only, under a policy guarding /admin for
 * the admin role; 'options' is added as an option line when not NULL. */
struct env {
    char *dir;
    certrole_ctx *ctx;
    certrole_result *res;
};

static void env_open(struct env *e, const char *options)
{
    e->dir = tu_mkdtemp("paths");
    char *realm = tu_strf("%s/users.realm", e->dir);
    tu_write_file(realm, "\"" CLIENT_DN "\" invoice-readonly user=crm\n");
    char *pol = tu_strf("trust ca-file=%s\n"
                        "realm required file path=%s\n"
                        "require * /admin admin\n"
                        "require GET /InvoiceService/list invoice-readonly\n"
                        "%s%s%s",
                        tu_pki("ca-file.pem"), realm,
                        options ? "option " : "", options ? options : "",
                        options ? "\n" : "");
    char *name = tu_strf("%s/paths.policy", e->dir);
    char *err = NULL;
    certrole_code c = certrole_open_string(&e->ctx, pol, name, &err);
    ck_assert_msg(c == CERTROLE_OK, "policy: %s", err ? err : "?");
    size_t len = 0;
    char *pem = tu_read_file(tu_pki("client-chain.pem"), &len);
    ck_assert_ptr_nonnull(pem);
    ck_assert_int_eq(certrole_verify_pem(e->ctx, pem, len, &e->res), CERTROLE_OK);
    ck_assert(!certrole_result_has_role(e->res, "admin"));
    free(pem); free(name); free(pol); free(realm);
}

static void env_close(struct env *e)
{
    certrole_result_free(e->res);
    certrole_close(e->ctx);
    tu_rmrf(e->dir);
    free(e->dir);
}

/* One row: the target, its form, the code and the judged path wanted
 * ("" = refused before any rule was read). */
struct row {
    const char *target;
    certrole_target_form form;
    certrole_code code;
    const char *judged;
};

static void check_rows(struct env *e, const struct row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        certrole_authz *a = NULL;
        certrole_code c = certrole_authorize_target(e->ctx, e->res, "GET", r->target, r->form, &a);
        ck_assert_ptr_nonnull(a);
        ck_assert_msg(c == r->code && strcmp(certrole_authz_path(a), r->judged) == 0,
                      "%s '%s': got %s judged '%s' (%s), want %s judged '%s'",
                      r->form == RAW ? "RAW" : "DECODED", r->target, certrole_code_name(c),
                      certrole_authz_path(a), certrole_authz_reason(a),
                      certrole_code_name(r->code), r->judged);
        ck_assert_msg(*certrole_authz_reason(a), "'%s': no reason", r->target);
        if (r->form == RAW)   /* the old entry point is the RAW form */
            ck_assert_int_eq(certrole_authorize(e->ctx, e->res, "GET", r->target), c);
        certrole_authz_free(a);
    }
}

#define ROWS(t) (t), sizeof(t) / sizeof((t)[0])

static const struct row default_rows[] = {
    /* decoded twice, "%252e%252e" would be ".." and leave /admin */
    { "/admin/%252e%252e/public", RAW, NO, "" },
    { "/admin/%2e%2e/public", DEC, NO, "" },           /* what nginx's $uri holds */
    { "/admin/%2e%2e/public", RAW, OK, "/public" },    /* decoded once: a real ".." */
    /* path parameters: Tomcat routes /admin for all of these */
    { "/admin;jsessionid=x", RAW, NO, "" },
    { "/admin;jsessionid=x", DEC, NO, "" },
    { "/admin;/secret", RAW, NO, "" },
    { "/admin;/secret", DEC, NO, "" },
    { "/public/..;/admin", RAW, NO, "" },
    { "/admin%3Bx", RAW, NO, "" },
    /* overlong "/" and other ill-formed UTF-8 */
    { "/%C0%AFadmin", RAW, NO, "" },
    { "/\xC0\xAF" "admin", DEC, NO, "" },
    { "/%C0%AF..%C0%AFadmin", RAW, NO, "" },
    { "/%E0%80%AFadmin", RAW, NO, "" },
    { "/%ED%A0%80", RAW, NO, "" },                     /* surrogate */
    { "/%F4%90%80%80", RAW, NO, "" },                  /* above U+10FFFF */
    { "/%C3", RAW, NO, "" },                           /* truncated */
    { "/%80admin", RAW, NO, "" },
    { "/adm%C3%AFn", RAW, OK, "/adm\xC3\xAFn" },       /* well-formed: judged as is */
    { "/adm\xC3\xAFn", DEC, OK, "/adm\xC3\xAFn" },
    /* dot segments and slashes, resolved as nginx does */
    { "/%2e%2e/admin", RAW, NO, "" },
    { "/../admin", DEC, NO, "" },
    { "/a/../admin", RAW, NO, "/admin" },
    { "/a/../admin", DEC, NO, "/admin" },
    { "/a/%2e%2E/admin", RAW, NO, "/admin" },
    { "//admin", RAW, NO, "/admin" },
    { "//admin", DEC, NO, "/admin" },
    { "/./public/../admin/", RAW, NO, "/admin" },
    /* encoded separators, escapes, NUL, controls */
    { "/admin%2Fx", RAW, NO, "" },
    { "/admin%2fx", RAW, NO, "" },
    { "/admin%5Cx", RAW, NO, "" },
    { "/admin\\x", RAW, NO, "" },
    { "/admin\\x", DEC, NO, "" },
    { "/admin%2Fx", DEC, NO, "" },                     /* '%' is literal, so refused */
    { "/%61dmin", RAW, NO, "/admin" },
    { "/%61dmin", DEC, NO, "" },                       /* never decoded a second time */
    { "/adm%00in", RAW, NO, "" },
    { "/adm%01in", RAW, NO, "" },
    { "/adm\x01in", DEC, NO, "" },
    { "/admin%3F", RAW, NO, "" },
    { "/admin%23", RAW, NO, "" },
    { "/admin?x", DEC, NO, "" },
    { "/adm%zzin", RAW, NO, "" },
    { "/admin%2", RAW, NO, "" },
    /* byte-exact, case-sensitive matching (certrole-policy(5)) */
    { "/ADMIN", RAW, OK, "/ADMIN" },
    { "/ADMIN", DEC, OK, "/ADMIN" },
    { "/Admin/x", RAW, OK, "/Admin/x" },
    /* mixed */
    { "/public/..%2F..%2Fadmin", RAW, NO, "" },
    { "/public/%2e%2e/admin;x", RAW, NO, "" },
    { "/%2e/admin%2e%2e/x", RAW, OK, "/admin../x" },   /* "admin.." is not "admin" */
    { "/public/x?y=/../admin#/../admin", RAW, OK, "/public/x" },
    { "/public/%252fadmin", RAW, NO, "" },
    { "admin", RAW, NO, "" },
    { "http://h/admin", RAW, NO, "" },
    { "", RAW, NO, "" },
    /* what may pass still passes */
    { "/public/x", RAW, OK, "/public/x" },
    { "/public/x", DEC, OK, "/public/x" },
    { "/public/a%20b", RAW, OK, "/public/a b" },
    { "/public/a b", DEC, OK, "/public/a b" },
    { "/", RAW, OK, "/" },
    { "/adminx", RAW, OK, "/adminx" },
};

START_TEST(hostile_targets_default_policy)
{
    struct env e;
    env_open(&e, NULL);
    check_rows(&e, ROWS(default_rows));
    env_close(&e);
}
END_TEST

static const struct row strip_rows[] = {
    { "/admin;jsessionid=x", RAW, NO, "/admin" },
    { "/admin;/secret", RAW, NO, "/admin/secret" },
    { "/pub;x/../admin", RAW, NO, "/admin" },
    { "/public;v=1/x;y", RAW, OK, "/public/x" },
    /* parameters on dot or empty segments, encoded ';': refused */
    { "/public/..;/admin", RAW, NO, "" },
    { "/public/.;x/admin", RAW, NO, "" },
    { "/;x/admin", RAW, NO, "" },
    { "/%2e%2e;x/admin", RAW, NO, "" },
    { "/admin%3Bx", RAW, NO, "" },
    /* a decoded path cannot tell ';' from "%3B": refused */
    { "/admin;jsessionid=x", DEC, NO, "" },
    { "/public;x", DEC, NO, "" },
    { "/admin/%252e%252e/public", RAW, NO, "" },
    { "/%C0%AFadmin", RAW, NO, "" },
};

START_TEST(path_parameters_strip)
{
    struct env e;
    env_open(&e, "path-parameters=strip");
    check_rows(&e, ROWS(strip_rows));
    env_close(&e);
}
END_TEST

static const struct row fold_rows[] = {
    { "/ADMIN", RAW, NO, "/admin" },
    { "/ADMIN", DEC, NO, "/admin" },
    { "/%41dmin/X", RAW, NO, "/admin/x" },
    { "/Public/X", RAW, OK, "/public/x" },
    { "/invoiceservice/LIST", RAW, OK, "/invoiceservice/list" },
    /* non-ASCII: a backend may fold U+0131 to 'I', U+212A to 'k' */
    { "/adm%C4%B1n", RAW, NO, "" },
    { "/adm\xC4\xB1n", DEC, NO, "" },
    { "/admin;x", RAW, NO, "" },
};

START_TEST(path_case_insensitive)
{
    struct env e;
    env_open(&e, "path-case=insensitive");
    check_rows(&e, ROWS(fold_rows));
    env_close(&e);
}
END_TEST

START_TEST(authz_answer_is_structured)
{
    struct env e;
    env_open(&e, NULL);
    certrole_authz *a = NULL;
    ck_assert_int_eq(certrole_authorize_target(e.ctx, e.res, "GET", "/a/../admin/x?q=1", RAW, &a),
                     NO);
    ck_assert_str_eq(certrole_authz_path(a), "/admin/x");
    char *want_rule = tu_strf("%s/paths.policy:3", e.dir);
    ck_assert_str_eq(certrole_authz_rule(a), want_rule);
    ck_assert_uint_eq(certrole_authz_role_count(a), 1);
    ck_assert_str_eq(certrole_authz_role(a, 0), "admin");
    ck_assert_ptr_null(certrole_authz_role(a, 1));
    ck_assert_msg(strstr(certrole_authz_reason(a), "needs role admin"), "%s",
                  certrole_authz_reason(a));
    certrole_authz_free(a);

    ck_assert_int_eq(certrole_authorize_target(e.ctx, e.res, "HEAD", "/InvoiceService/list/2026",
                                               RAW, &a), OK);
    ck_assert_str_eq(certrole_authz_path(a), "/InvoiceService/list/2026");
    ck_assert_ptr_nonnull(certrole_authz_rule(a));
    ck_assert_str_eq(certrole_authz_role(a, 0), "invoice-readonly");
    ck_assert_msg(strstr(certrole_authz_reason(a), "allowed by role invoice-readonly"), "%s",
                  certrole_authz_reason(a));
    certrole_authz_free(a);

    /* no rule: allowed, no rule named */
    ck_assert_int_eq(certrole_authorize_target(e.ctx, e.res, "GET", "/other", DEC, &a), OK);
    ck_assert_ptr_null(certrole_authz_rule(a));
    ck_assert_uint_eq(certrole_authz_role_count(a), 0);
    ck_assert_msg(strstr(certrole_authz_reason(a), "no rule"), "%s", certrole_authz_reason(a));
    certrole_authz_free(a);

    /* refused target: nothing judged, the reason says what was wrong */
    ck_assert_int_eq(certrole_authorize_target(e.ctx, e.res, "GET", "/%C0%AFadmin", RAW, &a), NO);
    ck_assert_str_eq(certrole_authz_path(a), "");
    ck_assert_ptr_null(certrole_authz_rule(a));
    ck_assert_msg(strstr(certrole_authz_reason(a), "overlong UTF-8"), "%s",
                  certrole_authz_reason(a));
    certrole_authz_free(a);
    ck_assert_int_eq(certrole_authorize_target(e.ctx, e.res, "GET", "/a%252e", RAW, &a), NO);
    ck_assert_msg(strstr(certrole_authz_reason(a), "%25"), "%s", certrole_authz_reason(a));
    certrole_authz_free(a);

    /* bad arguments */
    ck_assert_int_eq(certrole_authorize_target(e.ctx, e.res, "GET", "/x",
                                               (certrole_target_form)7, &a),
                     CERTROLE_E_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(a);
    ck_assert_str_eq(certrole_authz_path(a), "");
    certrole_authz_free(a);
    ck_assert_int_eq(certrole_authorize_target(e.ctx, NULL, "GET", "/x", RAW, NULL),
                     CERTROLE_E_INVALID_ARGUMENT);
    ck_assert_int_eq(certrole_authorize_target(e.ctx, e.res, "GET", NULL, RAW, NULL),
                     CERTROLE_E_INVALID_ARGUMENT);
    ck_assert_str_eq(certrole_authz_path(NULL), "");
    ck_assert_str_eq(certrole_authz_reason(NULL), "");
    ck_assert_ptr_null(certrole_authz_rule(NULL));
    ck_assert_uint_eq(certrole_authz_role_count(NULL), 0);
    certrole_authz_free(NULL);
    free(want_rule);
    env_close(&e);
}
END_TEST

START_TEST(denied_peer_keeps_its_code)
{
    struct env e;
    env_open(&e, NULL);
    size_t len = 0;
    char *pem = tu_read_file(tu_pki("other-client.pem"), &len);
    ck_assert_ptr_nonnull(pem);
    certrole_result *bad = NULL;
    certrole_code vc = certrole_verify_pem(e.ctx, pem, len, &bad);
    ck_assert_int_ne(vc, CERTROLE_OK);
    certrole_authz *a = NULL;
    ck_assert_int_eq(certrole_authorize_target(e.ctx, bad, "GET", "/public", RAW, &a), vc);
    ck_assert_str_eq(certrole_authz_path(a), "");
    ck_assert_msg(strstr(certrole_authz_reason(a), certrole_code_name(vc)), "%s",
                  certrole_authz_reason(a));
    certrole_authz_free(a);
    certrole_result_free(bad);
    free(pem);
    env_close(&e);
}
END_TEST

START_TEST(policy_path_options_are_checked)
{
    const char *bad[] = { "path-parameters=keep", "path-case=upper", "path-parameters=" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *pol = tu_strf("trust ca-file=%s\noption %s\n", tu_pki("ca-file.pem"), bad[i]);
        certrole_ctx *ctx = NULL;
        char *err = NULL;
        ck_assert_int_eq(certrole_open_string(&ctx, pol, "p", &err), CERTROLE_E_POLICY_ERROR);
        ck_assert_ptr_null(ctx);
        ck_assert_msg(err && strstr(err, "p:2:"), "%s", err ? err : "");
        certrole_free(err);
        free(pol);
    }
    /* a rule prefix is held to the same rules: no parameter, no bad UTF-8 */
    const char *prefixes[] = { "/admin;x", "/%C0%AF", "/a%2Fb", "/a%252e" };
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        char *pol = tu_strf("trust ca-file=%s\noption path-parameters=strip\n"
                            "require * %s admin\n", tu_pki("ca-file.pem"), prefixes[i]);
        certrole_ctx *ctx = NULL;
        char *err = NULL;
        ck_assert_int_eq(certrole_open_string(&ctx, pol, "p", &err), CERTROLE_E_POLICY_ERROR);
        ck_assert_msg(err && strstr(err, "bad path prefix"), "%s", err ? err : "");
        certrole_free(err);
        free(pol);
    }
}
END_TEST

static Suite *paths_suite(void)
{
    Suite *s = suite_create("wrong_allow_path");
    TCase *tc = tcase_create("targets");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, hostile_targets_default_policy);
    tcase_add_test(tc, path_parameters_strip);
    tcase_add_test(tc, path_case_insensitive);
    tcase_add_test(tc, authz_answer_is_structured);
    tcase_add_test(tc, denied_peer_keeps_its_code);
    tcase_add_test(tc, policy_path_options_are_checked);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(paths_suite());
}
