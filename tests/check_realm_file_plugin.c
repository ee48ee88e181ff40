/* The file realm plugin end to end through policies, with real
 * certificates from the test PKI: DN and sha256 entries, other spellings
 * of a DN, the default user, issuer binding, hostile realm files and
 * arguments, reload on change, and the load time of a large realm. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "certrole.h"
#include "realm_file_util.h"

START_TEST(e2e_dn_entry)
{
    certrole_ctx *ctx = open_realm("\xef\xbb\xbf# Acme users\n\n"
                                   "\"" CRM_DN "\"  invoice-readonly,invoice-admin  user=crm\n"
                                   "\"CN=Someone Else,O=Acme Corp,C=US\" other\n", NULL);
    expect(ctx, "client-chain.pem", CERTROLE_OK, "crm", "invoice-readonly,invoice-admin");
    expect(ctx, "norole-chain.pem", CERTROLE_E_UNKNOWN_IDENTITY, NULL, NULL);
    certrole_close(ctx);
}
END_TEST

START_TEST(e2e_other_spellings)
{
    /* The same DN: other case, spacing, RFC 2253 and OpenSSL's slash form. */
    const char *spellings[] = {
        "\"cn=crmapplication,ou=SALES,o=acme  corp, l=San Francisco ,st=ca,c=us\"",
        "\"CN=CRMApplication,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US\"",
        "\"/C=US/ST=CA/L=San Francisco/O=Acme Corp/OU=Sales/CN=CRMApplication\"",
        "\"2.5.4.3=CRMApplication,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US\"",
    };
    for (size_t i = 0; i < sizeof spellings / sizeof *spellings; i++) {
        char *realm = tu_strf("%s reader\n", spellings[i]);
        certrole_ctx *ctx = open_realm(realm, "default-user=cn");
        expect(ctx, "client-chain.pem", CERTROLE_OK, "CRMApplication", "reader");
        certrole_close(ctx);
        free(realm);
    }
    /* Not the same DN: the escaped commas make one long CN; an RDN
     * missing, or in another order, is another name. */
    const char *others[] = {
        "\"CN=CRMApplication\\, OU=Sales\\, O=Acme Corp\\, L=San Francisco\\, ST=CA\\, C=US\"",
        "\"CN=CRMApplication,OU=Sales,O=Acme Corp,L=San Francisco,C=US\"",
        "\"OU=Sales,CN=CRMApplication,O=Acme Corp,L=San Francisco,ST=CA,C=US\"",
        "\"CN=CRMApplication,OU=Sales,O=Acme Corp\"",
    };
    for (size_t i = 0; i < sizeof others / sizeof *others; i++) {
        char *realm = tu_strf("%s reader\n\"CN=x\\,O=Acme Corp\" x\n", others[i]);
        certrole_ctx *ctx = open_realm(realm, NULL);
        expect(ctx, "client-chain.pem", CERTROLE_E_UNKNOWN_IDENTITY, NULL, NULL);
        certrole_close(ctx);
        free(realm);
    }
}
END_TEST

START_TEST(e2e_default_user)
{
    const char *realm = "\"" CRM_DN "\" reader\n";
    certrole_ctx *ctx = open_realm(realm, NULL);   /* default: the subject DN */
    certrole_result *res = verify(ctx, "client-chain.pem");
    ck_assert_int_eq(certrole_result_code(res), CERTROLE_OK);
    ck_assert_str_eq(certrole_result_user(res), certrole_result_subject(res));
    certrole_result_free(res);
    certrole_close(ctx);
    ctx = open_realm(realm, "default-user=email");
    expect(ctx, "client-chain.pem", CERTROLE_OK, "crm@acme.example", "reader");
    certrole_close(ctx);
}
END_TEST

/* sha256 fingerprint of a PEM certificate, hex, upper case with colons
 * when 'colons', else lower case plain. */
