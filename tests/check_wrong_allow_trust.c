/* Trust loading that once allowed what it should not: a CRL loaded and
 * never consulted, policy OIDs loaded and never required, a FIFO that
 * hangs load and reload, anchor files in DER or PKCS#7 refused with an
 * internal name in the message. Library and command line alike. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <certrole.h>
#include "testutil.h"

#define HAS(out, s) ck_assert_msg(strstr((out), (s)) != NULL, "'%s' lacks '%s'", (out), (s))
#define LACKS(out, s) ck_assert_msg(strstr((out), (s)) == NULL, "'%s' has '%s'", (out), (s))
/* A hang (a FIFO read) must fail the test, not block it. */
#define PROMPTLY 10

static char *dir;

static void setup(void)
{
    dir = tu_mkdtemp("wrongallow");
}

static void teardown(void)
{
    alarm(0);
    tu_rmrf(dir);
    free(dir);
}

static char *path(const char *name)
{
    return tu_strf("%s/%s", dir, name);
}

static void copy_pki(const char *from, const char *to)
{
    char *text = tu_read_file(tu_pki(from), NULL), *p = path(to);
    ck_assert_ptr_nonnull(text);
    tu_write_file(p, text);
    free(text);
    free(p);
}

/* Runs "$OPENSSL ARGS" in dir (ARGS shell-quoted by the caller). */
static void openssl(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void openssl(const char *fmt, ...)
{
    va_list ap;
    char *args = NULL, *out = NULL;
    va_start(ap, fmt);
    ck_assert_int_ge(vasprintf(&args, fmt, ap), 0);
    va_end(ap);
    char *cmd = tu_strf("cd '%s' && '%s' %s", dir, tu_env("OPENSSL", "openssl"), args);
    int st = tu_run(cmd, &out);
    ck_assert_msg(st == 0, "%s: %s", cmd, out ? out : "");
    free(out);
    free(cmd);
    free(args);
}

/* Runs "certrole ARGS"; stdout and stderr in *out. */
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

/* Writes dir/p.policy and opens it. */
static certrole_code open_policy(certrole_ctx **ctx, char **err, const char *text)
{
    char *p = path("p.policy");
    tu_write_file(p, text);
    certrole_code rc = certrole_open(ctx, p, err);
    free(p);
    return rc;
}

static certrole_code verify(certrole_ctx *ctx, const char *pkifile)
{
    size_t len = 0;
    char *pem = tu_read_file(tu_pki(pkifile), &len);
    ck_assert_ptr_nonnull(pem);
    certrole_result *res = NULL;
    certrole_code rc = certrole_verify_pem(ctx, pem, len, &res);
    ck_assert_ptr_nonnull(res);
    certrole_result_free(res);
    free(pem);
    return rc;
}

/* Opens text (must succeed), returns the code for pkifile. */
static certrole_code verify_under(const char *text, const char *pkifile)
{
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    ck_assert_msg(open_policy(&ctx, &err, text) == CERTROLE_OK, "%s: %s", text, err);
    certrole_code rc = verify(ctx, pkifile);
    certrole_close(ctx);
    return rc;
}

/* ----- 1. a CRL source turns revocation checking on -------------------- */

START_TEST(crl_file_without_crl_check_checks_the_leaf)
{
    char *t = tu_strf("trust ca-file=\"%s\" crl-file=\"%s\"\n", tu_pki("ca-file.pem"),
                      tu_pki("crl-int.pem"));
    ck_assert_int_eq(verify_under(t, "revoked-chain.pem"), CERTROLE_E_REVOKED);
    ck_assert_int_eq(verify_under(t, "client-chain.pem"), CERTROLE_OK);
    free(t);
}
END_TEST

START_TEST(crls_inside_the_ca_file_are_consulted)
{
    char *ca = path("bundle.pem");
    char *a = tu_read_file(tu_pki("ca-file.pem"), NULL), *b = tu_read_file(tu_pki("crl.pem"), NULL);
    char *both = tu_strf("%s%s", a, b);
    tu_write_file(ca, both);
    char *t = tu_strf("trust ca-file=\"%s\"\n", ca);
    ck_assert_int_eq(verify_under(t, "revoked-chain.pem"), CERTROLE_E_REVOKED);
    ck_assert_int_eq(verify_under(t, "client-chain.pem"), CERTROLE_OK);
    free(t); free(both); free(a); free(b); free(ca);
}
END_TEST

START_TEST(hashed_crls_in_the_ca_dir_are_consulted)
{
    char *cadir = path("cas");
    ck_assert_int_eq(mkdir(cadir, 0700), 0);
    copy_pki("root-ca.pem", "cas/root-ca.pem");
    openssl("rehash cas");
    /* The issuing CA's CRL under the name 'openssl rehash' gives CRLs. */
    FILE *f = fopen(tu_pki("crl-int.pem"), "r");
    ck_assert_ptr_nonnull(f);
    X509_CRL *crl = PEM_read_X509_CRL(f, NULL, NULL, NULL);
    fclose(f);
    ck_assert_ptr_nonnull(crl);
    char *name = tu_strf("%s/%08lx.r0", cadir,
                         X509_NAME_hash_ex(X509_CRL_get_issuer(crl), NULL, NULL, NULL));
    X509_CRL_free(crl);
    char *text = tu_read_file(tu_pki("crl-int.pem"), NULL);
    tu_write_file(name, text);
    char *t = tu_strf("trust ca-dir=\"%s\"\n", cadir);
    ck_assert_int_eq(verify_under(t, "revoked-chain.pem"), CERTROLE_E_REVOKED);
    ck_assert_int_eq(verify_under(t, "client-chain.pem"), CERTROLE_OK);
    free(t); free(text); free(name); free(cadir);
}
END_TEST

struct capture { char buf[4096]; };

static void capture_log(void *ud, certrole_log_level level, const char *line)
{
    struct capture *c = ud;
    if (level == CERTROLE_LOG_WARNING)
        strncat(c->buf, line, sizeof c->buf - strlen(c->buf) - 1);
}

/* Loads text and returns the warnings the load logged. */
static char *load_warnings(const char *text)
{
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    ck_assert_msg(open_policy(&ctx, &err, text) == CERTROLE_OK, "%s", err);
    struct capture c = { "" };
    certrole_set_log(ctx, capture_log, &c);
    ck_assert_int_eq(certrole_reload(ctx, NULL), CERTROLE_OK);
    certrole_close(ctx);
    return strdup(c.buf);
}

START_TEST(crl_check_none_next_to_a_crl_is_a_warning)
{
    char *t = tu_strf("trust ca-file=\"%s\" crl-file=\"%s\" crl-check=none\n",
                      tu_pki("ca-file.pem"), tu_pki("crl-int.pem"));
    /* Said outright, so honoured; but never silently. */
    ck_assert_int_eq(verify_under(t, "revoked-chain.pem"), CERTROLE_OK);
    char *w = load_warnings(t);
    HAS(w, "p.policy:1:");
    HAS(w, "crl-check=none");
    HAS(w, "loaded but not consulted");
    free(w);
    char *p = path("p.policy"), *out = NULL;
    ck_assert_int_eq(cli(&out, "policy-check '%s'", p), 0);
    HAS(out, "warning:");
    HAS(out, "loaded but not consulted");
    HAS(out, "OK: ");
    free(out);
    free(t);
    /* Without crl-check=none there is nothing to warn about. */
    t = tu_strf("trust ca-file=\"%s\" crl-file=\"%s\"\n", tu_pki("ca-file.pem"),
                tu_pki("crl-int.pem"));
    w = load_warnings(t);
    ck_assert_str_eq(w, "");
    ck_assert_int_eq(cli(&out, "policy-check '%s'", p), 0);
    LACKS(out, "warning");
    free(out); free(w); free(t); free(p);
}
END_TEST

START_TEST(policy_oids_are_required_by_default)
{
    char *t = tu_strf("trust ca-file=\"%s\" policy=1.3.6.1.4.1.99999.1\n", tu_pki("ca-file.pem"));
    ck_assert_int_eq(verify_under(t, "client-chain.pem"), CERTROLE_E_CHAIN_INVALID);
    free(t);
    t = tu_strf("trust ca-file=\"%s\" policy=1.3.6.1.4.1.99999.1 explicit-policy=no\n",
                tu_pki("ca-file.pem"));
    ck_assert_int_eq(verify_under(t, "client-chain.pem"), CERTROLE_OK);
    char *w = load_warnings(t);
    HAS(w, "explicit-policy=no");
    HAS(w, "not required");
    free(w);
    free(t);
}
END_TEST

START_TEST(cli_verify_check_and_policy_check_agree_on_revocation)
{
    char *out = NULL;
    /* A CRL given as --trust crl-file=, like a policy's crl-file=. */
    ck_assert_int_eq(cli(&out, "verify --ca-file '%s' --trust 'crl-file=%s' '%s'",
                         tu_pki("ca-file.pem"), tu_pki("crl-int.pem"),
                         tu_pki("revoked-chain.pem")), 1);
    HAS(out, "revoked");
    free(out);
    ck_assert_int_eq(cli(&out, "verify --ca-file '%s' --crl-file '%s' '%s'",
                         tu_pki("ca-file.pem"), tu_pki("crl-int.pem"),
                         tu_pki("revoked-chain.pem")), 1);
    free(out);
    char *p = path("p.policy");
    char *t = tu_strf("trust ca-file=\"%s\" crl-file=\"%s\"\n", tu_pki("ca-file.pem"),
                      tu_pki("crl-int.pem"));
    tu_write_file(p, t);
    ck_assert_int_eq(cli(&out, "check --policy '%s' '%s'", p, tu_pki("revoked-chain.pem")), 1);
    HAS(out, "decision: deny");
    HAS(out, "code: revoked");
    free(out);
    ck_assert_int_eq(cli(&out, "check --policy '%s' '%s'", p, tu_pki("client-chain.pem")), 0);
    free(out);
    free(t);
    free(p);
}
END_TEST

/* ----- 2. only regular files are read ------------------------------------ */

/* The policy for each place a file is named, with NAME as that file. */
static char *policy_naming(int kind, const char *name)
{
    const char *ca = tu_pki("ca-file.pem");
    switch (kind) {
    case 0: return tu_strf("trust ca-file=\"%s\"\ninclude %s\n", ca, name);
    case 1: return tu_strf("trust ca-file=%s\n", name);
    case 2: return tu_strf("trust ca-file=\"%s\" crl-file=%s\n", ca, name);
    case 3: return tu_strf("trust ca-file=\"%s\"\nrealm required file path=%s\n", ca, name);
    default:
        return tu_strf("trust ca-file=\"%s\"\nrealm required file path=%s format=tomcat\n",
                       ca, name);
    }
}

/* What a regular NAME holds for each kind. */
static void write_regular(int kind, const char *p)
{
    static const char *const pki[] = { NULL, "ca-file.pem", "crl.pem" };
    if (kind == 0) {
        tu_write_file(p, "option cache-ttl=0\n");
    } else if (kind <= 2) {
        char *text = tu_read_file(tu_pki(pki[kind]), NULL);
        tu_write_file(p, text);
        free(text);
    } else if (kind == 3) {
        tu_write_file(p, "\"CN=CRMApplication, OU=Sales, O=Acme Corp, L=San Francisco, "
                         "ST=CA, C=US\" invoice-readonly\n");
    } else {
        tu_write_file(p, "<tomcat-users><user username=\"CN=CRMApplication, OU=Sales, "
                         "O=Acme Corp, L=San Francisco, ST=CA, C=US\" roles=\"r\"/>"
                         "</tomcat-users>\n");
    }
}

START_TEST(fifo_is_refused_at_open)
{
    alarm(PROMPTLY);
    char *fifo = path("named");
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    char *t = policy_naming(_i, "named");
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    ck_assert_int_ne(open_policy(&ctx, &err, t), CERTROLE_OK);
    ck_assert_ptr_null(ctx);
    ck_assert_ptr_nonnull(err);
    HAS(err, "not a regular file");
    HAS(err, "FIFO");
    HAS(err, fifo);
    HAS(err, "p.policy:");   /* file:line:column of the directive */
    certrole_free(err);
    if (_i == 0) {   /* the policy itself */
        ck_assert_int_ne(certrole_open(&ctx, fifo, &err), CERTROLE_OK);
        HAS(err, "not a regular file");
        certrole_free(err);
    }
    free(t);
    free(fifo);
}
END_TEST

START_TEST(fifo_swapped_in_keeps_the_old_configuration)
{
    alarm(PROMPTLY);
    char *file = path("named");
    write_regular(_i, file);
    char *t = policy_naming(_i, "named");
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    ck_assert_msg(open_policy(&ctx, &err, t) == CERTROLE_OK, "%s", err);
    ck_assert_int_eq(verify(ctx, "client-chain.pem"), CERTROLE_OK);
    ck_assert_int_eq(unlink(file), 0);
    ck_assert_int_eq(mkfifo(file, 0600), 0);
    int reloaded = -1;
    ck_assert_int_ne(certrole_reload_if_changed(ctx, &reloaded, &err), CERTROLE_OK);
    ck_assert_int_eq(reloaded, 0);
    HAS(err, "not a regular file");
    certrole_free(err);
    ck_assert_int_ne(certrole_reload(ctx, NULL), CERTROLE_OK);
    ck_assert_int_eq(verify(ctx, "client-chain.pem"), CERTROLE_OK);
    certrole_close(ctx);
    free(t);
    free(file);
}
END_TEST

/* ca-dir entries are opened by OpenSSL while verifying: a FIFO under an
 * anchor's hash name would hang a verification, so the load refuses it. */
START_TEST(fifo_in_the_ca_dir_is_refused)
{
    alarm(PROMPTLY);
    char *cadir = path("cas");
    ck_assert_int_eq(mkdir(cadir, 0700), 0);
    copy_pki("root-ca.pem", "cas/root-ca.pem");
    openssl("rehash cas");
    char *t = tu_strf("trust ca-dir=cas\n");
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    ck_assert_msg(open_policy(&ctx, &err, t) == CERTROLE_OK, "%s", err);
    ck_assert_int_eq(verify(ctx, "client-chain.pem"), CERTROLE_OK);
    FILE *f = fopen(tu_pki("root-ca.pem"), "r");
    ck_assert_ptr_nonnull(f);
    X509 *root = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    ck_assert_ptr_nonnull(root);
    char *fifo = tu_strf("%s/%08lx.1", cadir,
                         X509_NAME_hash_ex(X509_get_subject_name(root), NULL, NULL, NULL));
    X509_free(root);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    ck_assert_int_ne(certrole_reload(ctx, &err), CERTROLE_OK);
    HAS(err, "not a regular file");
    HAS(err, "FIFO");
    certrole_free(err);
    ck_assert_int_eq(verify(ctx, "client-chain.pem"), CERTROLE_OK);
    certrole_close(ctx);
    ck_assert_int_ne(open_policy(&ctx, &err, t), CERTROLE_OK);
    HAS(err, "p.policy:1:");
    certrole_free(err);
    free(fifo); free(t); free(cadir);
}
END_TEST

/* ----- 3. anchors in DER and PKCS#7; messages name the real file ---------- */

START_TEST(der_and_pkcs7_anchors_verify)
{
    const char *root = tu_pki("root-ca.pem");
    openssl("x509 -in '%s' -outform DER -out root.der", root);
    openssl("crl2pkcs7 -nocrl -certfile '%s' -outform DER -out root-der.p7b", root);
    openssl("crl2pkcs7 -nocrl -certfile '%s' -out root-pem.p7b", root);
    openssl("crl -in '%s' -outform DER -out int.crl", tu_pki("crl-int.pem"));
    static const char *const anchors[] = { "root.der", "root-der.p7b", "root-pem.p7b" };
    for (size_t i = 0; i < 3; i++) {
        char *t = tu_strf("trust ca-file=%s\n", anchors[i]);
        ck_assert_msg(verify_under(t, "client-chain.pem") == CERTROLE_OK, "%s", anchors[i]);
        free(t);
        t = tu_strf("trust ca-file=%s crl-file=int.crl\n", anchors[i]);
        ck_assert_int_eq(verify_under(t, "revoked-chain.pem"), CERTROLE_E_REVOKED);
        free(t);
    }
    char *out = NULL, *der = path("root.der");
    ck_assert_int_eq(cli(&out, "verify --ca-file '%s' '%s'", der, tu_pki("client-chain.pem")), 0);
    free(out);
    free(der);
}
END_TEST

START_TEST(garbage_anchor_message_names_the_file)
{
    char *bad = path("garbage.pem");
    tu_write_file(bad, "this is not a certificate\n");
    char *t = tu_strf("trust ca-file=\"%s\"\n", bad);
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    ck_assert_int_ne(certrole_open_string(&ctx, t, NULL, &err), CERTROLE_OK);
    HAS(err, bad);
    HAS(err, "policy text:1:");
    LACKS(err, "<string>");
    certrole_free(err);
    ck_assert_int_ne(certrole_open_string(&ctx, "realm required x\n", NULL, &err), CERTROLE_OK);
    LACKS(err, "<string>");
    certrole_free(err);
    char *out = NULL;
    ck_assert_int_eq(cli(&out, "verify --ca-file '%s' '%s'", bad, tu_pki("client-chain.pem")), 2);
    HAS(out, bad);
    LACKS(out, "<string>");
    free(out);
    free(t);
    free(bad);
}
END_TEST

static Suite *wrong_allow_trust_suite(void)
{
    Suite *s = suite_create("wrong_allow_trust");
    TCase *tc = tcase_create("revocation");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, crl_file_without_crl_check_checks_the_leaf);
    tcase_add_test(tc, crls_inside_the_ca_file_are_consulted);
    tcase_add_test(tc, hashed_crls_in_the_ca_dir_are_consulted);
    tcase_add_test(tc, crl_check_none_next_to_a_crl_is_a_warning);
    tcase_add_test(tc, policy_oids_are_required_by_default);
    tcase_add_test(tc, cli_verify_check_and_policy_check_agree_on_revocation);
    suite_add_tcase(s, tc);
    tc = tcase_create("regular_files");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    /* include, ca-file, crl-file, file realm, tomcat realm */
    tcase_add_loop_test(tc, fifo_is_refused_at_open, 0, 5);
    tcase_add_loop_test(tc, fifo_swapped_in_keeps_the_old_configuration, 0, 5);
    tcase_add_test(tc, fifo_in_the_ca_dir_is_refused);
    suite_add_tcase(s, tc);
    tc = tcase_create("anchors");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, der_and_pkcs7_anchors_verify);
    tcase_add_test(tc, garbage_anchor_message_names_the_file);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(wrong_allow_trust_suite());
}
