/* certrole_stats_*: snapshots of a context's counters, and their
 * Prometheus text form. */
#include <stdlib.h>
#include <string.h>
#include "ctx.h"
#include "stats.h"
#include "strbuf.h"

struct hist_copy {
    unsigned long long bucket[CR_STATS_BUCKETS];
    unsigned long long sum_ns;
};

struct realm_copy {
    char *module;
    unsigned position;
    unsigned long long by_status[4];
    struct hist_copy latency;
};

struct certrole_stats {
    unsigned long long path[3];
    unsigned long long by_code[CERTROLE_CODE_COUNT];
    unsigned long long reloads, reload_failures;
    unsigned long long shared_hits, shared_misses;
    struct hist_copy verify_latency;
    struct realm_copy *realm;
    size_t n_realms;
};

static unsigned long long ld(atomic_ullong *a)
{
    return atomic_load_explicit(a, memory_order_relaxed);
}

static void copy_hist(struct hist_copy *to, struct cr_stats_hist *from)
{
    for (size_t b = 0; b < CR_STATS_BUCKETS; b++)
        to->bucket[b] = ld(&from->bucket[b]);
    to->sum_ns = ld(&from->sum_ns);
}

static int copy_realms(certrole_stats *out, struct cr_stats *s)
{
    pthread_mutex_lock(&s->realms_mu);
    size_t n = 0;
    for (struct cr_realm_stats *r = s->realms; r; r = r->next)
        n++;
    int rc = 0;
    if (n && !(out->realm = calloc(n, sizeof *out->realm)))
        rc = -1;
    for (struct cr_realm_stats *r = s->realms; r && rc == 0; r = r->next) {
        struct realm_copy *c = &out->realm[out->n_realms];
        if (!(c->module = strdup(r->module))) {
            rc = -1;
            break;
        }
        out->n_realms++;
        c->position = r->position;
        for (int i = 0; i < 4; i++)
            c->by_status[i] = ld(&r->by_status[i]);
        copy_hist(&c->latency, &r->latency);
    }
    pthread_mutex_unlock(&s->realms_mu);
    return rc;
}

certrole_stats *certrole_stats_get(certrole_ctx *ctx)
{
    if (!ctx)
        return NULL;
    certrole_stats *out = calloc(1, sizeof *out);
    if (!out)
        return NULL;
    struct cr_stats *s = &ctx->stats;
    for (size_t i = 0; i < CR_STATS_SLOTS; i++)
        for (int p = 0; p < 3; p++)
            for (size_t c = 0; c <= CERTROLE_CODE_COUNT; c++) {
                unsigned long long n = ld(&s->slot[i].count[p][c]);
                out->path[p] += n;
                if (c < CERTROLE_CODE_COUNT)
                    out->by_code[c] += n;
            }
    out->reloads = ld(&s->reloads);
    out->reload_failures = ld(&s->reload_failures);
    out->shared_hits = ld(&s->shared_hits);
    out->shared_misses = ld(&s->shared_misses);
    copy_hist(&out->verify_latency, &s->verify_latency);
    if (copy_realms(out, s) != 0) {
        certrole_stats_free(out);
        return NULL;
    }
    return out;
}

void certrole_stats_free(certrole_stats *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_realms; i++)
        free(s->realm[i].module);
    free(s->realm);
    free(s);
}

unsigned long long certrole_stats_value(const certrole_stats *s, certrole_stat which)
{
    if (!s)
        return 0;
    switch (which) {
    case CERTROLE_STAT_VERIFICATIONS:
        return s->path[CR_STATS_HIT] + s->path[CR_STATS_MISS] + s->path[CR_STATS_UNCACHED];
    case CERTROLE_STAT_CACHE_HITS: return s->path[CR_STATS_HIT];
    case CERTROLE_STAT_CACHE_MISSES: return s->path[CR_STATS_MISS];
    case CERTROLE_STAT_UNCACHED: return s->path[CR_STATS_UNCACHED];
    case CERTROLE_STAT_RELOADS: return s->reloads;
    case CERTROLE_STAT_RELOAD_FAILURES: return s->reload_failures;
    case CERTROLE_STAT_SHARED_HITS: return s->shared_hits;
    case CERTROLE_STAT_SHARED_MISSES: return s->shared_misses;
    }
    return 0;
}

unsigned long long certrole_stats_code(const certrole_stats *s, certrole_code code)
{
    return s && (unsigned)code < CERTROLE_CODE_COUNT ? s->by_code[code] : 0;
}

size_t certrole_stats_realm_count(const certrole_stats *s)
{
    return s ? s->n_realms : 0;
}

const char *certrole_stats_realm(const certrole_stats *s, size_t i, unsigned *position)
{
    if (!s || i >= s->n_realms)
        return NULL;
    if (position)
        *position = s->realm[i].position;
    return s->realm[i].module;
}

