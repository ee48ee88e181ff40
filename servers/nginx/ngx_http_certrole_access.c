/*
 * ngx_http_certrole_module — the access-phase handler.
 *
 * Per TLS connection the chain is verified and mapped once, normally in
 * the handshake (ngx_http_certrole_handshake.c): the result is kept in a
 * small cache hung on the SSL object (ex_data) and freed with the
 * connection's pool, so keepalive requests and HTTP/2 streams on the same
 * connection only run certrole_authorize_target(). The cache is keyed by the
 * certrole_ctx too, because requests on one connection may reach server
 * blocks with different policies (Host header vs SNI).
 * Header stripping and export: ngx_http_certrole_headers.c.
 */
#include "ngx_http_certrole.h"

/* Distinct policies one connection may meet before we stop caching. */
#define NGX_HTTP_CERTROLE_CACHE_MAX  4


typedef struct {
    ngx_uint_t                 n;
    ngx_http_certrole_entry_t  e[NGX_HTTP_CERTROLE_CACHE_MAX];
} ngx_http_certrole_conn_t;

static int  ngx_http_certrole_ex_index = -1;


/* The connection that owns the TLS session: for HTTP/2 streams
 * r->connection is a per-stream fake, and for HTTP/3 a QUIC stream that
 * shares its parent's SSL object; both pools die with the stream, so the
 * cache hung on the SSL object must live in the parent's. */
ngx_connection_t *
ngx_http_certrole_tls_connection(ngx_http_request_t *r)
{
#if (NGX_QUIC)
    if (r->connection->quic) {
        return r->connection->quic->parent;
    }
#endif
#if (NGX_HTTP_V2)
    if (r->stream) {
        return r->stream->connection->connection;
    }
#endif
    return r->connection;
}



ngx_int_t
ngx_http_certrole_init_ex_index(ngx_log_t *log)
{
    /* No ex_data callbacks on purpose: a function pointer registered with
     * OpenSSL would dangle if the module were unloaded on reload. The data
     * is freed by a pool cleanup instead. */
    if (ngx_http_certrole_ex_index == -1) {
        ngx_http_certrole_ex_index = SSL_get_ex_new_index(0, NULL, NULL,
                                                          NULL, NULL);
        if (ngx_http_certrole_ex_index == -1) {
            ngx_log_error(NGX_LOG_EMERG, log, 0,
                          "certrole: SSL_get_ex_new_index() failed");
            return NGX_ERROR;
        }
    }
    return NGX_OK;
}


static void
ngx_http_certrole_conn_cleanup(void *data)
{
    ngx_http_certrole_conn_t  *cc = data;
    ngx_uint_t                 i;

    /* Runs when the connection's pool is destroyed; the SSL object may be
     * gone already, so only our own memory is touched. */
    for (i = 0; i < cc->n; i++) {
        certrole_result_free(cc->e[i].res);
        cc->e[i].res = NULL;
    }
    cc->n = 0;
}


static void
ngx_http_certrole_free_result(void *data)
{
    certrole_result_free(data);
}


/* The client's address, for the audit line of every request on this
 * connection (the library escapes it). */
static void
ngx_http_certrole_set_peer(ngx_connection_t *c, certrole_result *res)
{
    char  peer[NGX_SOCKADDR_STRLEN + 1];

    if (c->addr_text.len < sizeof(peer)) {
        ngx_memcpy(peer, c->addr_text.data, c->addr_text.len);
        peer[c->addr_text.len] = '\0';
        (void) certrole_result_set_peer(res, peer);
    }
}


/* Fills an entry for res. The pool holds the entry's lazy values and must
 * live as long as res: the connection's for a cached entry, the request's
 * for one kept for a single request (its result is freed with that pool). */
static void
ngx_http_certrole_entry_init(ngx_http_certrole_entry_t *e, ngx_connection_t *c,
    certrole_ctx *ctx, certrole_result *res, ngx_pool_t *pool)
{
    ngx_http_certrole_set_peer(c, res);

    ngx_memzero(e, sizeof(*e));
    e->ctx = ctx;
    e->res = res;
    e->pool = pool;
}


ngx_http_certrole_entry_t *
ngx_http_certrole_conn_find(SSL *ssl, certrole_ctx *ctx)
{
    ngx_http_certrole_conn_t  *cc;
    ngx_uint_t                 i;

    cc = SSL_get_ex_data(ssl, ngx_http_certrole_ex_index);
    if (cc) {
        for (i = 0; i < cc->n; i++) {
            if (cc->e[i].ctx == ctx) {
                return &cc->e[i];
            }
        }
    }
    return NULL;
}


