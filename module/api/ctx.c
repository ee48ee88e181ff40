/* The context: open, reload, close, logging (see ctx.h and certrole.h).
 * Readers take one slot's rwlock (ctx.h) only long enough to grab a
 * reference on the current configuration; a reload builds the new
 * configuration without any lock readers wait on, then swaps the pointer
 * with every slot write-locked. */
#define _GNU_SOURCE
#include "ctx.h"
#include "cache_shared.h"
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include "cache.h"
#include "policy.h"
#include "readfile.h"
#include "refresh.h"
#include "stack.h"

static unsigned reader_slot(void)
{
    int cpu = sched_getcpu();   /* cheap (rseq/vDSO); only a hint */
    return (unsigned)(cpu < 0 ? 0 : cpu) & (CR_CTX_SLOTS - 1);
}

struct cr_config *cr_ctx_enter(certrole_ctx *ctx, struct cr_ctx_reader *rd)
{
    /* The slot is a hint: any slot excludes a swap, which locks them all. */
    rd->slot = reader_slot();
    rd->lock = &ctx->slot[rd->slot].lock;
    pthread_rwlock_rdlock(rd->lock);
    return ctx->cfg;
}

void cr_ctx_leave(struct cr_ctx_reader *rd)
{
    pthread_rwlock_unlock(rd->lock);
}

struct cr_config *cr_ctx_acquire(certrole_ctx *ctx)
{
    struct cr_ctx_reader rd;
    struct cr_config *c = cr_ctx_enter(ctx, &rd);
    cr_config_ref(c);
    cr_ctx_leave(&rd);
    return c;
}

/* Drops the ctx's reference on a configuration it no longer serves. Its
 * cache is retired first, so verifications still running on it store
 * nothing more and its memory goes as soon as the last of them is done. */
static void retire(struct cr_config *c)
{
    if (!c)
        return;
    cr_cache_retire(c->cache);
    cr_config_unref(c);
}

/* Excludes every reader: all slots, always in the same order. */
static void lock_all(certrole_ctx *ctx)
{
    for (int i = 0; i < CR_CTX_SLOTS; i++)
        pthread_rwlock_wrlock(&ctx->slot[i].lock);
}

static void unlock_all(certrole_ctx *ctx)
{
    for (int i = CR_CTX_SLOTS - 1; i >= 0; i--)
        pthread_rwlock_unlock(&ctx->slot[i].lock);
}

static void slots_destroy(certrole_ctx *ctx, int n)
{
    for (int i = 0; i < n; i++)
        pthread_rwlock_destroy(&ctx->slot[i].lock);
}

/* Parses and builds from the ctx's source. The journal records the
 * identity of each file as it was read, for the watch list. */
static certrole_code build_journaled(certrole_ctx *ctx, struct cr_config **out, char **err)
{
    struct cr_policy *p = NULL;
    certrole_code rc = ctx->policy_path
        ? cr_policy_parse_file(ctx->policy_path, &p, err)
        : cr_policy_parse_string(ctx->policy_text, ctx->policy_name, &p, err);
    if (rc != CERTROLE_OK)
        return rc;
    rc = cr_config_build(p, &ctx->log, out, err);
    cr_policy_free(p);
    return rc;
}

certrole_code cr_ctx_build(certrole_ctx *ctx, struct cr_config **out, char **err)
{
    struct cr_rf_journal j;
    cr_rf_journal_begin(&j);
    certrole_code rc = build_journaled(ctx, out, err);
    cr_rf_journal_end(&j);
    if (rc == CERTROLE_OK)
        cr_stack_count_into((*out)->stack, &ctx->stats);
    return rc;
}


static void ctx_free(certrole_ctx *ctx)
{
    if (!ctx)
        return;
    if (ctx->refresh_ready)
        cr_refresh_stop(ctx);
    retire(ctx->cfg);
    slots_destroy(ctx, CR_CTX_SLOTS);
    pthread_mutex_destroy(&ctx->reload_lock);
    free(ctx->policy_path);
    free(ctx->policy_text);
    free(ctx->policy_name);
    cr_stats_destroy(&ctx->stats);
    cr_shcache_free(ctx->shcache);
    free(ctx);
}

static void set_err(char **errmsg, char *err)
{
    if (errmsg)
        *errmsg = err;
    else
        free(err);
}

