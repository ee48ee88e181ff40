/*
 * ngx_http_certrole_module — the client chain is verified by certrole in
 * the TLS handshake.
 *
 * In every server block where a certrole_policy is in scope, certrole is
 * on (in the server or one of its locations; any server with
 * optional_no_ca) and ssl_verify_client asks for a certificate, the
 * SSL_CTX's certificate verification callback is certrole's: OpenSSL's
 * own chain building (and ssl_client_certificate as trust store) is not
 * run. The result goes into
 * the connection's cache (ngx_http_certrole_access.c), where the access
 * phase finds it, so a connection is verified exactly once; a returning
 * client is a hit in the library's verification cache.
 *
 * What the handshake reports to nginx (the X509_STORE_CTX error, read back
 * through SSL_get_verify_result):
 *   optional_no_ca  always X509_V_OK: certrole decides every case in the
 *                   access phase (401/403 with $certrole_code).
 *   on, optional    a chain the policy does not trust gets the X509 error
 *                   closest to certrole's code, so nginx answers it with
 *                   its own 400 in every location, as it does for its own
 *                   verification; a trusted chain gets X509_V_OK and the
 *                   rest (identity, realms, rules) is decided in the
 *                   access phase (403).
 *
 * Resumption: a resumed session runs no verification and, from a ticket
 * or nginx's shared cache, holds the leaf only. The intermediates the
 * client sent are kept with the session (its ticket appdata, which OpenSSL
 * serializes with the session and copies into every new ticket) and, when
 * the handshake of a resumed session is done, the leaf and those
 * intermediates are judged again under the policy in force now (normally
 * a cache hit): a reload between the two connections applies. What a
 * session carries, and which servers its verdict is good for:
 * ngx_http_certrole_session.c. No early data is accepted where certrole
 * judges the handshake: a 0-RTT request would be served before the
 * resumed session is judged again.
 */
#include "ngx_http_certrole.h"

/* ssl_verify_client values (ngx_http_ssl_module). */
#define NGX_HTTP_CERTROLE_VERIFY_NO_CA     3

typedef struct {
    ngx_http_certrole_policy_t  *policy;
    ngx_uint_t                   verify;   /* sscf->verify: 1, 2 or 3 */
    u_char                       id[NGX_HTTP_CERTROLE_ID_LEN];
    void                       (*prev_info)(const SSL *ssl, int where, int ret);
} ngx_http_certrole_srv_t;

static int  ngx_http_certrole_ctx_index = -1;


/* The X509 error nginx will see for certrole's code in the on/optional
 * modes: X509_V_OK where the chain itself is trusted (the remaining
 * refusals are certrole's 403 in the access phase). */
static long
ngx_http_certrole_x509_error(certrole_code code)
{
    switch (code) {
    case CERTROLE_E_UNTRUSTED_ISSUER:
        return X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY;
    case CERTROLE_E_SELF_SIGNED_UNTRUSTED:
        return X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT;
    case CERTROLE_E_EXPIRED:           return X509_V_ERR_CERT_HAS_EXPIRED;
    case CERTROLE_E_NOT_YET_VALID:     return X509_V_ERR_CERT_NOT_YET_VALID;
    case CERTROLE_E_REVOKED:           return X509_V_ERR_CERT_REVOKED;
    case CERTROLE_E_CRL_UNAVAILABLE:   return X509_V_ERR_UNABLE_TO_GET_CRL;
    case CERTROLE_E_WRONG_PURPOSE:     return X509_V_ERR_INVALID_PURPOSE;
    case CERTROLE_E_CHAIN_TOO_LONG:    return X509_V_ERR_CERT_CHAIN_TOO_LONG;
    case CERTROLE_E_BAD_SIGNATURE:     return X509_V_ERR_CERT_SIGNATURE_FAILURE;
    case CERTROLE_E_INVALID_CA:        return X509_V_ERR_INVALID_CA;
    case CERTROLE_E_CHAIN_INVALID:
    case CERTROLE_E_CHAIN_ORDER:
    case CERTROLE_E_OCSP_UNAVAILABLE:
    case CERTROLE_E_BAD_ENCODING:      return X509_V_ERR_CERT_REJECTED;
    case CERTROLE_E_NO_MEMORY:
    case CERTROLE_E_INTERNAL:
    case CERTROLE_E_INVALID_ARGUMENT:  return X509_V_ERR_UNSPECIFIED;
    default:                           return X509_V_OK;
    }
}


