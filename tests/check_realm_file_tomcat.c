/* tomcat-users.xml in the file realm: libxml2's reader (compiled into
 * this test) on good and hostile documents (XXE, entity expansion,
 * malformed XML, unknown groups), then format=tomcat end to end through a
 * policy with real certificates from the test PKI. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "certrole.h"
#include "tomcat.h"
#include "realm_file_util.h"

/* ---- tomcat-users.xml ----------------------------------------------------- */

struct tc_seen { int n; char user[4][128]; char roles[4][128]; long line[4]; };

static int tc_cb(void *ctx, const char *username, const char *roles, long line, char *err,
                 size_t errlen)
{
    (void)err, (void)errlen;
    struct tc_seen *s = ctx;
    if (s->n < 4) {
        snprintf(s->user[s->n], sizeof s->user[0], "%s", username);
        snprintf(s->roles[s->n], sizeof s->roles[0], "%s", roles);
        s->line[s->n] = line;
    }
    s->n++;
    return 0;
}


START_TEST(tomcat_reader)
{
    struct tc_seen s = { 0 };
    char err[256] = "";
    ck_assert_int_eq(cr_tomcat_parse(TOMCAT_GOOD, strlen(TOMCAT_GOOD), "t.xml", tc_cb, &s, err,
                                     sizeof err), 0);
    ck_assert_int_eq(s.n, 3);
    ck_assert_str_eq(s.user[0], CRM_DN);
    ck_assert_str_eq(s.roles[0], "invoice-readonly,invoice-admin");
    ck_assert_int_eq(s.line[0], 5);
    ck_assert_str_eq(s.user[1], "admin");
    ck_assert_str_eq(s.roles[2], "audit, report");
    ck_assert_int_eq(s.line[2], 8);   /* libxml2: where the start tag ends */
}
END_TEST

static void tomcat_bad(const char *xml, const char *want)
{
    struct tc_seen s = { 0 };
    char err[512] = "";
    ck_assert_int_eq(cr_tomcat_parse(xml, strlen(xml), "t.xml", tc_cb, &s, err, sizeof err), -1);
    ck_assert_msg(strstr(err, want) != NULL, "want '%s', got '%s'", want, err);
    ck_assert_int_eq(s.n, 0);
}

START_TEST(tomcat_hostile)
{
    /* External entity (XXE): refused at the DOCTYPE, nothing is read. */
    tomcat_bad("<?xml version=\"1.0\"?>\n"
               "<!DOCTYPE tomcat-users [ <!ENTITY x SYSTEM \"file:///etc/passwd\"> ]>\n"
               "<tomcat-users><user username=\"CN=&x;\" roles=\"a\"/></tomcat-users>\n",
               "t.xml:2: DOCTYPE not allowed");
    /* Exponential entity expansion. */
    tomcat_bad("<!DOCTYPE t [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;\">]>"
               "<tomcat-users><user username=\"CN=&b;\" roles=\"a\"/></tomcat-users>",
               "DOCTYPE not allowed");
    tomcat_bad("<!DOCTYPE tomcat-users SYSTEM \"http://127.0.0.1:1/x.dtd\"><tomcat-users/>",
               "DOCTYPE not allowed");
    /* Undeclared entity, malformed XML: libxml2's message with the line. */
    tomcat_bad("<tomcat-users>\n<user username=\"CN=&x;\" roles=\"a\"/>\n</tomcat-users>",
               "t.xml:2: Entity 'x' not defined");
    tomcat_bad("<tomcat-users>\n\n  <user username=\"CN=a\" roles=\"a\">\n</tomcat-users>\n",
               "t.xml:4: Opening and ending tag mismatch");
    tomcat_bad("", "t.xml:");
    tomcat_bad("<users><user username=\"CN=a\" roles=\"a\"/></users>", "expected <tomcat-users>");
    tomcat_bad("<tomcat-users>\n<user roles=\"a\"/></tomcat-users>", "t.xml:2: <user> without");
    tomcat_bad("<tomcat-users>\n\n<user username=\"CN=a\" groups=\"nope\"/></tomcat-users>",
               "t.xml:3: user in unknown group 'nope'");
}
END_TEST


