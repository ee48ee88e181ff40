/* Figure 5 of the benchmark: throughput of 2 threads against 1 thread
 * calling certrole_verify_x509 on one shared context: the cached path
 * with a different peer per thread (a server's normal case: different
 * clients on different connections), the cached path with one peer on
 * both threads (the worst case: both hit one cache entry), and the cold
 * path. */
#define _GNU_SOURCE
#include "bench.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

struct worker {
    struct bench_case *c;
    int want_cached;
    int second;                 /* verify the case's second peer */
    atomic_int *stop;
    long calls;
    int failed;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    while (!atomic_load_explicit(w->stop, memory_order_relaxed)) {
        if (bench_case_verify_peer(w->c, w->second, w->want_cached) != 0) {
            w->failed = 1;
            break;
        }
        w->calls++;
    }
    return NULL;
}

/* Calls per second of n threads together over secs; -1 on error. */
static double throughput(struct bench_case *c, int want_cached, int peers, int n,
                         double secs)
{
    pthread_t t[2];
    struct worker w[2];
    atomic_int stop;
    atomic_init(&stop, 0);
    int started = 0;
    double t0 = bench_now();
    for (int i = 0; i < n; i++) {
        w[i] = (struct worker){ .c = c, .want_cached = want_cached, .second = peers > 1 && i == 1,
                                .stop = &stop };
        if (pthread_create(&t[i], NULL, work, &w[i]) != 0)
            break;
        started++;
    }
    struct timespec ts = { (time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9) };
    nanosleep(&ts, NULL);
    atomic_store(&stop, 1);
    long calls = 0;
    int failed = started < n;
    for (int i = 0; i < started; i++) {
        pthread_join(t[i], NULL);
        calls += w[i].calls;
        failed |= w[i].failed;
    }
    double el = bench_now() - t0;
    if (failed) {
        bench_error("thread benchmark: a thread failed to start or to verify");
        return -1;
    }
    return (double)calls / el;
}

/* peers: 1, both threads verify one peer; 2, the second thread verifies
 * the second peer (the single-thread baseline verifies the first). */
static void one(const char *label, const char *options, int want_cached, int peers)
{
    struct bench_case c;
    if (bench_case_open2(&c, "RSA-2048, depth 2", "ca-file.pem", "crl.pem",
                         "client-chain.pem", peers > 1 ? "norole-chain.pem" : NULL, options) < 0)
        return;
    if (want_cached && (bench_case_verify_peer(&c, 0, 0) < 0 ||
                        (peers > 1 && bench_case_verify_peer(&c, 1, 0) < 0)))
        goto out;
    double best1 = 0, best2 = 0;
    for (int r = 0; r < 3; r++) {
        double x = throughput(&c, want_cached, peers, 1, 0.3);
        double y = throughput(&c, want_cached, peers, 2, 0.3);
        if (x < 0 || y < 0)
            goto out;
        if (x > best1) best1 = x;
        if (y > best2) best2 = y;
    }
    char fig[128], m[128];
    snprintf(fig, sizeof fig, "2 threads / 1 thread throughput, one ctx, %s", label);
    snprintf(m, sizeof m, "%.2f (%.0f/s vs %.0f/s)", best2 / best1, best2, best1);
    bench_row(fig, m, ">= 1.8", best2 / best1 >= 1.8);
out:
    bench_case_close(&c);
}

void bench_threads(void)
{
    one("cached, a peer per thread", "option cache-ttl=300 audit=yes\n", 1, 2);
    one("cached, one peer on both", "option cache-ttl=300 audit=yes\n", 1, 1);
    one("cold, RSA d2", "option cache-ttl=0 audit=yes\n", 0, 1);
}
