/* Chain validation that succeeds, with real certificates from the test
 * PKI: every identity field of the result, intermediates in any order,
 * hashed CA directories and ECDSA chains, a fixed validation time, and
 * several trust profiles (contexts) side by side in one process. */
#define _GNU_SOURCE
#include "verify_util.h"
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/x509.h>

/* Output of the openssl command line on a PKI file, trimmed. */
static char *openssl_out(const char *args, const char *file)
{
    char *out = NULL;
    char *cmd = tu_strf("'%s' %s -in '%s'", tu_env("OPENSSL", "openssl"), args, tu_pki(file));
    ck_assert_int_eq(tu_run(cmd, &out), 0);
    free(cmd);
    ck_assert_ptr_nonnull(out);
    size_t n = strlen(out);
    while (n && isspace((unsigned char)out[n - 1]))
        out[--n] = '\0';
    return out;
}

/* ----- success -------------------------------------------------------------- */

START_TEST(valid_client_identity)
{
    certrole_ctx *ctx = open_acme(NULL);
    certrole_result *res = NULL;
    certrole_code rc = verify_files(ctx, &res, "client-chain.pem", NULL);
    ck_assert_msg(rc == CERTROLE_OK, "%s: %s", certrole_code_name(rc),
                  certrole_result_message(res));
    ck_assert_int_eq(certrole_result_allowed(res), 1);
    ck_assert_str_eq(certrole_result_hint(res), "");
    ck_assert_str_eq(certrole_result_subject(res), CLIENT_DN);
    ck_assert_str_eq(certrole_result_issuer(res), INT_DN);
    ck_assert_int_eq(certrole_result_depth(res), 3);   /* leaf, int, root */
    ck_assert_int_eq(certrole_result_cached(res), 0);

    /* serial and fingerprint as the openssl command prints them */
    char *ser = openssl_out("x509 -noout -serial", "client.pem");
    ck_assert_msg(strncmp(ser, "serial=", 7) == 0, "%s", ser);
    ck_assert_str_eq(certrole_result_serial(res), ser + 7);
    free(ser);
    char *fp = openssl_out("x509 -noout -fingerprint -sha256", "client.pem");
    char *eq = strchr(fp, '=');
    ck_assert_ptr_nonnull(eq);
    char want[65];
    size_t n = 0;
    for (char *p = eq + 1; *p && n < 64; p++)
        if (*p != ':')
            want[n++] = (char)tolower((unsigned char)*p);
    want[n] = '\0';
    ck_assert_uint_eq(n, 64);
    ck_assert_str_eq(certrole_result_fingerprint(res), want);
    free(fp);

    /* SANs: email, DNS, URI, IP, with their types */
    static const struct { certrole_san_type t; const char *v; } sans[] = {
        { CERTROLE_SAN_EMAIL, "crm@acme.example" },
        { CERTROLE_SAN_DNS, "crm.acme.example" },
        { CERTROLE_SAN_URI, "spiffe://acme.example/crm" },
        { CERTROLE_SAN_IP, "192.0.2.10" },
    };
    ck_assert_uint_eq(certrole_result_san_count(res), 4);
    for (size_t i = 0; i < 4; i++) {
        int found = 0;
        for (size_t j = 0; j < 4; j++) {
            certrole_san_type t = 0;
            const char *v = certrole_result_san(res, j, &t);
            if (v && t == sans[i].t && strcmp(v, sans[i].v) == 0)
                found = 1;
        }
        ck_assert_msg(found, "SAN %s missing", sans[i].v);
    }
    ck_assert_ptr_null(certrole_result_san(res, 4, NULL));

    /* validity matches the certificate; the leaf is the one we sent */
    X509 *leaf = load_one(tu_pki("client.pem"));
    ck_assert_int_eq(X509_cmp(certrole_result_leaf(res), leaf), 0);
    time_t nb = certrole_result_not_before(res), na = certrole_result_not_after(res);
    ck_assert(nb > 0 && na > nb);
    ck_assert_int_eq(ASN1_TIME_cmp_time_t(X509_get0_notAfter(leaf), na), 0);
    ck_assert_int_eq(ASN1_TIME_cmp_time_t(X509_get0_notBefore(leaf), nb), 0);
    X509_free(leaf);

    char *json = certrole_result_json(res);
    ck_assert_ptr_nonnull(json);
    static const char *const keys[] = { "\"ok\":true", "\"decision\":\"allow\"",
        "\"code\":\"ok\"", "\"message\":", "\"hint\":\"\"",
        "\"subject\":\"" CLIENT_DN "\"", "\"issuer\":\"" INT_DN "\"", "\"serial\":",
        "\"fingerprint_sha256\":\"", "\"san\":[", "crm@acme.example", "\"not_before\":\"",
        "\"not_after\":\"", "\"depth\":3", "\"user\":", "\"roles\":[", "\"realm\":" };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        ck_assert_msg(strstr(json, keys[i]) != NULL, "json lacks %s: %s", keys[i], json);
    certrole_free(json);
    certrole_result_free(res);
    certrole_close(ctx);
}
END_TEST

