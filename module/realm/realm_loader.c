/* Realm plugin loader (see realm_loader.h). */
#define _GNU_SOURCE
#include "realm_loader.h"
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef CERTROLE_REALM_DIR
#define CERTROLE_REALM_DIR "/usr/lib/certrole"
#endif

/* The last CERTROLE_REALM_DIR seen: a server may clear the environment
 * of the workers it forks (nginx does), and a worker rebuilding the
 * configuration on its own (option refresh) must load the modules the
 * master loaded. Written only when the variable changes. */
static char seen_dir[PATH_MAX];
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;

const char *cr_realm_dir(void)
{
    const char *d = secure_getenv("CERTROLE_REALM_DIR");
    pthread_mutex_lock(&seen_lock);
    if (d && *d && strlen(d) < sizeof seen_dir && strcmp(seen_dir, d) != 0)
        snprintf(seen_dir, sizeof seen_dir, "%s", d);
    int have = seen_dir[0] != '\0';
    pthread_mutex_unlock(&seen_lock);
    return d && *d ? d : have ? seen_dir : CERTROLE_REALM_DIR;
}

static int valid_name(const char *n)
{
    if (!*n || strlen(n) > 64)
        return 0;
    for (const char *c = n; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '-'))
            return 0;
    return 1;
}

/* Resolves the file to load into a malloc'd absolute path, or NULL with err. */
static char *resolve(const char *name, const char *dir, char *err, size_t errlen,
                     certrole_code *code)
{
    char *want = NULL;
    *code = CERTROLE_E_POLICY_ERROR;
    if (strchr(name, '/')) {
        want = strdup(name);
    } else if (!valid_name(name)) {
        snprintf(err, errlen, "bad realm module name '%s' (letters a-z, digits, '_' and '-' only)",
                 name);
        return NULL;
    } else if (asprintf(&want, "%s/realm_%s.so", dir, name) < 0) {
        want = NULL;
    }
    if (!want) {
        *code = CERTROLE_E_NO_MEMORY;
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    char *real = realpath(want, NULL);
    if (!real) {
        if (strchr(name, '/'))
            snprintf(err, errlen, "realm module '%s': %s", name, strerror(errno));
        else
            snprintf(err, errlen, "realm module '%s' not found in %s", name, dir);
        free(want);
        return NULL;
    }
    free(want);
    /* Whatever was written, the file must live inside the module
     * directory (after resolving symlinks and ".."). */
    char *rdir = realpath(dir, NULL);
    size_t dl = rdir ? strlen(rdir) : 0;
    if (!rdir || strncmp(real, rdir, dl) != 0 || (real[dl] != '/' && dl != 1)) {
        snprintf(err, errlen, "realm module '%s' is outside the module directory %s", name, dir);
        free(rdir);
        free(real);
        return NULL;
    }
    free(rdir);
    struct stat st;
    if (stat(real, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "realm module '%s': not a regular file", name);
        free(real);
        return NULL;
    }
    return real;
}

certrole_code cr_realm_load(const char *name, struct cr_realm_module **out,
                            char *err, size_t errlen)
{
    certrole_code code;
    *out = NULL;
    const char *dir = cr_realm_dir();
    char *path = resolve(name, dir, err, errlen, &code);
    if (!path)
        return code;
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(err, errlen, "realm module '%s': cannot load %s: %s", name, path,
                 e ? e : "unknown error");
        free(path);
        return CERTROLE_E_POLICY_ERROR;
    }
    const certrole_realm_ops *ops = dlsym(h, "certrole_realm_v1");
    const char *why = NULL;
    char buf[96];
    if (!ops)
        why = "no certrole_realm_v1 symbol (not a certrole realm module)";
    else if (ops->abi_version != CERTROLE_REALM_ABI_VERSION) {
        snprintf(buf, sizeof buf, "ABI version %u, expected %d", ops->abi_version,
                 CERTROLE_REALM_ABI_VERSION);
        why = buf;
    } else if (!ops->open || !ops->lookup || !ops->close)
        why = "ops table lacks open, lookup or close";
    if (why) {
        snprintf(err, errlen, "realm module '%s': %s", name, why);
        dlclose(h);
        free(path);
        return CERTROLE_E_POLICY_ERROR;
    }
    struct cr_realm_module *m = calloc(1, sizeof *m);
    if (!m || !(m->name = strdup(name))) {
        free(m);
        dlclose(h);
        free(path);
        snprintf(err, errlen, "out of memory");
        return CERTROLE_E_NO_MEMORY;
    }
    m->handle = h;
    m->ops = ops;
    m->path = path;
    *out = m;
    return CERTROLE_OK;
}

void cr_realm_unload(struct cr_realm_module *m)
{
    if (!m)
        return;
    if (m->handle)
        dlclose(m->handle);
    free(m->name);
    free(m->path);
    free(m);
}
