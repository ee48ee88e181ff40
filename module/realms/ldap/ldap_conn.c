/* Connection pool with failover, TLS and bounded waits (ldap_conn.h). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "ldap_conn.h"
#include "ldap_watchdog.h"

enum tls_mode { TLS_NONE, TLS_STARTTLS, TLS_STARTTLS_TRY, TLS_IMPLICIT };

struct cr_ldap_pool {
    const struct cr_ldap_config *c;
    enum tls_mode *tls;             /* per URI */
    pthread_mutex_t lock;
    struct cr_ldap_conn *idle;
    int n_idle;
};

/* StartTLS protects the answer that decides access; it is required by
 * default, except towards the local host, where the traffic never leaves
 * the machine (and an attacker able to tamper with it already owns it). */
static int is_loopback(const char *uri)
{
    LDAPURLDesc *u = NULL;
    if (ldap_url_parse(uri, &u) != LDAP_URL_SUCCESS)
        return 0;
    const char *h = u->lud_host;
    int lo = !h || !*h || !strcasecmp(h, "localhost") || !strncmp(h, "127.", 4) ||
             !strcmp(h, "::1") || !strcmp(h, "[::1]");
    ldap_free_urldesc(u);
    return lo;
}

static enum tls_mode tls_mode_for(const struct cr_ldap_config *c, const char *uri)
{
    if (!strncasecmp(uri, "ldaps:", 6))
        return TLS_IMPLICIT;
    if (!strncasecmp(uri, "ldapi:", 6))
        return TLS_NONE;
    switch (c->starttls) {
    case CR_LDAP_STARTTLS_YES: return TLS_STARTTLS;
    case CR_LDAP_STARTTLS_TRY: return TLS_STARTTLS_TRY;
    case CR_LDAP_STARTTLS_NO: return TLS_NONE;
    default: return is_loopback(uri) ? TLS_NONE : TLS_STARTTLS;
    }
}

struct cr_ldap_pool *cr_ldap_pool_new(const struct cr_ldap_config *config)
{
    struct cr_ldap_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    if (!(p->tls = calloc(config->n_uris ? config->n_uris : 1, sizeof *p->tls))) {
        free(p);
        return NULL;
    }
    p->c = config;
    for (size_t i = 0; i < config->n_uris; i++)
        p->tls[i] = tls_mode_for(config, config->uris[i]);
    pthread_mutex_init(&p->lock, NULL);
    return p;
}

static void conn_close(struct cr_ldap_conn *conn)
{
    if (!conn)
        return;
    if (conn->ld)
        ldap_unbind_ext_s(conn->ld, NULL, NULL);
    free(conn);
}

void cr_ldap_pool_drain(struct cr_ldap_pool *p)
{
    pthread_mutex_lock(&p->lock);
    struct cr_ldap_conn *list = p->idle;
    p->idle = NULL;
    p->n_idle = 0;
    pthread_mutex_unlock(&p->lock);
    while (list) {
        struct cr_ldap_conn *next = list->next;
        conn_close(list);
        list = next;
    }
}

void cr_ldap_pool_free(struct cr_ldap_pool *p)
{
    if (!p)
        return;
    cr_ldap_pool_drain(p);
    pthread_mutex_destroy(&p->lock);
    free(p->tls);
    free(p);
}

const char *cr_ldap_conn_uri(const struct cr_ldap_pool *p, const struct cr_ldap_conn *conn)
{
    return p->c->uris[conn->uri];
}

/* "LDAP error (diagnostic)" for rc on ld. */
static void describe(LDAP *ld, int rc, char *buf, size_t len)
{
    char *diag = NULL;
    if (ld)
        ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
    if (diag && *diag)
        snprintf(buf, len, "%s (%s)", ldap_err2string(rc), diag);
    else
        snprintf(buf, len, "%s", ldap_err2string(rc));
    ldap_memfree(diag);
}

