/* option refresh: a changed CRL, realm or policy file applies itself,
 * without certrole_reload, from a thread of the library; a file caught
 * half-written or broken is never applied (the previous configuration
 * stays); and what a configuration records as seen is what it loaded,
 * even when a file is replaced by rename() while a reload is built. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <certrole.h>
#include "testutil.h"
#include "crl_util.h"
#define CLIENT_DN "CN=CRMApplication,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US"

static char *dir;

static void setup(void)
{
    dir = tu_mkdtemp("refresh");
}

static void teardown(void)
{
    tu_rmrf(dir);
    free(dir);
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* Writes text to a temporary name and renames it over path: the way a
 * CA publishes a CRL, so no reader ever sees it half-written. */
static void replace_atomically(const char *path, const char *text)
{
    char *tmp = tu_strf("%s.tmp", path);
    tu_write_file(tmp, text);
    ck_assert_int_eq(rename(tmp, path), 0);
    free(tmp);
}

/* A CRL of the issuing CA, made now: revoking revoked.pem, or nothing. */
static char *int_crl_pem(int revoke)
{
    return cu_int_crl_pem(revoke ? "revoked.pem" : NULL);
}

static char *pem_of(const char *name, size_t *len)
{
    char *pem = tu_read_file(tu_pki(name), len);
    ck_assert_ptr_nonnull(pem);
    return pem;
}

static certrole_code verify_pem(certrole_ctx *ctx, const char *pem, size_t len)
{
    certrole_result *res = NULL;
    certrole_code rc = certrole_verify_pem(ctx, pem, len, &res);
    ck_assert_ptr_nonnull(res);
    certrole_result_free(res);
    return rc;
}

/* Polls up to ms for verify to answer want; returns the last answer. */
static certrole_code poll_code(certrole_ctx *ctx, const char *pem, size_t len,
                               certrole_code want, int ms)
{
    certrole_code rc = verify_pem(ctx, pem, len);
    for (int t = 0; rc != want && t < ms; t += 50) {
        sleep_ms(50);
        rc = verify_pem(ctx, pem, len);
    }
    return rc;
}

static certrole_ctx *open_policy(const char *text)
{
    char *p = tu_strf("%s/refresh.policy", dir);
    tu_write_file(p, text);
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    ck_assert_msg(certrole_open(&ctx, p, &err) == CERTROLE_OK, "open: %s", err ? err : "?");
    free(p);
    return ctx;
}

/* Log lines collected for assertions. */
struct logbuf {
    pthread_mutex_t mu;
    int refused;   /* lines saying a refresh was not applied */
    char last[512];
};

static void log_cb(void *ud, certrole_log_level level, const char *line)
{
    struct logbuf *b = ud;
    (void)level;
    pthread_mutex_lock(&b->mu);
    if (strstr(line, "not applied")) {
        b->refused++;
        snprintf(b->last, sizeof b->last, "%s", line);
    }
    pthread_mutex_unlock(&b->mu);
}

static int refused(struct logbuf *b)
{
    pthread_mutex_lock(&b->mu);
    int n = b->refused;
    pthread_mutex_unlock(&b->mu);
    return n;
}

