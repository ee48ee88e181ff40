/* Reload under load: worker threads verify continuously while another
 * thread rewrites the policy, the realm file and the CRL and reloads
 * (certrole_reload and certrole_reload_if_changed, alternately), for a
 * bounded time. Every generation gives the peer a different role, so each
 * decision is checked against the generations that were in force during
 * the call: never a failed decision, never a role from a configuration
 * that was already replaced, never one not yet built. Then a certificate
 * is revoked with a new CRL made by `openssl ca` (tests/pki/mkhostile.sh
 * --revoke) and is refused on the first call after the reload, and after
 * an mtime-driven reload_if_changed, even though it was cached. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "certrole.h"
#include "hostile_util.h"
#include "testutil.h"

#define CLIENT_DN "CN=CRMApplication,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US"
#define VICTIM_DN "CN=Victim User,OU=Sales,O=Acme Corp,C=US"
#define WORKERS 4

static char *policy, *realm, *crl;
static char *client_pem, *revoked_pem, *norole_pem;
static size_t client_len, revoked_len, norole_len;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Replaces path by text atomically (write aside, rename), as a careful
 * administrator or a config-management tool does. */
static void write_atomic(const char *path, const char *text)
{
    char *tmp = tu_strf("%s.tmp", path);
    tu_write_file(tmp, text);
    ck_assert_msg(rename(tmp, path) == 0, "rename %s", tmp);
    free(tmp);
}

static void copy_atomic(const char *from, const char *to)
{
    char *text = tu_read_file(from, NULL);
    ck_assert_msg(text != NULL, "cannot read %s", from);
    write_atomic(to, text);
    free(text);
}

/* Generation g of the configuration: the peer's role is "g<g>", and the
 * policy demands it for /gen. */
static void write_generation(int g)
{
    char *users = tu_strf("\"" CLIENT_DN "\" g%d user=crm\n\"" VICTIM_DN "\" g%d user=victim\n", g, g);
    write_atomic(realm, users);
    free(users);
    copy_atomic(hx(g % 2 ? "crl-int-0b.pem" : "crl-int-0.pem"), crl);
    char *text = tu_strf("# generation %d\n"
                         "trust ca-file=%s crl-file=%s crl-file=crl.pem crl-check=chain\n"
                         "realm required file path=users.realm\n"
                         "require GET /gen g%d\n"
                         "option cache-ttl=300\n",
                         g, tu_pki("ca-file.pem"), tu_pki("crl-root.pem"), g);
    write_atomic(policy, text);
    free(text);
}

static void setup(void)
{
    setenv("CERTROLE_REALM_DIR", hx("mods"), 1);
    policy = tu_strf("%s/load.policy", hx_dir());
    realm = tu_strf("%s/users.realm", hx_dir());
    crl = tu_strf("%s/crl.pem", hx_dir());
    client_pem = tu_read_file(tu_pki("client-chain.pem"), &client_len);
    revoked_pem = tu_read_file(tu_pki("revoked-chain.pem"), &revoked_len);
    norole_pem = tu_read_file(tu_pki("norole-chain.pem"), &norole_len);
    ck_assert(client_pem && revoked_pem && norole_pem);
    write_generation(0);
}

static void teardown(void)
{
    free(policy);
    free(realm);
    free(crl);
    free(client_pem);
    free(revoked_pem);
    free(norole_pem);
}

static void quiet(void *ud, certrole_log_level level, const char *line)
{
    (void)ud; (void)level; (void)line;
}

static certrole_ctx *open_ctx(void)
{
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    ck_assert_msg(certrole_open(&ctx, policy, &err) == CERTROLE_OK, "%s", err ? err : "?");
    certrole_set_log(ctx, quiet, NULL);
    return ctx;
}

static atomic_int published;   /* newest generation whose reload returned */
static atomic_int writing;     /* generation being written (>= published) */
static atomic_int stop;

struct worker {
    certrole_ctx *ctx;
    long checks, wrong;
    char first_wrong[512];
};

