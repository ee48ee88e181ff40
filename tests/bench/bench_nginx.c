/* Figure 6 of the benchmark: mTLS through a real nginx on loopback, with
 * the certrole module (certrole on, the Acme policy, a require rule)
 * against the same nginx with only "ssl_verify_client on",
 * "ssl_client_certificate" and "ssl_crl" (same CA, same CRLs: nginx then
 * checks the CRL of every certificate of the chain, as crl-check=chain
 * does). Both serve the same small static file; the two servers take
 * turns, round by round. Three figures: requests per second over
 * keepalive connections; full handshakes per second from several client
 * processes, each connection a new client certificate; and the same from
 * returning clients (a few certificates over and over). */
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

static int srv_start(struct srv *s, const char *nginx, const char *module, const char *realm_text)
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
        bench_write(realm, realm_text) < 0 ||
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

/* Handshake load: HS_TOTAL full handshakes per measurement from
 * HS_PROCS client processes (CERTROLE_BENCH_CLIENTS=2..4 to change),
 * HS_ROUNDS rounds. New clients never repeat a certificate over the
 * whole run (a certificate goes once to each server), returning clients
 * cycle over the pool's first HS_FEW certificates. */
#define HS_TOTAL 200
#define HS_ROUNDS 5
#define HS_FEW 4
#define HS_FIRST HS_FEW
#define HS_PROCS 3

/* a followed by b, both freed (malloc'd, or NULL) */
static char *strjoin_free(char *a, char *b)
{
    char *j = a && b ? bench_strf("%s%s", a, b) : NULL;
    free(a);
    free(b);
    return j;
}

/* The module is really in the path (a role it does not grant is refused)
 * and the baseline really checks CRLs (a revoked client is refused). */
static int sanity(const struct srv *base, const struct srv *mod, const char *cert,
                  const char *key)
{
    char *rc = bench_pki("revoked-chain.pem"), *rk = bench_pki("revoked.key");
    int a = bench_tls_status(mod->port, cert, key, "/admin/x");
    int b = bench_tls_status(base->port, cert, key, "/admin/x");
    int c = rc && rk ? bench_tls_status(base->port, rc, rk, PATH) : 0;
    int d = rc && rk ? bench_tls_status(mod->port, rc, rk, PATH) : 0;
    free(rc);
    free(rk);
    if (a != 403 || b != 200 || c == 200 || d == 200) {
        bench_error("nginx sanity: /admin/x gave %d with the module (want 403), %d without"
                    " (want 200); a revoked client got %d without the module, %d with it"
                    " (want a refusal)", a, b, c, d);
        return -1;
    }
    return 0;
}

static int hs_procs(void)
{
    const char *e = getenv("CERTROLE_BENCH_CLIENTS");
    int n = e ? atoi(e) : HS_PROCS;
    return n < 2 ? 2 : n > 4 ? 4 : n;
}

static void ratio_row(const char *fig, double mod, double base, const char *unit,
                      const char *target, double min)
{
    char m[128];
    double ratio = mod / base;
    snprintf(m, sizeof m, "%.3f (%.0f vs %.0f %s)", ratio, mod, base, unit);
    bench_row(fig, m, target, ratio >= min);
}

/* Round by round, figure by figure, the two servers one right after the
 * other (the order alternating), so that a change in the machine's load
 * falls on both: keepalive req/s, full handshakes from new clients, full
 * handshakes from returning clients. The best round of each is kept. */
static void measure(const struct srv *base, const struct srv *mod, const struct bench_pool *pool,
                    const char *cert, const char *key)
{
    double ka[2] = { 0, 0 }, nw[2] = { 0, 0 }, rt[2] = { 0, 0 };
    const struct srv *s[2] = { base, mod };
    int np = hs_procs();
    for (int r = 0; r < HS_ROUNDS; r++) {
        double x[2], y[2], z[2];
        for (int k = 0; k < 2; k++) {
            int i = (r + k) % 2;
            if ((x[i] = bench_tls_load(s[i]->port, cert, key, PATH, 2, 1.0)) < 0)
                return;
        }
        for (int k = 0; k < 2; k++) {
            int i = (r + k + 1) % 2;
            if ((y[i] = bench_hs_forked(s[i]->port, pool, PATH, HS_FIRST + r * HS_TOTAL,
                                        HS_TOTAL, HS_TOTAL, np)) < 0)
                return;
        }
        for (int k = 0; k < 2; k++) {
            int i = (r + k) % 2;
            if ((z[i] = bench_hs_forked(s[i]->port, pool, PATH, 0, HS_FEW, HS_TOTAL, np)) < 0)
                return;
        }
        for (int i = 0; i < 2; i++) {
            if (x[i] > ka[i]) ka[i] = x[i];
            if (y[i] > nw[i]) nw[i] = y[i];
            if (z[i] > rt[i]) rt[i] = z[i];
        }
    }
    ratio_row("nginx keepalive mTLS req/s, module / ssl_verify_client+ssl_crl only",
              ka[1], ka[0], "req/s", ">= 0.99", 0.99);
    char fig[160];
    snprintf(fig, sizeof fig, "nginx full handshakes/s, new clients, %d procs, module / ssl_verify_client+ssl_crl", np);
    ratio_row(fig, nw[1], nw[0], "hs/s", ">= 1.00", 1.00);
    snprintf(fig, sizeof fig, "nginx full handshakes/s, returning clients, %d procs, module / ssl_verify_client+ssl_crl", np);
    ratio_row(fig, rt[1], rt[0], "hs/s", ">= 1.10", 1.10);
}

static void nginx_body(void)
{
    const char *fig = "nginx keepalive mTLS req/s, full handshakes/s (new, returning clients)";
    const char *target = ">= 0.99, >= 1.00, >= 1.10";
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
    struct bench_pool pool;
    char *realm = NULL;
    struct srv base = { 0 }, mod = { 0 };
    int ok = bench_pool_make(&pool, HS_FIRST + HS_ROUNDS * HS_TOTAL) == 0;
    if (ok && (!(realm = bench_pool_realm(&pool, "invoice-readonly user=bench")) ||
               !(realm = strjoin_free(bench_strf("\"" CLIENT_DN "\" invoice-readonly user=crm\n"),
                                      realm))))
        ok = 0;
    ok = ok && srv_start(&base, nginx, NULL, realm) == 0;
    ok = ok && srv_start(&mod, nginx, module, realm) == 0;
    ok = ok && sanity(&base, &mod, cert, key) == 0;
    if (ok)
        measure(&base, &mod, &pool, cert, key);
    srv_stop(&base);
    srv_stop(&mod);
    bench_pool_free(&pool);
    free(realm); free(cert); free(key); free(module); free(skip);
}

void bench_nginx(void)
{
    bench_in_check("nginx benchmark", nginx_body);
}
