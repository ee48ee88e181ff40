/*
 * ngx_http_certrole_module — the variables.
 *
 *   $certrole_user $certrole_roles $certrole_code $certrole_subject
 *   $certrole_issuer $certrole_serial $certrole_fingerprint $certrole_ski
 *   $certrole_spiffe_id
 *   $certrole_san_email $certrole_san_dns $certrole_san_uri $certrole_san_ip
 *   $certrole_san_upn
 *
 * A certificate may carry several names of one type, and their text may
 * hold commas, quotes or bytes that are not UTF-8. So each
 * $certrole_san_TYPE is every such name as an RFC 9651 structured-field
 * List, which reads one way only: a String ("...") for printable ASCII, a
 * Display String (%"...") for other UTF-8, a Byte Sequence (:base64:) for
 * anything else.
 */
#include "ngx_http_certrole.h"


static ngx_int_t ngx_http_certrole_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


enum {
    NGX_HTTP_CERTROLE_VAR_USER,
    NGX_HTTP_CERTROLE_VAR_ROLES,
    NGX_HTTP_CERTROLE_VAR_CODE,
    NGX_HTTP_CERTROLE_VAR_SUBJECT,
    NGX_HTTP_CERTROLE_VAR_SPIFFE_ID,
    NGX_HTTP_CERTROLE_VAR_SKI,
    NGX_HTTP_CERTROLE_VAR_ISSUER,
    NGX_HTTP_CERTROLE_VAR_SERIAL,
    NGX_HTTP_CERTROLE_VAR_FINGERPRINT,
    /* every subjectAltName of one type, as a structured-field List */
    NGX_HTTP_CERTROLE_VAR_SAN = 0x100   /* + certrole_san_type */
};

static ngx_http_variable_t  ngx_http_certrole_vars[] = {

    { ngx_string("certrole_user"), NULL, ngx_http_certrole_variable,
      NGX_HTTP_CERTROLE_VAR_USER, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("certrole_roles"), NULL, ngx_http_certrole_variable,
      NGX_HTTP_CERTROLE_VAR_ROLES, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("certrole_code"), NULL, ngx_http_certrole_variable,
      NGX_HTTP_CERTROLE_VAR_CODE, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("certrole_subject"), NULL, ngx_http_certrole_variable,
      NGX_HTTP_CERTROLE_VAR_SUBJECT, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("certrole_spiffe_id"), NULL, ngx_http_certrole_variable,
      NGX_HTTP_CERTROLE_VAR_SPIFFE_ID, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("certrole_ski"), NULL, ngx_http_certrole_variable,
      NGX_HTTP_CERTROLE_VAR_SKI, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("certrole_issuer"), NULL, ngx_http_certrole_variable,
      NGX_HTTP_CERTROLE_VAR_ISSUER, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("certrole_serial"), NULL, ngx_http_certrole_variable,
      NGX_HTTP_CERTROLE_VAR_SERIAL, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("certrole_fingerprint"), NULL, ngx_http_certrole_variable,
      NGX_HTTP_CERTROLE_VAR_FINGERPRINT, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("certrole_san_email"), NULL, ngx_http_certrole_variable,
      NGX_HTTP_CERTROLE_VAR_SAN + CERTROLE_SAN_EMAIL, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("certrole_san_dns"), NULL, ngx_http_certrole_variable,
      NGX_HTTP_CERTROLE_VAR_SAN + CERTROLE_SAN_DNS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("certrole_san_uri"), NULL, ngx_http_certrole_variable,
      NGX_HTTP_CERTROLE_VAR_SAN + CERTROLE_SAN_URI, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("certrole_san_ip"), NULL, ngx_http_certrole_variable,
      NGX_HTTP_CERTROLE_VAR_SAN + CERTROLE_SAN_IP, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("certrole_san_upn"), NULL, ngx_http_certrole_variable,
      NGX_HTTP_CERTROLE_VAR_SAN + CERTROLE_SAN_UPN, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};



/* 1 when s[0..n) is valid UTF-8 (no overlong forms, no surrogates). */
static ngx_uint_t
ngx_http_certrole_utf8(const u_char *s, size_t n)
{
    const u_char  *p, *end;
    uint32_t       c;

    p = s;
    end = s + n;
    while (p < end) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        c = ngx_utf8_decode((u_char **) &p, end - p);
        if (c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
            return 0;
        }
    }
    return 1;
}


/* Appends one List member for s[0..n) at p; returns the new end. The
 * caller reserved 3 * n + 8 bytes. */
static u_char *
ngx_http_certrole_sf_item(u_char *p, const u_char *s, size_t n)
{
    static const u_char  hex[] = "0123456789abcdef";
    ngx_str_t            src, dst;
    size_t               i;
    ngx_uint_t           ascii;

    ascii = 1;
    for (i = 0; i < n; i++) {
        if (s[i] < 0x20 || s[i] > 0x7e) {
            ascii = 0;
            break;
        }
    }

    if (ascii) {
        *p++ = '"';
        for (i = 0; i < n; i++) {
            if (s[i] == '"' || s[i] == '\\') {
                *p++ = '\\';
            }
            *p++ = s[i];
        }
        *p++ = '"';
        return p;
    }

    if (ngx_http_certrole_utf8(s, n)) {
        *p++ = '%';
        *p++ = '"';
        for (i = 0; i < n; i++) {
            if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '%' || s[i] == '"') {
                *p++ = '%';
                *p++ = hex[s[i] >> 4];
                *p++ = hex[s[i] & 0xf];
            } else {
                *p++ = s[i];
            }
        }
        *p++ = '"';
        return p;
    }

    *p++ = ':';
    src.data = (u_char *) s;
    src.len = n;
    dst.data = p;
    ngx_encode_base64(&dst, &src);
    p += dst.len;
    *p++ = ':';
    return p;
}