static certrole_code open_common(certrole_ctx **out, const char *path, const char *text,
                                 const char *name, char **errmsg)
{
    if (errmsg)
        *errmsg = NULL;
    if (!out)
        return CERTROLE_E_INVALID_ARGUMENT;
    *out = NULL;
    if (!path && !text)
        return CERTROLE_E_INVALID_ARGUMENT;
    /* The slots are 64-byte aligned; malloc promises only 16. */
    void *mem = NULL;
    if (posix_memalign(&mem, _Alignof(certrole_ctx), sizeof(certrole_ctx)) != 0)
        return CERTROLE_E_NO_MEMORY;
    certrole_ctx *ctx = memset(mem, 0, sizeof(certrole_ctx));
    if (cr_stats_init(&ctx->stats) != 0) {
        free(ctx);
        return CERTROLE_E_NO_MEMORY;
    }
    /* Writer preference: with glibc's default (readers first) a steady
     * stream of verifying threads can keep a reload waiting indefinitely.
     * Safe because no reader ever takes a slot it already holds. */
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    for (int i = 0; i < CR_CTX_SLOTS; i++) {
        if (pthread_rwlock_init(&ctx->slot[i].lock, &attr) != 0) {
            slots_destroy(ctx, i);
            pthread_rwlockattr_destroy(&attr);
            cr_stats_destroy(&ctx->stats);
            free(ctx);
            return CERTROLE_E_NO_MEMORY;
        }
    }
    pthread_rwlockattr_destroy(&attr);
    if (pthread_mutex_init(&ctx->reload_lock, NULL) != 0) {
        slots_destroy(ctx, CR_CTX_SLOTS);
        cr_stats_destroy(&ctx->stats);
        free(ctx);
        return CERTROLE_E_NO_MEMORY;
    }
    if (cr_refresh_init(ctx) != 0) {
        ctx_free(ctx);
        return CERTROLE_E_NO_MEMORY;
    }
    ctx->refresh_ready = 1;
    if ((path && !(ctx->policy_path = strdup(path))) ||
        (text && !(ctx->policy_text = strdup(text))) ||
        (name && !(ctx->policy_name = strdup(name)))) {
        ctx_free(ctx);
        return CERTROLE_E_NO_MEMORY;
    }
    char *err = NULL;
    certrole_code rc = cr_ctx_build(ctx, &ctx->cfg, &err);
    if (rc != CERTROLE_OK) {
        ctx_free(ctx);
        set_err(errmsg, err);
        return rc;
    }
    free(err);
    if (ctx->cfg->cache_shared && !(ctx->shcache = cr_shcache_new(ctx->cfg->cache_shared))) {
        ctx_free(ctx);
        set_err(errmsg, strdup("option cache-shared: cannot map the shared cache"));
        return CERTROLE_E_NO_MEMORY;
    }
    *out = ctx;
    return CERTROLE_OK;
}

certrole_code certrole_open(certrole_ctx **ctx, const char *policy_path, char **errmsg)
{
    if (!policy_path) {
        if (errmsg)
            *errmsg = NULL;
        if (ctx)
            *ctx = NULL;
        return CERTROLE_E_INVALID_ARGUMENT;
    }
    return open_common(ctx, policy_path, NULL, NULL, errmsg);
}

certrole_code certrole_open_string(certrole_ctx **ctx, const char *policy_text,
                                   const char *name, char **errmsg)
{
    if (!policy_text) {
        if (errmsg)
            *errmsg = NULL;
        if (ctx)
            *ctx = NULL;
        return CERTROLE_E_INVALID_ARGUMENT;
    }
    return open_common(ctx, NULL, policy_text, name, errmsg);
}

void cr_ctx_swap_locked(certrole_ctx *ctx, struct cr_config *fresh)
{
    lock_all(ctx);
    struct cr_config *old = ctx->cfg;
    ctx->cfg = fresh;
    unlock_all(ctx);
    /* Calls in flight still hold their own references. */
    retire(old);
}

/* Called with reload_lock held. */
static certrole_code reload_locked(certrole_ctx *ctx, char **errmsg)
{
    struct cr_config *fresh = NULL;
    char *err = NULL;
    certrole_code rc = cr_ctx_build(ctx, &fresh, &err);
    if (rc != CERTROLE_OK) {
        cr_stats_reload(&ctx->stats, 0);
        cr_log_write(&ctx->log, CERTROLE_LOG_ERROR,
                     "reload failed, keeping the previous policy: %s", err ? err : "?");
        set_err(errmsg, err);
        return rc;
    }
    free(err);
    cr_ctx_swap_locked(ctx, fresh);
    cr_shcache_flush(ctx->shcache);
    cr_stats_reload(&ctx->stats, 1);
    cr_log_write(&ctx->log, CERTROLE_LOG_INFO, "policy reloaded");
    return CERTROLE_OK;
}

certrole_code certrole_reload(certrole_ctx *ctx, char **errmsg)
{
    if (errmsg)
        *errmsg = NULL;
    if (!ctx)
        return CERTROLE_E_INVALID_ARGUMENT;
    pthread_mutex_lock(&ctx->reload_lock);
    certrole_code rc = reload_locked(ctx, errmsg);
    pthread_mutex_unlock(&ctx->reload_lock);
    return rc;
}

certrole_code certrole_reload_if_changed(certrole_ctx *ctx, int *reloaded, char **errmsg)
{
    if (errmsg)
        *errmsg = NULL;
    if (reloaded)
        *reloaded = 0;
    if (!ctx)
        return CERTROLE_E_INVALID_ARGUMENT;
    pthread_mutex_lock(&ctx->reload_lock);
    struct cr_config *c = cr_ctx_acquire(ctx);
    int changed = cr_config_changed(c);
    cr_config_unref(c);
    certrole_code rc = CERTROLE_OK;
    if (changed) {
        rc = reload_locked(ctx, errmsg);
        if (rc == CERTROLE_OK && reloaded)
            *reloaded = 1;
    }
    pthread_mutex_unlock(&ctx->reload_lock);
    return rc;
}

void certrole_close(certrole_ctx *ctx)
{
    ctx_free(ctx);
}

void certrole_set_log(certrole_ctx *ctx, certrole_log_fn fn, void *userdata)
{
    if (!ctx)
        return;
    pthread_mutex_lock(&ctx->reload_lock);
    lock_all(ctx);
    ctx->log.fn = fn;
    ctx->log.userdata = userdata;
    /* Realms of the current configuration log through its copy. */
    if (ctx->cfg) {
        ctx->cfg->log = ctx->log;
        ctx->cfg->decision->log = ctx->log;
    }
    unlock_all(ctx);
    pthread_mutex_unlock(&ctx->reload_lock);
}
