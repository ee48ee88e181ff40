/* Finding the peer's entry in the directory, by one of three maps:
 *   dn           the certificate's subject DN is the entry's DN (checked
 *                to lie under base=, when given);
 *   filter       a filter template with %{...} placeholders, every value
 *                escaped per RFC 4515;
 *   certificate  an entry whose userCertificate;binary holds exactly the
 *                leaf's DER.
 * Exactly one entry must match: none is NOT_FOUND, more than one is
 * REFUSED (never pick one). */
#ifndef CR_LDAP_SEARCH_H
#define CR_LDAP_SEARCH_H
#include <ldap.h>
#include "ldap_conn.h"

struct cr_ldap_entry {
    LDAPMessage *res;               /* owns the search result */
    LDAPMessage *entry;             /* the one entry, inside res */
    char *dn;                       /* its DN as the server wrote it */
    char *user;                     /* user-attr's first value, else dn */
};

/* On FOUND fills *e (free with cr_ldap_entry_clear). On every other
 * status o->message says why; on UNAVAILABLE the connection may be
 * marked broken. */
certrole_realm_status cr_ldap_find_entry(struct cr_ldap_pool *p,
                                         struct cr_ldap_conn *conn,
                                         const struct cr_ldap_config *c,
                                         const certrole_identity *id,
                                         struct cr_ldap_entry *e,
                                         struct cr_ldap_outcome *o);
void cr_ldap_entry_clear(struct cr_ldap_entry *e);
#endif