void cr_ldap_conn_error(struct cr_ldap_pool *p, struct cr_ldap_conn *conn,
                        int rc, const char *what, struct cr_ldap_outcome *o)
{
    char text[512];
    describe(conn->ld, rc, text, sizeof text);
    cr_ldap_outcome_set_message(o, "%s: %s: %s", cr_ldap_conn_uri(p, conn), what, text);
}

static int set_options(const struct cr_ldap_config *c, LDAP *ld, enum tls_mode tls)
{
    int v3 = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND, rc;
    int tls12 = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2, zero = 0;
    struct timeval net = { c->network_timeout_ms / 1000, (c->network_timeout_ms % 1000) * 1000 };
    struct timeval op = { c->timeout_ms / 1000, (c->timeout_ms % 1000) * 1000 };
    if ((rc = ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3)) ||
        /* Referrals would send our bind to a server the policy never named. */
        (rc = ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF)) ||
        (rc = ldap_set_option(ld, LDAP_OPT_RESTART, LDAP_OPT_ON)) ||
        (rc = ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &net)) ||
        (rc = ldap_set_option(ld, LDAP_OPT_TIMEOUT, &op)))
        return rc;
    if (tls == TLS_NONE)
        return LDAP_SUCCESS;
    if ((rc = ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand)) ||
        (rc = ldap_set_option(ld, LDAP_OPT_X_TLS_PROTOCOL_MIN, &tls12)) ||
        (c->tls_ca_file && (rc = ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, c->tls_ca_file))) ||
        (c->tls_ca_dir && (rc = ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTDIR, c->tls_ca_dir))) ||
        (c->tls_cert && (rc = ldap_set_option(ld, LDAP_OPT_X_TLS_CERTFILE, c->tls_cert))) ||
        (c->tls_key && (rc = ldap_set_option(ld, LDAP_OPT_X_TLS_KEYFILE, c->tls_key))))
        return rc;
    /* The options above apply to this handle only once it has its own
     * TLS context. */
    return ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero);
}

/* libldap calls this once TCP is connected, before any TLS. */
static int on_connect(LDAP *ld, Sockbuf *sb, LDAPURLDesc *srv, struct sockaddr *addr,
                      struct ldap_conncb *ctx)
{
    struct cr_ldap_conn *conn = ctx->lc_arg;
    ber_socket_t fd = -1;
    (void)ld; (void)srv; (void)addr;
    /* TCP is up: the TLS handshake (ldaps://) gets network-timeout. */
    if (conn->wd && ber_sockbuf_ctrl(sb, LBER_SB_OPT_GET_FD, &fd) == 1)
        cr_ldap_watchdog_set_fd(conn->wd, (int)fd, conn->wd_restart_ms);
    return 0;
}

static void on_close(LDAP *ld, Sockbuf *sb, struct ldap_conncb *ctx)
{
    (void)ld; (void)sb; (void)ctx;
}

/* After TCP: the StartTLS request and its handshake, then the bind. */
static int after_connect_budget_ms(const struct cr_ldap_config *c, enum tls_mode tls)
{
    int ms = c->timeout_ms;
    if (tls == TLS_STARTTLS || tls == TLS_STARTTLS_TRY)
        ms += c->timeout_ms + c->network_timeout_ms;
    return ms;
}

/* libldap sets up its global options on first use with a double-checked
 * flag it reads without a barrier, so two threads opening their first
 * connections at once race on them (ThreadSanitizer shows it). Doing it
 * once, under pthread_once, orders every later use after it. */
static pthread_once_t libldap_once = PTHREAD_ONCE_INIT;

static void libldap_init(void)
{
    int version = 0;
    (void)ldap_get_option(NULL, LDAP_OPT_PROTOCOL_VERSION, &version);
}

