/* OCSP checking of client certificates against real 'openssl ocsp'
 * responders on loopback (and, for answers no responder can be made to
 * give, responses signed at test time served as fixed bytes): good,
 * revoked, unknown, responder down or silent, an unauthorised signer, a
 * stale answer, an answer for another certificate, ocsp-failure=crl and
 * allow, the answer cache and one request per certificate in flight, and
 * the policy errors of the ocsp keys. */
#include "ocsp_util.h"
#include <stdarg.h>
#include <time.h>
#include <certrole.h>

#define HAS(out, s) ck_assert_msg(strstr((out), (s)) != NULL, "'%s' lacks '%s'", (out), (s))

static char *pki;        /* made once in main, read by every test */
static int aia_port;     /* the port the certificates' AIA names */
static int ica_port;     /* the port in the AIA of what the intermediate issues */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* A context for "trust ca-file=ca.pem <trust>" with the verification
 * cache off (unless extra says otherwise), so every call reaches OCSP. */
static certrole_ctx *open_ctx(const char *trust, const char *extra)
{
    char *text = tu_strf("trust ca-file=%s/ca.pem %s\noption cache-size=0\n%s\n", pki, trust,
                         extra ? extra : "");
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    certrole_code rc = certrole_open_string(&ctx, text, "p", &err);
    ck_assert_msg(rc == CERTROLE_OK, "%s: %s", text, err ? err : "");
    free(text);
    return ctx;
}

/* Verifies pki/name.pem; the code, and the message (and hint) in msg. */
static certrole_code verify(certrole_ctx *ctx, const char *name, char **msg)
{
    char *p = tu_strf("%s/%s.pem", pki, name);
    size_t len = 0;
    char *pem = tu_read_file(p, &len);
    ck_assert_ptr_nonnull(pem);
    certrole_result *res = NULL;
    certrole_code rc = certrole_verify_pem(ctx, pem, len, &res);
    ck_assert_ptr_nonnull(res);
    ck_assert_int_eq(certrole_result_code(res), rc);
    if (msg)
        *msg = tu_strf("%s | %s", certrole_result_message(res), certrole_result_hint(res));
    certrole_result_free(res);
    free(pem);
    free(p);
    return rc;
}

static char *url(int port)
{
    return tu_strf("ocsp=leaf ocsp-url=http://127.0.0.1:%d/", port);
}

/* ----- answers from a real responder --------------------------------------- */

START_TEST(good_revoked_unknown)
{
    int port = tu_free_port();
    pid_t pid = ou_responder(pki, port, "rsp");
    char *t = url(port), *msg = NULL;
    certrole_ctx *ctx = open_ctx(t, NULL);
    ck_assert_int_eq(verify(ctx, "good", &msg), CERTROLE_OK);
    free(msg);
    ck_assert_int_eq(verify(ctx, "revoked", &msg), CERTROLE_E_REVOKED);
    HAS(msg, "reason keyCompromise");
    HAS(msg, "revoked at 20");
    HAS(msg, "OCSP responder http://127.0.0.1:");
    free(msg);
    ck_assert_int_eq(verify(ctx, "unknown", &msg), CERTROLE_E_OCSP_UNAVAILABLE);
    HAS(msg, "status unknown");
    HAS(msg, "| add this certificate to the database of http://127.0.0.1:");
    free(msg);
    certrole_close(ctx);
    tu_stop(pid);
    free(t);
}
END_TEST

/* A responder named by host name: every address it resolves to is tried
 * in turn (localhost may give ::1 first, where nothing listens). */
START_TEST(responder_by_host_name)
{
    int port = tu_free_port();
    pid_t pid = ou_responder(pki, port, "rsp");
    char *t = tu_strf("ocsp=leaf ocsp-url=http://localhost:%d/", port);
    certrole_ctx *ctx = open_ctx(t, NULL);
    ck_assert_int_eq(verify(ctx, "good", NULL), CERTROLE_OK);
    ck_assert_int_eq(verify(ctx, "revoked", NULL), CERTROLE_E_REVOKED);
    certrole_close(ctx);
    tu_stop(pid);
    free(t);
}
END_TEST

