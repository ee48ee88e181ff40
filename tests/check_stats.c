/* certrole_stats: what a context counts (decisions by code, the cache,
 * realm lookups, reloads), that counts stay exact under threads, and the
 * Prometheus text it renders. */
#define _GNU_SOURCE
#include "verify_util.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *dir;

/* A policy file trusting the Acme root, a file realm that knows the
 * client, and 'options'. Returns its path. */
static char *write_policy(const char *options)
{
    char *realm = tu_strf("%s/users.realm", dir);
    tu_write_file(realm, "\"" CLIENT_DN "\" reader user=crm\n");
    char *text = tu_strf("trust ca-file=%s crl-file=%s crl-check=chain\n"
                         "realm required file path=%s\n%s\n",
                         tu_pki("ca-file.pem"), tu_pki("crl.pem"), realm, options);
    char *path = tu_strf("%s/stats.policy", dir);
    tu_write_file(path, text);
    free(text);
    free(realm);
    return path;
}

static void quiet(void *u, certrole_log_level l, const char *line)
{
    (void)u; (void)l; (void)line;
}

static certrole_ctx *open_file(const char *path)
{
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    ck_assert_msg(certrole_open(&ctx, path, &err) == CERTROLE_OK, "%s", err ? err : "?");
    certrole_set_log(ctx, quiet, NULL);
    return ctx;
}

static void setup(void) { dir = tu_mkdtemp("stats"); }
static void teardown(void) { tu_rmrf(dir); free(dir); dir = NULL; }

static void verify(certrole_ctx *ctx, const char *file, certrole_code want)
{
    certrole_result *r = NULL;
    certrole_code rc = verify_files(ctx, &r, file, NULL);
    ck_assert_msg(rc == want, "%s: got %s", file, certrole_code_name(rc));
    certrole_result_free(r);
}

static unsigned long long val(certrole_ctx *ctx, certrole_stat which)
{
    certrole_stats *s = certrole_stats_get(ctx);
    ck_assert_ptr_nonnull(s);
    unsigned long long v = certrole_stats_value(s, which);
    certrole_stats_free(s);
    return v;
}

START_TEST(fresh_context_counts_nothing)
{
    char *p = write_policy("option cache-ttl=60");
    certrole_ctx *ctx = open_file(p);
    certrole_stats *s = certrole_stats_get(ctx);
    for (int w = CERTROLE_STAT_VERIFICATIONS; w <= CERTROLE_STAT_SHARED_MISSES; w++)
        ck_assert_uint_eq(certrole_stats_value(s, (certrole_stat)w), 0);
    for (int c = 0; c < CERTROLE_CODE_COUNT; c++)
        ck_assert_uint_eq(certrole_stats_code(s, (certrole_code)c), 0);
    /* the realm line is known before its first lookup */
    ck_assert_uint_eq(certrole_stats_realm_count(s), 1);
    certrole_stats_free(s);
    certrole_close(ctx);
    free(p);
}
END_TEST

START_TEST(decisions_by_code_and_cache_path)
{
    char *p = write_policy("option cache-ttl=60");
    certrole_ctx *ctx = open_file(p);
    verify(ctx, "client-chain.pem", CERTROLE_OK);            /* miss */
    verify(ctx, "client-chain.pem", CERTROLE_OK);            /* hit */
    verify(ctx, "client-chain.pem", CERTROLE_OK);            /* hit */
    verify(ctx, "revoked-chain.pem", CERTROLE_E_REVOKED);    /* miss, not stored */
    verify(ctx, "revoked-chain.pem", CERTROLE_E_REVOKED);    /* miss again */
    certrole_result *r = NULL;
    ck_assert_int_eq(certrole_verify_pem(ctx, "not a certificate", 17, &r),
                     certrole_result_code(r));                /* bypass */
    certrole_code garbage = certrole_result_code(r);
    ck_assert_int_ne(garbage, CERTROLE_OK);
    certrole_result_free(r);

    certrole_stats *s = certrole_stats_get(ctx);
    ck_assert_uint_eq(certrole_stats_value(s, CERTROLE_STAT_VERIFICATIONS), 6);
    ck_assert_uint_eq(certrole_stats_value(s, CERTROLE_STAT_CACHE_HITS), 2);
    ck_assert_uint_eq(certrole_stats_value(s, CERTROLE_STAT_CACHE_MISSES), 3);
    ck_assert_uint_eq(certrole_stats_value(s, CERTROLE_STAT_UNCACHED), 1);
    ck_assert_uint_eq(certrole_stats_code(s, CERTROLE_OK), 3);
    ck_assert_uint_eq(certrole_stats_code(s, CERTROLE_E_REVOKED), 2);
    ck_assert_uint_eq(certrole_stats_code(s, garbage), 1);
    /* a revoked chain never reaches the realm: one lookup, found */
    unsigned pos = 0;
    ck_assert_str_eq(certrole_stats_realm(s, 0, &pos), "file");
    ck_assert_uint_eq(pos, 1);
    ck_assert_uint_eq(certrole_stats_realm_lookups(s, 0, 0), 1);
    ck_assert_uint_eq(certrole_stats_realm_lookups(s, 0, 1), 0);
    /* out of range and NULL are zeros, not crashes */
    ck_assert_ptr_null(certrole_stats_realm(s, 1, &pos));
    ck_assert_uint_eq(certrole_stats_realm_lookups(s, 0, 4), 0);
    ck_assert_uint_eq(certrole_stats_code(s, (certrole_code)CERTROLE_CODE_COUNT), 0);
    ck_assert_uint_eq(certrole_stats_value(NULL, CERTROLE_STAT_VERIFICATIONS), 0);
    ck_assert_ptr_null(certrole_stats_get(NULL));
    ck_assert_ptr_null(certrole_stats_prometheus(NULL));
    certrole_stats_free(NULL);
    certrole_stats_free(s);
    certrole_close(ctx);
    free(p);
}
END_TEST

