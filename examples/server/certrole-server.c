/*
 * certrole-server: a small HTTPS server built directly on OpenSSL and
 * certrole — the "custom server" integration, and the Acme invoice demo's
 * service.
 *
 *   certrole-server --policy P --cert server.pem --key server.key
 *                   [--port 8443|0] [--port-file F] [--bind 127.0.0.1]
 *                   [--serve /path=FILE[:content-type]] ...
 *
 * The TLS layer asks for a client certificate but accepts any (the verify
 * callback returns 1) so that certrole, not the handshake, decides and can
 * say why: a handshake failure gives the client no reason at all.
 * Each connection is verified once; keep-alive requests reuse the result.
 * SIGHUP reloads the policy; SIGTERM/SIGINT stop the server.
 */
#define _GNU_SOURCE
#include <certrole.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define MAX_ROUTES 16
#define MAX_REQUEST 8192

struct route {
    const char *path;
    char *body;
    size_t len;
    const char *type;
    char *file;
};

static struct route routes[MAX_ROUTES];
static int n_routes;
static certrole_ctx *ctx;
static SSL_CTX *ssl_ctx;
static volatile sig_atomic_t stop_flag, reload_flag;
static pthread_mutex_t conn_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t conn_done = PTHREAD_COND_INITIALIZER;
static int active_connections;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        reload_flag = 1;
    else
        stop_flag = 1;
}

static void log_stderr(void *ud, certrole_log_level level, const char *line)
{
    (void)ud;
    (void)level;
    fprintf(stderr, "certrole-server: %s\n", line);
}

static int accept_any(int ok, X509_STORE_CTX *x)
{
    (void)ok;
    (void)x;
    return 1;  /* certrole validates after the handshake */
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 4096 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        if (r == 0)
            break;
        n += r;
    }
    fclose(f);
    *len = n;
    return buf;
}

static int add_route(const char *spec)
{
    /* /path=FILE[:type] */
    const char *eq = strchr(spec, '=');
    if (!eq || spec[0] != '/' || n_routes == MAX_ROUTES)
        return -1;
    struct route *r = &routes[n_routes];
    r->path = strndup(spec, (size_t)(eq - spec));
    char *file = strdup(eq + 1);
    if (!r->path || !file)
        return -1;
    char *colon = strrchr(file, ':');
    r->type = "application/xml";
    if (colon) {
        *colon = '\0';
        r->type = colon + 1;
    }
    r->body = slurp(file, &r->len);
    r->file = file;
    if (!r->body) {
        fprintf(stderr, "certrole-server: cannot read %s: %s\n", file, strerror(errno));
        return -1;
    }
    n_routes++;
    return 0;
}

static void respond(SSL *ssl, int status, const char *reason, const char *type,
                    const char *extra_headers, const char *body, size_t len,
                    int keep_alive)
{
    char head[1024];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Connection: %s\r\n%s\r\n",
                     status, reason, type, len, keep_alive ? "keep-alive" : "close",
                     extra_headers ? extra_headers : "");
    if (n > 0 && (size_t)n < sizeof head)
        SSL_write(ssl, head, n);
    if (len)
        SSL_write(ssl, body, (int)len);
}

/* A denial names the code, the message and the hint, for people and tools. */
static void deny(SSL *ssl, int status, const char *reason, const certrole_result *res,
                 certrole_code code, int keep_alive)
{
    const char *msg = res ? certrole_result_message(res) : certrole_strerror(code);
    const char *hint = res ? certrole_result_hint(res) : "";
    if (code == CERTROLE_E_FORBIDDEN) {
        msg = "the certificate is valid and mapped, but lacks the role this resource requires";
        hint = "grant the user one of the roles of the matching 'require' rule";
    }
    char body[2048], headers[256];
    int n = snprintf(body, sizeof body, "%d %s\ncode: %s\nmessage: %s\nhint: %s\n",
                     status, reason, certrole_code_name(code), msg, hint);
    snprintf(headers, sizeof headers, "X-Certrole-Code: %s\r\n", certrole_code_name(code));
    respond(ssl, status, reason, "text/plain; charset=utf-8", headers, body,
            n > 0 ? ((size_t)n < sizeof body ? (size_t)n : sizeof body - 1) : 0, keep_alive);
}

