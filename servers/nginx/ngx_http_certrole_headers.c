/*
 * ngx_http_certrole_module — request headers: client-sent copies of the
 * headers certrole vouches for are dropped, and for allowed requests the
 * RFC 9440 Client-Cert / Client-Cert-Chain headers plus X-Certrole-User /
 * X-Certrole-Roles are added for the upstream. Values are computed once
 * per connection and cached with the verification result.
 */
#include "ngx_http_certrole.h"
#include <openssl/x509.h>

/* Headers a client must never be able to inject (compared lower-case,
 * '_' counted as '-' because CGI-style gateways fold both to '_'). */
static const char  *ngx_http_certrole_strip_exact[] = {
    "client-cert", "client-cert-chain", NULL
};
#define NGX_HTTP_CERTROLE_STRIP_PREFIX  "x-certrole-"


static ngx_uint_t
ngx_http_certrole_is_reserved(ngx_table_elt_t *h)
{
    u_char       buf[32];
    size_t       i, plen;
    const char  **s;

    plen = sizeof(NGX_HTTP_CERTROLE_STRIP_PREFIX) - 1;
    if (h->key.len < plen) {
        return 0;
    }

    for (i = 0; i < h->key.len && i < sizeof(buf); i++) {
        buf[i] = ngx_tolower(h->key.data[i]);
        if (buf[i] == '_') {
            buf[i] = '-';
        }
    }

    if (ngx_strncmp(buf, NGX_HTTP_CERTROLE_STRIP_PREFIX, plen) == 0) {
        return 1;
    }

    for (s = ngx_http_certrole_strip_exact; *s; s++) {
        if (h->key.len == ngx_strlen(*s)
            && ngx_strncmp(buf, *s, h->key.len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/* Whether the client sent any header certrole owns. */
static ngx_uint_t
ngx_http_certrole_has_reserved(ngx_http_request_t *r)
{
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;
    ngx_uint_t        i;

    part = &r->headers_in.headers.part;
    h = part->elts;
    for (i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }
            part = part->next;
            h = part->elts;
            i = 0;
            if (part->nelts == 0) {
                continue;
            }
        }
        if (ngx_http_certrole_is_reserved(&h[i])) {
            return 1;
        }
    }
    return 0;
}


/* The client's headers other than certrole's, in order, into keep (an
 * array of ngx_table_elt_t made here); each dropped one is logged. */
static ngx_int_t
ngx_http_certrole_keep_others(ngx_http_request_t *r, ngx_array_t *keep)
{
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *nh;
    ngx_uint_t        i;

    if (ngx_array_init(keep, r->pool, 20, sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    part = &r->headers_in.headers.part;
    h = part->elts;
    for (i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }
            part = part->next;
            h = part->elts;
            i = 0;
            if (part->nelts == 0) {
                continue;
            }
        }
        if (ngx_http_certrole_is_reserved(&h[i])) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "certrole: dropped client header \"%V\"",
                          &h[i].key);
            continue;
        }
        nh = ngx_array_push(keep);
        if (nh == NULL) {
            return NGX_ERROR;
        }
        *nh = h[i];
    }
    return NGX_OK;
}


/* Removes every client-sent header certrole owns. The list is rebuilt only
 * when such a header is present, so the common case allocates nothing. */
