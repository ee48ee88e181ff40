/* A program built against the INSTALLED library only, with the flags
 * 'pkg-config --cflags --libs certrole' gives: proves the headers, the
 * shared library, certrole.pc and the installed realm plugin work
 * together outside the build tree.
 *   use-certrole POLICY PEM-CHAIN EXPECTED-USER EXPECTED-ROLE
 * Exit 0 when the chain is allowed with that user and role, else 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <certrole.h>
#include <certrole_realm.h>

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(1 << 20);
    *len = buf ? fread(buf, 1, 1 << 20, f) : 0;
    fclose(f);
    return buf;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: use-certrole POLICY PEM-CHAIN USER ROLE\n");
        return 2;
    }
    printf("certrole %s (realm SPI %d)\n", certrole_version(), CERTROLE_REALM_ABI_VERSION);
    char *dn = NULL;
    if (certrole_dn_canonical("cn=a, o=b", &dn, NULL) != CERTROLE_OK || strcmp(dn, "CN=a,O=b") != 0) {
        fprintf(stderr, "dn_canonical: %s\n", dn ? dn : "(failed)");
        return 1;
    }
    certrole_free(dn);
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    if (certrole_open(&ctx, argv[1], &err) != CERTROLE_OK) {
        fprintf(stderr, "open: %s\n", err ? err : "?");
        certrole_free(err);
        return 1;
    }
    size_t len = 0;
    char *pem = slurp(argv[2], &len);
    certrole_result *res = NULL;
    certrole_code rc = pem ? certrole_verify_pem(ctx, pem, len, &res) : CERTROLE_E_IO;
    free(pem);
    int ok = rc == CERTROLE_OK && res && certrole_result_user(res) &&
             strcmp(certrole_result_user(res), argv[3]) == 0 &&
             certrole_result_has_role(res, argv[4]) &&
             strcmp(certrole_result_realm(res), "file") == 0;
    printf("%s: %s user=%s realm=%s\n", certrole_code_name(rc),
           res ? certrole_result_subject(res) : "-",
           res && certrole_result_user(res) ? certrole_result_user(res) : "-",
           res && certrole_result_realm(res) ? certrole_result_realm(res) : "-");
    certrole_result_free(res);
    certrole_close(ctx);
    return ok ? 0 : 1;
}
