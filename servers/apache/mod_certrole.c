/*
 * mod_certrole — certrole in Apache httpd 2.4: configuration, directives,
 * the policies' life cycle and the hook table.
 *
 *   CertrolePolicy FILE                   server config, virtual host
 *   CertroleHandshake verify|accept       server config, virtual host
 *   CertroleApplyPolicyRules On|Off       server, virtual host, directory
 *   CertroleExportHeaders On|Off          server, virtual host, directory
 *   Require certrole-valid                authz provider
 *   Require certrole-role ROLE ...        authz provider (any one role)
 *
 * The policies are opened in check_config, which httpd runs for
 * `apache2 -t` as well as at every start and restart (post_config is not
 * run for -t): a policy that does not load fails the configuration test
 * with the library's file:line:column message.
 */
#include "mod_certrole.h"
#include <http_log.h>
#include <apr_strings.h>

APLOG_USE_MODULE(certrole);

#define MCR_POLICIES_KEY "certrole-policies"

/* The policies named in this configuration, one per distinct file. Kept
 * as userdata of the configuration pool, so each (re)read starts empty. */
static apr_array_header_t *mcr_policies(apr_pool_t *pconf)
{
    void *data = NULL;

    apr_pool_userdata_get(&data, MCR_POLICIES_KEY, pconf);
    if (data == NULL) {
        data = apr_array_make(pconf, 4, sizeof(mcr_policy *));
        apr_pool_userdata_set(data, MCR_POLICIES_KEY, apr_pool_cleanup_null,
                              pconf);
    }
    return data;
}

static void *mcr_create_srv(apr_pool_t *p, server_rec *s)
{
    mcr_srv_conf *c = apr_pcalloc(p, sizeof(*c));

    c->handshake = MCR_HS_UNSET;
    return c;
}

static void *mcr_merge_srv(apr_pool_t *p, void *basev, void *addv)
{
    mcr_srv_conf *base = basev, *add = addv;
    mcr_srv_conf *c = apr_pcalloc(p, sizeof(*c));

    c->policy = add->policy ? add->policy : base->policy;
    c->handshake = add->handshake != MCR_HS_UNSET ? add->handshake
                                                  : base->handshake;
    return c;
}

static void *mcr_create_dir(apr_pool_t *p, char *dir)
{
    mcr_dir_conf *c = apr_pcalloc(p, sizeof(*c));

    c->apply_rules = -1;
    c->export_headers = -1;
    return c;
}

static void *mcr_merge_dir(apr_pool_t *p, void *basev, void *addv)
{
    mcr_dir_conf *base = basev, *add = addv;
    mcr_dir_conf *c = apr_pcalloc(p, sizeof(*c));

    c->apply_rules = add->apply_rules != -1 ? add->apply_rules
                                            : base->apply_rules;
    c->export_headers = add->export_headers != -1 ? add->export_headers
                                                  : base->export_headers;
    return c;
}

static const char *mcr_set_policy(cmd_parms *cmd, void *dconf,
                                  const char *arg)
{
    mcr_srv_conf *sc = ap_get_module_config(cmd->server->module_config,
                                            &certrole_module);
    apr_array_header_t *all = mcr_policies(cmd->pool);
    mcr_policy **pp = (mcr_policy **)all->elts, *p;
    const char *path = ap_server_root_relative(cmd->pool, arg);
    int i;

    if (path == NULL) {
        return apr_psprintf(cmd->pool, "CertrolePolicy: invalid path '%s'",
                            arg);
    }
    if (sc->policy != NULL) {
        return "CertrolePolicy: only one policy per server";
    }
    for (i = 0; i < all->nelts; i++) {
        if (strcmp(pp[i]->path, path) == 0) {
            sc->policy = pp[i];
            return NULL;
        }
    }
    p = apr_pcalloc(cmd->pool, sizeof(*p));
    p->path = path;
    *(mcr_policy **)apr_array_push(all) = p;
    sc->policy = p;
    return NULL;
}

