/* NIST PKITS 1.0.1 through the public API: one check per case. Each case
 * becomes a policy (anchor, every CRL with full-chain checking, the
 * PKITS validation time, purpose=any, the RFC 5280 policy inputs) and its
 * chain goes through certrole_verify_x509; the chain-level outcome
 * (no realm) must agree with should_validate, or the case must be on
 * expected-pkits.txt with the reason. */
#define _GNU_SOURCE
#include "conf_util.h"
#include "testutil.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct cj *cases_doc;
static const struct cj *cases;
static const char *validation_time;
static struct conf_expect *expect;
static char *tmpdir;
static struct conf_tally tally = { .suite = "PKITS" };

/* PKITS' symbolic policy names and their OIDs. */
static const char *policy_oid(const char *name)
{
    static const struct { const char *name, *oid; } map[] = {
        { "anyPolicy", "2.5.29.32.0" },
        { "NIST-test-policy-1", "2.16.840.1.101.3.2.1.48.1" },
        { "NIST-test-policy-2", "2.16.840.1.101.3.2.1.48.2" },
        { "NIST-test-policy-3", "2.16.840.1.101.3.2.1.48.3" },
        { "NIST-test-policy-4", "2.16.840.1.101.3.2.1.48.4" },
        { "NIST-test-policy-5", "2.16.840.1.101.3.2.1.48.5" },
        { "NIST-test-policy-6", "2.16.840.1.101.3.2.1.48.6" },
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(map[i].name, name))
            return map[i].oid;
    return NULL;
}

static X509 *load_cert(const char *name)
{
    char *rel = conf_strf("pkits/certs/%s.crt", name);
    X509 *x = conf_der_cert_file(conf_data(rel));
    ck_assert_msg(x != NULL, "cannot read %s", rel);
    free(rel);
    return x;
}

/* The trust line for one case; NULL with *na set when an input has no
 * policy equivalent. */
static char *case_policy(const struct cj *c, const char *anchor_pem, const char **na)
{
    char *line = NULL;
    conf_policy_add(&line, "ca-file", anchor_pem);
    const struct cj *crls = cj_get(c, "crls");
    for (size_t i = 0; i < cj_len(crls); i++) {
        char *rel = conf_strf("pkits/crls/%s.crl", cj_str(cj_at(crls, i)));
        conf_policy_add(&line, "crl-file", conf_data(rel));   /* DER, read as is */
        free(rel);
    }
    conf_policy_add(&line, "crl-check", cj_len(crls) ? "chain" : "none");
    conf_policy_add(&line, "time", validation_time);
    conf_policy_add(&line, "purpose", "any");
    /* Policy processing always on; the RFC 5280 default initial set is
     * anyPolicy. */
    const struct cj *set = cj_get(c, "SetInitialPolicySet");
    if (!cj_len(set))
        conf_policy_add(&line, "policy", "2.5.29.32.0");
    for (size_t i = 0; i < cj_len(set); i++) {
        const char *oid = policy_oid(cj_str(cj_at(set, i)) ? cj_str(cj_at(set, i)) : "");
        if (!oid) {
            *na = "unknown symbolic policy in SetInitialPolicySet";
            free(line);
            return NULL;
        }
        conf_policy_add(&line, "policy", oid);
    }
    /* RFC 5280's default initial-explicit-policy is false; certrole's
     * is "yes when policy= is given", so say "no" outright. */
    conf_policy_add(&line, "explicit-policy",
                    cj_true(cj_get(c, "SetInitialExplicitPolicy")) ? "yes" : "no");
    if (cj_true(cj_get(c, "SetInitialPolicyMappingInhibit")))
        conf_policy_add(&line, "inhibit-mapping", "yes");
    if (cj_true(cj_get(c, "SetInitialInhibitAnyPolicy")))
        conf_policy_add(&line, "inhibit-any", "yes");
    char *policy = conf_strf("trust %s\n", line);
    free(line);
    return policy;
}