START_TEST(new_crl_applies_itself_and_a_broken_one_is_not_applied)
{
    char *crl = tu_strf("%s/int.crl", dir);
    char *empty = int_crl_pem(0), *revoking = int_crl_pem(1);
    tu_write_file(crl, empty);
    char *text = tu_strf("trust ca-file=\"%s\" crl-file=\"%s\" crl-check=leaf\n"
                         "option refresh=1 cache-ttl=300\n", tu_pki("ca-file.pem"), crl);
    certrole_ctx *ctx = open_policy(text);
    struct logbuf lb = { .refused = 0 };
    pthread_mutex_init(&lb.mu, NULL);
    certrole_set_log(ctx, log_cb, &lb);
    size_t len = 0, glen = 0;
    char *pem = pem_of("revoked-chain.pem", &len), *good = pem_of("client-chain.pem", &glen);
    /* Valid, and now cached. */
    ck_assert_int_eq(verify_pem(ctx, pem, len), CERTROLE_OK);
    ck_assert_int_eq(verify_pem(ctx, pem, len), CERTROLE_OK);

    /* The CA revokes it: a new CRL, published by rename(). No reload call. */
    replace_atomically(crl, revoking);
    ck_assert_int_eq(poll_code(ctx, pem, len, CERTROLE_E_REVOKED, 10000), CERTROLE_E_REVOKED);
    ck_assert_int_eq(verify_pem(ctx, good, glen), CERTROLE_OK);

    /* A damaged CRL is not applied: the revocation stays in force, and one
     * line (not one per check or per request) says why. */
    replace_atomically(crl, "-----BEGIN X509 CRL-----\nnot base64\n-----END X509 CRL-----\n");
    for (int t = 0; t < 10000 && refused(&lb) == 0; t += 50) {
        ck_assert_int_eq(verify_pem(ctx, pem, len), CERTROLE_E_REVOKED);
        sleep_ms(50);
    }
    ck_assert_int_eq(refused(&lb), 1);
    ck_assert_msg(strstr(lb.last, "int.crl"), "log line does not name the CRL: %s", lb.last);
    /* A CRL cut short in the middle of its base64: the same. */
    char *cut = tu_strf("%.*s", (int)(strlen(revoking) / 2), revoking);
    replace_atomically(crl, cut);
    for (int t = 0; t < 3000; t += 100) {
        ck_assert_int_eq(verify_pem(ctx, pem, len), CERTROLE_E_REVOKED);
        sleep_ms(100);
    }
    ck_assert_int_le(refused(&lb), 2);
    ck_assert_int_ge(refused(&lb), 1);

    /* A fixed CRL (lifting the revocation) applies itself again. */
    replace_atomically(crl, empty);
    ck_assert_int_eq(poll_code(ctx, pem, len, CERTROLE_OK, 10000), CERTROLE_OK);

    certrole_close(ctx);
    pthread_mutex_destroy(&lb.mu);
    free(cut);
    free(pem);
    free(good);
    free(text);
    free(empty);
    free(revoking);
    free(crl);
}
END_TEST

START_TEST(refresh_zero_applies_nothing)
{
    char *crl = tu_strf("%s/int.crl", dir);
    char *empty = int_crl_pem(0), *revoking = int_crl_pem(1);
    tu_write_file(crl, empty);
    char *text = tu_strf("trust ca-file=\"%s\" crl-file=\"%s\" crl-check=leaf\n"
                         "option refresh=0\n", tu_pki("ca-file.pem"), crl);
    certrole_ctx *ctx = open_policy(text);
    size_t len = 0;
    char *pem = pem_of("revoked-chain.pem", &len);
    ck_assert_int_eq(verify_pem(ctx, pem, len), CERTROLE_OK);
    replace_atomically(crl, revoking);
    sleep_ms(2500);
    /* Not applied (the cache stops serving; the old CRL is in force)... */
    ck_assert_int_eq(verify_pem(ctx, pem, len), CERTROLE_OK);
    /* ...until the application asks. */
    ck_assert_int_eq(certrole_reload(ctx, NULL), CERTROLE_OK);
    ck_assert_int_eq(verify_pem(ctx, pem, len), CERTROLE_E_REVOKED);
    certrole_close(ctx);
    free(pem);
    free(text);
    free(empty);
    free(revoking);
    free(crl);
}
END_TEST

/* The role set the client chain gets now, as "user:role,role" (or the
 * error code). */
static char *roles_now(certrole_ctx *ctx, const char *pem, size_t len)
{
    certrole_result *res = NULL;
    certrole_code rc = certrole_verify_pem(ctx, pem, len, &res);
    ck_assert_ptr_nonnull(res);
    char *s;
    if (rc != CERTROLE_OK) {
        s = tu_strf("error %d", (int)rc);
    } else {
        s = tu_strf("%s:", certrole_result_user(res) ? certrole_result_user(res) : "(none)");
        for (size_t i = 0; i < certrole_result_role_count(res); i++) {
            char *n = tu_strf("%s%s%s", s, i ? "," : "", certrole_result_role(res, i));
            free(s);
            s = n;
        }
    }
    certrole_result_free(res);
    return s;
}

/* cut is where the new realm file is cut while being written: inside a
 * role name (cut_role) or before the user= that names the user. */