static long
ngx_http_certrole_verdict(ngx_http_certrole_srv_t *srv, certrole_result *res)
{
    if (srv->verify == NGX_HTTP_CERTROLE_VERIFY_NO_CA) {
        return X509_V_OK;
    }
    return res ? ngx_http_certrole_x509_error(certrole_result_code(res))
               : X509_V_ERR_UNSPECIFIED;
}


/* The peer's certificates other than the leaf, in the order sent. The
 * stack holds borrowed pointers: free it with sk_X509_free(). */
static STACK_OF(X509) *
ngx_http_certrole_others(X509 *leaf, STACK_OF(X509) *sent)
{
    STACK_OF(X509)  *others;
    X509            *x;
    int              i;

    others = sk_X509_new_null();
    if (others == NULL) {
        return NULL;
    }
    for (i = 0; i < sk_X509_num(sent); i++) {
        x = sk_X509_value(sent, i);
        if (X509_cmp(x, leaf) != 0 && !sk_X509_push(others, x)) {
            sk_X509_free(others);
            return NULL;
        }
    }
    return others;
}


certrole_code
ngx_http_certrole_verify_conn(certrole_ctx *ctx, SSL *ssl,
    certrole_result **res)
{
    STACK_OF(X509)  *kept;
    X509            *leaf;
    certrole_code    rc;

    leaf = SSL_get0_peer_certificate(ssl);
    kept = NULL;
    if (leaf != NULL && SSL_session_reused(ssl)) {
        kept = ngx_http_certrole_session_chain(ssl);
    }
    if (kept == NULL) {
        return certrole_verify_ssl(ctx, ssl, res);
    }
    rc = certrole_verify_x509(ctx, leaf, kept, res);
    sk_X509_pop_free(kept, X509_free);
    return rc;
}


void
ngx_http_certrole_log_verified(ngx_connection_t *c, const char *when,
    certrole_result *res)
{
    /* One line per verification (not per request), so the cache can be
     * seen working in the error log at info level. */
    ngx_log_error(NGX_LOG_INFO, c->log, 0,
                  "certrole: verified the connection's client certificate"
                  "%s: code=%s%s", when,
                  certrole_code_name(certrole_result_code(res)),
                  certrole_result_cached(res)
                      ? " (verification cache hit)" : "");
}


/* SSL_CTX_set_cert_verify_callback: replaces X509_verify_cert(). */
static int
ngx_http_certrole_cert_verify(X509_STORE_CTX *store, void *arg)
{
    ngx_http_certrole_srv_t  *srv = arg;
    ngx_connection_t         *c;
    SSL                      *ssl;
    STACK_OF(X509)           *others;
    X509                     *leaf;
    certrole_result          *res;

    ssl = X509_STORE_CTX_get_ex_data(store,
                                     SSL_get_ex_data_X509_STORE_CTX_idx());
    leaf = X509_STORE_CTX_get0_cert(store);
    c = ssl ? ngx_ssl_get_connection(ssl) : NULL;
    if (c == NULL || leaf == NULL) {
        X509_STORE_CTX_set_error(store, X509_V_ERR_UNSPECIFIED);
        return 1;
    }

    res = NULL;
    others = ngx_http_certrole_others(leaf,
                                      X509_STORE_CTX_get0_untrusted(store));
    if (others == NULL
        || ngx_http_certrole_session_keep(c, ssl, srv->id, others) != NGX_OK)
    {
        /* A session without the verdict's identity could be taken for
         * one nginx verified: no session at all. */
        sk_X509_free(others);
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "certrole: cannot record the verdict with the TLS "
                      "session: handshake refused");
        X509_STORE_CTX_set_error(store, X509_V_ERR_UNSPECIFIED);
        return 0;
    }
    (void) certrole_verify_x509(srv->policy->ctx, leaf, others, &res);
    sk_X509_free(others);

    /* Always 1: nginx answers refusals itself, with a page, once the
     * request is read (and the access phase explains them). */
    X509_STORE_CTX_set_error(store, ngx_http_certrole_verdict(srv, res));
    if (res == NULL) {
        return 1;
    }

    ngx_http_certrole_log_verified(c, " in the TLS handshake", res);
    if (ngx_http_certrole_conn_keep(c, ssl, srv->policy->ctx, res) == NULL) {
        certrole_result_free(res);   /* the access phase verifies again */
    }
    return 1;
}


