/*
 * ngx_http_certrole_module — what a TLS session carries for certrole.
 *
 * In a server whose handshake certrole judges, the session's ticket
 * appdata (serialized with the session by OpenSSL, also in nginx's shared
 * cache, and copied into every new ticket) holds:
 *
 *   magic | verdict identity (32 bytes) | flag | intermediates (DER...)
 *
 * The verdict identity names what judged the chain: the policy file and
 * the ssl_verify_client mode. flag 1: the intermediates the client sent
 * follow (judged again with the leaf when the session is resumed); flag 0:
 * there were too many to keep (the leaf alone is judged then, a refusal
 * rather than a wrong allow).
 *
 * nginx's session id context covers its certificates and CA names, not
 * the policy, so a session made in one server may be resumed in another,
 * and with no SNI the Host header picks a server other than the
 * handshake's. Before anything else runs for a request, its server must
 * be the kind of server the handshake's verdict was made for: one judged
 * by the same policy in the same mode, or, for a session without our
 * data, one where nginx verifies itself. Anything else is a 400.
 */
#include "ngx_http_certrole.h"

#define NGX_HTTP_CERTROLE_SESS_MAGIC      "certrole-session-2"
#define NGX_HTTP_CERTROLE_SESS_MAGIC_LEN  (sizeof(NGX_HTTP_CERTROLE_SESS_MAGIC) - 1)
#define NGX_HTTP_CERTROLE_SESS_HEAD       (NGX_HTTP_CERTROLE_SESS_MAGIC_LEN \
                                           + NGX_HTTP_CERTROLE_ID_LEN + 1)
/* Bounds on what is kept. */
#define NGX_HTTP_CERTROLE_CHAIN_MAX        10
#define NGX_HTTP_CERTROLE_CHAIN_BYTES      16384

/* What a session holds for us. */
#define NGX_HTTP_CERTROLE_SESS_NONE  0   /* nothing: nginx's own verdict */
#define NGX_HTTP_CERTROLE_SESS_OURS  1
#define NGX_HTTP_CERTROLE_SESS_BAD   2   /* anything that does not parse */


ngx_int_t
ngx_http_certrole_session_ident(ngx_http_certrole_policy_t *policy,
    ngx_uint_t verify, u_char *id)
{
    EVP_MD_CTX    *md;
    u_char         mode;
    unsigned int   len;
    int            ok;

    mode = (u_char) verify;
    md = EVP_MD_CTX_new();
    if (md == NULL) {
        return NGX_ERROR;
    }
    ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL)
         && EVP_DigestUpdate(md, "certrole-verdict", sizeof("certrole-verdict"))
         && EVP_DigestUpdate(md, &mode, 1)
         && EVP_DigestUpdate(md, policy->path.data, policy->path.len)
         && EVP_DigestFinal_ex(md, id, &len)
         && len == NGX_HTTP_CERTROLE_ID_LEN;
    EVP_MD_CTX_free(md);
    return ok ? NGX_OK : NGX_ERROR;
}


/* The session id context of a server certrole judges: the verdict
 * identity and the server's certificates, so OpenSSL itself refuses to
 * resume there a session made elsewhere (a full handshake instead). */
ngx_int_t
ngx_http_certrole_session_sid_ctx(SSL_CTX *ctx, const u_char *id)
{
    EVP_MD_CTX    *md;
    X509          *x;
    u_char         buf[EVP_MAX_MD_SIZE], *der;
    unsigned int   len;
    int            ok, n;

    md = EVP_MD_CTX_new();
    if (md == NULL) {
        return NGX_ERROR;
    }
    ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL)
         && EVP_DigestUpdate(md, "certrole-sid", sizeof("certrole-sid"))
         && EVP_DigestUpdate(md, id, NGX_HTTP_CERTROLE_ID_LEN);

    if (ok && SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_FIRST)) {
        do {
            x = SSL_CTX_get0_certificate(ctx);
            der = NULL;
            n = x ? i2d_X509(x, &der) : 0;
            if (n > 0) {
                ok = ok && EVP_DigestUpdate(md, der, n);
            }
            OPENSSL_free(der);
        } while (ok && SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_NEXT));
    }

    ok = ok && EVP_DigestFinal_ex(md, buf, &len)
         && SSL_CTX_set_session_id_context(ctx, buf, len);
    EVP_MD_CTX_free(md);
    return ok ? NGX_OK : NGX_ERROR;
}


/* What a connection's session says, read once per connection: parsing
 * the kept intermediates on every request cost a keepalive request more
 * than a verification does. The session does not change under a
 * connection (nginx refuses renegotiation). */
typedef struct {
    ngx_uint_t       state;
    u_char           id[NGX_HTTP_CERTROLE_ID_LEN];
    STACK_OF(X509)  *chain;     /* a resumed session's kept intermediates,
                                   parsed once, or NULL */
} ngx_http_certrole_session_seen_t;

