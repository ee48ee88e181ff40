/* The lighttpd figure of the benchmark: keepalive mTLS requests per second
 * through a real lighttpd on loopback with certrole-fcgi-authorizer in
 * front (FastCGI authorizer mode, the Acme policy), against the same
 * lighttpd with only mod_openssl's client verification (same CA). Both
 * serve the same small static file; the two run one after the other,
 * round by round. The authorizer verifies the exported certificate on
 * every request (certrole_verify_pem, answered from the cache after the
 * first), so the ratio is the price of one FastCGI round trip plus a
 * cached verification and the policy decision. */
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
    pid_t pid, auth;
};

#define CONF_FMT \
    "server.modules = ( \"mod_openssl\", \"mod_fastcgi\" )\n" \
    "server.document-root = \"%s/www\"\n" \
    "server.bind = \"127.0.0.1\"\n" \
    "server.port = %d\n" \
    "server.errorlog = \"%s/error.log\"\n" \
    "server.max-keep-alive-requests = 65535\n" \
    "server.max-keep-alive-idle = 30\n" \
    "ssl.engine = \"enable\"\n" \
    "ssl.pemfile = \"%s/server-chain.pem\"\n" \
    "ssl.privkey = \"%s/server.key\"\n" \
    "ssl.ca-file = \"%s/ca-file.pem\"\n" \
    "ssl.verifyclient.activate = \"enable\"\n" \
    "ssl.verifyclient.enforce = \"%s\"\n" \
    "ssl.verifyclient.exportcert = \"enable\"\n" \
    "ssl.verifyclient.depth = 5\n" \
    "%s"

#define AUTH_FMT \
    "fastcgi.server = ( \"/\" => (( \"socket\" => \"%s/authorizer.sock\",\n" \
    "    \"mode\" => \"authorizer\", \"check-local\" => \"disable\",\n" \
    "    \"docroot\" => \"%s/www\" )) )\n"

/* certrole-fcgi-authorizer on dir/authorizer.sock; 0 or -1 */
static int auth_start(struct srv *s, const char *authorizer, const char *pol)
{
    char *sock = bench_strf("%s/authorizer.sock", s->dir), *log = bench_strf("%s/auth.log", s->dir);
    /* audit lines formatted and dropped, as in the other figures */
    char *const argv[] = { (char *)authorizer, "-p", (char *)pol, "-s", sock,
                           "-l", "/dev/null", NULL };
    s->auth = tu_spawn(argv, log);
    struct stat st;
    for (int i = 0; s->auth > 0 && i < 200 && stat(sock, &st) != 0; i++)
        usleep(50000);
    int rc = s->auth > 0 && stat(sock, &st) == 0 ? 0 : -1;
    if (rc != 0) {
        char *el = tu_read_file(log, NULL);
        bench_error("the authorizer did not start: %s", el ? el : "");
        free(el);
    }
    free(sock); free(log);
    return rc;
}

static int srv_files(const char *d, const char *pki)
{
    char *mk = bench_strf("mkdir -p '%s/www/InvoiceService' '%s/www/admin'", d, d);
    char *page = bench_strf("%s/www/InvoiceService/list", d), *adm = bench_strf("%s/www/admin/x", d);
    char *realm = bench_strf("%s/users.realm", d), *pol = bench_strf("%s/acme.policy", d);
    /* lighttpd exports the leaf only: the anchors file also holds the
     * issuing CA so certrole can complete the chain */
    char *rp = bench_strf("%s/root-ca.pem", pki), *ip = bench_strf("%s/int-ca.pem", pki);
    char *root = rp ? tu_read_file(rp, NULL) : NULL, *inter = ip ? tu_read_file(ip, NULL) : NULL;
    char *bundle = root && inter ? bench_strf("%s%s", root, inter) : NULL;
    char *bpath = bench_strf("%s/ca-bundle.pem", d);
    char *policy = bench_strf(
        "trust ca-file=%s crl-file=%s/crl.pem crl-check=chain purpose=sslclient\n"
        "realm required file path=users.realm\n"
        "require GET " PATH " invoice-readonly\n"
        "require * /admin admin\n", bpath, pki);
    int rc = mk && bundle && bpath && bench_write(bpath, bundle) == 0 &&
             system(mk) == 0 && bench_write(page, "invoice list\n") == 0 &&
             bench_write(adm, "admin\n") == 0 &&
             bench_write(realm, "\"" CLIENT_DN "\" invoice-readonly user=crm\n") == 0 &&
             bench_write(pol, policy) == 0 ? 0 : -1;
    free(mk); free(page); free(adm); free(realm); free(pol); free(policy);
    free(rp); free(ip); free(root); free(inter); free(bundle); free(bpath);
    return rc;
}

