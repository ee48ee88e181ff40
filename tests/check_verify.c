/* Chain validation end to end with real certificates from the test PKI:
 * the success case with every identity field, each failure a person can
 * act on (code, precise message, non-empty hint), the verification cache,
 * many threads on one context, and certrole_verify_ssl over a real TLS
 * handshake on loopback. */
#define _GNU_SOURCE
#include "testutil.h"
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <certrole.h>

#define CLIENT_DN "CN=CRMApplication,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US"
#define INT_DN "CN=Acme Issuing CA,O=Acme Corp,C=US"
#define ROOT_DN "CN=Acme Root CA,O=Acme Corp,C=US"
#define OTHER_ROOT_DN "CN=Other Root CA,O=Other Corp,C=US"

/* ----- helpers ------------------------------------------------------------- */

/* Opens a context from policy text; fails the test with the error. */
static certrole_ctx *open_policy(const char *text)
{
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    certrole_code rc = certrole_open_string(&ctx, text, NULL, &err);
    ck_assert_msg(rc == CERTROLE_OK, "open failed (%d): %s\npolicy: %s", rc,
                  err ? err : "(no message)", text);
    ck_assert_ptr_nonnull(ctx);
    certrole_free(err);
    return ctx;
}

/* Context trusting the Acme root with CRLs checked along the chain. */
static certrole_ctx *open_acme(const char *extra)
{
    char *p = tu_strf("trust ca-file=\"%s\" crl-file=\"%s\" crl-check=chain %s\n",
                      tu_pki("ca-file.pem"), tu_pki("crl.pem"), extra ? extra : "");
    certrole_ctx *ctx = open_policy(p);
    free(p);
    return ctx;
}

/* Every certificate of a PEM file, in file order. */
static STACK_OF(X509) *load_pem(const char *path)
{
    BIO *b = BIO_new_file(path, "r");
    ck_assert_msg(b != NULL, "cannot open %s", path);
    STACK_OF(X509) *sk = sk_X509_new_null();
    ck_assert_ptr_nonnull(sk);
    X509 *x;
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
        ck_assert(sk_X509_push(sk, x) > 0);
    ERR_clear_error();
    BIO_free(b);
    ck_assert_msg(sk_X509_num(sk) > 0, "no certificate in %s", path);
    return sk;
}

static X509 *load_one(const char *path)
{
    STACK_OF(X509) *sk = load_pem(path);
    X509 *x = sk_X509_shift(sk);
    sk_X509_pop_free(sk, X509_free);
    return x;
}

/* Verifies the PKI files: the first certificate of files[0] is the leaf;
 * every other certificate (rest of files[0], then the other files) is
 * sent as untrusted, in that order. */
static certrole_code verify_files(certrole_ctx *ctx, certrole_result **res,
                                  const char *first, ...)
{
    STACK_OF(X509) *all = load_pem(tu_pki(first));
    va_list ap;
    va_start(ap, first);
    const char *f;
    while ((f = va_arg(ap, const char *)) != NULL) {
        STACK_OF(X509) *more = load_pem(tu_pki(f));
        X509 *x;
        while ((x = sk_X509_shift(more)) != NULL)
            ck_assert(sk_X509_push(all, x) > 0);
        sk_X509_free(more);
    }
    va_end(ap);
    X509 *leaf = sk_X509_shift(all);
    certrole_code rc = certrole_verify_x509(ctx, leaf, all, res);
    ck_assert_ptr_nonnull(*res);
    ck_assert_int_eq(certrole_result_code(*res), rc);
    X509_free(leaf);
    sk_X509_pop_free(all, X509_free);
    return rc;
}

/* A denial: the code, a message naming what is wrong, a real hint. */
static void assert_denied(const certrole_result *res, certrole_code want,
                          const char *msg_part, const char *hint_part)
{
    const char *m = certrole_result_message(res), *h = certrole_result_hint(res);
    ck_assert_msg(certrole_result_code(res) == want, "code %s (%s), want %s",
                  certrole_code_name(certrole_result_code(res)), m,
                  certrole_code_name(want));
    ck_assert_int_eq(certrole_result_allowed(res), 0);
    ck_assert_ptr_nonnull(m);
    ck_assert_ptr_nonnull(h);
    ck_assert_msg(strlen(h) > 10, "hint too short: '%s'", h);
    if (msg_part)
        ck_assert_msg(strstr(m, msg_part) != NULL, "message '%s' lacks '%s'", m, msg_part);
    if (hint_part)
        ck_assert_msg(strstr(h, hint_part) != NULL, "hint '%s' lacks '%s'", h, hint_part);
}

