/*
 * ngx_http_certrole_module — shared declarations between the configuration
 * part (ngx_http_certrole_module.c), the access handler
 * (ngx_http_certrole_access.c), the handshake's verification
 * (ngx_http_certrole_handshake.c) and the header work
 * (ngx_http_certrole_headers.c).
 *
 * Ownership: every certrole_ctx is opened at configuration time in the
 * master, shared read-only by the workers after fork, and closed by a
 * cleanup on the cycle pool (so `nginx -s reload` opens fresh contexts and
 * the old ones die with the old cycle). Verification results are cached per
 * TLS connection (made in the handshake, or in the access phase when the
 * handshake made none for the request's policy) and freed with the
 * connection's pool.
 */
#ifndef NGX_HTTP_CERTROLE_H
#define NGX_HTTP_CERTROLE_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <certrole.h>

/* One opened policy; shared by every location naming the same file. */
typedef struct {
    ngx_str_t             path;       /* absolute, NUL-terminated */
    certrole_ctx         *ctx;
} ngx_http_certrole_policy_t;

typedef struct {
    ngx_array_t           policies;   /* of ngx_http_certrole_policy_t * */
} ngx_http_certrole_main_conf_t;

/* Per server block. */
typedef struct {
    ngx_flag_t            used;   /* "certrole on" in the server or below */
    /* The policy of every place that turns certrole on; mixed when they
     * are not all one policy (then the handshake stays nginx's). */
    ngx_http_certrole_policy_t *on_policy;
    ngx_flag_t            mixed;
} ngx_http_certrole_srv_conf_t;

typedef struct {
    ngx_http_certrole_policy_t *policy;   /* certrole_policy */
    ngx_flag_t            enable;         /* certrole on|off */
    ngx_flag_t            export_headers; /* certrole_export_headers */
    ngx_array_t          *require;        /* certrole_require: of char * */
    ngx_uint_t            status;         /* certrole_status (not inherited) */
} ngx_http_certrole_loc_conf_t;

/* Per request: what the access handler decided (read by the variables). */
typedef struct {
    const certrole_result *res;   /* owned by the connection cache */
    certrole_code          code;  /* after certrole_authorize + require */
} ngx_http_certrole_req_ctx_t;

/* One verified connection's result for one policy (connection cache). */
typedef struct {
    certrole_ctx     *ctx;
    certrole_result  *res;
    ngx_str_t         cert;        /* RFC 9440 Client-Cert value, lazily */
    ngx_str_t         chain;       /* Client-Cert-Chain value, lazily */
    ngx_str_t         roles;       /* "a,b", lazily */
    ngx_uint_t        exported;    /* the three above are computed */
    ngx_pool_t       *pool;        /* where the lazy values live */
} ngx_http_certrole_entry_t;

extern ngx_module_t  ngx_http_certrole_module;

/* Access-phase handler (ngx_http_certrole_access.c). */
ngx_int_t ngx_http_certrole_access_handler(ngx_http_request_t *r);

/* The connection that owns the TLS session (the real one for HTTP/2). */
ngx_connection_t *ngx_http_certrole_tls_connection(ngx_http_request_t *r);

/* ngx_http_certrole_headers.c: drop client-sent Client-Cert*,
 * X-Certrole-* (when certrole or certrole_export_headers is on); add
 * ours for an allowed request. NGX_ERROR on no memory. */
ngx_int_t ngx_http_certrole_strip(ngx_http_request_t *r);
ngx_int_t ngx_http_certrole_export(ngx_http_request_t *r,
    ngx_http_certrole_entry_t *e);

/* Registers the $certrole_* variables (ngx_http_certrole_vars.c);
 * the module's preconfiguration. */
ngx_int_t ngx_http_certrole_add_variables(ngx_conf_t *cf);

/* certrole_status; (ngx_http_certrole_status.c): the location answers
 * with the policy context's counters, Prometheus text. */
char *ngx_http_certrole_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

/* Allocates the SSL ex_data slot that keys the per-connection cache.
 * Called once per process; NGX_ERROR if OpenSSL refuses. */
ngx_int_t ngx_http_certrole_init_ex_index(ngx_log_t *log);

/* The connection cache (ngx_http_certrole_access.c). find: the entry of
 * ctx on this SSL object, or NULL. keep: stores res as the entry of ctx
 * (the connection's pool owns it from then on; the peer's address is
 * recorded on it) and returns the entry; NULL on no memory or when the
 * cache is full, and then res is still the caller's. */
ngx_http_certrole_entry_t *ngx_http_certrole_conn_find(SSL *ssl,
    certrole_ctx *ctx);
ngx_http_certrole_entry_t *ngx_http_certrole_conn_keep(ngx_connection_t *c,
    SSL *ssl, certrole_ctx *ctx, certrole_result *res);

/* ngx_http_certrole_handshake.c: installs certrole as the handshake's
 * chain verification in every server with a policy in scope and
 * ssl_verify_client; the module's postconfiguration. */
ngx_int_t ngx_http_certrole_handshake_init(ngx_conf_t *cf,
    ngx_http_core_main_conf_t *cmcf);

/* Verifies the connection's peer: certrole_verify_ssl, or for a resumed
 * session the leaf with the intermediates kept with the session. */
certrole_code ngx_http_certrole_verify_conn(certrole_ctx *ctx, SSL *ssl,
    certrole_result **res);

/* The info line of one verification; when: "" (access phase),
 * " in the TLS handshake", " of a resumed TLS session". */
void ngx_http_certrole_log_verified(ngx_connection_t *c, const char *when,
    certrole_result *res);

/* ngx_http_certrole_session.c: what a TLS session carries for certrole
 * (the verdict's identity and the client's intermediates). */
#define NGX_HTTP_CERTROLE_ID_LEN  32

/* The identity of a verdict made under policy in ssl_verify_client mode
 * verify, into id (NGX_HTTP_CERTROLE_ID_LEN bytes). */
ngx_int_t ngx_http_certrole_session_ident(ngx_http_certrole_policy_t *policy,
    ngx_uint_t verify, u_char *id);
/* Sets ctx's session id context from id and its certificates. */
ngx_int_t ngx_http_certrole_session_sid_ctx(SSL_CTX *ctx, const u_char *id);
/* Stores id and the intermediates with the SSL's session; NGX_ERROR when
 * the identity could not be stored. */
ngx_int_t ngx_http_certrole_session_keep(ngx_connection_t *c, SSL *ssl,
    const u_char *id, STACK_OF(X509) *others);
/* The intermediates kept with the session, or NULL; free with
 * sk_X509_pop_free(, X509_free). */
STACK_OF(X509) *ngx_http_certrole_session_chain(SSL *ssl);
/* Post-read phase handler: 400 for a request whose server is not the
 * kind of server the connection's verdict was made for. */
ngx_int_t ngx_http_certrole_session_check(ngx_http_request_t *r);

/* The verdict identity of a server whose handshake certrole judges, NULL
 * for any other (ngx_http_certrole_handshake.c). */
const u_char *ngx_http_certrole_handshake_ident(SSL_CTX *ctx);

#endif /* NGX_HTTP_CERTROLE_H */