/* Reads one request head; returns its length, 0 on EOF, -1 on error. */
static int read_request(SSL *ssl, char *buf, size_t cap)
{
    size_t n = 0;
    while (n + 1 < cap) {
        int r = SSL_read(ssl, buf + n, (int)(cap - n - 1));
        if (r <= 0)
            return n ? -1 : 0;
        n += (size_t)r;
        buf[n] = '\0';
        if (strstr(buf, "\r\n\r\n"))
            return (int)n;
    }
    return -1;
}

static void *serve_connection(void *arg)
{
    SSL *ssl = arg;
    certrole_result *res = NULL;
    certrole_code vcode = CERTROLE_E_INTERNAL;
    char *req = malloc(MAX_REQUEST);

    if (!req || SSL_accept(ssl) != 1)
        goto out;
    /* Once per connection: keep-alive requests reuse the decision. */
    vcode = certrole_verify_ssl(ctx, ssl, &res);

    for (;;) {
        int n = read_request(ssl, req, MAX_REQUEST);
        if (n <= 0)
            break;
        char method[16], path[2048];
        if (sscanf(req, "%15s %2047s HTTP/1.%*c", method, path) != 2) {
            respond(ssl, 400, "Bad Request", "text/plain", NULL, "bad request\n", 12, 0);
            break;
        }
        int keep = strcasestr(req, "\r\nConnection: close") == NULL;
        if (vcode == CERTROLE_E_NO_CERTIFICATE) {
            deny(ssl, 401, "Unauthorized", res, vcode, keep);
        } else {
            /* The raw target, decoded once by the library; the route is
             * looked up by the path it judged, so what is served is
             * exactly what the rules were asked about. */
            certrole_authz *az = NULL;
            certrole_code c = certrole_authorize_target(ctx, res, method, path,
                                                        CERTROLE_TARGET_RAW, &az);
            if (c != CERTROLE_OK) {
                deny(ssl, 403, "Forbidden", res, c, keep);
            } else {
                const char *judged = certrole_authz_path(az);
                const struct route *hit = NULL;
                for (int i = 0; i < n_routes; i++)
                    if (strcmp(routes[i].path, judged) == 0)
                        hit = &routes[i];
                char headers[512];
                snprintf(headers, sizeof headers, "X-Certrole-User: %s\r\n",
                         certrole_result_user(res) ? certrole_result_user(res) : "");
                if (hit)
                    respond(ssl, 200, "OK", hit->type, headers, hit->body, hit->len, keep);
                else
                    respond(ssl, 404, "Not Found", "text/plain", headers, "not found\n", 10, keep);
            }
            certrole_authz_free(az);
        }
        if (!keep)
            break;
    }
out:
    certrole_result_free(res);
    free(req);
    SSL_shutdown(ssl);
    int fd = SSL_get_fd(ssl);
    SSL_free(ssl);
    if (fd >= 0)
        close(fd);
    pthread_mutex_lock(&conn_lock);
    active_connections--;
    pthread_cond_signal(&conn_done);
    pthread_mutex_unlock(&conn_lock);
    return NULL;
}

static void usage(void)
{
    fprintf(stderr, "usage: certrole-server --policy FILE --cert PEM --key PEM "
                    "[--port N|0] [--port-file F] [--bind ADDR] [--serve /path=FILE[:type]]...\n");
}

