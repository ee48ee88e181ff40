/* strict=yes: RFC 5280 rules OpenSSL 3.0 does not enforce, checked on a
 * chain X509_verify_cert accepted (strict.c). */
#ifndef CR_STRICT_H
#define CR_STRICT_H
#include <openssl/x509.h>
#include "certrole.h"

/* Walks chain (leaf at 0 .. anchor) and refuses the first rule broken:
 * serial number not positive or longer than 20 octets (4.1.2.2);
 * nameConstraints in an end-entity certificate, an empty or not critical
 * nameConstraints, a dNSName constraint outside the preferred name syntax
 * (4.2.1.10); policyConstraints (4.2.1.11) or inhibitAnyPolicy (4.2.1.14)
 * not critical; a malformed dNSName / rfc822Name SAN below a CA that
 * constrains names of that type (4.2.1.6); a wildcard dNSName SAN that
 * could stand for a name in an excluded subtree.
 * Returns CERTROLE_OK, or CERTROLE_E_CHAIN_INVALID with *msg (rule and
 * depth) and *hint malloc'd and *depth the failing certificate's depth;
 * CERTROLE_E_NO_MEMORY when memory ran out (then *msg and *hint may be NULL).
 * Reads the chain only; thread-safe. */
certrole_code cr_strict_check(STACK_OF(X509) *chain, char **msg, char **hint, int *depth);
#endif
