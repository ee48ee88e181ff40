/* The verification cache shared by the processes of one server (option
 * cache-shared): a chain verified in one forked child is served to
 * another; a changed CRL, realm or policy is never served an old entry;
 * the table is bounded with LRU eviction; a writer killed inside its
 * critical section leaves the table usable; a damaged entry is a miss.
 * Children report through a pipe: code and their own counters. */
#define _GNU_SOURCE
#include "testutil.h"
#include "crl_util.h"
#include <certrole.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cache_shared_test.h"
#include "ctx.h"
#include "result.h"

#define CLIENT_DN "CN=CRMApplication,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US"

static void quiet(void *u, certrole_log_level l, const char *line)
{
    (void)u; (void)l; (void)line;
}

static STACK_OF(X509) *load_pem(const char *name)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    FILE *f = fopen(tu_pki(name), "r");
    ck_assert_msg(sk && f, "cannot read %s", name);
    X509 *x;
    while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
        ck_assert(sk_X509_push(sk, x) > 0);
    fclose(f);
    return sk;
}

struct fx {
    char *dir, *policy, *crl, *realm;
    X509 *leaf, *rleaf;            /* client, revoked */
    STACK_OF(X509) *rest, *rrest;
    certrole_ctx *ctx;
};

/* Writes the policy: the issuing CA's CRL (revoking revoked.pem or
 * nothing), a file realm knowing the client and the revoked peer. */
static void write_policy(struct fx *f, const char *options)
{
    char *text = tu_strf("trust ca-file=%s crl-file=%s crl-check=leaf\n"
                         "realm required file path=%s\n"
                         "option cache-ttl=300 refresh=0 %s\n",
                         tu_pki("ca-file.pem"), f->crl, f->realm, options);
    tu_write_file(f->policy, text);
    free(text);
}

static void fx_open(struct fx *f, const char *options)
{
    memset(f, 0, sizeof *f);
    f->dir = tu_mkdtemp("shcache");
    f->policy = tu_strf("%s/shared.policy", f->dir);
    f->crl = tu_strf("%s/int.crl", f->dir);
    f->realm = tu_strf("%s/users.realm", f->dir);
    char *crl = cu_int_crl_pem(NULL);
    tu_write_file(f->crl, crl);
    free(crl);
    tu_write_file(f->realm, "\"" CLIENT_DN "\" reader user=crm\n"
                  "\"CN=Revoked User,OU=Sales,O=Acme Corp,C=US\" reader user=rev\n");
    write_policy(f, options);
    f->rest = load_pem("client-chain.pem");
    f->leaf = sk_X509_shift(f->rest);
    f->rrest = load_pem("revoked-chain.pem");
    f->rleaf = sk_X509_shift(f->rrest);
    char *err = NULL;
    ck_assert_msg(certrole_open(&f->ctx, f->policy, &err) == CERTROLE_OK, "%s", err ? err : "?");
    certrole_set_log(f->ctx, quiet, NULL);
}

static void fx_close(struct fx *f)
{
    certrole_close(f->ctx);
    X509_free(f->leaf);
    X509_free(f->rleaf);
    sk_X509_pop_free(f->rest, X509_free);
    sk_X509_pop_free(f->rrest, X509_free);
    tu_rmrf(f->dir);
    free(f->dir); free(f->policy); free(f->crl); free(f->realm);
}

/* What a child saw: its code and its own counts (not the parent's). */
struct seen {
    int code, cached, status;
    unsigned long long hits, misses, local_hits;
};

static void counters(certrole_ctx *ctx, struct seen *s)
{
    certrole_stats *st = certrole_stats_get(ctx);
    s->hits = certrole_stats_value(st, CERTROLE_STAT_SHARED_HITS);
    s->misses = certrole_stats_value(st, CERTROLE_STAT_SHARED_MISSES);
    s->local_hits = certrole_stats_value(st, CERTROLE_STAT_CACHE_HITS);
    certrole_stats_free(st);
}

enum { PLAIN = 0, RELOAD = 1, DIE_IN_STORE = 2 };

static void die_now(void)
{
    raise(SIGKILL);
}

/* Verifies (leaf, rest) in a forked child of the ctx's process; what to
 * do first: nothing, reload, or arm the hook that kills it mid-store. */
