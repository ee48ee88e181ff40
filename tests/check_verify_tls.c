/* certrole_verify_ssl over a real TLS handshake on loopback: the
 * server judges the client's chain, the client judges the server's. */
#define _GNU_SOURCE
#include "verify_util.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/ssl.h>

/* ----- TLS handshake ------------------------------------------------------------------ */

struct tls_server {
    int lfd;
    int want_client_cert;
    certrole_ctx *ctx;
    certrole_code rc;
    char subject[512];
    int depth;
    int handshake_ok;
};

static SSL_CTX *make_ssl_ctx(int server, const char *chain, const char *key)
{
    SSL_CTX *c = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    ck_assert_ptr_nonnull(c);
    if (chain) {
        ck_assert_int_eq(SSL_CTX_use_certificate_chain_file(c, tu_pki(chain)), 1);
        ck_assert_int_eq(SSL_CTX_use_PrivateKey_file(c, tu_pki(key), SSL_FILETYPE_PEM), 1);
    }
    return c;
}

/* Ask for a client certificate but leave the verdict to certrole. */
static int accept_any(int ok, X509_STORE_CTX *x)
{
    (void)ok;
    (void)x;
    return 1;
}

static void *server_main(void *arg)
{
    struct tls_server *s = arg;
    SSL_CTX *sc = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate_chain_file(sc, tu_pki("server-chain.pem"));
    SSL_CTX_use_PrivateKey_file(sc, tu_pki("server.key"), SSL_FILETYPE_PEM);
    SSL_CTX_set_verify(sc, SSL_VERIFY_PEER, accept_any);
    s->rc = CERTROLE_E_INTERNAL;
    int fd = accept(s->lfd, NULL, NULL);
    if (fd >= 0) {
        SSL *ssl = SSL_new(sc);
        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) == 1) {
            s->handshake_ok = 1;
            certrole_result *r = NULL;
            s->rc = certrole_verify_ssl(s->ctx, ssl, &r);
            if (certrole_result_subject(r))
                snprintf(s->subject, sizeof s->subject, "%s", certrole_result_subject(r));
            s->depth = certrole_result_depth(r);
            certrole_result_free(r);
            SSL_write(ssl, "x", 1);
            SSL_shutdown(ssl);
        }
        SSL_free(ssl);
        close(fd);
    }
    SSL_CTX_free(sc);
    return NULL;
}

/* Runs one handshake; the client presents chain/key (or nothing). On the
 * client side, verifies the server with client_ctx (if not NULL). */
static void handshake(certrole_ctx *server_ctx, const char *chain, const char *key,
                      struct tls_server *s, certrole_ctx *client_ctx,
                      certrole_code *client_rc)
{
    memset(s, 0, sizeof *s);
    s->ctx = server_ctx;
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert(s->lfd >= 0);
    struct sockaddr_in a = { .sin_family = AF_INET };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t al = sizeof a;
    ck_assert_int_eq(getsockname(s->lfd, (struct sockaddr *)&a, &al), 0);
    ck_assert_int_eq(listen(s->lfd, 1), 0);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, server_main, s), 0);

    SSL_CTX *cc = make_ssl_ctx(0, chain, key);
    SSL_CTX_set_verify(cc, SSL_VERIFY_NONE, NULL);   /* certrole judges the server */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    SSL *ssl = SSL_new(cc);
    SSL_set_fd(ssl, fd);
    int ok = SSL_connect(ssl);
    if (ok == 1) {
        char buf[4];
        SSL_read(ssl, buf, sizeof buf);   /* TLS 1.3: the server's verdict is in */
        if (client_ctx) {
            certrole_result *r = NULL;
            *client_rc = certrole_verify_ssl(client_ctx, ssl, &r);
            ck_assert_ptr_nonnull(r);
            if (*client_rc == CERTROLE_OK) {
                ck_assert_str_eq(certrole_result_subject(r), "CN=localhost");
                ck_assert_int_eq(certrole_result_depth(r), 3);
            }
            certrole_result_free(r);
        }
        SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    close(fd);
    SSL_CTX_free(cc);
    pthread_join(th, NULL);
    close(s->lfd);
    ck_assert_int_eq(ok, 1);
    ck_assert_int_eq(s->handshake_ok, 1);
}

START_TEST(verify_ssl_handshake)
{
    certrole_ctx *ctx = open_acme(NULL);
    char *p = tu_strf("trust ca-file=\"%s\" purpose=sslserver\n", tu_pki("ca-file.pem"));
    certrole_ctx *cctx = open_policy(p);
    free(p);
    struct tls_server s;
    certrole_code crc = CERTROLE_E_INTERNAL;
    handshake(ctx, "client-chain.pem", "client.key", &s, cctx, &crc);
    ck_assert_msg(s.rc == CERTROLE_OK, "server side: %s", certrole_code_name(s.rc));
    ck_assert_str_eq(s.subject, CLIENT_DN);
    ck_assert_int_eq(s.depth, 3);
    ck_assert_msg(crc == CERTROLE_OK, "client side: %s", certrole_code_name(crc));

    /* a client that sends no certificate */
    handshake(ctx, NULL, NULL, &s, NULL, NULL);
    ck_assert_int_eq(s.rc, CERTROLE_E_NO_CERTIFICATE);
    /* a client that sends its leaf without the intermediate */
    handshake(ctx, "client.pem", "client.key", &s, NULL, NULL);
    ck_assert_int_eq(s.rc, CERTROLE_E_UNTRUSTED_ISSUER);
    /* a revoked client */
    handshake(ctx, "revoked-chain.pem", "revoked.key", &s, NULL, NULL);
    ck_assert_int_eq(s.rc, CERTROLE_E_REVOKED);
    certrole_close(cctx);
    certrole_close(ctx);
}

static Suite *verify_tls_suite(void)
{
    Suite *s = suite_create("verify_tls");
    TCase *thr = tcase_create("tls");
    tcase_set_timeout(thr, 60);
    tcase_add_test(thr, verify_ssl_handshake);
    suite_add_tcase(s, thr);
    return s;
}

int main(void)
{
    return tu_run_suite(verify_tls_suite());
}
