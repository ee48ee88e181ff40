/* Helpers shared by the input suites (input_util.h). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include "input_util.h"

certrole_ctx *ctx;

void setup(void)
{
    char *err = NULL;
    char *pol = tu_strf("trust ca-file=\"%s\"\n", tu_pki("ca-file.pem"));
    certrole_code rc = certrole_open_string(&ctx, pol, NULL, &err);
    ck_assert_msg(rc == CERTROLE_OK, "policy: %s", err ? err : "?");
    free(pol);
}

void teardown(void)
{
    certrole_close(ctx);
    ctx = NULL;
}

char *pki(const char *name, size_t *len)
{
    char *d = tu_read_file(tu_pki(name), len);
    ck_assert_msg(d != NULL, "cannot read %s", tu_pki(name));
    return d;
}

certrole_result *expect(const void *data, size_t len, certrole_format fmt,
                        const char *pw, certrole_code want, const char *fragment)
{
    certrole_result *res = NULL;
    certrole_code rc = certrole_verify_data(ctx, data, len, fmt, pw, &res);
    ck_assert_ptr_nonnull(res);
    ck_assert_msg(rc == want && certrole_result_code(res) == want,
                  "got %s (%s), want %s", certrole_code_name(rc),
                  certrole_result_message(res), certrole_code_name(want));
    if (fragment)
        ck_assert_msg(strstr(certrole_result_message(res), fragment) != NULL,
                      "message '%s' lacks '%s'", certrole_result_message(res), fragment);
    if (want != CERTROLE_OK) {
        const char *hint = certrole_result_hint(res);
        ck_assert_msg(hint && *hint, "no hint for %s", certrole_code_name(want));
    }
    return res;
}
