/* -S FILE: the counters, rewritten by a thread of their own (stats_file.h).
 * A thread, not a handler: the main loop sleeps in libfcgi's accept(),
 * which it restarts after a signal, and writing a file is not
 * async-signal-safe. */
#define _GNU_SOURCE
#include "stats_file.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct stats_file {
    certrole_ctx *ctx;
    char *path, *tmp;
};

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
    int fd = open(sf->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
        int ok = write_all(fd, text, strlen(text)) == 0;
        ok = close(fd) == 0 && ok;
        if (!ok || rename(sf->tmp, sf->path) != 0)
            unlink(sf->tmp);
    }
    certrole_free(text);
}

static void *run(void *arg)
{
    struct stats_file *sf = arg;
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    for (;;) {
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
    if (!sf || !(sf->path = strdup(path)) || asprintf(&sf->tmp, "%s.tmp", path) < 0) {
        if (sf)
            free(sf->path);
        free(sf);
        errno = ENOMEM;
        return -1;
    }
    sf->ctx = ctx;
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    e = pthread_create(&t, &attr, run, sf);
    pthread_attr_destroy(&attr);
    if (e != 0) {
        free(sf->tmp);
        free(sf->path);
        free(sf);
        errno = e;
        return -1;
    }
    return 0;   /* sf lives as long as the process */
}
