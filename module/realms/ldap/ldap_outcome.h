/* What one LDAP lookup concluded: the value the realm writes into the
 * core's answer and the value the cache keeps. Owned by whoever holds it;
 * not shared between threads without a copy. */
#ifndef CR_LDAP_OUTCOME_H
#define CR_LDAP_OUTCOME_H
#include <stddef.h>
#include "certrole_realm.h"

struct cr_ldap_outcome {
    certrole_realm_status status;
    char *user;                     /* FOUND only */
    char **roles;                   /* FOUND only; no duplicates */
    size_t n_roles, cap_roles;
    char *message;                  /* one line, or NULL */
};

/* Each returns 0, or -1 on no memory (the outcome stays valid). */
int cr_ldap_outcome_set_user(struct cr_ldap_outcome *o, const char *user);
int cr_ldap_outcome_add_role(struct cr_ldap_outcome *o, const char *role);
int cr_ldap_outcome_set_message(struct cr_ldap_outcome *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* When the search result res holds a search continuation reference (a
 * referral to another partition or server), says so in o's message and
 * returns 1: referrals are never followed (they would send our bind
 * elsewhere), so the referenced part could hold another match or another
 * group, and the answer is incomplete. what: "search" or "group search". */
struct ldap;
struct ldapmsg;
int cr_ldap_outcome_referral(struct cr_ldap_outcome *o, struct ldap *ld,
                             struct ldapmsg *res, const char *uri,
                             const char *what, const char *base);
/* Deep copy into an empty dst. */
int cr_ldap_outcome_copy(struct cr_ldap_outcome *dst,
                         const struct cr_ldap_outcome *src);
/* Frees the members and zeroes o (status becomes FOUND = 0). */
void cr_ldap_outcome_clear(struct cr_ldap_outcome *o);
#endif