static void half_written_realm(int cut_before_user)
{
    char *realm = tu_strf("%s/users.realm", dir);
    const char *v1 = "\"" CLIENT_DN "\" invoice-readonly user=crm\n";
    const char *v2 = "\"" CLIENT_DN "\" invoice-readonly,invoice-admin user=crm\n";
    tu_write_file(realm, v1);
    char *text = tu_strf("trust ca-file=\"%s\"\n"
                         "realm sufficient file path=users.realm\n"
                         "option refresh=1\n", tu_pki("ca-file.pem"));
    certrole_ctx *ctx = open_policy(text);
    size_t len = 0;
    char *pem = pem_of("client-chain.pem", &len);
    char *s = roles_now(ctx, pem, len);
    ck_assert_str_eq(s, "crm:invoice-readonly");
    free(s);

    /* cat new > users.realm, caught by a slow writer in the middle. */
    const char *cut = cut_before_user ? strstr(v2, " user=") : strstr(v2, "admin") + 2;
    int fd = open(realm, O_WRONLY | O_TRUNC);
    ck_assert_int_ge(fd, 0);
    size_t half = (size_t)(cut - v2);
    ck_assert_int_eq(write(fd, v2, half), (ssize_t)half);
    ck_assert_int_eq(fsync(fd), 0);
    /* Well past the refresh interval and the quiet second: every answer
     * is the old role set (or the new one), never the cut one. */
    for (int t = 0; t < 3000; t += 50) {
        s = roles_now(ctx, pem, len);
        ck_assert_msg(strcmp(s, "crm:invoice-readonly") == 0, "half-written realm applied: %s", s);
        free(s);
        sleep_ms(50);
    }
    size_t rest = strlen(v2) - half;
    ck_assert_int_eq(write(fd, v2 + half, rest), (ssize_t)rest);
    ck_assert_int_eq(close(fd), 0);
    const char *want = "crm:invoice-readonly,invoice-admin";
    s = roles_now(ctx, pem, len);
    for (int t = 0; strcmp(s, want) != 0 && t < 10000; t += 50) {
        ck_assert_msg(strcmp(s, "crm:invoice-readonly") == 0, "unexpected role set: %s", s);
        free(s);
        sleep_ms(50);
        s = roles_now(ctx, pem, len);
    }
    ck_assert_str_eq(s, want);
    free(s);
    certrole_close(ctx);
    free(pem);
    free(text);
    free(realm);
}

START_TEST(half_written_realm_cut_in_a_role_is_never_applied)
{
    half_written_realm(0);
}
END_TEST

START_TEST(half_written_realm_cut_before_user_is_never_applied)
{
    half_written_realm(1);
}
END_TEST

/* Replaces the CRL by rename() over and over while another thread
 * reloads: whatever each reload read, what it records as seen must be
 * that, so once the writer stops, reload_if_changed brings the last CRL
 * in (recording the new file's identity with the old CRL loaded would
 * make it say "unchanged" with the revocation never applied). A big
 * second CRL, read after the first and slow to parse, holds most of each
 * reload between the read of the first and the recording of what was
 * seen, so a rename lands there in most rounds. */
struct churn { certrole_ctx *ctx; atomic_int stop; int fails; };

static void *reload_main(void *arg)
{
    struct churn *c = arg;
    while (!atomic_load(&c->stop))
        if (certrole_reload(c->ctx, NULL) != CERTROLE_OK)
            c->fails++;
    return NULL;
}

START_TEST(seen_identity_is_the_one_loaded)
{
    char *crl = tu_strf("%s/int.crl", dir);
    char *empty = int_crl_pem(0), *revoking = int_crl_pem(1);
    tu_write_file(crl, empty);
    char *big = tu_strf("%s/big.crl", dir), *bigpem = cu_int_crl_pem_n(NULL, 30000);
    tu_write_file(big, bigpem);
    char *text = tu_strf("trust ca-file=\"%s\" crl-file=\"%s\" crl-file=\"%s\" crl-check=leaf\n"
                         "option refresh=0\n", tu_pki("ca-file.pem"), crl, big);
    certrole_ctx *ctx = open_policy(text);
    size_t len = 0;
    char *pem = pem_of("revoked-chain.pem", &len);
    for (int round = 0; round < 20; round++) {
        struct churn c = { ctx, 0, 0 };
        pthread_t th;
        ck_assert_int_eq(pthread_create(&th, NULL, reload_main, &c), 0);
        for (int i = 0; i < 10; i++) {
            replace_atomically(crl, i % 2 ? revoking : empty);
            sleep_ms(3);
        }
        replace_atomically(crl, revoking);
        sleep_ms(round % 5);
        atomic_store(&c.stop, 1);
        pthread_join(th, NULL);
        ck_assert_int_eq(c.fails, 0);
        int reloaded = 0;
        ck_assert_int_eq(certrole_reload_if_changed(ctx, &reloaded, NULL), CERTROLE_OK);
        ck_assert_msg(verify_pem(ctx, pem, len) == CERTROLE_E_REVOKED,
                      "round %d: the last CRL is recorded as seen but not in force", round);
        ck_assert_int_eq(certrole_reload(ctx, NULL), CERTROLE_OK);
        replace_atomically(crl, empty);
        ck_assert_int_eq(certrole_reload(ctx, NULL), CERTROLE_OK);
    }
    certrole_close(ctx);
    free(pem);
    free(text);
    free(empty);
    free(revoking);
    free(crl);
    free(big);
    free(bigpem);
}
END_TEST

