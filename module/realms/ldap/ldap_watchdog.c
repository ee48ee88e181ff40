/* Connect-time deadline (ldap_watchdog.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include "ldap_watchdog.h"

struct cr_ldap_watchdog {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct timespec deadline;   /* CLOCK_MONOTONIC */
    int fd;                     /* -1 until known */
    int done, fired;
    pthread_t thread;
};

static void *watch(void *arg)
{
    struct cr_ldap_watchdog *w = arg;
    pthread_mutex_lock(&w->lock);
    while (!w->done) {
        if (pthread_cond_timedwait(&w->cond, &w->lock, &w->deadline) == ETIMEDOUT && !w->done) {
            w->fired = 1;
            if (w->fd >= 0)
                shutdown(w->fd, SHUT_RDWR);
            break;
        }
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

static void set_deadline(struct timespec *t, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, t);
    t->tv_sec += ms / 1000;
    t->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t->tv_nsec >= 1000000000L) {
        t->tv_sec++;
        t->tv_nsec -= 1000000000L;
    }
}

struct cr_ldap_watchdog *cr_ldap_watchdog_arm(int ms)
{
    struct cr_ldap_watchdog *w = calloc(1, sizeof *w);
    pthread_condattr_t attr;
    if (!w)
        return NULL;
    w->fd = -1;
    set_deadline(&w->deadline, ms);
    pthread_mutex_init(&w->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cond, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&w->thread, NULL, watch, w) != 0) {
        pthread_cond_destroy(&w->cond);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return NULL;
    }
    return w;
}

void cr_ldap_watchdog_set_fd(struct cr_ldap_watchdog *w, int fd, int restart_ms)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->fd = fd;
    if (w->fired && fd >= 0)
        shutdown(fd, SHUT_RDWR);
    if (!w->fired && restart_ms > 0) {
        set_deadline(&w->deadline, restart_ms);
        pthread_cond_signal(&w->cond);  /* wait again, to the new deadline */
    }
    pthread_mutex_unlock(&w->lock);
}

int cr_ldap_watchdog_disarm(struct cr_ldap_watchdog *w)
{
    if (!w)
        return 0;
    pthread_mutex_lock(&w->lock);
    w->done = 1;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    int fired = w->fired;
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    free(w);
    return fired;
}