static struct seen in_child(struct fx *f, X509 *leaf, STACK_OF(X509) *rest, int what)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(p[0]);
        struct seen s, before;
        memset(&s, 0, sizeof s);
        counters(f->ctx, &before);   /* inherited from the parent */
        if (what == RELOAD && certrole_reload(f->ctx, NULL) != CERTROLE_OK)
            _exit(3);
        if (what == DIE_IN_STORE)
            cr_shcache_set_test_hook(f->ctx->shcache, die_now);
        certrole_result *r = NULL;
        s.code = certrole_verify_x509(f->ctx, leaf, rest, &r);
        s.cached = certrole_result_cached(r);
        certrole_result_free(r);
        counters(f->ctx, &s);
        s.hits -= before.hits;
        s.misses -= before.misses;
        s.local_hits -= before.local_hits;
        _exit(write(p[1], &s, sizeof s) == (ssize_t)sizeof s ? 0 : 4);
    }
    close(p[1]);
    struct seen s;
    memset(&s, 0, sizeof s);
    ssize_t n = read(p[0], &s, sizeof s);
    close(p[0]);
    int st = 0;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    s.status = st;
    if (what != DIE_IN_STORE)
        ck_assert_msg(n == (ssize_t)sizeof s && WIFEXITED(st) && WEXITSTATUS(st) == 0,
                      "child failed (status %d)", st);
    else
        ck_assert_msg(n == 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
                      "the child was to die inside the store (status %d)", st);
    return s;
}

START_TEST(chain_verified_in_one_child_is_a_shared_hit_in_another)
{
    struct fx f;
    fx_open(&f, "cache-shared=1m");
    struct seen a = in_child(&f, f.leaf, f.rest, PLAIN);
    ck_assert_int_eq(a.code, CERTROLE_OK);
    ck_assert_int_eq(a.cached, 0);
    ck_assert(a.hits == 0 && a.misses == 1);
    struct seen b = in_child(&f, f.leaf, f.rest, PLAIN);
    ck_assert_int_eq(b.code, CERTROLE_OK);
    ck_assert_int_eq(b.cached, 1);
    ck_assert(b.hits == 1 && b.misses == 0 && b.local_hits == 1);
    /* A reload promises fresh answers even when no file changed (an LDAP
     * group edited): it empties the table for every process, so the
     * reloading child verifies again, and what it stores serves the next. */
    struct seen c = in_child(&f, f.leaf, f.rest, RELOAD);
    ck_assert_int_eq(c.code, CERTROLE_OK);
    ck_assert(c.hits == 0 && c.misses == 1 && c.cached == 0);
    /* the shared hit filled the local cache: the next call does not ask */
    certrole_result *r = NULL;
    ck_assert_int_eq(certrole_verify_x509(f.ctx, f.leaf, f.rest, &r), CERTROLE_OK);
    certrole_result_free(r);
    ck_assert_int_eq(certrole_verify_x509(f.ctx, f.leaf, f.rest, &r), CERTROLE_OK);
    ck_assert_str_eq(certrole_result_user(r), "crm");
    certrole_result_free(r);
    struct seen p;
    counters(f.ctx, &p);
    ck_assert(p.hits == 1 && p.misses == 0 && p.local_hits == 2);
    fx_close(&f);
}
END_TEST

/* CRLs hashed into a ca-dir are read by each process when it first needs
 * them, so one process's answer may rest on a CRL another never read:
 * such a configuration does not use the shared cache at all. */