ngx_int_t
ngx_http_certrole_strip(ngx_http_request_t *r)
{
    ngx_array_t       keep;
    ngx_table_elt_t  *h, *nh;
    ngx_uint_t        i;

    if (!ngx_http_certrole_has_reserved(r)) {
        return NGX_OK;
    }

    /* Keep the others in order, then refill the list in place (an
     * ngx_list_t must not be copied: its "last" points into itself). The
     * old elements stay valid in the pool for the pointers in headers_in. */
    if (ngx_http_certrole_keep_others(r, &keep) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_list_init(&r->headers_in.headers, r->pool, keep.nelts + 8,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    h = keep.elts;
    for (i = 0; i < keep.nelts; i++) {
        nh = ngx_list_push(&r->headers_in.headers);
        if (nh == NULL) {
            return NGX_ERROR;
        }
        *nh = h[i];
    }

    return NGX_OK;
}


/* Length of ":<base64 DER>:" (an RFC 8941 byte sequence), 0 on error. */
static size_t
ngx_http_certrole_sf_len(X509 *x)
{
    int  len;

    len = i2d_X509(x, NULL);
    return len > 0 ? ngx_base64_encoded_length((size_t) len) + 2 : 0;
}


/* Writes ":<base64 DER>:" at p (room from ngx_http_certrole_sf_len) and
 * returns the end, NULL on error. */
static u_char *
ngx_http_certrole_sf_write(ngx_pool_t *tmp, X509 *x, u_char *p)
{
    int         len;
    u_char     *der, *q;
    ngx_str_t   src, dst;

    len = i2d_X509(x, NULL);
    if (len <= 0) {
        return NULL;
    }
    der = ngx_pnalloc(tmp, len);
    if (der == NULL) {
        return NULL;
    }
    q = der;
    if (i2d_X509(x, &q) != len) {
        return NULL;
    }

    src.data = der;
    src.len = len;
    *p++ = ':';
    dst.data = p;
    ngx_encode_base64(&dst, &src);
    p += dst.len;
    *p++ = ':';
    return p;
}


/* Copies s into the pool without control characters, so a realm value can
 * never split a header. */
static void
ngx_http_certrole_append_clean(u_char **p, const char *s)
{
    for (; *s; s++) {
        if ((u_char) *s >= 0x20 && (u_char) *s != 0x7f) {
            *(*p)++ = (u_char) *s;
        }
    }
}


static ngx_int_t
ngx_http_certrole_prepare_export(ngx_http_request_t *r,
    ngx_http_certrole_entry_t *e)
{
    STACK_OF(X509)  *sk;
    X509            *leaf, *x;
    size_t           len, i, n, one;
    u_char          *p;

    leaf = certrole_result_leaf(e->res);
    if (leaf) {
        len = ngx_http_certrole_sf_len(leaf);
        e->cert.data = len ? ngx_pnalloc(e->pool, len) : NULL;
        if (e->cert.data == NULL) {
            return NGX_ERROR;
        }
        p = ngx_http_certrole_sf_write(r->pool, leaf, e->cert.data);
        if (p == NULL) {
            return NGX_ERROR;
        }
        e->cert.len = p - e->cert.data;
    }

    /* Client-Cert-Chain: what the peer sent after its leaf, in order. */
    sk = SSL_get_peer_cert_chain(
             ngx_http_certrole_tls_connection(r)->ssl->connection);
    n = sk ? (size_t) sk_X509_num(sk) : 0;
    len = 0;
    for (i = 0; i < n; i++) {
        x = sk_X509_value(sk, (int) i);
        if (leaf && X509_cmp(x, leaf) == 0) {
            continue;
        }
        one = ngx_http_certrole_sf_len(x);
        if (one == 0) {
            return NGX_ERROR;
        }
        len += one + 2;
    }
    if (len) {
        e->chain.data = ngx_pnalloc(e->pool, len);
        if (e->chain.data == NULL) {
            return NGX_ERROR;
        }
        p = e->chain.data;
        for (i = 0; i < n; i++) {
            x = sk_X509_value(sk, (int) i);
            if (leaf && X509_cmp(x, leaf) == 0) {
                continue;
            }
            if (p != e->chain.data) {
                *p++ = ',';
                *p++ = ' ';
            }
            p = ngx_http_certrole_sf_write(r->pool, x, p);
            if (p == NULL) {
                return NGX_ERROR;
            }
        }
        e->chain.len = p - e->chain.data;
    }

    n = certrole_result_role_count(e->res);
    len = 0;
    for (i = 0; i < n; i++) {
        len += ngx_strlen(certrole_result_role(e->res, i)) + 1;
    }
    e->roles.data = ngx_pnalloc(e->pool, len + 1);
    if (e->roles.data == NULL) {
        return NGX_ERROR;
    }
    p = e->roles.data;
    for (i = 0; i < n; i++) {
        if (i) {
            *p++ = ',';
        }
        ngx_http_certrole_append_clean(&p, certrole_result_role(e->res, i));
    }
    e->roles.len = p - e->roles.data;

    e->exported = 1;
    return NGX_OK;
}


static ngx_int_t
ngx_http_certrole_add_header(ngx_http_request_t *r, const char *name,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;
    size_t            len;

    if (value->len == 0) {
        return NGX_OK;
    }

    h = ngx_list_push(&r->headers_in.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    len = ngx_strlen(name);
    h->key.data = (u_char *) name;
    h->key.len = len;
    h->value = *value;
    h->lowcase_key = ngx_pnalloc(r->pool, len);
    if (h->lowcase_key == NULL) {
        return NGX_ERROR;
    }
    h->hash = ngx_hash_strlow(h->lowcase_key, h->key.data, len);
    return NGX_OK;
}


ngx_int_t
ngx_http_certrole_export(ngx_http_request_t *r, ngx_http_certrole_entry_t *e)
{
    ngx_str_t   user;
    const char *u;
    u_char     *p;

    if (!e->exported && ngx_http_certrole_prepare_export(r, e) != NGX_OK) {
        return NGX_ERROR;
    }

    u = certrole_result_user(e->res);
    user.len = 0;
    if (u) {
        user.data = ngx_pnalloc(r->pool, ngx_strlen(u) + 1);
        if (user.data == NULL) {
            return NGX_ERROR;
        }
        p = user.data;
        ngx_http_certrole_append_clean(&p, u);
        user.len = p - user.data;
    }

    if (ngx_http_certrole_add_header(r, "Client-Cert", &e->cert) != NGX_OK
        || ngx_http_certrole_add_header(r, "Client-Cert-Chain", &e->chain)
           != NGX_OK
        || ngx_http_certrole_add_header(r, "X-Certrole-User", &user) != NGX_OK
        || ngx_http_certrole_add_header(r, "X-Certrole-Roles", &e->roles)
           != NGX_OK)
    {
        return NGX_ERROR;
    }
    return NGX_OK;
}
