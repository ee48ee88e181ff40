/* The verification cache's rules, through the public API:
 * keyed by the whole chain as sent, bounded by its TTL, dropped on
 * reload and when a CRL file changes, bounded in size, denials cached
 * only when asked and then briefly. (notAfter / CRL nextUpdate bounds:
 * tests/check_verify_cache.c.) */
#define _GNU_SOURCE
#include "testutil.h"
#include <certrole.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <openssl/pem.h>

static void quiet(void *u, certrole_log_level l, const char *line)
{
    (void)u; (void)l; (void)line;
}

static STACK_OF(X509) *load_pem(const char *path)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    FILE *f = fopen(path, "r");
    ck_assert_msg(sk && f, "cannot read %s", path);
    X509 *x;
    while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
        ck_assert(sk_X509_push(sk, x) > 0);
    fclose(f);
    ck_assert_int_gt(sk_X509_num(sk), 0);
    return sk;
}

static X509 *load_one(const char *name)
{
    STACK_OF(X509) *sk = load_pem(tu_pki(name));
    X509 *x = sk_X509_shift(sk);
    sk_X509_pop_free(sk, X509_free);
    return x;
}

/* A private copy of crl.pem and a policy using it; returns the dir. */
static char *setup(const char *options, char **policy)
{
    char *dir = tu_mkdtemp("cache");
    char *crl = tu_read_file(tu_pki("crl.pem"), NULL);
    ck_assert_ptr_nonnull(crl);
    char *crlpath = tu_strf("%s/acme.crl", dir);
    tu_write_file(crlpath, crl);
    char *realm = tu_strf("%s/users.realm", dir);
    tu_write_file(realm,
        "\"CN=CRMApplication,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US\" reader user=crm\n");
    char *text = tu_strf("trust ca-file=%s crl-file=%s crl-check=chain\n"
                         "realm required file path=%s\n%s\n",
                         tu_pki("ca-file.pem"), crlpath, realm, options);
    *policy = tu_strf("%s/cache.policy", dir);
    tu_write_file(*policy, text);
    free(text); free(realm); free(crlpath); free(crl);
    return dir;
}

static certrole_ctx *open_policy(const char *policy)
{
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    ck_assert_msg(certrole_open(&ctx, policy, &err) == CERTROLE_OK, "%s", err ? err : "?");
    certrole_set_log(ctx, quiet, NULL);
    return ctx;
}

/* Verifies and returns cached-ness; checks the expected code. */
static int verify(certrole_ctx *ctx, X509 *leaf, STACK_OF(X509) *rest, certrole_code want)
{
    certrole_result *r = NULL;
    certrole_code rc = certrole_verify_x509(ctx, leaf, rest, &r);
    ck_assert_msg(rc == want, "got %s (%s), want %s", certrole_code_name(rc),
                  r ? certrole_result_message(r) : "-", certrole_code_name(want));
    int cached = certrole_result_cached(r);
    certrole_result_free(r);
    return cached;
}

struct fixture {
    char *dir, *policy;
    X509 *leaf;
    STACK_OF(X509) *rest;
    certrole_ctx *ctx;
};

static void fx_open(struct fixture *f, const char *options)
{
    memset(f, 0, sizeof *f);
    f->dir = setup(options, &f->policy);
    f->rest = load_pem(tu_pki("client-chain.pem"));
    f->leaf = sk_X509_shift(f->rest);
    f->ctx = open_policy(f->policy);
}

static void fx_close(struct fixture *f)
{
    certrole_close(f->ctx);
    X509_free(f->leaf);
    sk_X509_pop_free(f->rest, X509_free);
    tu_rmrf(f->dir);
    free(f->dir);
    free(f->policy);
}

START_TEST(repeat_of_the_same_chain_is_served_from_the_cache)
{
    struct fixture f;
    fx_open(&f, "option cache-ttl=300");
    ck_assert_int_eq(verify(f.ctx, f.leaf, f.rest, CERTROLE_OK), 0);
    ck_assert_int_eq(verify(f.ctx, f.leaf, f.rest, CERTROLE_OK), 1);
    fx_close(&f);
}
END_TEST

