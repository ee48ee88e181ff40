/*
 * certrole-fcgi-authorizer — a FastCGI AUTHORIZER for lighttpd (or any
 * server speaking FastCGI's authorizer role) built on libcertrole.
 *
 * lighttpd's mod_openssl requests a client certificate (verifyclient
 * "enforce" off, so the request still arrives without one) and exports it
 * as SSL_CLIENT_CERT (PEM) when its own check against ssl.ca-file passed;
 * otherwise SSL_CLIENT_VERIFY says "FAILED:...". Intermediates are not
 * exported (SSL_CLIENT_CERT_CHAIN_n is read if a server provides it), so
 * the policy's trust must be able to complete the chain (ca-file holding
 * the root and the issuing CAs, see README.md).
 * This program validates the chain against the policy's trust profile, maps
 * it through the realm stack and applies the policy's `require` rules to
 * REQUEST_METHOD + the raw request target (see request_target), then
 * answers:
 *
 *   Status: 200  + Variable-CERTROLE_USER / _ROLES / _SUBJECT / _CODE
 *                  (lighttpd hands them to the backend as environment)
 *   Status: 401  no client certificate
 *   Status: 403  anything else (the reason goes to the log, never to
 *                the client)
 *
 * Usage: certrole-fcgi-authorizer [-p POLICY] [-s SOCKET] [-l FILE|-] [-S FILE]
 *   -p  policy file (default: $CERTROLE_POLICY)
 *   -S  keep the counters (certrole_stats_prometheus) in FILE: rewritten
 *       every few seconds and on SIGUSR1 (see stats_file.h)
 *   -l  log to FILE (appended) or "-" (stderr); default syslog, daemon
 *   -s  listen on a unix socket path or ":PORT"/"HOST:PORT"; without it
 *       the listening socket is fd 0 (lighttpd "bin-path", spawn-fcgi).
 * The policy is re-read when one of its files changes (a few stat()s per
 * request), so a realm edit takes effect without a restart.
 */
#define _GNU_SOURCE
#include <certrole.h>
#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include "stats_file.h"

#define MAX_CHAIN 16

/* Where refusal reasons, reload errors and the library's audit lines go.
 * lighttpd daemonises and drops a spawned authorizer's stderr, so the
 * default is syslog(3) (facility daemon); -l FILE appends to a file
 * instead, -l - writes to stderr. */
static FILE *log_file;

