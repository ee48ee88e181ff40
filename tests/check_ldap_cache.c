/* The ldap realm against a real slapd: the positive and negative cache
 * (TTLs, keyed by fingerprint, bounded, emptied by reload, serving while
 * the server is frozen or stopped) and the connection pool (reused across
 * lookups and threads, re-opened after the server restarts). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "testutil.h"
#include "ldap/realm_harness.h"
#include <pthread.h>

START_TEST(cache_answers_without_the_server_until_reload)
{
    char *u = lh_uri();
    void *st = lh_realm(u, "map=dn", "base=c=US", "cache-ttl=60", "negative-ttl=60",
                     "timeout=1", "network-timeout=1", NULL);
    lh_expect_found(st, tu_pki("client.pem"), "crm");
    lh_expect_status(st, tu_pki("norole.pem"), CERTROLE_REALM_NOT_FOUND);
    int searches = lf_log_count(&lh_srv, " SRCH ");
    ck_assert_int_gt(searches, 0);

    /* Repeat lookups: no traffic at all, positive and negative. */
    struct lh_result r = lh_look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_FOUND);
    ck_assert(lh_has_role(&r, "invoice-readers"));
    lh_result_free(&r);
    lh_expect_status(st, tu_pki("norole.pem"), CERTROLE_REALM_NOT_FOUND);
    ck_assert_int_eq(lf_log_count(&lh_srv, " SRCH "), searches);

    /* Even with the server frozen. */
    lf_freeze(&lh_srv, 1);
    r = lh_look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_FOUND);
    lh_result_free(&r);
    lh_expect_status(st, tu_pki("norole.pem"), CERTROLE_REALM_NOT_FOUND);

    /* reload() empties the cache: now the frozen server must time out. */
    char err[256];
    ck_assert_int_eq(lh_ops->reload(st, err, sizeof err), 0);
    r = lh_look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_UNAVAILABLE);
    ck_assert_msg(r.seconds < 1.0 + 1.5, "took %.2f s", r.seconds);
    lh_result_free(&r);
    lf_freeze(&lh_srv, 0);
    lh_ops->close(st);

    /* cache-ttl=0: a frozen server behind a pooled connection times out. */
    st = lh_realm(u, "map=dn", "base=c=US", "cache-ttl=0", "negative-ttl=0", "timeout=1", NULL);
    lh_expect_found(st, tu_pki("client.pem"), "crm");
    lf_freeze(&lh_srv, 1);
    r = lh_look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_UNAVAILABLE);
    ck_assert_msg(r.seconds >= 0.5 && r.seconds < 1.0 + 1.5, "took %.2f s", r.seconds);
    lh_result_free(&r);
    lf_freeze(&lh_srv, 0);
    lh_ops->close(st);
    free(u);
}
END_TEST

START_TEST(cache_expires_after_its_ttl)
{
    char *u = lh_uri();
    void *st = lh_realm(u, "map=dn", "base=c=US", "cache-ttl=1", "timeout=1", NULL);
    lh_expect_found(st, tu_pki("client.pem"), "crm");
    lf_freeze(&lh_srv, 1);
    lh_expect_found(st, tu_pki("client.pem"), "crm");
    usleep(1100 * 1000);
    lh_expect_status(st, tu_pki("client.pem"), CERTROLE_REALM_UNAVAILABLE);
    lf_freeze(&lh_srv, 0);
    lh_ops->close(st);
    free(u);
}
END_TEST

