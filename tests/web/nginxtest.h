/* Helpers shared by the tests/check_nginx*.c programs: a private nginx
 * (master + one worker) per test from a template in tests/web, the Acme
 * policy and realm, curl requests and log reading. Header-only, static
 * functions (like webtest.h). */
#ifndef CERTROLE_NGINXTEST_H
#define CERTROLE_NGINXTEST_H
#include "testutil.h"
#include "web/webtest.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NT_CLIENT_DN "CN=CRMApplication,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US"
#define NT_GUEST_DN "CN=Guest User,OU=Marketing,O=Acme Corp,L=San Francisco,ST=CA,C=US"

/* nginx reads $NGINX itself (inherited listening sockets on binary
 * upgrade), so nt_init() moves the path here and removes the variable. */
static char nt_nginx_bin[4096];

enum { NT_PORTS = 5 };

struct ngx {
    char *dir, *conf, *module;
    int port;               /* @PORT@: the main TLS server */
    int bport;              /* @BPORT@: the plain-HTTP echo backend */
    int more[NT_PORTS - 2]; /* @PORT2@ @PORT3@ @PORT4@ */
    int requests;           /* sent so far: each logs one access.log line */
    pid_t pid;
};

static const char *const nt_realm_v1 =
    "\"" NT_CLIENT_DN "\" invoice-readonly user=crm\n"
    "\"" NT_GUEST_DN "\" guest user=guest\n";

WT_FN const char *nt_module_path(void)
{
    return tu_build("servers/nginx/ngx_http_certrole_module.so");
}

/* dir/acme.policy + dir/users.realm: the Acme invoice policy. */
WT_FN void nt_write_policy(const char *dir, const char *realm_text)
{
    char *realm = tu_strf("%s/users.realm", dir);
    tu_write_file(realm, realm_text);
    char *pol = tu_strf(
        "# Acme invoice service\n"
        "trust ca-file=%s crl-file=%s crl-check=chain\n"
        "realm required file path=users.realm\n"
        "require GET /InvoiceService/list invoice-readonly\n",
        tu_pki("ca-file.pem"), tu_pki("crl.pem"));
    char *path = tu_strf("%s/acme.policy", dir);
    tu_write_file(path, pol);
    free(pol);
    free(path);
    free(realm);
}

/* dir/other.policy + dir/other.realm: trusts only the Other Root CA and
 * maps the CRMApplication DN (which other-client.pem shares) to partner. */
WT_FN void nt_write_other_policy(const char *dir)
{
    char *realm = tu_strf("%s/other.realm", dir);
    tu_write_file(realm, "\"" NT_CLIENT_DN "\" partner user=partner\n");
    char *pol = tu_strf("trust ca-file=%s\n"
                        "realm required file path=other.realm\n",
                        tu_pki("other-root-ca.pem"));
    char *path = tu_strf("%s/other.policy", dir);
    tu_write_file(path, pol);
    free(pol);
    free(path);
    free(realm);
}

WT_FN int nt_port_taken(const struct ngx *n, int p)
{
    if (p == n->port || p == n->bport)
        return 1;
    for (int i = 0; i < NT_PORTS - 2; i++)
        if (n->more[i] == p)
            return 1;
    return 0;
}

/* Writes dir/nginx.conf from tests/web/TEMPLATE without starting nginx. */
WT_FN void nt_prepare(struct ngx *n, const char *template)
{
    memset(n, 0, sizeof *n);
    n->dir = tu_mkdtemp("nginx");
    n->port = tu_free_port();
    int p;
    do
        p = tu_free_port();
    while (nt_port_taken(n, p));
    n->bport = p;
    for (int i = 0; i < NT_PORTS - 2; i++) {
        do
            p = tu_free_port();
        while (nt_port_taken(n, p));
        n->more[i] = p;
    }
    nt_write_policy(n->dir, nt_realm_v1);
    nt_write_other_policy(n->dir);

    char *tpath = tu_strf("tests/web/%s", template);
    char *tmpl = tu_read_file(tu_src(tpath), NULL);
    ck_assert_msg(tmpl != NULL, "%s missing", tpath);
    char *ports[NT_PORTS];
    ports[0] = tu_strf("%d", n->port);
    ports[1] = tu_strf("%d", n->bport);
    for (int i = 0; i < NT_PORTS - 2; i++)
        ports[i + 2] = tu_strf("%d", n->more[i]);
    char *policy = tu_strf("%s/acme.policy", n->dir);
    char *other = tu_strf("%s/other.policy", n->dir);
    char *pki = wt_pki_dir();
    n->module = tu_strf("%s", nt_module_path());
    const char *kv[] = { "MODULE", n->module, "DIR", n->dir, "PORT", ports[0],
                         "BPORT", ports[1], "PORT2", ports[2], "PORT3", ports[3],
                         "PORT4", ports[4], "POLICY", policy, "OTHER_POLICY", other,
                         "PKI", pki, NULL };
    char *conf = wt_subst(tmpl, kv);
    n->conf = tu_strf("%s/nginx.conf", n->dir);
    tu_write_file(n->conf, conf);
    free(conf); free(tmpl); free(tpath); free(policy); free(other); free(pki);
    for (int i = 0; i < NT_PORTS; i++)
        free(ports[i]);
}

