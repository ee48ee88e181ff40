/*
 * mod_certrole — the TLS side: the SSL* of every connection, taken from
 * mod_ssl's pre_handshake hook, and the chain verified once per
 * connection (certrole_verify_ssl), kept with the connection so keepalive
 * requests and HTTP/2 streams only run the policy's rules.
 *
 * mod_ssl declares its hooks in mod_ssl_openssl.h, which not every
 * distribution ships; they are optional hooks looked up by name, so the
 * two signatures are repeated here exactly as mod_ssl defines them.
 */
#include "mod_certrole.h"
#include <http_connection.h>
#include <http_log.h>
#include <http_ssl.h>
#include <apr_optional_hooks.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

APLOG_USE_MODULE(certrole);

typedef int ssl_HOOK_pre_handshake_t(conn_rec *c, SSL *ssl, int is_proxy);
typedef int ssl_HOOK_init_server_t(server_rec *s, apr_pool_t *p,
                                   int is_proxy, SSL_CTX *ctx);

/* The connection that owns the TLS session: HTTP/2 runs each stream on a
 * secondary connection whose master holds it. */
static conn_rec *mcr_tls_conn(conn_rec *c)
{
    while (c->master != NULL) {
        c = c->master;
    }
    return c;
}

static apr_status_t mcr_conn_cleanup(void *data)
{
    mcr_conn *cc = data;
    int i;

    /* Runs when the connection's pool goes; only our memory is touched. */
    for (i = 0; i < cc->n; i++) {
        certrole_result_free(cc->e[i].res);
        cc->e[i].res = NULL;
    }
    cc->n = 0;
    return APR_SUCCESS;
}

/* Every inbound TLS connection, in its own thread, before the handshake. */
static int mcr_pre_handshake(conn_rec *c, SSL *ssl, int is_proxy)
{
    mcr_conn *cc;

    if (is_proxy) {
        return DECLINED;
    }
    cc = apr_pcalloc(c->pool, sizeof(*cc));
    cc->ssl = ssl;
    if (apr_thread_mutex_create(&cc->lock, APR_THREAD_MUTEX_DEFAULT,
                                c->pool) != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_pool_cleanup_register(c->pool, cc, mcr_conn_cleanup,
                              apr_pool_cleanup_null);
    ap_set_module_config(c->conn_config, &certrole_module, cc);
    return OK;
}

/* CertroleHandshake accept: the handshake takes whatever chain the peer
 * sends and certrole judges it per request, so an expired, revoked or
 * foreign certificate is answered with 403 and a reason instead of a
 * broken handshake. OpenSSL's verdict is "not trusted", one of the errors
 * mod_ssl lets through under SSLVerifyClient optional_no_ca; so
 * SSL_CLIENT_VERIFY never reads SUCCESS for a chain nobody verified and
 * mod_ssl's own checks (Require ssl-verify-client) refuse it. */
static int mcr_accept_chain(X509_STORE_CTX *x, void *arg)
{
    X509_STORE_CTX_set_error(x, X509_V_ERR_CERT_UNTRUSTED);
    return 1;
}

static int mcr_init_server(server_rec *s, apr_pool_t *p, int is_proxy,
                           SSL_CTX *ctx)
{
    mcr_srv_conf *sc = ap_get_module_config(s->module_config,
                                            &certrole_module);

    if (is_proxy || sc == NULL || sc->handshake != MCR_HS_ACCEPT) {
        return DECLINED;
    }
    if (sc->policy == NULL) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     "CertroleHandshake accept needs a CertrolePolicy for "
                     "this server");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* Anything but "ask, do not insist" would turn every certificate
     * away: mod_ssl lets an unverified chain through only for
     * optional_no_ca. */
    if ((SSL_CTX_get_verify_mode(ctx)
         & (SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT))
        != SSL_VERIFY_PEER) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     "CertroleHandshake accept needs SSLVerifyClient "
                     "optional_no_ca in this server");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    SSL_CTX_set_cert_verify_callback(ctx, mcr_accept_chain, NULL);
    return OK;
}

void mcr_register_ssl_hooks(void)
{
    APR_OPTIONAL_HOOK(ssl, pre_handshake, mcr_pre_handshake, NULL, NULL,
                      APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(ssl, init_server, mcr_init_server, NULL, NULL,
                      APR_HOOK_MIDDLE);
}

static mcr_conn *mcr_conn_of(request_rec *r)
{
    conn_rec *c = mcr_tls_conn(r->connection);

    return ap_get_module_config(c->conn_config, &certrole_module);
}

SSL *mcr_conn_ssl(request_rec *r)
{
    mcr_conn *cc = mcr_conn_of(r);

    return cc ? cc->ssl : NULL;
}

static apr_status_t mcr_free_result(void *data)
{
    certrole_result_free(data);
    return APR_SUCCESS;
}

/* Verifies and stores; called with cc->lock held. */
static const certrole_result *mcr_verify(request_rec *r, mcr_conn *cc,
                                         certrole_ctx *ctx)
{
    certrole_result *res = NULL;

    (void)certrole_verify_ssl(ctx, cc->ssl, &res);
    if (res == NULL) {
        return NULL;
    }
    /* One line per verification (not per request), so the connection
     * cache can be seen working at info level. */
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "certrole: verified the connection's client certificate: "
                  "code=%s", certrole_code_name(certrole_result_code(res)));
    if (cc->n < MCR_CONN_MAX) {
        cc->e[cc->n].ctx = ctx;
        cc->e[cc->n].res = res;
        cc->n++;
    } else {
        apr_pool_cleanup_register(r->pool, res, mcr_free_result,
                                  apr_pool_cleanup_null);
    }
    return res;
}

certrole_code mcr_conn_result(request_rec *r, certrole_ctx *ctx,
                              const certrole_result **out, const char **why)
{
    mcr_conn *cc = mcr_conn_of(r);
    const certrole_result *res = NULL;
    int i;

    *out = NULL;
    if (cc == NULL || cc->ssl == NULL) {
        if (ap_ssl_conn_is_ssl(r->connection)) {
            *why = "the TLS module does not hand its connection over "
                   "(mod_ssl is required)";
            return CERTROLE_E_INTERNAL;
        }
        *why = "the connection is not TLS";
        return CERTROLE_E_NO_CERTIFICATE;
    }
    apr_thread_mutex_lock(cc->lock);
    for (i = 0; i < cc->n && res == NULL; i++) {
        if (cc->e[i].ctx == ctx) {
            res = cc->e[i].res;
        }
    }
    if (res == NULL) {
        res = mcr_verify(r, cc, ctx);
    }
    apr_thread_mutex_unlock(cc->lock);
    if (res == NULL) {
        *why = "verification failed: out of memory";
        return CERTROLE_E_NO_MEMORY;
    }
    *out = res;
    *why = certrole_result_message(res);
    return certrole_result_code(res);
}
