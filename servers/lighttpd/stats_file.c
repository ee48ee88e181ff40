/* -S FILE: the counters, rewritten by a thread of their own (stats_file.h).
 * A thread, not a handler: the main loop sleeps in libfcgi's accept(),
 * which it restarts after a signal, and writing a file is not
 * async-signal-safe. */
#define _GNU_SOURCE
#include "stats_file.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct stats_file {
    certrole_ctx *ctx;
    char *path, *tmpl;      /* tmpl: "PATH.XXXXXX" for mkstemp */
};

static struct stats_file *running;
static pthread_t writer;
static atomic_int stopping;

static int write_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

/* One snapshot, written to the temporary file and renamed over path, so a
 * reader never sees half a file. */
static void write_once(const struct stats_file *sf)
{
    certrole_stats *st = certrole_stats_get(sf->ctx);
    char *text = st ? certrole_stats_prometheus(st) : NULL;
    certrole_stats_free(st);
    if (!text)
        return;   /* no memory: the previous file stays */
    /* A fresh name each time (mkstemp: O_EXCL, never through a link an
     * other user planted in the directory), readable like any status. */
    char tmp[4096];
    int fd = -1;
    if ((size_t)snprintf(tmp, sizeof tmp, "%s", sf->tmpl) < sizeof tmp)
        fd = mkostemp(tmp, O_CLOEXEC);
    if (fd >= 0) {
        int ok = fchmod(fd, 0644) == 0 && write_all(fd, text, strlen(text)) == 0;
        ok = close(fd) == 0 && ok;
        if (!ok || rename(tmp, sf->path) != 0)
            unlink(tmp);
    }
    certrole_free(text);
}

static void *run(void *arg)
{
    struct stats_file *sf = arg;
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    while (!atomic_load(&stopping)) {
        write_once(sf);
        struct timespec every = { STATS_FILE_EVERY, 0 };
        (void)sigtimedwait(&usr1, NULL, &every);   /* SIGUSR1 or the timeout */
    }
    return NULL;
}

int stats_file_start(certrole_ctx *ctx, const char *path)
{
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    int e = pthread_sigmask(SIG_BLOCK, &usr1, NULL);
    if (e != 0) {
        errno = e;
        return -1;
    }
    struct stats_file *sf = calloc(1, sizeof *sf);
    if (!sf || !(sf->path = strdup(path)) || asprintf(&sf->tmpl, "%s.XXXXXX", path) < 0) {
        if (sf)
            free(sf->path);
        free(sf);
        errno = ENOMEM;
        return -1;
    }
    sf->ctx = ctx;
    e = pthread_create(&writer, NULL, run, sf);
    if (e != 0) {
        free(sf->tmpl);
        free(sf->path);
        free(sf);
        errno = e;
        return -1;
    }
    running = sf;
    return 0;
}

void stats_file_stop(void)
{
    if (!running)
        return;
    atomic_store(&stopping, 1);
    pthread_kill(writer, SIGUSR1);   /* blocked there: ends its sigtimedwait */
    pthread_join(writer, NULL);
    free(running->tmpl);
    free(running->path);
    free(running);
    running = NULL;
}