/* "2024-01-31 12:00:00 UTC" of an ASN1_TIME, computed here independently. */
static void fmt_time(const ASN1_TIME *t, char *buf, size_t len)
{
    struct tm tm;
    ck_assert(ASN1_TIME_to_tm(t, &tm) == 1);
    ck_assert(strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) > 0);
}

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

/* ----- each failure ------------------------------------------------------------ */

START_TEST(no_certificate)
{
    certrole_ctx *ctx = open_acme(NULL);
    certrole_result *res = NULL;
    ck_assert_int_eq(certrole_verify_x509(ctx, NULL, NULL, &res), CERTROLE_E_NO_CERTIFICATE);
    assert_denied(res, CERTROLE_E_NO_CERTIFICATE, NULL, NULL);
    ck_assert_ptr_null(certrole_result_subject(res));
    ck_assert_int_eq(certrole_result_depth(res), 0);
    certrole_result_free(res);
    certrole_close(ctx);
}
END_TEST

START_TEST(missing_intermediate_names_issuer)
{
    certrole_ctx *ctx = open_acme(NULL);
    certrole_result *res = NULL;
    verify_files(ctx, &res, "client.pem", NULL);
    assert_denied(res, CERTROLE_E_UNTRUSTED_ISSUER, INT_DN,
                  "the peer must send the intermediate certificate " INT_DN);
    ck_assert_str_eq(certrole_result_subject(res), CLIENT_DN);  /* still explained */
    ck_assert_int_eq(certrole_result_depth(res), 0);
    certrole_result_free(res);
    certrole_close(ctx);
}
END_TEST

START_TEST(other_ca)
{
    certrole_ctx *ctx = open_acme(NULL);
    certrole_result *res = NULL;
    verify_files(ctx, &res, "other-client.pem", NULL);
    assert_denied(res, CERTROLE_E_UNTRUSTED_ISSUER, OTHER_ROOT_DN, "trust this CA");
    certrole_result_free(res);
    /* the other root sent along: a self-signed root we do not trust */
    verify_files(ctx, &res, "other-client.pem", "other-root-ca.pem", NULL);
    assert_denied(res, CERTROLE_E_SELF_SIGNED_UNTRUSTED, OTHER_ROOT_DN, OTHER_ROOT_DN);
    certrole_result_free(res);
    certrole_close(ctx);
}
END_TEST

START_TEST(self_signed)
{
    certrole_ctx *ctx = open_acme(NULL);
    certrole_result *res = NULL;
    verify_files(ctx, &res, "selfsigned.pem", NULL);
    assert_denied(res, CERTROLE_E_SELF_SIGNED_UNTRUSTED, "self-signed", "ca-file");
    ck_assert_ptr_nonnull(strstr(certrole_result_message(res), CLIENT_DN));
    certrole_result_free(res);
    certrole_close(ctx);
}
END_TEST

START_TEST(expired_with_date)
{
    certrole_ctx *ctx = open_acme(NULL);
    certrole_result *res = NULL;
    X509 *x = load_one(tu_pki("expired.pem"));
    char date[64], want[96];
    fmt_time(X509_get0_notAfter(x), date, sizeof date);
    snprintf(want, sizeof want, "expired on %s", date);
    verify_files(ctx, &res, "expired-chain.pem", NULL);
    assert_denied(res, CERTROLE_E_EXPIRED, want, date);
    ck_assert_ptr_nonnull(strstr(certrole_result_message(res), "client certificate"));
    X509_free(x);
    certrole_result_free(res);
    certrole_close(ctx);
}
END_TEST

START_TEST(not_yet_valid_with_date)
{
    certrole_ctx *ctx = open_acme(NULL);
    certrole_result *res = NULL;
    X509 *x = load_one(tu_pki("notyet.pem"));
    char date[64];
    fmt_time(X509_get0_notBefore(x), date, sizeof date);
    verify_files(ctx, &res, "notyet-chain.pem", NULL);
    assert_denied(res, CERTROLE_E_NOT_YET_VALID, date, NULL);
    X509_free(x);
    certrole_result_free(res);
    certrole_close(ctx);
}
END_TEST

