/* x509-limbo through the public API, as client authentication: the
 * CLIENT cases of limbo.json, and the chain-level SERVER cases of
 * limbo-client-eku.json (leaves given clientAuth) replayed under
 * purpose=sslclient. Validation time and max depth come from the case.
 * Each case runs twice: with the default trust profile and with
 * strict=yes; both must agree with expected_result or be listed (with the
 * reason) in expected-limbo.txt / expected-limbo-strict.txt. The cases
 * strict mode changes are printed after the table. */
#define _GNU_SOURCE
#include "conf_util.h"
#include "testutil.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One selected case: which document it came from. */
struct limbo_case {
    const struct cj *c;
    struct conf_tally *row, *strict_row;
    int outcome[2];          /* our verdict: 1 accepted, 0 refused, -1 not run */
    certrole_code code[2];
};

static struct cj *doc_client, *doc_eku;
static struct limbo_case *sel;
static size_t nsel;
static struct conf_expect *expect, *expect_strict;
static char *tmpdir;
static struct conf_tally row_client = { .suite = "limbo CLIENT" };
static struct conf_tally row_replay = { .suite = "limbo SERVER as client" };
static struct conf_tally row_client_strict = { .suite = "limbo CLIENT strict" };
static struct conf_tally row_replay_strict = { .suite = "limbo SERVER as client strict" };

/* The README's rule for chain-level SERVER cases that can be replayed as
 * client authentication. */
static int replayable(const struct cj *c)
{
    static const char *const prefixes[] = {
        "rfc5280::", "pathlen::", "pathological::", "crl::", "cve::", "invalid::",
    };
    const char *id = cj_str(cj_get(c, "id"));
    const char *kind = cj_str(cj_get(c, "validation_kind"));
    if (!id || !kind || strcmp(kind, "SERVER"))
        return 0;
    if (strstr(id, "eku") || strstr(id, "::san::"))
        return 0;
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (!strncmp(id, prefixes[i], strlen(prefixes[i])))
            return 1;
    return 0;
}

static void select_cases(void)
{
    const struct cj *a = cj_get(doc_client, "testcases"), *b = cj_get(doc_eku, "testcases");
    sel = calloc(cj_len(a) + cj_len(b) + 1, sizeof *sel);
    if (!sel)
        return;
    for (size_t i = 0; i < cj_len(a); i++) {
        const char *kind = cj_str(cj_get(cj_at(a, i), "validation_kind"));
        if (kind && !strcmp(kind, "CLIENT"))
            sel[nsel++] = (struct limbo_case){ cj_at(a, i), &row_client, &row_client_strict,
                                               { -1, -1 }, { 0, 0 } };
    }
    for (size_t i = 0; i < cj_len(b); i++)
        if (replayable(cj_at(b, i)))
            sel[nsel++] = (struct limbo_case){ cj_at(b, i), &row_replay, &row_replay_strict,
                                               { -1, -1 }, { 0, 0 } };
}

/* Writes the concatenation of a JSON array of PEM strings to path.
 * Returns the number written. */
static size_t write_pems(const char *path, const struct cj *arr)
{
    char *all = conf_strf("%s", "");
    size_t n = 0;
    for (size_t i = 0; i < cj_len(arr); i++) {
        const char *pem = cj_str(cj_at(arr, i));
        if (!pem || !*pem)
            continue;
        char *next = conf_strf("%s%s%s", all, pem, pem[strlen(pem) - 1] == '\n' ? "" : "\n");
        free(all);
        all = next;
        n++;
    }
    tu_write_file(path, all);
    free(all);
    return n;
}

static char *case_policy(const struct cj *c, int idx, int strict)
{
    char *line = NULL;
    char *ca = conf_strf("%s/ca-%d.pem", tmpdir, idx), *crl = conf_strf("%s/crl-%d.pem", tmpdir, idx);
    ck_assert_uint_gt(write_pems(ca, cj_get(c, "trusted_certs")), 0);
    conf_policy_add(&line, "ca-file", ca);
    if (write_pems(crl, cj_get(c, "crls")) > 0) {
        conf_policy_add(&line, "crl-file", crl);
        /* Every CRL case is about the leaf (no intermediates). */
        conf_policy_add(&line, "crl-check", "leaf");
    }
    conf_policy_add(&line, "purpose", "sslclient");
    const char *when = cj_str(cj_get(c, "validation_time"));
    if (when) {
        /* Certificates carry whole seconds and OpenSSL validates at a
         * time_t: drop a fraction ("00:00:00.999+00:00" -> "00:00:00+00:00"),
         * i.e. round down. */
        char *t = conf_strf("%s", when), *dot = strchr(t, '.');
        if (dot)
            memmove(dot, dot + 1 + strspn(dot + 1, "0123456789"),
                    strlen(dot + 1 + strspn(dot + 1, "0123456789")) + 1);
        conf_policy_add(&line, "time", t);
        free(t);
    }
    const struct cj *depth = cj_get(c, "max_chain_depth");
    if (depth && depth->type == CJ_NUM) {
        /* The trust profile allows 0..100 intermediates; OpenSSL never
         * builds longer chains than 100 either. */
        int d = depth->num > 100 ? 100 : (int)depth->num;
        char buf[16];
        snprintf(buf, sizeof buf, "%d", d);
        conf_policy_add(&line, "depth", buf);
    }
    if (strict)
        conf_policy_add(&line, "strict", "yes");
    char *policy = conf_strf("trust %s\n", line);
    free(line);
    free(ca);
    free(crl);
    return policy;
}