START_TEST(refresh_option_is_checked)
{
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    char *text = tu_strf("trust ca-file=\"%s\"\noption refresh=-1\n", tu_pki("ca-file.pem"));
    ck_assert_int_eq(certrole_open_string(&ctx, text, "t", &err), CERTROLE_E_POLICY_ERROR);
    ck_assert_msg(err && strstr(err, "refresh"), "error: %s", err ? err : "(none)");
    certrole_free(err);
    free(text);
    text = tu_strf("trust ca-file=\"%s\"\noption refresh=0\n", tu_pki("ca-file.pem"));
    ck_assert_int_eq(certrole_open_string(&ctx, text, "t", NULL), CERTROLE_OK);
    certrole_close(ctx);
    free(text);
}
END_TEST

/* A ctx opened before fork() refreshes in the child, where the thread of
 * the parent (if any) does not exist. */
START_TEST(refresh_works_in_a_forked_child)
{
    char *crl = tu_strf("%s/int.crl", dir);
    char *empty = int_crl_pem(0), *revoking = int_crl_pem(1);
    tu_write_file(crl, empty);
    char *text = tu_strf("trust ca-file=\"%s\" crl-file=\"%s\" crl-check=leaf\n"
                         "option refresh=1\n", tu_pki("ca-file.pem"), crl);
    certrole_ctx *ctx = open_policy(text);
    size_t len = 0;
    char *pem = pem_of("revoked-chain.pem", &len);
    /* Used in the parent too, so the parent has a thread the child lacks. */
    ck_assert_int_eq(verify_pem(ctx, pem, len), CERTROLE_OK);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int ok = verify_pem(ctx, pem, len) == CERTROLE_OK;
        replace_atomically(crl, revoking);
        ok = ok && poll_code(ctx, pem, len, CERTROLE_E_REVOKED, 10000) == CERTROLE_E_REVOKED;
        certrole_close(ctx);
        _exit(ok ? 0 : 1);
    }
    int st = 0;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child did not see the new CRL");
    certrole_close(ctx);
    free(pem);
    free(text);
    free(empty);
    free(revoking);
    free(crl);
}
END_TEST

static Suite *refresh_suite(void)
{
    Suite *s = suite_create("refresh");
    TCase *tc = tcase_create("refresh");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, new_crl_applies_itself_and_a_broken_one_is_not_applied);
    tcase_add_test(tc, refresh_zero_applies_nothing);
    tcase_add_test(tc, half_written_realm_cut_in_a_role_is_never_applied);
    tcase_add_test(tc, half_written_realm_cut_before_user_is_never_applied);
    tcase_add_test(tc, seen_identity_is_the_one_loaded);
    tcase_add_test(tc, refresh_option_is_checked);
    suite_add_tcase(s, tc);
    /* Its own case, tagged "fork": the sanitizer runtimes cannot follow a
     * child of a multi-threaded process (TSan stops it, GCC 12's ASan may
     * hang it on a lock), so check-tsan and check-sanitize leave it out;
     * make check runs it. */
    TCase *fk = tcase_create("fork");
    tcase_set_tags(fk, "fork");
    tcase_add_checked_fixture(fk, setup, teardown);
    tcase_set_timeout(fk, 60);
    tcase_add_test(fk, refresh_works_in_a_forked_child);
    suite_add_tcase(s, fk);
    return s;
}

int main(void)
{
    return tu_run_suite(refresh_suite());
}
