/* Loads realm plugins with dlopen. A module is named in the policy by a
 * bare name ([a-z0-9_-]+) and found as DIR/realm_NAME.so, where DIR is
 * $CERTROLE_REALM_DIR (ignored in setuid programs: secure_getenv) or the
 * installed module directory. A path containing '/' is accepted only if
 * it resolves (realpath) to a file inside DIR: the policy never makes the
 * process map code from an arbitrary place. */
#ifndef CR_REALM_LOADER_H
#define CR_REALM_LOADER_H
#include <stddef.h>
#include "certrole_realm.h"

struct cr_realm_module {
    void *handle;                   /* dlopen handle (dlopen refcounts) */
    const certrole_realm_ops *ops;  /* the module's certrole_realm_v1 */
    char *name;                     /* as written in the policy */
    char *path;                     /* the file actually loaded */
};

/* The module directory in force (never NULL; static or environment). */
const char *cr_realm_dir(void);

/* Loads a module. On failure returns CERTROLE_E_POLICY_ERROR (or
 * NO_MEMORY) with a one-line message in err ("realm module 'x' not found
 * in DIR", "realm module 'x': ABI version 2, expected 1"). */
certrole_code cr_realm_load(const char *name, struct cr_realm_module **out,
                            char *err, size_t errlen);
void cr_realm_unload(struct cr_realm_module *m);
#endif
