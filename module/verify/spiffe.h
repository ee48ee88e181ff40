/* The SPIFFE ID of a leaf, by the X.509-SVID rules: the certificate's one
 * URI SAN, when that is a well-formed spiffe:// ID. */
#ifndef CR_SPIFFE_H
#define CR_SPIFFE_H
#include <stddef.h>
#include "identity.h"

/* 1 when uri is a well-formed SPIFFE ID; else 0 with *why (static text)
 * saying what is wrong. */
int cr_spiffe_valid(const char *uri, const char **why);

/* Sets id->spiffe (a copy of the ID) or id->spiffe_why (why a spiffe URI
 * SAN is not one), from id->sans. Neither is set for a certificate that
 * names no spiffe URI. Returns 0, or -1 on no memory. */
int cr_spiffe_from_sans(struct certrole_identity *id);
#endif