static char *fingerprint(const char *pemfile, int colons)
{
    FILE *f = fopen(tu_pki(pemfile), "r");
    ck_assert_ptr_nonnull(f);
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    ck_assert_ptr_nonnull(x);
    unsigned char md[32];
    unsigned n = 0;
    ck_assert(X509_digest(x, EVP_sha256(), md, &n) == 1 && n == 32);
    X509_free(x);
    char *out = calloc(1, 100);
    for (unsigned i = 0; i < n; i++)
        sprintf(out + strlen(out), colons ? "%s%02X" : "%s%02x", colons && i ? ":" : "", md[i]);
    return out;
}

START_TEST(e2e_sha256_pin)
{
    char *fp = fingerprint("norole.pem", 1);
    char *realm = tu_strf("\"" CRM_DN "\" reader user=crm\nsha256:%s  pinned,uploader user=guest\n",
                          fp);
    certrole_ctx *ctx = open_realm(realm, NULL);
    expect(ctx, "norole-chain.pem", CERTROLE_OK, "guest", "pinned,uploader");
    expect(ctx, "client-chain.pem", CERTROLE_OK, "crm", "reader");
    certrole_close(ctx);
    free(realm);
    free(fp);

    /* Lower case without colons pins too; a pin and a DN line both
     * matching one peer is ambiguous: refused, not picked. */
    fp = fingerprint("client.pem", 0);
    realm = tu_strf("sha256:%s pinned\n\"" CRM_DN "\" reader\n", fp);
    ctx = open_realm(realm, NULL);
    certrole_result *res = verify(ctx, "client-chain.pem");
    ck_assert_int_eq(certrole_result_code(res), CERTROLE_E_REALM_REFUSED);
    ck_assert_int_eq(certrole_result_allowed(res), 0);
    certrole_result_free(res);
    certrole_close(ctx);
    free(realm);
    realm = tu_strf("sha256:%s pinned\n", fp);
    ctx = open_realm(realm, "default-user=cn");
    expect(ctx, "client-chain.pem", CERTROLE_OK, "CRMApplication", "pinned");
    /* other-client has the same DN but is another certificate. */
    expect(ctx, "other-client.pem", CERTROLE_E_UNKNOWN_IDENTITY, NULL, NULL);
    certrole_close(ctx);
    free(realm);
    free(fp);
}
END_TEST

START_TEST(e2e_issuer_binding)
{
    /* No binding: the same DN from the other trusted root matches. */
    certrole_ctx *ctx = open_realm("\"" CRM_DN "\" reader user=crm\n", NULL);
    expect(ctx, "client-chain.pem", CERTROLE_OK, "crm", "reader");
    expect(ctx, "other-client.pem", CERTROLE_OK, "crm", "reader");
    certrole_close(ctx);

    /* Bound to the Acme root (any spelling): only Acme's peer matches. */
    ctx = open_realm("\"" CRM_DN "\" reader user=crm issuer=\"cn=acme root ca, o=ACME CORP, c=us\"\n",
                     NULL);
    expect(ctx, "client-chain.pem", CERTROLE_OK, "crm", "reader");
    expect(ctx, "other-client.pem", CERTROLE_E_UNKNOWN_IDENTITY, NULL, NULL);
    certrole_close(ctx);

    /* One line per anchor: each peer gets its own entry. */
    ctx = open_realm("\"" CRM_DN "\" acme-role user=crm issuer=\"" ACME_ROOT "\"\n"
                     "\"" CRM_DN "\" other-role user=impostor issuer=\"" OTHER_ROOT "\"\n", NULL);
    expect(ctx, "client-chain.pem", CERTROLE_OK, "crm", "acme-role");
    expect(ctx, "other-client.pem", CERTROLE_OK, "impostor", "other-role");
    certrole_close(ctx);

    /* The binding names the trust anchor, not the issuing intermediate. */
    ctx = open_realm("\"" CRM_DN "\" reader issuer=\"CN=Acme Issuing CA,O=Acme Corp,C=US\"\n", NULL);
    expect(ctx, "client-chain.pem", CERTROLE_E_UNKNOWN_IDENTITY, NULL, NULL);
    certrole_close(ctx);

    /* Realm-wide binding. */
    ctx = open_realm("\"" CRM_DN "\" reader user=crm\n", "issuer=\"" ACME_ROOT "\"");
    expect(ctx, "client-chain.pem", CERTROLE_OK, "crm", "reader");
    expect(ctx, "other-client.pem", CERTROLE_E_UNKNOWN_IDENTITY, NULL, NULL);
    certrole_close(ctx);
    ctx = open_realm("\"" CRM_DN "\" reader user=crm\n", "issuer=\"" OTHER_ROOT "\"");
    expect(ctx, "client-chain.pem", CERTROLE_E_UNKNOWN_IDENTITY, NULL, NULL);
    expect(ctx, "other-client.pem", CERTROLE_OK, "crm", "reader");
    certrole_close(ctx);
    char *want = tu_strf("users.realm:1:%zu: issuer= differs from the realm's issuer=",
                         strlen("\"" CRM_DN "\" reader issuer=") + 1);
    realm_error("\"" CRM_DN "\" reader issuer=\"" OTHER_ROOT "\"\n", "issuer=\"" ACME_ROOT "\"", want);
    free(want);
}
END_TEST

