/* Helpers shared by the chain-validation suites (check_verify_*.c):
 * contexts from policy text, PKI files as X509 stacks, and the shape of
 * a denial a person can act on. */
#define _GNU_SOURCE
#include "verify_util.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/err.h>
#include <openssl/pem.h>

/* Opens a context from policy text; fails the test with the error. */
certrole_ctx *open_policy(const char *text)
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
certrole_ctx *open_acme(const char *extra)
{
    char *p = tu_strf("trust ca-file=\"%s\" crl-file=\"%s\" crl-check=chain %s\n",
                      tu_pki("ca-file.pem"), tu_pki("crl.pem"), extra ? extra : "");
    certrole_ctx *ctx = open_policy(p);
    free(p);
    return ctx;
}

/* Every certificate of a PEM file, in file order. */
STACK_OF(X509) *load_pem(const char *path)
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

X509 *load_one(const char *path)
{
    STACK_OF(X509) *sk = load_pem(path);
    X509 *x = sk_X509_shift(sk);
    sk_X509_pop_free(sk, X509_free);
    return x;
}

/* Verifies the PKI files: the first certificate of files[0] is the leaf;
 * every other certificate (rest of files[0], then the other files) is
 * sent as untrusted, in that order. */
certrole_code verify_files(certrole_ctx *ctx, certrole_result **res,
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
void assert_denied(const certrole_result *res, certrole_code want,
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
void fmt_time(const ASN1_TIME *t, char *buf, size_t len)
{
    struct tm tm;
    ck_assert(ASN1_TIME_to_tm(t, &tm) == 1);
    ck_assert(strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) > 0);
}
