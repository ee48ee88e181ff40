/* The ldap realm's certmap-match= and certmap-map= keys: SSSD's match and
 * map rules, through libsss_certmap, choose and build the search filter
 * (map=certmap). Without libsss_certmap (configure --without-sss-certmap)
 * the keys refuse to load. */
#ifndef CR_LDAP_CERTMAP_H
#define CR_LDAP_CERTMAP_H
#include <stddef.h>
#include "certrole_realm.h"
#include "ldap_config.h"
#include "ldap_outcome.h"

/* At open(), once every argument is read: when either key is set, checks
 * they go together (and not with map= or filter=), compiles the rules
 * and sets c->map. 0, or -1 with err. */
int cr_ldap_certmap_setup(struct cr_ldap_config *c, int map_set, char *err, size_t errlen);
void cr_ldap_certmap_free(struct cr_ldap_config *c);

/* The search filter for the identity: FOUND with *filter (malloc'd);
 * NOT_FOUND when the match rule does not match (nothing is sent);
 * UNAVAILABLE when the filter cannot be made or could be read otherwise
 * than the map rule says (certmap_rule.h). Any thread. */
certrole_realm_status cr_ldap_certmap_filter(const struct cr_ldap_config *c,
                                             const certrole_identity *id, char **filter,
                                             struct cr_ldap_outcome *o);
#endif
