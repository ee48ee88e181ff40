/* Reload: a new configuration is swapped in atomically while threads
 * verify (never a wrong or failed decision, never a mix of old and new);
 * a broken policy keeps the old one and says file:line:column; and
 * certrole_reload_if_changed notices a touched policy or realm file.
 * Run under the sanitizer build for leaks (make check-sanitize). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>
#include "certrole.h"
#include "testutil.h"

static char *dir, *policy, *rolesfile, *chain_pem;
static size_t chain_len;

static void write_policy(const char *extra)
{
    char *t = tu_strf("trust ca-file=%s\n"
                      "realm required test user=crm roles-file=roles.txt\n"
                      "%s",
                      tu_pki("ca-file.pem"), extra ? extra : "");
    tu_write_file(policy, t);
    free(t);
}

static void setup(void)
{
    setenv("CERTROLE_REALM_DIR", tu_build("tests/.libs"), 1);
    dir = tu_mkdtemp("reload");
    policy = tu_strf("%s/p.policy", dir);
    rolesfile = tu_strf("%s/roles.txt", dir);
    tu_write_file(rolesfile, "v1\n");
    write_policy(NULL);
    chain_pem = tu_read_file(tu_pki("client-chain.pem"), &chain_len);
    ck_assert_ptr_nonnull(chain_pem);
}

static void teardown(void)
{
    tu_rmrf(dir);
    free(dir);
    free(policy);
    free(rolesfile);
    free(chain_pem);
}

static certrole_ctx *open_ctx(void)
{
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    certrole_code rc = certrole_open(&ctx, policy, &err);
    ck_assert_msg(rc == CERTROLE_OK, "%s", err ? err : "?");
    return ctx;
}

/* The single role the peer holds now ("v1", "v2"); fails on anything else. */
static char *role_now(certrole_ctx *ctx)
{
    certrole_result *res = NULL;
    ck_assert_int_eq(certrole_verify_pem(ctx, chain_pem, chain_len, &res), CERTROLE_OK);
    ck_assert_int_eq(certrole_result_role_count(res), 1);
    char *r = strdup(certrole_result_role(res, 0));
    certrole_result_free(res);
    return r;
}

static void quiet(void *ud, certrole_log_level level, const char *line)
{
    (void)ud; (void)level; (void)line;
}

struct worker {
    certrole_ctx *ctx;
    atomic_int *stop;
    long checks, wrong;
    char first_wrong[256];
};

static void *verify_loop(void *arg)
{
    struct worker *w = arg;
    while (!atomic_load(w->stop)) {
        certrole_result *res = NULL;
        certrole_code rc = certrole_verify_pem(w->ctx, chain_pem, chain_len, &res);
        int ok = rc == CERTROLE_OK && res && certrole_result_allowed(res) &&
                 certrole_result_user(res) && strcmp(certrole_result_user(res), "crm") == 0 &&
                 certrole_result_role_count(res) == 1 &&
                 (strcmp(certrole_result_role(res, 0), "v1") == 0 ||
                  strcmp(certrole_result_role(res, 0), "v2") == 0) &&
                 certrole_authorize(w->ctx, res, "GET", "/InvoiceService/list") == CERTROLE_OK;
        if (!ok && w->wrong++ == 0)
            snprintf(w->first_wrong, sizeof w->first_wrong, "rc=%d %s", rc,
                     res ? certrole_result_message(res) : "no result");
        w->checks++;
        certrole_result_free(res);
    }
    return NULL;
}

