/* The Acme invoice demo as an integration test: the real C server on the
 * library, a throwaway PKI made by openssl, and curl as the client. The
 * demo runs once; each expected outcome is its own check. */
#include <stdlib.h>
#include <string.h>
#include "testutil.h"

static char *output;
static int status = -1;

static void run_demo(void)
{
    char *cmd = tu_strf("'%s' '%s'", tu_src("examples/acme-invoice/demo.sh"),
                        tu_env("CERTROLE_BUILDDIR", "."));
    status = tu_run(cmd, &output);
    free(cmd);
}

static void free_demo(void)
{
    free(output);
    output = NULL;
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
    return s;
}

int main(void)
{
    return tu_run_suite(demo_suite());
}
