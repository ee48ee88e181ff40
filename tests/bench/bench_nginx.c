/* Figure 6 of the benchmark: mTLS through a real nginx on loopback, with
 * the certrole module (certrole on, the Acme policy, a require rule)
 * against the same nginx with only "ssl_verify_client on",
 * "ssl_client_certificate" and "ssl_crl" (same CA, same CRLs: nginx then
 * checks the CRL of every certificate of the chain, as crl-check=chain
 * does). Both serve the same small static file; the two servers take
 * turns, round by round. The figures: requests per second over
 * keepalive connections; full handshakes per second from several client
 * processes, each connection a new client certificate, and the same from
 * returning clients (a few certificates over and over), each with the
 * server answering with a P-256 and with an RSA-2048 key; beside each,
 * the worker's CPU time per handshake (the server's capacity, which the
 * clients sharing the machine do not blur). A third nginx checking no
 * client chain is measured for reference. */
#define _GNU_SOURCE
#include "bench.h"
#include "testutil.h"
#include <sched.h>
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
    pid_t worker;               /* its one worker process */
};

#define CONF_FMT \
    "%s" \
    "error_log %s/error.log warn;\n" \
    "pid %s/nginx.pid;\n" \
    "worker_processes 1;\n" \
    "%s" \
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
    "        ssl_certificate %s/server-p256-chain.pem;\n" \
    "        ssl_certificate_key %s/server-p256.key;\n" \
    "%s" \
    "        ssl_verify_depth 5;\n" \
    "%s" \
    "        root %s/www;\n" \
    "        location /admin/ {\n%s        }\n" \
    "    }\n" \
    "}\n"

/* With two CPUs or more to run on, nginx's one worker gets the first and
 * the clients the second (bench_hs): a full handshake costs the client
 * about as much as the server, and sharing CPUs with the clients would
 * measure the machine, not the server. The n-th CPU this process may use
 * (0-based), or -1 when there is none: then nothing is pinned. */
static int usable_cpu(int n)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0 || CPU_COUNT(&set) < 2)
        return -1;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, &set) && n-- == 0)
            return cpu;
    return -1;
}

/* Decided once, before measure() pins this process to it. */
static int client_cpu(void)
{
    static int cpu = -2;
    if (cpu == -2)
        cpu = usable_cpu(1);
    return cpu;
}

/* "worker_cpu_affinity MASK;" for the worker's CPU, or "" (malloc'd). */
static char *worker_pin(void)
{
    int cpu = usable_cpu(0);
    if (cpu < 0 || client_cpu() < 0 || cpu > 63)
        return strdup("");
    char mask[66];
    for (int i = 0; i <= cpu; i++)
        mask[i] = i == 0 ? '1' : '0';   /* the rightmost digit is CPU 0 */
    mask[cpu + 1] = '\0';
    return bench_strf("worker_cpu_affinity %s;\n", mask);
}

/* verify 0: a server that checks no client chain ("optional_no_ca" and
 * no CA: OpenSSL gives up at the first issuer lookup, no signature is
 * checked), for reference: what a handshake costs with next to no
 * verification. */
