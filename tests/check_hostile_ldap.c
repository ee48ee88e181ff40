/* LDAP filter metacharacters in every certificate field that reaches a
 * filter and that check_ldap_entry does not already cover (it covers the
 * CN and the subject): the email placeholder, from a SAN and from the
 * subject's emailAddress, and the issuer placeholder, whose value an
 * intermediate CA's name controls. End to end through a policy and
 * certrole_verify_pem, so the core's identity is what gets escaped. For
 * each, the filter an unescaped expansion would produce is shown to
 * match an entry, so "not found" means the escaping held. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "certrole.h"
#include "hostile_util.h"
#include "ldap/realm_harness.h"
#include "testutil.h"

static void setup(void)
{
    setenv("CERTROLE_REALM_DIR", hx("mods"), 1);
}

static certrole_ctx *ldap_ctx(const char *filter)
{
    char *text = tu_strf("trust ca-file=%s\n"
                         "realm required ldap uri=ldap://127.0.0.1:%d base=" PEOPLE
                         " \"filter=%s\" timeout=5\noption cache-ttl=0\n",
                         tu_pki("ca-file.pem"), lh_srv.port, filter);
    certrole_ctx *ctx = hx_open(text);
    free(text);
    return ctx;
}

static void found_user(certrole_ctx *ctx, const char *pem, const char *user)
{
    certrole_result *res = hx_verify(ctx, pem);
    ck_assert_msg(certrole_result_allowed(res), "%s: %s", pem, certrole_result_message(res));
    ck_assert_str_eq(certrole_result_user(res), user);
    certrole_result_free(res);
}

START_TEST(email_placeholder_is_escaped)
{
    /* What "*" would expand to, unescaped: it finds crm. */
    certrole_ctx *ctx = ldap_ctx("(&(objectClass=inetOrgPerson)(mail=*))");
    found_user(ctx, hx("ldap-email-chain.pem"), "crm");
    certrole_close(ctx);

    ctx = ldap_ctx("(&(objectClass=inetOrgPerson)(mail=%{email}))");
    found_user(ctx, tu_pki("client-chain.pem"), "crm");     /* crm@acme.example */
    hx_denied(ctx, hx("ldap-email-chain.pem"), CERTROLE_E_UNKNOWN_IDENTITY);      /* "*" */
    hx_denied(ctx, hx("ldap-email2-chain.pem"), CERTROLE_E_UNKNOWN_IDENTITY);     /* "*)(uid=crm" */
    hx_denied(ctx, hx("ldap-subjmail-chain.pem"), CERTROLE_E_UNKNOWN_IDENTITY);   /* subject "*" */
    certrole_close(ctx);
}
END_TEST

START_TEST(issuer_placeholder_is_escaped)
{
    /* The issuer is "O=Evil,CN=x)(uid=crm"; unescaped in this template
     * it closes the description test and adds (uid=crm). */
    certrole_ctx *ctx = ldap_ctx("(&(objectClass=inetOrgPerson)(|(description=O=Evil,CN=x)(uid=crm)))");
    found_user(ctx, hx("ldap-issuer-chain.pem"), "crm");
    certrole_close(ctx);

    ctx = ldap_ctx("(&(objectClass=inetOrgPerson)(|(description=%{issuer})))");
    certrole_result *res = hx_verify(ctx, hx("ldap-issuer-chain.pem"));
    ck_assert_str_eq(certrole_result_issuer(res), "O=Evil,CN=x)(uid=crm");
    certrole_result_free(res);
    hx_denied(ctx, hx("ldap-issuer-chain.pem"), CERTROLE_E_UNKNOWN_IDENTITY);
    certrole_close(ctx);
}
END_TEST

START_TEST(subject_injection_through_the_dn_map)
{
    /* CN "x,O=Acme Corp" searched by subject: no entry. */
    certrole_ctx *ctx = ldap_ctx("(&(objectClass=inetOrgPerson)(seeAlso=%{subject}))");
    hx_denied(ctx, hx("dninject-chain.pem"), CERTROLE_E_UNKNOWN_IDENTITY);
    certrole_close(ctx);
    /* Names that are refused before any realm is asked. */
    ctx = ldap_ctx("(&(objectClass=inetOrgPerson)(cn=%{cn}))");
    hx_denied(ctx, hx("nulcn-chain.pem"), CERTROLE_E_BAD_NAME);
    hx_denied(ctx, hx("twocn-chain.pem"), CERTROLE_E_BAD_NAME);
    /* No CN at all: the placeholder has no value, nothing is searched. */
    certrole_result *res = hx_verify(ctx, hx("emptysubj-chain.pem"));
    ck_assert(!certrole_result_allowed(res));
    ck_assert_msg(certrole_result_code(res) == CERTROLE_E_UNKNOWN_IDENTITY, "%s: %s", certrole_code_name(certrole_result_code(res)),
                  certrole_result_message(res));
    certrole_result_free(res);
    certrole_close(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hostile input: ldap filters");
    TCase *tc = lh_tcase("filters", 1, 120);
    tcase_add_unchecked_fixture(tc, hx_prepare, NULL);
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, email_placeholder_is_escaped);
    tcase_add_test(tc, issuer_placeholder_is_escaped);
    tcase_add_test(tc, subject_injection_through_the_dn_map);
    suite_add_tcase(s, tc);
    int rc = lh_main(s);
    hx_cleanup();
    return rc;
}