START_TEST(realm_outcomes_and_reloads)
{
    char *p = write_policy("option cache-ttl=0");
    certrole_ctx *ctx = open_file(p);
    verify(ctx, "client-chain.pem", CERTROLE_OK);
    /* another trusted client the realm does not know */
    certrole_result *r = NULL;
    certrole_code rc = verify_files(ctx, &r, "norole-chain.pem", NULL);
    certrole_result_free(r);
    ck_assert_uint_eq(val(ctx, CERTROLE_STAT_RELOADS), 0);
    ck_assert_int_eq(certrole_reload(ctx, NULL), CERTROLE_OK);
    ck_assert_uint_eq(val(ctx, CERTROLE_STAT_RELOADS), 1);
    /* the same realm line after the reload keeps its counters */
    verify(ctx, "client-chain.pem", CERTROLE_OK);
    /* a broken policy: the reload fails, is counted, the old one serves */
    tu_write_file(p, "trust ca-file=/nonexistent\nbogus line\n");
    char *err = NULL;
    ck_assert_int_ne(certrole_reload(ctx, &err), CERTROLE_OK);
    free(err);
    verify(ctx, "client-chain.pem", CERTROLE_OK);
    certrole_stats *s = certrole_stats_get(ctx);
    ck_assert_uint_eq(certrole_stats_value(s, CERTROLE_STAT_RELOADS), 1);
    ck_assert_uint_eq(certrole_stats_value(s, CERTROLE_STAT_RELOAD_FAILURES), 1);
    ck_assert_uint_eq(certrole_stats_value(s, CERTROLE_STAT_CACHE_HITS), 0);
    ck_assert_uint_eq(certrole_stats_realm_count(s), 1);
    ck_assert_uint_eq(certrole_stats_realm_lookups(s, 0, 0), 3);
    if (rc == CERTROLE_E_UNKNOWN_IDENTITY)
        ck_assert_uint_eq(certrole_stats_realm_lookups(s, 0, 1), 1);
    else
        ck_abort_msg("norole was expected unknown to the realm, got %s",
                     certrole_code_name(rc));
    certrole_stats_free(s);
    certrole_close(ctx);
    free(p);
}
END_TEST

/* ---- threads: counts are exact once the threads are joined ---- */

struct worker { certrole_ctx *ctx; X509 *leaf; STACK_OF(X509) *rest; int n; };

static void *work(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < w->n; i++) {
        certrole_result *r = NULL;
        certrole_verify_x509(w->ctx, w->leaf, w->rest, &r);
        certrole_result_free(r);
    }
    return NULL;
}

START_TEST(threads_count_exactly)
{
    char *p = write_policy("option cache-ttl=60");
    certrole_ctx *ctx = open_file(p);
    STACK_OF(X509) *chain = load_pem(tu_pki("client-chain.pem"));
    X509 *leaf = sk_X509_shift(chain);
    verify(ctx, "client-chain.pem", CERTROLE_OK);   /* fills the cache */
    enum { T = 4, N = 2000 };
    pthread_t t[T];
    struct worker w = { ctx, leaf, chain, N };
    for (int i = 0; i < T; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, work, &w), 0);
    for (int i = 0; i < T; i++)
        pthread_join(t[i], NULL);
    certrole_stats *s = certrole_stats_get(ctx);
    ck_assert_uint_eq(certrole_stats_value(s, CERTROLE_STAT_VERIFICATIONS), 1 + T * N);
    ck_assert_uint_eq(certrole_stats_value(s, CERTROLE_STAT_CACHE_HITS), T * N);
    ck_assert_uint_eq(certrole_stats_code(s, CERTROLE_OK), 1 + T * N);
    certrole_stats_free(s);
    X509_free(leaf);
    sk_X509_pop_free(chain, X509_free);
    certrole_close(ctx);
    free(p);
}
END_TEST