/* "revoked on <date>" as the CRL says, read here with OpenSSL directly. */
static void revocation_date(const char *crlfile, const char *certfile, char *date, size_t len)
{
    X509 *x = load_one(tu_pki(certfile));
    BIO *b = BIO_new_file(tu_pki(crlfile), "r");
    ck_assert_ptr_nonnull(b);
    X509_CRL *crl;
    X509_REVOKED *rev = NULL;
    while (!rev && (crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL)) != NULL) {
        if (X509_CRL_get0_by_cert(crl, &rev, x) == 1)
            fmt_time(X509_REVOKED_get0_revocationDate(rev), date, len);
        else
            rev = NULL;
        X509_CRL_free(crl);
    }
    ERR_clear_error();
    BIO_free(b);
    X509_free(x);
    ck_assert_msg(rev != NULL, "%s not listed in %s", certfile, crlfile);
}

START_TEST(revoked_with_date)
{
    certrole_ctx *ctx = open_acme(NULL);
    certrole_result *res = NULL;
    char date[64], want[96];
    revocation_date("crl.pem", "revoked.pem", date, sizeof date);
    snprintf(want, sizeof want, "revoked on %s", date);
    verify_files(ctx, &res, "revoked-chain.pem", NULL);
    assert_denied(res, CERTROLE_E_REVOKED, want, NULL);
    certrole_result_free(res);
    /* revocation is checked with crl-check=leaf too */
    char *p = tu_strf("trust ca-file=\"%s\" crl-file=\"%s\" crl-check=leaf\n",
                      tu_pki("ca-file.pem"), tu_pki("crl-int.pem"));
    certrole_close(ctx);
    ctx = open_policy(p);
    free(p);
    verify_files(ctx, &res, "revoked-chain.pem", NULL);
    assert_denied(res, CERTROLE_E_REVOKED, want, NULL);
    certrole_result_free(res);
    ck_assert_int_eq(verify_files(ctx, &res, "client-chain.pem", NULL), CERTROLE_OK);
    certrole_result_free(res);
    certrole_close(ctx);
}
END_TEST

