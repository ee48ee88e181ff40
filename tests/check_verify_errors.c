/* Chain validation failures a person can act on, each with a real
 * certificate from the test PKI: the stable code, a message naming what
 * is wrong (issuer DN, dates), a hint; and trust profiles that must not
 * open. */
#define _GNU_SOURCE
#include "verify_util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

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
    assert_denied(res, CERTROLE_E_UNTRUSTED_ISSUER, INT_DN, "get the certificate of " INT_DN);
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
    assert_denied(res, CERTROLE_E_UNTRUSTED_ISSUER, OTHER_ROOT_DN,
                  "if it is a root CA you trust, add it to ca-file");
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

/* A CA certificate (CA:TRUE, digitalSignature, clientAuth) issued by the
 * Acme issuing CA, made here; its chain (leaf + issuing CA) is returned. */
static char *make_ca_leaf(const char *dir)
{
    char *ext = tu_strf("%s/ext.cnf", dir), *chain = tu_strf("%s/caleaf-chain.pem", dir);
    tu_write_file(ext, "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature,"
                       "keyCertSign\nextendedKeyUsage=clientAuth\n");
    const char *o = tu_env("OPENSSL", "openssl");
    char *cmd = tu_strf("cd '%s' && '%s' req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
                        "-nodes -keyout l.key -subj '/CN=CA As Client/O=Acme Corp' -out l.csr && "
                        "'%s' x509 -req -in l.csr -CA '%s' -CAkey '%s' -set_serial 77 -days 30 "
                        "-extfile '%s' -out l.pem && cat l.pem '%s' > '%s'", dir, o, o,
                        tu_pki("int-ca.pem"), tu_pki("int-ca.key"), ext, tu_pki("int-ca.pem"), chain);
    char *out = NULL;
    ck_assert_msg(tu_run(cmd, &out) == 0, "%s: %s", cmd, out ? out : "");
    free(out);
    free(cmd);
    free(ext);
    return chain;
}

/* Verifies the chain file at path (leaf first). Returns the code. */
static certrole_code verify_path(certrole_ctx *ctx, certrole_result **res, const char *path)
{
    STACK_OF(X509) *all = load_pem(path);
    X509 *leaf = sk_X509_shift(all);
    certrole_code rc = certrole_verify_x509(ctx, leaf, all, res);
    X509_free(leaf);
    sk_X509_pop_free(all, X509_free);
    return rc;
}

