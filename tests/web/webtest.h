/* Helpers shared by tests/check_nginx.c and tests/check_lighttpd.c: config
 * templates, curl, and a guard that stops servers a failed test left.
 *
 * Why the guard: Check runs each test in a forked child and ends a failed
 * test with _exit(), so neither the test's own tu_stop() nor testutil's
 * atexit handler runs and the servers it started would outlive the suite.
 * Each test records what it starts in a file; main() stops whatever is
 * still recorded once the suite is over. Header-only, static functions. */
#ifndef CERTROLE_WEBTEST_H
#define CERTROLE_WEBTEST_H
#include "testutil.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Not every test program uses every helper. */
#define WT_FN static __attribute__((unused))

static char wt_guard_dir[4096];

WT_FN void wt_sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* main(), before the suite runs: a private place for the record. */
WT_FN int wt_guard_init(void)
{
    snprintf(wt_guard_dir, sizeof wt_guard_dir, "%s/certrole-guard-XXXXXX",
             tu_env("TMPDIR", "/tmp"));
    return mkdtemp(wt_guard_dir) ? 0 : -1;
}

WT_FN void wt_guard_note(const char *line)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/record", wt_guard_dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd < 0)
        return;
    ssize_t w = write(fd, line, strlen(line));
    (void)w;
    close(fd);
}

/* A started process group (and optionally its private directory). */
WT_FN void wt_guard_add(pid_t pid, const char *dir)
{
    char line[4200];
    snprintf(line, sizeof line, "+ %d %s\n", (int)pid, dir ? dir : "-");
    wt_guard_note(line);
}

/* Stopped normally: nothing left to do for it. */
WT_FN void wt_guard_done(pid_t pid)
{
    char line[64];
    snprintf(line, sizeof line, "- %d\n", (int)pid);
    wt_guard_note(line);
}

/* main(), after the suite: stop what failed tests left behind. Uses no
 * Check assertion (there is no test to report to any more). */
WT_FN void wt_guard_cleanup(void)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/record", wt_guard_dir);
    char *rec = tu_read_file(path, NULL);
    enum { MAXP = 256 };
    pid_t pids[MAXP];
    char *dirs[MAXP];
    int n = 0;
    for (char *line = rec ? strtok(rec, "\n") : NULL; line; line = strtok(NULL, "\n")) {
        int pid = 0;
        char dir[4100] = "";
        if (line[0] == '+' && n < MAXP && sscanf(line, "+ %d %4095s", &pid, dir) == 2) {
            pids[n] = pid;
            dirs[n++] = strdup(dir);
        } else if (line[0] == '-' && sscanf(line, "- %d", &pid) == 1) {
            for (int i = 0; i < n; i++)
                if (pids[i] == pid)
                    pids[i] = 0;
        }
    }
    int left = 0;
    for (int i = 0; i < n; i++)
        if (pids[i] > 0 && kill(-pids[i], SIGTERM) == 0)
            left++;
    for (int t = 0; left && t < 40; t++) {
        left = 0;
        for (int i = 0; i < n; i++)
            if (pids[i] > 0 && kill(-pids[i], 0) == 0)
                left++;
        if (left)
            wt_sleep_ms(50);
    }
    for (int i = 0; i < n; i++) {
        if (pids[i] > 0) {
            kill(-pids[i], SIGKILL);
            /* not tu_rmrf: Check assertions must not run outside a test */
            if (dirs[i] && strstr(dirs[i], "/certrole-") && !strchr(dirs[i], '\'')) {
                char cmd[4200];
                snprintf(cmd, sizeof cmd, "rm -rf '%s'", dirs[i]);
                if (system(cmd) != 0) { /* best effort */ }
            }
        }
        free(dirs[i]);
    }
    free(rec);
    unlink(path);
    rmdir(wt_guard_dir);
}

/* Spawns like tu_spawn and records the process group. */
WT_FN pid_t wt_spawn(char *const argv[], const char *logfile, const char *dir)
{
    pid_t pid = tu_spawn(argv, logfile);
    wt_guard_add(pid, dir);
    return pid;
}

WT_FN void wt_stop(pid_t pid)
{
    if (pid <= 0)
        return;
    tu_stop(pid);
    wt_guard_done(pid);
}

/* State and parent of process pid from /proc/PID/stat (after the
 * command, which may hold spaces and parentheses); 0, or -1 if gone. */