START_TEST(negative_answers_expire_after_their_ttl)
{
    char *u = lh_uri();
    void *st = lh_realm(u, "map=dn", "base=c=US", "cache-ttl=60", "negative-ttl=1", "timeout=1",
                        "network-timeout=1", NULL);
    lh_expect_status(st, tu_pki("norole.pem"), CERTROLE_REALM_NOT_FOUND);
    lf_stop(&lh_srv);
    lh_expect_status(st, tu_pki("norole.pem"), CERTROLE_REALM_NOT_FOUND);
    usleep(1100 * 1000);
    struct lh_result r = lh_look(st, tu_pki("norole.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_UNAVAILABLE);
    ASSERT_MSG_HAS(r, u + 4);
    lh_result_free(&r);
    /* an unavailable answer is never cached: still unavailable */
    lh_expect_status(st, tu_pki("norole.pem"), CERTROLE_REALM_UNAVAILABLE);
    lh_ops->close(st);
    free(u);
}
END_TEST

/* The key is the certificate's fingerprint, not its subject: another
 * certificate with the same subject DN is never answered from the cache. */
START_TEST(cache_is_keyed_by_fingerprint_and_bounded)
{
    char *u = lh_uri();
    void *st = lh_realm(u, "map=dn", "base=c=US", "cache-ttl=60", "cache-size=1", "timeout=1",
                        "network-timeout=1", NULL);
    lh_expect_found(st, tu_pki("client.pem"), "crm");
    lf_stop(&lh_srv);                   /* stopped, not just frozen */
    lh_expect_found(st, tu_pki("client.pem"), "crm");
    lh_expect_status(st, tu_pki("other-client.pem"), CERTROLE_REALM_UNAVAILABLE);
    lh_expect_status(st, tu_pki("selfsigned.pem"), CERTROLE_REALM_UNAVAILABLE);
    lh_expect_found(st, tu_pki("client.pem"), "crm");
    lh_ops->close(st);

    /* cache-size=1: a second peer pushes the first one out */
    lf_start(&lh_srv);
    free(u);
    u = lh_uri();
    st = lh_realm(u, "map=dn", "base=c=US", "cache-ttl=60", "negative-ttl=60", "cache-size=1",
                  "timeout=1", "network-timeout=1", NULL);
    lh_expect_found(st, tu_pki("client.pem"), "crm");
    lh_expect_found(st, lf_cert("esc"), "jsmith");
    lf_stop(&lh_srv);
    lh_expect_found(st, lf_cert("esc"), "jsmith");
    lh_expect_status(st, tu_pki("client.pem"), CERTROLE_REALM_UNAVAILABLE);
    lh_ops->close(st);

    /* cache-size=0: nothing is kept */
    st = lh_realm(u, "map=dn", "base=c=US", "cache-size=0", "timeout=1", "network-timeout=1", NULL);
    lh_expect_status(st, tu_pki("client.pem"), CERTROLE_REALM_UNAVAILABLE);
    lh_ops->close(st);
    free(u);
}
END_TEST

START_TEST(pool_reuses_connections_and_reopens_broken_ones)
{
    char *u = lh_uri();
    void *st = lh_realm(u, "map=dn", "base=c=US", "cache-ttl=0", "pool-size=2", NULL);
    /* Each new connection binds once (the readiness probes never do). */
    for (int i = 0; i < 20; i++)
        lh_expect_found(st, tu_pki("client.pem"), "crm");
    ck_assert_int_eq(lf_log_count(&lh_srv, " BIND dn="), 1);

    /* The server restarts on the same port: the idle connection is dead;
     * the next lookup notices, reconnects and answers. */
    int port = lh_srv.port, tls_port = lh_srv.tls_port;
    lf_stop(&lh_srv);
    lh_srv.port = port;
    lh_srv.tls_port = tls_port;
    char *urls = tu_strf("ldap://127.0.0.1:%d/ ldaps://127.0.0.1:%d/", port, tls_port);
    char *conf = tu_strf("%s/slapd.conf", lf_dir());
    lh_srv.log = tu_strf("%s/slapd-%d-again.log", lf_dir(), port);
    char *argv[] = { (char *)tu_env("SLAPD", "slapd"), "-f", conf, "-h", urls, "-d", "stats", NULL };
    lh_srv.pid = tu_spawn(argv, lh_srv.log);
    ck_assert_int_eq(tu_wait_port(port, 10000), 0);
    lh_expect_found(st, tu_pki("client.pem"), "crm");
    lh_ops->close(st);
    free(urls); free(conf); free(u);
}
END_TEST

struct worker { void *st; int ok; };

static void *work(void *arg)
{
    struct worker *w = arg;
    struct certrole_identity id;
    lf_identity(tu_pki("client.pem"), &id);
    for (int i = 0; i < 25; i++) {
        struct certrole_answer a;
        memset(&a, 0, sizeof a);
        if (lh_ops->lookup(w->st, &id, &a) == CERTROLE_REALM_FOUND && a.user &&
            strcmp(a.user, "crm") == 0 && a.n_roles == 4)
            w->ok++;
        struct lh_result r = { .a = a };
        lh_result_free(&r);
    }
    lf_identity_free(&id);
    return NULL;
}


START_TEST(many_threads_share_one_realm)
{
    char *u = lh_uri();
    void *st = lh_realm(u, "map=dn", "base=c=US", "cache-ttl=0", "pool-size=2", NULL);
    pthread_t t[4];
    struct worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){ .st = st };
        ck_assert_int_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(w[i].ok, 25);
    }
    lh_ops->close(st);
    /* With as many pooled connections as threads, 100 uncached lookups
     * from 4 threads bind at most 4 times: connections are reused across
     * threads, never one per lookup. */
    int binds = lf_log_count(&lh_srv, " BIND dn=");
    st = lh_realm(u, "map=dn", "base=c=US", "cache-ttl=0", "pool-size=4", NULL);
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){ .st = st };
        ck_assert_int_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(w[i].ok, 25);
    }
    lh_ops->close(st);
    int more = lf_log_count(&lh_srv, " BIND dn=") - binds;
    printf("4 threads x 25 lookups, pool-size=4: %d binds\n", more);
    ck_assert_int_ge(more, 1);
    ck_assert_int_le(more, 4);
    free(u);
}
END_TEST

static Suite *ldap_cache_suite(void)
{
    Suite *s = suite_create("ldap realm: cache");
    TCase *tc_cache = lh_tcase("cache", 1, 60);
    tcase_add_test(tc_cache, cache_answers_without_the_server_until_reload);
    tcase_add_test(tc_cache, cache_expires_after_its_ttl);
    tcase_add_test(tc_cache, negative_answers_expire_after_their_ttl);
    tcase_add_test(tc_cache, cache_is_keyed_by_fingerprint_and_bounded);
    suite_add_tcase(s, tc_cache);
    TCase *tc_pool = lh_tcase("pool", 1, 60);
    tcase_add_test(tc_pool, pool_reuses_connections_and_reopens_broken_ones);
    tcase_add_test(tc_pool, many_threads_share_one_realm);
    suite_add_tcase(s, tc_pool);
    return s;
}

int main(void) { return lh_main(ldap_cache_suite()); }
