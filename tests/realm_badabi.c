/* A realm plugin built for a future ABI: the loader must refuse it with
 * "ABI version 2, expected 1". Test-only. */
#include <stddef.h>
#include "certrole_realm.h"

static int b_open(void **state, int argc, const char *const *argv,
                  const certrole_realm_env *env, char *err, size_t errlen)
{
    (void)argc; (void)argv; (void)env; (void)err; (void)errlen;
    *state = NULL;
    return 0;
}

static certrole_realm_status b_lookup(void *state, const certrole_identity *id,
                                      certrole_answer *ans)
{
    (void)state; (void)id; (void)ans;
    return CERTROLE_REALM_FOUND;   /* must never be reached */
}

static void b_close(void *state)
{
    (void)state;
}

CERTROLE_REALM_EXPORT const certrole_realm_ops certrole_realm_v1 = {
    .abi_version = CERTROLE_REALM_ABI_VERSION + 1,
    .name = "badabi",
    .open = b_open,
    .lookup = b_lookup,
    .close = b_close,
};
