/*
 * ngx_http_certrole_module — the status location.
 *
 *   location = /certrole-status { certrole_status; allow 127.0.0.1; deny all; }
 *
 * Answers GET/HEAD with the counters of the location's policy context
 * (certrole_stats_prometheus) in the Prometheus text format. The access
 * phase runs first as usual, so allow/deny or certrole itself protect it.
 *
 * The counters are those of the worker process that answers: each worker
 * counts into its own copy of the context. A comment line names the worker,
 * so a scraper can tell; sum over workers (or run one) for the whole.
 */
#include "ngx_http_certrole.h"


static ngx_int_t
ngx_http_certrole_status_handler(ngx_http_request_t *r)
{
    ngx_http_certrole_loc_conf_t  *lcf;
    certrole_stats                *st;
    char                          *text;
    ngx_buf_t                     *b;
    ngx_chain_t                    out;
    ngx_int_t                      rc;
    size_t                         len;
    u_char                        *p, head[NGX_INT64_LEN * 2 + 128];

    if (!(r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_certrole_module);
    if (lcf->policy == NULL || lcf->policy->ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    st = certrole_stats_get(lcf->policy->ctx);
    text = st ? certrole_stats_prometheus(st) : NULL;
    certrole_stats_free(st);
    if (text == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_snprintf(head, sizeof(head), "# certrole: worker process %P\n",
                     ngx_pid);
    len = (p - head) + ngx_strlen(text);

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        certrole_free(text);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    b->last = ngx_cpymem(b->last, head, p - head);
    b->last = ngx_cpymem(b->last, text, ngx_strlen(text));
    certrole_free(text);
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    ngx_str_set(&r->headers_out.content_type,
                "text/plain; version=0.0.4; charset=utf-8");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = len;

    rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;
    return ngx_http_output_filter(r, &out);
}


/* certrole_status; — the location needs a policy (its own or inherited),
 * checked when the configuration is merged (see the module's merge). */
char *
ngx_http_certrole_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_certrole_loc_conf_t  *lcf = conf;
    ngx_http_core_loc_conf_t      *clcf;

    (void) cmd;

    if (lcf->status) {
        return "is duplicate";
    }
    lcf->status = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_certrole_status_handler;

    return NGX_CONF_OK;
}