/* Without ocsp-url the certificate's authorityInfoAccess names the responder;
 * without ocsp= nothing is asked (the old behaviour: revoked passes). */
START_TEST(aia_url_and_off)
{
    pid_t pid = ou_responder(pki, aia_port, "rsp");
    certrole_ctx *ctx = open_ctx("ocsp=leaf", NULL);
    ck_assert_int_eq(verify(ctx, "good", NULL), CERTROLE_OK);
    ck_assert_int_eq(verify(ctx, "revoked", NULL), CERTROLE_E_REVOKED);
    certrole_close(ctx);
    ctx = open_ctx("", NULL);
    ck_assert_int_eq(verify(ctx, "revoked", NULL), CERTROLE_OK);
    certrole_close(ctx);
    tu_stop(pid);
}
END_TEST

/* ocsp=chain asks about the intermediate too (ca's delegated responder
 * says it is revoked); ocsp=leaf only about the leaf, whose answer the
 * intermediate signs itself. */
START_TEST(chain_checks_the_intermediate)
{
    pid_t a = ou_responder(pki, aia_port, "rsp");
    pid_t b = ou_responder_for(pki, ica_port, "ica", "ica", "index-ica.txt");
    char *msg = NULL;
    certrole_ctx *ctx = open_ctx("ocsp=leaf", NULL);
    ck_assert_int_eq(verify(ctx, "deep-chain", &msg), CERTROLE_OK);
    free(msg);
    certrole_close(ctx);
    ctx = open_ctx("ocsp=chain", NULL);
    ck_assert_int_eq(verify(ctx, "deep-chain", &msg), CERTROLE_E_REVOKED);
    HAS(msg, "an intermediate CA certificate of the chain was revoked");
    HAS(msg, "reason cACompromise");
    HAS(msg, "(CN=ica)");
    free(msg);
    certrole_close(ctx);
    tu_stop(b);
    tu_stop(a);
}
END_TEST

START_TEST(responder_down)
{
    int port = tu_free_port();   /* nothing listens there */
    char *t = tu_strf("ocsp=leaf ocsp-url=http://127.0.0.1:%d/ocsp ocsp-timeout=3", port);
    char *want = tu_strf("http://127.0.0.1:%d/ocsp", port), *msg = NULL;
    certrole_ctx *ctx = open_ctx(t, NULL);
    double t0 = now_s();
    ck_assert_int_eq(verify(ctx, "good", &msg), CERTROLE_E_OCSP_UNAVAILABLE);
    /* A refusal is an answer: taken at once, not retried until the
     * 3 s deadline (as OpenSSL's own client would) */
    ck_assert_double_lt(now_s() - t0, 2.0);
    HAS(msg, want);
    HAS(msg, "connection refused (nothing listens there)");
    char *hint = tu_strf("| start the OCSP responder at %s, or correct ocsp-url=", want);
    HAS(msg, hint);
    free(hint);
    free(msg);
    certrole_close(ctx);
    free(want);
    free(t);
}
END_TEST

/* A responder that accepts and never answers: refused after the timeout. */
START_TEST(silent_responder_times_out)
{
    struct ou_server s = { 0 };
    ou_listen(&s, 0);
    char *t = tu_strf("ocsp=leaf ocsp-url=http://127.0.0.1:%d/ ocsp-timeout=2", s.port), *msg;
    certrole_ctx *ctx = open_ctx(t, NULL);
    double t0 = now_s();
    ck_assert_int_eq(verify(ctx, "good", &msg), CERTROLE_E_OCSP_UNAVAILABLE);
    double dt = now_s() - t0;
    ck_assert_msg(dt >= 1.8 && dt < 2 + 5.0, "took %.2f s", dt);   /* room for a loaded run */
    HAS(msg, "no answer within the timeout of 2 s");
    HAS(msg, "did not answer within 2 s: check the responder, or raise ocsp-timeout=");
    free(msg);
    certrole_close(ctx);
    ou_close(&s, 0);
    free(t);
}
END_TEST