START_TEST(reload_under_load)
{
    certrole_ctx *ctx = open_ctx();
    certrole_set_log(ctx, quiet, NULL);
    atomic_int stop = 0;
    struct worker w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){ .ctx = ctx, .stop = &stop };
        ck_assert_int_eq(pthread_create(&th[i], NULL, verify_loop, &w[i]), 0);
    }
    for (int i = 0; i < 40; i++) {
        const char *v = (i % 2) ? "v1\n" : "v2\n";
        tu_write_file(rolesfile, v);
        /* Every other time, a policy rewrite too (rules change, same roles). */
        if (i % 4 == 0)
            write_policy(i % 8 ? "require GET / v1 v2\n" : "require GET /InvoiceService v1 v2\n");
        char *err = NULL;
        ck_assert_msg(certrole_reload(ctx, &err) == CERTROLE_OK, "%s", err ? err : "?");
        char *now = role_now(ctx);
        ck_assert_str_eq(now, (i % 2) ? "v1" : "v2");
        free(now);
        usleep(2000);
    }
    atomic_store(&stop, 1);
    long checks = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        ck_assert_msg(w[i].wrong == 0, "thread %d: %ld wrong of %ld, first: %s", i, w[i].wrong,
                      w[i].checks, w[i].first_wrong);
        checks += w[i].checks;
    }
    ck_assert_msg(checks > 40, "threads verified only %ld times", checks);
    certrole_close(ctx);
}
END_TEST

START_TEST(broken_reload_keeps_old_policy)
{
    certrole_ctx *ctx = open_ctx();
    certrole_set_log(ctx, quiet, NULL);
    char *r = role_now(ctx);
    ck_assert_str_eq(r, "v1");
    free(r);
    /* Realm data changes AND the policy breaks: nothing of it applies. */
    tu_write_file(rolesfile, "v2\n");
    write_policy("# fine\nrequire GET /x\n");
    char *err = NULL;
    ck_assert_int_eq(certrole_reload(ctx, &err), CERTROLE_E_POLICY_ERROR);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, "/p.policy:4:1: require: expected METHOD") != NULL, "%s", err);
    certrole_free(err);
    r = role_now(ctx);
    ck_assert_str_eq(r, "v1");
    free(r);
    /* A realm that fails to open is just as fatal to the reload. */
    write_policy("realm optional test fail-open\n");
    ck_assert_int_eq(certrole_reload(ctx, &err), CERTROLE_E_POLICY_ERROR);
    ck_assert_msg(strstr(err, "/p.policy:3:16: realm test: fail-open") != NULL, "%s", err);
    certrole_free(err);
    /* A vanished policy file: IO error, old policy still serves. */
    ck_assert_int_eq(unlink(policy), 0);
    ck_assert_int_eq(certrole_reload(ctx, NULL), CERTROLE_E_IO);
    r = role_now(ctx);
    ck_assert_str_eq(r, "v1");
    free(r);
    /* Fixed: the reload takes. */
    write_policy(NULL);
    ck_assert_int_eq(certrole_reload(ctx, &err), CERTROLE_OK);
    ck_assert_ptr_null(err);
    r = role_now(ctx);
    ck_assert_str_eq(r, "v2");
    free(r);
    certrole_close(ctx);
}
END_TEST