static int srv_start(struct srv *s, const char *nginx, const char *module, const char *realm_text,
                     const struct bench_pool *pool, int verify)
{
    memset(s, 0, sizeof *s);
    const char *pki = getenv("CERTROLE_PKI");
    if (!(s->dir = bench_tmpdir(module ? "nginx-mod" : verify ? "nginx-base" : "nginx-none")))
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
    char *pin = worker_pin();
    char *vc = verify ? bench_strf("        ssl_verify_client on;\n"
                                   "        ssl_client_certificate %s/ca-file.pem;\n"
                                   "        ssl_crl %s/crl.pem;\n", pki, pki)
                      : strdup("        ssl_verify_client optional_no_ca;\n");
    char *conf = bench_strf(CONF_FMT, lm ? lm : "", d, d, pin ? pin : "", d, d, d, d, d, cp ? cp : "",
                            s->port, pki, pki, d, d, vc ? vc : "", on ? on : "", d,
                            req ? req : "");
    char *confp = bench_strf("%s/nginx.conf", d), *log = bench_strf("%s/stderr.log", d);
    char *ecc = bench_strf("%s/server-p256-chain.pem", d), *eck = bench_strf("%s/server-p256.key", d);
    int rc = -1;
    if (!www || !page || !adm || !admpage || !realm || !pol || !policy || !conf || !confp ||
        !log || !ecc || !eck || bench_pool_write_server(pool, ecc, eck) < 0)
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
    for (int i = 0; i < 200 && (s->worker = bench_child_of(s->pid)) < 0; i++)
        usleep(10000);
    if (s->worker < 0) {
        bench_error("nginx started no worker process");
        goto out;
    }
    rc = 0;
out:
    free(www); free(page); free(adm); free(admpage); free(realm); free(pol); free(policy);
    free(lm); free(cp); free(on); free(req); free(conf); free(confp); free(log);
    free(ecc); free(eck); free(vc); free(pin);
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

/* The handshake figures, per server key type: new clients, then
 * returning ones. */
#define HS_FIGS 4
static const struct hs_fig {
    enum bench_server_key key;
    int returning;
    const char *what;
} hs_figs[HS_FIGS] = {
    { BENCH_SERVER_P256, 0, "new clients, P-256 server key" },
    { BENCH_SERVER_P256, 1, "returning clients, P-256 server key" },
    { BENCH_SERVER_RSA2048, 0, "new clients, RSA-2048 server key" },
    { BENCH_SERVER_RSA2048, 1, "returning clients, RSA-2048 server key" },
};

/* The f-th handshake figure's load on port, in round r. */
static struct bench_hs hs_load(int f, int r, int port, int np)
{
    /* new clients: a slice of the pool of their own per figure and round */
    int new_slices = 0;
    for (int k = 0; k < f; k++)
        new_slices += !hs_figs[k].returning;
    struct bench_hs h = {
        .port = port, .path = PATH, .total = HS_TOTAL, .nproc = np,
        .server_key = hs_figs[f].key, .client_cpu = client_cpu(),
        .first = hs_figs[f].returning ? 0 : HS_FIRST + (new_slices * HS_ROUNDS + r) * HS_TOTAL,
        .ncerts = hs_figs[f].returning ? HS_FEW : HS_TOTAL,
    };
    return h;
}

/* What the rounds measured, [figure][0 = nginx alone, 1 = the module]:
 * the best round of each. */
struct results {
    double ka[2];               /* keepalive req/s */
    double hs[HS_FIGS][2];      /* full handshakes/s */
    double cpu[HS_FIGS][2];     /* worker CPU seconds per full handshake */
    double cpu_none[HS_FIGS];   /* the same, nginx checking no client chain */
};

static void hs_failed(const struct srv *s, int module, int f)
{
    char *el = bench_strf("%s/error.log", s->dir);
    char *t = el ? tu_read_file(el, NULL) : NULL;
    bench_error("%s server, %s: its error log says: %s", module ? "the module's" : "the baseline",
                hs_figs[f].what, t ? t : "(nothing)");
    free(t);
    free(el);
}

/* The f-th figure's load on the server checking no client chain: its
 * worker's CPU per handshake into *best when lower. 0 or -1. */
static int hs_none(const struct srv *s, const struct bench_pool *pool, int f, int r, int np,
                   double *best)
{
    struct bench_hs h = hs_load(f, r, s->port, np);
    double c0 = bench_cpu_of(s->worker);
    if (bench_hs_forked(pool, &h) < 0) {
        hs_failed(s, 0, f);
        return -1;
    }
    double c1 = bench_cpu_of(s->worker);
    if (c0 >= 0 && c1 >= c0 && (c1 - c0) / h.total < *best)
        *best = (c1 - c0) / h.total;
    return 0;
}

/* Round by round, figure by figure, the two servers one right after the
 * other (the order alternating), so that a change in the machine's load
 * falls on both: keepalive req/s, then the handshake figures. 0, or -1
 * on an error (recorded). */
static int run_rounds(const struct srv *const s[3], const struct bench_pool *pool,
                      const char *cert, const char *key, int np, struct results *out)
{
    memset(out, 0, sizeof *out);
    for (int f = 0; f < HS_FIGS; f++)
        out->cpu[f][0] = out->cpu[f][1] = out->cpu_none[f] = 1e9;
    for (int r = 0; r < HS_ROUNDS; r++) {
        for (int k = 0; k < 2; k++) {
            int i = (r + k) % 2;
            double x = bench_tls_load(s[i]->port, cert, key, PATH, 2, 1.0);
            if (x < 0)
                return -1;
            if (x > out->ka[i])
                out->ka[i] = x;
        }
        for (int f = 0; f < HS_FIGS; f++)
            for (int k = 0; k < 2; k++) {
                int i = (r + k + f + 1) % 2;
                struct bench_hs h = hs_load(f, r, s[i]->port, np);
                double c0 = bench_cpu_of(s[i]->worker);
                double y = bench_hs_forked(pool, &h);
                double c1 = bench_cpu_of(s[i]->worker);
                if (y < 0) {
                    hs_failed(s[i], i, f);
                    return -1;
                }
                if (y > out->hs[f][i])
                    out->hs[f][i] = y;
                if (c0 >= 0 && c1 >= c0 && (c1 - c0) / h.total < out->cpu[f][i])
                    out->cpu[f][i] = (c1 - c0) / h.total;
            }
        for (int f = 0; f < HS_FIGS; f++)
            if (hs_figs[f].returning && hs_none(s[2], pool, f, r, np, &out->cpu_none[f]) < 0)
                return -1;
    }
    return 0;
}

static void report(const struct results *res, int np)
{
    ratio_row("nginx keepalive mTLS req/s, module / ssl_verify_client+ssl_crl only",
              res->ka[1], res->ka[0], "req/s", ">= 0.99", 0.99);
    for (int f = 0; f < HS_FIGS; f++) {
        const char *target = hs_figs[f].returning ? ">= 1.10" : ">= 1.00";
        double min = hs_figs[f].returning ? 1.10 : 1.00;
        const double *cpu = res->cpu[f];
        char fig[160], m[128];
        snprintf(fig, sizeof fig, "nginx full handshakes/s, %s, %d procs, module / ssl_verify_client+ssl_crl",
                 hs_figs[f].what, np);
        ratio_row(fig, res->hs[f][1], res->hs[f][0], "hs/s", target, min);
        snprintf(fig, sizeof fig, "nginx worker CPU per full handshake, %s, nginx alone / module",
                 hs_figs[f].what);
        snprintf(m, sizeof m, "%.3f (%.0f us vs %.0f us)", cpu[0] / cpu[1], cpu[1] * 1e6,
                 cpu[0] * 1e6);
        bench_row(fig, m, target, cpu[0] / cpu[1] >= min);
        if (hs_figs[f].returning) {
            /* For reference: the same handshake with no chain checked. Not
             * a floor: OpenSSL still builds the chain, fails at the first
             * issuer and queues the error, which certrole's callback,
             * replacing the whole verification, does not. */
            snprintf(fig, sizeof fig, "... nginx checking no client chain (optional_no_ca), %s, nginx alone / it",
                     hs_figs[f].what);
            snprintf(m, sizeof m, "%.3f (%.0f us vs %.0f us)", cpu[0] / res->cpu_none[f],
                     res->cpu_none[f] * 1e6, cpu[0] * 1e6);
            bench_info(fig, m, "(reference)");
        }
    }
}

static void measure(const struct srv *base, const struct srv *mod, const struct srv *none,
                    const struct bench_pool *pool, const char *cert, const char *key)
{
    const struct srv *const s[3] = { base, mod, none };
    int np = hs_procs();
    /* the keepalive load's threads on the clients' CPU too (they inherit it) */
    cpu_set_t all, one;
    int pinned = client_cpu() >= 0 && sched_getaffinity(0, sizeof all, &all) == 0;
    if (pinned) {
        CPU_ZERO(&one);
        CPU_SET(client_cpu(), &one);
        pinned = sched_setaffinity(0, sizeof one, &one) == 0;
    }
    struct results res;
    int rc = run_rounds(s, pool, cert, key, np, &res);
    if (pinned)
        (void)sched_setaffinity(0, sizeof all, &all);
    if (rc == 0)
        report(&res, np);
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
    struct srv base = { 0 }, mod = { 0 }, none = { 0 };
    int ok = bench_pool_make(&pool, HS_FIRST + 2 * HS_ROUNDS * HS_TOTAL) == 0;
    if (ok && (!(realm = bench_pool_realm(&pool, "invoice-readonly user=bench")) ||
               !(realm = strjoin_free(bench_strf("\"" CLIENT_DN "\" invoice-readonly user=crm\n"),
                                      realm))))
        ok = 0;
    ok = ok && srv_start(&base, nginx, NULL, realm, &pool, 1) == 0;
    ok = ok && srv_start(&mod, nginx, module, realm, &pool, 1) == 0;
    ok = ok && srv_start(&none, nginx, NULL, realm, &pool, 0) == 0;
    ok = ok && sanity(&base, &mod, cert, key) == 0;
    if (ok)
        measure(&base, &mod, &none, &pool, cert, key);
    srv_stop(&base);
    srv_stop(&mod);
    srv_stop(&none);
    bench_pool_free(&pool);
    free(realm); free(cert); free(key); free(module); free(skip);
}

void bench_nginx(void)
{
    bench_in_check("nginx benchmark", nginx_body);
}