unsigned long long certrole_stats_realm_lookups(const certrole_stats *s, size_t i, int outcome)
{
    if (!s || i >= s->n_realms || outcome < 0 || outcome > 3)
        return 0;
    return s->realm[i].by_status[outcome];
}

/* ---- Prometheus text exposition format 0.0.4 ---- */

static void header(cr_strbuf *b, const char *name, const char *type, const char *help)
{
    cr_sb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and newline escaped. */
static void label_value(cr_strbuf *b, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            cr_sb_appendc(b, '\\');
        if (*v == '\n')
            cr_sb_append(b, "\\n");
        else
            cr_sb_appendc(b, *v);
    }
}

/* name_bucket{labels,le=...} cumulative, then _sum and _count. */
static void histogram(cr_strbuf *b, const char *name, const char *labels,
                      const struct hist_copy *h)
{
    unsigned long long cum = 0;
    const char *sep = *labels ? "," : "";
    for (size_t i = 0; i < CR_STATS_BUCKETS; i++) {
        cum += h->bucket[i];
        if (i < CR_STATS_BUCKETS - 1)
            cr_sb_printf(b, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep,
                         cr_stats_bucket_le[i], cum);
        else
            cr_sb_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep, cum);
    }
    const char *open = *labels ? "{" : "", *close = *labels ? "}" : "";
    cr_sb_printf(b, "%s_sum%s%s%s %.9f\n", name, open, labels, close, (double)h->sum_ns / 1e9);
    cr_sb_printf(b, "%s_count%s%s%s %llu\n", name, open, labels, close, cum);
}

static void realm_labels(cr_strbuf *lb, const struct realm_copy *r)
{
    cr_sb_append(lb, "realm=\"");
    label_value(lb, r->module);
    cr_sb_printf(lb, "\",position=\"%u\"", r->position);
}

static void realms(cr_strbuf *b, const certrole_stats *s)
{
    static const char *const outcome[4] = { "found", "not_found", "refused", "unavailable" };
    header(b, "certrole_realm_lookups_total", "counter",
           "Realm lookups by realm line and answer.");
    for (size_t i = 0; i < s->n_realms; i++) {
        cr_strbuf lb = CR_STRBUF_INIT;
        realm_labels(&lb, &s->realm[i]);
        for (int o = 0; o < 4; o++)
            cr_sb_printf(b, "certrole_realm_lookups_total{%s,outcome=\"%s\"} %llu\n",
                         lb.s ? lb.s : "", outcome[o], s->realm[i].by_status[o]);
        if (lb.failed)
            b->failed = 1;
        cr_sb_free(&lb);
    }
    header(b, "certrole_realm_lookup_seconds", "histogram",
           "Time each realm lookup took.");
    for (size_t i = 0; i < s->n_realms; i++) {
        cr_strbuf lb = CR_STRBUF_INIT;
        realm_labels(&lb, &s->realm[i]);
        histogram(b, "certrole_realm_lookup_seconds", lb.s ? lb.s : "", &s->realm[i].latency);
        if (lb.failed)
            b->failed = 1;
        cr_sb_free(&lb);
    }
}

char *certrole_stats_prometheus(const certrole_stats *s)
{
    if (!s)
        return NULL;
    cr_strbuf b = CR_STRBUF_INIT;
    header(&b, "certrole_decisions_total", "counter",
           "Verification decisions by result code (ok: allowed).");
    for (size_t c = 0; c < CERTROLE_CODE_COUNT; c++)
        cr_sb_printf(&b, "certrole_decisions_total{code=\"%s\"} %llu\n",
                     certrole_code_name((certrole_code)c), s->by_code[c]);
    header(&b, "certrole_cache_lookups_total", "counter",
           "Verifications by how the verification cache served them.");
    cr_sb_printf(&b, "certrole_cache_lookups_total{result=\"hit\"} %llu\n"
                     "certrole_cache_lookups_total{result=\"miss\"} %llu\n"
                     "certrole_cache_lookups_total{result=\"bypass\"} %llu\n",
                 s->path[CR_STATS_HIT], s->path[CR_STATS_MISS], s->path[CR_STATS_UNCACHED]);
    header(&b, "certrole_shared_cache_lookups_total", "counter",
           "Local cache misses looked up in the cache shared between processes.");
    cr_sb_printf(&b, "certrole_shared_cache_lookups_total{result=\"hit\"} %llu\n"
                     "certrole_shared_cache_lookups_total{result=\"miss\"} %llu\n",
                 s->shared_hits, s->shared_misses);
    header(&b, "certrole_verify_seconds", "histogram",
           "Time of verifications not served from the cache.");
    histogram(&b, "certrole_verify_seconds", "", &s->verify_latency);
    realms(&b, s);
    header(&b, "certrole_reloads_total", "counter",
           "Configurations swapped in after open, by outcome.");
    cr_sb_printf(&b, "certrole_reloads_total{result=\"ok\"} %llu\n"
                     "certrole_reloads_total{result=\"failed\"} %llu\n",
                 s->reloads, s->reload_failures);
    return cr_sb_take(&b);
}
