/* Shared helpers for the Check suites (see testutil.h). */
#define _GNU_SOURCE
#include "testutil.h"
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define POOL 16
static __thread char pool[POOL][4096];
static __thread unsigned pool_next;

static const char *join(const char *base, const char *rel)
{
    char *p = pool[pool_next++ % POOL];
    snprintf(p, sizeof pool[0], "%s/%s", base, rel);
    return p;
}

const char *tu_env(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return (v && *v) ? v : dflt;
}

const char *tu_pki(const char *name) { return join(tu_env("CERTROLE_PKI", "tests/pki-out"), name); }
const char *tu_src(const char *rel) { return join(tu_env("CERTROLE_SRCDIR", "."), rel); }
const char *tu_build(const char *rel) { return join(tu_env("CERTROLE_BUILDDIR", "."), rel); }

char *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n - 1 == 0) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf)
        return NULL;
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

void tu_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s: %s", path, strerror(errno));
    ck_assert(fwrite(text, 1, strlen(text), f) == strlen(text));
    ck_assert(fclose(f) == 0);
}

char *tu_strf(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    ck_assert(s != NULL);
    return s;
}

char *tu_mkdtemp(const char *tag)
{
    char *p = tu_strf("%s/certrole-%s-XXXXXX", tu_env("TMPDIR", "/tmp"), tag);
    ck_assert_msg(mkdtemp(p) != NULL, "mkdtemp: %s", strerror(errno));
    return p;
}

void tu_rmrf(const char *dir)
{
    if (!dir || !strstr(dir, "/certrole-"))
        return;
    char *cmd = tu_strf("rm -rf '%s'", dir);
    if (system(cmd) != 0) { /* best effort */ }
    free(cmd);
}

int tu_run(const char *cmd, char **out)
{
    char *full = tu_strf("( %s ) 2>&1", cmd);
    FILE *p = popen(full, "r");
    free(full);
    if (!p)
        return -1;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t r;
    char tmp[4096];
    while ((r = fread(tmp, 1, sizeof tmp, p)) > 0) {
        if (buf && n + r + 1 > cap) {
            while (n + r + 1 > cap)
                cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb) { free(buf); buf = NULL; }
            else buf = nb;
        }
        if (buf) { memcpy(buf + n, tmp, r); n += r; }
    }
    if (buf)
        buf[n] = '\0';
    int st = pclose(p);
    if (out)
        *out = buf;
    else
        free(buf);
    if (st == -1)
        return -1;
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return -1;
}

int tu_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert(fd >= 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    socklen_t l = sizeof a;
    ck_assert(getsockname(fd, (struct sockaddr *)&a, &l) == 0);
    close(fd);
    return ntohs(a.sin_port);
}

#define MAX_CHILDREN 64
static pid_t children[MAX_CHILDREN];
static int atexit_set;

/* Check runs each test in a forked child that _exits on failure, so
 * atexit never fires there: every spawn is also written to a record
 * file the suite's parent reads after the run (reap_leftovers). */
static char record_path[4096];

static void record(char sign, pid_t pid)
{
    if (!record_path[0])
        return;
    int fd = open(record_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd < 0)
        return;
    char line[32];
    int n = snprintf(line, sizeof line, "%c %d\n", sign, (int)pid);
    if (write(fd, line, (size_t)n) != n) { /* best effort */ }
    close(fd);
}

static void reap_leftovers(void)
{
    FILE *f = record_path[0] ? fopen(record_path, "r") : NULL;
    if (!f)
        return;
    enum { MAXP = 1024 };
    pid_t pids[MAXP];
    int n = 0, pid;
    char sign;
    while (fscanf(f, " %c %d", &sign, &pid) == 2) {
        if (sign == '+' && n < MAXP)
            pids[n++] = pid;
        else if (sign == '-')
            for (int i = 0; i < n; i++)
                if (pids[i] == pid)
                    pids[i] = 0;
    }
    fclose(f);
    for (int i = 0; i < n; i++)
        if (pids[i] > 0 && kill(-pids[i], SIGTERM) == 0) {
            fprintf(stderr, "testutil: stopping process group %d a failed test left behind\n",
                    (int)pids[i]);
            struct timespec ts = { 0, 200 * 1000000L };
            nanosleep(&ts, NULL);
            kill(-pids[i], SIGKILL);
        }
    unlink(record_path);
}

