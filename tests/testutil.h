/* Shared helpers for the Check suites: where the test PKI is, temporary
 * files, child processes (always reaped), free loopback ports. */
#ifndef CERTROLE_TESTUTIL_H
#define CERTROLE_TESTUTIL_H
#include <stddef.h>
#include <sys/types.h>
#include <check.h>

/* Path of a file in the PKI made by tests/pki/mkpki.sh ($CERTROLE_PKI).
 * Returns a pointer into a small rotating pool: copy it if you keep it. */
const char *tu_pki(const char *name);
/* $CERTROLE_SRCDIR / $CERTROLE_BUILDDIR joined with rel (same pool). */
const char *tu_src(const char *rel);
const char *tu_build(const char *rel);
/* getenv with a default. */
const char *tu_env(const char *name, const char *dflt);

/* Whole file, NUL-terminated, malloc'd; *len (if not NULL) excludes the
 * NUL. NULL on error. */
char *tu_read_file(const char *path, size_t *len);
/* Writes text to path (creates/truncates). Fails the test on error. */
void tu_write_file(const char *path, const char *text);
/* printf-style string, malloc'd. */
char *tu_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A fresh private directory under $TMPDIR (malloc'd path). */
char *tu_mkdtemp(const char *tag);
/* rm -rf dir (only paths from tu_mkdtemp). */
void tu_rmrf(const char *dir);

/* Runs "sh -c cmd", captures stdout+stderr into *out (malloc'd, may be
 * NULL to discard). Returns the exit status (128+sig if killed). */
int tu_run(const char *cmd, char **out);
/* Runs the build tree's "certrole ARGS" (ARGS already shell-quoted) with
 * stdout and stderr in *out (never NULL); returns the exit status. */
int tu_certrole(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The subjectKeyIdentifier of a PEM certificate as openssl prints it,
 * made lower-case hex without colons (malloc'd; fails the test when
 * openssl prints none). */
char *tu_ski_hex(const char *pem_path);

/* A TCP port on 127.0.0.1 that was free a moment ago. */
int tu_free_port(void);
/* Starts argv[0] with argv, stdout+stderr to logfile (or /dev/null),
 * in its own process group. Registered for cleanup at exit. */
pid_t tu_spawn(char *const argv[], const char *logfile);
/* Waits until 127.0.0.1:port accepts a connection; 0 ok, -1 timeout. */
int tu_wait_port(int port, int timeout_ms);
/* SIGTERM the child's process group, wait up to 5 s, then SIGKILL;
 * reaps it. Safe to call twice. */
void tu_stop(pid_t pid);
/* Stops every child still registered (also run atexit). */
void tu_stop_all(void);

/* Runs a suite with CK_NORMAL output (so the summary line
 * "100%: Checks: N, Failures: 0, Errors: 0" is printed) and returns
 * EXIT_SUCCESS/EXIT_FAILURE for main(). */
int tu_run_suite(Suite *s);
#endif
