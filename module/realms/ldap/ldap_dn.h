/* Distinguished names as the directory sees them, through libldap's
 * RFC 4514 parser and printer (ldap_str2dn / ldap_dn2str): nothing here
 * escapes by hand. All returned strings are malloc'd (free()). */
#ifndef CR_LDAP_DN_H
#define CR_LDAP_DN_H

/* The DN re-printed in RFC 4514 form (validates it: a search base built
 * from a certificate is always a well-formed DN). NULL if it is not a DN
 * or on no memory. */
char *cr_ldap_dn_normalize(const char *dn);

/* Comparison key: RFC 4514 form with attribute types and ASCII letters
 * of string values lower-cased, runs of spaces folded to one, and the
 * values of a multi-valued RDN sorted. Equal keys name the same entry
 * under the usual caseIgnoreMatch rules. NULL if not a DN / no memory. */
char *cr_ldap_dn_key(const char *dn);

/* 1 when the DN with key dn_key is base_key or below it, 0 when not,
 * -1 on a parse error. Compares whole RDNs, never string suffixes. */
int cr_ldap_dn_under(const char *dn_key, const char *base_key);

/* Value of the attribute 'type' in the DN's first (leftmost) RDN, e.g.
 * "Invoice Readers" for type cn of "cn=Invoice Readers,ou=groups";
 * NULL when that RDN has no such attribute or dn is not a DN. */
char *cr_ldap_dn_rdn_value(const char *dn, const char *type);
#endif