START_TEST(test_pkits_case)
{
    const struct cj *c = cj_at(cases, (size_t)_i);
    const char *id = cj_str(cj_get(c, "name"));
    const char *num = cj_str(cj_get(c, "test_number"));
    const struct cj *chain = cj_get(c, "certs_root_first");
    int should = cj_true(cj_get(c, "should_validate"));
    ck_assert_ptr_nonnull(id);
    ck_assert_uint_ge(cj_len(chain), 2);

    size_t n = cj_len(chain);
    X509 *anchor = load_cert(cj_str(cj_at(chain, 0)));
    X509 *leaf = load_cert(cj_str(cj_at(chain, n - 1)));
    STACK_OF(X509) *inter = sk_X509_new_null();
    ck_assert_ptr_nonnull(inter);
    for (size_t i = 1; i + 1 < n; i++)
        ck_assert(sk_X509_push(inter, load_cert(cj_str(cj_at(chain, i)))) > 0);
    char *anchor_pem = conf_strf("%s/anchor-%d.pem", tmpdir, _i);
    ck_assert_int_eq(conf_write_pem(anchor_pem, &anchor, 1, 0), 0);

    const char *na = NULL;
    char *policy = case_policy(c, anchor_pem, &na);
    certrole_ctx *ctx = NULL;
    char *err = NULL, *msg = NULL, *detail = NULL;
    int bad = 0;
    if (!policy) {
        bad = conf_record(&tally, expect, id, CONF_NA, na);
    } else {
        certrole_code orc = conf_open(&ctx, policy, &err);
        if (orc != CERTROLE_OK && err && strstr(err, "unknown trust option")) {
            detail = conf_strf("%s: the trust profile lacks a policy input (%s)", num, err);
            bad = conf_record(&tally, expect, id, CONF_NA, detail);
        } else if (orc != CERTROLE_OK) {
            detail = conf_strf("%s: the policy did not open: %s: %s", num,
                             certrole_code_name(orc), err ? err : "");
            bad = conf_record(&tally, expect, id, CONF_DISAGREE, detail);
        } else {
            certrole_code rc = conf_verify(ctx, leaf, inter, &msg);
            detail = conf_strf("%s %s: expected %s, our code %s (%s)", num,
                             cj_str(cj_get(c, "title")), should ? "valid" : "invalid",
                             certrole_code_name(rc), msg ? msg : "");
            bad = conf_record(&tally, expect, id,
                              (rc == CERTROLE_OK) == should ? CONF_AGREE : CONF_DISAGREE, detail);
        }
    }
    certrole_close(ctx);
    certrole_free(err);
    free(msg);
    free(detail);
    free(policy);
    remove(anchor_pem);
    free(anchor_pem);
    X509_free(anchor);
    X509_free(leaf);
    sk_X509_pop_free(inter, X509_free);
    ck_assert_msg(!bad, "%s disagrees with PKITS and is not on expected-pkits.txt", id);
}
END_TEST

int main(void)
{
    conf_require_data();
    char err[256];
    if (!(cases_doc = cj_parse_file(conf_data("pkits/pkits_cases.json"), err, sizeof err))) {
        fprintf(stderr, "pkits_cases.json: %s\n", err);
        return EXIT_FAILURE;
    }
    cases = cj_get(cases_doc, "cases");
    validation_time = cj_str(cj_get(cases_doc, "validation_time"));
    if (!cj_len(cases) || !validation_time) {
        fprintf(stderr, "pkits_cases.json: no cases or no validation_time\n");
        cj_free(cases_doc);
        return EXIT_FAILURE;
    }
    expect = conf_expect_load("expected-pkits.txt");
    tmpdir = conf_mkdtemp("pkits");
    if (!expect || !tmpdir) {
        fprintf(stderr, "out of memory\n");
        return EXIT_FAILURE;
    }

    Suite *s = suite_create("conformance: NIST PKITS");
    TCase *tc = tcase_create("pkits");
    tcase_add_loop_test(tc, test_pkits_case, 0, (int)cj_len(cases));
    suite_add_tcase(s, tc);
    struct conf_tally *rows[] = { &tally };
    int rc = conf_run(s, rows, 1);
    conf_expect_unused(expect);

    conf_rmrf(tmpdir);
    free(tmpdir);
    conf_expect_free(expect);
    cj_free(cases_doc);
    return rc;
}
