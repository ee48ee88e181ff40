/* The decoder's state, shared by the format parts of input.c and the
 * PKCS#12 part in input_p12.c. Internal to the library. */
#ifndef CR_INPUT_DEC_H
#define CR_INPUT_DEC_H
#include <stddef.h>
#include <openssl/x509.h>
#include "certrole.h"

struct dec {
    STACK_OF(X509) *certs;  /* in input order; the leaf is moved to index 0 */
    certrole_code code;
    char *msg, *hint;
    int anchors;            /* a trust anchor file: no leaf, larger limits */
    int leaf_known;         /* certs[0] is the leaf (the key's, in a .p12) */
    int unordered;          /* a PKCS#7 or PKCS#12 set: its order means nothing */
    const char *what;       /* the input, for chain_order messages */
};

/* Records the first failure (later ones are less specific); a failure to
 * allocate the message becomes NO_MEMORY. */
void cr_dec_fail(struct dec *d, certrole_code code, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Appends x (ownership taken) within the input's certificate limit; -1
 * after recording the failure. */
int cr_dec_add(struct dec *d, X509 *x);

/* Decodes a DER PKCS#12 file (input_p12.c). */
void cr_dec_p12(struct dec *d, const unsigned char *p, size_t len, const char *password);
#endif