START_TEST(der_crl_file)
{
    char *dir = tu_mkdtemp("crl");
    char *der = tu_strf("%s/int.crl.der", dir);
    char *cmd = tu_strf("'%s' crl -in '%s' -outform DER -out '%s'", tu_env("OPENSSL", "openssl"),
                        tu_pki("crl-int.pem"), der);
    ck_assert_int_eq(tu_run(cmd, NULL), 0);
    char *p = tu_strf("trust ca-file=\"%s\" crl-file=\"%s\" crl-check=leaf\n",
                      tu_pki("ca-file.pem"), der);
    certrole_ctx *ctx = open_policy(p);
    certrole_result *res = NULL;
    verify_files(ctx, &res, "revoked-chain.pem", NULL);
    assert_denied(res, CERTROLE_E_REVOKED, "revoked on ", NULL);
    certrole_result_free(res);
    ck_assert_int_eq(verify_files(ctx, &res, "client-chain.pem", NULL), CERTROLE_OK);
    certrole_result_free(res);
    certrole_close(ctx);
    free(p);
    free(cmd);
    free(der);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(crl_missing)
{
    /* only the root's CRL: the issuing CA's is missing for the leaf */
    char *p = tu_strf("trust ca-file=\"%s\" crl-file=\"%s\" crl-check=chain\n",
                      tu_pki("ca-file.pem"), tu_pki("crl-root.pem"));
    certrole_ctx *ctx = open_policy(p);
    free(p);
    certrole_result *res = NULL;
    verify_files(ctx, &res, "client-chain.pem", NULL);
    assert_denied(res, CERTROLE_E_CRL_UNAVAILABLE, INT_DN, "crl-file");
    certrole_result_free(res);
    certrole_close(ctx);
}
END_TEST

START_TEST(crl_expired)
{
    char *p = tu_strf("trust ca-file=\"%s\" crl-file=\"%s\" crl-check=chain\n",
                      tu_pki("ca-file.pem"), tu_pki("crl-expired.pem"));
    certrole_ctx *ctx = open_policy(p);
    free(p);
    certrole_result *res = NULL;
    verify_files(ctx, &res, "client-chain.pem", NULL);
    assert_denied(res, CERTROLE_E_CRL_UNAVAILABLE, "expired", "CRL");
    certrole_result_free(res);
    certrole_close(ctx);
}
END_TEST

START_TEST(wrong_purpose)
{
    certrole_ctx *ctx = open_acme(NULL);
    certrole_result *res = NULL;
    verify_files(ctx, &res, "serveronly-chain.pem", NULL);
    assert_denied(res, CERTROLE_E_WRONG_PURPOSE, "no clientAuth extended key usage",
                  "extendedKeyUsage=clientAuth");
    certrole_result_free(res);
    /* no EKU at all means no restriction (RFC 5280 4.2.1.12) */
    ck_assert_int_eq(verify_files(ctx, &res, "noeku-chain.pem", NULL), CERTROLE_OK);
    certrole_result_free(res);
    certrole_close(ctx);
    /* purpose=any accepts the serverAuth-only certificate */
    ctx = open_acme("purpose=any");
    ck_assert_int_eq(verify_files(ctx, &res, "serveronly-chain.pem", NULL), CERTROLE_OK);
    certrole_result_free(res);
    certrole_close(ctx);
}
END_TEST

START_TEST(chain_too_long)
{
    certrole_ctx *ctx = open_acme("depth=1");
    certrole_result *res = NULL;
    verify_files(ctx, &res, "deep-chain.pem", NULL);
    assert_denied(res, CERTROLE_E_CHAIN_TOO_LONG, "depth=1", "depth=");
    certrole_result_free(res);
    /* one intermediate is within depth=1 */
    ck_assert_int_eq(verify_files(ctx, &res, "client-chain.pem", NULL), CERTROLE_OK);
    certrole_result_free(res);
    certrole_close(ctx);
}
END_TEST

START_TEST(bad_signature)
{
    certrole_ctx *ctx = open_acme(NULL);
    certrole_result *res = NULL;
    verify_files(ctx, &res, "badsig.pem", "int-ca.pem", NULL);
    assert_denied(res, CERTROLE_E_BAD_SIGNATURE, INT_DN, NULL);
    certrole_result_free(res);
    certrole_close(ctx);
}
END_TEST

START_TEST(intermediate_not_ca)
{
    char *p = tu_strf("trust ca-file=\"%s\"\n", tu_pki("ca-file.pem"));
    certrole_ctx *ctx = open_policy(p);
    free(p);
    certrole_result *res = NULL;
    verify_files(ctx, &res, "noca-client-chain.pem", NULL);
    X509 *noca = load_one(tu_pki("noca-int.pem"));
    char *dn = NULL;
    ck_assert_int_eq(certrole_dn_from_x509(X509_get_subject_name(noca), &dn), CERTROLE_OK);
    assert_denied(res, CERTROLE_E_INVALID_CA, dn, "CA:TRUE");
    certrole_free(dn);
    X509_free(noca);
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

START_TEST(strict_refuses_ca_as_client)
{
    /* An intermediate CA certificate presented as a client certificate:
     * refused in strict mode (by OpenSSL's purpose check or certrole's own
     * CA-as-client rule), both times as wrong_purpose. */
    certrole_ctx *ctx = open_acme("strict=yes");
    certrole_result *res = NULL;
    verify_files(ctx, &res, "int-ca.pem", NULL);
    assert_denied(res, CERTROLE_E_WRONG_PURPOSE, INT_DN, NULL);
    certrole_result_free(res);
    certrole_close(ctx);
}
END_TEST

/* ----- trust profile errors ------------------------------------------------------ */

static void assert_open_fails(const char *policy, const char *msg_part)
{
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    certrole_code rc = certrole_open_string(&ctx, policy, NULL, &err);
    ck_assert_msg(rc != CERTROLE_OK, "opened: %s", policy);
    ck_assert_ptr_null(ctx);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, msg_part) != NULL, "error '%s' lacks '%s'", err, msg_part);
    certrole_free(err);
}