START_TEST(e2e_hostile_files)
{
    realm_error("# users\n\"CN=x,O=Acme x\n", NULL, "users.realm:2:1: unterminated quoted DN");
    realm_error("\"CN=a\" r\n\n\"not a dn\" r\n", NULL, "users.realm:3:1: bad DN");
    realm_error("\"CN=a\" r issuer=\"nonsense\"\n", NULL, "users.realm:1:17: bad DN");
    realm_error("sha256:0123 r\n", NULL, "users.realm:1:8: fingerprint too short");
    realm_error("\"CN=a\" r,\n", NULL, "users.realm:1:10: expected a role name");
    realm_error("\"CN=a\" r trailing\n", NULL, "users.realm:1:10: unexpected text");
    realm_error("\"" CRM_DN "\" reader\n\"cn=crmapplication,ou=sales,o=acme corp,l=san francisco,"
                "st=ca,c=us\" admin\n", NULL,
                "users.realm:2: duplicate entry: the same identity is already on line 1");
    /* NUL byte and an over-long line. */
    char *rp = tu_strf("%s/nul.realm", rf_dir);
    FILE *f = fopen(rp, "w");
    ck_assert_ptr_nonnull(f);
    fwrite("\"CN=a\" r\n\"CN=b\0,O=x\" r\n", 1, 23, f);
    fclose(f);
    char *pol = tu_strf("trust ca-file=%s\nrealm required file path=nul.realm\n", rf_both_cas);
    char *name = tu_strf("%s/test.policy", rf_dir);
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    ck_assert_int_ne(certrole_open_string(&ctx, pol, name, &err), CERTROLE_OK);
    ck_assert_ptr_null(ctx);
    ck_assert_msg(err && strstr(err, "nul.realm:2:6: NUL byte"), "got %s", err);
    certrole_free(err);
    free(pol);
    free(rp);
    size_t n = 70000;
    char *big = malloc(n + 32);
    ck_assert_ptr_nonnull(big);
    strcpy(big, "\"CN=");
    memset(big + 4, 'a', n);
    strcpy(big + 4 + n, "\" r\n");
    realm_error(big, NULL, "users.realm:1:65537: line too long");
    free(big);

    /* Arguments. */
    realm_error("\"CN=a\" r\n", "colour=red", "unknown argument 'colour'");
    realm_error("\"CN=a\" r\n", "path=other.realm", "argument 'path' given twice");
    realm_error("\"CN=a\" r\n", "format=xml", "format=xml");
    realm_error("\"CN=a\" r\n", "default-user=uid", "default-user=uid");
    realm_error("\"CN=a\" r\n", "issuer=nonsense", "issuer=\"nonsense\": bad DN");
    pol = tu_strf("trust ca-file=%s\nrealm required file path=missing.realm\n", rf_both_cas);
    err = NULL;
    ck_assert_int_ne(certrole_open_string(&ctx, pol, name, &err), CERTROLE_OK);
    ck_assert_msg(err && strstr(err, "missing.realm: No such file"), "got %s", err);
    certrole_free(err);
    free(pol);
    pol = tu_strf("trust ca-file=%s\nrealm required file format=tomcat\n", rf_both_cas);
    err = NULL;
    ck_assert_int_ne(certrole_open_string(&ctx, pol, name, &err), CERTROLE_OK);
    ck_assert_msg(err && strstr(err, "missing path=FILE"), "got %s", err);
    certrole_free(err);
    free(pol);
    free(name);
}
END_TEST