/* Signed by a responder certificate of another CA, or by a certificate of
 * the right CA that was not delegated (no id-kp-OCSPSigning). */
START_TEST(unauthorised_signer)
{
    static const char *const signers[] = { "orsp", "other-leaf" };
    for (int i = 0; i < 2; i++) {
        int port = tu_free_port();
        pid_t pid = ou_responder(pki, port, signers[i]);
        char *t = url(port), *msg = NULL;
        certrole_ctx *ctx = open_ctx(t, NULL);
        ck_assert_int_eq(verify(ctx, "good", &msg), CERTROLE_E_OCSP_UNAVAILABLE);
        HAS(msg, "is not signed by the issuer (CN=OCSP Test CA) or by a responder it delegated");
        HAS(msg, "or with a certificate the issuer issued with extendedKeyUsage OCSPSigning");
        free(msg);
        ck_assert_int_eq(verify(ctx, "revoked", NULL), CERTROLE_E_OCSP_UNAVAILABLE);
        certrole_close(ctx);
        tu_stop(pid);
        free(t);
    }
}
END_TEST

/* Fixed answers: stale, for another certificate, and a good one without
 * the nonce (accepted: the responder serves precomputed answers). */
static certrole_code serve_fixed(unsigned char *der, size_t len, char **msg)
{
    struct ou_server s = { 0 };
    ou_listen(&s, 1);
    ou_set_body(&s, der, len);
    char *t = url(s.port);
    certrole_ctx *ctx = open_ctx(t, NULL);
    certrole_code rc = verify(ctx, "good", msg);
    ck_assert_int_eq(s.requests, 1);
    certrole_close(ctx);
    ou_close(&s, 1);
    free(t);
    return rc;
}

static unsigned char *file_bytes(const char *name, size_t *len)
{
    char *p = tu_strf("%s/%s", pki, name);
    unsigned char *b = (unsigned char *)tu_read_file(p, len);
    ck_assert_ptr_nonnull(b);
    free(p);
    return b;
}

START_TEST(stale_other_and_nonceless_answers)
{
    size_t len;
    char *msg = NULL;
    /* thisUpdate two days ago, nextUpdate a day ago: past any skew */
    unsigned char *der = ou_response(pki, "good", V_OCSP_CERTSTATUS_GOOD, -2 * 86400, -86400, &len);
    ck_assert_int_eq(serve_fixed(der, len, &msg), CERTROLE_E_OCSP_UNAVAILABLE);
    HAS(msg, "too old");
    HAS(msg, "or check this host's clock (ocsp-skew=300 s is allowed)");
    free(msg);
    der = file_bytes("other-leaf.resp", &len);   /* openssl's answer about other-leaf */
    ck_assert_int_eq(serve_fixed(der, len, &msg), CERTROLE_E_OCSP_UNAVAILABLE);
    HAS(msg, "a response for another certificate");
    HAS(msg, "answers about another certificate: point ocsp-url= at the responder");
    free(msg);
    der = file_bytes("good.resp", &len);
    ck_assert_int_eq(serve_fixed(der, len, &msg), CERTROLE_OK);
    free(msg);
}
END_TEST

/* ----- ocsp-failure= ------------------------------------------------------------ */

START_TEST(failure_crl_falls_back_to_the_crl)
{
    int port = tu_free_port();   /* down */
    ou_crl(pki, "revoked");
    char *t = tu_strf("ocsp=leaf ocsp-url=http://127.0.0.1:%d/ ocsp-failure=crl crl-file=%s/ca.crl",
                      port, pki), *msg = NULL;
    certrole_ctx *ctx = open_ctx(t, NULL);
    ck_assert_int_eq(verify(ctx, "good", &msg), CERTROLE_OK);
    HAS(msg, "the CRL check decided (ocsp-failure=crl)");
    free(msg);
    ck_assert_int_eq(verify(ctx, "revoked", &msg), CERTROLE_E_REVOKED);
    free(msg);
    certrole_close(ctx);
    free(t);
}
END_TEST