/* Judges a resumed session's peer under the policy in force now. */
static void
ngx_http_certrole_resumed(SSL *ssl, ngx_http_certrole_srv_t *srv)
{
    ngx_http_certrole_entry_t  *e;
    ngx_connection_t           *c;
    certrole_result            *res;

    /* The session carries the verdict of its first handshake: it is
     * replaced with today's in every case, also when the access phase
     * has judged this connection already. */
    c = ngx_ssl_get_connection(ssl);
    e = ngx_http_certrole_conn_find(ssl, srv->policy->ctx);
    if (c == NULL || e != NULL) {
        SSL_set_verify_result(ssl, ngx_http_certrole_verdict(srv,
                                                   e ? e->res : NULL));
        return;
    }

    res = NULL;
    (void) ngx_http_certrole_verify_conn(srv->policy->ctx, ssl, &res);

    SSL_set_verify_result(ssl, ngx_http_certrole_verdict(srv, res));
    if (res == NULL) {
        return;
    }

    ngx_http_certrole_log_verified(c, " of a resumed TLS session", res);
    if (ngx_http_certrole_conn_keep(c, ssl, srv->policy->ctx, res) == NULL) {
        certrole_result_free(res);
    }
}


static void
ngx_http_certrole_info(const SSL *ssl_conn, int where, int ret)
{
    ngx_http_certrole_srv_t  *srv;
    SSL                      *ssl = (SSL *) ssl_conn;

    srv = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl),
                              ngx_http_certrole_ctx_index);
    if (srv == NULL) {
        return;
    }
    if (srv->prev_info) {
        srv->prev_info(ssl_conn, where, ret);
    }

    if ((where & SSL_CB_HANDSHAKE_DONE) && SSL_session_reused(ssl)
        && SSL_get0_peer_certificate(ssl) != NULL)
    {
        ngx_http_certrole_resumed(ssl, srv);
    }
}


/* Installed on every server's SSL_CTX: a connection made with another
 * server's settings and switched here by SNI must not accept early data
 * either. */
static int
ngx_http_certrole_allow_early_data(SSL *ssl, void *arg)
{
    (void) arg;
    return SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl),
                               ngx_http_certrole_ctx_index) == NULL;
}


const u_char *
ngx_http_certrole_handshake_ident(SSL_CTX *ctx)
{
    ngx_http_certrole_srv_t  *srv;

    srv = SSL_CTX_get_ex_data(ctx, ngx_http_certrole_ctx_index);
    return srv ? srv->id : NULL;
}


