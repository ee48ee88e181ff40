/*
 * mod_certrole — per request: the decision (identity from the connection,
 * then the policy's require rules on the raw request-target), the
 * authentication hook that turns it into r->user, the two authz providers
 * and the CERTROLE_* variables.
 *
 * The flow is httpd's own: `Require certrole-role ...` answers "no user
 * yet" before authentication, httpd runs the authentication hooks, ours
 * sets r->user from the certificate (or answers 401 without one, 403 for
 * any other refusal, with the reason in the error log), and the provider
 * then grants or denies on the roles. So `Require ip`, <RequireAll>,
 * <RequireAny>, `Require user` and `Require valid-user` compose as usual.
 */
#include "mod_certrole.h"
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <mod_auth.h>
#include <apr_strings.h>

APLOG_USE_MODULE(certrole);

static certrole_ctx *mcr_ctx(request_rec *r)
{
    mcr_srv_conf *sc = ap_get_module_config(r->server->module_config,
                                            &certrole_module);

    return sc && sc->policy ? sc->policy->ctx : NULL;
}

static int mcr_apply_rules(request_rec *r)
{
    mcr_dir_conf *dc = ap_get_module_config(r->per_dir_config,
                                            &certrole_module);

    return dc == NULL || dc->apply_rules != 0;   /* default on */
}

/* CERTROLE_USER, _ROLES, _CODE, _SUBJECT for logs, CGI and SSI. */
static void mcr_set_env(request_rec *r, const mcr_req *q)
{
    apr_table_t *e = r->subprocess_env;
    const char *user = q->res ? certrole_result_user(q->res) : NULL;
    const char *subj = q->res ? certrole_result_subject(q->res) : NULL;

    apr_table_setn(e, "CERTROLE_CODE", certrole_code_name(q->code));
    if (user != NULL) {
        apr_table_setn(e, "CERTROLE_USER", mcr_clean(r->pool, user));
    }
    if (q->res != NULL && certrole_result_role_count(q->res) > 0) {
        apr_table_setn(e, "CERTROLE_ROLES", mcr_roles(r->pool, q->res));
    }
    if (subj != NULL) {
        apr_table_setn(e, "CERTROLE_SUBJECT", mcr_clean(r->pool, subj));
    }
}

/* The policy's require rules, on the request-target exactly as the client
 * sent it: the library decodes it once, as httpd does to route it. */
static void mcr_judge(request_rec *r, mcr_req *q, certrole_ctx *ctx)
{
    certrole_authz *a = NULL;
    const char *target = r->unparsed_uri ? r->unparsed_uri : "";

    q->code = certrole_authorize_target(ctx, q->res, r->method, target,
                                        CERTROLE_TARGET_RAW, &a);
    if (q->code != CERTROLE_OK) {
        q->message = apr_pstrdup(r->pool, a ? certrole_authz_reason(a)
                                            : certrole_strerror(q->code));
    }
    certrole_authz_free(a);
}

mcr_req *mcr_decide(request_rec *r, int judge)
{
    mcr_req *q = ap_get_module_config(r->request_config, &certrole_module);
    certrole_ctx *ctx = mcr_ctx(r);

    if (q == NULL) {
        q = apr_pcalloc(r->pool, sizeof(*q));
        ap_set_module_config(r->request_config, &certrole_module, q);
        if (ctx == NULL) {
            q->code = CERTROLE_E_POLICY_ERROR;
            q->message = "no CertrolePolicy applies to this server";
        } else {
            q->code = mcr_conn_result(r, ctx, &q->res, &q->message);
        }
    } else if (!judge || q->judged) {
        return q;
    }
    if (judge) {
        q->judged = 1;
        if (q->code == CERTROLE_OK && mcr_apply_rules(r)) {
            mcr_judge(r, q, ctx);
        }
    }
    mcr_set_env(r, q);
    return q;
}

/* 401 without a certificate, 403 for every other refusal; the code and
 * the library's explanation go to the error log. */
static int mcr_refuse(request_rec *r, const mcr_req *q)
{
    int status = q->code == CERTROLE_E_NO_CERTIFICATE ? HTTP_UNAUTHORIZED
                                                      : HTTP_FORBIDDEN;

    ap_log_rerror(APLOG_MARK, status == HTTP_UNAUTHORIZED ? APLOG_INFO
                                                          : APLOG_ERR,
                  0, r, "certrole: denied \"%s %s\" code=%s status=%d: %s",
                  r->method, ap_escape_logitem(r->pool, r->unparsed_uri),
                  certrole_code_name(q->code), status,
                  q->message ? q->message : "");
    return status;
}

/* Authentication by the certificate where no AuthType is set: r->user is
 * the mapped user, so %u, REMOTE_USER, `Require user` and `Require
 * valid-user` work. Another AuthType keeps its own scheme. */
