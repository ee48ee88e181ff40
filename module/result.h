/* The result handle: decision, identity, realm outcome. */
#ifndef CR_RESULT_H
#define CR_RESULT_H
#include "certrole.h"
#include "identity.h"
#include "config.h"

struct certrole_result {
    certrole_code code;
    char *message;               /* never NULL once built */
    char *hint;                  /* "" when allowed */
    struct certrole_identity id; /* fields NULL when no leaf decoded */
    int have_id;
    int depth;
    char *user, *realm;
    char **roles; size_t n_roles;
    int cached;
    struct cr_config *cfg;       /* reference: the configuration that decided */
};

/* New zeroed result holding a reference on cfg (may be NULL). */
certrole_result *cr_result_new(struct cr_config *cfg);
/* Sets code/message/hint (copies; NULL message = certrole_strerror). */
void cr_result_set(certrole_result *r, certrole_code code, const char *message,
                   const char *hint);
/* Deep copy (used by the cache); NULL on no memory. */
certrole_result *cr_result_dup(const certrole_result *r);
#endif