static void alog(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void alog(int prio, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (log_file) {
        char ts[32];
        time_t now = time(NULL);
        struct tm tm;
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
        fprintf(log_file, "%s certrole-fcgi-authorizer[%d]: <%d> ", ts, (int)getpid(), prio);
        vfprintf(log_file, fmt, ap);
        fputc('\n', log_file);
        fflush(log_file);
    } else {
        vsyslog(prio, fmt, ap);
    }
    va_end(ap);
}

static void log_sink(void *ud, certrole_log_level level, const char *line)
{
    (void)ud;
    alog((int)level, "%s", line);   /* the levels are syslog's numbers */
}

/* -l: NULL = syslog, "-" = stderr, else a file opened for appending. */
static int log_open(const char *where)
{
    if (!where) {
        openlog("certrole-fcgi-authorizer", LOG_PID, LOG_DAEMON);
        return 0;
    }
    log_file = strcmp(where, "-") == 0 ? stderr : fopen(where, "a");
    if (!log_file) {
        fprintf(stderr, "certrole-fcgi-authorizer: cannot open log file %s\n", where);
        return -1;
    }
    return 0;
}

/* The request target the rules judge, as the client sent it: the library
 * decodes it once. lighttpd puts the original target in REQUEST_URI and,
 * when mod_rewrite or a local redirect changed it, the target it serves
 * in REDIRECT_URI; that one is what the backend gets. Decoding it here
 * as well would let "%252e%252e" become ".." behind the rules' back. */
static const char *request_target(FCGX_ParamArray envp)
{
    const char *t = FCGX_GetParam("REDIRECT_URI", envp);
    return t && *t ? t : FCGX_GetParam("REQUEST_URI", envp);
}

/* Leaf PEM followed by SSL_CLIENT_CERT_CHAIN_0.. (malloc'd), or NULL when
 * the server exported no certificate. */
static char *collect_pem(FCGX_ParamArray envp, size_t *len)
{
    const char *leaf = FCGX_GetParam("SSL_CLIENT_CERT", envp);
    if (!leaf || !*leaf)
        return NULL;
    size_t total = strlen(leaf) + 2;
    const char *chain[MAX_CHAIN];
    int n = 0;
    for (; n < MAX_CHAIN; n++) {
        char name[40];
        snprintf(name, sizeof name, "SSL_CLIENT_CERT_CHAIN_%d", n);
        chain[n] = FCGX_GetParam(name, envp);
        if (!chain[n] || !*chain[n])
            break;
        total += strlen(chain[n]) + 1;
    }
    char *pem = malloc(total + 1);
    if (!pem)
        return NULL;
    size_t o = 0;
    o += (size_t)sprintf(pem + o, "%s\n", leaf);
    for (int i = 0; i < n; i++)
        o += (size_t)sprintf(pem + o, "%s\n", chain[i]);
    *len = o;
    return pem;
}

/* mod_openssl exports no certificate it could not verify; it only says
 * "FAILED:...reason(N)" with N an X509_V_ERR_* number. Map the common ones
 * so the log says what was wrong. */
static certrole_code code_from_server_verify(const char *verify)
{
    const char *r = verify ? strstr(verify, "reason(") : NULL;
    long n = r ? strtol(r + 7, NULL, 10) : -1;
    switch (n) {
    case X509_V_ERR_CERT_HAS_EXPIRED: return CERTROLE_E_EXPIRED;
    case X509_V_ERR_CERT_NOT_YET_VALID: return CERTROLE_E_NOT_YET_VALID;
    case X509_V_ERR_CERT_REVOKED: return CERTROLE_E_REVOKED;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN: return CERTROLE_E_SELF_SIGNED_UNTRUSTED;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE: return CERTROLE_E_UNTRUSTED_ISSUER;
    case X509_V_ERR_CERT_SIGNATURE_FAILURE: return CERTROLE_E_BAD_SIGNATURE;
    case X509_V_ERR_INVALID_PURPOSE: return CERTROLE_E_WRONG_PURPOSE;
    case X509_V_ERR_CERT_CHAIN_TOO_LONG: return CERTROLE_E_CHAIN_TOO_LONG;
    case X509_V_ERR_INVALID_CA: return CERTROLE_E_INVALID_CA;
    default: return CERTROLE_E_CHAIN_INVALID;
    }
}

/* Header values from the realm must not be able to split the response. */
static void put_var(FCGX_Stream *out, const char *name, const char *value)
{
    FCGX_FPrintF(out, "Variable-%s: ", name);
    for (const char *p = value ? value : ""; *p; p++)
        if ((unsigned char)*p >= 0x20 && *p != 0x7f)
            FCGX_PutChar(*p, out);
    FCGX_PutS("\r\n", out);
}

static void deny(FCGX_Stream *out, int status, certrole_code code)
{
    FCGX_FPrintF(out, "Status: %d %s\r\nContent-Type: text/plain\r\n\r\n%s\n",
                 status, status == 401 ? "Unauthorized" : "Forbidden",
                 certrole_code_name(code));
}

static void handle(certrole_ctx *ctx, FCGX_Request *req)
{
    const char *method = FCGX_GetParam("REQUEST_METHOD", req->envp);
    const char *path = request_target(req->envp);
    size_t len = 0;
    char *pem = collect_pem(req->envp, &len);
    certrole_result *res = NULL;
    certrole_authz *authz = NULL;
    certrole_code code;

    if (!method || !path) {
        alog(LOG_WARNING, "refused: unusable request (method or path missing)");
        deny(req->out, 403, CERTROLE_E_INVALID_ARGUMENT);
        goto done;
    }
    if (!pem) {
        const char *verify = FCGX_GetParam("SSL_CLIENT_VERIFY", req->envp);
        if (verify && strncmp(verify, "FAILED", 6) == 0) {
            code = code_from_server_verify(verify);
            alog(LOG_INFO, "%s %s: %s (status 403): "
                           "the TLS layer could not verify the certificate (%s)",
                    method, path, certrole_code_name(code), verify);
            deny(req->out, 403, code);
            goto done;
        }
        alog(LOG_INFO, "%s %s: no_certificate (status 401)", method, path);
        deny(req->out, 401, CERTROLE_E_NO_CERTIFICATE);
        goto done;
    }
    code = certrole_verify_pem(ctx, pem, len, &res);
    if (res) {
        /* lighttpd's client address, for the audit line. */
        const char *peer = FCGX_GetParam("REMOTE_ADDR", req->envp);
        if (peer)
            (void)certrole_result_set_peer(res, peer);
        code = certrole_authorize_target(ctx, res, method, path, CERTROLE_TARGET_RAW, &authz);
    }
    if (code != CERTROLE_OK) {
        int status = code == CERTROLE_E_NO_CERTIFICATE ? 401 : 403;
        alog(LOG_INFO, "%s %s: %s (status %d): %s",
                method, path, certrole_code_name(code), status,
                authz ? certrole_authz_reason(authz)
                      : res ? certrole_result_message(res) : certrole_strerror(code));
        deny(req->out, status, code);
        goto done;
    }

    /* roles as "a,b" */
    size_t n = certrole_result_role_count(res), rl = 1;
    for (size_t i = 0; i < n; i++)
        rl += strlen(certrole_result_role(res, i)) + 1;
    char *roles = malloc(rl);
    if (!roles) {
        deny(req->out, 403, CERTROLE_E_NO_MEMORY);
        goto done;
    }
    roles[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat(roles, ",");
        strcat(roles, certrole_result_role(res, i));
    }
    FCGX_PutS("Status: 200 OK\r\n", req->out);
    put_var(req->out, "CERTROLE_USER", certrole_result_user(res));
    put_var(req->out, "CERTROLE_ROLES", roles);
    put_var(req->out, "CERTROLE_SUBJECT", certrole_result_subject(res));
    put_var(req->out, "CERTROLE_CODE", "ok");
    FCGX_PutS("\r\n", req->out);
    free(roles);
done:
    certrole_authz_free(authz);
    certrole_result_free(res);
    free(pem);
}

struct opts {
    const char *policy, *listen_on, *logto, *stats_path;
};

/* Reads the command line into o: 0, or the exit status to leave with
 * (0 for -h, 2 for a usage error or no policy). */
static int parse_args(int argc, char **argv, struct opts *o, int *exit_status)
{
    int opt;
    o->policy = getenv("CERTROLE_POLICY");
    o->listen_on = o->logto = o->stats_path = NULL;
    while ((opt = getopt(argc, argv, "p:s:l:S:h")) != -1) {
        switch (opt) {
        case 'p': o->policy = optarg; break;
        case 's': o->listen_on = optarg; break;
        case 'l': o->logto = optarg; break;
        case 'S': o->stats_path = optarg; break;
        default:
            fprintf(stderr, "usage: %s [-p POLICY] [-s SOCKET|:PORT] [-l FILE|-] [-S FILE]\n",
                    argv[0]);
            *exit_status = opt == 'h' ? 0 : 2;
            return -1;
        }
    }
    if (!o->policy || !*o->policy) {
        fprintf(stderr, "certrole-fcgi-authorizer: no policy (-p or CERTROLE_POLICY)\n");
        *exit_status = 2;
        return -1;
    }
    return 0;
}

/* Files that changed on disk are applied before the next request. */
static void reload_if_changed(certrole_ctx *ctx)
{
    int reloaded = 0;
    char *rerr = NULL;
    if (certrole_reload_if_changed(ctx, &reloaded, &rerr) != CERTROLE_OK)
        alog(LOG_ERR, "reload failed, keeping the previous policy: %s", rerr ? rerr : "?");
    else if (reloaded)
        alog(LOG_NOTICE, "policy reloaded");
    certrole_free(rerr);
}

/* Answers requests on listen_on (NULL: the socket lighttpd passed as fd
 * 0) until libfcgi stops accepting: 0, or 1 when it cannot start. */
static int serve(certrole_ctx *ctx, const char *listen_on)
{
    if (FCGX_Init() != 0) {
        fprintf(stderr, "certrole-fcgi-authorizer: FCGX_Init failed\n");
        return 1;
    }
    int sock = 0;
    if (listen_on && (sock = FCGX_OpenSocket(listen_on, 64)) < 0) {
        fprintf(stderr, "certrole-fcgi-authorizer: cannot listen on %s\n", listen_on);
        return 1;
    }
    FCGX_Request req;
    if (FCGX_InitRequest(&req, sock, 0) != 0)
        return 1;
    while (FCGX_Accept_r(&req) >= 0) {
        reload_if_changed(ctx);
        handle(ctx, &req);
        FCGX_Finish_r(&req);
    }
    FCGX_Free(&req, 1);
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o;
    int status = 0;
    if (parse_args(argc, argv, &o, &status) != 0)
        return status;
    if (log_open(o.logto) != 0)
        return 2;

    certrole_ctx *ctx = NULL;
    char *err = NULL;
    certrole_code rc = certrole_open(&ctx, o.policy, &err);
    if (rc != CERTROLE_OK) {
        /* stderr as well: whoever started us by hand should see it */
        fprintf(stderr, "certrole-fcgi-authorizer: %s\n", err ? err : certrole_strerror(rc));
        alog(LOG_ERR, "%s", err ? err : certrole_strerror(rc));
        certrole_free(err);
        return 1;
    }
    certrole_set_log(ctx, log_sink, NULL);
    /* Before anything starts a thread: they all inherit SIGUSR1 blocked. */
    if (o.stats_path && stats_file_start(ctx, o.stats_path) != 0) {
        fprintf(stderr, "certrole-fcgi-authorizer: -S %s: %s\n", o.stats_path, strerror(errno));
        stats_file_stop();
        certrole_close(ctx);
        return 1;
    }

    /* SIGTERM keeps its default action: libfcgi restarts an interrupted
     * accept(), so a flag would never be seen; nothing needs flushing. */
    signal(SIGPIPE, SIG_IGN);

    status = serve(ctx, o.listen_on);
    stats_file_stop();
    certrole_close(ctx);
    return status;
}
