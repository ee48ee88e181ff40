/* The context handle: a pointer to the current configuration, swapped
 * under a rwlock that readers hold only to take a reference. */
#ifndef CR_CTX_H
#define CR_CTX_H
#include <pthread.h>
#include "certrole.h"
#include "config.h"
#include "log.h"

struct certrole_ctx {
    pthread_rwlock_t lock;       /* guards cfg pointer swap only */
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
#endif
