/* The peer identity extracted from a leaf (and its validated chain):
 * backs both certrole_result's accessors and the realm SPI's
 * certrole_identity view. */
#ifndef CR_IDENTITY_H
#define CR_IDENTITY_H
#include <time.h>
#include <openssl/x509.h>
#include "certrole.h"
#include "certrole_realm.h"

struct cr_san { certrole_san_type type; char *value; };

struct certrole_identity {
    X509 *leaf;                 /* owned reference */
    unsigned char *der; size_t der_len;
    char *subject, *subject_key;
    char *issuer, *issuer_key;
    char *anchor, *anchor_key;  /* NULL until the chain is validated */
    char *serial;               /* upper hex */
    char *fingerprint;          /* lower hex sha256 */
    char *cn;                   /* single CN or NULL */
    char *email;
    time_t not_before, not_after;
    struct cr_san *sans; size_t n_sans;
    char *spiffe;               /* the X.509-SVID's SPIFFE ID, or NULL */
    char *spiffe_why;           /* why a spiffe URI SAN is not one, or NULL */
    char *ski;                  /* subjectKeyIdentifier, lower hex, or NULL */
};

/* Fills id from leaf (takes its own reference). Returns CERTROLE_OK, or
 * CERTROLE_E_BAD_NAME with *msg and *hint set (malloc'd) for a NUL byte in a
 * name or SAN, two CNs, or undecodable strings; the other fields are still
 * filled as far as possible so the denial can be explained. */
certrole_code cr_identity_from_leaf(struct certrole_identity *id, X509 *leaf,
                                    char **msg, char **hint);
/* Sets anchor/anchor_key from the last certificate of a validated chain. */
certrole_code cr_identity_set_anchor(struct certrole_identity *id, X509 *anchor);
void cr_identity_clear(struct certrole_identity *id);
#endif