ngx_http_certrole_entry_t *
ngx_http_certrole_conn_keep(ngx_connection_t *c, SSL *ssl, certrole_ctx *ctx,
    certrole_result *res)
{
    ngx_http_certrole_conn_t   *cc;
    ngx_http_certrole_entry_t  *e;
    ngx_pool_cleanup_t         *cln;

    cc = SSL_get_ex_data(ssl, ngx_http_certrole_ex_index);
    if (cc == NULL) {
        cc = ngx_pcalloc(c->pool, sizeof(ngx_http_certrole_conn_t));
        cln = ngx_pool_cleanup_add(c->pool, 0);
        if (cc == NULL || cln == NULL
            || !SSL_set_ex_data(ssl, ngx_http_certrole_ex_index, cc))
        {
            return NULL;
        }
        cln->handler = ngx_http_certrole_conn_cleanup;
        cln->data = cc;
    }

    /* A second verification on one SSL (renegotiation) replaces the
     * first: one entry per policy, the newest verdict. */
    e = ngx_http_certrole_conn_find(ssl, ctx);
    if (e != NULL) {
        certrole_result_free(e->res);
    } else if (cc->n >= NGX_HTTP_CERTROLE_CACHE_MAX) {
        return NULL;
    } else {
        e = &cc->e[cc->n++];
    }

    ngx_http_certrole_entry_init(e, c, ctx, res, c->pool);
    return e;
}


/* Returns the connection's entry for this policy: the handshake's, or a
 * new one (a request for a server other than the handshake's, a client
 * that sent no certificate). NULL on no memory. Never returns an entry
 * without a result. */
static ngx_http_certrole_entry_t *
ngx_http_certrole_lookup(ngx_http_request_t *r, certrole_ctx *ctx,
    ngx_http_certrole_entry_t *tmp)
{
    ngx_connection_t           *c;
    SSL                        *ssl;
    ngx_http_certrole_entry_t  *e;
    ngx_pool_cleanup_t         *cln;
    certrole_result            *res;

    c = ngx_http_certrole_tls_connection(r);
    ssl = c->ssl->connection;

    e = ngx_http_certrole_conn_find(ssl, ctx);
    if (e) {
        return e;
    }

    res = NULL;
    (void) ngx_http_certrole_verify_conn(ctx, ssl, &res);
    if (res == NULL) {
        return NULL;
    }

    ngx_http_certrole_log_verified(c, "", res);

    e = ngx_http_certrole_conn_keep(c, ssl, ctx, res);
    if (e) {
        return e;
    }

    /* Pathological: more policies than slots (or no memory for the
     * cache). Keep the result for this request only. */
    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        certrole_result_free(res);
        return NULL;
    }
    cln->handler = ngx_http_certrole_free_result;
    cln->data = res;
    ngx_http_certrole_entry_init(tmp, c, ctx, res, r->pool);
    return tmp;
}


static char *
ngx_http_certrole_cstr(ngx_pool_t *pool, ngx_str_t *s)
{
    char  *p;

    p = ngx_pnalloc(pool, s->len + 1);
    if (p) {
        ngx_memcpy(p, s->data, s->len);
        p[s->len] = '\0';
    }
    return p;
}


/*
 * The policy's rules on this request. The library judges what the
 * backend will route: while nginx has not rewritten the request, that is
 * the request target as the client sent it (proxy_pass without a URI
 * forwards exactly these bytes), decoded once by the library; $uri is
 * already decoded, and decoding it again would let "%252e%252e" become
 * "..". After a rewrite or an internal redirect the target no longer
 * describes the request, and the backend gets r->uri: then that,
 * already decoded. A NUL inside either cannot be passed on as a C
 * string, so it is refused here.
 */