/* ---- the Prometheus text ---- */

/* The value of the sample line that starts with 'prefix ' (exactly). */
static double sample(const char *text, const char *prefix)
{
    size_t n = strlen(prefix);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (strncmp(l, prefix, n) == 0 && l[n] == ' ')
            return strtod(l + n + 1, NULL);
    ck_abort_msg("no sample '%s' in:\n%s", prefix, text);
    return -1;
}

/* Every line is a comment (# HELP / # TYPE) or "name[{labels}] value". */
static void well_formed(const char *text)
{
    ck_assert_msg(*text && text[strlen(text) - 1] == '\n', "text must end in a newline");
    char *copy = strdup(text), *save = NULL;
    for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (l[0] == '#') {
            ck_assert_msg(strncmp(l, "# HELP certrole_", 16) == 0 ||
                          strncmp(l, "# TYPE certrole_", 16) == 0, "bad comment: %s", l);
            continue;
        }
        ck_assert_msg(strncmp(l, "certrole_", 9) == 0, "bad name: %s", l);
        char *sp = strrchr(l, ' ');
        ck_assert_msg(sp && sp[1], "no value: %s", l);
        char *end = NULL;
        strtod(sp + 1, &end);
        ck_assert_msg(end && *end == '\0', "value not a number: %s", l);
        char *brace = strchr(l, '{');
        if (brace)
            ck_assert_msg(brace < sp && sp[-1] == '}', "labels not closed: %s", l);
    }
    free(copy);
}

START_TEST(prometheus_text)
{
    char *p = write_policy("option cache-ttl=60");
    certrole_ctx *ctx = open_file(p);
    verify(ctx, "client-chain.pem", CERTROLE_OK);
    verify(ctx, "client-chain.pem", CERTROLE_OK);
    verify(ctx, "revoked-chain.pem", CERTROLE_E_REVOKED);
    certrole_stats *s = certrole_stats_get(ctx);
    char *t = certrole_stats_prometheus(s);
    ck_assert_ptr_nonnull(t);
    well_formed(t);
    ck_assert_double_eq(sample(t, "certrole_decisions_total{code=\"ok\"}"), 2);
    ck_assert_double_eq(sample(t, "certrole_decisions_total{code=\"revoked\"}"), 1);
    ck_assert_double_eq(sample(t, "certrole_cache_lookups_total{result=\"hit\"}"), 1);
    ck_assert_double_eq(sample(t, "certrole_cache_lookups_total{result=\"miss\"}"), 2);
    /* no option cache-shared: nothing looked up there */
    ck_assert_double_eq(sample(t, "certrole_shared_cache_lookups_total{result=\"hit\"}"), 0);
    ck_assert_double_eq(sample(t, "certrole_shared_cache_lookups_total{result=\"miss\"}"), 0);
    /* the histogram of uncached verifications: cumulative, +Inf = count */
    ck_assert_double_eq(sample(t, "certrole_verify_seconds_bucket{le=\"+Inf\"}"), 2);
    ck_assert_double_eq(sample(t, "certrole_verify_seconds_count"), 2);
    ck_assert(sample(t, "certrole_verify_seconds_sum") > 0);
    ck_assert(sample(t, "certrole_verify_seconds_bucket{le=\"1e-05\"}") <=
              sample(t, "certrole_verify_seconds_bucket{le=\"10\"}"));
    ck_assert_double_eq(sample(t, "certrole_realm_lookups_total{realm=\"file\",position=\"1\","
                                  "outcome=\"found\"}"), 1);
    ck_assert_double_eq(sample(t, "certrole_realm_lookup_seconds_count{realm=\"file\","
                                  "position=\"1\"}"), 1);
    ck_assert_double_eq(sample(t, "certrole_reloads_total{result=\"failed\"}"), 0);
    /* one HELP and one TYPE per family */
    ck_assert_ptr_nonnull(strstr(t, "# TYPE certrole_verify_seconds histogram\n"));
    ck_assert_ptr_nonnull(strstr(t, "# TYPE certrole_decisions_total counter\n"));
    certrole_free(t);
    certrole_stats_free(s);
    certrole_close(ctx);
    free(p);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("stats");
    TCase *tc = tcase_create("stats");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, fresh_context_counts_nothing);
    tcase_add_test(tc, decisions_by_code_and_cache_path);
    tcase_add_test(tc, realm_outcomes_and_reloads);
    tcase_add_test(tc, threads_count_exactly);
    tcase_add_test(tc, prometheus_text);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(suite());
}
