/* A small mTLS HTTP/1.1 load generator for the nginx figures (wrk cannot
 * present a client certificate, h2load's HTTP/2 would hide the handshake
 * cost behind streams). Keepalive: each thread opens one TLS connection
 * with the client chain and sends the same GET back to back, reading each
 * response (headers + Content-Length body) before the next. Handshakes:
 * each thread connects, sends one GET and hangs up, again and again, with
 * no session resumption (no client session cache, no tickets), so every
 * request pays a full handshake. */
#define _GNU_SOURCE
#include "bench.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

struct conn {
    SSL_CTX *sctx;
    int port;
    const char *path;
    atomic_int *stop;
    long done;
    int failed;
    int status;
    int fresh;       /* a new connection, full handshake, per request */
};

static SSL_CTX *client_ctx(const char *cert, const char *key)
{
    SSL_CTX *c = SSL_CTX_new(TLS_client_method());
    if (!c || SSL_CTX_use_certificate_chain_file(c, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(c, key, SSL_FILETYPE_PEM) != 1) {
        bench_error("client TLS context with %s: %s", cert,
                    ERR_reason_error_string(ERR_peek_last_error()));
        SSL_CTX_free(c);
        return NULL;
    }
    /* the server is on loopback and is not what is measured here */
    SSL_CTX_set_verify(c, SSL_VERIFY_NONE, NULL);
    /* every connection a full handshake: nothing to resume from */
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
    return c;
}

static SSL *dial(SSL_CTX *sctx, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    SSL *s = SSL_new(sctx);
    if (!s || !SSL_set_fd(s, fd) || SSL_connect(s) != 1) {
        SSL_free(s);
        close(fd);
        return NULL;
    }
    return s;
}

static void hangup(SSL *s)
{
    if (!s)
        return;
    int fd = SSL_get_fd(s);
    SSL_shutdown(s);
    SSL_free(s);
    close(fd);
}

/* One request/response on s; the status, or -1. */
static int request(SSL *s, const char *req, size_t reqlen)
{
    if (SSL_write(s, req, (int)reqlen) != (int)reqlen)
        return -1;
    char buf[16384];
    size_t n = 0;
    char *eoh = NULL;
    while (!eoh) {
        if (n >= sizeof buf - 1)
            return -1;
        int r = SSL_read(s, buf + n, (int)(sizeof buf - 1 - n));
        if (r <= 0)
            return -1;
        n += (size_t)r;
        buf[n] = '\0';
        eoh = strstr(buf, "\r\n\r\n");
    }
    int status = 0;
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
        return -1;
    long clen = 0;
    const char *cl = strcasestr(buf, "\r\nContent-Length:");
    if (cl)
        clen = strtol(cl + 17, NULL, 10);
    long have = (long)(n - (size_t)(eoh + 4 - buf));
    while (have < clen) {
        int r = SSL_read(s, buf, (int)sizeof buf);
        if (r <= 0)
            return -1;
        have += r;
    }
    return status;
}

static void *run(void *arg)
{
    struct conn *c = arg;
    char req[512];
    int len = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", c->path);
    if (c->fresh) {
        while (!atomic_load_explicit(c->stop, memory_order_relaxed)) {
            SSL *s = dial(c->sctx, c->port);
            int st = s ? request(s, req, (size_t)len) : -1;
            hangup(s);
            if (st != 200) {
                c->status = st;
                c->failed = 1;
                break;
            }
            __atomic_add_fetch(&c->done, 1, __ATOMIC_RELAXED);
        }
        return NULL;
    }
    SSL *s = dial(c->sctx, c->port);
    if (!s) {
        c->failed = 1;
        return NULL;
    }
    while (!atomic_load_explicit(c->stop, memory_order_relaxed)) {
        int st = request(s, req, (size_t)len);
        if (st != 200) {
            c->status = st;
            c->failed = 1;
            break;
        }
        __atomic_add_fetch(&c->done, 1, __ATOMIC_RELAXED);
    }
    hangup(s);
    return NULL;
}

static double load(int port, const char *cert, const char *key, const char *path,
                   int nconn, double secs, int fresh)
{
    SSL_CTX *sctx = client_ctx(cert, key);
    if (!sctx)
        return -1;
    enum { MAXC = 16 };
    pthread_t t[MAXC];
    struct conn c[MAXC];
    atomic_int stop;
    atomic_init(&stop, 0);
    int started = 0;
    if (nconn > MAXC)
        nconn = MAXC;
    for (int i = 0; i < nconn; i++) {
        c[i] = (struct conn){ .sctx = sctx, .port = port, .path = path, .stop = &stop,
                              .fresh = fresh };
        if (pthread_create(&t[i], NULL, run, &c[i]) != 0)
            break;
        started++;
    }
    /* count from when every connection is up: the handshakes are not the
     * figure (keepalive), so give them a moment, then take a snapshot */
    struct timespec warm = { 0, 200 * 1000000L };
    nanosleep(&warm, NULL);
    long before = 0, after = 0;
    for (int i = 0; i < started; i++)
        before += __atomic_load_n(&c[i].done, __ATOMIC_RELAXED);
    double t0 = bench_now();
    struct timespec ts = { (time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9) };
    nanosleep(&ts, NULL);
    for (int i = 0; i < started; i++)
        after += __atomic_load_n(&c[i].done, __ATOMIC_RELAXED);
    double el = bench_now() - t0;
    atomic_store(&stop, 1);
    int failed = started < nconn, status = 0;
    for (int i = 0; i < started; i++) {
        pthread_join(t[i], NULL);
        if (c[i].failed) {
            failed = 1;
            status = c[i].status;
        }
    }
    SSL_CTX_free(sctx);
    if (failed) {
        bench_error("load on port %d: a connection failed (HTTP status %d)", port, status);
        return -1;
    }
    return (double)(after - before) / el;
}

double bench_tls_load(int port, const char *cert, const char *key, const char *path,
                      int nconn, double secs)
{
    return load(port, cert, key, path, nconn, secs, 0);
}

double bench_tls_handshakes(int port, const char *cert, const char *key, const char *path,
                            int nconn, double secs)
{
    return load(port, cert, key, path, nconn, secs, 1);
}

int bench_tls_status(int port, const char *cert, const char *key, const char *path)
{
    SSL_CTX *sctx = client_ctx(cert, key);
    if (!sctx)
        return -1;
    SSL *s = dial(sctx, port);
    char req[512];
    int len = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
    int st = s ? request(s, req, (size_t)len) : -1;
    hangup(s);
    SSL_CTX_free(sctx);
    return st;
}
