/* certrole benchmarks (make bench): shared helpers. Every figure is a
 * ratio against a baseline measured in the same process; a row prints
 * the measured value, the target and PASS/MISS. A miss is not an error
 * (benchmarks are not tests); an error (a file that cannot be read, a
 * server that does not start, a verification that gives the wrong
 * answer) makes the program exit non-zero. Not thread-safe except where
 * a function says so. */
#ifndef CERTROLE_BENCH_H
#define CERTROLE_BENCH_H
#include <stddef.h>
#include <sys/types.h>
#include <openssl/x509.h>
#include "certrole.h"

/* Monotonic seconds. Thread-safe. */
double bench_now(void);

/* A table row: figure, measured value (formatted), target, pass. */
void bench_row(const char *figure, const char *measured, const char *target, int pass);
/* A row that could not be measured (missing server etc.), with why. */
void bench_skip(const char *figure, const char *target, const char *why);
/* An informational row with no target (a baseline shown for context). */
/* A row that is no target: a ceiling or a reference, 'what' says which. */
void bench_info(const char *figure, const char *measured, const char *what);
void bench_skip_info(const char *figure, const char *measured);
/* Records an error (printed at once); main() exits 1 if any happened. */
void bench_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int bench_errors(void);

/* printf into a malloc'd string (NULL only on no memory). */
char *bench_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* $CERTROLE_PKI/name (malloc'd). */
char *bench_pki(const char *name);
/* A private temporary directory, removed by bench_cleanup() (malloc'd). */
char *bench_tmpdir(const char *tag);
void bench_cleanup(void);
/* Writes text to path; 0 or -1 (error recorded). */
int bench_write(const char *path, const char *text);

/* Reads a PEM chain file: *leaf (first certificate) and *rest (the
 * others, in order, as a peer sends them). 0, or -1 (error recorded). */
int bench_chain(const char *path, X509 **leaf, STACK_OF(X509) **rest);

/* Per-call seconds of fn(arg), the best of 'rounds' rounds of about
 * 'round_s' seconds each. fn returns 0, or -1 to stop (error). Returns a
 * negative value on error. Interleave two of these round by round with
 * bench_pair to keep background load from biasing a ratio. */
typedef int (*bench_fn)(void *arg);
/* Measures a (baseline) and b round by round, alternating; writes the
 * best per-call seconds of each. 0, or -1 on error. */
int bench_pair(bench_fn a, void *aarg, bench_fn b, void *barg, int rounds,
               double round_s, double *per_a, double *per_b);

/* A no-op certrole log sink: audit lines are formatted, then dropped,
 * as a server's own logger would take them. */
void bench_quiet_log(void *userdata, certrole_log_level level, const char *line);

/* The figures, one concept per file. Each prints its own rows. */
void bench_verify(void);     /* bench_verify.c: cold vs bare, cached vs cold */
void bench_threads(void);    /* bench_threads.c: 2 threads vs 1 on one ctx */
void bench_realm_file(void); /* bench_realm.c: file realm 1M vs 1k */
void bench_ldap(void);       /* bench_ldap.c: LDAP realm cached vs uncached */
void bench_nginx(void);      /* bench_nginx.c: nginx keepalive mTLS req/s */
void bench_lighttpd(void);   /* bench_lighttpd.c: lighttpd with/without the authorizer */
void bench_ocsp(void);       /* bench_ocsp.c: OCSP-cached vs no OCSP; first fetch vs timeout */
#endif

/* One chain of the test PKI behind a certrole context (bench_verify.c):
 * the policy trusts ca (with the CRLs of crl, crl-check=chain, when crl
 * is not NULL), maps the leaf's subject with a file realm, and adds
 * 'options' (an "option ..." line). Audit lines go to bench_quiet_log. */
struct bench_case {
    const char *label;          /* "RSA-2048 depth 2" */
    X509 *leaf;
    STACK_OF(X509) *rest;
    X509 *leaf2;                /* a second peer (bench_case_open2), or NULL */
    STACK_OF(X509) *rest2;
    certrole_ctx *ctx;
};
int bench_case_open(struct bench_case *c, const char *label, const char *ca,
                    const char *crl, const char *chain, const char *options);
/* The same with a second peer's chain (chain2), mapped by the same realm. */
int bench_case_open2(struct bench_case *c, const char *label, const char *ca,
                     const char *crl, const char *chain, const char *chain2,
                     const char *options);
void bench_case_close(struct bench_case *c);
/* One certrole_verify_x509 call that must allow (and be served from the
 * cache when want_cached, not when !want_cached). 0 or -1 (recorded). */
int bench_case_verify(struct bench_case *c, int want_cached);
/* The same for the second peer when 'second' (bench_case_open2). Thread-safe. */
int bench_case_verify_peer(struct bench_case *c, int second, int want_cached);

/* The baseline (bench_verify.c): bare X509_verify_cert on a store set up
 * as trust.c sets up its own (same anchors, CRLs, flags, purpose), for
 * the case's leaf and chain. open: 0 or -1 (recorded). once: one
 * verification that must succeed, 0 or -1; thread-safe (a
 * X509_STORE_CTX per call on the shared store). */
struct bench_bare {
    X509_STORE *store;
    STACK_OF(X509_CRL) *crls;
    X509 *leaf;                 /* borrowed from the case */
    STACK_OF(X509) *rest;
};
int bench_bare_open(struct bench_bare *b, const struct bench_case *c, const char *ca,
                    const char *crl);
void bench_bare_close(struct bench_bare *b);
int bench_bare_once(void *arg);

/* The keepalive mTLS load generator (bench_client.c): nconn connections
 * (one thread each) to 127.0.0.1:port presenting cert (a chain PEM) and
 * key, each sending "GET path" over and over on one TLS connection for
 * secs. Requests per second (all 200), or -1 (error recorded). */
double bench_tls_load(int port, const char *cert, const char *key, const char *path,
                      int nconn, double secs);
/* The same with a new connection per request: a full TLS handshake each
 * time (no resumption). Requests (= handshakes) per second, or -1. */
double bench_tls_handshakes(int port, const char *cert, const char *key, const char *path,
                            int nconn, double secs);
/* One request on a fresh connection: the HTTP status, or -1. */
int bench_tls_status(int port, const char *cert, const char *key, const char *path);

/* Client certificates made at bench time (bench_handshake.c): n leaf
 * certificates issued by the test PKI's int-ca to one P-256 key, subject
 * "CN=Bench Client <i>,OU=Sales,O=Acme Corp,C=US". make: 0 or -1 (recorded). */
struct bench_pool {
    X509 **certs;
    int n;
    X509 *inter;                /* int-ca, sent after each leaf */
    EVP_PKEY *key;
    X509 *server;               /* a P-256 server certificate from int-ca, */
    EVP_PKEY *server_key;       /* CN=127.0.0.1, for the servers' second key */
};
int bench_pool_make(struct bench_pool *p, int n);
void bench_pool_free(struct bench_pool *p);
/* Writes the P-256 server certificate + int-ca (chain) and its key. 0 or -1. */
int bench_pool_write_server(const struct bench_pool *p, const char *chain, const char *key);
/* One file-realm line per certificate, "DN" roles (malloc'd, or NULL). */
char *bench_pool_realm(const struct bench_pool *p, const char *roles);
/* Full handshakes per second from nproc forked client processes, each
 * connection a new TLS session (never resumed) sending one GET that must
 * answer 200: 'total' handshakes, the j-th presenting certificate
 * first + j % ncerts of the pool, the server answering with the key type
 * asked for. The clients run on client_cpu (-1: anywhere). -1 on error
 * (recorded). */
enum bench_server_key { BENCH_SERVER_RSA2048, BENCH_SERVER_P256 };
struct bench_hs {
    int port;
    const char *path;
    int first, ncerts, total, nproc;
    enum bench_server_key server_key;
    int client_cpu;
};
double bench_hs_forked(const struct bench_pool *p, const struct bench_hs *h);

/* A child process of parent (the first found in /proc), or -1. */
pid_t bench_child_of(pid_t parent);
/* CPU seconds process pid has used so far (its CPU-time clock), or -1. */
double bench_cpu_of(pid_t pid);

/* Runs fn as one Check test in this process (CK_NOFORK), so helpers that
 * assert through Check (testutil, the slapd fixture) may be used; a
 * failure is recorded as an error with Check's message. 0 or -1. */
int bench_in_check(const char *name, void (*fn)(void));
