/* The realm stack: PAM-style controls interpreted here and only here.
 * Semantics are Linux-PAM's for its four classic keywords, with a realm's
 * FOUND as PAM_SUCCESS and every other answer as a failure:
 *   required   FOUND=ok    other=bad   (go on, but the stack fails)
 *   requisite  FOUND=ok    other=die   (fail now)
 *   sufficient FOUND=done  other=ignore (succeed now unless a required failed)
 *   optional   FOUND=ok    other=ignore
 * A stack where no realm left a positive impression fails. */
#ifndef CR_STACK_H
#define CR_STACK_H
#include <stddef.h>
#include "certrole.h"
#include "certrole_realm.h"

enum cr_control { CR_REQUIRED, CR_REQUISITE, CR_SUFFICIENT, CR_OPTIONAL };

struct cr_stack;  /* opaque; built by config.c from the policy */
struct cr_realm_module;

/* What the stack decided (strings/arrays malloc'd; cr_stack_outcome_clear). */
struct cr_stack_outcome {
    certrole_code code;     /* OK, UNKNOWN_IDENTITY, REALM_UNAVAILABLE, REALM_REFUSED */
    char *user;             /* first realm that set a user */
    char *realm;            /* name of the first module that answered FOUND;
                               NULL on denial */
    char **roles; size_t n_roles;   /* merged, de-duplicated, in order */
    char *message;          /* why, for denials ("realm ldap: ...") */
};

void cr_stack_outcome_clear(struct cr_stack_outcome *o);

/* Runs the stack. An empty stack (no 'realm' lines) yields OK with no
 * user and no roles: verification only. Roles outside the role-name rule
 * (role_name.h) are dropped, each with a warning to log. Thread-safe. */
struct cr_log;
certrole_code cr_stack_run(const struct cr_stack *s, const certrole_identity *id,
                           const struct cr_log *log, struct cr_stack_outcome *out);
void cr_stack_free(struct cr_stack *s);

/* Counts each realm's lookups into st's record for its position and
 * module (stats.h). Called once, before the stack is shared. */
struct cr_stats;
void cr_stack_count_into(struct cr_stack *s, struct cr_stats *st);

/* Building (config.c): an empty stack, then one realm per 'realm' line.
 * cr_stack_add takes ownership of module and state (closing/unloading
 * them in cr_stack_free). where is "file:line" for messages. */
struct cr_stack *cr_stack_new(void);
int cr_stack_add(struct cr_stack *s, enum cr_control control,
                 struct cr_realm_module *module, void *state, const char *where);
const char *cr_control_name(enum cr_control c);

/* The answer a lookup writes into (answer.c). */
struct certrole_answer {
    char *user;
    char **roles; size_t n_roles, cap_roles;
    char *message;
    int failed;             /* an allocation failed: treat as UNAVAILABLE */
};
void cr_answer_clear(struct certrole_answer *a);
#endif
