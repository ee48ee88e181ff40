/* The realm stack: PAM-style controls interpreted here and only here. */
#ifndef CR_STACK_H
#define CR_STACK_H
#include "certrole.h"
#include "certrole_realm.h"

enum cr_control { CR_REQUIRED, CR_REQUISITE, CR_SUFFICIENT, CR_OPTIONAL };

struct cr_stack;  /* opaque; built by config.c from the policy */

/* What the stack decided (strings/arrays malloc'd; cr_stack_outcome_clear). */
struct cr_stack_outcome {
    certrole_code code;     /* OK, UNKNOWN_IDENTITY, REALM_UNAVAILABLE, REALM_REFUSED */
    char *user;             /* first realm that set a user */
    char *realm;            /* name of the module that answered (first FOUND) */
    char **roles; size_t n_roles;   /* merged, de-duplicated, in order */
    char *message;          /* why, for denials ("realm ldap: ...") */
};

void cr_stack_outcome_clear(struct cr_stack_outcome *o);

/* Runs the stack. An empty stack (no 'realm' lines) yields OK with no
 * user and no roles: verification only. Thread-safe. */
certrole_code cr_stack_run(const struct cr_stack *s, const certrole_identity *id,
                           struct cr_stack_outcome *out);
size_t cr_stack_size(const struct cr_stack *s);
void cr_stack_free(struct cr_stack *s);
#endif
