/* The ldap realm end to end: a policy with "realm ... ldap", the core's
 * verification and stack, certrole_verify_pem and certrole_authorize. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "testutil.h"
#include "ldap/realm_harness.h"
#include "certrole.h"

static certrole_ctx *policy_ctx(const char *realm_args)
{
    char *text = tu_strf("trust ca-file=%s\n"
                         "realm required ldap uri=ldap://127.0.0.1:%d %s\n"
                         "require GET /InvoiceService/list invoice-readonly\n",
                         tu_pki("ca-file.pem"), lh_srv.port, realm_args);
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    certrole_code rc = certrole_open_string(&ctx, text, "ldap-test.policy", &err);
    ck_assert_msg(rc == CERTROLE_OK, "policy: %s\n%s", err ? err : "?", text);
    free(text);
    return ctx;
}

static certrole_result *verify(certrole_ctx *ctx, const char *chain)
{
    size_t len;
    char *pem = tu_read_file(chain, &len);
    ck_assert(pem != NULL);
    certrole_result *res = NULL;
    certrole_verify_pem(ctx, pem, len, &res);
    ck_assert(res != NULL);
    free(pem);
    return res;
}


START_TEST(end_to_end_through_a_policy)
{
    certrole_ctx *ctx = policy_ctx("base=" PEOPLE " \"" BY_SUBJECT "\" group-base=" GROUPS
                                   " \"role-map=" READERS ":invoice-readonly\"");
    certrole_result *res = verify(ctx, tu_pki("client-chain.pem"));
    ck_assert_msg(certrole_result_allowed(res), "%s", certrole_result_message(res));
    ck_assert_str_eq(certrole_result_user(res), "crm");
    ck_assert(certrole_result_has_role(res, "invoice-readonly"));
    ck_assert_int_eq(certrole_authorize(ctx, res, "GET", "/InvoiceService/list"), CERTROLE_OK);
    certrole_result_free(res);

    res = verify(ctx, tu_pki("norole-chain.pem"));
    ck_assert_int_eq(certrole_result_code(res), CERTROLE_E_UNKNOWN_IDENTITY);
    certrole_result_free(res);

    /* the escaped-DN certificate goes through the core's DN code too */
    certrole_close(ctx);
    ctx = policy_ctx("map=dn base=c=US");
    res = verify(ctx, lf_chain("esc"));
    ck_assert_msg(certrole_result_allowed(res), "%s", certrole_result_message(res));
    ck_assert_str_eq(certrole_result_user(res), "jsmith");
    certrole_result_free(res);
    res = verify(ctx, lf_chain("inj-star"));
    ck_assert_int_eq(certrole_result_code(res), CERTROLE_E_UNKNOWN_IDENTITY);
    certrole_result_free(res);
    certrole_close(ctx);
}
END_TEST

START_TEST(end_to_end_server_down_is_realm_unavailable)
{
    certrole_ctx *ctx = policy_ctx("map=dn base=c=US timeout=1 network-timeout=1");
    lf_stop(&lh_srv);
    double t0 = lf_now();
    certrole_result *res = verify(ctx, tu_pki("client-chain.pem"));
    double took = lf_now() - t0;
    ck_assert_int_eq(certrole_result_code(res), CERTROLE_E_REALM_UNAVAILABLE);
    ck_assert(!certrole_result_allowed(res));
    ck_assert_msg(took < 2.5, "took %.2f s", took);
    ck_assert_msg(strstr(certrole_result_message(res), "Can't contact LDAP server") != NULL,
                  "%s", certrole_result_message(res));
    certrole_result_free(res);
    certrole_close(ctx);
}
END_TEST

/* "fail closed unless the stack says the realm is optional": an optional
 * ldap realm that is down is ignored and the file realm decides; when it
 * is up its roles are merged with the file realm's. */
static certrole_ctx *stack_ctx(const char *control, int port)
{
    char *users = tu_strf("%s/stack-users.realm", lf_dir());
    tu_write_file(users, "\"CN=CRMApplication, OU=Sales, O=Acme Corp, L=San Francisco, ST=CA, C=US\""
                         "  file-role  user=crm\n");
    char *text = tu_strf("trust ca-file=%s\n"
                         "realm %s ldap uri=ldap://127.0.0.1:%d map=dn base=c=US timeout=1 network-timeout=1\n"
                         "realm required file path=%s\n"
                         "require GET /InvoiceService/list file-role\n",
                         tu_pki("ca-file.pem"), control, port, users);
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    certrole_code rc = certrole_open_string(&ctx, text, "ldap-stack.policy", &err);
    ck_assert_msg(rc == CERTROLE_OK, "policy: %s\n%s", err ? err : "?", text);
    free(text);
    free(users);
    return ctx;
}