START_TEST(key_is_the_whole_chain_as_sent)
{
    struct fixture f;
    fx_open(&f, "option cache-ttl=300");
    ck_assert_int_eq(verify(f.ctx, f.leaf, f.rest, CERTROLE_OK), 0);
    ck_assert_int_eq(verify(f.ctx, f.leaf, f.rest, CERTROLE_OK), 1);
    /* same leaf, different certificates sent along: a different entry */
    STACK_OF(X509) *more = sk_X509_dup(f.rest);
    X509 *root = load_one("root-ca.pem");
    ck_assert(sk_X509_push(more, root) > 0);
    ck_assert_int_eq(verify(f.ctx, f.leaf, more, CERTROLE_OK), 0);
    ck_assert_int_eq(verify(f.ctx, f.leaf, more, CERTROLE_OK), 1);
    /* the same certificates in another order: another entry again */
    STACK_OF(X509) *rev = sk_X509_new_null();
    ck_assert(sk_X509_push(rev, root) > 0 && sk_X509_push(rev, sk_X509_value(f.rest, 0)) > 0);
    ck_assert_int_eq(verify(f.ctx, f.leaf, rev, CERTROLE_OK), 0);
    /* and the leaf alone (intermediate missing) is not served the chain's verdict */
    STACK_OF(X509) *none = sk_X509_new_null();
    ck_assert_int_eq(verify(f.ctx, f.leaf, none, CERTROLE_E_UNTRUSTED_ISSUER), 0);
    sk_X509_free(none);
    sk_X509_free(rev);
    sk_X509_free(more);
    X509_free(root);
    fx_close(&f);
}
END_TEST

START_TEST(entry_expires_after_the_ttl)
{
    struct fixture f;
    fx_open(&f, "option cache-ttl=1");
    ck_assert_int_eq(verify(f.ctx, f.leaf, f.rest, CERTROLE_OK), 0);
    ck_assert_int_eq(verify(f.ctx, f.leaf, f.rest, CERTROLE_OK), 1);
    sleep(2);   /* whole seconds: expiry is compared with time() */
    ck_assert_int_eq(verify(f.ctx, f.leaf, f.rest, CERTROLE_OK), 0);
    fx_close(&f);
}
END_TEST

START_TEST(reload_drops_the_cache)
{
    struct fixture f;
    fx_open(&f, "option cache-ttl=300");
    ck_assert_int_eq(verify(f.ctx, f.leaf, f.rest, CERTROLE_OK), 0);
    ck_assert_int_eq(verify(f.ctx, f.leaf, f.rest, CERTROLE_OK), 1);
    char *err = NULL;
    ck_assert_int_eq(certrole_reload(f.ctx, &err), CERTROLE_OK);
    ck_assert_int_eq(verify(f.ctx, f.leaf, f.rest, CERTROLE_OK), 0);
    ck_assert_int_eq(verify(f.ctx, f.leaf, f.rest, CERTROLE_OK), 1);
    fx_close(&f);
}
END_TEST

START_TEST(crl_file_change_drops_the_cache_without_a_reload)
{
    struct fixture f;
    /* refresh=0: the library's own refresh thread (on by default) would
     * otherwise apply the change itself, racing the explicit reload below */
    fx_open(&f, "option cache-ttl=300 refresh=0");
    ck_assert_int_eq(verify(f.ctx, f.leaf, f.rest, CERTROLE_OK), 0);
    ck_assert_int_eq(verify(f.ctx, f.leaf, f.rest, CERTROLE_OK), 1);
    /* a new CRL is published (here: the same list, rewritten a moment later) */
    sleep(1);
    char *crlpath = tu_strf("%s/acme.crl", f.dir);
    char *crl = tu_read_file(tu_pki("crl.pem"), NULL);
    tu_write_file(crlpath, "");
    tu_write_file(crlpath, crl);
    sleep(1);   /* the file check runs at most once a second */
    /* the first call after the change notices it: no cached verdict any more */
    ck_assert_int_eq(verify(f.ctx, f.leaf, f.rest, CERTROLE_OK), 0);
    ck_assert_int_eq(verify(f.ctx, f.leaf, f.rest, CERTROLE_OK), 0);
    /* until the caller reloads: then a new cache */
    int reloaded = 0;
    ck_assert_int_eq(certrole_reload_if_changed(f.ctx, &reloaded, NULL), CERTROLE_OK);
    ck_assert_int_eq(reloaded, 1);
    ck_assert_int_eq(verify(f.ctx, f.leaf, f.rest, CERTROLE_OK), 0);
    ck_assert_int_eq(verify(f.ctx, f.leaf, f.rest, CERTROLE_OK), 1);
    free(crl);
    free(crlpath);
    fx_close(&f);
}
END_TEST

