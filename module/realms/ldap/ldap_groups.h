/* Roles of a found entry:
 *  - role-attr (memberOf): each value that is a DN names a group, any
 *    other value is a role name as it stands; groups' own role-attr
 *    values are followed up to nested-depth levels;
 *  - group-base: groups whose group-member-attr (member, uniqueMember:
 *    the entry's DN; memberUid: the user name) holds the entry, then
 *    groups holding those groups, up to nested-depth levels.
 * A group becomes the role role-map gives its DN, else (unless
 * role-map-only=yes) its group-name-attr (cn). Cycles are cut, the
 * number of groups is bounded. A failed search fails the whole lookup
 * (UNAVAILABLE): a silently partial role set is never returned. */
#ifndef CR_LDAP_GROUPS_H
#define CR_LDAP_GROUPS_H
#include "ldap_search.h"

/* Adds roles to o. FOUND, or UNAVAILABLE with o->message. */
certrole_realm_status cr_ldap_collect_roles(struct cr_ldap_pool *p,
                                            struct cr_ldap_conn *conn,
                                            const struct cr_ldap_config *c,
                                            const struct cr_ldap_entry *e,
                                            struct cr_ldap_outcome *o);
#endif