START_TEST(bad_trust_profiles)
{
    const char *ca = tu_pki("ca-file.pem");
    char *p;
    p = tu_strf("trust ca-file=\"%s\" crl-check=chain\n", ca);
    assert_open_fails(p, "no CRL");
    free(p);
    p = tu_strf("trust ca-file=\"%s\" crl-file=/nonexistent/x.crl crl-check=leaf\n", ca);
    assert_open_fails(p, "/nonexistent/x.crl");
    free(p);
    p = tu_strf("trust ca-file=\"%s\" crl-file=\"%s\" crl-check=leaf\n", ca, tu_pki("client.pem"));
    assert_open_fails(p, "not a CRL");
    free(p);
    p = tu_strf("trust ca-file=\"%s\" crl-check=sometimes\n", ca);
    assert_open_fails(p, "crl-check=sometimes");
    free(p);
    p = tu_strf("trust ca-file=\"%s\" depth=lots\n", ca);
    assert_open_fails(p, "depth=lots");
    free(p);
    p = tu_strf("trust ca-file=\"%s\" purpose=email\n", ca);
    assert_open_fails(p, "purpose=email");
    free(p);
    p = tu_strf("trust ca-file=\"%s\" time=yesterday\n", ca);
    assert_open_fails(p, "time=yesterday");
    free(p);
    p = tu_strf("trust ca-file=\"%s\" policy=not-an-oid\n", ca);
    assert_open_fails(p, "policy=not-an-oid");
    free(p);
    assert_open_fails("trust ca-file=/nonexistent/ca.pem\n", "/nonexistent/ca.pem");
    p = tu_strf("trust ca-file=\"%s\"\n", tu_pki("client.key"));
    assert_open_fails(p, "ca-file");
    free(p);
    p = tu_strf("trust ca-file=\"%s\" frobnicate=yes\n", ca);
    assert_open_fails(p, "frobnicate");
    free(p);
}
END_TEST

/* ----- cache ----------------------------------------------------------------------- */

START_TEST(cache_hit_identical)
{
    certrole_ctx *ctx = open_acme(NULL);
    char *p = tu_strf("trust ca-file=\"%s\" crl-file=\"%s\" crl-check=chain\n"
                      "option cache-ttl=60 cache-size=100\n",
                      tu_pki("ca-file.pem"), tu_pki("crl.pem"));
    certrole_close(ctx);
    ctx = open_policy(p);
    free(p);
    certrole_result *a = NULL, *b = NULL;
    ck_assert_int_eq(verify_files(ctx, &a, "client-chain.pem", NULL), CERTROLE_OK);
    ck_assert_int_eq(certrole_result_cached(a), 0);
    ck_assert_int_eq(verify_files(ctx, &b, "client-chain.pem", NULL), CERTROLE_OK);
    ck_assert_int_eq(certrole_result_cached(b), 1);
    ck_assert_str_eq(certrole_result_subject(a), certrole_result_subject(b));
    ck_assert_str_eq(certrole_result_issuer(a), certrole_result_issuer(b));
    ck_assert_str_eq(certrole_result_serial(a), certrole_result_serial(b));
    ck_assert_str_eq(certrole_result_fingerprint(a), certrole_result_fingerprint(b));
    ck_assert_str_eq(certrole_result_message(a), certrole_result_message(b));
    ck_assert_int_eq(certrole_result_depth(a), certrole_result_depth(b));
    ck_assert_int_eq(certrole_result_not_after(a), certrole_result_not_after(b));
    ck_assert_uint_eq(certrole_result_san_count(a), certrole_result_san_count(b));
    for (size_t i = 0; i < certrole_result_san_count(a); i++)
        ck_assert_str_eq(certrole_result_san(a, i, NULL), certrole_result_san(b, i, NULL));
    ck_assert_int_eq(X509_cmp(certrole_result_leaf(a), certrole_result_leaf(b)), 0);
    /* the results are independent copies */
    certrole_result_free(a);
    ck_assert_str_eq(certrole_result_subject(b), CLIENT_DN);
    certrole_result_free(b);

    /* a different chain (same leaf, intermediate missing) is a different key */
    verify_files(ctx, &a, "client.pem", NULL);
    assert_denied(a, CERTROLE_E_UNTRUSTED_ISSUER, NULL, NULL);
    ck_assert_int_eq(certrole_result_cached(a), 0);
    certrole_result_free(a);
    /* denials are not cached with deny-ttl unset */
    verify_files(ctx, &a, "revoked-chain.pem", NULL);
    verify_files(ctx, &b, "revoked-chain.pem", NULL);
    ck_assert_int_eq(certrole_result_code(b), CERTROLE_E_REVOKED);
    ck_assert_int_eq(certrole_result_cached(b), 0);
    certrole_result_free(a);
    certrole_result_free(b);
    certrole_close(ctx);

    /* with deny-ttl, a denial is served from the cache, same message */
    p = tu_strf("trust ca-file=\"%s\" crl-file=\"%s\" crl-check=chain\n"
                "option cache-ttl=60 deny-ttl=30\n", tu_pki("ca-file.pem"), tu_pki("crl.pem"));
    ctx = open_policy(p);
    free(p);
    verify_files(ctx, &a, "revoked-chain.pem", NULL);
    verify_files(ctx, &b, "revoked-chain.pem", NULL);
    ck_assert_int_eq(certrole_result_code(b), CERTROLE_E_REVOKED);
    ck_assert_int_eq(certrole_result_cached(b), 1);
    ck_assert_str_eq(certrole_result_message(a), certrole_result_message(b));
    ck_assert_str_eq(certrole_result_hint(a), certrole_result_hint(b));
    certrole_result_free(a);
    certrole_result_free(b);
    certrole_close(ctx);
}
END_TEST

