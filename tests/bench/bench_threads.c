/* Figure 5 of the benchmark: throughput of 2 threads against 1 thread on
 * one shared context. Rows: bare X509_verify_cert on one shared store
 * (the ceiling this machine and OpenSSL allow; informational), the cold
 * path, the cached path with a different peer per thread (a server's
 * normal case: different clients on different connections) and the
 * cached path with one peer on both threads (the worst case: both hit
 * one cache entry). */
#define _GNU_SOURCE
#include "bench.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/* What one thread calls: fn(arg) until told to stop. A cache line each:
 * two counters incremented side by side would measure false sharing. */
struct worker {
    bench_fn fn;
    void *arg;
    atomic_int *stop;
    long calls;
    int failed;
} __attribute__((aligned(64)));

static void *work(void *p)
{
    struct worker *w = p;
    while (!atomic_load_explicit(w->stop, memory_order_relaxed)) {
        if (w->fn(w->arg) != 0) {
            w->failed = 1;
            break;
        }
        w->calls++;
    }
    return NULL;
}

/* Calls per second of n threads (thread i calls fn(args[i])) together
 * over secs; -1 on error. */
static double throughput(bench_fn fn, void *const args[2], int n, double secs)
{
    pthread_t t[2];
    struct worker w[2];
    atomic_int stop;
    atomic_init(&stop, 0);
    int started = 0;
    double t0 = bench_now();
    for (int i = 0; i < n; i++) {
        w[i] = (struct worker){ .fn = fn, .arg = args[i], .stop = &stop };
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

/* Best of 3 interleaved rounds of 1 and 2 threads; writes the ratio row
 * (target >= 1.8, or informational when target is NULL). */
static void ratio_row(const char *label, bench_fn fn, void *const args[2], const char *target)
{
    double best1 = 0, best2 = 0;
    for (int r = 0; r < 3; r++) {
        double x = throughput(fn, args, 1, 0.3);
        double y = throughput(fn, args, 2, 0.3);
        if (x < 0 || y < 0)
            return;
        if (x > best1) best1 = x;
        if (y > best2) best2 = y;
    }
    char fig[128], m[128];
    snprintf(fig, sizeof fig, "2 threads / 1 thread throughput, %s", label);
    snprintf(m, sizeof m, "%.2f (%.0f/s vs %.0f/s)", best2 / best1, best2, best1);
    if (target)
        bench_row(fig, m, target, best2 / best1 >= 1.8);
    else
        bench_skip_info(fig, m);
}

/* One certrole call on a case: its first or second peer. */
struct peer {
    struct bench_case *c;
    int second;
    int want_cached;
};

static int peer_once(void *arg)
{
    struct peer *p = arg;
    return bench_case_verify_peer(p->c, p->second, p->want_cached);
}

/* peers: 1, both threads verify one peer; 2, the second thread verifies
 * the second peer (the single-thread baseline verifies the first). */
static void certrole_row(const char *label, const char *options, int want_cached, int peers)
{
    struct bench_case c;
    if (bench_case_open2(&c, "RSA-2048, depth 2", "ca-file.pem", "crl.pem",
                         "client-chain.pem", peers > 1 ? "norole-chain.pem" : NULL, options) < 0)
        return;
    if (want_cached && (bench_case_verify_peer(&c, 0, 0) < 0 ||
                        (peers > 1 && bench_case_verify_peer(&c, 1, 0) < 0))) {
        bench_case_close(&c);
        return;
    }
    struct peer p[2] = {
        { .c = &c, .second = 0, .want_cached = want_cached },
        { .c = &c, .second = peers > 1, .want_cached = want_cached },
    };
    void *const args[2] = { &p[0], &p[1] };
    ratio_row(label, peer_once, args, ">= 1.8");
    bench_case_close(&c);
}

static void bare_row(void)
{
    struct bench_case c;
    struct bench_bare b;
    if (bench_case_open(&c, "RSA-2048, depth 2", "ca-file.pem", "crl.pem",
                        "client-chain.pem", "option cache-ttl=0\n") < 0)
        return;
    if (bench_bare_open(&b, &c, "ca-file.pem", "crl.pem") == 0) {
        void *const args[2] = { &b, &b };
        ratio_row("bare X509_verify_cert, one store, RSA d2 (machine ceiling)",
                  bench_bare_once, args, NULL);
        bench_bare_close(&b);
    }
    bench_case_close(&c);
}

void bench_threads(void)
{
    bare_row();
    certrole_row("one ctx, cold, RSA d2", "option cache-ttl=0 audit=yes\n", 0, 1);
    certrole_row("one ctx, cached, a peer per thread", "option cache-ttl=300 audit=yes\n", 1, 2);
    certrole_row("one ctx, cached, one peer on both", "option cache-ttl=300 audit=yes\n", 1, 1);
}