static void run_case(int idx, int strict)
{
    struct limbo_case *lc = &sel[idx];
    const struct cj *c = lc->c;
    const char *id = cj_str(cj_get(c, "id"));
    const char *want = cj_str(cj_get(c, "expected_result"));
    ck_assert_ptr_nonnull(id);
    ck_assert_msg(want && (!strcmp(want, "SUCCESS") || !strcmp(want, "FAILURE")),
                  "%s: expected_result missing", id);
    int should = !strcmp(want, "SUCCESS");
    struct conf_tally *row = strict ? lc->strict_row : lc->row;
    struct conf_expect *ex = strict ? expect_strict : expect;

    const char *peer = cj_str(cj_get(c, "peer_certificate"));
    STACK_OF(X509) *leafs = peer ? conf_pem_certs(peer) : NULL;
    STACK_OF(X509) *inter = sk_X509_new_null();
    ck_assert_ptr_nonnull(inter);
    const struct cj *ints = cj_get(c, "untrusted_intermediates");
    int unreadable = !leafs || sk_X509_num(leafs) != 1;
    for (size_t i = 0; i < cj_len(ints) && !unreadable; i++) {
        STACK_OF(X509) *one = cj_str(cj_at(ints, i)) ? conf_pem_certs(cj_str(cj_at(ints, i))) : NULL;
        if (!one || sk_X509_num(one) != 1)
            unreadable = 1;
        else
            ck_assert(sk_X509_push(inter, sk_X509_shift(one)) > 0);
        sk_X509_pop_free(one, X509_free);
    }

    char *policy = case_policy(c, idx, strict), *err = NULL, *msg = NULL, *detail = NULL;
    certrole_ctx *ctx = NULL;
    int bad;
    certrole_code orc = conf_open(&ctx, policy, &err);
    if (orc != CERTROLE_OK) {
        detail = conf_strf("the policy did not open: %s: %s", certrole_code_name(orc),
                         err ? err : "");
        bad = conf_record(row, ex, id, CONF_DISAGREE, detail);
    } else {
        /* A certificate OpenSSL cannot decode is refused: that is what a
         * server would see (the handshake or our input layer rejects it). */
        certrole_code rc = unreadable ? CERTROLE_E_BAD_ENCODING
                         : conf_verify(ctx, sk_X509_value(leafs, 0), inter, &msg);
        lc->outcome[strict] = rc == CERTROLE_OK;
        lc->code[strict] = rc;
        detail = conf_strf("expected %s, our code %s (%s)", want, certrole_code_name(rc),
                         unreadable ? "OpenSSL cannot decode a certificate" : msg ? msg : "");
        bad = conf_record(row, ex, id,
                          (rc == CERTROLE_OK) == should ? CONF_AGREE : CONF_DISAGREE, detail);
    }
    certrole_close(ctx);
    certrole_free(err);
    free(msg);
    free(detail);
    free(policy);
    sk_X509_pop_free(leafs, X509_free);
    sk_X509_pop_free(inter, X509_free);
    ck_assert_msg(!bad, "%s disagrees with x509-limbo and is not on %s", id,
                  strict ? "expected-limbo-strict.txt" : "expected-limbo.txt");
}

START_TEST(test_limbo_default)
{
    run_case(_i, 0);
}
END_TEST

START_TEST(test_limbo_strict)
{
    run_case(_i, 1);
}
END_TEST

static void print_strict_changes(void)
{
    int changed = 0;
    printf("\nstrict=yes changes:\n");
    for (size_t i = 0; i < nsel; i++) {
        if (sel[i].outcome[0] < 0 || sel[i].outcome[1] < 0 ||
            sel[i].code[0] == sel[i].code[1])
            continue;
        changed++;
        printf("  %s (expected %s): default %s, strict %s\n", cj_str(cj_get(sel[i].c, "id")),
               cj_str(cj_get(sel[i].c, "expected_result")), certrole_code_name(sel[i].code[0]),
               certrole_code_name(sel[i].code[1]));
    }
    printf("  %d case(s) changed\n", changed);
}

int main(void)
{
    conf_require_data();
    char err[256];
    if (!(doc_client = cj_parse_file(conf_data("limbo/limbo.json"), err, sizeof err)) ||
        !(doc_eku = cj_parse_file(conf_data("limbo/limbo-client-eku.json"), err, sizeof err))) {
        fprintf(stderr, "limbo: %s\n", err);
        cj_free(doc_client);
        return EXIT_FAILURE;
    }
    select_cases();
    expect = conf_expect_load("expected-limbo.txt");
    expect_strict = conf_expect_load("expected-limbo-strict.txt");
    tmpdir = conf_mkdtemp("limbo");
    if (!sel || !nsel || !expect || !expect_strict || !tmpdir) {
        fprintf(stderr, "limbo: no cases selected or out of memory\n");
        return EXIT_FAILURE;
    }

    Suite *s = suite_create("conformance: x509-limbo");
    TCase *tc = tcase_create("limbo");
    tcase_add_loop_test(tc, test_limbo_default, 0, (int)nsel);
    tcase_add_loop_test(tc, test_limbo_strict, 0, (int)nsel);
    suite_add_tcase(s, tc);
    struct conf_tally *rows[] = { &row_client, &row_replay, &row_client_strict,
                                  &row_replay_strict };
    int rc = conf_run(s, rows, sizeof rows / sizeof rows[0]);
    print_strict_changes();
    conf_expect_unused(expect);
    conf_expect_unused(expect_strict);

    conf_rmrf(tmpdir);
    free(tmpdir);
    conf_expect_free(expect);
    conf_expect_free(expect_strict);
    free(sel);
    cj_free(doc_client);
    cj_free(doc_eku);
    return rc;
}