static int srv_start(struct srv *s, const char *lighttpd, const char *authorizer)
{
    memset(s, 0, sizeof *s);
    const char *pki = getenv("CERTROLE_PKI");
    if (!(s->dir = bench_tmpdir(authorizer ? "lighttpd-auth" : "lighttpd-base")))
        return -1;
    const char *d = s->dir;
    s->port = tu_free_port();
    char *pol = bench_strf("%s/acme.policy", d);
    char *auth = authorizer ? bench_strf(AUTH_FMT, d, d) : strdup("");
    /* without the authorizer lighttpd itself must insist on a certificate */
    char *conf = bench_strf(CONF_FMT, d, s->port, d, pki, pki, pki,
                            authorizer ? "disable" : "enable", auth ? auth : "");
    char *confp = bench_strf("%s/lighttpd.conf", d), *log = bench_strf("%s/stderr.log", d);
    int rc = -1;
    if (!pol || !auth || !conf || !confp || !log || srv_files(d, pki) != 0 ||
        bench_write(confp, conf) != 0)
        goto out;
    if (authorizer && auth_start(s, authorizer, pol) != 0)
        goto out;
    char *const argv[] = { (char *)lighttpd, "-D", "-f", confp, NULL };
    s->pid = tu_spawn(argv, log);
    if (s->pid <= 0 || tu_wait_port(s->port, 10000) != 0) {
        char *el = tu_read_file(log, NULL);
        bench_error("lighttpd did not start: %s", el ? el : "");
        free(el);
        goto out;
    }
    rc = 0;
out:
    free(pol); free(auth); free(conf); free(confp); free(log);
    return rc;
}

static void srv_stop(struct srv *s)
{
    if (s->pid > 0)
        tu_stop(s->pid);
    if (s->auth > 0)
        tu_stop(s->auth);
    s->pid = s->auth = 0;
    free(s->dir);
    s->dir = NULL;
}

static void measure(struct srv *base, struct srv *auth, const char *cert, const char *key,
                    const char *fig, const char *target)
{
    /* the authorizer is really in the path: a role it does not grant is refused */
    int a = bench_tls_status(auth->port, cert, key, "/admin/x");
    int b = bench_tls_status(base->port, cert, key, "/admin/x");
    int c = bench_tls_status(auth->port, cert, key, PATH);
    if (a != 403 || b != 200 || c != 200) {
        bench_error("lighttpd sanity: /admin/x gave %d with the authorizer (want 403), %d"
                    " without (want 200); " PATH " %d with it (want 200)", a, b, c);
        return;
    }
    double best_base = 0, best_auth = 0;
    for (int r = 0; r < 3; r++) {
        double x = bench_tls_load(base->port, cert, key, PATH, 2, 1.5);
        double y = bench_tls_load(auth->port, cert, key, PATH, 2, 1.5);
        if (x < 0 || y < 0)
            return;
        if (x > best_base) best_base = x;
        if (y > best_auth) best_auth = y;
    }
    char m[128];
    double ratio = best_auth / best_base;
    snprintf(m, sizeof m, "%.3f (%.0f vs %.0f req/s)", ratio, best_auth, best_base);
    bench_row(fig, m, target, ratio >= 0.5);
}

static void lighttpd_body(void)
{
    const char *fig = "lighttpd keepalive mTLS req/s, authorizer / verify only";
    const char *target = ">= 0.5";
    const char *lighttpd = getenv("LIGHTTPD");
    if (!lighttpd || !*lighttpd || access(lighttpd, X_OK) != 0) {
        bench_skip(fig, target, "lighttpd is not installed");
        return;
    }
    const char *bd = getenv("CERTROLE_BUILDDIR");
    char *authorizer = bench_strf("%s/servers/lighttpd/certrole-fcgi-authorizer", bd ? bd : ".");
    if (!authorizer || access(authorizer, X_OK) != 0) {
        bench_skip(fig, target, "the FastCGI authorizer was not built (libfcgi-dev)");
        free(authorizer);
        return;
    }
    char *cert = bench_pki("client-chain.pem"), *key = bench_pki("client.key");
    struct srv base, auth;
    int ok = srv_start(&base, lighttpd, NULL) == 0;
    ok = srv_start(&auth, lighttpd, authorizer) == 0 && ok;
    if (ok)
        measure(&base, &auth, cert, key, fig, target);
    srv_stop(&base);
    srv_stop(&auth);
    free(cert); free(key); free(authorizer);
}

void bench_lighttpd(void)
{
    bench_in_check("lighttpd benchmark", lighttpd_body);
}