START_TEST(size_is_bounded_with_lru_eviction)
{
    /* 32 entries at most (one per shard). 400 distinct chains as sent (the
     * intermediate, then four of six other certificates): the first one is
     * evicted unless its shard got no other entry, (31/32)^399 ~ 3e-6. */
    struct fixture f;
    fx_open(&f, "option cache-ttl=300 cache-size=32");
    const char *names[] = { "root-ca.pem", "other-root-ca.pem", "int2-ca.pem",
                            "server.pem", "norole.pem", "selfsigned.pem" };
    X509 *extra[6];
    for (int i = 0; i < 6; i++)
        extra[i] = load_one(names[i]);
    X509 *inter = sk_X509_value(f.rest, 0);
    STACK_OF(X509) *first = NULL;
    for (int n = 0; n < 400; n++) {
        STACK_OF(X509) *sk = sk_X509_new_null();
        ck_assert(sk_X509_push(sk, inter) > 0);
        for (int d = 0, v = n; d < 4; d++, v /= 6)
            ck_assert(sk_X509_push(sk, extra[v % 6]) > 0);
        ck_assert_int_eq(verify(f.ctx, f.leaf, sk, CERTROLE_OK), 0);
        if (n == 0) {
            first = sk;
            ck_assert_int_eq(verify(f.ctx, f.leaf, first, CERTROLE_OK), 1);
        } else {
            sk_X509_free(sk);
        }
    }
    ck_assert_int_eq(verify(f.ctx, f.leaf, first, CERTROLE_OK), 0);
    sk_X509_free(first);
    for (int i = 0; i < 6; i++)
        X509_free(extra[i]);
    fx_close(&f);
}
END_TEST

START_TEST(denials_are_not_cached_by_default)
{
    struct fixture f;
    fx_open(&f, "option cache-ttl=300");
    STACK_OF(X509) *rev = load_pem(tu_pki("revoked-chain.pem"));
    X509 *leaf = sk_X509_shift(rev);
    ck_assert_int_eq(verify(f.ctx, leaf, rev, CERTROLE_E_REVOKED), 0);
    ck_assert_int_eq(verify(f.ctx, leaf, rev, CERTROLE_E_REVOKED), 0);
    X509_free(leaf);
    sk_X509_pop_free(rev, X509_free);
    fx_close(&f);
}
END_TEST

START_TEST(denials_cached_on_request_expire_after_deny_ttl)
{
    struct fixture f;
    fx_open(&f, "option cache-ttl=300 deny-ttl=1");
    STACK_OF(X509) *rev = load_pem(tu_pki("revoked-chain.pem"));
    X509 *leaf = sk_X509_shift(rev);
    ck_assert_int_eq(verify(f.ctx, leaf, rev, CERTROLE_E_REVOKED), 0);
    ck_assert_int_eq(verify(f.ctx, leaf, rev, CERTROLE_E_REVOKED), 1);
    sleep(2);
    ck_assert_int_eq(verify(f.ctx, leaf, rev, CERTROLE_E_REVOKED), 0);
    X509_free(leaf);
    sk_X509_pop_free(rev, X509_free);
    fx_close(&f);
}
END_TEST

static Suite *cache_suite(void)
{
    Suite *s = suite_create("verification cache");
    TCase *tc = tcase_create("rules");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, repeat_of_the_same_chain_is_served_from_the_cache);
    tcase_add_test(tc, key_is_the_whole_chain_as_sent);
    tcase_add_test(tc, entry_expires_after_the_ttl);
    tcase_add_test(tc, reload_drops_the_cache);
    tcase_add_test(tc, crl_file_change_drops_the_cache_without_a_reload);
    tcase_add_test(tc, size_is_bounded_with_lru_eviction);
    tcase_add_test(tc, denials_are_not_cached_by_default);
    tcase_add_test(tc, denials_cached_on_request_expire_after_deny_ttl);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(cache_suite());
}
