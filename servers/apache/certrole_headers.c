/*
 * mod_certrole — request headers: client-sent copies of the headers
 * certrole vouches for are dropped, and where CertroleExportHeaders is on
 * the RFC 9440 Client-Cert / Client-Cert-Chain headers plus
 * X-Certrole-User / X-Certrole-Roles are added for the backend
 * (mod_proxy forwards them; CGI sees HTTP_CLIENT_CERT, ...).
 */
#include "mod_certrole.h"
#include <http_log.h>
#include <apr_base64.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

APLOG_USE_MODULE(certrole);

/* Compared lower-case with '_' read as '-': CGI-style gateways fold both
 * to the same variable. */
static int mcr_reserved(const char *name)
{
    char buf[32];
    size_t i;

    for (i = 0; name[i] != '\0' && i < sizeof(buf) - 1; i++) {
        buf[i] = name[i] == '_' ? '-' : apr_tolower(name[i]);
    }
    buf[i] = '\0';
    if (name[i] != '\0') {          /* longer than any name we own... */
        return strncmp(buf, "x-certrole-", 11) == 0;   /* ...but this */
    }
    return strncmp(buf, "x-certrole-", 11) == 0
           || strcmp(buf, "client-cert") == 0
           || strcmp(buf, "client-cert-chain") == 0;
}

void mcr_strip_headers(request_rec *r, int log)
{
    const apr_array_header_t *arr = apr_table_elts(r->headers_in);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    apr_array_header_t *drop = NULL;
    int i;

    for (i = 0; i < arr->nelts; i++) {
        if (e[i].key != NULL && mcr_reserved(e[i].key)) {
            if (drop == NULL) {
                drop = apr_array_make(r->pool, 4, sizeof(char *));
            }
            *(const char **)apr_array_push(drop) = e[i].key;
        }
    }
    for (i = 0; drop != NULL && i < drop->nelts; i++) {
        const char *key = ((const char **)drop->elts)[i];

        if (log) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                          "certrole: dropped client header \"%s\"",
                          ap_escape_logitem(r->pool, key));
        }
        apr_table_unset(r->headers_in, key);
    }
}

const char *mcr_clean(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, strlen(s) + 1), *o = out;

    for (; *s; s++) {
        if ((unsigned char)*s >= 0x20 && (unsigned char)*s != 0x7f) {
            *o++ = *s;
        }
    }
    *o = '\0';
    return out;
}

const char *mcr_roles(apr_pool_t *p, const certrole_result *res)
{
    size_t i, n = certrole_result_role_count(res);
    const char *out = "";

    for (i = 0; i < n; i++) {
        out = apr_pstrcat(p, out, i ? "," : "",
                          mcr_clean(p, certrole_result_role(res, i)), NULL);
    }
    return out;
}

/* ":<base64 DER>:" (an RFC 8941 byte sequence), NULL on error. */
static const char *mcr_sf_cert(apr_pool_t *p, X509 *x)
{
    int len = i2d_X509(x, NULL);
    unsigned char *der, *q;
    char *b64;

    if (len <= 0) {
        return NULL;
    }
    der = q = apr_palloc(p, len);
    if (i2d_X509(x, &q) != len) {
        return NULL;
    }
    b64 = apr_palloc(p, apr_base64_encode_len(len));
    apr_base64_encode(b64, (const char *)der, len);
    return apr_pstrcat(p, ":", b64, ":", NULL);
}

/* What the peer sent after its leaf, in order, comma-separated. */
static const char *mcr_sf_chain(request_rec *r, X509 *leaf)
{
    SSL *ssl = mcr_conn_ssl(r);
    STACK_OF(X509) *sk = ssl ? SSL_get_peer_cert_chain(ssl) : NULL;
    const char *out = "";
    int i;

    for (i = 0; sk != NULL && i < sk_X509_num(sk); i++) {
        X509 *x = sk_X509_value(sk, i);
        const char *one;

        if (leaf != NULL && X509_cmp(x, leaf) == 0) {
            continue;
        }
        one = mcr_sf_cert(r->pool, x);
        if (one == NULL) {
            return NULL;
        }
        out = apr_pstrcat(r->pool, out, *out ? ", " : "", one, NULL);
    }
    return out;
}

void mcr_export_headers(request_rec *r, const mcr_req *q)
{
    X509 *leaf = certrole_result_leaf(q->res);
    const char *cert = leaf ? mcr_sf_cert(r->pool, leaf) : NULL;
    const char *chain = mcr_sf_chain(r, leaf);
    const char *user = certrole_result_user(q->res);
    const char *roles = mcr_roles(r->pool, q->res);

    if (cert != NULL) {
        apr_table_setn(r->headers_in, "Client-Cert", cert);
    }
    if (chain != NULL && *chain != '\0') {
        apr_table_setn(r->headers_in, "Client-Cert-Chain", chain);
    }
    if (user != NULL) {
        apr_table_setn(r->headers_in, "X-Certrole-User",
                       mcr_clean(r->pool, user));
    }
    if (*roles != '\0') {
        apr_table_setn(r->headers_in, "X-Certrole-Roles", roles);
    }
}