START_TEST(failure_allow)
{
    int port = tu_free_port();   /* down */
    char *t = tu_strf("ocsp=leaf ocsp-url=http://127.0.0.1:%d/ ocsp-failure=allow", port), *msg;
    certrole_ctx *ctx = open_ctx(t, NULL);
    ck_assert_int_eq(verify(ctx, "revoked", &msg), CERTROLE_OK);
    HAS(msg, "allowed without it (ocsp-failure=allow)");
    free(msg);
    certrole_close(ctx);
    free(t);
}
END_TEST

/* ----- the answer cache ------------------------------------------------------------ */

/* The second verification is answered from the cache: the responder has
 * stopped, and another certificate (not cached) shows that it has. */
START_TEST(cached_answer_outlives_the_responder)
{
    int port = tu_free_port();
    pid_t pid = ou_responder(pki, port, "rsp");
    char *t = url(port);
    certrole_ctx *ctx = open_ctx(t, NULL);
    ck_assert_int_eq(verify(ctx, "good", NULL), CERTROLE_OK);
    tu_stop(pid);
    ck_assert_int_eq(verify(ctx, "good", NULL), CERTROLE_OK);
    ck_assert_int_eq(verify(ctx, "revoked", NULL), CERTROLE_E_OCSP_UNAVAILABLE);
    certrole_close(ctx);
    free(t);
}
END_TEST

#define THREADS 8
static certrole_ctx *shared_ctx;
static pthread_barrier_t barrier;

static void *verify_thread(void *arg)
{
    pthread_barrier_wait(&barrier);
    *(certrole_code *)arg = verify(shared_ctx, "good", NULL);
    return NULL;
}

/* N threads at once, a responder taking a second: one request. */
START_TEST(one_request_in_flight_per_certificate)
{
    struct ou_server s = { .delay_ms = 1000 };
    size_t len;
    ou_listen(&s, 1);
    unsigned char *der = file_bytes("good.resp", &len);
    ou_set_body(&s, der, len);
    char *t = url(s.port);
    shared_ctx = open_ctx(t, NULL);
    pthread_t th[THREADS];
    certrole_code rc[THREADS];
    pthread_barrier_init(&barrier, NULL, THREADS);
    for (int i = 0; i < THREADS; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, verify_thread, &rc[i]), 0);
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(rc[i], CERTROLE_OK);
    }
    pthread_barrier_destroy(&barrier);
    ck_assert_int_eq(s.requests, 1);
    certrole_close(shared_ctx);
    ou_close(&s, 1);
    free(t);
}
END_TEST

/* The verification cache (on here) serves an OK no longer than the OCSP
 * answer it rests on: after nextUpdate the responder is asked again. */
START_TEST(verification_cache_bounded_by_next_update)
{
    struct ou_server s = { 0 };
    size_t len;
    ou_listen(&s, 1);
    unsigned char *der = ou_response(pki, "good", V_OCSP_CERTSTATUS_GOOD, -10, 2, &len);
    ou_set_body(&s, der, len);
    char *t = url(s.port);
    certrole_ctx *ctx = open_ctx(t, "option cache-size=100 cache-ttl=300");
    ck_assert_int_eq(verify(ctx, "good", NULL), CERTROLE_OK);
    ck_assert_int_eq(verify(ctx, "good", NULL), CERTROLE_OK);
    ck_assert_int_eq(s.requests, 1);
    der = ou_response(pki, "good", V_OCSP_CERTSTATUS_REVOKED, -10, 600, &len);
    ou_set_body(&s, der, len);
    sleep(3);
    char *msg = NULL;
    ck_assert_int_eq(verify(ctx, "good", &msg), CERTROLE_E_REVOKED);
    HAS(msg, "reason keyCompromise");
    free(msg);
    ck_assert_int_eq(s.requests, 2);
    certrole_close(ctx);
    ou_close(&s, 1);
    free(t);
}
END_TEST