START_TEST(hashed_crls_in_a_ca_dir_turn_the_shared_cache_off)
{
    struct fx f;
    fx_open(&f, "cache-shared=1m");
    char *cas = tu_strf("%s/cas", f.dir), *out = NULL, *crl = cu_int_crl_pem("revoked.pem");
    tu_write_file(f.crl, crl);
    free(crl);
    char *cmd = tu_strf("mkdir '%s' && cp '%s' '%s/root.pem' && cp '%s' \"%s/$(\"$OPENSSL\" crl "
                        "-hash -noout -in '%s').r0\" 2>&1", cas, tu_pki("root-ca.pem"), cas,
                        f.crl, cas, f.crl);
    ck_assert_msg(tu_run(cmd, &out) == 0, "%s", out ? out : "?");
    char *text = tu_strf("trust ca-dir=%s crl-check=leaf\nrealm required file path=%s\n"
                         "option cache-ttl=300 refresh=0 cache-shared=1m\n", cas, f.realm);
    tu_write_file(f.policy, text);
    char *err = NULL;
    ck_assert_msg(certrole_reload(f.ctx, &err) == CERTROLE_OK, "%s", err ? err : "?");
    struct seen a = in_child(&f, f.leaf, f.rest, PLAIN);
    ck_assert_int_eq(a.code, CERTROLE_OK);
    struct seen b = in_child(&f, f.leaf, f.rest, PLAIN);
    ck_assert_int_eq(b.code, CERTROLE_OK);
    ck_assert(b.cached == 0 && b.hits == 0 && b.misses == 0);
    /* and the revoked peer is refused through the hashed CRL */
    ck_assert_int_eq(in_child(&f, f.rleaf, f.rrest, PLAIN).code, CERTROLE_E_REVOKED);
    free(text); free(cmd); free(out); free(cas);
    fx_close(&f);
}
END_TEST

START_TEST(without_the_option_each_process_verifies)
{
    struct fx f;
    fx_open(&f, "");
    ck_assert_ptr_null(f.ctx->shcache);
    ck_assert_int_eq(in_child(&f, f.leaf, f.rest, PLAIN).code, CERTROLE_OK);
    struct seen b = in_child(&f, f.leaf, f.rest, PLAIN);
    ck_assert(b.code == CERTROLE_OK && b.cached == 0 && b.hits == 0 && b.misses == 0);
    fx_close(&f);
}
END_TEST

START_TEST(changed_crl_is_never_answered_from_the_shared_cache)
{
    struct fx f;
    fx_open(&f, "cache-shared=1m");
    ck_assert_int_eq(in_child(&f, f.rleaf, f.rrest, PLAIN).code, CERTROLE_OK);
    ck_assert_int_eq(in_child(&f, f.rleaf, f.rrest, PLAIN).hits, 1);
    char *crl = cu_int_crl_pem("revoked.pem"), *tmp = tu_strf("%s.new", f.crl);
    tu_write_file(tmp, crl);
    ck_assert_int_eq(rename(tmp, f.crl), 0);
    /* not reloaded yet: the configuration is stale, neither cache asked */
    struct seen s = in_child(&f, f.rleaf, f.rrest, PLAIN);
    ck_assert(s.hits == 0 && s.misses == 0 && s.cached == 0);
    /* reloaded: a new tag, the old entry is not served, the CRL applies */
    s = in_child(&f, f.rleaf, f.rrest, RELOAD);
    ck_assert_int_eq(s.code, CERTROLE_E_REVOKED);
    ck_assert(s.hits == 0 && s.misses == 1 && s.cached == 0);
    free(crl);
    free(tmp);
    fx_close(&f);
}
END_TEST

START_TEST(changed_realm_or_policy_gets_a_new_tag)
{
    struct fx f;
    fx_open(&f, "cache-shared=1m");
    ck_assert_int_eq(in_child(&f, f.leaf, f.rest, PLAIN).code, CERTROLE_OK);
    /* the realm forgets the client */
    tu_write_file(f.realm, "\"CN=Revoked User,OU=Sales,O=Acme Corp,C=US\" reader user=rev\n");
    struct seen s = in_child(&f, f.leaf, f.rest, RELOAD);
    ck_assert_int_ne(s.code, CERTROLE_OK);
    ck_assert(s.hits == 0 && s.cached == 0);
    /* a different policy text (same files otherwise) */
    tu_write_file(f.realm, "\"" CLIENT_DN "\" reader user=crm\n");
    ck_assert_int_eq(certrole_reload(f.ctx, NULL), CERTROLE_OK);
    ck_assert_int_eq(in_child(&f, f.leaf, f.rest, PLAIN).code, CERTROLE_OK);
    ck_assert_int_eq(in_child(&f, f.leaf, f.rest, PLAIN).hits, 1);
    write_policy(&f, "cache-shared=1m audit=no");
    s = in_child(&f, f.leaf, f.rest, RELOAD);
    ck_assert(s.code == CERTROLE_OK && s.hits == 0 && s.misses == 1);
    fx_close(&f);
}
END_TEST

