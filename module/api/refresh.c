/* Applying changed files without a reload call (option refresh, see
 * refresh.h). One thread per ctx per process checks the watched files
 * every refresh seconds and, when one changed, builds the new
 * configuration and swaps it in exactly as certrole_reload does. Verifying
 * callers never wait for it: they keep the configuration they entered
 * with, and the swap holds the slots only for a pointer store.
 *
 * The thread is started by the first verification in the process, not by
 * certrole_open: a server that opens the ctx and then forks its workers
 * (nginx) would otherwise lose the thread in every child (threads do not
 * survive fork) and run a useless one in the parent. A fork generation,
 * bumped in every child by an atfork handler, tells a worker that the
 * thread its ctx records belongs to another process. */
#define _GNU_SOURCE
#include "refresh.h"
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "ctx.h"

/* Seconds a changed file must have kept still before it is applied:
 * a writer that has not finished may leave a prefix that parses. */
#define CR_REFRESH_QUIET 1

static atomic_uint fork_gen;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void in_child(void)
{
    atomic_fetch_add_explicit(&fork_gen, 1, memory_order_relaxed);
}

static void register_atfork(void)
{
    pthread_atfork(NULL, NULL, in_child);
}

/* The value refresh_gen holds while this process's thread runs; the top
 * bit marks one being started. */
#define STARTING 0x80000000u
static unsigned mine(void)
{
    return ((atomic_load_explicit(&fork_gen, memory_order_relaxed) + 1) & ~STARTING) | 1u << 30;
}

static int sync_init(certrole_ctx *ctx)
{
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0)
        return -1;
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&ctx->refresh_cv, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0)
        return -1;
    if (pthread_mutex_init(&ctx->refresh_mu, NULL) != 0) {
        pthread_cond_destroy(&ctx->refresh_cv);
        return -1;
    }
    return 0;
}

int cr_refresh_init(certrole_ctx *ctx)
{
    pthread_once(&atfork_once, register_atfork);
    atomic_init(&ctx->refresh_gen, 0);
    return sync_init(ctx);
}

/* Logs a failed refresh once per distinct reason, not once per attempt. */
static void failed(certrole_ctx *ctx, const char *why)
{
    if (ctx->refresh_err && strcmp(ctx->refresh_err, why) == 0)
        return;
    cr_log_write(&ctx->log, CERTROLE_LOG_ERROR,
                 "refresh: changed files not applied, keeping the previous configuration: %s",
                 why);
    free(ctx->refresh_err);
    ctx->refresh_err = strdup(why);
}

/* Says once per thread that a watched file cannot be checked from this
 * process (a worker running as a user that may not stat it). */
static void unseen_once(certrole_ctx *ctx, const struct cr_config *c)
{
    const char *path;
    struct stat st;
    if (ctx->refresh_unseen_said || !(path = cr_config_unseen(c)) || stat(path, &st) == 0)
        return;
    ctx->refresh_unseen_said = 1;
    cr_log_write(&ctx->log, CERTROLE_LOG_WARNING,
                 "refresh: cannot check %s from this process (%s): a change to it applies "
                 "on reload only", path, strerror(errno));
}

/* One check. Returns the seconds until the next. */
static long tick(certrole_ctx *ctx)
{
    struct cr_config *c = cr_ctx_acquire(ctx);
    long every = c->refresh;
    if (every > 0)
        unseen_once(ctx, c);
    int changed = every > 0 && cr_config_changed(c);
    int settled = changed && cr_config_settled(c, time(NULL), CR_REFRESH_QUIET);
    cr_config_unref(c);
    if (every <= 0)
        return 5;   /* switched off by a reload; it may be switched on again */
    if (!changed)
        return every;
    if (!settled)
        return 1;
    pthread_mutex_lock(&ctx->reload_lock);
    /* certrole_reload may have applied the change meanwhile. */
    c = cr_ctx_acquire(ctx);
    changed = cr_config_changed(c);
    cr_config_unref(c);
    if (changed) {
        struct cr_config *fresh = NULL;
        char *err = NULL;
        if (cr_ctx_build(ctx, &fresh, &err) != CERTROLE_OK) {
            cr_stats_reload(&ctx->stats, 0);
            failed(ctx, err ? err : "out of memory");
        } else {
            cr_ctx_swap_locked(ctx, fresh);
            cr_stats_reload(&ctx->stats, 1);
            free(ctx->refresh_err);
            ctx->refresh_err = NULL;
            cr_log_write(&ctx->log, CERTROLE_LOG_INFO, "policy refreshed: changed files applied");
        }
        free(err);
    }
    pthread_mutex_unlock(&ctx->reload_lock);
    return every;
}

static void *refresher(void *arg)
{
    certrole_ctx *ctx = arg;
    long wait = 1;
    pthread_mutex_lock(&ctx->refresh_mu);
    while (!ctx->refresh_stop) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += wait;
        int rc = 0;
        while (!ctx->refresh_stop && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&ctx->refresh_cv, &ctx->refresh_mu, &until);
        if (ctx->refresh_stop)
            break;
        pthread_mutex_unlock(&ctx->refresh_mu);
        wait = tick(ctx);
        pthread_mutex_lock(&ctx->refresh_mu);
    }
    pthread_mutex_unlock(&ctx->refresh_mu);
    return NULL;
}

void cr_refresh_start(certrole_ctx *ctx)
{
    unsigned want = mine();
    unsigned cur = atomic_load_explicit(&ctx->refresh_gen, memory_order_acquire);
    if (cur == want || cur == (want | STARTING))
        return;
    if (!atomic_compare_exchange_strong(&ctx->refresh_gen, &cur, want | STARTING))
        return;   /* another caller is starting it */
    /* A generation of another process: its thread, and any waiter state
     * in the mutex and condition, did not come along through fork. */
    if (cur != 0 && sync_init(ctx) != 0) {
        atomic_store(&ctx->refresh_gen, 0);
        return;
    }
    ctx->refresh_stop = 0;
    ctx->refresh_unseen_said = 0;
    /* The thread takes no signals: they stay with the server's threads. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&ctx->refresher, NULL, refresher, ctx);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        cr_log_write(&ctx->log, CERTROLE_LOG_ERROR,
                     "refresh: cannot start its thread (%s); changed files apply on reload only",
                     strerror(rc));
    /* Marked started even on failure: not one attempt per request. */
    atomic_store_explicit(&ctx->refresh_gen, rc == 0 ? want : want | STARTING,
                          memory_order_release);
}

void cr_refresh_stop(certrole_ctx *ctx)
{
    unsigned cur = atomic_load(&ctx->refresh_gen);
    if (cur != 0 && (cur & ~STARTING) != mine())
        return;   /* none started here, or another process's: nothing to join */
    if (cur == mine()) {
        pthread_mutex_lock(&ctx->refresh_mu);
        ctx->refresh_stop = 1;
        pthread_cond_signal(&ctx->refresh_cv);
        pthread_mutex_unlock(&ctx->refresh_mu);
        pthread_join(ctx->refresher, NULL);
    }
    pthread_cond_destroy(&ctx->refresh_cv);
    pthread_mutex_destroy(&ctx->refresh_mu);
    free(ctx->refresh_err);
    ctx->refresh_err = NULL;
}
