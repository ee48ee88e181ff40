/* Figure 6 of the benchmark: mTLS requests per second through a real
 * nginx on loopback, with the certrole module (certrole on, the Acme
 * policy, a require rule) against the same nginx with only
 * "ssl_verify_client on" (same CA, same CRLs). Both serve the same small
 * static file; the two servers run one after the other, round by round.
 * Twice: over keepalive connections, and with a full handshake for every
 * request from a returning client (the same certificate each time). */
#define _GNU_SOURCE
#include "bench.h"
#include "testutil.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CLIENT_DN "CN=CRMApplication,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US"
#define PATH "/InvoiceService/list"

struct srv {
    char *dir;
    int port;
    pid_t pid;
};

#define CONF_FMT \
    "%s" \
    "error_log %s/error.log warn;\n" \
    "pid %s/nginx.pid;\n" \
    "worker_processes 1;\n" \
    "events { worker_connections 256; }\n" \
    "http {\n" \
    "    client_body_temp_path %s/body; proxy_temp_path %s/proxy;\n" \
    "    fastcgi_temp_path %s/fastcgi; uwsgi_temp_path %s/uwsgi; scgi_temp_path %s/scgi;\n" \
    "    access_log off;\n" \
    "    keepalive_requests 10000000;\n" \
    "%s" \
    "    server {\n" \
    "        listen 127.0.0.1:%d ssl;\n" \
    "        ssl_certificate %s/server-chain.pem;\n" \
    "        ssl_certificate_key %s/server.key;\n" \
    "        ssl_verify_client on;\n" \
    "        ssl_client_certificate %s/ca-file.pem;\n" \
    "        ssl_crl %s/crl.pem;\n" \
    "        ssl_verify_depth 5;\n" \
    "%s" \
    "        root %s/www;\n" \
    "        location /admin/ {\n%s        }\n" \
    "    }\n" \
    "}\n"

static int srv_start(struct srv *s, const char *nginx, const char *module)
{
    memset(s, 0, sizeof *s);
    const char *pki = getenv("CERTROLE_PKI");
    if (!(s->dir = bench_tmpdir(module ? "nginx-mod" : "nginx-base")))
        return -1;
    const char *d = s->dir;
    /* nginx's workers may run as an unprivileged user: they read www/ */
    if (chmod(d, 0755) != 0) {
        bench_error("chmod %s failed", d);
        return -1;
    }
    s->port = tu_free_port();
    char *www = bench_strf("%s/www/InvoiceService", d), *page = bench_strf("%s/list", www);
    char *adm = bench_strf("%s/www/admin", d), *admpage = bench_strf("%s/x", adm);
    char *realm = bench_strf("%s/users.realm", d), *pol = bench_strf("%s/acme.policy", d);
    char *policy = bench_strf(
        "trust ca-file=%s/ca-file.pem crl-file=%s/crl.pem crl-check=chain purpose=sslclient\n"
        "realm required file path=users.realm\n"
        "require GET " PATH " invoice-readonly\n", pki, pki);
    char *lm = module ? bench_strf("load_module %s;\n", module) : strdup("");
    char *cp = module ? bench_strf("    certrole_policy %s;\n", pol) : strdup("");
    char *on = module ? strdup("        certrole on;\n") : strdup("");
    char *req = module ? strdup("            certrole_require admin;\n") : strdup("");
    char *conf = bench_strf(CONF_FMT, lm ? lm : "", d, d, d, d, d, d, d, cp ? cp : "", s->port,
                            pki, pki, pki, pki, on ? on : "", d, req ? req : "");
    char *confp = bench_strf("%s/nginx.conf", d), *log = bench_strf("%s/stderr.log", d);
    int rc = -1;
    if (!www || !page || !adm || !admpage || !realm || !pol || !policy || !conf || !confp || !log)
        goto out;
    char *mk = bench_strf("mkdir -p '%s' '%s'", www, adm);
    int mkrc = mk ? system(mk) : -1;
    free(mk);
    if (mkrc != 0 || bench_write(page, "invoice list\n") < 0 || bench_write(admpage, "admin\n") < 0 ||
        bench_write(realm, "\"" CLIENT_DN "\" invoice-readonly user=crm\n") < 0 ||
        bench_write(pol, policy) < 0 || bench_write(confp, conf) < 0)
        goto out;
    char *const argv[] = { (char *)nginx, "-p", s->dir, "-c", confp,
                           "-g", "daemon off; master_process on;", NULL };
    s->pid = tu_spawn(argv, log);
    if (s->pid <= 0 || tu_wait_port(s->port, 10000) != 0) {
        char *el = tu_read_file(log, NULL);
        bench_error("nginx did not start: %s", el ? el : "");
        free(el);
        goto out;
    }
    rc = 0;
out:
    free(www); free(page); free(adm); free(admpage); free(realm); free(pol); free(policy);
    free(lm); free(cp); free(on); free(req); free(conf); free(confp); free(log);
    return rc;
}

