/* Full-handshake load for the nginx figures: many client certificates
 * and several client processes.
 *
 * The pool: client certificates made at bench time with the OpenSSL
 * library, all issued by the test PKI's Acme Issuing CA (int-ca) to one
 * P-256 key generated once, each with its own subject and serial, so
 * every certificate is a different peer to a server (and to any cache
 * keyed by the chain) while the client's signing cost stays the same.
 * Signing a certificate in process takes about a millisecond, so the
 * pool is made afresh on every run rather than stored.
 *
 * The load: nproc forked processes, each with its own client context,
 * connect, send one GET, read the answer and hang up, for the handshakes
 * assigned to it. They offer only the signature algorithms of the server
 * key type the figure is about (the servers hold an RSA-2048 and a P-256
 * certificate, the latter made here too) and check that they got it. No session is ever offered (no client session cache,
 * no tickets, a fresh SSL per connection), and a resumed session is an
 * error, so every connection is a full handshake. */
#define _GNU_SOURCE
#include "bench.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sched.h>

static X509 *load_pem_cert(const char *name)
{
    char *p = bench_pki(name);
    FILE *f = p ? fopen(p, "r") : NULL;
    X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    if (!x)
        bench_error("cannot read %s", p ? p : name);
    free(p);
    return x;
}

static EVP_PKEY *load_pem_key(const char *name)
{
    char *p = bench_pki(name);
    FILE *f = p ? fopen(p, "r") : NULL;
    EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    if (!k)
        bench_error("cannot read %s", p ? p : name);
    free(p);
    return k;
}

static int add_ext(X509 *x, X509 *ca, int nid, const char *value)
{
    X509V3_CTX v;
    X509V3_set_ctx(&v, ca, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v, nid, value);
    int ok = e && X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    return ok;
}

/* One certificate: a client's (CN=Bench Client <i>, serial 0x5eed0000 +
 * i), or with i < 0 the server's (CN=127.0.0.1, serverAuth). */
static X509 *issue(X509 *ca, EVP_PKEY *cakey, EVP_PKEY *key, int i)
{
    X509 *x = X509_new();
    X509_NAME *n = X509_NAME_new();
    char cn[64];
    snprintf(cn, sizeof cn, i < 0 ? "127.0.0.1" : "Bench Client %d", i);
    int ok = x && n && X509_set_version(x, 2) &&
             ASN1_INTEGER_set(X509_get_serialNumber(x), i < 0 ? 0x5eedffffL : 0x5eed0000L + i) &&
             X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC, (const unsigned char *)"US", -1, -1, 0) &&
             X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"Acme Corp", -1, -1, 0) &&
             X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_ASC, (const unsigned char *)"Sales", -1, -1, 0) &&
             X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) &&
             X509_set_subject_name(x, n) &&
             X509_set_issuer_name(x, X509_get_subject_name(ca)) &&
             X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
             X509_gmtime_adj(X509_getm_notAfter(x), 86400) && X509_set_pubkey(x, key) &&
             add_ext(x, ca, NID_basic_constraints, "critical,CA:FALSE") &&
             add_ext(x, ca, NID_key_usage, "critical,digitalSignature") &&
             add_ext(x, ca, NID_ext_key_usage, i < 0 ? "serverAuth" : "clientAuth") &&
             add_ext(x, ca, NID_subject_key_identifier, "hash") &&
             add_ext(x, ca, NID_authority_key_identifier, "keyid:always") &&
             X509_sign(x, cakey, EVP_sha256()) > 0;
    X509_NAME_free(n);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

int bench_pool_make(struct bench_pool *p, int n)
{
    memset(p, 0, sizeof *p);
    X509 *ca = load_pem_cert("int-ca.pem");
    EVP_PKEY *cakey = load_pem_key("int-ca.key");
    p->inter = ca;
    p->key = EVP_EC_gen("P-256");
    p->certs = calloc((size_t)n, sizeof *p->certs);
    if (!ca || !cakey || !p->key || !p->certs) {
        EVP_PKEY_free(cakey);
        bench_error("client pool: no issuer, key or memory");
        bench_pool_free(p);
        return -1;
    }
    for (p->n = 0; p->n < n; p->n++)
        if (!(p->certs[p->n] = issue(ca, cakey, p->key, p->n))) {
            bench_error("client pool: cannot issue certificate %d", p->n);
            EVP_PKEY_free(cakey);
            bench_pool_free(p);
            return -1;
        }
    p->server_key = EVP_EC_gen("P-256");
    p->server = p->server_key ? issue(ca, cakey, p->server_key, -1) : NULL;
    EVP_PKEY_free(cakey);
    if (!p->server) {
        bench_error("client pool: cannot make the P-256 server certificate");
        bench_pool_free(p);
        return -1;
    }
    return 0;
}

int bench_pool_write_server(const struct bench_pool *p, const char *chain, const char *key)
{
    FILE *c = fopen(chain, "w"), *k = fopen(key, "w");
    int ok = c && k && PEM_write_X509(c, p->server) && PEM_write_X509(c, p->inter) &&
             PEM_write_PrivateKey(k, p->server_key, NULL, NULL, 0, NULL, NULL);
    if (c && fclose(c) != 0)
        ok = 0;
    if (k && fclose(k) != 0)
        ok = 0;
    if (!ok)
        bench_error("cannot write the P-256 server certificate to %s", chain);
    return ok ? 0 : -1;
}

