/* Helpers for the hostile-input suites (hostile_util.h). */
#define _GNU_SOURCE
#include "hostile_util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include "testutil.h"

static char *dir;

void hx_prepare(void)
{
    if (dir)
        return;
    dir = tu_mkdtemp("hostile");
    char *out = NULL;
    char *cmd = tu_strf("OPENSSL='%s' sh '%s' '%s' '%s'", tu_env("OPENSSL", "openssl"),
                        tu_src("tests/pki/mkhostile.sh"), tu_env("CERTROLE_PKI", "tests/pki-out"),
                        dir);
    int rc = tu_run(cmd, &out);
    ck_assert_msg(rc == 0, "%s failed (%d): %s", cmd, rc, out ? out : "");
    free(out);
    free(cmd);
    /* The suites need the file, ldap and test realms in one module
     * directory; copies, since the loader refuses symlinks that leave it. */
    const char *libs = tu_env("CERTROLE_REALM_DIR", tu_build(".libs"));
    cmd = tu_strf("mkdir '%s/mods' && cp '%s/realm_file.so' '%s/realm_ldap.so' '%s' '%s/mods/'",
                  dir, libs, libs, tu_build("tests/.libs/realm_test.so"), dir);
    out = NULL;
    rc = tu_run(cmd, &out);
    ck_assert_msg(rc == 0, "%s failed (%d): %s", cmd, rc, out ? out : "");
    free(out);
    free(cmd);
}

void hx_cleanup(void)
{
    if (!dir)
        return;
    /* After the suite: no ck_* calls here (tu_rmrf would make some). */
    if (!getenv("CERTROLE_KEEP_TMP") && strstr(dir, "/certrole-hostile")) {
        char *cmd = NULL;
        if (asprintf(&cmd, "rm -rf '%s'", dir) >= 0 && system(cmd) != 0) { /* best effort */ }
        free(cmd);
    }
    free(dir);
    dir = NULL;
}

const char *hx_dir(void) { return dir; }

static __thread char pool[8][4096];
static __thread unsigned pool_next;

const char *hx(const char *name)
{
    char *p = pool[pool_next++ % 8];
    snprintf(p, sizeof pool[0], "%s/%s", dir, name);
    return p;
}

certrole_ctx *hx_open(const char *text)
{
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    const char *name = hx("hostile.policy");
    certrole_code rc = certrole_open_string(&ctx, text, name, &err);
    ck_assert_msg(rc == CERTROLE_OK, "policy refused: %s\n%s", err ? err : "?", text);
    return ctx;
}

void hx_open_fails(const char *text, certrole_code want_code, const char *want_msg)
{
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    certrole_code rc = certrole_open_string(&ctx, text, hx("hostile.policy"), &err);
    if (ctx)
        certrole_close(ctx);
    ck_assert_msg(rc == want_code, "open gave %s (%s), expected %s", certrole_code_name(rc),
                  err ? err : "", certrole_code_name(want_code));
    ck_assert_ptr_null(ctx);
    ck_assert_msg(err && strstr(err, want_msg), "error \"%s\" lacks \"%s\"", err ? err : "(null)",
                  want_msg);
    certrole_free(err);
}

certrole_result *hx_verify(certrole_ctx *ctx, const char *pem_path)
{
    size_t len = 0;
    char *pem = tu_read_file(pem_path, &len);
    ck_assert_msg(pem != NULL, "cannot read %s", pem_path);
    certrole_result *res = NULL;
    certrole_code rc = certrole_verify_pem(ctx, pem, len, &res);
    free(pem);
    ck_assert_ptr_nonnull(res);
    ck_assert_int_eq(rc, certrole_result_code(res));
    return res;
}

void hx_denied(certrole_ctx *ctx, const char *pem_path, certrole_code want)
{
    certrole_result *res = hx_verify(ctx, pem_path);
    certrole_code got = certrole_result_code(res);
    ck_assert_msg(got == want, "%s: %s (%s), expected %s", pem_path, certrole_code_name(got),
                  certrole_result_message(res), certrole_code_name(want));
    ck_assert_msg(!certrole_result_allowed(res), "%s allowed", pem_path);
    ck_assert_ptr_null(certrole_result_user(res));
    ck_assert_uint_eq(certrole_result_role_count(res), 0);
    ck_assert_int_ne(certrole_authorize(ctx, res, "GET", "/"), CERTROLE_OK);
    certrole_result_free(res);
}

const char *hx_sha256(const char *pem_path)
{
    static char hex[65];
    FILE *f = fopen(pem_path, "r");
    ck_assert_ptr_nonnull(f);
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    ck_assert_ptr_nonnull(x);
    unsigned char md[32];
    unsigned n = 0;
    ck_assert(X509_digest(x, EVP_sha256(), md, &n) == 1 && n == 32);
    X509_free(x);
    for (unsigned i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return hex;
}