WT_FN int wt_proc_stat(const char *pid, char *state, int *ppid)
{
    char path[300], buf[512];
    snprintf(path, sizeof path, "/proc/%s/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = '\0';
    char *rp = strrchr(buf, ')');
    return rp && sscanf(rp + 1, " %c %d", state, ppid) == 2 ? 0 : -1;
}

/* The live children of parent, at most max; returns how many. A
 * server's workers, before a reload replaces them. */
WT_FN int wt_children(pid_t parent, pid_t *out, int max)
{
    int n = 0;
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < max) {
        char state = 0;
        int ppid = 0;
        if (e->d_name[0] >= '0' && e->d_name[0] <= '9' &&
            wt_proc_stat(e->d_name, &state, &ppid) == 0 && ppid == (int)parent && state != 'Z')
            out[n++] = (pid_t)atoi(e->d_name);
    }
    closedir(d);
    return n;
}

/* Waits up to ms for every pid in pids to be gone (exited and reaped, or
 * a zombie); returns 1 when they are. */
WT_FN int wt_wait_gone(const pid_t *pids, int n, long ms)
{
    for (long t = 0; t <= ms; t += 50) {
        int alive = 0;
        for (int i = 0; i < n; i++) {
            char id[24], state = 0;
            int ppid = 0;
            snprintf(id, sizeof id, "%d", (int)pids[i]);
            alive += wt_proc_stat(id, &state, &ppid) == 0 && state != 'Z';
        }
        if (!alive)
            return 1;
        wt_sleep_ms(50);
    }
    return 0;
}

/* Replaces every @KEY@ in text; kv is NULL-terminated key, value pairs.
 * Malloc'd result. */
WT_FN char *wt_subst(const char *text, const char *const *kv)
{
    char *out = tu_strf("%s", text);
    for (size_t i = 0; kv[i]; i += 2) {
        char *key = tu_strf("@%s@", kv[i]);
        char *p;
        size_t from = 0;
        while ((p = strstr(out + from, key)) != NULL) {
            size_t at = (size_t)(p - out);
            *p = '\0';
            char *nw = tu_strf("%s%s%s", out, kv[i + 1], p + strlen(key));
            free(out);
            out = nw;
            from = at + strlen(kv[i + 1]);
        }
        free(key);
    }
    return out;
}

/* The test PKI directory without a trailing slash (malloc'd). */
WT_FN char *wt_pki_dir(void)
{
    char *pki = tu_strf("%s", tu_pki(""));
    size_t l = strlen(pki);
    if (l > 1 && pki[l - 1] == '/')
        pki[l - 1] = '\0';
    return pki;
}

/* curl to https://127.0.0.1:port/path; returns the HTTP status (0 when
 * there was no HTTP answer). cert/key are names in the test PKI or NULL,
 * extra more curl arguments. *body (if not NULL) gets the body. */
WT_FN int wt_get(const char *dir, int port, const char *cert, const char *key,
                  const char *extra, const char *path, char **body)
{
    char *bodyf = tu_strf("%s/body.out", dir);
    unlink(bodyf);
    char *certargs = cert ? tu_strf("--cert '%s' --key '%s'", tu_pki(cert), tu_pki(key))
                          : tu_strf("%s", "");
    /* curl's complaints go to a file: mixed into the output they would
     * hide the status code, and a test that gets none should say why */
    char *errf = tu_strf("%s/curl.err", dir);
    char *cmd = tu_strf("'%s' -sS -o '%s' -w '%%{http_code}' --max-time 10 "
                        "--cacert '%s' %s %s 'https://127.0.0.1:%d%s' 2>'%s'",
                        tu_env("CURL", "curl"), bodyf, tu_pki("ca-file.pem"),
                        certargs, extra ? extra : "", port, path, errf);
    char *out = NULL;
    tu_run(cmd, &out);
    int status = 0;
    size_t l = out ? strlen(out) : 0;
    if (l >= 3)
        status = atoi(out + l - 3);
    if (status == 0) {
        char *err = tu_read_file(errf, NULL);
        fprintf(stderr, "wt_get %s: no HTTP status; curl said: %s\n", path,
                err && *err ? err : "(nothing)");
        free(err);
    }
    free(errf);
    if (body)
        *body = tu_read_file(bodyf, NULL);
    free(out);
    free(cmd);
    free(certargs);
    free(bodyf);
    return status;
}

/* The value of the sample line that starts with 'sample ' in Prometheus
 * text (certrole_stats_prometheus), or -1 when there is none. */
WT_FN long wt_metric(const char *text, const char *sample)
{
    size_t n = strlen(sample);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (strncmp(l, sample, n) == 0 && l[n] == ' ')
            return strtol(l + n + 1, NULL, 10);
    return -1;
}

/* Contents of dir/name, "" when missing (malloc'd). */
WT_FN char *wt_file(const char *dir, const char *name)
{
    char *p = tu_strf("%s/%s", dir, name);
    char *t = tu_read_file(p, NULL);
    free(p);
    return t ? t : tu_strf("%s", "");
}
#endif
