/* Trust sources people have: PKCS#12 truststores (openssl pkcs12 -export
 * -nokeys, a key entry next to the anchors, Java's trusted-certificate
 * bags) with ca-password-file, ca-dir without hash links, and
 * 'certrole trust list'. Every file is made by openssl at test time;
 * hostile ones (a MAC over garbage, a truncated file, loops and FIFOs in
 * a ca-dir) must fail closed, and quickly. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include "certrole.h"
#include "testutil.h"

#define HAS(s, want) ck_assert_msg((s) && strstr((s), (want)), "'%s' lacks '%s'", (s), (want))

static char *dir;
static char *kept[64];   /* paths made by at() */
static size_t nkept;

static void setup(void)
{
    dir = tu_mkdtemp("truststores");
    setenv("OPENSSL", tu_env("OPENSSL", "openssl"), 1);   /* for the shell commands */
    alarm(60);   /* a FIFO or a loop that hangs a load fails the test */
}

static void teardown(void)
{
    alarm(0);
    while (nkept)
        free(kept[--nkept]);
    tu_rmrf(dir);
    free(dir);
}

/* A path in the test's directory, freed by teardown. */
static char *at(const char *name)
{
    ck_assert_uint_lt(nkept, sizeof kept / sizeof kept[0]);
    return kept[nkept++] = tu_strf("%s/%s", dir, name);
}

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
    va_list ap;
    char *cmd = NULL, *out = NULL;
    va_start(ap, fmt);
    ck_assert_int_ge(vasprintf(&cmd, fmt, ap), 0);
    va_end(ap);
    int st = tu_run(cmd, &out);
    ck_assert_msg(st == 0, "'%s' exited %d: %s", cmd, st, out ? out : "");
    free(out);
    free(cmd);
}

/* A password file with exactly these bytes and mode. */
static char *pwfile(const char *name, const char *text, mode_t mode)
{
    char *p = at(name);
    tu_write_file(p, text);
    ck_assert_int_eq(chmod(p, mode), 0);
    return p;
}

/* root-ca and other-root-ca in one p12 made by openssl with password pw. */
static char *export_anchors(const char *name, const char *pw)
{
    char *p = at(name);
    sh("cat '%s' '%s' > '%s/cas.pem' && \"$OPENSSL\" pkcs12 -export -nokeys -in '%s/cas.pem' "
       "-out '%s' -passout 'pass:%s'", tu_pki("root-ca.pem"), tu_pki("other-root-ca.pem"),
       dir, dir, p, pw);
    return p;
}

/* Opens a policy whose trust line is trust; the code, *err the message. */
static certrole_code open_trust(certrole_ctx **ctx, char **err, const char *trust)
{
    char *policy = at("p.policy"), *text = tu_strf("trust %s\n", trust);
    tu_write_file(policy, text);
    *err = NULL;
    *ctx = NULL;
    certrole_code rc = certrole_open(ctx, policy, err);
    free(text);
    return rc;
}

/* A context for the trust line, which must load. */
static certrole_ctx *opened(const char *trust)
{
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    certrole_code rc = open_trust(&ctx, &err, trust);
    ck_assert_msg(rc == CERTROLE_OK, "trust %s: %s", trust, err ? err : "?");
    return ctx;
}

static certrole_code verify(certrole_ctx *ctx, const char *pki_name)
{
    size_t len = 0;
    char *data = tu_read_file(tu_pki(pki_name), &len);
    ck_assert_ptr_nonnull(data);
    certrole_result *res = NULL;
    certrole_code rc = certrole_verify_data(ctx, data, len, CERTROLE_FORMAT_AUTO, NULL, &res);
    ck_assert_ptr_nonnull(res);
    ck_assert_int_eq(rc, certrole_result_code(res));
    certrole_result_free(res);
    free(data);
    return rc;
}