void bench_pool_free(struct bench_pool *p)
{
    for (int i = 0; p->certs && i < p->n; i++)
        X509_free(p->certs[i]);
    free(p->certs);
    X509_free(p->inter);
    EVP_PKEY_free(p->key);
    X509_free(p->server);
    EVP_PKEY_free(p->server_key);
    memset(p, 0, sizeof *p);
}

char *bench_pool_realm(const struct bench_pool *p, const char *roles)
{
    char *text = strdup("");
    for (int i = 0; text && i < p->n; i++) {
        char *dn = NULL, *j = NULL;
        if (certrole_dn_from_x509(X509_get_subject_name(p->certs[i]), &dn) == CERTROLE_OK)
            j = bench_strf("%s\"%s\" %s\n", text, dn, roles);
        certrole_free(dn);
        free(text);
        text = j;
    }
    if (!text)
        bench_error("client pool: cannot write the realm lines");
    return text;
}

/* Whether the server answered with the key type the figure is about. */
static int server_key_is(SSL *s, enum bench_server_key want)
{
    X509 *x = SSL_get1_peer_certificate(s);
    int id = x ? EVP_PKEY_get_base_id(X509_get0_pubkey(x)) : NID_undef;
    X509_free(x);
    return want == BENCH_SERVER_P256 ? id == EVP_PKEY_EC : id == EVP_PKEY_RSA;
}

/* A fresh connection presenting cert: the HTTP status, or -1 (also when
 * the session was resumed, which would not be a full handshake). */
static int one_handshake(SSL_CTX *c, X509 *cert, EVP_PKEY *key, STACK_OF(X509) *chain, int port,
                         const char *req, enum bench_server_key want)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1, st = -1;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    SSL *s = SSL_new(c);
    if (s && SSL_use_cert_and_key(s, cert, key, chain, 1) == 1 &&
        SSL_set_fd(s, fd) == 1 && SSL_connect(s) == 1 && !SSL_session_reused(s) &&
        server_key_is(s, want)) {
        size_t len = strlen(req);
        char buf[4096];
        int r;
        if (SSL_write(s, req, (int)len) == (int)len && (r = SSL_read(s, buf, sizeof buf - 1)) > 0) {
            buf[r] = '\0';
            if (sscanf(buf, "HTTP/1.%*d %d", &st) != 1)
                st = -1;
        }
        SSL_shutdown(s);
    }
    SSL_free(s);
    close(fd);
    return st;
}

/* The signature algorithms a client offers, so that a server holding an
 * RSA and a P-256 certificate answers with the one asked for. */
static const char *sigalgs_of(enum bench_server_key k)
{
    return k == BENCH_SERVER_P256 ? "ECDSA+SHA256"
                                  : "rsa_pss_rsae_sha256:RSA+SHA256";
}

/* The child: handshakes j = idx, idx + nproc, ... < total, each with
 * certificate first + j % ncerts. Exits 0, or 1 on a failure. */
static void child(const struct bench_pool *p, const struct bench_hs *h, int idx, int go)
{
    SSL_CTX *c = SSL_CTX_new(TLS_client_method());
    STACK_OF(X509) *chain = sk_X509_new_null();
    char req[512], b;
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
             h->path);
    /* The clients' CPU: the server's worker has the other one to itself,
     * so the figure is the server's capacity, not a share of the machine
     * the clients are eating into. */
    if (h->client_cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(h->client_cpu, &set);
        if (sched_setaffinity(0, sizeof set, &set) != 0)
            _exit(1);
    }
    /* what the server may sign with, and what this client signs with */
    if (!c || !chain || !sk_X509_push(chain, p->inter) ||
        SSL_CTX_set1_sigalgs_list(c, sigalgs_of(h->server_key)) != 1 ||
        SSL_CTX_set1_client_sigalgs_list(c, "ECDSA+SHA256") != 1)
        _exit(1);
    SSL_CTX_set_verify(c, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
    if (read(go, &b, 1) < 0)
        _exit(1);
    for (int j = idx; j < h->total; j += h->nproc) {
        int st = one_handshake(c, p->certs[h->first + j % h->ncerts], p->key, chain, h->port,
                               req, h->server_key);
        if (st != 200) {
            fprintf(stderr, "bench: handshake %d on port %d: HTTP status %d\n", j, h->port, st);
            _exit(1);
        }
    }
    SSL_CTX_free(c);
    _exit(0);
}

double bench_hs_forked(const struct bench_pool *p, const struct bench_hs *h)
{
    int go[2];
    pid_t pids[8];
    int started = 0, failed = 0, nproc = h->nproc;
    if (nproc > 8 || nproc < 1 || h->first < 0 || h->ncerts < 1 ||
        h->first + h->ncerts > p->n || pipe(go) != 0) {
        bench_error("handshake load: bad arguments");
        return -1;
    }
    fflush(NULL);
    for (; started < nproc; started++) {
        pid_t pid = fork();
        if (pid == 0) {
            close(go[1]);
            child(p, h, started, go[0]);
        }
        if (pid < 0)
            break;
        pids[started] = pid;
    }
    close(go[0]);
    /* closing the pipe starts every child at once */
    double t0 = bench_now();
    close(go[1]);
    for (int i = 0; i < started; i++) {
        int status = 0;
        if (waitpid(pids[i], &status, 0) != pids[i] || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0)
            failed = 1;
    }
    double el = bench_now() - t0;
    if (failed || started < nproc) {
        bench_error("handshake load on port %d: a client failed", h->port);
        return -1;
    }
    return (double)h->total / el;
}
