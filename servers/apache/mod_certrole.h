/*
 * mod_certrole — shared declarations between the configuration part
 * (mod_certrole.c), the per-connection verification (certrole_conn.c), the
 * request work (certrole_request.c: authentication, the authz providers,
 * variables) and the headers (certrole_headers.c).
 *
 * Ownership: every certrole_ctx is opened by the parent while the
 * configuration is checked (check_config runs for `apache2 -t`, at start
 * and on every restart), shared read-only by the children, and closed by a
 * cleanup on the configuration pool, so a restart opens fresh contexts and
 * the old ones die with the old configuration. Verification results are
 * kept per TLS connection and freed with the connection's pool.
 */
#ifndef MOD_CERTROLE_H
#define MOD_CERTROLE_H

#include <httpd.h>
#include <http_config.h>
#include <apr_thread_mutex.h>
#include <certrole.h>

/* One policy file; every server naming the same file shares it. */
typedef struct {
    const char   *path;      /* absolute */
    certrole_ctx *ctx;       /* opened in check_config */
} mcr_policy;

/* Per server (main server and virtual hosts). */
typedef struct {
    mcr_policy *policy;      /* CertrolePolicy (inherited) */
    int         handshake;   /* CertroleHandshake: MCR_HS_* */
} mcr_srv_conf;

enum { MCR_HS_UNSET = -1, MCR_HS_VERIFY = 0, MCR_HS_ACCEPT = 1 };

/* Per directory / location. -1 = not set here. */
typedef struct {
    int apply_rules;         /* CertroleApplyPolicyRules, default on */
    int export_headers;      /* CertroleExportHeaders, default off */
} mcr_dir_conf;

/* Distinct policies one connection may meet before results are kept per
 * request only (Host and SNI may pick different virtual hosts). */
#define MCR_CONN_MAX 4

/* Per TLS connection, on the connection that owns the TLS session. */
typedef struct {
    SSL                *ssl;    /* from mod_ssl's pre_handshake hook */
    apr_thread_mutex_t *lock;   /* HTTP/2 streams run in parallel */
    int                 n;
    struct {
        certrole_ctx    *ctx;
        certrole_result *res;
    } e[MCR_CONN_MAX];
} mcr_conn;

/* Per request: what certrole found for it (request_config). */
typedef struct {
    const certrole_result *res;     /* NULL without a certificate handle */
    certrole_code          code;    /* identity, then the policy's rules */
    int                    judged;  /* code includes the policy's rules */
    const char            *message; /* why, for the error log */
} mcr_req;

extern module AP_MODULE_DECLARE_DATA certrole_module;

/* certrole_conn.c: mod_ssl's optional hooks (SSL* of each connection;
 * CertroleHandshake accept) and the per-connection verification. */
void mcr_register_ssl_hooks(void);
/* The connection's result for ctx (verified on first use, then kept)
 * in *res and its code; *res NULL when there is no TLS session (code
 * no_certificate) or no memory. *why: the message for the error log. */
certrole_code mcr_conn_result(request_rec *r, certrole_ctx *ctx,
                              const certrole_result **res, const char **why);
/* The SSL* of the request's TLS connection, NULL if none. */
SSL *mcr_conn_ssl(request_rec *r);

/* certrole_request.c */
void mcr_register_request_hooks(apr_pool_t *p);
/* The request's decision, computed once; judge = apply the policy's
 * require rules (when CertroleApplyPolicyRules is on). Never NULL. */
mcr_req *mcr_decide(request_rec *r, int judge);

/* certrole_headers.c */
/* log: say which client headers were dropped (first pass only). */
void mcr_strip_headers(request_rec *r, int log);
void mcr_export_headers(request_rec *r, const mcr_req *q);
/* s without control characters (a realm value cannot split a header). */
const char *mcr_clean(apr_pool_t *p, const char *s);
/* The roles as "a,b" (cleaned). */
const char *mcr_roles(apr_pool_t *p, const certrole_result *res);

#endif /* MOD_CERTROLE_H */
