/* The context handle: a pointer to the current configuration, swapped
 * under rwlocks that readers hold only to take a reference. */
#ifndef CR_CTX_H
#define CR_CTX_H
#include <pthread.h>
#include "certrole.h"
#include "config.h"
#include "log.h"

/* Readers lock one slot (chosen by the CPU they run on) just long enough
 * to take a reference on cfg; a swap write-locks every slot. One lock
 * shared by all readers would put its cache line, bouncing between
 * cores, on every call's path; a slot each keeps readers on different
 * cores out of each other's way. */
#define CR_CTX_SLOTS 8           /* power of two */
struct cr_ctx_slot {
    pthread_rwlock_t lock;
} __attribute__((aligned(64)));

struct certrole_ctx {
    struct cr_ctx_slot slot[CR_CTX_SLOTS]; /* guard the cfg pointer only */
    struct cr_config *cfg;
    pthread_mutex_t reload_lock; /* one reload at a time */
    char *policy_path;           /* NULL when opened from a string */
    char *policy_text;           /* copy, when opened from a string */
    char *policy_name;
    struct cr_log log;
};

/* Returns the current configuration with a reference the caller drops
 * with cr_config_unref. Never NULL for an open ctx. */
struct cr_config *cr_ctx_acquire(certrole_ctx *ctx);

/* The current configuration without a reference: valid until
 * cr_ctx_leave(rd), which must follow soon (a reload waits for it). Take
 * cr_config_ref inside to keep it longer. Not reentrant on one thread. */
struct cr_ctx_reader {
    pthread_rwlock_t *lock;
};
struct cr_config *cr_ctx_enter(certrole_ctx *ctx, struct cr_ctx_reader *rd);
void cr_ctx_leave(struct cr_ctx_reader *rd);
#endif