/* Verifies file at a fixed validation time 'at' with the policy 'extra'
 * twice; returns the first code and whether the second came from cache. */
static certrole_code verify_twice_at(time_t at, const char *extra, const char *file,
                                     int *cached)
{
    char *p = tu_strf("trust ca-file=\"%s\" time=@%lld %s\noption cache-ttl=600 deny-ttl=0\n",
                      tu_pki("ca-file.pem"), (long long)at, extra);
    certrole_ctx *ctx = open_policy(p);
    free(p);
    certrole_result *a = NULL, *b = NULL;
    certrole_code rc = verify_files(ctx, &a, file, NULL);
    verify_files(ctx, &b, file, NULL);
    ck_assert_int_eq(certrole_result_code(b), rc);
    *cached = certrole_result_cached(b);
    certrole_result_free(a);
    certrole_result_free(b);
    certrole_close(ctx);
    return rc;
}

static time_t asn1_time(const ASN1_TIME *t)
{
    struct tm tm;
    ck_assert(ASN1_TIME_to_tm(t, &tm) == 1);
    return timegm(&tm);
}

START_TEST(cache_bounded_by_not_after_and_crl)
{
    int cached = -1;
    /* control: a chain valid now is cached */
    ck_assert_int_eq(verify_twice_at(time(NULL), "", "client-chain.pem", &cached), CERTROLE_OK);
    ck_assert_int_eq(cached, 1);

    /* expired.pem validated at a time inside its validity: allowed then, but
     * its notAfter is past, so the verdict may not be kept */
    X509 *x = load_one(tu_pki("expired.pem"));
    time_t na = asn1_time(X509_get0_notAfter(x));
    X509_free(x);
    certrole_code rc = verify_twice_at(na - 60, "", "expired-chain.pem", &cached);
    ck_assert_int_eq(cached, 0);   /* allowed (if the CAs were valid then) or denied: never cached */
    if (rc != CERTROLE_OK)
        fprintf(stderr, "note: expired-chain at notAfter-60 gave %s (CAs not valid then?)\n",
                certrole_code_name(rc));

    /* a CRL whose nextUpdate is past bounds the entry the same way */
    BIO *b = BIO_new_file(tu_pki("crl-expired.pem"), "r");
    ck_assert_ptr_nonnull(b);
    X509_CRL *crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
    BIO_free(b);
    ck_assert_ptr_nonnull(crl);
    time_t nu = asn1_time(X509_CRL_get0_nextUpdate(crl));
    X509_CRL_free(crl);
    char *extra = tu_strf("crl-file=\"%s\" crl-check=leaf", tu_pki("crl-expired.pem"));
    rc = verify_twice_at(nu - 60, extra, "client-chain.pem", &cached);
    free(extra);
    ck_assert_int_eq(cached, 0);
    if (rc != CERTROLE_OK)
        fprintf(stderr, "note: client-chain at CRL nextUpdate-60 gave %s\n",
                certrole_code_name(rc));
}
END_TEST

/* ----- threads --------------------------------------------------------------------- */

struct thr {
    certrole_ctx *ctx;
    X509 *good, *bad;
    STACK_OF(X509) *good_chain, *bad_chain;
    int errors;
};

static void *thr_main(void *arg)
{
    struct thr *t = arg;
    for (int i = 0; i < 200; i++) {
        certrole_result *r = NULL;
        int good = (i % 3) != 0;
        certrole_code rc = good ? certrole_verify_x509(t->ctx, t->good, t->good_chain, &r)
                                : certrole_verify_x509(t->ctx, t->bad, t->bad_chain, &r);
        if (good && (rc != CERTROLE_OK || !certrole_result_subject(r) ||
                     strcmp(certrole_result_subject(r), CLIENT_DN) != 0))
            t->errors++;
        if (!good && rc != CERTROLE_E_REVOKED)
            t->errors++;
        certrole_result_free(r);
    }
    return NULL;
}

