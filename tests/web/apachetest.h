/* Helpers shared by the tests/check_apache*.c programs: a private httpd
 * (its own ServerRoot in a temporary directory, event MPM, mod_ssl,
 * mod_cgid, mod_proxy and the in-tree mod_certrole) per test from
 * tests/web/apache.conf.in, the Acme policy and realm, curl requests and
 * log reading. Header-only, static functions (like nginxtest.h). */
#ifndef CERTROLE_APACHETEST_H
#define CERTROLE_APACHETEST_H
#include "testutil.h"
#include "web/webtest.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define AT_CLIENT_DN "CN=CRMApplication,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US"
#define AT_GUEST_DN "CN=Guest User,OU=Marketing,O=Acme Corp,L=San Francisco,ST=CA,C=US"

struct apa {
    char *dir, *conf;
    int port;               /* @PORT@: the TLS front */
    int bport;              /* @BPORT@: the plain-HTTP echo backend */
    int requests;           /* sent to the front: one access.log line each */
    pid_t pid;              /* the httpd parent (-DFOREGROUND) */
};

static const char *const at_realm_v1 =
    "\"" AT_CLIENT_DN "\" invoice-readonly user=crm\n"
    "\"" AT_GUEST_DN "\" guest user=guest\n";

WT_FN const char *at_module_path(void)
{
    return tu_build("servers/apache/.libs/mod_certrole.so");
}

/* dir/acme.policy + dir/users.realm: the Acme invoice policy, and /admin
 * for the role admin (nobody holds it). */
WT_FN void at_write_policy(const char *dir, const char *realm_text)
{
    char *realm = tu_strf("%s/users.realm", dir);
    tu_write_file(realm, realm_text);
    char *pol = tu_strf(
        "# Acme invoice service\n"
        "trust ca-file=%s crl-file=%s crl-check=chain\n"
        "realm required file path=users.realm\n"
        "require GET /InvoiceService/list invoice-readonly\n"
        "require * /admin admin\n",
        tu_pki("ca-file.pem"), tu_pki("crl.pem"));
    char *path = tu_strf("%s/acme.policy", dir);
    tu_write_file(path, pol);
    free(pol);
    free(path);
    free(realm);
}

/* As root, httpd's children switch to an unprivileged user: they must be
 * able to enter the directory and run the CGI. */
WT_FN const char *at_usergroup(void)
{
    return geteuid() == 0 ? "User nobody\nGroup nogroup" : "";
}

/* Writes dir/apache2.conf (and the policy, realm, CGI) without starting. */
WT_FN void at_prepare(struct apa *a)
{
    memset(a, 0, sizeof *a);
    a->dir = tu_mkdtemp("apache");
    ck_assert_int_eq(chmod(a->dir, 0755), 0);
    a->port = tu_free_port();
    do
        a->bport = tu_free_port();
    while (a->bport == a->port);
    at_write_policy(a->dir, at_realm_v1);

    char *cgi = tu_read_file(tu_src("tests/web/apache-backend.cgi"), NULL);
    ck_assert_ptr_nonnull(cgi);
    char *cgipath = tu_strf("%s/backend.cgi", a->dir);
    tu_write_file(cgipath, cgi);
    ck_assert_int_eq(chmod(cgipath, 0755), 0);

    char *tmpl = tu_read_file(tu_src("tests/web/apache.conf.in"), NULL);
    ck_assert_msg(tmpl != NULL, "tests/web/apache.conf.in missing");
    char *port = tu_strf("%d", a->port), *bport = tu_strf("%d", a->bport);
    char *policy = tu_strf("%s/acme.policy", a->dir);
    char *pki = wt_pki_dir();
    const char *kv[] = { "MODULE", at_module_path(), "DIR", a->dir,
                         "PORT", port, "BPORT", bport, "POLICY", policy,
                         "PKI", pki, "USERGROUP", at_usergroup(),
                         "SYSMOD", tu_env("APACHE_SYSMODDIR", "/usr/lib/apache2/modules"),
                         NULL };
    char *conf = wt_subst(tmpl, kv);
    a->conf = tu_strf("%s/apache2.conf", a->dir);
    tu_write_file(a->conf, conf);
    free(conf); free(tmpl); free(port); free(bport); free(policy); free(pki);
    free(cgi); free(cgipath);
}

