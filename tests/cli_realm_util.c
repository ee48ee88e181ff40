/* Helpers of the 'certrole realm' suites (see cli_realm_util.h). */
#define _GNU_SOURCE
#include "cli_realm_util.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *cr_dir, *realm_path, *policy_path;

void realm_setup(void)
{
    cr_dir = tu_mkdtemp("clirealm");
    realm_path = tu_strf("%s/users.realm", cr_dir);
    policy_path = tu_strf("%s/acme.policy", cr_dir);
    tu_write_file(realm_path, "# Acme users\n\n   # indented comment\n"
                              "\"CN=Someone,O=X\" reader user=someone   # trailing\n");
    char *text = tu_strf("trust ca-file=\"%s\" crl-file=\"%s\" crl-check=chain\n"
                         "realm required file path=users.realm\n",
                         tu_pki("ca-file.pem"), tu_pki("crl.pem"));
    tu_write_file(policy_path, text);
    free(text);
}

void realm_teardown(void)
{
    tu_rmrf(cr_dir);
    free(cr_dir);
    free(realm_path);
    free(policy_path);
}


void realm_is(const char *want)
{
    size_t len = 0;
    char *got = tu_read_file(realm_path, &len);
    ck_assert_ptr_nonnull(got);
    ck_assert_msg(len == strlen(want) && memcmp(got, want, len) == 0,
                  "realm file differs:\n--- want\n%s--- got\n%s", want, got);
    free(got);
}

char *fingerprint(const char *pem)
{
    char *out = NULL, *cmd = tu_strf("'%s' x509 -in '%s' -noout -fingerprint -sha256",
                                     tu_env("OPENSSL", "openssl"), pem);
    ck_assert_int_eq(tu_run(cmd, &out), 0);
    free(cmd);
    const char *p = strchr(out, '=');
    ck_assert_ptr_nonnull(p);
    char *fp = calloc(65, 1);
    size_t n = 0;
    for (p++; *p && n < 64; p++)
        if (*p != ':' && *p != '\n')
            fp[n++] = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
    ck_assert_uint_eq(n, 64);
    free(out);
    return fp;
}

char *make_cert(const char *name, const char *subj, const char *san, const char *serial)
{
    char *path = tu_strf("%s/%s", cr_dir, name);
    char *ext = san ? tu_strf("-addext 'subjectAltName=%s'", san) : tu_strf("%s", "");
    char *out = NULL, *cmd = tu_strf(
        "'%s' req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null"
        " -subj '%s' %s -set_serial %s -days 30 -out '%s'",
        tu_env("OPENSSL", "openssl"), subj, ext, serial, path);
    int st = tu_run(cmd, &out);
    ck_assert_msg(st == 0, "openssl req failed: %s", out ? out : "");
    free(out);
    free(cmd);
    free(ext);
    return path;
}

void expect_allowed(const char *pem, const char *user, const char *roles)
{
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    ck_assert_msg(certrole_open(&ctx, policy_path, &err) == CERTROLE_OK, "open: %s", err);
    size_t len = 0;
    char *data = tu_read_file(pem, &len);
    ck_assert_ptr_nonnull(data);
    certrole_result *res = NULL;
    certrole_code rc = certrole_verify_pem(ctx, data, len, &res);
    ck_assert_msg(rc == CERTROLE_OK, "%s: %s", certrole_code_name(rc),
                  res ? certrole_result_message(res) : "");
    ck_assert_str_eq(certrole_result_user(res), user);
    size_t n = 0;
    for (const char *r = roles; *r; r += strcspn(r, ",") + (r[strcspn(r, ",")] == ',')) {
        char *one = strndup(r, strcspn(r, ","));
        ck_assert_msg(certrole_result_has_role(res, one), "role %s missing", one);
        free(one);
        n++;
    }
    ck_assert_uint_eq(certrole_result_role_count(res), n);
    certrole_result_free(res);
    certrole_close(ctx);
    free(data);
}