static certrole_code
ngx_http_certrole_rules(ngx_http_request_t *r, certrole_ctx *ctx,
    certrole_result *res, ngx_http_certrole_loc_conf_t *lcf)
{
    ngx_str_t            *t;
    certrole_code         code;
    certrole_authz       *authz;
    certrole_target_form  form;
    char                 *method, *target, **roles;
    ngx_uint_t            i;

    if (r->valid_unparsed_uri) {
        t = &r->unparsed_uri;
        form = CERTROLE_TARGET_RAW;
    } else {
        t = &r->uri;
        form = CERTROLE_TARGET_DECODED;
    }

    if (ngx_strlchr(t->data, t->data + t->len, '\0') != NULL) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "certrole: NUL byte in the request target");
        return CERTROLE_E_FORBIDDEN;
    }

    method = ngx_http_certrole_cstr(r->pool, &r->method_name);
    target = ngx_http_certrole_cstr(r->pool, t);
    if (method == NULL || target == NULL) {
        return CERTROLE_E_NO_MEMORY;
    }

    authz = NULL;
    code = certrole_authorize_target(ctx, res, method, target, form, &authz);
    if (code != CERTROLE_OK && authz != NULL) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "certrole: %s", certrole_authz_reason(authz));
    }
    certrole_authz_free(authz);

    if (code == CERTROLE_OK && lcf->require && lcf->require->nelts) {
        code = CERTROLE_E_FORBIDDEN;
        roles = lcf->require->elts;
        for (i = 0; i < lcf->require->nelts; i++) {
            if (certrole_result_has_role(res, roles[i])) {
                code = CERTROLE_OK;
                break;
            }
        }
    }
    return code;
}


/* Logs a refusal and returns its status: 401 without a certificate,
 * 403 otherwise. */
static ngx_int_t
ngx_http_certrole_denied(ngx_http_request_t *r,
    ngx_http_certrole_loc_conf_t *lcf, ngx_http_certrole_entry_t *e,
    certrole_code code)
{
    ngx_int_t  status;

    status = (code == CERTROLE_E_NO_CERTIFICATE) ? NGX_HTTP_UNAUTHORIZED
                                                 : NGX_HTTP_FORBIDDEN;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "certrole: denied \"%V %V\" code=%s status=%i: %s",
                  &r->method_name, &r->uri, certrole_code_name(code),
                  status,
                  e ? certrole_result_message(e->res)
                    : "the connection is not TLS");

    if (e && code == CERTROLE_E_FORBIDDEN && lcf->require
        && certrole_result_code(e->res) == CERTROLE_OK)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "certrole: the location requires one of its "
                      "certrole_require roles");
    }

    return status;
}


ngx_int_t
ngx_http_certrole_access_handler(ngx_http_request_t *r)
{
    ngx_http_certrole_loc_conf_t  *lcf;
    ngx_http_certrole_req_ctx_t   *rctx;
    ngx_http_certrole_entry_t     *e, tmp;
    certrole_ctx                  *ctx;
    certrole_code                  code;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_certrole_module);
    if (!lcf->enable || lcf->policy == NULL) {
        /* Where certrole is off but its headers are exported elsewhere in
         * scope, a backend may still trust them: drop client copies. */
        if (lcf->export_headers && ngx_http_certrole_strip(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        return NGX_DECLINED;
    }

    /* Always, also when the request is about to be refused: nothing the
     * client sent under our names may travel further. */
    if (ngx_http_certrole_strip(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rctx = ngx_http_get_module_ctx(r, ngx_http_certrole_module);
    if (rctx == NULL) {
        rctx = ngx_pcalloc(r->pool, sizeof(ngx_http_certrole_req_ctx_t));
        if (rctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        ngx_http_set_ctx(r, rctx, ngx_http_certrole_module);
    }
    rctx->res = NULL;
    rctx->code = CERTROLE_E_NO_CERTIFICATE;

    ctx = lcf->policy->ctx;
    e = NULL;

    if (r->connection->ssl == NULL
        || ngx_http_certrole_tls_connection(r)->ssl == NULL)
    {
        code = CERTROLE_E_NO_CERTIFICATE;     /* plain HTTP */

    } else {
        e = ngx_http_certrole_lookup(r, ctx, &tmp);
        if (e == NULL) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "certrole: verification failed: out of memory");
            rctx->code = CERTROLE_E_NO_MEMORY;
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        rctx->res = e->res;

        code = ngx_http_certrole_rules(r, ctx, e->res, lcf);
        if (code == CERTROLE_E_NO_MEMORY) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    rctx->code = code;

    if (code == CERTROLE_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "certrole: allowed \"%V %V\" user=\"%s\" code=ok",
                      &r->method_name, &r->uri,
                      certrole_result_user(e->res)
                          ? certrole_result_user(e->res) : "");

        if (lcf->export_headers
            && ngx_http_certrole_export(r, e) != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        return NGX_OK;
    }

    return ngx_http_certrole_denied(r, lcf, e, code);
}