/* `apache2 -d DIR -f CONF ARGS`: exit status, output in *out. */
WT_FN int at_ctl(struct apa *a, const char *args, char **out)
{
    char *cmd = tu_strf("'%s' -d '%s' -f '%s' %s 2>&1",
                        tu_env("APACHE2", "apache2"), a->dir, a->conf, args);
    int rc = tu_run(cmd, out);
    free(cmd);
    return rc;
}

WT_FN void at_launch(struct apa *a)
{
    char *log = tu_strf("%s/stderr.log", a->dir);
    char *bin = tu_strf("%s", tu_env("APACHE2", "apache2"));
    char *const argv[] = { bin, "-d", a->dir, "-f", a->conf, "-DFOREGROUND", NULL };
    a->pid = wt_spawn(argv, log, a->dir);
    if (tu_wait_port(a->port, 10000) != 0 || tu_wait_port(a->bport, 2000) != 0) {
        char *el = tu_read_file(log, NULL);
        char *e2 = wt_file(a->dir, "error.log");
        wt_stop(a->pid);
        ck_abort_msg("apache2 did not start:\n%s\n%s", el ? el : "", e2);
    }
    free(bin);
    free(log);
}

WT_FN void at_start(struct apa *a)
{
    at_prepare(a);
    at_launch(a);
}

WT_FN void at_stop(struct apa *a)
{
    wt_stop(a->pid);
    a->pid = 0;
    tu_rmrf(a->dir);
    free(a->dir); free(a->conf);
}

/* A request to the TLS front (see wt_get); --path-as-is so curl sends
 * dot segments and escapes exactly as written. */
WT_FN int at_get(struct apa *a, const char *cert, const char *key,
                 const char *extra, const char *path, char **body)
{
    a->requests++;
    char *x = tu_strf("--path-as-is %s", extra ? extra : "");
    int st = wt_get(a->dir, a->port, cert, key, x, path, body);
    free(x);
    return st;
}

/* access.log once it holds a line for every request sent (httpd writes
 * it after the response). Waits up to 3 s. */
WT_FN char *at_access(struct apa *a)
{
    char *t = NULL;
    for (int i = 0; i < 60; i++) {
        free(t);
        t = wt_file(a->dir, "access.log");
        int lines = 0;
        for (const char *c = t; *c; c++)
            lines += *c == '\n';
        if (lines >= a->requests)
            break;
        wt_sleep_ms(50);
    }
    return t;
}

/* How often needle occurs in text. */
WT_FN int at_count(const char *text, const char *needle)
{
    int c = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        c++;
    return c;
}

WT_FN char *at_error_log(struct apa *a)
{
    return wt_file(a->dir, "error.log");
}

/* main(): 77 with "SKIP: reason" when httpd, mod_ssl, curl or the module
 * is absent, 99 on a setup error, 0 when the suite may run. */
WT_FN int at_init(void)
{
    const char *bin = tu_env("APACHE2", ""), *curl = tu_env("CURL", "");
    if (!*bin || access(bin, X_OK) != 0) {
        printf("SKIP: apache2 is not installed (APACHE2='%s')\n", bin);
        return 77;
    }
    if (!*curl || access(curl, X_OK) != 0) {
        printf("SKIP: curl is not installed (CURL='%s')\n", curl);
        return 77;
    }
    /* no tu_strf here: Check assertions must not run outside a test */
    char ssl[4200];
    snprintf(ssl, sizeof ssl, "%s/mod_ssl.so", tu_env("APACHE_SYSMODDIR", ""));
    if (access(ssl, R_OK) != 0) {
        printf("SKIP: httpd's modules (mod_ssl) are not in APACHE_SYSMODDIR\n");
        return 77;
    }
    if (access(at_module_path(), R_OK) != 0) {
        printf("SKIP: mod_certrole was not built (configure --with-apxs; "
               "Debian: apache2-dev)\n");
        return 77;
    }
    if (wt_guard_init() != 0) {
        printf("cannot create a temporary directory\n");
        return 99;
    }
    return 0;
}

WT_FN int at_run(Suite *s)
{
    int rc = tu_run_suite(s);
    wt_guard_cleanup();
    return rc;
}
#endif