START_TEST(denials_are_shared_only_when_the_local_cache_keeps_them)
{
    struct fx f;
    char *crl = cu_int_crl_pem("revoked.pem");
    fx_open(&f, "cache-shared=1m");
    tu_write_file(f.crl, crl);
    ck_assert_int_eq(certrole_reload(f.ctx, NULL), CERTROLE_OK);
    ck_assert_int_eq(in_child(&f, f.rleaf, f.rrest, PLAIN).code, CERTROLE_E_REVOKED);
    struct seen s = in_child(&f, f.rleaf, f.rrest, PLAIN);
    ck_assert(s.code == CERTROLE_E_REVOKED && s.hits == 0 && s.misses == 1);
    write_policy(&f, "cache-shared=1m deny-ttl=30");
    ck_assert_int_eq(certrole_reload(f.ctx, NULL), CERTROLE_OK);
    ck_assert_int_eq(in_child(&f, f.rleaf, f.rrest, PLAIN).code, CERTROLE_E_REVOKED);
    s = in_child(&f, f.rleaf, f.rrest, PLAIN);
    ck_assert(s.code == CERTROLE_E_REVOKED && s.hits == 1 && s.cached == 1);
    free(crl);
    fx_close(&f);
}
END_TEST

START_TEST(damaged_entry_is_a_miss)
{
    struct fx f;
    char *crl = cu_int_crl_pem("revoked.pem");
    fx_open(&f, "cache-shared=1m deny-ttl=30");
    tu_write_file(f.crl, crl);
    ck_assert_int_eq(certrole_reload(f.ctx, NULL), CERTROLE_OK);
    ck_assert_int_eq(in_child(&f, f.rleaf, f.rrest, PLAIN).code, CERTROLE_E_REVOKED);
    unsigned char key[CR_SHCACHE_KEY];
    ck_assert_int_eq(cr_shcache_key(key, f.ctx->cfg->shared_tag, f.rleaf, f.rrest), 0);
    size_t off, cap;
    unsigned char *slot = cr_shcache_test_slot(f.ctx->shcache, key, &off, &cap);
    ck_assert_ptr_nonnull(slot);
    /* the stored code turned into "ok": the checksum no longer holds */
    memset(slot + off, 0, 4);
    struct seen s = in_child(&f, f.rleaf, f.rrest, PLAIN);
    ck_assert(s.code == CERTROLE_E_REVOKED && s.hits == 0 && s.misses == 1);
    /* stored again by that child; now a length past the slot's end */
    slot = cr_shcache_test_slot(f.ctx->shcache, key, &off, &cap);
    ck_assert_ptr_nonnull(slot);
    memset(slot + 4, 0xff, 4);
    s = in_child(&f, f.rleaf, f.rrest, PLAIN);
    ck_assert(s.code == CERTROLE_E_REVOKED && s.hits == 0 && s.misses == 1);
    /* intact, it is served */
    s = in_child(&f, f.rleaf, f.rrest, PLAIN);
    ck_assert(s.code == CERTROLE_E_REVOKED && s.hits == 1);
    free(crl);
    fx_close(&f);
}
END_TEST

START_TEST(writer_killed_inside_the_lock_leaves_the_table_usable)
{
    struct fx f;
    fx_open(&f, "cache-shared=1m");
    in_child(&f, f.leaf, f.rest, DIE_IN_STORE);
    /* the shard's owner is dead: the next locker recovers it */
    certrole_result *r = NULL;
    ck_assert_int_eq(certrole_verify_x509(f.ctx, f.leaf, f.rest, &r), CERTROLE_OK);
    ck_assert_int_eq(certrole_result_cached(r), 0);
    certrole_result_free(r);
    struct seen p;
    counters(f.ctx, &p);
    ck_assert(p.hits == 0 && p.misses == 1);
    /* other processes go on storing and finding entries */
    struct seen s = in_child(&f, f.rleaf, f.rrest, PLAIN);
    ck_assert(s.code == CERTROLE_OK && s.hits == 0 && s.misses == 1);
    s = in_child(&f, f.rleaf, f.rrest, PLAIN);
    ck_assert(s.code == CERTROLE_OK && s.hits == 1);
    fx_close(&f);
}
END_TEST