START_TEST(intermediates_in_any_order)
{
    /* no CRL checks: crl.pem has no CRL of the second-level CA */
    char *p = tu_strf("trust ca-file=\"%s\"\n", tu_pki("ca-file.pem"));
    certrole_ctx *ctx = open_policy(p);
    free(p);
    certrole_result *res = NULL;
    /* deep-chain: deep, int2, int; send the intermediates reversed */
    STACK_OF(X509) *sk = load_pem(tu_pki("deep-chain.pem"));
    ck_assert_int_ge(sk_X509_num(sk), 3);
    X509 *leaf = sk_X509_shift(sk);
    STACK_OF(X509) *rev = sk_X509_new_null();
    for (int i = sk_X509_num(sk) - 1; i >= 0; i--)
        sk_X509_push(rev, sk_X509_value(sk, i));
    certrole_code rc = certrole_verify_x509(ctx, leaf, rev, &res);
    ck_assert_msg(rc == CERTROLE_OK, "%s", certrole_result_message(res));
    ck_assert_int_eq(certrole_result_depth(res), 4);
    certrole_result_free(res);
    /* in the order sent */
    ck_assert_int_eq(certrole_verify_x509(ctx, leaf, sk, &res), CERTROLE_OK);
    ck_assert_int_eq(certrole_result_depth(res), 4);
    certrole_result_free(res);
    sk_X509_free(rev);
    X509_free(leaf);
    sk_X509_pop_free(sk, X509_free);
    certrole_close(ctx);
}
END_TEST

START_TEST(ca_dir_and_ecdsa)
{
    char *p = tu_strf("trust ca-dir=\"%s\"\n", tu_pki("ca-dir"));
    certrole_ctx *ctx = open_policy(p);
    free(p);
    certrole_result *res = NULL;
    ck_assert_int_eq(verify_files(ctx, &res, "client-chain.pem", NULL), CERTROLE_OK);
    ck_assert_str_eq(certrole_result_subject(res), CLIENT_DN);
    certrole_result_free(res);
    certrole_close(ctx);

    p = tu_strf("trust ca-file=\"%s\"\n", tu_pki("ec/root-ca.pem"));
    ctx = open_policy(p);
    free(p);
    ck_assert_int_eq(verify_files(ctx, &res, "ec/client-chain.pem", NULL), CERTROLE_OK);
    ck_assert_int_eq(certrole_result_depth(res), 3);
    certrole_result_free(res);
    ck_assert_int_eq(verify_files(ctx, &res, "ec/deep-chain.pem", NULL), CERTROLE_OK);
    ck_assert_int_eq(certrole_result_depth(res), 4);
    certrole_result_free(res);
    /* the RSA chain is not trusted under the EC root */
    ck_assert_int_eq(verify_files(ctx, &res, "client-chain.pem", NULL),
                     CERTROLE_E_UNTRUSTED_ISSUER);
    certrole_result_free(res);
    certrole_close(ctx);
}
END_TEST

