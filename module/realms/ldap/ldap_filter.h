/* Search filters built from certificate fields. Every value that comes
 * from a certificate goes through ldap_bv2escaped_filter_value (RFC 4515),
 * so '*', '(', ')', '\' and NUL in a subject match themselves only.
 * Returned strings are malloc'd (free()). */
#ifndef CR_LDAP_FILTER_H
#define CR_LDAP_FILTER_H
#include <stddef.h>
#include "certrole_realm.h"

/* Checks a filter template at open(): known placeholders only
 * (%{subject} %{cn} %{email} %{serial} %{issuer} %{fingerprint} %{upn}
 * %{dns} %{uri} %{spiffe} %{issuer_serial}; "%%" is a
 * literal '%'), parentheses balanced, starts with '('. 0 or -1 + err. */
int cr_ldap_filter_check(const char *tmpl, int allow_placeholders,
                         char *err, size_t errlen);

/* Expands the template for one identity. NULL on no memory, or when a
 * placeholder's field is absent from the certificate: then *missing (if
 * not NULL) names it ("email") and no filter is ever sent. */
char *cr_ldap_filter_expand(const char *tmpl, const certrole_identity *id,
                            const char **missing);

/* "(userCertificate=<CertificateExactAssertion>)" (RFC 4523 GSER form:
 * { serialNumber DECIMAL, issuer rdnSequence:"DN" }) for the leaf with
 * this upper-hex serial and RFC 4514 issuer. The server matches issuer
 * and serial (certificateExactMatch); the caller compares the bytes of
 * the certificate it gets back. NULL on a bad serial/DN or no memory. */
char *cr_ldap_filter_certificate(const char *serial_hex, const char *issuer);

/* The CertificateExactAssertion itself, unescaped (what %{issuer_serial}
 * expands to before RFC 4515 escaping). NULL as above. */
char *cr_ldap_gser_exact(const char *serial_hex, const char *issuer);

/* "(attr=<value escaped>)"; value may hold any bytes. */
char *cr_ldap_filter_eq(const char *attr, const void *value, size_t len);
#endif
