/* Figure 4 of the benchmark: the LDAP realm's cached lookup against an
 * uncached one (cache-ttl=0: one search per lookup) on a real slapd on
 * loopback, started by the LDAP tests' fixture. The fixture reports
 * failures through Check, so the measurement runs as one Check test in
 * this process (bench_in_check) and leaves its figures in statics. */
#define _GNU_SOURCE
#include "bench.h"
#include "testutil.h"
#include "certrole_realm.h"
#include "ldap/slapd_fixture.h"
#include "stack.h"
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PEOPLE "ou=people,dc=acme,dc=example"
#define GROUPS "ou=groups,dc=acme,dc=example"
#define BY_SUBJECT "filter=(&(objectClass=inetOrgPerson)(seeAlso=%{subject}))"

static double per_uncached, per_cached;
static int measured;

struct look {
    const certrole_realm_ops *ops;
    void *st;
    struct certrole_identity *id;
};

static int look_once(void *arg)
{
    struct look *l = arg;
    struct certrole_answer a;
    memset(&a, 0, sizeof a);
    certrole_realm_status s = l->ops->lookup(l->st, l->id, &a);
    int ok = s == CERTROLE_REALM_FOUND && !a.failed;
    if (!ok)
        bench_error("ldap realm lookup: status %d (%s)", (int)s, a.message ? a.message : "");
    free(a.user);
    for (size_t i = 0; i < a.n_roles; i++)
        free(a.roles[i]);
    free(a.roles);
    free(a.message);
    return ok ? 0 : -1;
}

static void *realm(const certrole_realm_ops *ops, const char *uri, const char *ttl)
{
    const char *argv[] = { uri, "base=" PEOPLE, BY_SUBJECT, "group-base=" GROUPS, ttl };
    certrole_realm_env env = { .base_dir = lf_dir() };
    char err[512] = "";
    void *st = NULL;
    ck_assert_msg(ops->open(&st, 5, argv, &env, err, sizeof err) == 0, "open: %s", err);
    return st;
}

static void ldap_cached_vs_uncached(void)
{
    lf_prepare();
    char *path = tu_strf("%s/realm_ldap.so", tu_env("CERTROLE_REALM_DIR", ".libs"));
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(h != NULL, "dlopen %s: %s", path, dlerror());
    const certrole_realm_ops *ops = dlsym(h, "certrole_realm_v1");
    ck_assert(ops != NULL);
    free(path);
    struct lf_slapd srv;
    memset(&srv, 0, sizeof srv);
    lf_start(&srv);
    char *uri = tu_strf("uri=ldap://127.0.0.1:%d", srv.port);
    struct certrole_identity id;
    lf_identity(tu_pki("client.pem"), &id);
    struct look cold = { ops, realm(ops, uri, "cache-ttl=0"), &id };
    struct look warm = { ops, realm(ops, uri, "cache-ttl=60"), &id };
    /* baseline first in each round: the uncached lookup (one search) */
    measured = bench_pair(look_once, &cold, look_once, &warm, 3, 0.3,
                          &per_uncached, &per_cached) == 0;
    ops->close(cold.st);
    ops->close(warm.st);
    lf_identity_free(&id);
    free(uri);
    lf_stop(&srv);
}

void bench_ldap(void)
{
    const char *fig = "LDAP realm lookup, cached vs uncached (slapd, loopback)";
    const char *target = ">= 100x";
    fflush(stdout);
    if (lf_available() != 0) {
        bench_skip(fig, target, "slapd is not usable here (see SKIP above)");
        return;
    }
    int failed = bench_in_check("ldap benchmark", ldap_cached_vs_uncached) != 0;
    lf_cleanup();
    if (failed || !measured)
        return;
    char m[128];
    double x = per_uncached / per_cached;
    snprintf(m, sizeof m, "%.0fx (%.1f us / %.3f us)", x, per_uncached * 1e6, per_cached * 1e6);
    bench_row(fig, m, target, x >= 100);
}
