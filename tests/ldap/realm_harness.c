/* Shared plumbing of the check_ldap_* suites (realm_harness.h). */
#define _GNU_SOURCE
#include "realm_harness.h"
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "identity.h"

const certrole_realm_ops *lh_ops;
struct lf_slapd lh_srv;

static void load_plugin(void)
{
    lf_prepare();
    if (lh_ops)
        return;
    char *path = tu_strf("%s/realm_ldap.so", tu_env("CERTROLE_REALM_DIR", ".libs"));
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(h != NULL, "dlopen %s: %s", path, dlerror());
    lh_ops = dlsym(h, "certrole_realm_v1");
    ck_assert(lh_ops != NULL);
    ck_assert_uint_eq(lh_ops->abi_version, CERTROLE_REALM_ABI_VERSION);
    ck_assert_str_eq(lh_ops->name, "ldap");
    free(path);
}

static void srv_up(void) { lf_start(&lh_srv); }
static void srv_down(void) { lf_stop(&lh_srv); }

TCase *lh_tcase(const char *name, int with_server, int timeout_seconds)
{
    TCase *tc = tcase_create(name);
    tcase_add_unchecked_fixture(tc, load_plugin, NULL);
    if (with_server)
        tcase_add_checked_fixture(tc, srv_up, srv_down);
    tcase_set_timeout(tc, timeout_seconds);
    return tc;
}

int lh_main(Suite *s)
{
    int rc = lf_available();
    if (rc != 0) {
        srunner_free(srunner_create(s));    /* frees the suite */
        return rc;
    }
    rc = tu_run_suite(s);
    lf_cleanup();
    return rc;
}

char *lh_uri(void) { return tu_strf("uri=ldap://127.0.0.1:%d", lh_srv.port); }

/* Opens the realm with the given arguments; on failure returns NULL with
 * the message in err. */
static void *vopen(char *err, size_t errlen, const char *first, va_list ap)
{
    const char *argv[64];
    int argc = 0;
    for (const char *a = first; a && argc < 64; a = va_arg(ap, const char *))
        argv[argc++] = a;
    certrole_realm_env env = { .base_dir = lf_dir() };
    void *st = NULL;
    err[0] = '\0';
    if (lh_ops->open(&st, argc, argv, &env, err, errlen) != 0) {
        ck_assert(st == NULL);
        return NULL;
    }
    ck_assert(st != NULL);
    return st;
}

void *lh_realm(const char *first, ...)
{
    char err[512];
    va_list ap;
    va_start(ap, first);
    void *st = vopen(err, sizeof err, first, ap);
    va_end(ap);
    ck_assert_msg(st != NULL, "open failed: %s", err);
    return st;
}

void lh_realm_err(const char *want, const char *first, ...)
{
    char err[512];
    va_list ap;
    va_start(ap, first);
    void *st = vopen(err, sizeof err, first, ap);
    va_end(ap);
    if (st)
        lh_ops->close(st);
    ck_assert_msg(st == NULL, "open accepted arguments it should refuse (%s)", want);
    ck_assert_msg(strstr(err, want) != NULL, "error \"%s\" lacks \"%s\"", err, want);
}

void lh_result_free(struct lh_result *r)
{
    free(r->a.user);
    for (size_t i = 0; i < r->a.n_roles; i++)
        free(r->a.roles[i]);
    free(r->a.roles);
    free(r->a.message);
    memset(r, 0, sizeof *r);
}

struct lh_result lh_look(void *st, const char *pem)
{
    struct lh_result r;
    struct certrole_identity id;
    memset(&r, 0, sizeof r);
    lf_identity(pem, &id);
    double t0 = lf_now();
    r.status = lh_ops->lookup(st, &id, &r.a);
    r.seconds = lf_now() - t0;
    lf_identity_free(&id);
    ck_assert(!r.a.failed);
    return r;
}

int lh_has_role(const struct lh_result *r, const char *role)
{
    for (size_t i = 0; i < r->a.n_roles; i++)
        if (strcmp(r->a.roles[i], role) == 0)
            return 1;
    return 0;
}

const char *lh_msg(const struct lh_result *r) { return r->a.message ? r->a.message : "(none)"; }

void lh_expect_found(void *st, const char *pem, const char *user)
{
    struct lh_result r = lh_look(st, pem);
    ASSERT_STATUS(r, CERTROLE_REALM_FOUND);
    ck_assert_str_eq(r.a.user, user);
    lh_result_free(&r);
}

void lh_expect_status(void *st, const char *pem, certrole_realm_status want)
{
    struct lh_result r = lh_look(st, pem);
    ASSERT_STATUS(r, want);
    lh_result_free(&r);
}
