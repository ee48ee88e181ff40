/* Counting (stats.h). Reading them is stats_report.c. */
#include "stats.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

const double cr_stats_bucket_le[CR_STATS_BUCKETS - 1] = {
    0.00001, 0.0001, 0.001, 0.01, 0.1, 1, 10
};

int cr_stats_init(struct cr_stats *s)
{
    memset(s, 0, sizeof *s);
    return pthread_mutex_init(&s->realms_mu, NULL) == 0 ? 0 : -1;
}

void cr_stats_destroy(struct cr_stats *s)
{
    struct cr_realm_stats *r = s->realms;
    while (r) {
        struct cr_realm_stats *next = r->next;
        free(r->module);
        free(r);
        r = next;
    }
    s->realms = NULL;
    pthread_mutex_destroy(&s->realms_mu);
}

unsigned long long cr_stats_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

void cr_stats_observe(struct cr_stats_hist *h, unsigned long long ns)
{
    double secs = (double)ns / 1e9;
    size_t b = 0;
    while (b < CR_STATS_BUCKETS - 1 && secs > cr_stats_bucket_le[b])
        b++;
    atomic_fetch_add_explicit(&h->bucket[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_ns, ns, memory_order_relaxed);
}

void cr_stats_reload(struct cr_stats *s, int ok)
{
    atomic_fetch_add_explicit(ok ? &s->reloads : &s->reload_failures, 1,
                              memory_order_relaxed);
}

struct cr_realm_stats *cr_stats_realm(struct cr_stats *s, unsigned position,
                                      const char *module)
{
    pthread_mutex_lock(&s->realms_mu);
    struct cr_realm_stats **tail = &s->realms, *r;
    for (r = s->realms; r; tail = &r->next, r = r->next)
        if (r->position == position && strcmp(r->module, module) == 0)
            break;
    if (!r && (r = calloc(1, sizeof *r)) != NULL) {
        r->position = position;
        if (!(r->module = strdup(module))) {
            free(r);
            r = NULL;
        } else {
            *tail = r;   /* appended last: snapshots list realms in order met */
        }
    }
    pthread_mutex_unlock(&s->realms_mu);
    return r;
}

void cr_realm_stats_lookup(struct cr_realm_stats *r, certrole_realm_status st,
                           unsigned long long ns)
{
    if ((unsigned)st < 4)
        atomic_fetch_add_explicit(&r->by_status[st], 1, memory_order_relaxed);
    cr_stats_observe(&r->latency, ns);
}
