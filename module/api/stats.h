/* Counters of one context (certrole_stats_get reads them).
 *
 * The cached path counts into a per-CPU slot, the same hint the ctx's
 * reader locks use: one shared counter line bouncing between cores would
 * undo what the per-slot locks bought. Everything else (misses, realm
 * lookups, reloads) is the slow path and counts in shared lines. All
 * counters are relaxed atomics: a snapshot is a consistent-enough sum,
 * never a lock on the hot path. */
#ifndef CR_STATS_H
#define CR_STATS_H
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include "certrole.h"
#include "certrole_realm.h"

#define CR_STATS_SLOTS 8   /* = CR_CTX_SLOTS (ctx.h); a power of two */

/* Latency buckets' upper bounds, in seconds (Prometheus "le"); the last
 * bucket is +Inf. */
#define CR_STATS_BUCKETS 8
extern const double cr_stats_bucket_le[CR_STATS_BUCKETS - 1];

enum cr_stats_path { CR_STATS_HIT, CR_STATS_MISS, CR_STATS_UNCACHED };

/* By path and code, so a decision is one atomic add (the cached path
 * pays for every one); column CERTROLE_CODE_COUNT counts codes out of
 * range. */
struct cr_stats_slot {
    atomic_ullong count[3][CERTROLE_CODE_COUNT + 1];   /* [enum cr_stats_path][code] */
} __attribute__((aligned(64)));

struct cr_stats_hist {
    atomic_ullong bucket[CR_STATS_BUCKETS];   /* not cumulative */
    atomic_ullong sum_ns;
};

/* One realm line, by its position in the stack and its module's name.
 * Kept for the ctx's life, so the counters of a realm survive reloads
 * that keep it where it was. */
struct cr_realm_stats {
    struct cr_realm_stats *next;
    unsigned position;                         /* 1-based */
    char *module;
    atomic_ullong by_status[4];                /* certrole_realm_status */
    struct cr_stats_hist latency;
};

struct cr_stats {
    struct cr_stats_slot slot[CR_STATS_SLOTS];
    struct cr_stats_hist verify_latency;       /* verifications not served
                                                  from the cache */
    atomic_ullong reloads, reload_failures;
    atomic_ullong shared_hits, shared_misses; /* option cache-shared, after
                                                  a local miss */
    pthread_mutex_t realms_mu;                 /* guards the list's links */
    struct cr_realm_stats *realms;
};

int cr_stats_init(struct cr_stats *s);
void cr_stats_destroy(struct cr_stats *s);

/* A decision of cr_verify, counted in the caller's slot. */
static inline void cr_stats_decision(struct cr_stats *s, unsigned slot,
                                     enum cr_stats_path path, certrole_code code)
{
    struct cr_stats_slot *sl = &s->slot[slot & (CR_STATS_SLOTS - 1)];
    unsigned c = (unsigned)code < CERTROLE_CODE_COUNT ? (unsigned)code : CERTROLE_CODE_COUNT;
    atomic_fetch_add_explicit(&sl->count[path][c], 1, memory_order_relaxed);
}

void cr_stats_observe(struct cr_stats_hist *h, unsigned long long ns);
void cr_stats_reload(struct cr_stats *s, int ok);

/* The record for the realm at position (1-based) running module; created
 * on first use. NULL when out of memory (that realm is then not counted). */
struct cr_realm_stats *cr_stats_realm(struct cr_stats *s, unsigned position,
                                      const char *module);
void cr_realm_stats_lookup(struct cr_realm_stats *r, certrole_realm_status st,
                           unsigned long long ns);

/* Monotonic nanoseconds, for the latency histograms. */
unsigned long long cr_stats_now_ns(void);
#endif
