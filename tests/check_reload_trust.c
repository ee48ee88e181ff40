/* certrole_reload_if_changed and certrole_reload pick up the trust
 * profile's own files: a CRL replaced on disk (a new revocation takes
 * effect) and a CA file replaced (another root becomes the anchor), each
 * noticed from its mtime, with other threads verifying meanwhile. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <certrole.h>
#include "testutil.h"
#include "crl_util.h"

static char *dir;

static void setup(void)
{
    dir = tu_mkdtemp("reloadtrust");
}

static void teardown(void)
{
    tu_rmrf(dir);
    free(dir);
}

/* Sets path's mtime to now + delta seconds, so a rewrite within the
 * same second (same size) is still seen as a change. */
static void set_mtime(const char *path, long delta)
{
    struct timespec ts[2];
    clock_gettime(CLOCK_REALTIME, &ts[0]);
    ts[0].tv_sec += delta;
    ts[1] = ts[0];
    ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

/* A CRL of the issuing CA that revokes nothing, signed with its key. */
static char *empty_int_crl_pem(void)
{
    return cu_int_crl_pem(NULL);
}

static certrole_code verify_file(certrole_ctx *ctx, const char *pemfile)
{
    size_t len = 0;
    char *pem = tu_read_file(tu_pki(pemfile), &len);
    ck_assert_ptr_nonnull(pem);
    certrole_result *res = NULL;
    certrole_code rc = certrole_verify_pem(ctx, pem, len, &res);
    ck_assert_ptr_nonnull(res);
    ck_assert_int_eq(certrole_result_code(res), rc);
    certrole_result_free(res);
    free(pem);
    return rc;
}

static certrole_ctx *open_file_policy(const char *text)
{
    char *p = tu_strf("%s/trust.policy", dir);
    tu_write_file(p, text);
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    ck_assert_msg(certrole_open(&ctx, p, &err) == CERTROLE_OK, "open: %s", err ? err : "?");
    free(p);
    return ctx;
}

/* Threads verifying the good chain while the main thread reloads: every
 * answer must be ok (the good chain is valid under every CRL version). */
struct busy { certrole_ctx *ctx; volatile int stop; int bad; int runs; };

static void *busy_main(void *arg)
{
    struct busy *b = arg;
    size_t len = 0;
    char *pem = tu_read_file(tu_pki("client-chain.pem"), &len);
    while (pem && !b->stop) {
        certrole_result *res = NULL;
        if (certrole_verify_pem(b->ctx, pem, len, &res) != CERTROLE_OK)
            b->bad++;
        certrole_result_free(res);
        b->runs++;
    }
    free(pem);
    return NULL;
}

START_TEST(crl_replaced_on_disk_is_reloaded)
{
    char *crl = tu_strf("%s/int.crl", dir);
    char *empty = empty_int_crl_pem();
    tu_write_file(crl, empty);
    char *text = tu_strf("trust ca-file=\"%s\" crl-file=\"%s\" crl-check=leaf\n",
                         tu_pki("ca-file.pem"), crl);
    certrole_ctx *ctx = open_file_policy(text);
    /* The CRL in force revokes nothing yet. */
    ck_assert_int_eq(verify_file(ctx, "revoked-chain.pem"), CERTROLE_OK);
    int reloaded = -1;
    ck_assert_int_eq(certrole_reload_if_changed(ctx, &reloaded, NULL), CERTROLE_OK);
    ck_assert_int_eq(reloaded, 0);

    pthread_t th[2];
    struct busy b = { ctx, 0, 0, 0 };
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, busy_main, &b), 0);

    /* The CA publishes a CRL listing revoked.pem: picked up by mtime. */
    char *listing = tu_read_file(tu_pki("crl-int.pem"), NULL);
    ck_assert_ptr_nonnull(listing);
    tu_write_file(crl, listing);
    set_mtime(crl, 30);
    ck_assert_int_eq(certrole_reload_if_changed(ctx, &reloaded, NULL), CERTROLE_OK);
    ck_assert_int_eq(reloaded, 1);
    ck_assert_int_eq(verify_file(ctx, "revoked-chain.pem"), CERTROLE_E_REVOKED);
    ck_assert_int_eq(verify_file(ctx, "client-chain.pem"), CERTROLE_OK);

    /* A damaged CRL keeps the previous one in force. */
    tu_write_file(crl, "-----BEGIN X509 CRL-----\nnot base64\n-----END X509 CRL-----\n");
    set_mtime(crl, 60);
    char *err = NULL;
    ck_assert_int_ne(certrole_reload_if_changed(ctx, &reloaded, &err), CERTROLE_OK);
    ck_assert_int_eq(reloaded, 0);
    ck_assert_msg(err && strstr(err, "int.crl"), "error does not name the CRL: %s",
                  err ? err : "(none)");
    certrole_free(err);
    ck_assert_int_eq(verify_file(ctx, "revoked-chain.pem"), CERTROLE_E_REVOKED);

    /* And back to the empty CRL through an explicit reload. */
    tu_write_file(crl, empty);
    ck_assert_int_eq(certrole_reload(ctx, NULL), CERTROLE_OK);
    ck_assert_int_eq(verify_file(ctx, "revoked-chain.pem"), CERTROLE_OK);

    b.stop = 1;
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    ck_assert_int_gt(b.runs, 0);
    ck_assert_int_eq(b.bad, 0);
    certrole_close(ctx);
    free(listing);
    free(text);
    free(empty);
    free(crl);
}
END_TEST

START_TEST(ca_file_replaced_on_disk_is_reloaded)
{
    char *ca = tu_strf("%s/anchors.pem", dir);
    char *other = tu_read_file(tu_pki("other-root-ca.pem"), NULL);
    char *acme = tu_read_file(tu_pki("ca-file.pem"), NULL);
    ck_assert(other && acme);
    tu_write_file(ca, other);
    char *text = tu_strf("trust ca-file=\"%s\"\n", ca);
    certrole_ctx *ctx = open_file_policy(text);
    ck_assert_int_eq(verify_file(ctx, "client-chain.pem"), CERTROLE_E_UNTRUSTED_ISSUER);
    ck_assert_int_eq(verify_file(ctx, "other-client.pem"), CERTROLE_OK);
    tu_write_file(ca, acme);
    set_mtime(ca, 30);
    int reloaded = -1;
    ck_assert_int_eq(certrole_reload_if_changed(ctx, &reloaded, NULL), CERTROLE_OK);
    ck_assert_int_eq(reloaded, 1);
    ck_assert_int_eq(verify_file(ctx, "client-chain.pem"), CERTROLE_OK);
    ck_assert_int_eq(verify_file(ctx, "other-client.pem"), CERTROLE_E_UNTRUSTED_ISSUER);
    certrole_close(ctx);
    free(text);
    free(acme);
    free(other);
    free(ca);
}
END_TEST

static Suite *reload_trust_suite(void)
{
    Suite *s = suite_create("reload_trust");
    TCase *tc = tcase_create("files");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, crl_replaced_on_disk_is_reloaded);
    tcase_add_test(tc, ca_file_replaced_on_disk_is_reloaded);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(reload_trust_suite());
}