START_TEST(e2e_reload_on_change)
{
    certrole_ctx *ctx = open_realm("\"" CRM_DN "\" before user=crm\n", NULL);
    expect(ctx, "client-chain.pem", CERTROLE_OK, "crm", "before");
    int reloaded = -1;
    char *err = NULL;
    ck_assert_int_eq(certrole_reload_if_changed(ctx, &reloaded, &err), CERTROLE_OK);
    ck_assert_int_eq(reloaded, 0);
    char *rp = tu_strf("%s/users.realm", rf_dir);
    tu_write_file(rp, "\"" CRM_DN "\" after,more user=crm\n");
    ck_assert_int_eq(certrole_reload_if_changed(ctx, &reloaded, &err), CERTROLE_OK);
    ck_assert_int_eq(reloaded, 1);
    expect(ctx, "client-chain.pem", CERTROLE_OK, "crm", "after,more");
    /* A broken edit keeps the previous realm in force. */
    tu_write_file(rp, "\"" CRM_DN " after\n");
    ck_assert_int_ne(certrole_reload_if_changed(ctx, &reloaded, &err), CERTROLE_OK);
    ck_assert_msg(err && strstr(err, "users.realm:1:1: unterminated"), "got %s", err);
    certrole_free(err);
    expect(ctx, "client-chain.pem", CERTROLE_OK, "crm", "after,more");
    free(rp);
    certrole_close(ctx);
}
END_TEST

/* A large realm loads quickly; the time is printed, not asserted (the
 * benchmark program owns speed). CERTROLE_REALM_LOAD_LINES overrides the
 * size (e.g. 1000000). */
START_TEST(e2e_large_realm)
{
    long n = atol(tu_env("CERTROLE_REALM_LOAD_LINES", "100000"));
    if (n < 1)
        n = 100000;
    char *rp = tu_strf("%s/big.realm", rf_dir);
    FILE *f = fopen(rp, "w");
    ck_assert_ptr_nonnull(f);
    for (long i = 0; i < n; i++)
        fprintf(f, "\"CN=User %07ld, OU=Load %ld, O=Acme Corp, L=San Francisco, ST=CA, C=US\""
                "  role-a,role-%ld  user=u%ld\n", i, i % 97, i % 13, i);
    fprintf(f, "\"" CRM_DN "\" invoice-readonly user=crm\n");
    ck_assert_int_eq(fclose(f), 0);
    char *pol = tu_strf("trust ca-file=%s\nrealm required file path=big.realm\n", rf_both_cas);
    char *name = tu_strf("%s/test.policy", rf_dir);
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    certrole_code rc = certrole_open_string(&ctx, pol, name, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_msg(rc == CERTROLE_OK, "open: %s", err);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("file realm: %ld lines loaded in %.3f s (%.2f us/line)\n", n + 1, s,
           s * 1e6 / (double)(n + 1));
    fflush(stdout);
    expect(ctx, "client-chain.pem", CERTROLE_OK, "crm", "invoice-readonly");
    expect(ctx, "norole-chain.pem", CERTROLE_E_UNKNOWN_IDENTITY, NULL, NULL);
    certrole_close(ctx);
    free(pol);
    free(name);
    free(rp);
}
END_TEST


static Suite *realm_file_plugin_suite(void)
{
    Suite *s = suite_create("realm_file_plugin");
    TCase *tc = tcase_create("plugin");
    tcase_add_checked_fixture(tc, e2e_setup, e2e_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, e2e_dn_entry);
    tcase_add_test(tc, e2e_other_spellings);
    tcase_add_test(tc, e2e_default_user);
    tcase_add_test(tc, e2e_sha256_pin);
    tcase_add_test(tc, e2e_issuer_binding);
    tcase_add_test(tc, e2e_hostile_files);
    tcase_add_test(tc, e2e_reload_on_change);
    tcase_add_test(tc, e2e_large_realm);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(realm_file_plugin_suite());
}