static const char *mcr_set_handshake(cmd_parms *cmd, void *dconf,
                                     const char *arg)
{
    mcr_srv_conf *sc = ap_get_module_config(cmd->server->module_config,
                                            &certrole_module);

    if (strcasecmp(arg, "verify") == 0) {
        sc->handshake = MCR_HS_VERIFY;
    } else if (strcasecmp(arg, "accept") == 0) {
        sc->handshake = MCR_HS_ACCEPT;
    } else {
        return "CertroleHandshake: 'verify' or 'accept'";
    }
    return NULL;
}

static const command_rec mcr_cmds[] = {
    AP_INIT_TAKE1("CertrolePolicy", mcr_set_policy, NULL, RSRC_CONF,
                  "the certrole policy file (see certrole-policy(5))"),
    AP_INIT_TAKE1("CertroleHandshake", mcr_set_handshake, NULL, RSRC_CONF,
                  "'verify' (default): mod_ssl judges the chain in the "
                  "handshake; 'accept': certrole judges every chain"),
    AP_INIT_FLAG("CertroleApplyPolicyRules", ap_set_flag_slot,
                 (void *)APR_OFFSETOF(mcr_dir_conf, apply_rules),
                 RSRC_CONF | ACCESS_CONF,
                 "apply the policy's own require rules too (default On)"),
    AP_INIT_FLAG("CertroleExportHeaders", ap_set_flag_slot,
                 (void *)APR_OFFSETOF(mcr_dir_conf, export_headers),
                 RSRC_CONF | ACCESS_CONF,
                 "add Client-Cert, Client-Cert-Chain, X-Certrole-User and "
                 "X-Certrole-Roles for the backend (default Off)"),
    { NULL }
};

/* The library's log and audit lines go to the main server's error log. */
static void mcr_log(void *userdata, certrole_log_level level,
                    const char *line)
{
    server_rec *s = userdata;
    int l;

    switch (level) {
    case CERTROLE_LOG_ERROR:   l = APLOG_ERR;     break;
    case CERTROLE_LOG_WARNING: l = APLOG_WARNING; break;
    case CERTROLE_LOG_NOTICE:  l = APLOG_NOTICE;  break;
    case CERTROLE_LOG_INFO:    l = APLOG_INFO;    break;
    default:                   l = APLOG_DEBUG;   break;
    }
    ap_log_error(APLOG_MARK, l, 0, s, "certrole: %s", line);
}

static apr_status_t mcr_policy_close(void *data)
{
    mcr_policy *p = data;

    if (p->ctx != NULL) {
        certrole_close(p->ctx);
        p->ctx = NULL;
    }
    return APR_SUCCESS;
}

/* Opens every policy of this configuration. Runs in the parent for -t,
 * at start and on each restart; the contexts close with pconf. */
static int mcr_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp, server_rec *s)
{
    apr_array_header_t *all = mcr_policies(pconf);
    mcr_policy **pp = (mcr_policy **)all->elts;
    int i;

    for (i = 0; i < all->nelts; i++) {
        char *err = NULL;
        certrole_code rc = certrole_open(&pp[i]->ctx, pp[i]->path, &err);

        if (rc != CERTROLE_OK || pp[i]->ctx == NULL) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                         "CertrolePolicy %s: %s", pp[i]->path,
                         err ? err : certrole_strerror(rc));
            certrole_free(err);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        apr_pool_cleanup_register(pconf, pp[i], mcr_policy_close,
                                  apr_pool_cleanup_null);
        certrole_set_log(pp[i]->ctx, mcr_log, s);
    }
    return OK;
}

static void mcr_register_hooks(apr_pool_t *p)
{
    ap_hook_check_config(mcr_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    mcr_register_ssl_hooks();
    mcr_register_request_hooks(p);
}

module AP_MODULE_DECLARE_DATA certrole_module = {
    STANDARD20_MODULE_STUFF,
    mcr_create_dir,
    mcr_merge_dir,
    mcr_create_srv,
    mcr_merge_srv,
    mcr_cmds,
    mcr_register_hooks,
    AP_MODULE_FLAG_NONE
};
