/* format=tomcat follows the build. With libxml2, a tomcat-users.xml realm
 * loads and maps the peer. Built with configure --without-libxml2, a
 * policy that asks for format=tomcat is refused with a policy error naming
 * the policy file, line and column and the reason, and the loader's
 * stand-in refuses any tomcat-users.xml. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "build-config.h"
#include "certrole.h"
#include "tomcat.h"
#include "realm_file_util.h"

START_TEST(format_tomcat_follows_the_build)
{
    char *rp = tu_strf("%s/tomcat-users.xml", rf_dir);
    tu_write_file(rp, TOMCAT_GOOD);
    free(rp);
    char *pol = tu_strf("trust ca-file=%s\nrealm required file path=tomcat-users.xml"
                        " format=tomcat\n", rf_both_cas);
    char *name = tu_strf("%s/test.policy", rf_dir);
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    certrole_code rc = certrole_open_string(&ctx, pol, name, &err);
#ifdef HAVE_LIBXML2
    ck_assert_msg(rc == CERTROLE_OK, "open failed: %s", err ? err : "?");
    expect(ctx, "client-chain.pem", CERTROLE_OK, CRM_DN_CANONICAL,
           "invoice-readonly,invoice-admin");
    certrole_close(ctx);
#else
    ck_assert_int_eq(rc, CERTROLE_E_POLICY_ERROR);
    ck_assert_ptr_null(ctx);
    char *want = tu_strf("%s:2:16: realm file: %s", name, CR_TOMCAT_UNAVAILABLE);
    ck_assert_msg(err && strcmp(err, want) == 0, "want '%s'\n got '%s'", want,
                  err ? err : "(none)");
    free(want);
#endif
    certrole_free(err);
    free(pol);
    free(name);
}
END_TEST

#ifndef HAVE_LIBXML2
START_TEST(tomcat_reader_refuses)
{
    char err[256] = "";
    ck_assert_int_eq(cr_tomcat_parse(TOMCAT_GOOD, strlen(TOMCAT_GOOD), "t.xml", NULL, NULL, err,
                                     sizeof err), -1);
    ck_assert_str_eq(err, "t.xml: " CR_TOMCAT_UNAVAILABLE);
}
END_TEST
#endif

static Suite *realm_file_libxml_suite(void)
{
    Suite *s = suite_create("realm_file_libxml");
    TCase *tc = tcase_create("build");
    tcase_add_checked_fixture(tc, e2e_setup, e2e_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, format_tomcat_follows_the_build);
#ifndef HAVE_LIBXML2
    tcase_add_test(tc, tomcat_reader_refuses);
#endif
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(realm_file_libxml_suite());
}