START_TEST(e2e_tomcat)
{
    char *err = NULL;
    certrole_ctx *ctx = open_realm_file("tomcat-users.xml", TOMCAT_GOOD, "format=tomcat", &err);
    ck_assert_msg(ctx != NULL, "open failed: %s", err);
    expect(ctx, "client-chain.pem", CERTROLE_OK, CRM_DN_CANONICAL, "invoice-readonly,invoice-admin");
    expect(ctx, "norole-chain.pem", CERTROLE_OK,
           "CN=Guest User,OU=Marketing,O=Acme Corp,L=San Francisco,ST=CA,C=US", "audit,report");
    expect(ctx, "other-client.pem", CERTROLE_OK, CRM_DN_CANONICAL, "invoice-readonly,invoice-admin");
    certrole_close(ctx);

    ctx = open_realm_file("tomcat-users.xml", TOMCAT_GOOD,
                          "format=tomcat default-user=cn issuer=\"" ACME_ROOT "\"", &err);
    ck_assert_msg(ctx != NULL, "open failed: %s", err);
    expect(ctx, "client-chain.pem", CERTROLE_OK, "CRMApplication", "invoice-readonly,invoice-admin");
    expect(ctx, "other-client.pem", CERTROLE_E_UNKNOWN_IDENTITY, NULL, NULL);
    certrole_close(ctx);

    ck_assert_ptr_null(open_realm_file("tomcat-users.xml",
        "<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/hostname\">]>\n"
        "<tomcat-users><user username=\"" CRM_DN "\" roles=\"&e;\"/></tomcat-users>\n",
        "format=tomcat", &err));
    ck_assert_msg(err && strstr(err, "tomcat-users.xml:2: DOCTYPE not allowed"), "got %s", err);
    certrole_free(err);
    ck_assert_ptr_null(open_realm_file("tomcat-users.xml",
        "<tomcat-users>\n<user username=\"" CRM_DN "\" roles=\"a\">\n</tomcat-users>\n",
        "format=tomcat", &err));
    ck_assert_msg(err && strstr(err, "tomcat-users.xml:3:"), "got %s", err);
    certrole_free(err);
    ck_assert_ptr_null(open_realm_file("tomcat-users.xml",
        "<tomcat-users>\n<user username=\"" CRM_DN "\" roles=\"a\"/>\n"
        "<user username=\"cn=crmapplication,ou=sales,o=acme corp,l=san francisco,st=ca,c=us\""
        " roles=\"b\"/>\n</tomcat-users>\n", "format=tomcat", &err));
    ck_assert_msg(err && strstr(err, "tomcat-users.xml:3: duplicate entry"), "got %s", err);
    certrole_free(err);
    ck_assert_ptr_null(open_realm_file("tomcat-users.xml",
        "<tomcat-users>\n<user username=\"" CRM_DN "\" roles=\"a b\"/>\n</tomcat-users>\n",
        "format=tomcat", &err));
    ck_assert_msg(err && strstr(err, "tomcat-users.xml:2: bad role name 'a b'"), "got %s", err);
    certrole_free(err);
}
END_TEST

static Suite *realm_file_tomcat_suite(void)
{
    Suite *s = suite_create("realm_file_tomcat");
    TCase *tc = tcase_create("reader");
    tcase_add_test(tc, tomcat_reader);
    tcase_add_test(tc, tomcat_hostile);
    suite_add_tcase(s, tc);
    tc = tcase_create("plugin");
    tcase_add_checked_fixture(tc, e2e_setup, e2e_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, e2e_tomcat);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(realm_file_tomcat_suite());
}