static void run_threads(const char *extra)
{
    certrole_ctx *ctx = open_acme(extra);
    STACK_OF(X509) *g = load_pem(tu_pki("client-chain.pem"));
    STACK_OF(X509) *b = load_pem(tu_pki("revoked-chain.pem"));
    X509 *gl = sk_X509_shift(g), *bl = sk_X509_shift(b);
    enum { N = 8 };
    pthread_t th[N];
    struct thr t[N];
    for (int i = 0; i < N; i++) {
        t[i] = (struct thr){ ctx, gl, bl, g, b, 0 };
        ck_assert_int_eq(pthread_create(&th[i], NULL, thr_main, &t[i]), 0);
    }
    int errors = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        errors += t[i].errors;
    }
    ck_assert_int_eq(errors, 0);
    X509_free(gl);
    X509_free(bl);
    sk_X509_pop_free(g, X509_free);
    sk_X509_pop_free(b, X509_free);
    certrole_close(ctx);
}

START_TEST(many_threads_one_ctx)
{
    run_threads(NULL);
}
END_TEST

START_TEST(many_threads_with_cache)
{
    run_threads("\noption cache-ttl=60 deny-ttl=5 cache-size=64");
}
END_TEST

/* ----- TLS handshake ------------------------------------------------------------------ */

struct tls_server {
    int lfd;
    int want_client_cert;
    certrole_ctx *ctx;
    certrole_code rc;
    char subject[512];
    int depth;
    int handshake_ok;
};

static SSL_CTX *make_ssl_ctx(int server, const char *chain, const char *key)
{
    SSL_CTX *c = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    ck_assert_ptr_nonnull(c);
    if (chain) {
        ck_assert_int_eq(SSL_CTX_use_certificate_chain_file(c, tu_pki(chain)), 1);
        ck_assert_int_eq(SSL_CTX_use_PrivateKey_file(c, tu_pki(key), SSL_FILETYPE_PEM), 1);
    }
    return c;
}

/* Ask for a client certificate but leave the verdict to certrole. */
static int accept_any(int ok, X509_STORE_CTX *x)
{
    (void)ok;
    (void)x;
    return 1;
}

static void *server_main(void *arg)
{
    struct tls_server *s = arg;
    SSL_CTX *sc = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate_chain_file(sc, tu_pki("server-chain.pem"));
    SSL_CTX_use_PrivateKey_file(sc, tu_pki("server.key"), SSL_FILETYPE_PEM);
    SSL_CTX_set_verify(sc, SSL_VERIFY_PEER, accept_any);
    s->rc = CERTROLE_E_INTERNAL;
    int fd = accept(s->lfd, NULL, NULL);
    if (fd >= 0) {
        SSL *ssl = SSL_new(sc);
        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) == 1) {
            s->handshake_ok = 1;
            certrole_result *r = NULL;
            s->rc = certrole_verify_ssl(s->ctx, ssl, &r);
            if (certrole_result_subject(r))
                snprintf(s->subject, sizeof s->subject, "%s", certrole_result_subject(r));
            s->depth = certrole_result_depth(r);
            certrole_result_free(r);
            SSL_write(ssl, "x", 1);
            SSL_shutdown(ssl);
        }
        SSL_free(ssl);
        close(fd);
    }
    SSL_CTX_free(sc);
    return NULL;
}

/* Runs one handshake; the client presents chain/key (or nothing). On the
 * client side, verifies the server with client_ctx (if not NULL). */
