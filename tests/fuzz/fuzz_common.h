/* Helpers shared by the fuzz targets (header-only: each target is one
 * translation unit plus the library). A scratch directory holds the
 * files a fuzzed policy may name (ca.pem, crl.pem, users.realm, ...),
 * copied from the test PKI ($CERTROLE_PKI) when it is set, so relative
 * paths in a policy reach the semantic checks, not just "no such file". */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "certrole.h"

static inline void fz_write(const char *dir, const char *name, const char *text)
{
    char *path = NULL;
    if (asprintf(&path, "%s/%s", dir, name) < 0)
        return;
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    free(path);
}

/* Copies $CERTROLE_PKI/src to dir/dst; silently nothing without it. */
static inline void fz_copy_pki(const char *dir, const char *src, const char *dst)
{
    const char *pki = getenv("CERTROLE_PKI");
    char *from = NULL, *to = NULL;
    if (!pki || asprintf(&from, "%s/%s", pki, src) < 0)
        return;
    if (asprintf(&to, "%s/%s", dir, dst) < 0) {
        free(from);
        return;
    }
    FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
    char buf[4096];
    size_t n;
    while (out && (n = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(buf, 1, n, out);
    if (out)
        fclose(out);
    if (in)
        fclose(in);
    free(from);
    free(to);
}

static char *fz_dir;
static const char *const fz_files[] = { "ca.pem", "crl.pem", "int.pem", "users.realm",
                                        "users.xml", "inc.policy" };

static void fz_cleanup(void)
{
    for (size_t i = 0; i < sizeof fz_files / sizeof fz_files[0]; i++) {
        char *path = NULL;
        if (asprintf(&path, "%s/%s", fz_dir, fz_files[i]) >= 0) {
            unlink(path);
            free(path);
        }
    }
    rmdir(fz_dir);
}

/* Makes the scratch directory once; returns its path (never freed: it
 * lives as long as the fuzzing process). */
static inline const char *fz_scratch(void)
{
    if (fz_dir)
        return fz_dir;
    const char *tmp = getenv("TMPDIR");
    char *tmpl = NULL;
    if (asprintf(&tmpl, "%s/certrole-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0)
        abort();
    if (!mkdtemp(tmpl))
        abort();
    fz_dir = tmpl;
    const char *dir = fz_dir;
    atexit(fz_cleanup);
    fz_copy_pki(dir, "ca-file.pem", "ca.pem");
    fz_copy_pki(dir, "crl.pem", "crl.pem");
    fz_copy_pki(dir, "int-ca.pem", "int.pem");
    fz_write(dir, "users.realm",
             "\"CN=CRMApplication,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US\" "
             "invoice-readonly user=crm\n");
    fz_write(dir, "users.xml",
             "<tomcat-users><user username=\"CN=a,O=b\" roles=\"r\"/></tomcat-users>\n");
    fz_write(dir, "inc.policy", "option audit=no\n");
    /* No realm plugins in the fuzzer: 'realm' directives fail to load. */
    char *realms = NULL;
    if (asprintf(&realms, "%s/realms", dir) >= 0) {
        setenv("CERTROLE_REALM_DIR", realms, 1);
        free(realms);
    }
    return fz_dir;
}

/* The log sink: decisions and warnings are not interesting here. */
static inline void fz_quiet(void *u, certrole_log_level l, const char *line)
{
    (void)u;
    (void)l;
    (void)line;
}
#endif
