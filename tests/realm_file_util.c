/* Helpers shared by the file realm suites (check_realm_file_*.c): a
 * sample tomcat-users.xml, and the end-to-end fixture that writes a realm
 * file and a policy using it into a temporary directory, opens it, and
 * checks what real certificates from the test PKI map to. */
#define _GNU_SOURCE
#include "realm_file_util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "file_parse.h"

char *rf_dir;
char *rf_both_cas;

const char TOMCAT_GOOD[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<tomcat-users xmlns=\"http://tomcat.apache.org/xml\" version=\"1.0\">\n"
    "  <role rolename=\"invoice-readonly\"/>\n"
    "  <group groupname=\"auditors\" roles=\"audit, report\"/>\n"
    "  <user username=\"" CRM_DN "\" roles=\"invoice-readonly,invoice-admin\"/>\n"
    "  <user username=\"admin\" password=\"s3cret\" roles=\"manager-gui\"/>\n"
    "  <user name=\"CN=Guest User,OU=Marketing,O=Acme Corp,L=San Francisco,ST=CA,C=US\"\n"
    "        roles=\"\" groups=\"auditors\"/>\n"
    "</tomcat-users>\n";

void e2e_setup(void)
{
    rf_dir = tu_mkdtemp("realmfile");
    char *a = tu_read_file(tu_pki("ca-file.pem"), NULL);
    char *b = tu_read_file(tu_pki("other-root-ca.pem"), NULL);
    ck_assert(a && b);
    rf_both_cas = tu_strf("%s/both.pem", rf_dir);
    char *t = tu_strf("%s%s", a, b);
    tu_write_file(rf_both_cas, t);
    free(a);
    free(b);
    free(t);
}

void e2e_teardown(void)
{
    tu_rmrf(rf_dir);
    free(rf_dir);
    free(rf_both_cas);
    rf_dir = rf_both_cas = NULL;
}

/* Writes the realm file (relative name users.realm) and a policy using
 * it with args, and opens it. Returns the context, or NULL with *err. */
certrole_ctx *open_realm_file(const char *fname, const char *content, const char *args,
                                     char **err)
{
    char *rp = tu_strf("%s/%s", rf_dir, fname);
    tu_write_file(rp, content);
    free(rp);
    char *pol = tu_strf("trust ca-file=%s\nrealm required file path=%s %s\n", rf_both_cas, fname,
                        args ? args : "");
    char *name = tu_strf("%s/test.policy", rf_dir);
    certrole_ctx *ctx = NULL;
    *err = NULL;
    certrole_code rc = certrole_open_string(&ctx, pol, name, err);
    if (rc != CERTROLE_OK)
        ctx = NULL;
    free(pol);
    free(name);
    return ctx;
}

certrole_ctx *open_realm(const char *content, const char *args)
{
    char *err = NULL;
    certrole_ctx *ctx = open_realm_file("users.realm", content, args, &err);
    ck_assert_msg(ctx != NULL, "open failed: %s", err ? err : "?");
    return ctx;
}

/* Asserts the realm file fails to open with a message containing want. */
void realm_error(const char *content, const char *args, const char *want)
{
    char *err = NULL;
    certrole_ctx *ctx = open_realm_file("users.realm", content, args, &err);
    ck_assert_msg(ctx == NULL, "opened, but want error '%s'", want);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, want) != NULL, "want '%s'\n got '%s'", want, err);
    certrole_free(err);
}

certrole_result *verify(certrole_ctx *ctx, const char *pemfile)
{
    size_t len = 0;
    char *pem = tu_read_file(tu_pki(pemfile), &len);
    ck_assert_ptr_nonnull(pem);
    certrole_result *res = NULL;
    certrole_verify_pem(ctx, pem, len, &res);
    free(pem);
    ck_assert_ptr_nonnull(res);
    return res;
}

/* Verifies pemfile; asserts the code, and (when allowed) user and roles
 * (roles: comma-separated, exactly those). */
void expect(certrole_ctx *ctx, const char *pemfile, certrole_code code, const char *user,
                   const char *roles)
{
    certrole_result *res = verify(ctx, pemfile);
    ck_assert_msg(certrole_result_code(res) == code, "%s: code %s (%s), want %s", pemfile,
                  certrole_code_name(certrole_result_code(res)), certrole_result_message(res),
                  certrole_code_name(code));
    if (code == CERTROLE_OK) {
        ck_assert_str_eq(certrole_result_user(res), user);
        ck_assert_str_eq(certrole_result_realm(res), "file");
        size_t n = 0;
        const char *r;
        size_t rl, pos = 0;
        while (cr_frole_next(roles, strlen(roles), &pos, &r, &rl)) {
            char *one = tu_strf("%.*s", (int)rl, r);
            ck_assert_msg(certrole_result_has_role(res, one), "%s lacks role %s", pemfile, one);
            free(one);
            n++;
        }
        ck_assert_uint_eq(certrole_result_role_count(res), n);
    } else {
        ck_assert_uint_eq(certrole_result_role_count(res), 0);
    }
    certrole_result_free(res);
}