#define wrong(w, ...) \
    do { \
        if ((w)->wrong++ == 0) \
            snprintf((w)->first_wrong, sizeof (w)->first_wrong, __VA_ARGS__); \
    } while (0)

static void *verify_loop(void *arg)
{
    struct worker *w = arg;
    for (long i = 0; !atomic_load(&stop); i++) {
        certrole_result *res = NULL;
        switch (i % 4) {
        case 0: case 1: {
            int lo = atomic_load(&published);
            certrole_code rc = certrole_verify_pem(w->ctx, client_pem, client_len, &res);
            int hi = atomic_load(&writing);
            const char *role = res && certrole_result_role_count(res) == 1
                ? certrole_result_role(res, 0) : "";
            int g = role[0] == 'g' ? atoi(role + 1) : -1;
            if (rc != CERTROLE_OK || !res || !certrole_result_allowed(res))
                wrong(w, "client denied: %s (published %d, writing %d)",
                      res ? certrole_result_message(res) : "no result", lo, hi);
            else if (g < lo || g > hi)
                wrong(w, "client got role %s outside generations %d..%d", role, lo, hi);
            else if (strcmp(certrole_result_user(res), "crm") != 0 ||
                     certrole_authorize(w->ctx, res, "GET", "/gen") != CERTROLE_OK)
                wrong(w, "client (%s) not authorized by its own generation %d..%d", role, lo, hi);
            break;
        }
        case 2:
            if (certrole_verify_pem(w->ctx, revoked_pem, revoked_len, &res) != CERTROLE_E_REVOKED)
                wrong(w, "revoked.pem: %s", res ? certrole_result_message(res) : "no result");
            break;
        default:
            if (certrole_verify_pem(w->ctx, norole_pem, norole_len, &res) != CERTROLE_E_UNKNOWN_IDENTITY)
                wrong(w, "norole.pem: %s", res ? certrole_result_message(res) : "no result");
            break;
        }
        w->checks++;
        certrole_result_free(res);
    }
    return NULL;
}

START_TEST(decisions_follow_the_generations_under_reload)
{
    certrole_ctx *ctx = open_ctx();
    atomic_store(&published, 0);
    atomic_store(&writing, 0);
    atomic_store(&stop, 0);
    struct worker w[WORKERS];
    pthread_t th[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        w[i] = (struct worker){ .ctx = ctx };
        ck_assert_int_eq(pthread_create(&th[i], NULL, verify_loop, &w[i]), 0);
    }
    double seconds = atof(tu_env("CERTROLE_LOAD_SECONDS", "4"));
    double start = now_s(), end = start + seconds;
    int g = 0, by_mtime = 0;
    /* At least 6 generations even on a slow run (valgrind), within 60 s. */
    while ((now_s() < end || g < 6) && now_s() < start + 60) {
        atomic_store(&writing, ++g);
        write_generation(g);
        char *err = NULL;
        if (g % 2) {
            ck_assert_msg(certrole_reload(ctx, &err) == CERTROLE_OK, "reload %d: %s", g, err ? err : "");
        } else {
            int reloaded = 0;
            ck_assert_msg(certrole_reload_if_changed(ctx, &reloaded, &err) == CERTROLE_OK,
                          "reload_if_changed %d: %s", g, err ? err : "");
            ck_assert_msg(reloaded, "generation %d: rewritten files not noticed", g);
            by_mtime++;
        }
        atomic_store(&published, g);
        usleep(20000);
    }
    atomic_store(&stop, 1);
    long checks = 0;
    for (int i = 0; i < WORKERS; i++) {
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
        ck_assert_msg(w[i].wrong == 0, "worker %d: %ld wrong of %ld; first: %s", i, w[i].wrong,
                      w[i].checks, w[i].first_wrong);
        ck_assert_msg(w[i].checks > 0, "worker %d never ran", i);
        checks += w[i].checks;
    }
    ck_assert_int_ge(g, 6);
    ck_assert_int_ge(by_mtime, 3);
    printf("reload under load: %d generations (%d by mtime), %ld decisions, 0 wrong\n", g,
           by_mtime, checks);
    certrole_close(ctx);
}
END_TEST

