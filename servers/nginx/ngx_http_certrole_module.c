/*
 * ngx_http_certrole_module — configuration and directives.
 *
 *   certrole_policy FILE;               http, server
 *   certrole on | off;                  http, server, location
 *   certrole_require ROLE ...;          location (any one of the roles)
 *   certrole_export_headers on | off;   http, server, location
 *   certrole_status;                    location (Prometheus counters)
 *
 * Variables: ngx_http_certrole_vars.c.
 *
 * The policy is opened while the configuration is read, so a broken policy
 * makes `nginx -t` (and a reload) fail with the library's file:line message
 * and the running configuration stays in force.
 */
#include "ngx_http_certrole.h"

static void *ngx_http_certrole_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_certrole_create_srv_conf(ngx_conf_t *cf);
static void *ngx_http_certrole_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_certrole_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_certrole_policy(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_certrole_require(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_certrole_init(ngx_conf_t *cf);


static ngx_command_t  ngx_http_certrole_commands[] = {

    { ngx_string("certrole_policy"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_http_certrole_policy,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("certrole"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_certrole_loc_conf_t, enable),
      NULL },

    { ngx_string("certrole_require"),
      NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_certrole_require,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("certrole_export_headers"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_certrole_loc_conf_t, export_headers),
      NULL },

    { ngx_string("certrole_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_certrole_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_certrole_module_ctx = {
    ngx_http_certrole_add_variables,       /* preconfiguration */
    ngx_http_certrole_init,                /* postconfiguration */

    ngx_http_certrole_create_main_conf,    /* create main configuration */
    NULL,                                  /* init main configuration */

    ngx_http_certrole_create_srv_conf,     /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_certrole_create_loc_conf,     /* create location configuration */
    ngx_http_certrole_merge_loc_conf       /* merge location configuration */
};


ngx_module_t  ngx_http_certrole_module = {
    NGX_MODULE_V1,
    &ngx_http_certrole_module_ctx,         /* module context */
    ngx_http_certrole_commands,            /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/* The library's log and audit lines go to nginx's error log. The context
 * outlives no cycle, but a worker's current cycle is the one to log to. */
static void
ngx_http_certrole_log(void *userdata, certrole_log_level level,
    const char *line)
{
    ngx_uint_t  l;

    (void) userdata;

    switch (level) {
    case CERTROLE_LOG_ERROR:   l = NGX_LOG_ERR;    break;
    case CERTROLE_LOG_WARNING: l = NGX_LOG_WARN;   break;
    case CERTROLE_LOG_NOTICE:  l = NGX_LOG_NOTICE; break;
    case CERTROLE_LOG_INFO:    l = NGX_LOG_INFO;   break;
    default:                   l = NGX_LOG_DEBUG;  break;
    }

    ngx_log_error(l, ngx_cycle->log, 0, "certrole: %s", line);
}


static void *
ngx_http_certrole_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_certrole_main_conf_t  *mcf;

    mcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_certrole_main_conf_t));
    if (mcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&mcf->policies, cf->pool, 2,
                       sizeof(ngx_http_certrole_policy_t *))
        != NGX_OK)
    {
        return NULL;
    }

    return mcf;
}


static void *
ngx_http_certrole_create_srv_conf(ngx_conf_t *cf)
{
    return ngx_pcalloc(cf->pool, sizeof(ngx_http_certrole_srv_conf_t));
}


static void *
ngx_http_certrole_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_certrole_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_certrole_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /* policy = NULL, require = NULL (unset: inherited) */
    conf->enable = NGX_CONF_UNSET;
    conf->export_headers = NGX_CONF_UNSET;

    return conf;
}


static char *
ngx_http_certrole_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_certrole_loc_conf_t  *prev = parent;
    ngx_http_certrole_loc_conf_t  *conf = child;

    if (conf->policy == NULL) {
        conf->policy = prev->policy;
    }

    if (conf->require == NULL) {
        conf->require = prev->require;
    }

    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    ngx_conf_merge_value(conf->export_headers, prev->export_headers, 0);

    if (conf->status && conf->policy == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"certrole_status\" needs a \"certrole_policy\" "
                           "in its server or at http level: "
                           "it reports that policy's counters");
        return NGX_CONF_ERROR;
    }

    /* cf->ctx holds the server being merged (also for its locations): the
     * handshake's verification becomes certrole's only where certrole is
     * used, see ngx_http_certrole_handshake_init(). */
    if (conf->enable) {
        ngx_http_certrole_srv_conf_t  *scf;

        scf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_certrole_module);
        scf->used = 1;
        if (scf->on_policy == NULL) {
            scf->on_policy = conf->policy;
        } else if (scf->on_policy != conf->policy) {
            scf->mixed = 1;
        }
    }

    /* Fail closed at configuration time rather than at request time. */
    if (conf->enable && conf->policy == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"certrole on\" needs a \"certrole_policy\" "
                           "in this server or at http level");
        return NGX_CONF_ERROR;
    }

