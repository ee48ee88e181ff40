/* The context handle: a pointer to the current configuration, swapped
 * under rwlocks that readers hold only to take a reference. */
#ifndef CR_CTX_H
#define CR_CTX_H
#include <pthread.h>
#include <stdatomic.h>
#include "certrole.h"
#include "config.h"
#include "log.h"
#include "stats.h"

/* Readers lock one slot (chosen by the CPU they run on) just long enough
 * to take a reference on cfg; a swap write-locks every slot. One lock
 * shared by all readers would put its cache line, bouncing between
 * cores, on every call's path; a slot each keeps readers on different
 * cores out of each other's way. */
#define CR_CTX_SLOTS 8           /* power of two */
struct cr_ctx_slot {
    pthread_rwlock_t lock;
} __attribute__((aligned(64)));

_Static_assert(CR_CTX_SLOTS == CR_STATS_SLOTS, "one slot index serves both");

struct certrole_ctx {
    struct cr_ctx_slot slot[CR_CTX_SLOTS]; /* guard the cfg pointer only */
    struct cr_config *cfg;
    pthread_mutex_t reload_lock; /* one reload at a time */
    char *policy_path;           /* NULL when opened from a string */
    char *policy_text;           /* copy, when opened from a string */
    char *policy_name;
    struct cr_log log;
    /* The refresh thread (refresh.c): started per process, on first use. */
    atomic_uint refresh_gen;     /* whose thread runs: see refresh.c */
    pthread_t refresher;
    pthread_mutex_t refresh_mu;  /* with refresh_cv: wakes it to stop */
    pthread_cond_t refresh_cv;
    int refresh_stop;
    int refresh_ready;           /* refresh_mu and refresh_cv initialised */
    char *refresh_err;           /* the failure last logged (reload_lock) */
    int refresh_unseen_said;     /* an unstat-able file was logged (thread) */
    struct cr_stats stats;       /* certrole_stats_get; per-CPU slots */
    /* option cache-shared: made at open (so forked workers inherit it),
     * kept across reloads, each configuration tagging its entries. */
    struct cr_shcache *shcache;
};

/* Returns the current configuration with a reference the caller drops
 * with cr_config_unref. Never NULL for an open ctx. */
struct cr_config *cr_ctx_acquire(certrole_ctx *ctx);

/* The current configuration without a reference: valid until
 * cr_ctx_leave(rd), which must follow soon (a reload waits for it). Take
 * cr_config_ref inside to keep it longer. Not reentrant on one thread. */
struct cr_ctx_reader {
    pthread_rwlock_t *lock;
    unsigned slot;               /* the slot index, also the stats slot */
};
struct cr_config *cr_ctx_enter(certrole_ctx *ctx, struct cr_ctx_reader *rd);
void cr_ctx_leave(struct cr_ctx_reader *rd);

/* Builds a configuration from the ctx's policy (certrole_reload's build). */
certrole_code cr_ctx_build(certrole_ctx *ctx, struct cr_config **out, char **err);

/* Swaps fresh in and retires the old one. Called with reload_lock held. */
void cr_ctx_swap_locked(certrole_ctx *ctx, struct cr_config *fresh);
#endif