static int mcr_authn(request_rec *r)
{
    mcr_req *q;
    const char *user;

    if (mcr_ctx(r) == NULL || ap_auth_type(r) != NULL) {
        return DECLINED;
    }
    q = mcr_decide(r, 1);
    if (q->code != CERTROLE_OK) {
        return mcr_refuse(r, q);
    }
    user = certrole_result_user(q->res);
    if (user == NULL) {
        user = certrole_result_subject(q->res);
    }
    r->user = (char *)mcr_clean(r->pool, user ? user : "");
    r->ap_auth_type = "certrole";
    return OK;
}

static authz_status mcr_authz(request_rec *r, const char *line,
                              const apr_array_header_t *roles)
{
    mcr_req *q;
    const char **want;
    int i;

    if (mcr_ctx(r) == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "certrole: Require "
                      "certrole-* is used where no CertrolePolicy applies");
        return AUTHZ_DENIED;
    }
    /* Let httpd run the authentication step first: that is where the
     * refusal gets its status (401 or 403) and r->user is set. */
    if (r->user == NULL) {
        return AUTHZ_DENIED_NO_USER;
    }
    q = mcr_decide(r, 1);
    if (q->code != CERTROLE_OK) {
        /* r->user came from another AuthType: judge the certificate */
        mcr_refuse(r, q);
        return AUTHZ_DENIED;
    }
    if (roles == NULL) {
        return AUTHZ_GRANTED;
    }
    want = (const char **)roles->elts;
    for (i = 0; i < roles->nelts; i++) {
        if (certrole_result_has_role(q->res, want[i])) {
            return AUTHZ_GRANTED;
        }
    }
    /* info: another branch of a <RequireAny> may still grant; httpd logs
     * the final refusal itself. */
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "certrole: \"%s %s\" code=forbidden: user \"%s\" holds "
                  "none of the roles 'Require certrole-role %s' names",
                  r->method, ap_escape_logitem(r->pool, r->unparsed_uri),
                  r->user, line);
    apr_table_setn(r->subprocess_env, "CERTROLE_CODE",
                   certrole_code_name(CERTROLE_E_FORBIDDEN));
    return AUTHZ_DENIED;
}

static authz_status mcr_check_role(request_rec *r, const char *line,
                                   const void *parsed)
{
    return mcr_authz(r, line, parsed);
}

static authz_status mcr_check_valid(request_rec *r, const char *line,
                                    const void *parsed)
{
    return mcr_authz(r, line, NULL);
}

static const char *mcr_parse_role(cmd_parms *cmd, const char *line,
                                  const void **parsed)
{
    apr_array_header_t *roles = apr_array_make(cmd->pool, 4, sizeof(char *));
    const char *t = line;
    char *w;

    while (*(w = ap_getword_conf(cmd->pool, &t)) != '\0') {
        *(char **)apr_array_push(roles) = w;
    }
    if (roles->nelts == 0) {
        return "Require certrole-role needs at least one role";
    }
    *parsed = roles;
    return NULL;
}

static const char *mcr_parse_valid(cmd_parms *cmd, const char *line,
                                   const void **parsed)
{
    const char *t = line;

    if (*ap_getword_conf(cmd->pool, &t) != '\0') {
        return "Require certrole-valid takes no arguments "
               "(roles: Require certrole-role ROLE ...)";
    }
    return NULL;
}

static const authz_provider mcr_role_provider = {
    mcr_check_role, mcr_parse_role
};
static const authz_provider mcr_valid_provider = {
    mcr_check_valid, mcr_parse_valid
};

/* Client-sent copies of the headers certrole vouches for never get past
 * the first hook of a request in a server with a policy. */
static int mcr_post_read(request_rec *r)
{
    if (mcr_ctx(r) != NULL) {
        mcr_strip_headers(r, 1);
    }
    return DECLINED;
}

/* Before any handler: the variables for every request, the exported
 * headers where CertroleExportHeaders is on. Strips again, because an
 * internal redirect or a subrequest starts from headers a previous pass
 * may have added. */
static int mcr_fixups(request_rec *r)
{
    mcr_dir_conf *dc = ap_get_module_config(r->per_dir_config,
                                            &certrole_module);
    mcr_req *q;

    if (mcr_ctx(r) == NULL) {
        return DECLINED;
    }
    mcr_strip_headers(r, 0);
    q = mcr_decide(r, 0);
    mcr_set_env(r, q);    /* a <RequireAny> branch may have granted */
    if (dc != NULL && dc->export_headers == 1 && q->code == CERTROLE_OK) {
        mcr_export_headers(r, q);
    }
    return DECLINED;
}

void mcr_register_request_hooks(apr_pool_t *p)
{
    ap_hook_post_read_request(mcr_post_read, NULL, NULL,
                              APR_HOOK_REALLY_FIRST);
    ap_hook_check_authn(mcr_authn, NULL, NULL, APR_HOOK_MIDDLE,
                        AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_fixups(mcr_fixups, NULL, NULL, APR_HOOK_MIDDLE);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "certrole-role",
                              AUTHZ_PROVIDER_VERSION, &mcr_role_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "certrole-valid",
                              AUTHZ_PROVIDER_VERSION, &mcr_valid_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
}