static int  ngx_http_certrole_session_seen_index = -1;

static ngx_uint_t ngx_http_certrole_session_read(SSL *ssl, u_char *id,
    STACK_OF(X509) **chain);


/* The connection's record of its session, made when missing (state and
 * id then unset): NULL when out of memory. *made says which. */
static ngx_http_certrole_session_seen_t *
ngx_http_certrole_session_seen_get(ngx_connection_t *c, SSL *ssl,
    ngx_uint_t *made)
{
    ngx_http_certrole_session_seen_t  *seen;

    *made = 0;
    if (ngx_http_certrole_session_seen_index < 0) {
        ngx_http_certrole_session_seen_index =
            SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
        if (ngx_http_certrole_session_seen_index < 0) {
            return NULL;
        }
    }
    seen = SSL_get_ex_data(ssl, ngx_http_certrole_session_seen_index);
    if (seen != NULL) {
        return seen;
    }
    seen = ngx_pcalloc(c->pool, sizeof(*seen));
    if (seen == NULL
        || !SSL_set_ex_data(ssl, ngx_http_certrole_session_seen_index, seen))
    {
        return NULL;
    }
    *made = 1;
    return seen;
}


static void
ngx_http_certrole_session_seen_free(void *data)
{
    ngx_http_certrole_session_seen_t  *seen = data;

    sk_X509_pop_free(seen->chain, X509_free);
    seen->chain = NULL;
}


static ngx_http_certrole_session_seen_t *
ngx_http_certrole_session_seen(ngx_connection_t *c, SSL *ssl)
{
    ngx_http_certrole_session_seen_t  *seen;
    ngx_uint_t                         made;
    ngx_pool_cleanup_t                *cln;

    seen = ngx_http_certrole_session_seen_get(c, ssl, &made);
    if (seen == NULL || !made) {
        return seen;
    }
    /* Read once, chain included: the post-read check and, on a resumed
     * connection, the verification both need it. */
    cln = ngx_pool_cleanup_add(c->pool, 0);
    if (cln == NULL) {
        return NULL;
    }
    seen->state = ngx_http_certrole_session_read(ssl, seen->id, &seen->chain);
    cln->handler = ngx_http_certrole_session_seen_free;
    cln->data = seen;
    return seen;
}


/* Stores the verdict identity and, when they fit, the intermediates with
 * the session. NGX_ERROR when the identity could not be stored. */
ngx_int_t
ngx_http_certrole_session_keep(ngx_connection_t *c, SSL *ssl,
    const u_char *id, STACK_OF(X509) *others)
{
    SSL_SESSION  *sess;
    size_t        len;
    u_char       *buf, *p, flag;
    int           i, n, ok;
    ngx_uint_t    made;

    ngx_http_certrole_session_seen_t  *seen;

    sess = SSL_get_session(ssl);
    if (sess == NULL) {
        return NGX_ERROR;
    }

    flag = sk_X509_num(others) <= NGX_HTTP_CERTROLE_CHAIN_MAX;
    len = NGX_HTTP_CERTROLE_SESS_HEAD;
    for (i = 0; flag && i < sk_X509_num(others); i++) {
        n = i2d_X509(sk_X509_value(others, i), NULL);
        if (n <= 0) {
            flag = 0;
            break;
        }
        len += n;
    }
    if (!flag || len > NGX_HTTP_CERTROLE_CHAIN_BYTES) {
        flag = 0;
        len = NGX_HTTP_CERTROLE_SESS_HEAD;
    }

    buf = ngx_alloc(len, c->log);
    if (buf == NULL) {
        return NGX_ERROR;
    }
    p = ngx_cpymem(buf, NGX_HTTP_CERTROLE_SESS_MAGIC,
                   NGX_HTTP_CERTROLE_SESS_MAGIC_LEN);
    p = ngx_cpymem(p, id, NGX_HTTP_CERTROLE_ID_LEN);
    *p++ = flag;
    for (i = 0; flag && i < sk_X509_num(others); i++) {
        (void) i2d_X509(sk_X509_value(others, i), &p);
    }

    ok = SSL_SESSION_set1_ticket_appdata(sess, buf, len);
    ngx_free(buf);
    if (!ok) {
        return NGX_ERROR;
    }

    /* What the post-read check would read back is what was just written:
     * note it for this connection, rather than parse the intermediates
     * again there (a d2i_X509 costs about as much as the verification a
     * returning client's cache hit saves). */
    seen = ngx_http_certrole_session_seen_get(c, ssl, &made);
    if (seen == NULL) {
        return NGX_ERROR;
    }
    seen->state = NGX_HTTP_CERTROLE_SESS_OURS;
    ngx_memcpy(seen->id, id, NGX_HTTP_CERTROLE_ID_LEN);
    return NGX_OK;
}