/* Opening must fail with a policy error whose message holds every want. */
static void refused(const char *want1, const char *want2, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void refused(const char *want1, const char *want2, const char *fmt, ...)
{
    va_list ap;
    char *trust = NULL, *err = NULL;
    certrole_ctx *ctx = NULL;
    va_start(ap, fmt);
    ck_assert_int_ge(vasprintf(&trust, fmt, ap), 0);
    va_end(ap);
    certrole_code rc = open_trust(&ctx, &err, trust);
    ck_assert_msg(rc == CERTROLE_E_POLICY_ERROR || rc == CERTROLE_E_IO,
                  "trust %s opened (%d): %s", trust, rc, err ? err : "");
    ck_assert_ptr_null(ctx);
    HAS(err, "p.policy:1:");
    HAS(err, want1);
    if (want2)
        HAS(err, want2);
    certrole_free(err);
    free(trust);
}

/* ---- PKCS#12 truststores ----------------------------------------------- */

START_TEST(p12_truststore_verifies_and_refuses)
{
    export_anchors("ts.p12", "s3cret");
    pwfile("pw", "s3cret\n", 0600);
    certrole_ctx *ctx = opened("ca-file=ts.p12 ca-password-file=pw");
    ck_assert_int_eq(verify(ctx, "client-chain.pem"), CERTROLE_OK);
    ck_assert_int_eq(verify(ctx, "other-client.pem"), CERTROLE_OK);   /* the second cert */
    ck_assert_int_eq(verify(ctx, "selfsigned.pem"), CERTROLE_E_SELF_SIGNED_UNTRUSTED);
    certrole_close(ctx);
    /* A truststore without the root that issued the chain: refused. */
    sh("\"$OPENSSL\" pkcs12 -export -nokeys -in '%s' -out '%s/other.p12' -passout pass:s3cret",
       tu_pki("other-root-ca.pem"), dir);
    ctx = opened("ca-file=other.p12 ca-password-file=pw");
    ck_assert_int_ne(verify(ctx, "client-chain.pem"), CERTROLE_OK);
    certrole_close(ctx);
    /* Known by its content, whatever it is called. */
    export_anchors("anchors.pem", "s3cret");
    ctx = opened("ca-file=anchors.pem ca-password-file=pw");
    ck_assert_int_eq(verify(ctx, "client-chain.pem"), CERTROLE_OK);
    certrole_close(ctx);
}
END_TEST

START_TEST(p12_wrong_password_is_named)
{
    char *p12 = export_anchors("ts.p12", "s3cret"), *pw = pwfile("pw", "secret\n", 0600);
    refused("MAC verification failed", "wrong password", "ca-file=ts.p12 ca-password-file=pw");
    refused(p12, pw, "ca-file=ts.p12 ca-password-file=pw");
    /* No password file: the empty password is tried, and the error says
     * what to add. */
    refused("MAC verification failed", "ca-password-file", "ca-file=ts.p12");
    /* Only the line end goes: a trailing blank is part of the password. */
    pw = pwfile("pw", "s3cret \n", 0600);
    refused("MAC verification failed", NULL, "ca-file=ts.p12 ca-password-file=pw");
}
END_TEST

START_TEST(p12_password_file_crlf_and_empty)
{
    export_anchors("ts.p12", "s3cret");
    pwfile("pw", "s3cret\r\nlater\n", 0600);
    certrole_ctx *ctx = opened("ca-file=ts.p12 ca-password-file=pw");
    ck_assert_int_eq(verify(ctx, "client-chain.pem"), CERTROLE_OK);
    certrole_close(ctx);
    export_anchors("empty.p12", "");
    pwfile("epw", "", 0600);
    ctx = opened("ca-file=empty.p12 ca-password-file=epw");
    ck_assert_int_eq(verify(ctx, "client-chain.pem"), CERTROLE_OK);
    certrole_close(ctx);
    ctx = opened("ca-file=empty.p12");
    certrole_close(ctx);
}
END_TEST

START_TEST(p12_password_file_misuse)
{
    export_anchors("ts.p12", "s3cret");
    char *pw = pwfile("pw", "s3cret\n", 0644);
    refused("ca-password-file", "readable by every user", "ca-file=ts.p12 ca-password-file=pw");
    ck_assert_int_eq(chmod(pw, 0600), 0);
    refused("ca-password-file", "missing-pw", "ca-file=ts.p12 ca-password-file=missing-pw");
    sh("mkfifo -m 600 '%s/pipe'", dir);   /* would block a plain open() */
    refused("ca-password-file", "not a regular file", "ca-file=ts.p12 ca-password-file=pipe");
    refused("not a PKCS#12", NULL, "ca-file=\"%s\" ca-password-file=pw", tu_pki("root-ca.pem"));
    refused("ca-password-file", "without ca-file",
            "ca-dir=\"%s\" ca-password-file=pw", tu_pki("ca-dir"));
}
END_TEST

START_TEST(p12_with_a_key_entry)
{
    pwfile("pw", "s3cret\n", 0600);
    sh("\"$OPENSSL\" pkcs12 -export -inkey '%s' -in '%s' -certfile '%s' -out '%s/key.p12' "
       "-passout pass:s3cret", tu_pki("client.key"), tu_pki("client.pem"),
       tu_pki("root-ca.pem"), dir);
    certrole_ctx *ctx = opened("ca-file=key.p12 ca-password-file=pw");
    ck_assert_int_eq(verify(ctx, "client-chain.pem"), CERTROLE_OK);
    certrole_close(ctx);
    /* The key's own certificate becomes an anchor too: said at load. */
    char *out = NULL, *policy = at("p.policy");
    char *cmd = tu_strf("'%s' policy-check '%s' 2>&1", tu_build("certrole"), policy);
    ck_assert_int_eq(tu_run(cmd, &out), 0);
    HAS(out, "warning: ");
    HAS(out, "also holds a private key");
    free(out);
    free(cmd);
    /* Keys alone are no truststore. */
    sh("\"$OPENSSL\" pkcs12 -export -nocerts -inkey '%s' -out '%s/keyonly.p12' -passout pass:s3cret",
       tu_pki("client.key"), dir);
    refused("holds no certificate", NULL, "ca-file=keyonly.p12 ca-password-file=pw");
}
END_TEST

/* What keytool -importcert writes: one certificate bag per anchor, each
 * marked with Oracle's trusted-key-usage attribute, no key, here each in
 * its own encrypted safe. */
static void write_jdk_p12(const char *path, const char *pass)
{
    STACK_OF(PKCS7) *safes = NULL;
    const char *names[] = { "root-ca.pem", "other-root-ca.pem" };
    for (int i = 0; i < 2; i++) {
        FILE *f = fopen(tu_pki(names[i]), "r");
        ck_assert_ptr_nonnull(f);
        X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
        fclose(f);
        ck_assert_ptr_nonnull(x);
        STACK_OF(PKCS12_SAFEBAG) *bags = NULL;
        PKCS12_SAFEBAG *bag = PKCS12_add_cert(&bags, x);
        ASN1_OBJECT *any = OBJ_txt2obj("2.5.29.37.0", 1);
        ck_assert_ptr_nonnull(bag);
        ck_assert_int_eq(PKCS12_add1_attr_by_txt(bag, "2.16.840.1.113894.746875.1.1",
                                                 V_ASN1_OBJECT, (unsigned char *)any, -1), 1);
        ck_assert_int_eq(PKCS12_add_safe(&safes, bags, NID_aes_256_cbc, 2048, pass), 1);
        sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
        ASN1_OBJECT_free(any);
        X509_free(x);
    }
    PKCS12 *p12 = PKCS12_add_safes(safes, 0);
    ck_assert_ptr_nonnull(p12);
    ck_assert_int_eq(PKCS12_set_mac(p12, pass, -1, NULL, 0, 2048, NULL), 1);
    FILE *out = fopen(path, "wb");
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(i2d_PKCS12_fp(out, p12), 1);
    fclose(out);
    PKCS12_free(p12);
    sk_PKCS7_pop_free(safes, PKCS7_free);
}

START_TEST(p12_java_trusted_entries)
{
    char *p12 = at("java.p12");
    pwfile("pw", "changeit\n", 0600);
    write_jdk_p12(p12, "changeit");
    /* openssl itself sees the attribute: the file is what it claims. */
    char *out = NULL;
    char *cmd = tu_strf("\"$OPENSSL\" pkcs12 -in '%s' -passin pass:changeit -nokeys -info 2>&1", p12);
    ck_assert_int_eq(tu_run(cmd, &out), 0);
    HAS(out, "2.16.840.1.113894.746875.1.1");
    certrole_ctx *ctx = opened("ca-file=java.p12 ca-password-file=pw");
    ck_assert_int_eq(verify(ctx, "client-chain.pem"), CERTROLE_OK);
    ck_assert_int_eq(verify(ctx, "other-client.pem"), CERTROLE_OK);
    certrole_close(ctx);
    free(out);
    free(cmd);
}
END_TEST

/* ---- hostile PKCS#12 ------------------------------------------------------ */

START_TEST(p12_mac_over_garbage)
{
    PKCS7 *p7 = PKCS7_new();
    ck_assert_int_eq(PKCS7_set_type(p7, NID_pkcs7_data), 1);
    ck_assert_int_eq(ASN1_OCTET_STRING_set(p7->d.data, (const unsigned char *)"\x30\x03junk", 6),
                     1);
    STACK_OF(PKCS7) *safes = sk_PKCS7_new_null();
    ck_assert_int_gt(sk_PKCS7_push(safes, p7), 0);
    PKCS12 *p12 = PKCS12_add_safes(safes, 0);
    ck_assert_ptr_nonnull(p12);
    ck_assert_int_eq(PKCS12_set_mac(p12, "s3cret", -1, NULL, 0, 2048, NULL), 1);
    char *path = at("garbage.p12");
    pwfile("pw", "s3cret\n", 0600);
    FILE *f = fopen(path, "wb");
    ck_assert_int_eq(i2d_PKCS12_fp(f, p12), 1);
    fclose(f);
    PKCS12_free(p12);
    sk_PKCS7_pop_free(safes, PKCS7_free);
    refused("damaged", "MAC verification succeeded", "ca-file=garbage.p12 ca-password-file=pw");
}
END_TEST

START_TEST(p12_truncated_or_trailing)
{
    char *p12 = export_anchors("ts.p12", "s3cret");
    pwfile("pw", "s3cret\n", 0600);
    sh("head -c 300 '%s' > '%s/cut.p12' && cat '%s' '%s' > '%s/long.p12'", p12, dir, p12,
       tu_pki("root-ca.pem"), dir);
    refused("damaged or truncated", "cut.p12", "ca-file=cut.p12 ca-password-file=pw");
    refused("trailing data", "long.p12", "ca-file=long.p12 ca-password-file=pw");
}
END_TEST

/* ---- ca-dir without hash links ----------------------------------------- */

START_TEST(ca_dir_plain_files)
{
    char *d = at("cas");
    sh("mkdir '%s' && cp '%s' '%s/acme.PEM' && \"$OPENSSL\" x509 -in '%s' -outform DER -out "
       "'%s/other.der' && echo notes > '%s/README' && cp '%s' '%s/client.key'",
       d, tu_pki("root-ca.pem"), d, tu_pki("other-root-ca.pem"), d, d, tu_pki("client.key"), d);
    certrole_ctx *ctx = opened("ca-dir=cas");
    ck_assert_int_eq(verify(ctx, "client-chain.pem"), CERTROLE_OK);
    ck_assert_int_eq(verify(ctx, "other-client.pem"), CERTROLE_OK);
    certrole_close(ctx);
    /* A file named as a certificate that is none: fail closed. */
    sh("echo 'not a certificate' > '%s/broken.crt'", d);
    refused("broken.crt", "no usable certificate", "ca-dir=cas");
}
END_TEST

/* No certificate file at all (empty, or only notes and CRLs): refused at
 * load like an empty ca-file, and the empty listing is sorted safely. */
START_TEST(ca_dir_without_certificates)
{
    char *d = at("cas");
    sh("mkdir '%s'", d);
    refused("ca-dir", "no certificate file", "ca-dir=cas");
    sh("echo notes > '%s/README' && cp '%s' '%s/client.key'", d, tu_pki("client.key"), d);
    refused("ca-dir", "no certificate file", "ca-dir=cas");
    sh("\"$OPENSSL\" crl -in '%s' -out '%s/0123abcd.r0'", tu_pki("crl-root.pem"), d);
    refused("ca-dir", "no certificate file", "ca-dir=cas");
    sh("rm '%s/0123abcd.r0' && cp '%s' '%s/root.pem'", d, tu_pki("root-ca.pem"), d);
    certrole_ctx *ctx = opened("ca-dir=cas");
    ck_assert_int_eq(verify(ctx, "client-chain.pem"), CERTROLE_OK);
    certrole_close(ctx);
}
END_TEST

START_TEST(ca_dir_change_is_noticed)
{
    char *d = at("cas"), *f = tu_strf("%s/a.pem", d);
    sh("mkdir '%s' && cp '%s' '%s'", d, tu_pki("root-ca.pem"), f);
    int reloaded = 0;
    certrole_ctx *ctx = opened("ca-dir=cas");
    ck_assert_int_eq(verify(ctx, "other-client.pem"), CERTROLE_E_UNTRUSTED_ISSUER);
    /* The same file rewritten in place: the listing did not change. */
    char *other = tu_read_file(tu_pki("other-root-ca.pem"), NULL);
    tu_write_file(f, other);
    ck_assert_int_eq(certrole_reload_if_changed(ctx, &reloaded, NULL), CERTROLE_OK);
    ck_assert_int_eq(reloaded, 1);
    ck_assert_int_eq(verify(ctx, "other-client.pem"), CERTROLE_OK);
    ck_assert_int_ne(verify(ctx, "client-chain.pem"), CERTROLE_OK);
    /* A new file: the listing changed. */
    sh("cp '%s' '%s/b.crt'", tu_pki("root-ca.pem"), d);
    ck_assert_int_eq(certrole_reload_if_changed(ctx, &reloaded, NULL), CERTROLE_OK);
    ck_assert_int_eq(reloaded, 1);
    ck_assert_int_eq(verify(ctx, "client-chain.pem"), CERTROLE_OK);
    certrole_close(ctx);
    free(other);
    free(f);
}
END_TEST

START_TEST(ca_dir_loops_and_fifos)
{
    char *d = at("cas");
    sh("mkdir '%s' && cp '%s' '%s/root.pem' && ln -s loop '%s/loop' && mkfifo '%s/pipe'",
       d, tu_pki("root-ca.pem"), d, d, d);
    /* Names that are not certificates are never opened. */
    certrole_ctx *ctx = opened("ca-dir=cas");
    ck_assert_int_eq(verify(ctx, "client-chain.pem"), CERTROLE_OK);
    certrole_close(ctx);
    sh("ln -s loop.pem '%s/loop.pem'", d);
    refused("loop.pem", "symbolic links", "ca-dir=cas");
    sh("rm '%s/loop.pem' && mkfifo '%s/pipe.crt'", d, d);
    refused("pipe.crt", "not a regular file", "ca-dir=cas");
    sh("rm '%s/pipe.crt' && ln -s pipe '%s/0123abcd.0'", d, d);
    refused("0123abcd.0", "not a regular file", "ca-dir=cas");
}
END_TEST

/* ---- the command --------------------------------------------------------- */

static int cli(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int cli(char **out, const char *fmt, ...)
{
    va_list ap;
    char *args = NULL;
    va_start(ap, fmt);
    ck_assert_int_ge(vasprintf(&args, fmt, ap), 0);
    va_end(ap);
    char *cmd = tu_strf("'%s' %s 2>&1", tu_build("certrole"), args);
    int st = tu_run(cmd, out);
    ck_assert_ptr_nonnull(*out);
    free(cmd);
    free(args);
    return st;
}

/* openssl's own SHA-256 fingerprint of a PKI file, lower hex. */
static char *fingerprint(const char *pki_name)
{
    char *out = NULL, *cmd = tu_strf("\"$OPENSSL\" x509 -in '%s' -noout -fingerprint -sha256 | "
                                     "sed 's/.*=//; s/://g' | tr A-F a-f | tr -d '\\n'",
                                     tu_pki(pki_name));
    ck_assert_int_eq(tu_run(cmd, &out), 0);
    free(cmd);
    return out;
}

START_TEST(cli_trust_list)
{
    char *p12 = export_anchors("ts.p12", "s3cret");
    pwfile("pw", "s3cret\n", 0600);
    char *policy = at("p.policy"), *out = NULL;
    tu_write_file(policy, "trust ca-file=ts.p12 ca-password-file=pw\n");
    ck_assert_int_eq(cli(&out, "trust list --policy '%s'", policy), 0);
    char *fp1 = fingerprint("root-ca.pem"), *fp2 = fingerprint("other-root-ca.pem");
    HAS(out, "CN=Acme Root CA");
    HAS(out, fp1);
    HAS(out, fp2);
    HAS(out, p12);
    HAS(out, "notAfter:");
    HAS(out, "2 trust anchors");
    ck_assert_ptr_null(strstr(out, "EXPIRED"));
    free(out);
    ck_assert_int_eq(cli(&out, "trust list --json --policy '%s'", policy), 0);
    ck_assert_msg(strncmp(out, "{\"ok\":true,", 11) == 0, "%s", out);
    HAS(out, "\"fingerprint_sha256\":\"");
    HAS(out, fp2);
    HAS(out, "\"expired\":false");
    free(out);
    /* A hashed directory: the hash link and the file it names are one. */
    char *text = tu_strf("trust ca-dir=\"%s\"\n", tu_pki("ca-dir"));
    tu_write_file(policy, text);
    ck_assert_int_eq(cli(&out, "trust list --policy '%s'", policy), 0);
    HAS(out, "ca-dir/root-ca.pem");
    HAS(out, "\n1 trust anchor\n");
    free(out);
    free(text);
    /* An expired anchor is marked. */
    text = tu_strf("trust ca-file=\"%s\"\n", tu_pki("expired.pem"));
    tu_write_file(policy, text);
    ck_assert_int_eq(cli(&out, "trust list --policy '%s'", policy), 0);
    HAS(out, "EXPIRED");
    free(out);
    /* A policy that does not load: its error at file:line:column, status 2. */
    tu_write_file(policy, "# truststore\ntrust ca-file=ts.p12\n");
    ck_assert_int_eq(cli(&out, "trust list --policy '%s'", policy), 2);
    HAS(out, "p.policy:2:");
    HAS(out, "MAC verification failed");
    free(out);
    ck_assert_int_eq(cli(&out, "trust list --json --policy '%s'", policy), 2);
    ck_assert_msg(strncmp(out, "{\"ok\":false,\"code\":\"policy_error\"", 33) == 0, "%s", out);
    free(out);
    ck_assert_int_eq(cli(&out, "trust list"), 2);
    free(out);
    free(text);
    free(fp1);
    free(fp2);
}
END_TEST

START_TEST(cli_check_and_verify_with_p12)
{
    char *p12 = export_anchors("ts.p12", "s3cret"), *pw = pwfile("pw", "s3cret\n", 0600);
    char *policy = at("p.policy"), *out = NULL;
    tu_write_file(policy, "trust ca-file=ts.p12 ca-password-file=pw\n");
    ck_assert_int_eq(cli(&out, "check --policy '%s' '%s'", policy, tu_pki("client-chain.pem")), 0);
    free(out);
    ck_assert_int_eq(cli(&out, "check --policy '%s' '%s'", policy, tu_pki("selfsigned.pem")), 1);
    free(out);
    ck_assert_int_eq(cli(&out, "verify --ca-file '%s' --trust ca-password-file='%s' '%s'", p12, pw,
                         tu_pki("client-chain.pem")), 0);
    free(out);
    ck_assert_int_eq(cli(&out, "verify --ca-file '%s' '%s'", p12, tu_pki("client-chain.pem")), 2);
    HAS(out, "MAC verification failed");
    free(out);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("truststores");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, p12_truststore_verifies_and_refuses);
    tcase_add_test(tc, p12_wrong_password_is_named);
    tcase_add_test(tc, p12_password_file_crlf_and_empty);
    tcase_add_test(tc, p12_password_file_misuse);
    tcase_add_test(tc, p12_with_a_key_entry);
    tcase_add_test(tc, p12_java_trusted_entries);
    tcase_add_test(tc, p12_mac_over_garbage);
    tcase_add_test(tc, p12_truncated_or_trailing);
    tcase_add_test(tc, ca_dir_plain_files);
    tcase_add_test(tc, ca_dir_without_certificates);
    tcase_add_test(tc, ca_dir_change_is_noticed);
    tcase_add_test(tc, ca_dir_loops_and_fifos);
    tcase_add_test(tc, cli_trust_list);
    tcase_add_test(tc, cli_check_and_verify_with_p12);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(suite());
}