static void reg(pid_t pid)
{
    record('+', pid);
    if (!atexit_set) {
        atexit(tu_stop_all);
        atexit_set = 1;
    }
    for (int i = 0; i < MAX_CHILDREN; i++)
        if (children[i] == 0) { children[i] = pid; return; }
}

pid_t tu_spawn(char *const argv[], const char *logfile)
{
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        setpgid(0, 0);
        int fd = open(logfile ? logfile : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0) { dup2(nul, 0); close(nul); }
        execvp(argv[0], argv);
        _exit(127);
    }
    setpgid(pid, pid);
    reg(pid);
    return pid;
}

int tu_wait_port(int port, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 50) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0)
            return -1;
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
        close(fd);
        if (ok)
            return 0;
        struct timespec ts = { 0, 50 * 1000000L };
        nanosleep(&ts, NULL);
    }
    return -1;
}

void tu_stop(pid_t pid)
{
    if (pid <= 0)
        return;
    int found = 0;
    for (int i = 0; i < MAX_CHILDREN; i++)
        if (children[i] == pid) { children[i] = 0; found = 1; }
    if (!found)
        return;
    record('-', pid);
    kill(-pid, SIGTERM);
    kill(pid, SIGTERM);
    for (int i = 0; i < 100; i++) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD)) {
            kill(-pid, SIGKILL);  /* stragglers in the group (nginx workers) */
            return;
        }
        struct timespec ts = { 0, 50 * 1000000L };
        nanosleep(&ts, NULL);
    }
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

void tu_stop_all(void)
{
    for (int i = 0; i < MAX_CHILDREN; i++)
        if (children[i])
            tu_stop(children[i]);
}

char *tu_ski_hex(const char *pem_path)
{
    char *cmd = tu_strf("'%s' x509 -in '%s' -noout -ext subjectKeyIdentifier",
                        tu_env("OPENSSL", "openssl"), pem_path);
    char *out = NULL;
    ck_assert_int_eq(tu_run(cmd, &out), 0);
    ck_assert_ptr_nonnull(out);
    const char *p = strchr(out, '\n');
    ck_assert_msg(p != NULL, "no subjectKeyIdentifier in %s: %s", pem_path, out);
    char *ski = calloc(1, strlen(p) + 1), *o = ski;
    ck_assert_ptr_nonnull(ski);
    for (p++; *p; p++)
        if (isxdigit((unsigned char)*p))
            *o++ = (char)tolower((unsigned char)*p);
    ck_assert_msg(strlen(ski) >= 2, "no subjectKeyIdentifier in %s: %s", pem_path, out);
    free(out);
    free(cmd);
    return ski;
}

int tu_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    snprintf(record_path, sizeof record_path, "%s/certrole-spawned-%d",
             tu_env("TMPDIR", "/tmp"), (int)getpid());
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    srunner_run_all(sr, CK_ENV);  /* CK_VERBOSITY=normal by default in make check */
    reap_leftovers();
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* Read by tests/summarize.sh, which lists the slowest suites. */
    printf("suite time: %.1f s\n", (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int tu_certrole(char **out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *args = NULL;
    ck_assert_int_ge(vasprintf(&args, fmt, ap), 0);
    va_end(ap);
    char *cmd = tu_strf("'%s' %s 2>&1", tu_build("certrole"), args);
    int st = tu_run(cmd, out);
    free(cmd);
    free(args);
    ck_assert_ptr_nonnull(*out);
    return st;
}