/* Reads a session's data: its state; with OURS, the identity into id and,
 * when chain is not NULL, the kept intermediates (or NULL when there are
 * none kept; free with sk_X509_pop_free(, X509_free)). */
static ngx_uint_t
ngx_http_certrole_session_read(SSL *ssl, u_char *id, STACK_OF(X509) **chain)
{
    SSL_SESSION          *sess;
    STACK_OF(X509)       *sk;
    const unsigned char  *p, *end;
    void                 *data;
    size_t                len;
    X509                 *x;
    u_char                flag;

    if (chain) {
        *chain = NULL;
    }
    sess = SSL_get0_session(ssl);
    data = NULL;
    len = 0;
    if (sess == NULL || !SSL_SESSION_get0_ticket_appdata(sess, &data, &len)
        || data == NULL || len == 0)
    {
        return NGX_HTTP_CERTROLE_SESS_NONE;
    }
    if (len < NGX_HTTP_CERTROLE_SESS_HEAD
        || ngx_memcmp(data, NGX_HTTP_CERTROLE_SESS_MAGIC,
                      NGX_HTTP_CERTROLE_SESS_MAGIC_LEN) != 0)
    {
        return NGX_HTTP_CERTROLE_SESS_BAD;
    }

    p = (const unsigned char *) data + NGX_HTTP_CERTROLE_SESS_MAGIC_LEN;
    ngx_memcpy(id, p, NGX_HTTP_CERTROLE_ID_LEN);
    flag = p[NGX_HTTP_CERTROLE_ID_LEN];
    p += NGX_HTTP_CERTROLE_ID_LEN + 1;
    end = (const unsigned char *) data + len;
    if (flag > 1 || (flag == 0 && p != end)) {
        return NGX_HTTP_CERTROLE_SESS_BAD;
    }

    /* Parsed in full also when the chain is not wanted: what does not
     * parse exactly is refused. */
    sk = sk_X509_new_null();
    if (sk == NULL) {
        return NGX_HTTP_CERTROLE_SESS_BAD;
    }
    while (p < end) {
        x = NULL;
        if (sk_X509_num(sk) >= NGX_HTTP_CERTROLE_CHAIN_MAX
            || (x = d2i_X509(NULL, &p, end - p)) == NULL
            || !sk_X509_push(sk, x))
        {
            X509_free(x);
            sk_X509_pop_free(sk, X509_free);
            return NGX_HTTP_CERTROLE_SESS_BAD;
        }
    }

    if (chain && flag == 1) {
        *chain = sk;
    } else {
        sk_X509_pop_free(sk, X509_free);
    }
    return NGX_HTTP_CERTROLE_SESS_OURS;
}


STACK_OF(X509) *
ngx_http_certrole_session_chain(SSL *ssl)
{
    ngx_connection_t                  *c;
    ngx_http_certrole_session_seen_t  *seen;

    c = ngx_ssl_get_connection(ssl);
    seen = c ? ngx_http_certrole_session_seen(c, ssl) : NULL;
    if (seen == NULL || seen->state != NGX_HTTP_CERTROLE_SESS_OURS
        || seen->chain == NULL)
    {
        return NULL;
    }
    return X509_chain_up_ref(seen->chain);   /* the caller's to free */
}


/* Post-read phase: the request's server must be one the connection's
 * verdict was made for. */
ngx_int_t
ngx_http_certrole_session_check(ngx_http_request_t *r)
{
    ngx_http_ssl_srv_conf_t  *sscf;
    ngx_connection_t         *c;
    SSL                      *ssl;
    const u_char             *want;
    ngx_http_certrole_session_seen_t  *seen;

    sscf = ngx_http_get_module_srv_conf(r, ngx_http_ssl_module);
    if (sscf == NULL || sscf->verify == 0 || r->connection->ssl == NULL)
    {
        return NGX_DECLINED;
    }
    c = ngx_http_certrole_tls_connection(r);
    if (c->ssl == NULL) {
        return NGX_DECLINED;
    }
    ssl = c->ssl->connection;
    if (SSL_get0_peer_certificate(ssl) == NULL) {
        return NGX_DECLINED;
    }

    want = sscf->ssl.ctx ? ngx_http_certrole_handshake_ident(sscf->ssl.ctx)
                         : NULL;
    seen = ngx_http_certrole_session_seen(c, ssl);
    if (seen == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;   /* never an unchecked pass */
    }

    if ((want == NULL && seen->state == NGX_HTTP_CERTROLE_SESS_NONE)
        || (want != NULL && seen->state == NGX_HTTP_CERTROLE_SESS_OURS
            && ngx_memcmp(want, seen->id, NGX_HTTP_CERTROLE_ID_LEN) == 0))
    {
        return NGX_DECLINED;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "certrole: the client certificate of this TLS session "
                  "was judged for another server (%s session): refused",
                  SSL_session_reused(ssl) ? "resumed" : "new");
    return NGX_HTTP_BAD_REQUEST;
}
