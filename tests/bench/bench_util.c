/* Helpers of the benchmark program (bench.h): timing, the table, files. */
#define _GNU_SOURCE
#include "bench.h"
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <check.h>
#include <openssl/pem.h>

static int n_errors;
static char *tmpdirs[64];
static int n_tmpdirs;

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void bench_row(const char *figure, const char *measured, const char *target, int pass)
{
    printf("| %-58s | %-34s | %-14s | %-4s |\n", figure, measured, target, pass ? "PASS" : "MISS");
    fflush(stdout);
}

void bench_skip(const char *figure, const char *target, const char *why)
{
    char m[160];
    snprintf(m, sizeof m, "not measured: %s", why);
    printf("| %-58s | %-34s | %-14s | %-4s |\n", figure, m, target, "-");
    fflush(stdout);
}

void bench_info(const char *figure, const char *measured, const char *what)
{
    printf("| %-58s | %-34s | %-14s | %-4s |\n", figure, measured, what, "-");
    fflush(stdout);
}

void bench_skip_info(const char *figure, const char *measured)
{
    printf("| %-58s | %-34s | %-14s | %-4s |\n", figure, measured, "(baseline)", "-");
    fflush(stdout);
}

void bench_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench: ERROR: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    n_errors++;
}

int bench_errors(void)
{
    return n_errors;
}

char *bench_strf(const char *fmt, ...)
{
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

char *bench_pki(const char *name)
{
    const char *d = getenv("CERTROLE_PKI");
    return bench_strf("%s/%s", d && *d ? d : "tests/pki-out", name);
}

char *bench_tmpdir(const char *tag)
{
    const char *t = getenv("TMPDIR");
    char *d = bench_strf("%s/certrole-bench-%s-XXXXXX", t && *t ? t : "/tmp", tag);
    if (!d || !mkdtemp(d)) {
        bench_error("cannot make a temporary directory: %s", strerror(errno));
        free(d);
        return NULL;
    }
    if (n_tmpdirs < 64)
        tmpdirs[n_tmpdirs++] = strdup(d);
    return d;
}

void bench_cleanup(void)
{
    for (int i = 0; i < n_tmpdirs; i++) {
        if (tmpdirs[i] && strstr(tmpdirs[i], "/certrole-bench-")) {
            char *cmd = bench_strf("rm -rf '%s'", tmpdirs[i]);
            if (cmd && system(cmd) != 0)
                fprintf(stderr, "bench: could not remove %s\n", tmpdirs[i]);
            free(cmd);
        }
        free(tmpdirs[i]);
    }
    n_tmpdirs = 0;
}

int bench_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0) {
        bench_error("cannot write %s: %s", path, strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    if (fclose(f) != 0) {
        bench_error("cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int bench_chain(const char *path, X509 **leaf, STACK_OF(X509) **rest)
{
    *leaf = NULL;
    *rest = sk_X509_new_null();
    FILE *f = fopen(path, "r");
    if (!f || !*rest) {
        bench_error("cannot read %s: %s", path, strerror(errno));
        if (f)
            fclose(f);
        sk_X509_free(*rest);
        *rest = NULL;
        return -1;
    }
    X509 *x;
    while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
        if (!*leaf)
            *leaf = x;
        else if (!sk_X509_push(*rest, x))
            X509_free(x);
    }
    fclose(f);
    if (!*leaf) {
        bench_error("%s holds no certificate", path);
        sk_X509_free(*rest);
        *rest = NULL;
        return -1;
    }
    return 0;
}

void bench_quiet_log(void *userdata, certrole_log_level level, const char *line)
{
    (void)userdata;
    (void)level;
    (void)line;
}

/* One round: batches of calls (sized to ~1 ms so reading the clock costs
 * nothing) until round_s has passed. Per-call seconds, or -1. */
static double round_of(bench_fn fn, void *arg, double round_s)
{
    long batch = 1, calls = 0;
    double t0 = bench_now(), t = t0;
    while (t - t0 < round_s) {
        double b0 = t;
        for (long i = 0; i < batch; i++)
            if (fn(arg) != 0)
                return -1;
        calls += batch;
        t = bench_now();
        if (t - b0 < 1e-3 && batch < (1L << 24))
            batch *= 2;
    }
    return (t - t0) / (double)calls;
}

int bench_pair(bench_fn a, void *aarg, bench_fn b, void *barg, int rounds,
               double round_s, double *per_a, double *per_b)
{
    *per_a = *per_b = 0;
    /* warm-up: first-touch allocations, caches, lazy OpenSSL init */
    if (round_of(a, aarg, round_s / 4) < 0 || (b && round_of(b, barg, round_s / 4) < 0))
        return -1;
    for (int r = 0; r < rounds; r++) {
        double x = round_of(a, aarg, round_s);
        double y = b ? round_of(b, barg, round_s) : 1;
        if (x < 0 || y < 0)
            return -1;
        if (r == 0 || x < *per_a)
            *per_a = x;
        if (r == 0 || y < *per_b)
            *per_b = y;
    }
    return 0;
}

static void (*check_body)(void);

START_TEST(bench_check_test)
{
    check_body();
}
END_TEST

int bench_in_check(const char *name, void (*fn)(void))
{
    check_body = fn;
    Suite *s = suite_create(name);
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, bench_check_test);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    if (failed) {
        TestResult **tr = srunner_failures(sr);
        bench_error("%s: %s", name, tr && tr[0] ? tr_msg(tr[0]) : "failed");
        free(tr);
    }
    srunner_free(sr);
    return failed ? -1 : 0;
}

pid_t bench_child_of(pid_t parent)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    pid_t found = -1;
    while (d && found < 0 && (e = readdir(d)) != NULL) {
        char path[300], buf[512];
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
        if (f)
            fclose(f);
        buf[n] = '\0';
        /* "pid (comm) state ppid ...": comm may hold spaces, so from the last ')' */
        char *rp = strrchr(buf, ')');
        int ppid = -1;
        if (rp && sscanf(rp + 1, " %*c %d", &ppid) == 1 && ppid == parent)
            found = (pid_t)atoi(e->d_name);
    }
    if (d)
        closedir(d);
    return found;
}

double bench_cpu_of(pid_t pid)
{
    clockid_t id;
    struct timespec ts;
    if (pid <= 0 || clock_getcpuclockid(pid, &id) != 0 || clock_gettime(id, &ts) != 0)
        return -1;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
