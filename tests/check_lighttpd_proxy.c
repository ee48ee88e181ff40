/* Stock lighttpd with mod_proxy in front of an upstream, guarded by
 * certrole-fcgi-authorizer and the sample's mod_magnet gate
 * (servers/lighttpd/certrole-gate.lua). lighttpd gives a request to the
 * first module that claims it; these tests list mod_proxy first and show
 * that a request the authorizer did not allow still never reaches the
 * upstream, and that an allowed one arrives with the peer's identity. */
#define _GNU_SOURCE
#include "testutil.h"
#include "web/webtest.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CLIENT_DN "CN=CRMApplication,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US"
#define GATE "4f1c0b9e7d2a53c6a8e1f0b2d4c6e8a0"

struct lt {
    const char *gate;   /* the gate value in both lighttpd.conf and the script */
    char *dir;
    int port, uport;
    pid_t auth, httpd;
};

static void write_backend(struct lt *l)
{
    char *cgi = tu_read_file(tu_src("tests/web/backend.cgi"), NULL);
    ck_assert_msg(cgi != NULL, "tests/web/backend.cgi missing");
    char *mk = tu_strf("mkdir -p '%s/www/InvoiceService' '%s/front'", l->dir, l->dir);
    ck_assert_int_eq(tu_run(mk, NULL), 0);
    char *f = tu_strf("%s/www/InvoiceService/list", l->dir);
    tu_write_file(f, cgi);
    free(f); free(mk); free(cgi);
}

/* the sample gate script with this test's gate value */
static void write_gate(struct lt *l)
{
    char *lua = tu_read_file(tu_src("servers/lighttpd/certrole-gate.lua"), NULL);
    ck_assert_msg(lua != NULL, "servers/lighttpd/certrole-gate.lua missing");
    char *at = strstr(lua, "\"CHANGE-ME\"");
    ck_assert_msg(at != NULL, "no gate line in certrole-gate.lua");
    *at = '\0';
    char *out = tu_strf("%s\"%s\"%s", lua, l->gate, at + strlen("\"CHANGE-ME\""));
    char *p = tu_strf("%s/certrole-gate.lua", l->dir);
    tu_write_file(p, out);
    free(p); free(out); free(lua);
}

static void start_authorizer(struct lt *l)
{
    char *root = tu_read_file(tu_pki("root-ca.pem"), NULL);
    char *inter = tu_read_file(tu_pki("int-ca.pem"), NULL);
    ck_assert_msg(root && inter, "test PKI missing");
    char *bundle = tu_strf("%s%s", root, inter), *bpath = tu_strf("%s/ca-bundle.pem", l->dir);
    tu_write_file(bpath, bundle);
    char *realm = tu_strf("%s/users.realm", l->dir);
    tu_write_file(realm, "\"" CLIENT_DN "\" invoice-readonly user=crm\n");
    char *pol = tu_strf("trust ca-file=%s crl-file=%s crl-check=chain\n"
                        "realm required file path=users.realm\n"
                        "require GET /InvoiceService/list invoice-readonly\n",
                        bpath, tu_pki("crl.pem"));
    char *ppath = tu_strf("%s/acme.policy", l->dir);
    tu_write_file(ppath, pol);
    char *sock = tu_strf("%s/authorizer.sock", l->dir);
    char *alog = tu_strf("%s/authorizer.stderr", l->dir);
    char *lfile = tu_strf("%s/authorizer.log", l->dir);
    char *const argv[] = { (char *)tu_build("servers/lighttpd/certrole-fcgi-authorizer"),
                           "-p", ppath, "-s", sock, "-l", lfile, NULL };
    l->auth = wt_spawn(argv, alog, l->dir);
    struct stat st;
    for (int i = 0; i < 100 && stat(sock, &st) != 0; i++)
        wt_sleep_ms(50);
    ck_assert_msg(stat(sock, &st) == 0, "authorizer did not start");
    free(root); free(inter); free(bundle); free(bpath); free(realm); free(pol);
    free(ppath); free(sock); free(alog); free(lfile);
}

static void lt_start(struct lt *l, const char *modules, const char *gate)
{
    memset(l, 0, sizeof *l);
    l->gate = gate;
    l->dir = tu_mkdtemp("lighttpd-proxy");
    l->port = tu_free_port();
    do
        l->uport = tu_free_port();
    while (l->uport == l->port);
    write_backend(l);
    write_gate(l);
    start_authorizer(l);

    char *tmpl = tu_read_file(tu_src("tests/web/lighttpd-proxy.conf.in"), NULL);
    ck_assert_msg(tmpl != NULL, "tests/web/lighttpd-proxy.conf.in missing");
    char *port = tu_strf("%d", l->port), *uport = tu_strf("%d", l->uport);
    char *pki = wt_pki_dir();
    const char *kv[] = { "DIR", l->dir, "PORT", port, "UPORT", uport, "PKI", pki,
                         "GATE", gate, "MODULES", modules, NULL };
    char *conf = wt_subst(tmpl, kv), *cpath = tu_strf("%s/lighttpd.conf", l->dir);
    tu_write_file(cpath, conf);
    char *hlog = tu_strf("%s/lighttpd.out", l->dir);
    char *const argv[] = { (char *)tu_env("LIGHTTPD", "lighttpd"), "-D", "-f", cpath, NULL };
    l->httpd = wt_spawn(argv, hlog, NULL);
    if (tu_wait_port(l->port, 10000) != 0 || tu_wait_port(l->uport, 10000) != 0) {
        char *t = wt_file(l->dir, "lighttpd.out"), *e = wt_file(l->dir, "error.log");
        ck_abort_msg("lighttpd did not start:\n%s\n%s", t, e);
    }
    free(tmpl); free(port); free(uport); free(pki); free(conf); free(cpath); free(hlog);
}