static void handshake(certrole_ctx *server_ctx, const char *chain, const char *key,
                      struct tls_server *s, certrole_ctx *client_ctx,
                      certrole_code *client_rc)
{
    memset(s, 0, sizeof *s);
    s->ctx = server_ctx;
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert(s->lfd >= 0);
    struct sockaddr_in a = { .sin_family = AF_INET };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t al = sizeof a;
    ck_assert_int_eq(getsockname(s->lfd, (struct sockaddr *)&a, &al), 0);
    ck_assert_int_eq(listen(s->lfd, 1), 0);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, server_main, s), 0);

    SSL_CTX *cc = make_ssl_ctx(0, chain, key);
    SSL_CTX_set_verify(cc, SSL_VERIFY_NONE, NULL);   /* certrole judges the server */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    SSL *ssl = SSL_new(cc);
    SSL_set_fd(ssl, fd);
    int ok = SSL_connect(ssl);
    if (ok == 1) {
        char buf[4];
        SSL_read(ssl, buf, sizeof buf);   /* TLS 1.3: the server's verdict is in */
        if (client_ctx) {
            certrole_result *r = NULL;
            *client_rc = certrole_verify_ssl(client_ctx, ssl, &r);
            ck_assert_ptr_nonnull(r);
            if (*client_rc == CERTROLE_OK) {
                ck_assert_str_eq(certrole_result_subject(r), "CN=localhost");
                ck_assert_int_eq(certrole_result_depth(r), 3);
            }
            certrole_result_free(r);
        }
        SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    close(fd);
    SSL_CTX_free(cc);
    pthread_join(th, NULL);
    close(s->lfd);
    ck_assert_int_eq(ok, 1);
    ck_assert_int_eq(s->handshake_ok, 1);
}

START_TEST(verify_ssl_handshake)
{
    certrole_ctx *ctx = open_acme(NULL);
    char *p = tu_strf("trust ca-file=\"%s\" purpose=sslserver\n", tu_pki("ca-file.pem"));
    certrole_ctx *cctx = open_policy(p);
    free(p);
    struct tls_server s;
    certrole_code crc = CERTROLE_E_INTERNAL;
    handshake(ctx, "client-chain.pem", "client.key", &s, cctx, &crc);
    ck_assert_msg(s.rc == CERTROLE_OK, "server side: %s", certrole_code_name(s.rc));
    ck_assert_str_eq(s.subject, CLIENT_DN);
    ck_assert_int_eq(s.depth, 3);
    ck_assert_msg(crc == CERTROLE_OK, "client side: %s", certrole_code_name(crc));

    /* a client that sends no certificate */
    handshake(ctx, NULL, NULL, &s, NULL, NULL);
    ck_assert_int_eq(s.rc, CERTROLE_E_NO_CERTIFICATE);
    /* a client that sends its leaf without the intermediate */
    handshake(ctx, "client.pem", "client.key", &s, NULL, NULL);
    ck_assert_int_eq(s.rc, CERTROLE_E_UNTRUSTED_ISSUER);
    /* a revoked client */
    handshake(ctx, "revoked-chain.pem", "revoked.key", &s, NULL, NULL);
    ck_assert_int_eq(s.rc, CERTROLE_E_REVOKED);
    certrole_close(cctx);
    certrole_close(ctx);
}
END_TEST

static Suite *verify_suite(void)
{
    Suite *s = suite_create("verify");
    TCase *ok = tcase_create("valid");
    tcase_add_test(ok, valid_client_identity);
    tcase_add_test(ok, intermediates_in_any_order);
    tcase_add_test(ok, ca_dir_and_ecdsa);
    tcase_add_test(ok, fixed_validation_time);
    suite_add_tcase(s, ok);
    TCase *bad = tcase_create("failures");
    tcase_add_test(bad, no_certificate);
    tcase_add_test(bad, missing_intermediate_names_issuer);
    tcase_add_test(bad, other_ca);
    tcase_add_test(bad, self_signed);
    tcase_add_test(bad, expired_with_date);
    tcase_add_test(bad, not_yet_valid_with_date);
    tcase_add_test(bad, revoked_with_date);
    tcase_add_test(bad, der_crl_file);
    tcase_add_test(bad, crl_missing);
    tcase_add_test(bad, crl_expired);
    tcase_add_test(bad, wrong_purpose);
    tcase_add_test(bad, chain_too_long);
    tcase_add_test(bad, bad_signature);
    tcase_add_test(bad, intermediate_not_ca);
    tcase_add_test(bad, strict_refuses_ca_as_client);
    tcase_add_test(bad, bad_trust_profiles);
    suite_add_tcase(s, bad);
    TCase *cache = tcase_create("cache");
    tcase_add_test(cache, cache_hit_identical);
    tcase_add_test(cache, cache_bounded_by_not_after_and_crl);
    suite_add_tcase(s, cache);
    TCase *thr = tcase_create("threads");
    tcase_set_timeout(thr, 60);
    tcase_add_test(thr, many_threads_one_ctx);
    tcase_add_test(thr, many_threads_with_cache);
    tcase_add_test(thr, verify_ssl_handshake);
    suite_add_tcase(s, thr);
    return s;
}

int main(void)
{
    return tu_run_suite(verify_suite());
}