/* ----- policy errors ------------------------------------------------------------ */

static const struct { const char *opt, *says; } bad[] = {
    { "ocsp=yes", "ocsp=yes: expected off, leaf or chain" },
    { "ocsp-url=https://127.0.0.1/", "expected an http:// URL" },
    { "ocsp-url=ldap://x/", "expected an http:// URL" },
    { "ocsp-url=http://", "expected an http:// URL" },
    { "ocsp-failure=open", "ocsp-failure=open: expected deny, crl or allow" },
    { "ocsp-timeout=0", "ocsp-timeout=0: expected seconds from 1 to 300" },
    { "ocsp-timeout=5s", "ocsp-timeout=5s: expected seconds" },
    { "ocsp-nonce=maybe", "ocsp-nonce=maybe: expected yes or no" },
    { "ocsp-skew=-1", "ocsp-skew=-1: expected seconds from 0 to 86400" },
    { "ocsp-failure=crl", "ocsp-failure: crl falls back to the CRL check, but no CRL is loaded" },
    { "ocsp-failure=crl crl-file=ca.crl ocsp=chain", "crl-check is leaf: set crl-check=chain" },
};

START_TEST(bad_values_refuse_the_policy)
{
    const char *opt = bad[_i].opt;
    if (strstr(opt, "crl-file="))
        ou_crl(pki, "revoked");
    char *text = tu_strf("# ocsp\ntrust ca-file=%s/ca.pem ocsp=leaf %s\n", pki, opt);
    char *pol = tu_strf("%s/bad%d.policy", pki, _i), *out = NULL, *err = NULL;
    tu_write_file(pol, text);
    certrole_ctx *ctx = NULL;
    ck_assert_int_eq(certrole_open(&ctx, pol, &err), CERTROLE_E_POLICY_ERROR);
    ck_assert_ptr_null(ctx);
    /* file:line:column of the key */
    char *at = tu_strf("%s:2:%d: ", pol, (int)(strlen(text) - strlen(strstr(text, opt)) -
                                          strlen("# ocsp\n") + 1));
    HAS(err, at);
    HAS(err, bad[_i].says);
    char *cmd = tu_strf("'%s' policy-check '%s' 2>&1", tu_build("certrole"), pol);
    ck_assert_int_eq(tu_run(cmd, &out), 2);
    HAS(out, at);
    HAS(out, bad[_i].says);
    certrole_free(err);
    free(out); free(cmd); free(at); free(pol); free(text);
}
END_TEST

static void make_pki(void)
{
    pki = tu_mkdtemp("ocsp");
    aia_port = tu_free_port();
    do
        ica_port = tu_free_port();
    while (ica_port == aia_port);
    ou_make_pki(pki, aia_port, ica_port);
}

static void remove_pki(void)
{
    tu_rmrf(pki);
    free(pki);
}

static Suite *suite(void)
{
    Suite *s = suite_create("ocsp");
    TCase *tc = tcase_create("ocsp");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, make_pki, remove_pki);
    tcase_add_test(tc, good_revoked_unknown);
    tcase_add_test(tc, aia_url_and_off);
    tcase_add_test(tc, chain_checks_the_intermediate);
    tcase_add_test(tc, responder_down);
    tcase_add_test(tc, responder_by_host_name);
    tcase_add_test(tc, silent_responder_times_out);
    tcase_add_test(tc, unauthorised_signer);
    tcase_add_test(tc, stale_other_and_nonceless_answers);
    tcase_add_test(tc, failure_crl_falls_back_to_the_crl);
    tcase_add_test(tc, failure_allow);
    tcase_add_test(tc, cached_answer_outlives_the_responder);
    tcase_add_test(tc, one_request_in_flight_per_certificate);
    tcase_add_test(tc, verification_cache_bounded_by_next_update);
    tcase_add_loop_test(tc, bad_values_refuse_the_policy, 0, (int)(sizeof bad / sizeof bad[0]));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(suite());
}