static void srv_stop(struct srv *s)
{
    if (s->pid > 0)
        tu_stop(s->pid);
    s->pid = 0;
    free(s->dir);
    s->dir = NULL;
}

static void nginx_body(void)
{
    const char *fig = "nginx keepalive mTLS req/s, module / ssl_verify_client only";
    const char *target = ">= 0.97";
    static char nginx[4096];
    const char *env = getenv("NGINX");
    if (!nginx[0] && env)
        snprintf(nginx, sizeof nginx, "%s", env);
    unsetenv("NGINX");   /* nginx reads $NGINX itself (inherited sockets) */
    if (!nginx[0] || access(nginx, X_OK) != 0) {
        bench_skip(fig, target, "nginx is not installed");
        return;
    }
    const char *bd = getenv("CERTROLE_BUILDDIR");
    char *module = bench_strf("%s/servers/nginx/ngx_http_certrole_module.so", bd ? bd : ".");
    char *skip = bench_strf("%s.skip", module ? module : "");
    struct stat st;
    if (!module || stat(module, &st) != 0) {
        char *why = skip ? tu_read_file(skip, NULL) : NULL;
        if (why)
            why[strcspn(why, "\n")] = '\0';
        bench_skip(fig, target, why && *why ? why : "the module was not built (make nginx-module)");
        free(why);
        free(module);
        free(skip);
        return;
    }
    char *cert = bench_pki("client-chain.pem"), *key = bench_pki("client.key");
    struct srv base, mod;
    int ok = srv_start(&base, nginx, NULL) == 0;
    ok = srv_start(&mod, nginx, module) == 0 && ok;
    if (ok) {
        /* the module is really in the path: a role it does not grant is refused */
        int a = bench_tls_status(mod.port, cert, key, "/admin/x");
        int b = bench_tls_status(base.port, cert, key, "/admin/x");
        if (a != 403 || b != 200) {
            bench_error("nginx sanity: /admin/x gave %d with the module (want 403), %d without"
                        " (want 200)", a, b);
            ok = 0;
        }
    }
    double best_base = 0, best_mod = 0, hs_base = 0, hs_mod = 0;
    for (int r = 0; ok && r < 3; r++) {
        double x = bench_tls_load(base.port, cert, key, PATH, 2, 1.5);
        double y = bench_tls_load(mod.port, cert, key, PATH, 2, 1.5);
        double hx = x < 0 ? -1 : bench_tls_handshakes(base.port, cert, key, PATH, 2, 1.5);
        double hy = hx < 0 ? -1 : bench_tls_handshakes(mod.port, cert, key, PATH, 2, 1.5);
        if (x < 0 || y < 0 || hx < 0 || hy < 0) {
            ok = 0;
            break;
        }
        if (x > best_base) best_base = x;
        if (y > best_mod) best_mod = y;
        if (hx > hs_base) hs_base = hx;
        if (hy > hs_mod) hs_mod = hy;
    }
    srv_stop(&base);
    srv_stop(&mod);
    if (ok) {
        char m[128];
        double ratio = best_mod / best_base;
        snprintf(m, sizeof m, "%.3f (%.0f vs %.0f req/s)", ratio, best_mod, best_base);
        bench_row(fig, m, target, ratio >= 0.97);
        ratio = hs_mod / hs_base;
        snprintf(m, sizeof m, "%.3f (%.0f vs %.0f handshakes/s)", ratio, hs_mod, hs_base);
        bench_row("nginx full handshakes/s, returning client, module / ssl_verify_client only",
                  m, ">= 1.10", ratio >= 1.10);
    }
    free(cert); free(key); free(module); free(skip);
}

void bench_nginx(void)
{
    bench_in_check("nginx benchmark", nginx_body);
}