int main(int argc, char **argv)
{
    const char *policy = NULL, *cert = NULL, *key = NULL, *bind_addr = "127.0.0.1";
    const char *port_file = NULL;
    int port = 8443;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            usage();
            return 2;
        }
        if (!strcmp(a, "--policy"))
            policy = v;
        else if (!strcmp(a, "--cert"))
            cert = v;
        else if (!strcmp(a, "--key"))
            key = v;
        else if (!strcmp(a, "--port"))
            port = atoi(v);
        else if (!strcmp(a, "--port-file"))
            port_file = v;
        else if (!strcmp(a, "--bind"))
            bind_addr = v;
        else if (!strcmp(a, "--serve")) {
            if (add_route(v) < 0) {
                usage();
                return 2;
            }
        } else {
            usage();
            return 2;
        }
        i++;
    }
    if (!policy || !cert || !key || port < 0 || port > 65535) {
        usage();
        return 2;
    }

    char *err = NULL;
    if (certrole_open(&ctx, policy, &err) != CERTROLE_OK) {
        fprintf(stderr, "certrole-server: policy refused: %s\n", err ? err : "?");
        certrole_free(err);
        return 2;
    }
    certrole_set_log(ctx, log_stderr, NULL);

    ssl_ctx = SSL_CTX_new(TLS_server_method());
    if (!ssl_ctx || !SSL_CTX_set_min_proto_version(ssl_ctx, TLS1_2_VERSION) ||
        SSL_CTX_use_certificate_chain_file(ssl_ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ssl_ctx, key, SSL_FILETYPE_PEM) != 1) {
        fprintf(stderr, "certrole-server: cannot load %s / %s\n", cert, key);
        ERR_print_errors_fp(stderr);
        return 2;
    }
    SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_PEER, accept_any);

    int s = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    if (inet_pton(AF_INET, bind_addr, &sa.sin_addr) != 1 ||
        bind(s, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(s, 64) != 0) {
        fprintf(stderr, "certrole-server: cannot listen on %s:%d: %s\n", bind_addr, port,
                strerror(errno));
        return 2;
    }

    /* --port 0 picks a free port; --port-file tells it to the caller. */
    socklen_t salen = sizeof sa;
    getsockname(s, (struct sockaddr *)&sa, &salen);
    port = ntohs(sa.sin_port);
    if (port_file) {
        FILE *pf = fopen(port_file, "w");
        if (!pf || fprintf(pf, "%d\n", port) < 0 || fclose(pf) != 0) {
            fprintf(stderr, "certrole-server: cannot write %s\n", port_file);
            return 2;
        }
    }

    struct sigaction act = { .sa_handler = on_signal };
    sigaction(SIGTERM, &act, NULL);
    sigaction(SIGINT, &act, NULL);
    sigaction(SIGHUP, &act, NULL);
    signal(SIGPIPE, SIG_IGN);
    fprintf(stderr, "certrole-server: listening on https://%s:%d/\n", bind_addr, port);

    while (!stop_flag) {
        if (reload_flag) {
            reload_flag = 0;
            if (certrole_reload(ctx, &err) != CERTROLE_OK)
                fprintf(stderr, "certrole-server: reload refused, old policy kept: %s\n", err);
            certrole_free(err);
            err = NULL;
        }
        int c = accept(s, NULL, NULL);
        if (c < 0)
            continue;  /* EINTR from a signal: re-check the flags */
        SSL *ssl = SSL_new(ssl_ctx);
        if (!ssl) {
            close(c);
            continue;
        }
        SSL_set_fd(ssl, c);
        /* A stalled client must not pin a thread forever. */
        struct timeval tv = { .tv_sec = 10 };
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        pthread_mutex_lock(&conn_lock);
        active_connections++;
        pthread_mutex_unlock(&conn_lock);
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, serve_connection, ssl) != 0) {
            SSL_free(ssl);
            close(c);
            pthread_mutex_lock(&conn_lock);
            active_connections--;
            pthread_mutex_unlock(&conn_lock);
        }
        pthread_attr_destroy(&attr);
    }
    close(s);
    /* Let connections in flight finish (their sockets time out) before
     * the context they use goes away. */
    pthread_mutex_lock(&conn_lock);
    while (active_connections > 0)
        pthread_cond_wait(&conn_done, &conn_lock);
    pthread_mutex_unlock(&conn_lock);
    certrole_close(ctx);
    SSL_CTX_free(ssl_ctx);
    for (int i = 0; i < n_routes; i++) {
        free((char *)routes[i].path);
        free(routes[i].body);
        free(routes[i].file);
    }
    fprintf(stderr, "certrole-server: stopped\n");
    return 0;
}