static void bump_mtime(const char *path, long sec_ago)
{
    struct timespec ts[2];
    clock_gettime(CLOCK_REALTIME, &ts[0]);
    ts[0].tv_sec -= sec_ago;
    ts[1] = ts[0];
    ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

START_TEST(reload_if_changed_detects_touch)
{
    certrole_ctx *ctx = open_ctx();
    certrole_set_log(ctx, quiet, NULL);
    int reloaded = -1;
    ck_assert_int_eq(certrole_reload_if_changed(ctx, &reloaded, NULL), CERTROLE_OK);
    ck_assert_int_eq(reloaded, 0);

    /* Realm file registered by the module through watch_file. */
    tu_write_file(rolesfile, "v2\n");
    bump_mtime(rolesfile, 100);
    ck_assert_int_eq(certrole_reload_if_changed(ctx, &reloaded, NULL), CERTROLE_OK);
    ck_assert_int_eq(reloaded, 1);
    char *r = role_now(ctx);
    ck_assert_str_eq(r, "v2");
    free(r);
    ck_assert_int_eq(certrole_reload_if_changed(ctx, &reloaded, NULL), CERTROLE_OK);
    ck_assert_int_eq(reloaded, 0);

    /* Only the mtime moves (same size, same content). */
    bump_mtime(rolesfile, 50);
    ck_assert_int_eq(certrole_reload_if_changed(ctx, &reloaded, NULL), CERTROLE_OK);
    ck_assert_int_eq(reloaded, 1);

    /* The policy file itself; a broken one reports and keeps the old. */
    write_policy("bogus\n");
    bump_mtime(policy, 20);
    char *err = NULL;
    ck_assert_int_eq(certrole_reload_if_changed(ctx, &reloaded, &err), CERTROLE_E_POLICY_ERROR);
    ck_assert_int_eq(reloaded, 0);
    ck_assert_msg(err && strstr(err, "/p.policy:3:1: unknown directive 'bogus'"), "%s",
                  err ? err : "");
    certrole_free(err);
    r = role_now(ctx);
    ck_assert_str_eq(r, "v2");
    free(r);

    /* An included file is watched too. */
    char *inc = tu_strf("%s/extra.inc", dir);
    tu_write_file(inc, "option cache-ttl=10\n");
    write_policy("include extra.inc\n");
    ck_assert_int_eq(certrole_reload_if_changed(ctx, &reloaded, NULL), CERTROLE_OK);
    ck_assert_int_eq(reloaded, 1);
    tu_write_file(inc, "option cache-ttl=20\n");
    bump_mtime(inc, 5);
    ck_assert_int_eq(certrole_reload_if_changed(ctx, &reloaded, NULL), CERTROLE_OK);
    ck_assert_int_eq(reloaded, 1);
    /* Replaced by another file (new inode), same size and mtime. */
    char *tmp = tu_strf("%s/extra.tmp", dir);
    tu_write_file(tmp, "option cache-ttl=30\n");
    struct stat st;
    ck_assert_int_eq(stat(inc, &st), 0);
    struct timespec ts[2] = { st.st_mtim, st.st_mtim };
    ck_assert_int_eq(utimensat(AT_FDCWD, tmp, ts, 0), 0);
    ck_assert_int_eq(rename(tmp, inc), 0);
    ck_assert_int_eq(certrole_reload_if_changed(ctx, &reloaded, NULL), CERTROLE_OK);
    ck_assert_int_eq(reloaded, 1);
    free(tmp);
    free(inc);
    certrole_close(ctx);
}
END_TEST

START_TEST(result_outlives_reload_and_close)
{
    certrole_ctx *ctx = open_ctx();
    certrole_set_log(ctx, quiet, NULL);
    certrole_result *old = NULL;
    ck_assert_int_eq(certrole_verify_pem(ctx, chain_pem, chain_len, &old), CERTROLE_OK);
    tu_write_file(rolesfile, "v2\n");
    ck_assert_int_eq(certrole_reload(ctx, NULL), CERTROLE_OK);
    certrole_close(ctx);
    ck_assert_str_eq(certrole_result_role(old, 0), "v1");
    ck_assert_str_eq(certrole_result_user(old), "crm");
    certrole_result_free(old);
}
END_TEST

START_TEST(reload_of_string_policy)
{
    char *text = tu_strf("trust ca-file=%s\nrealm required test roles-file=%s\n",
                         tu_pki("ca-file.pem"), rolesfile);
    certrole_ctx *ctx = NULL;
    ck_assert_int_eq(certrole_open_string(&ctx, text, NULL, NULL), CERTROLE_OK);
    certrole_set_log(ctx, quiet, NULL);
    tu_write_file(rolesfile, "v2\n");
    bump_mtime(rolesfile, 30);
    int reloaded = 0;
    ck_assert_int_eq(certrole_reload_if_changed(ctx, &reloaded, NULL), CERTROLE_OK);
    ck_assert_int_eq(reloaded, 1);
    char *r = role_now(ctx);
    ck_assert_str_eq(r, "v2");
    free(r);
    certrole_close(ctx);
    free(text);
    ck_assert_int_eq(certrole_reload(NULL, NULL), CERTROLE_E_INVALID_ARGUMENT);
}
END_TEST

static Suite *reload_suite(void)
{
    Suite *s = suite_create("reload");
    TCase *tc = tcase_create("reload");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, reload_under_load);
    tcase_add_test(tc, broken_reload_keeps_old_policy);
    tcase_add_test(tc, reload_if_changed_detects_touch);
    tcase_add_test(tc, result_outlives_reload_and_close);
    tcase_add_test(tc, reload_of_string_policy);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(reload_suite());
}