/* Every subjectAltName of type t, as a structured-field List (empty when
 * there is none). */
static ngx_int_t
ngx_http_certrole_san_list(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    const certrole_result *res, certrole_san_type t)
{
    size_t             i, n, len;
    certrole_san_type  ti;
    const char        *s;
    u_char            *p;

    n = certrole_result_san_count(res);
    len = 0;
    for (i = 0; i < n; i++) {
        s = certrole_result_san(res, i, &ti);
        if (s != NULL && ti == t) {
            len += 3 * ngx_strlen(s) + 8;
        }
    }

    p = ngx_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }
    v->data = p;

    for (i = 0; i < n; i++) {
        s = certrole_result_san(res, i, &ti);
        if (s == NULL || ti != t) {
            continue;
        }
        if (p != v->data) {
            *p++ = ',';
            *p++ = ' ';
        }
        p = ngx_http_certrole_sf_item(p, (const u_char *) s, ngx_strlen(s));
    }

    v->len = p - v->data;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    return NGX_OK;
}


static void
ngx_http_certrole_set_value(ngx_http_variable_value_t *v, const char *s)
{
    v->data = (u_char *) s;
    v->len = ngx_strlen(s);
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
}


/* A request nginx refused before the access phase (its 400 for a chain
 * the handshake's verification refused): the variables describe the
 * handshake's refusal, where certrole is on. Only a refusal: a peer the
 * handshake accepted is not yet allowed before the access phase ran. */
static ngx_http_certrole_req_ctx_t *
ngx_http_certrole_handshake_verdict(ngx_http_request_t *r)
{
    ngx_http_certrole_loc_conf_t  *lcf;
    ngx_http_certrole_req_ctx_t   *rctx;
    ngx_http_certrole_entry_t     *e;
    ngx_connection_t              *c;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_certrole_module);
    c = ngx_http_certrole_tls_connection(r);
    if (lcf == NULL || !lcf->enable || lcf->policy == NULL
        || c->ssl == NULL)
    {
        return NULL;
    }

    e = ngx_http_certrole_conn_find(c->ssl->connection, lcf->policy->ctx);
    if (e == NULL || certrole_result_code(e->res) == CERTROLE_OK) {
        return NULL;
    }

    rctx = ngx_pcalloc(r->pool, sizeof(ngx_http_certrole_req_ctx_t));
    if (rctx == NULL) {
        return NULL;
    }
    rctx->res = e->res;
    rctx->code = certrole_result_code(e->res);
    return rctx;
}


/* The verdict's field a variable names (data), or NULL. */
static const char *
ngx_http_certrole_field(ngx_http_certrole_req_ctx_t *rctx, uintptr_t data)
{
    const certrole_result  *res;

    res = rctx->res;
    if (data == NGX_HTTP_CERTROLE_VAR_CODE) {
        return certrole_code_name(rctx->code);
    }
    if (res == NULL) {
        return NULL;
    }

    switch (data) {
    case NGX_HTTP_CERTROLE_VAR_USER:        return certrole_result_user(res);
    case NGX_HTTP_CERTROLE_VAR_SUBJECT:     return certrole_result_subject(res);
    case NGX_HTTP_CERTROLE_VAR_SPIFFE_ID:   return certrole_result_spiffe_id(res);
    case NGX_HTTP_CERTROLE_VAR_SKI:         return certrole_result_ski(res);
    case NGX_HTTP_CERTROLE_VAR_ISSUER:      return certrole_result_issuer(res);
    case NGX_HTTP_CERTROLE_VAR_SERIAL:      return certrole_result_serial(res);
    case NGX_HTTP_CERTROLE_VAR_FINGERPRINT: return certrole_result_fingerprint(res);
    default:                                return NULL;
    }
}


/* $certrole_roles: the roles, comma-separated. */
static ngx_int_t
ngx_http_certrole_roles_value(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, const certrole_result *res)
{
    size_t   i, n, len;
    u_char  *p;

    n = certrole_result_role_count(res);
    len = 0;
    for (i = 0; i < n; i++) {
        len += ngx_strlen(certrole_result_role(res, i)) + 1;
    }
    p = ngx_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }
    v->data = p;
    for (i = 0; i < n; i++) {
        if (i) {
            *p++ = ',';
        }
        p = ngx_cpymem(p, certrole_result_role(res, i),
                       ngx_strlen(certrole_result_role(res, i)));
    }
    v->len = p - v->data;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    return NGX_OK;
}


static ngx_int_t
ngx_http_certrole_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_certrole_req_ctx_t  *rctx;
    const char                   *s;

    rctx = ngx_http_get_module_ctx(r, ngx_http_certrole_module);
    if (rctx == NULL) {
        rctx = ngx_http_certrole_handshake_verdict(r);
    }
    if (rctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    if (data > NGX_HTTP_CERTROLE_VAR_SAN) {
        if (rctx->res == NULL) {
            v->not_found = 1;
            return NGX_OK;
        }
        return ngx_http_certrole_san_list(r, v, rctx->res,
            (certrole_san_type) (data - NGX_HTTP_CERTROLE_VAR_SAN));
    }

    if (data == NGX_HTTP_CERTROLE_VAR_ROLES && rctx->res != NULL) {
        return ngx_http_certrole_roles_value(r, v, rctx->res);
    }

    s = ngx_http_certrole_field(rctx, data);
    if (s == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    ngx_http_certrole_set_value(v, s);
    return NGX_OK;
}


ngx_int_t
ngx_http_certrole_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_certrole_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }
        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}