static ngx_int_t
ngx_http_certrole_handshake_server(ngx_conf_t *cf,
    ngx_http_certrole_policy_t *policy, ngx_http_ssl_srv_conf_t *sscf)
{
    ngx_http_certrole_srv_t  *srv;
    SSL_CTX                  *ctx = sscf->ssl.ctx;

    srv = ngx_pcalloc(cf->pool, sizeof(ngx_http_certrole_srv_t));
    if (srv == NULL) {
        return NGX_ERROR;
    }
    srv->policy = policy;
    srv->verify = sscf->verify;
    srv->prev_info = SSL_CTX_get_info_callback(ctx);

    if (ngx_http_certrole_session_ident(policy, sscf->verify, srv->id)
            != NGX_OK
        || ngx_http_certrole_session_sid_ctx(ctx, srv->id) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "certrole: cannot set the session id context");
        return NGX_ERROR;
    }

    /* 0-RTT requests would be served on the session's stored verdict,
     * before the resumed session is judged again: no early data where
     * certrole judges (ngx_http_ssl_module enabled it already). */
    if (sscf->early_data) {
        ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                      "certrole: \"ssl_early_data\" is ignored in a server "
                      "whose client certificates certrole verifies");
    }
    if (!SSL_CTX_set_max_early_data(ctx, 0)) {
        return NGX_ERROR;
    }

    if (SSL_CTX_set_ex_data(ctx, ngx_http_certrole_ctx_index, srv) == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "certrole: SSL_CTX_set_ex_data() failed");
        return NGX_ERROR;
    }

    SSL_CTX_set_cert_verify_callback(ctx, ngx_http_certrole_cert_verify, srv);
    SSL_CTX_set_info_callback(ctx, ngx_http_certrole_info);

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, cf->log, 0,
                   "certrole: client certificate verification "
                   "done by certrole in a server block");
    return NGX_OK;
}


ngx_int_t
ngx_http_certrole_handshake_init(ngx_conf_t *cf,
    ngx_http_core_main_conf_t *cmcf)
{
    ngx_http_core_srv_conf_t     **cscfp;
    ngx_http_ssl_srv_conf_t       *sscf;
    ngx_http_certrole_loc_conf_t  *lcf;
    ngx_http_certrole_srv_conf_t  *scf;
    ngx_http_certrole_policy_t    *policy;
    ngx_uint_t                     s;

    /* No ex_data callbacks: see ngx_http_certrole_init_ex_index(). */
    if (ngx_http_certrole_ctx_index == -1) {
        ngx_http_certrole_ctx_index = SSL_CTX_get_ex_new_index(0, NULL, NULL,
                                                               NULL, NULL);
        if (ngx_http_certrole_ctx_index == -1) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "certrole: SSL_CTX_get_ex_new_index() failed");
            return NGX_ERROR;
        }
    }

    cscfp = cmcf->servers.elts;
    for (s = 0; s < cmcf->servers.nelts; s++) {
        sscf = cscfp[s]->ctx->srv_conf[ngx_http_ssl_module.ctx_index];
        lcf = cscfp[s]->ctx->loc_conf[ngx_http_certrole_module.ctx_index];
        scf = cscfp[s]->ctx->srv_conf[ngx_http_certrole_module.ctx_index];

        if (sscf == NULL || sscf->ssl.ctx == NULL) {
            continue;
        }
        SSL_CTX_set_allow_early_data_cb(sscf->ssl.ctx,
                                        ngx_http_certrole_allow_early_data,
                                        NULL);
        if (lcf == NULL || lcf->policy == NULL || sscf->verify == 0) {
            continue;
        }

        /* A server that never turns certrole on keeps nginx's own
         * verification with its ssl_client_certificate: the policy's
         * anchors, meant for other servers, must not admit anyone there.
         * optional_no_ca judges nothing, so there the handshake's verdict
         * is cleared as before (certrole_status, headers). */
        if (!scf->used && sscf->verify != NGX_HTTP_CERTROLE_VERIFY_NO_CA) {
            continue;
        }

        /* The handshake can judge under one policy only: the one every
         * "certrole on" below this server names. Where they differ, or
         * differ from the server's own, each request is judged in the
         * access phase and the handshake stays nginx's. */
        policy = scf->used ? scf->on_policy : lcf->policy;
        if (scf->mixed || policy != lcf->policy) {
            ngx_log_error(NGX_LOG_INFO, cf->log, 0,
                          "certrole: a server turns certrole on under more "
                          "than one policy: its TLS handshake keeps "
                          "nginx's own client certificate verification");
            continue;
        }

        if (ngx_http_certrole_handshake_server(cf, policy, sscf)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}
