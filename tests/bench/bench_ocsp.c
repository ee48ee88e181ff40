/* OCSP figures of the benchmark: a verification whose OCSP answer comes
 * from the answer cache against the same verification without OCSP
 * (verification cache off in both, so each call validates the path), and
 * the first fetch, from a real 'openssl ocsp' responder on loopback and
 * from one that never answers, against ocsp-timeout. The fixtures report
 * through Check, so the work runs as one Check test (bench_in_check). */
#define _GNU_SOURCE
#include "bench.h"
#include "ocsp_util.h"

#define TIMEOUT 2

static double per_plain, per_ocsp, first_live, first_silent;
static int measured;

struct one {
    certrole_ctx *ctx;
    X509 *leaf;
};

static int verify_once(void *arg)
{
    struct one *o = arg;
    certrole_result *res = NULL;
    certrole_code rc = certrole_verify_x509(o->ctx, o->leaf, NULL, &res);
    if (rc != CERTROLE_OK)
        bench_error("ocsp bench: verification gave %s (%s)", certrole_code_name(rc),
                    res ? certrole_result_message(res) : "");
    certrole_result_free(res);
    return rc == CERTROLE_OK ? 0 : -1;
}

static certrole_ctx *open_ctx(const char *pki, const char *trust)
{
    char *text = tu_strf("trust ca-file=%s/ca.pem %s\noption cache-size=0\n", pki, trust);
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    ck_assert_msg(certrole_open_string(&ctx, text, "bench", &err) == CERTROLE_OK, "%s", err);
    certrole_set_log(ctx, bench_quiet_log, NULL);
    free(text);
    return ctx;
}

static void ocsp_body(void)
{
    char *pki = tu_mkdtemp("bench-ocsp");
    int port = tu_free_port();
    ou_make_pki(pki, port, port);
    pid_t pid = ou_responder(pki, port, "rsp");
    char *t = tu_strf("ocsp=leaf ocsp-url=http://127.0.0.1:%d/ ocsp-timeout=%d", port, TIMEOUT);
    struct one plain = { open_ctx(pki, ""), ou_cert(pki, "good") };
    struct one ocsp = { open_ctx(pki, t), plain.leaf };
    double t0 = bench_now();
    ck_assert_int_eq(verify_once(&ocsp), 0);
    first_live = bench_now() - t0;
    ck_assert_int_eq(bench_pair(verify_once, &plain, verify_once, &ocsp, 5, 0.2,
                                &per_plain, &per_ocsp), 0);
    certrole_close(ocsp.ctx);
    certrole_close(plain.ctx);
    tu_stop(pid);
    /* a responder that accepts and never answers */
    struct ou_server s = { 0 };
    ou_listen(&s, 0);
    char *ts = tu_strf("ocsp=leaf ocsp-url=http://127.0.0.1:%d/ ocsp-timeout=%d", s.port, TIMEOUT);
    certrole_ctx *ctx = open_ctx(pki, ts);
    certrole_result *res = NULL;
    t0 = bench_now();
    ck_assert_int_eq(certrole_verify_x509(ctx, plain.leaf, NULL, &res), CERTROLE_E_OCSP_UNAVAILABLE);
    first_silent = bench_now() - t0;
    certrole_result_free(res);
    certrole_close(ctx);
    ou_close(&s, 0);
    X509_free(plain.leaf);
    tu_rmrf(pki);
    free(pki);
    free(t);
    free(ts);
    measured = 1;
}

void bench_ocsp(void)
{
    const char *fig = "OCSP: answer from the OCSP cache vs no OCSP";
    if (bench_in_check("ocsp benchmark", ocsp_body) != 0 || !measured) {
        bench_skip(fig, "<= 1.2x", "the measurement failed (see the error above)");
        return;
    }
    char m[128], target[32];
    double r = per_ocsp / per_plain;
    snprintf(m, sizeof m, "%.2fx (%.1f us / %.1f us)", r, per_ocsp * 1e6, per_plain * 1e6);
    bench_row(fig, m, "<= 1.2x", r <= 1.2);
    snprintf(target, sizeof target, "<= %d s (timeout)", TIMEOUT);
    snprintf(m, sizeof m, "%.3f s", first_live);
    bench_row("OCSP: first fetch, openssl ocsp on loopback", m, target, first_live <= TIMEOUT);
    snprintf(m, sizeof m, "%.3f s", first_silent);
    snprintf(target, sizeof target, "<= %d.25 s (timeout %d s)", TIMEOUT, TIMEOUT);
    bench_row("OCSP: first fetch, responder that never answers", m, target,
              first_silent <= TIMEOUT + 0.25);
}