#if (NGX_HTTP_SSL)
    {
    /* The ssl module merged its server confs before ours (module order),
     * and cf->ctx holds this server's: a server that never asks for a
     * client certificate would refuse every request, so refuse it here. */
    ngx_http_ssl_srv_conf_t  *sscf;

    sscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_ssl_module);
    if (conf->enable && (sscf == NULL || sscf->verify == 0)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"certrole on\" in a server without "
                           "\"ssl_verify_client\": no client certificate "
                           "is ever requested, so every request would get "
                           "401 (no_certificate); add \"ssl_verify_client "
                           "optional_no_ca\" or \"certrole off\"");
        return NGX_CONF_ERROR;
    }
    }
#endif

    return NGX_CONF_OK;
}


static void
ngx_http_certrole_policy_cleanup(void *data)
{
    ngx_http_certrole_policy_t  *p = data;

    if (p->ctx) {
        certrole_close(p->ctx);
        p->ctx = NULL;
    }
}


static char *
ngx_http_certrole_policy(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_certrole_loc_conf_t   *lcf = conf;
    ngx_http_certrole_main_conf_t  *mcf;
    ngx_http_certrole_policy_t     *p, **pp;
    ngx_pool_cleanup_t             *cln;
    ngx_str_t                      *value, path;
    ngx_uint_t                      i;
    certrole_code                   rc;
    char                           *err;

    if (lcf->policy != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;
    path = value[1];

    /* Relative to the nginx prefix (-p), like other file directives;
     * the result is NUL-terminated. */
    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_certrole_module);

    /* One context per distinct policy file in this cycle. */
    pp = mcf->policies.elts;
    for (i = 0; i < mcf->policies.nelts; i++) {
        if (pp[i]->path.len == path.len
            && ngx_strncmp(pp[i]->path.data, path.data, path.len) == 0)
        {
            lcf->policy = pp[i];
            return NGX_CONF_OK;
        }
    }

    p = ngx_pcalloc(cf->pool, sizeof(ngx_http_certrole_policy_t));
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }
    p->path = path;

    err = NULL;
    rc = certrole_open(&p->ctx, (const char *) path.data, &err);
    if (rc != CERTROLE_OK || p->ctx == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "certrole_policy \"%V\": %s", &path,
                           err ? err : certrole_strerror(rc));
        certrole_free(err);
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        certrole_close(p->ctx);
        p->ctx = NULL;
        return NGX_CONF_ERROR;
    }
    cln->handler = ngx_http_certrole_policy_cleanup;
    cln->data = p;

    certrole_set_log(p->ctx, ngx_http_certrole_log, NULL);

    pp = ngx_array_push(&mcf->policies);
    if (pp == NULL) {
        return NGX_CONF_ERROR;
    }
    *pp = p;

    lcf->policy = p;
    return NGX_CONF_OK;
}


static char *
ngx_http_certrole_require(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_certrole_loc_conf_t  *lcf = conf;
    ngx_str_t                     *value;
    ngx_uint_t                     i;
    char                         **role;

    if (lcf->require != NULL) {
        return "is duplicate";
    }

    lcf->require = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                    sizeof(char *));
    if (lcf->require == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;
    for (i = 1; i < cf->args->nelts; i++) {
        if (value[i].len == 0) {
            return "has an empty role name";
        }
        role = ngx_array_push(lcf->require);
        if (role == NULL) {
            return NGX_CONF_ERROR;
        }
        /* configuration tokens are NUL-terminated */
        *role = (char *) value[i].data;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_certrole_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    if (ngx_http_certrole_init_ex_index(cf->log) != NGX_OK) {
        return NGX_ERROR;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

#if (NGX_HTTP_SSL)
    if (ngx_http_certrole_handshake_init(cf, cmcf) != NGX_OK) {
        return NGX_ERROR;
    }
#endif

#if (NGX_HTTP_SSL)
    h = ngx_array_push(&cmcf->phases[NGX_HTTP_POST_READ_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }
    *h = ngx_http_certrole_session_check;
#endif

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }
    *h = ngx_http_certrole_access_handler;

    return NGX_OK;
}