START_TEST(ca_leaf_refused_unless_allowed)
{
    /* OpenSSL's sslclient purpose accepts this certificate as a client. */
    char *dir = tu_mkdtemp("caleaf"), *chain = make_ca_leaf(dir);
    certrole_ctx *ctx = open_acme(NULL);
    certrole_result *res = NULL;
    verify_path(ctx, &res, chain);
    assert_denied(res, CERTROLE_E_WRONG_PURPOSE, "is a CA certificate (basicConstraints CA:TRUE)",
                  "allow-ca-leaf=yes");
    certrole_result_free(res);
    certrole_close(ctx);
    ctx = open_acme("allow-ca-leaf=yes");
    ck_assert_int_eq(verify_path(ctx, &res, chain), CERTROLE_OK);
    certrole_result_free(res);
    certrole_close(ctx);
    ctx = open_acme("allow-ca-leaf=yes strict=yes");         /* strict still refuses */
    verify_path(ctx, &res, chain);
    assert_denied(res, CERTROLE_E_WRONG_PURPOSE, "strict mode refuses CAs as clients", "CA:FALSE");
    certrole_result_free(res);
    certrole_close(ctx);
    ctx = open_acme("purpose=any");                          /* any purpose: as before */
    ck_assert_int_eq(verify_path(ctx, &res, chain), CERTROLE_OK);
    certrole_result_free(res);
    certrole_close(ctx);
    tu_rmrf(dir);
    free(dir);
    free(chain);
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

/* ----- an unreadable trust anchor name ---------------------------------------- */

/* A certificate made here with OpenSSL's API (the openssl command cannot
 * put a NUL byte into a name): subject CN=cn (cn_len bytes), signed by
 * issuer/ikey (itself when NULL). */
static X509 *make_cert(EVP_PKEY *key, const char *cn, int cn_len, X509 *issuer,
                       EVP_PKEY *ikey, int ca)
{
    X509 *x = X509_new();
    ck_assert_ptr_nonnull(x);
    ck_assert_int_eq(X509_set_version(x, 2), 1);
    ck_assert_int_eq(ASN1_INTEGER_set(X509_get_serialNumber(x), ca ? 1 : 2), 1);
    X509_NAME *n = X509_get_subject_name(x);
    ck_assert_int_eq(X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
                                                (const unsigned char *)"Nul Corp", -1, -1, 0), 1);
    ck_assert_int_eq(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
                                                (const unsigned char *)cn, cn_len, -1, 0), 1);
    ck_assert_int_eq(X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n), 1);
    ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notBefore(x), -3600));
    ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
    ck_assert_int_eq(X509_set_pubkey(x, key), 1);
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
    const char *exts[][2] = {
        { "basicConstraints", ca ? "critical,CA:TRUE" : "CA:FALSE" },
        { "keyUsage", ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature" },
        { "extendedKeyUsage", ca ? NULL : "clientAuth" },
        { "subjectKeyIdentifier", "hash" },
    };
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        if (!exts[i][1])
            continue;
        X509_EXTENSION *e = X509V3_EXT_conf(NULL, &v3, exts[i][0], exts[i][1]);
        ck_assert_ptr_nonnull(e);
        ck_assert_int_eq(X509_add_ext(x, e, -1), 1);
        X509_EXTENSION_free(e);
    }
    ck_assert_int_gt(X509_sign(x, ikey ? ikey : key, EVP_sha256()), 0);
    return x;
}

START_TEST(anchor_name_unreadable)
{
    /* A trusted root whose CN holds a NUL byte and an intermediate-free
     * leaf it issued: the chain validates, but the anchor's name cannot be
     * rendered, which realms' issuer binding relies on. The code must be
     * bad_name with a message saying so (it used to be no_memory). */
    EVP_PKEY *rk = EVP_EC_gen("P-256"), *lk = EVP_EC_gen("P-256");
    ck_assert(rk && lk);
    static const char cn[] = "Nul Root\0CA";
    X509 *root = make_cert(rk, cn, (int)sizeof cn - 1, NULL, NULL, 1);
    X509 *leaf = make_cert(lk, "nul-client", -1, root, rk, 0);
    char *dir = tu_mkdtemp("nulroot");
    char *ca = tu_strf("%s/root.pem", dir);
    FILE *f = fopen(ca, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(PEM_write_X509(f, root), 1);
    ck_assert_int_eq(fclose(f), 0);
    char *p = tu_strf("trust ca-file=\"%s\"\n", ca);
    certrole_ctx *ctx = open_policy(p);
    certrole_result *res = NULL;
    ck_assert_int_eq(certrole_verify_x509(ctx, leaf, NULL, &res), CERTROLE_E_BAD_NAME);
    assert_denied(res, CERTROLE_E_BAD_NAME, "trust anchor", NULL);
    ck_assert_int_eq(certrole_result_code(res), CERTROLE_E_BAD_NAME);
    certrole_result_free(res);
    certrole_close(ctx);
    free(p);
    free(ca);
    tu_rmrf(dir);
    free(dir);
    X509_free(leaf);
    X509_free(root);
    EVP_PKEY_free(lk);
    EVP_PKEY_free(rk);
}
END_TEST

static Suite *verify_errors_suite(void)
{
    Suite *s = suite_create("verify_errors");
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
    tcase_add_test(bad, ca_leaf_refused_unless_allowed);
    tcase_add_test(bad, bad_trust_profiles);
    tcase_add_test(bad, anchor_name_unreadable);
    suite_add_tcase(s, bad);
    return s;
}

int main(void)
{
    return tu_run_suite(verify_errors_suite());
}