/* The bind the configuration asks for; *what names it for messages. */
static int bind_as_configured(const struct cr_ldap_config *c, LDAP *ld, const char **what)
{
    if (c->sasl_external) {
        /* An empty initial response: authorize as the certificate says. */
        struct berval none = { 0, (char *)"" };
        *what = "SASL EXTERNAL bind";
        return ldap_sasl_bind_s(ld, NULL, "EXTERNAL", &none, NULL, NULL, NULL);
    } else if (c->bind_dn) {
        struct berval cred = { strlen(c->bind_password ? c->bind_password : ""),
                               c->bind_password ? c->bind_password : (char *)"" };
        *what = "bind";
        return ldap_sasl_bind_s(ld, c->bind_dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
    } else {
        /* An explicit anonymous bind: a server that accepts TCP but never
         * answers is found out here, and the next URI gets its turn. */
        struct berval none = { 0, (char *)"" };
        *what = "anonymous bind";
        return ldap_sasl_bind_s(ld, NULL, LDAP_SASL_SIMPLE, &none, NULL, NULL, NULL);
    }
}

/* Opens and binds one URI into conn->ld. Returns LDAP_SUCCESS, or an
 * error code with "uri: step: error" in err. */
static int connect_uri(struct cr_ldap_pool *p, size_t i, struct cr_ldap_conn *conn,
                       char *err, size_t errlen)
{
    const struct cr_ldap_config *c = p->c;
    enum tls_mode tls = p->tls[i];
    LDAP *ld = NULL;
    const char *what = "connect";
    int rc;
    pthread_once(&libldap_once, libldap_init);
again:
    if ((rc = ldap_initialize(&ld, c->uris[i])) != LDAP_SUCCESS) {
        snprintf(err, errlen, "%s: %s", c->uris[i], ldap_err2string(rc));
        return rc;
    }
    conn->connect_cb.lc_add = on_connect;
    conn->connect_cb.lc_del = on_close;
    conn->connect_cb.lc_arg = conn;
    what = "options";
    if ((rc = set_options(c, ld, tls)) != LDAP_SUCCESS ||
        (rc = ldap_set_option(ld, LDAP_OPT_CONNECT_CB, &conn->connect_cb)) != LDAP_SUCCESS)
        goto fail;
    what = "connect";
    /* TCP connect: network-timeout (libldap's own, with a margin here);
     * then on_connect gives the handshake network-timeout again. */
    conn->wd_restart_ms = tls == TLS_IMPLICIT ? c->network_timeout_ms : 0;
    if (!(conn->wd = cr_ldap_watchdog_arm(c->network_timeout_ms * 2))) {
        rc = LDAP_NO_MEMORY;
        goto fail;
    }
    if ((rc = ldap_connect(ld)) != LDAP_SUCCESS)
        goto fail;
    {
        ber_socket_t fd = -1;
        int fired = cr_ldap_watchdog_disarm(conn->wd);
        conn->wd = NULL;
        if (fired || ldap_get_option(ld, LDAP_OPT_DESC, &fd) != LDAP_OPT_SUCCESS) {
            rc = LDAP_TIMEOUT;
            goto fail;
        }
        if (!(conn->wd = cr_ldap_watchdog_arm(after_connect_budget_ms(c, tls)))) {
            rc = LDAP_NO_MEMORY;
            goto fail;
        }
        cr_ldap_watchdog_set_fd(conn->wd, (int)fd, 0);
    }
    if (tls == TLS_STARTTLS || tls == TLS_STARTTLS_TRY) {
        what = "StartTLS";
        rc = ldap_start_tls_s(ld, NULL, NULL);
        if (rc != LDAP_SUCCESS && tls == TLS_STARTTLS_TRY && rc > 0) {
            /* The server answered "no": starttls=try goes on in clear text
             * on a fresh connection (the refused one may be unusable). */
            cr_ldap_watchdog_disarm(conn->wd);
            conn->wd = NULL;
            ldap_unbind_ext_s(ld, NULL, NULL);
            ld = NULL;
            tls = TLS_NONE;
            goto again;
        }
        if (rc != LDAP_SUCCESS)
            goto fail;
    }
    rc = bind_as_configured(c, ld, &what);
    if (rc != LDAP_SUCCESS)
        goto fail;
    if (cr_ldap_watchdog_disarm(conn->wd)) {
        /* Finished, but only just: the socket may already be shut. */
        conn->wd = NULL;
        rc = LDAP_TIMEOUT;
        goto fail;
    }
    conn->wd = NULL;
    conn->ld = ld;
    return LDAP_SUCCESS;
fail:
    {
        char text[400];
        int fired = cr_ldap_watchdog_disarm(conn->wd);
        conn->wd = NULL;
        describe(ld, rc, text, sizeof text);
        snprintf(err, errlen, "%s: %s: %s%s", c->uris[i], what, text,
                 fired ? " (timed out)" : "");
    }
    if (ld)
        ldap_unbind_ext_s(ld, NULL, NULL);
    return rc;
}

struct cr_ldap_conn *cr_ldap_pool_get(struct cr_ldap_pool *p, struct cr_ldap_outcome *o)
{
    pthread_mutex_lock(&p->lock);
    struct cr_ldap_conn *conn = p->idle;
    if (conn) {
        p->idle = conn->next;
        p->n_idle--;
    }
    pthread_mutex_unlock(&p->lock);
    if (conn) {
        conn->next = NULL;
        conn->reused = 1;
        conn->broken = 0;
        conn->last_rc = LDAP_SUCCESS;
        return conn;
    }
    if (!(conn = calloc(1, sizeof *conn))) {
        cr_ldap_outcome_set_message(o, "out of memory");
        return NULL;
    }
    char *all = NULL;
    size_t all_len = 0;
    FILE *f = open_memstream(&all, &all_len);
    for (size_t i = 0; i < p->c->n_uris; i++) {
        char err[600];
        if (connect_uri(p, i, conn, err, sizeof err) == LDAP_SUCCESS) {
            if (f)
                fclose(f);
            free(all);
            conn->uri = i;
            return conn;
        }
        if (f)
            fprintf(f, "%s%s", i ? "; " : "", err);
    }
    free(conn);
    if (f && fclose(f) == 0 && all)
        cr_ldap_outcome_set_message(o, "%s", all);
    else
        cr_ldap_outcome_set_message(o, "no LDAP server could be reached");
    free(all);
    return NULL;
}

void cr_ldap_pool_put(struct cr_ldap_pool *p, struct cr_ldap_conn *conn)
{
    if (!conn)
        return;
    if (!conn->broken) {
        pthread_mutex_lock(&p->lock);
        if (p->n_idle < p->c->pool_size) {
            conn->next = p->idle;
            p->idle = conn;
            p->n_idle++;
            conn = NULL;
        }
        pthread_mutex_unlock(&p->lock);
    }
    conn_close(conn);
}

/* Codes after which the connection cannot be trusted for the next
 * request: client-side failures (negative: server down, timeout,
 * decoding) and the server saying it is going away or confused. */
static int transport_failure(int rc)
{
    return rc < 0 || rc == LDAP_UNAVAILABLE || rc == LDAP_BUSY ||
           rc == LDAP_PROTOCOL_ERROR || rc == LDAP_OTHER ||
           rc == LDAP_TIMELIMIT_EXCEEDED || rc == LDAP_ADMINLIMIT_EXCEEDED;
}

int cr_ldap_conn_search(struct cr_ldap_pool *p, struct cr_ldap_conn *conn,
                        const char *base, int scope, const char *filter,
                        char **attrs, int sizelimit, LDAPMessage **res)
{
    struct timeval tv = { p->c->timeout_ms / 1000, (p->c->timeout_ms % 1000) * 1000 };
    *res = NULL;
    int rc = ldap_search_ext_s(conn->ld, base, scope, filter, attrs, 0, NULL, NULL,
                               &tv, sizelimit, res);
    conn->last_rc = rc;
    if (transport_failure(rc))
        conn->broken = 1;
    return rc;
}