static certrole_code verify_victim(certrole_ctx *ctx, int *cached)
{
    size_t len;
    char *pem = tu_read_file(hx("victim-chain.pem"), &len);
    ck_assert_ptr_nonnull(pem);
    certrole_result *res = NULL;
    certrole_code rc = certrole_verify_pem(ctx, pem, len, &res);
    ck_assert_ptr_nonnull(res);
    if (cached)
        *cached = certrole_result_cached(res);
    if (rc == CERTROLE_OK)
        ck_assert(certrole_result_has_role(res, "g0"));
    else
        ck_assert(!certrole_result_allowed(res) && certrole_result_role_count(res) == 0);
    certrole_result_free(res);
    free(pem);
    return rc;
}

/* Runs mkhostile.sh --revoke: the new CRL's path (malloc'd). */
static char *revoke_cert(const char *name)
{
    char *out = NULL;
    char *cmd = tu_strf("OPENSSL='%s' sh '%s' --revoke '%s' %s", tu_env("OPENSSL", "openssl"),
                        tu_src("tests/pki/mkhostile.sh"), hx_dir(), name);
    ck_assert_msg(tu_run(cmd, &out) == 0, "%s: %s", cmd, out ? out : "");
    free(cmd);
    out[strcspn(out, "\n")] = '\0';
    return out;
}

START_TEST(a_new_crl_revokes_on_the_next_call_after_reload)
{
    certrole_ctx *ctx = open_ctx();
    int cached = 0;
    ck_assert_int_eq(verify_victim(ctx, NULL), CERTROLE_OK);
    ck_assert_int_eq(verify_victim(ctx, &cached), CERTROLE_OK);
    ck_assert_msg(cached, "the second accept should come from the cache");

    /* mtime path: the CRL file is replaced, reload_if_changed notices. */
    char *revoked_crl = revoke_cert("victim");
    copy_atomic(revoked_crl, crl);
    int reloaded = 0;
    ck_assert_int_eq(certrole_reload_if_changed(ctx, &reloaded, NULL), CERTROLE_OK);
    ck_assert(reloaded);
    ck_assert_int_eq(verify_victim(ctx, NULL), CERTROLE_E_REVOKED);
    ck_assert_int_eq(verify_victim(ctx, NULL), CERTROLE_E_REVOKED);
    /* Nothing changed since: no reload, still revoked. */
    ck_assert_int_eq(certrole_reload_if_changed(ctx, &reloaded, NULL), CERTROLE_OK);
    ck_assert(!reloaded);
    ck_assert_int_eq(verify_victim(ctx, NULL), CERTROLE_E_REVOKED);
    /* Others are untouched. */
    certrole_result *res = NULL;
    ck_assert_int_eq(certrole_verify_pem(ctx, client_pem, client_len, &res), CERTROLE_OK);
    certrole_result_free(res);

    /* Explicit reload path: back to the old CRL, accepted (and cached)
     * again; the revoking CRL once more, refused on the next call. */
    copy_atomic(hx("crl-int-0.pem"), crl);
    ck_assert_int_eq(certrole_reload(ctx, NULL), CERTROLE_OK);
    ck_assert_int_eq(verify_victim(ctx, NULL), CERTROLE_OK);
    ck_assert_int_eq(verify_victim(ctx, &cached), CERTROLE_OK);
    ck_assert(cached);
    copy_atomic(revoked_crl, crl);
    ck_assert_int_eq(certrole_reload(ctx, NULL), CERTROLE_OK);
    ck_assert_int_eq(verify_victim(ctx, NULL), CERTROLE_E_REVOKED);
    free(revoked_crl);
    certrole_close(ctx);
}
END_TEST

static Suite *reload_load_suite(void)
{
    Suite *s = suite_create("reload under load");
    TCase *tc = tcase_create("reload");
    tcase_add_unchecked_fixture(tc, hx_prepare, NULL);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, decisions_follow_the_generations_under_reload);
    tcase_add_test(tc, a_new_crl_revokes_on_the_next_call_after_reload);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int rc = tu_run_suite(reload_load_suite());
    hx_cleanup();
    return rc;
}