static void lt_stop(struct lt *l)
{
    wt_stop(l->httpd);
    wt_stop(l->auth);
    tu_rmrf(l->dir);
    free(l->dir);
}

/* Requests without a certificate, with forged gate and identity headers:
 * refused, and the upstream (which logs every request) saw none. */
static void assert_unauthenticated_fail_closed(struct lt *l)
{
    static const char *const forged[] = {
        NULL,
        "-H 'X-Certrole-Gate: " GATE "x' -H 'X-Certrole-User: admin'",
        "-H 'X-Certrole-Gate: CHANGE-ME' -H 'X-Certrole-User: admin'",
    };
    for (size_t i = 0; i < sizeof forged / sizeof forged[0]; i++) {
        char *body = NULL;
        int st = wt_get(l->dir, l->port, NULL, NULL, forged[i], "/InvoiceService/list", &body);
        ck_assert_msg(st == 401, "%s: status %d, body %s", forged[i] ? forged[i] : "plain",
                      st, body ? body : "");
        free(body);
    }
    /* a certificate without the role: 403, still nothing upstream */
    ck_assert_int_eq(wt_get(l->dir, l->port, "norole-chain.pem", "norole.key", NULL,
                            "/InvoiceService/list", NULL), 403);
    wt_sleep_ms(200);
    char *log = wt_file(l->dir, "backend.log");
    ck_assert_msg(*log == '\0', "the upstream saw a refused request: %s", log);
    free(log);
}

/* An allowed request reaches the upstream with the authorizer's identity
 * as headers; a client-sent copy is replaced. */
static void assert_allowed_carries_identity(struct lt *l)
{
    char *body = NULL;
    int st = wt_get(l->dir, l->port, "client-chain.pem", "client.key",
                    "-H 'X-Certrole-User: admin' -H 'X-Certrole-Roles: admin'",
                    "/InvoiceService/list", &body);
    ck_assert_msg(st == 200, "status %d, body %s", st, body ? body : "");
    ck_assert_msg(body && strstr(body, "hdr_user=[crm] hdr_roles=[invoice-readonly]"),
                  "upstream got: %s", body ? body : "");
    free(body);
    char *log = wt_file(l->dir, "backend.log");
    ck_assert_msg(strcmp(log, "target=[/InvoiceService/list] routed=[/InvoiceService/list]\n") == 0,
                  "upstream log: %s", log);
    free(log);
}

START_TEST(proxy_listed_first_cannot_bypass_the_authorizer)
{
    struct lt l;
    lt_start(&l, "\"mod_proxy\", \"mod_magnet\", \"mod_fastcgi\"", GATE);
    assert_unauthenticated_fail_closed(&l);
    assert_allowed_carries_identity(&l);
    lt_stop(&l);
}
END_TEST

START_TEST(recommended_order_fails_closed_and_carries_identity)
{
    struct lt l;
    lt_start(&l, "\"mod_magnet\", \"mod_fastcgi\", \"mod_proxy\"", GATE);
    assert_unauthenticated_fail_closed(&l);
    assert_allowed_carries_identity(&l);
    lt_stop(&l);
}
END_TEST

/* A sample installed without choosing a gate: the placeholder is public,
 * so the script refuses every request, even one carrying it. */
START_TEST(placeholder_gate_refuses_everything)
{
    struct lt l;
    lt_start(&l, "\"mod_proxy\", \"mod_magnet\", \"mod_fastcgi\"", "CHANGE-ME");
    ck_assert_int_eq(wt_get(l.dir, l.port, NULL, NULL, "-H 'X-Certrole-Gate: CHANGE-ME'",
                            "/InvoiceService/list", NULL), 500);
    ck_assert_int_eq(wt_get(l.dir, l.port, "client-chain.pem", "client.key", NULL,
                            "/InvoiceService/list", NULL), 500);
    wt_sleep_ms(200);
    char *log = wt_file(l.dir, "backend.log");
    ck_assert_msg(*log == '\0', "the upstream saw a request: %s", log);
    free(log);
    lt_stop(&l);
}
END_TEST

static Suite *lighttpd_proxy_suite(void)
{
    Suite *s = suite_create("lighttpd_proxy");
    TCase *tc = tcase_create("gate");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, proxy_listed_first_cannot_bypass_the_authorizer);
    tcase_add_test(tc, recommended_order_fails_closed_and_carries_identity);
    tcase_add_test(tc, placeholder_gate_refuses_everything);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    const char *lighttpd = tu_env("LIGHTTPD", ""), *curl = tu_env("CURL", "");
    if (!*lighttpd || access(lighttpd, X_OK) != 0) {
        printf("SKIP: lighttpd is not installed (LIGHTTPD='%s')\n", lighttpd);
        return 77;
    }
    if (!*curl || access(curl, X_OK) != 0) {
        printf("SKIP: curl is not installed (CURL='%s')\n", curl);
        return 77;
    }
    if (access(tu_build("servers/lighttpd/certrole-fcgi-authorizer"), X_OK) != 0) {
        printf("SKIP: the FastCGI authorizer was not built\n");
        return 77;
    }
    if (wt_guard_init() != 0) {
        printf("cannot create a temporary directory\n");
        return 99;
    }
    int rc = tu_run_suite(lighttpd_proxy_suite());
    wt_guard_cleanup();
    return rc;
}
