/* Identity tokens of the realm file, as 'certrole realm' writes and
 * compares them: "DN", sha256:FP, email:, upn:, dns:, uri:, spiffe: and
 * issuer-serial:"DN":HEX (certrole-policy(5), THE FILE REALM). */
#ifndef CR_REALM_TOKEN_H
#define CR_REALM_TOKEN_H
#include <stddef.h>
#include "identity.h"

typedef enum cr_rby {
    CR_BY_PIN, CR_BY_DN, CR_BY_EMAIL, CR_BY_UPN, CR_BY_SPIFFE, CR_BY_DNS, CR_BY_URI,
    CR_BY_ISSUER_SERIAL, CR_BY_COUNT
} cr_rby;

/* "pin", "dn", ... -> *by; -1 when unknown. */
int cr_rby_parse(const char *s, cr_rby *by);
const char *cr_rby_name(cr_rby by);

/* The token that names id's certificate by 'by', malloc'd. NULL with err
 * when the certificate has no such field or it cannot be written; *warn
 * (may be left "") says which field was picked among several. */
char *cr_rtok_for_cert(const struct certrole_identity *id, cr_rby by, char *err, size_t errlen,
                       char *warn, size_t warnlen);

/* The kind naming a subjectAltName type; -1 for one without a kind (IP). */
int cr_rby_of_san(certrole_san_type t, cr_rby *by);
/* "kind:VALUE" for a SAN kind and a value (quoted as needed), malloc'd;
 * NULL when the value cannot be written or on no memory. */
char *cr_rtok_kind_value(cr_rby by, const char *value);

/* Length of the identity token opening line[0..len) after *start (set to
 * the first non-blank byte): up to the first blank outside quotes. */
size_t cr_rtok_span(const char *line, size_t len, size_t *start);

/* A comparison form of a token (malloc'd): DNs by their matching key,
 * fingerprints and serials as lower-case hex, values unquoted, the kind
 * in lower case, and the parts the realm compares without ASCII case
 * folded. Two tokens name the same identity when these are equal.
 * NULL when the token is malformed or on no memory. */
char *cr_rtok_norm(const char *tok, size_t len);

/* Writes s as VALUE of the agreed syntax: bare when every byte is
 * printable ASCII other than space, '"' and '\\', else quoted. -1 when s
 * holds a control character (not expressible) or on no memory. */
int cr_rtok_value(char **out, const char *prefix, const char *s);
#endif
