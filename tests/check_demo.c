/* The Acme invoice demo as an integration test: the real C server on the
 * library, a throwaway PKI made by openssl, and curl as the client. The
 * demo runs once per variant (roles from a file; with --ldap, from a
 * throwaway slapd); each expected outcome is its own check. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "testutil.h"

static char *output;        /* of the variant the running test case is for */
static int status = -1;

static void run_variant(const char *flag)
{
    char *cmd = tu_strf("'%s' %s '%s'", tu_src("examples/acme-invoice/demo.sh"), flag,
                        tu_env("CERTROLE_BUILDDIR", "."));
    status = tu_run(cmd, &output);
    free(cmd);
}

static void run_demo(void) { run_variant(""); }
static void run_ldap_demo(void) { run_variant("--ldap"); }

static void free_demo(void)
{
    free(output);
    output = NULL;
    status = -1;
}

/* The line of one call, e.g. "   no client certificate ... -> HTTP 401 no_certificate [PASS]". */
static const char *line_of(const char *label)
{
    ck_assert_ptr_nonnull(output);
    const char *p = strstr(output, label);
    ck_assert_msg(p != NULL, "demo output lacks '%s':\n%s", label, output);
    return p;
}

static void assert_outcome(const char *label, const char *want)
{
    const char *p = line_of(label);
    const char *eol = strchr(p, '\n');
    size_t n = eol ? (size_t)(eol - p) : strlen(p);
    char *line = strndup(p, n);
    ck_assert_msg(strstr(line, want) != NULL, "'%s': expected '%s', got '%s'", label, want, line);
    ck_assert_msg(strstr(line, "[PASS]") != NULL, "'%s' did not pass: %s", label, line);
    free(line);
}

START_TEST(demo_exits_zero)
{
    ck_assert_msg(status == 0, "demo exited %d:\n%s", status, output ? output : "");
    ck_assert_ptr_nonnull(strstr(output, "all 6 outcomes as expected"));
}
END_TEST

START_TEST(right_certificate_gets_invoices)
{
    assert_outcome("CRMApplication (Acme CA, role invoice-readonly)", "HTTP 200 ok");
    ck_assert_ptr_nonnull(strstr(output, "INV-2026-0001"));
    ck_assert_ptr_nonnull(strstr(output, "INV-2026-0002"));
}
END_TEST

START_TEST(no_certificate_is_401)
{
    assert_outcome("no client certificate", "HTTP 401 no_certificate");
}
END_TEST

START_TEST(other_ca_is_refused)
{
    assert_outcome("same DN, issued by another CA", "HTTP 403 untrusted_issuer");
}
END_TEST

START_TEST(expired_is_refused_with_date)
{
    assert_outcome("expired certificate", "HTTP 403 expired");
}
END_TEST

START_TEST(revoked_is_refused)
{
    assert_outcome("revoked certificate", "HTTP 403 revoked");
}
END_TEST

START_TEST(no_role_is_forbidden)
{
    assert_outcome("valid certificate, DN without the role", "HTTP 403 forbidden");
}
END_TEST

START_TEST(refusals_carry_hints)
{
    /* Every refusal prints the library's message and hint lines. */
    const char *p = output;
    int hints = 0;
    while ((p = strstr(p, "hint: ")) != NULL) {
        hints++;
        p++;
    }
    ck_assert_int_ge(hints, 5);
}
END_TEST

/* ---- LDAP variant ---------------------------------------------------- */

START_TEST(ldap_demo_exits_zero)
{
    ck_assert_msg(status == 0, "demo --ldap exited %d:\n%s", status, output ? output : "");
    ck_assert_ptr_nonnull(strstr(output, "all 6 outcomes as expected, and fail closed without the directory"));
    ck_assert_ptr_nonnull(strstr(output, "The Acme directory: a throwaway OpenLDAP slapd"));
}
END_TEST

START_TEST(ldap_roles_come_from_the_directory)
{
    /* the certrole command's explanation names the realm and its answer */
    const char *p = strstr(output, "client-chain.pem\n");
    ck_assert_msg(p != NULL, "%s", output);
    const char *user = strstr(p, "user: crm"), *roles = strstr(p, "roles: invoice-readonly");
    const char *realm = strstr(p, "realm: ldap");
    ck_assert_msg(user && roles && realm, "CRMApplication not explained from the directory:\n%s", p);
    p = strstr(output, "norole-chain.pem\n");
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(strstr(p, "roles: marketing"));
}
END_TEST

/* The script stops its slapd: the directory's port accepts nothing. */
START_TEST(ldap_directory_is_down_and_stopped)
{
    assert_outcome("directory down, CRMApplication", "realm_unavailable");
    const char *p = strstr(output, "listening on ldap://127.0.0.1:");
    ck_assert_ptr_nonnull(p);
    int port = atoi(p + strlen("listening on ldap://127.0.0.1:"));
    ck_assert_int_gt(port, 0);
    char *uri = tu_strf("unavailable: ldap://127.0.0.1:%d: connect: Can't contact LDAP server", port);
    ck_assert_msg(strstr(output, uri) != NULL, "message names the URI and the LDAP error:\n%s", output);
    free(uri);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_msg(connect(fd, (struct sockaddr *)&a, sizeof a) != 0, "slapd still listens on %d", port);
    close(fd);
}
END_TEST

/* slapd present? Else the LDAP variant is left out, saying why. */
static int have_slapd(void)
{
    const char *slapd = tu_env("SLAPD", "");
    if (!*slapd || access(slapd, X_OK) != 0) {
        printf("SKIP: demo --ldap: no slapd (SLAPD='%s')\n", slapd);
        return 0;
    }
    return 1;
}

static Suite *demo_suite(void)
{
    Suite *s = suite_create("demo");
    TCase *tc = tcase_create("acme-invoice");
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, run_demo, free_demo);
    tcase_add_test(tc, demo_exits_zero);
    tcase_add_test(tc, right_certificate_gets_invoices);
    tcase_add_test(tc, no_certificate_is_401);
    tcase_add_test(tc, other_ca_is_refused);
    tcase_add_test(tc, expired_is_refused_with_date);
    tcase_add_test(tc, revoked_is_refused);
    tcase_add_test(tc, no_role_is_forbidden);
    tcase_add_test(tc, refusals_carry_hints);
    suite_add_tcase(s, tc);

    if (have_slapd()) {
        TCase *ld = tcase_create("acme-invoice-ldap");
        tcase_set_timeout(ld, 120);
        tcase_add_unchecked_fixture(ld, run_ldap_demo, free_demo);
        tcase_add_test(ld, ldap_demo_exits_zero);
        tcase_add_test(ld, right_certificate_gets_invoices);
        tcase_add_test(ld, no_certificate_is_401);
        tcase_add_test(ld, other_ca_is_refused);
        tcase_add_test(ld, expired_is_refused_with_date);
        tcase_add_test(ld, revoked_is_refused);
        tcase_add_test(ld, no_role_is_forbidden);
        tcase_add_test(ld, refusals_carry_hints);
        tcase_add_test(ld, ldap_roles_come_from_the_directory);
        tcase_add_test(ld, ldap_directory_is_down_and_stopped);
        suite_add_tcase(s, ld);
    }
    return s;
}

int main(void)
{
    return tu_run_suite(demo_suite());
}