START_TEST(optional_realm_down_is_ignored_required_fails_closed)
{
    certrole_ctx *ctx = stack_ctx("optional", lh_srv.port);
    certrole_result *res = verify(ctx, tu_pki("client-chain.pem"));
    ck_assert_msg(certrole_result_allowed(res), "%s", certrole_result_message(res));
    ck_assert(certrole_result_has_role(res, "file-role"));
    ck_assert_msg(certrole_result_has_role(res, "invoice-readers"), "roles merged from both realms");
    certrole_result_free(res);
    certrole_close(ctx);

    lf_stop(&lh_srv);
    ctx = stack_ctx("optional", lh_srv.port ? lh_srv.port : tu_free_port());
    res = verify(ctx, tu_pki("client-chain.pem"));
    ck_assert_msg(certrole_result_allowed(res), "optional realm down: %s", certrole_result_message(res));
    ck_assert(certrole_result_has_role(res, "file-role"));
    ck_assert(!certrole_result_has_role(res, "invoice-readers"));
    certrole_result_free(res);
    certrole_close(ctx);

    ctx = stack_ctx("required", tu_free_port());
    res = verify(ctx, tu_pki("client-chain.pem"));
    ck_assert_int_eq(certrole_result_code(res), CERTROLE_E_REALM_UNAVAILABLE);
    ck_assert(!certrole_result_allowed(res));
    ck_assert_int_ne(certrole_authorize(ctx, res, "GET", "/InvoiceService/list"), CERTROLE_OK);
    certrole_result_free(res);
    certrole_close(ctx);
}
END_TEST

struct warnings { char buf[4096]; };

static void collect_warnings(void *ud, certrole_log_level level, const char *line)
{
    struct warnings *w = ud;
    size_t used = strlen(w->buf);
    if (level == CERTROLE_LOG_WARNING)
        snprintf(w->buf + used, sizeof w->buf - used, "%s\n", line);
}

/* A directory group cn=x\,admin names the role "x,admin", which a
 * comma-joined export would read as the roles x and admin: the core drops
 * it, saying so, and keeps the group that has a plain name. */
START_TEST(group_name_with_a_comma_is_not_a_role)
{
    certrole_ctx *ctx = policy_ctx("base=ou=people,dc=edge,dc=example \"" BY_SUBJECT "\" "
                                   "role-attr=none group-base=ou=names,dc=edge,dc=example");
    struct warnings w = { "" };
    certrole_set_log(ctx, collect_warnings, &w);
    certrole_result *res = verify(ctx, tu_pki("client-chain.pem"));
    ck_assert_msg(certrole_result_allowed(res), "%s", certrole_result_message(res));
    ck_assert_int_eq(certrole_result_role_count(res), 1);
    ck_assert_str_eq(certrole_result_role(res, 0), "fine");
    ck_assert(!certrole_result_has_role(res, "x,admin") && !certrole_result_has_role(res, "admin"));
    ck_assert_msg(strstr(w.buf, "realm ldap (required ldap-test.policy:2): dropped role "
                                "\"x,admin\": byte 2 (0x2c)"), "%s", w.buf);
    certrole_result_free(res);
    certrole_close(ctx);
}
END_TEST

static Suite *ldap_policy_suite(void)
{
    Suite *s = suite_create("ldap realm: policy");
    TCase *tc_policy = lh_tcase("policy", 1, 60);
    tcase_add_test(tc_policy, end_to_end_through_a_policy);
    tcase_add_test(tc_policy, end_to_end_server_down_is_realm_unavailable);
    tcase_add_test(tc_policy, optional_realm_down_is_ignored_required_fails_closed);
    tcase_add_test(tc_policy, group_name_with_a_comma_is_not_a_role);
    suite_add_tcase(s, tc_policy);
    return s;
}

int main(void) { return lh_main(ldap_policy_suite()); }