/* ----- the table itself: bound and LRU ----- */

static certrole_result *result_for(const char *user)
{
    certrole_result *r = cr_result_new(NULL);
    ck_assert_ptr_nonnull(r);
    cr_result_set(r, CERTROLE_OK, NULL, NULL);
    r->user = strdup(user);
    return r;
}

/* Keys of one shard (the first 8 bytes pick it), told apart by byte 8. */
static void key_n(unsigned char *k, int n)
{
    memset(k, 0, CR_SHCACHE_KEY);
    k[8] = (unsigned char)n;
    k[9] = (unsigned char)(n >> 8);
}

static int present(struct cr_shcache *sc, int n, X509 *leaf, time_t now)
{
    unsigned char k[CR_SHCACHE_KEY];
    time_t until;
    key_n(k, n);
    certrole_result *r = cr_shcache_get(sc, k, now, NULL, leaf, &until);
    certrole_result_free(r);
    return r != NULL;
}

START_TEST(table_is_bounded_with_lru_eviction)
{
    size_t bytes = 0, per = 0;
    ck_assert_int_eq(cr_shcache_parse_size("1m", &bytes), 0);
    ck_assert_int_eq(cr_shcache_parse_size("63k", &bytes), -1);
    ck_assert_int_eq(cr_shcache_parse_size("2048m", &bytes), -1);
    ck_assert_int_eq(cr_shcache_parse_size("1x", &bytes), -1);
    ck_assert_int_eq(cr_shcache_parse_size("65536", &bytes), 0);
    ck_assert_int_eq(cr_shcache_parse_size("1m", &bytes), 0);
    struct cr_shcache *sc = cr_shcache_new(bytes);
    ck_assert_ptr_nonnull(sc);
    size_t total = cr_shcache_test_capacity(sc, &per);
    ck_assert(per >= 2 && total * 2048 <= bytes);
    STACK_OF(X509) *chain = load_pem("client-chain.pem");
    X509 *leaf = sk_X509_value(chain, 0);
    time_t now = time(NULL);
    certrole_result *r = result_for("u");
    unsigned char k[CR_SHCACHE_KEY];
    for (int i = 0; i < (int)per; i++) {
        key_n(k, i);
        cr_shcache_put(sc, k, r, now + 60, now);
    }
    for (int i = 0; i < (int)per; i++)
        ck_assert(present(sc, i, leaf, now));
    ck_assert(present(sc, 0, leaf, now));   /* 0 is now the most recent */
    key_n(k, (int)per);
    cr_shcache_put(sc, k, r, now + 60, now);
    ck_assert(present(sc, (int)per, leaf, now));
    ck_assert(present(sc, 0, leaf, now));
    ck_assert(!present(sc, 1, leaf, now));   /* the least recently used went */
    int kept = 0;
    for (int i = 0; i <= (int)per; i++)
        kept += present(sc, i, leaf, now);
    ck_assert_int_eq(kept, (int)per);
    /* expired entries are not served */
    ck_assert(!present(sc, 0, leaf, now + 61));
    certrole_result_free(r);
    cr_shcache_free(sc);
    sk_X509_pop_free(chain, X509_free);
}
END_TEST

static Suite *shared_suite(void)
{
    Suite *s = suite_create("shared verification cache");
    TCase *tc = tcase_create("processes");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, chain_verified_in_one_child_is_a_shared_hit_in_another);
    tcase_add_test(tc, without_the_option_each_process_verifies);
    tcase_add_test(tc, hashed_crls_in_a_ca_dir_turn_the_shared_cache_off);
    tcase_add_test(tc, changed_crl_is_never_answered_from_the_shared_cache);
    tcase_add_test(tc, changed_realm_or_policy_gets_a_new_tag);
    tcase_add_test(tc, denials_are_shared_only_when_the_local_cache_keeps_them);
    tcase_add_test(tc, damaged_entry_is_a_miss);
    tcase_add_test(tc, writer_killed_inside_the_lock_leaves_the_table_usable);
    tcase_add_test(tc, table_is_bounded_with_lru_eviction);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(shared_suite());
}