/* Starts nginx on dir/nginx.conf and waits for every port it listens on. */
WT_FN void nt_launch(struct ngx *n)
{
    char *log = tu_strf("%s/stderr.log", n->dir);
    char *const argv[] = { nt_nginx_bin, "-p", n->dir,
                           "-c", n->conf, "-g", "daemon off; master_process on;",
                           NULL };
    n->pid = wt_spawn(argv, log, n->dir);
    char *conf = tu_read_file(n->conf, NULL);
    int bad = tu_wait_port(n->port, 10000) != 0 || tu_wait_port(n->bport, 2000) != 0;
    for (int i = 0; !bad && i < NT_PORTS - 2; i++) {
        char *needle = tu_strf(":%d", n->more[i]);
        if (conf && strstr(conf, needle))
            bad = tu_wait_port(n->more[i], 2000) != 0;
        free(needle);
    }
    free(conf);
    if (bad) {
        char *el = tu_read_file(log, NULL), *er = tu_strf("%s/error.log", n->dir);
        char *e2 = tu_read_file(er, NULL);
        wt_stop(n->pid);
        ck_abort_msg("nginx did not start:\n%s\n%s", el ? el : "", e2 ? e2 : "");
    }
    free(log);
}

WT_FN void nt_start(struct ngx *n, const char *template)
{
    nt_prepare(n, template);
    nt_launch(n);
}

WT_FN void nt_stop(struct ngx *n)
{
    wt_stop(n->pid);
    n->pid = 0;
    tu_rmrf(n->dir);
    free(n->dir); free(n->conf); free(n->module);
}

/* A request to the main TLS server (see wt_get). */
WT_FN int nt_get(struct ngx *n, const char *cert, const char *key,
                 const char *extra, const char *path, char **body)
{
    n->requests++;
    return wt_get(n->dir, n->port, cert, key, extra, path, body);
}

WT_FN int nt_get_port(struct ngx *n, int port, const char *cert, const char *key,
                      const char *extra, const char *path, char **body)
{
    n->requests++;
    return wt_get(n->dir, port, cert, key, extra, path, body);
}

WT_FN char *nt_file(struct ngx *n, const char *name)
{
    return wt_file(n->dir, name);
}

/* access.log once it holds a line for every request sent: nginx writes
 * it after the response, so curl may return first. Waits up to 3 s. */
WT_FN char *nt_access(struct ngx *n)
{
    char *t = NULL;
    for (int i = 0; i < 60; i++) {
        free(t);
        t = nt_file(n, "access.log");
        int lines = 0;
        for (const char *c = t; *c; c++)
            lines += *c == '\n';
        if (lines >= n->requests)
            break;
        wt_sleep_ms(50);
    }
    return t;
}

/* How often needle occurs in text. */
WT_FN int nt_count(const char *text, const char *needle)
{
    int c = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        c++;
    return c;
}

/* `nginx -p DIR -c CONF ARGS` (e.g. "-t", "-s reload"): exit status,
 * output in *out (malloc'd, may be NULL to discard). */
WT_FN int nt_ctl(struct ngx *n, const char *args, char **out)
{
    char *cmd = tu_strf("'%s' -p '%s' -c '%s' %s", nt_nginx_bin, n->dir, n->conf, args);
    int rc = tu_run(cmd, out);
    free(cmd);
    return rc;
}

/* `nginx -s reload`, then waits for the workers that ran before it to
 * exit: until they do, a new connection may still reach one of them and
 * be judged by the old policy (the master starts the new workers before
 * the old ones stop accepting). Exit status of nginx -s reload; output
 * in *out as nt_ctl. */
WT_FN int nt_reload(struct ngx *n, char **out)
{
    pid_t old[64];
    int nold = wt_children(n->pid, old, 64);
    int rc = nt_ctl(n, "-s reload", out);
    if (rc == 0)
        ck_assert_msg(wt_wait_gone(old, nold, 20000), "the old nginx workers did not exit");
    return rc;
}

/* main(): 77 with "SKIP: reason" when nginx, curl or the module is absent,
 * 99 on a setup error, 0 when the suite may run. */
WT_FN int nt_init(void)
{
    const char *nginx = tu_env("NGINX", ""), *curl = tu_env("CURL", "");
    if (!*nginx || access(nginx, X_OK) != 0) {
        printf("SKIP: nginx is not installed (NGINX='%s')\n", nginx);
        return 77;
    }
    if (!*curl || access(curl, X_OK) != 0) {
        printf("SKIP: curl is not installed (CURL='%s')\n", curl);
        return 77;
    }
    if (access(nt_module_path(), R_OK) != 0) {
        char *skip = tu_strf("%s.skip", nt_module_path());
        char *why = tu_read_file(skip, NULL);
        printf("SKIP: the nginx module was not built: %s\n",
               why ? why : "run 'make nginx-module' (needs the nginx sources, Debian: nginx-dev)");
        free(why);
        free(skip);
        return 77;
    }
    snprintf(nt_nginx_bin, sizeof nt_nginx_bin, "%s", nginx);
    unsetenv("NGINX");
    if (wt_guard_init() != 0) {
        printf("cannot create a temporary directory\n");
        return 99;
    }
    return 0;
}

/* main(): runs the suite, then stops what failed tests left. */
WT_FN int nt_run(Suite *s)
{
    int rc = tu_run_suite(s);
    wt_guard_cleanup();
    return rc;
}
#endif
