/* option cache-shared in a real nginx with two workers: a client whose
 * connections land on both workers is fully verified once in all (the
 * workers' own counters, read from certrole_status, say so), and a worker
 * killed with SIGKILL under load leaves every later answer right.
 * Configuration: tests/web/nginx-shared.conf.in. */
#define _GNU_SOURCE
#include "testutil.h"
#include "web/nginxtest.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MISS "certrole_cache_lookups_total{result=\"miss\"}"
#define SHARED_HIT "certrole_shared_cache_lookups_total{result=\"hit\"}"

static int status_port(struct ngx *n) { return n->more[0]; }

/* nginx with the Acme policy plus 'option' line extra. */
static void start(struct ngx *n, const char *extra)
{
    nt_prepare(n, "nginx-shared.conf.in");
    char *path = tu_strf("%s/acme.policy", n->dir);
    char *text = tu_read_file(path, NULL);
    char *more = tu_strf("%soption cache-ttl=300 %s\n", text, extra);
    tu_write_file(path, more);
    free(more); free(text); free(path);
    nt_launch(n);
}

/* One new TLS connection; the HTTP status (0: no answer). */
static int request(int port, const char *cert, const char *key)
{
    char *cmd = tu_strf("'%s' -s -o /dev/null -w '%%{http_code}' --max-time 10 "
                        "--cacert '%s' --cert '%s' --key '%s' "
                        "'https://127.0.0.1:%d/InvoiceService/list' 2>/dev/null",
                        tu_env("CURL", "curl"), tu_pki("ca-file.pem"), tu_pki(cert),
                        tu_pki(key), port);
    char *out = NULL;
    tu_run(cmd, &out);
    int st = out && strlen(out) >= 3 ? atoi(out + strlen(out) - 3) : 0;
    free(out);
    free(cmd);
    return st;
}

static int client(struct ngx *n)
{
    return request(n->port, "client-chain.pem", "client.key");
}

static int revoked(struct ngx *n)
{
    return request(n->port, "revoked-chain.pem", "revoked.key");
}

/* Sums a metric over the current workers: asks certrole_status until
 * every worker has answered once (reuseport spreads the connections).
 * Returns the number of workers heard. */
static int sum_over_workers(struct ngx *n, const char *metric, long *sum)
{
    pid_t w[8];
    int nw = wt_children(n->pid, w, 8), heard = 0;
    long val[8] = { 0 };
    int seen[8] = { 0 };
    for (int t = 0; t < 400 && heard < nw; t++) {
        char *cmd = tu_strf("'%s' -s --max-time 5 'http://127.0.0.1:%d/status'",
                            tu_env("CURL", "curl"), status_port(n));
        char *out = NULL;
        tu_run(cmd, &out);
        free(cmd);
        const char *p = out ? strstr(out, "worker process ") : NULL;
        int pid = p ? atoi(p + strlen("worker process ")) : 0;
        for (int i = 0; i < nw; i++)
            if (w[i] == pid && !seen[i]) {
                seen[i] = 1;
                val[i] = wt_metric(out, metric);
                heard++;
            }
        free(out);
    }
    *sum = 0;
    for (int i = 0; i < nw; i++)
        *sum += seen[i] ? val[i] : 0;
    return heard;
}

/* Distinct worker pids in the access log's lines with status 200. */
static int workers_that_served(struct ngx *n)
{
    char *log = nt_access(n);
    int pids[8], np = 0;
    for (char *l = strtok(log, "\n"); l; l = strtok(NULL, "\n")) {
        int pid = 0, port = 0, st = 0;
        if (sscanf(l, "%d %d %d", &pid, &port, &st) != 3 || st != 200)
            continue;
        int known = 0;
        for (int i = 0; i < np; i++)
            known |= pids[i] == pid;
        if (!known && np < 8)
            pids[np++] = pid;
    }
    free(log);
    return np;
}

/* Full verifications of one client across both workers. */
static long verifications(const char *extra, long *shared_hits)
{
    struct ngx n;
    start(&n, extra);
    for (int i = 0; i < 24; i++)
        ck_assert_int_eq(client(&n), 200);
    n.requests += 24;
    ck_assert_int_eq(workers_that_served(&n), 2);
    long misses = 0;
    ck_assert_int_eq(sum_over_workers(&n, MISS, &misses), 2);
    ck_assert_int_eq(sum_over_workers(&n, SHARED_HIT, shared_hits), 2);
    nt_stop(&n);
    return misses;
}

START_TEST(one_full_verification_across_workers)
{
    long hits = 0;
    ck_assert_int_eq(verifications("cache-shared=1m", &hits), 1);
    ck_assert_int_ge(hits, 1);
}
END_TEST

START_TEST(without_the_option_each_worker_verifies)
{
    long hits = 0;
    ck_assert_int_eq(verifications("", &hits), 2);
    ck_assert_int_eq(hits, 0);
}
END_TEST

/* Requests until the file stop exists (at most 30 s); exits with the
 * number of wrong answers (a refused connection is no answer). */
static void load(struct ngx *n, const char *stop)
{
    int wrong = 0;
    for (int i = 0; i < 3000 && access(stop, F_OK) != 0; i++) {
        int c = client(n), r = revoked(n);
        wrong += (c != 0 && c != 200) + (r != 0 && r != 403);
    }
    _exit(wrong > 100 ? 100 : wrong);
}

START_TEST(worker_killed_under_load_leaves_answers_right)
{
    struct ngx n;
    start(&n, "cache-shared=1m");
    ck_assert_int_eq(client(&n), 200);
    ck_assert_int_eq(revoked(&n), 403);
    char *stop = tu_strf("%s/stop", n.dir);
    pid_t loader = fork();
    ck_assert_int_ge(loader, 0);
    if (loader == 0) {
        setpgid(0, 0);
        load(&n, stop);
    }
    wt_guard_add(loader, NULL);
    wt_sleep_ms(800);
    pid_t w[8];
    ck_assert_int_eq(wt_children(n.pid, w, 8), 2);
    ck_assert_int_eq(kill(w[0], SIGKILL), 0);
    /* the master starts a new worker in its place */
    int back = 0;
    for (int t = 0; t < 100 && !back; t++) {
        pid_t now[8];
        int k = wt_children(n.pid, now, 8);
        back = k == 2 && now[0] != w[0] && now[1] != w[0];
        if (!back)
            wt_sleep_ms(50);
    }
    ck_assert_msg(back, "nginx did not replace the killed worker");
    wt_sleep_ms(500);
    for (int i = 0; i < 12; i++) {
        ck_assert_int_eq(client(&n), 200);
        ck_assert_int_eq(revoked(&n), 403);
    }
    tu_write_file(stop, "");
    int st = 0;
    ck_assert_int_eq(waitpid(loader, &st, 0), loader);
    wt_guard_done(loader);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "wrong answers under load: %d",
                  WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    free(stop);
    nt_stop(&n);
}
END_TEST

int main(void)
{
    int rc = nt_init();
    if (rc != 0)
        return rc;
    Suite *s = suite_create("nginx shared cache");
    TCase *tc = tcase_create("workers");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, one_full_verification_across_workers);
    tcase_add_test(tc, without_the_option_each_worker_verifies);
    tcase_add_test(tc, worker_killed_under_load_leaves_answers_right);
    suite_add_tcase(s, tc);
    return nt_run(s);
}