START_TEST(fixed_validation_time)
{
    /* At a time inside notyet.pem's validity it verifies. */
    X509 *x = load_one(tu_pki("notyet.pem"));
    time_t nb = 0;
    struct tm tm;
    ck_assert(ASN1_TIME_to_tm(X509_get0_notBefore(x), &tm) == 1);
    nb = timegm(&tm);
    X509_free(x);
    char *p = tu_strf("trust ca-file=\"%s\" time=@%lld\n", tu_pki("ca-file.pem"),
                      (long long)nb + 3600);
    certrole_ctx *ctx = open_policy(p);
    free(p);
    certrole_result *res = NULL;
    certrole_code rc = verify_files(ctx, &res, "notyet-chain.pem", NULL);
    ck_assert_msg(rc == CERTROLE_OK, "%s", certrole_result_message(res));
    certrole_result_free(res);
    certrole_close(ctx);
    /* and before it, not yet (ISO 8601 spelling of the option) */
    p = tu_strf("trust ca-file=\"%s\" time=2001-01-01T00:00:00Z\n", tu_pki("ca-file.pem"));
    ctx = open_policy(p);
    free(p);
    verify_files(ctx, &res, "client-chain.pem", NULL);
    ck_assert_int_eq(certrole_result_code(res), CERTROLE_E_NOT_YET_VALID);
    certrole_result_free(res);
    certrole_close(ctx);
}
END_TEST

/* ----- several trust profiles in one process --------------------------------- */

/* Two contexts with different anchors (the RSA Acme root with CRLs, the
 * ECDSA root without), used at the same time from several threads: each
 * accepts its own chain and refuses the other's, never mixing them up. */
struct profile_thr {
    certrole_ctx *rsa, *ec;
    const char *rsa_pem, *ec_pem;
    size_t rsa_len, ec_len;
    int errors;
};

static void *profile_main(void *arg)
{
    struct profile_thr *t = arg;
    for (int i = 0; i < 100; i++) {
        certrole_ctx *ctx = (i & 1) ? t->ec : t->rsa;
        int own = (i & 2) != 0;
        const char *pem = ((i & 1) == own) ? t->ec_pem : t->rsa_pem;
        size_t len = ((i & 1) == own) ? t->ec_len : t->rsa_len;
        certrole_result *r = NULL;
        certrole_code rc = certrole_verify_pem(ctx, pem, len, &r);
        if (own ? rc != CERTROLE_OK : rc != CERTROLE_E_UNTRUSTED_ISSUER)
            t->errors++;
        if (own && (!certrole_result_subject(r) ||
                    strcmp(certrole_result_subject(r), CLIENT_DN) != 0))
            t->errors++;
        certrole_result_free(r);
    }
    return NULL;
}

START_TEST(several_trust_profiles)
{
    certrole_ctx *rsa = open_acme(NULL);
    char *p = tu_strf("trust ca-file=\"%s\" depth=3\n", tu_pki("ec/root-ca.pem"));
    certrole_ctx *ec = open_policy(p);
    free(p);
    struct profile_thr base = { rsa, ec, NULL, NULL, 0, 0, 0 };
    char *rsa_pem = tu_read_file(tu_pki("client-chain.pem"), &base.rsa_len);
    char *ec_pem = tu_read_file(tu_pki("ec/client-chain.pem"), &base.ec_len);
    ck_assert(rsa_pem && ec_pem);
    base.rsa_pem = rsa_pem;
    base.ec_pem = ec_pem;
    enum { N = 6 };
    pthread_t th[N];
    struct profile_thr t[N];
    for (int i = 0; i < N; i++) {
        t[i] = base;
        ck_assert_int_eq(pthread_create(&th[i], NULL, profile_main, &t[i]), 0);
    }
    int errors = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        errors += t[i].errors;
    }
    ck_assert_int_eq(errors, 0);
    /* Closing one profile leaves the other working. */
    certrole_close(rsa);
    certrole_result *r = NULL;
    ck_assert_int_eq(certrole_verify_pem(ec, ec_pem, base.ec_len, &r), CERTROLE_OK);
    ck_assert_str_eq(certrole_result_subject(r), CLIENT_DN);
    certrole_result_free(r);
    certrole_close(ec);
    free(rsa_pem);
    free(ec_pem);
}
END_TEST

static Suite *verify_identity_suite(void)
{
    Suite *s = suite_create("verify_identity");
    TCase *ok = tcase_create("valid");
    tcase_add_test(ok, valid_client_identity);
    tcase_add_test(ok, intermediates_in_any_order);
    tcase_add_test(ok, ca_dir_and_ecdsa);
    tcase_add_test(ok, fixed_validation_time);
    tcase_add_test(ok, several_trust_profiles);
    suite_add_tcase(s, ok);
    return s;
}

int main(void)
{
    return tu_run_suite(verify_identity_suite());
}
