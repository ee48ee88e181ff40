/* Decoding the bytes a peer (or a person) hands us into a leaf and its
 * untrusted intermediates: PEM, DER, PKCS#7, PKCS#12, or sniffed. */
#ifndef CR_INPUT_H
#define CR_INPUT_H
#include <stddef.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include "certrole.h"

/* A client chain is a few kilobytes; anything past these is refused
 * (bad_encoding) before any parsing work. */
#define CR_INPUT_MAX_BYTES (1024u * 1024u)
#define CR_INPUT_MAX_CERTS 32

/* Decodes data. The leaf is the one certificate that issued none of the
 * others, wherever the input lists it (chain_order.h); in a PKCS#12 file
 * with a key, the key's certificate. On CERTROLE_OK *leaf is a new
 * reference and *untrusted a new stack (possibly empty) of the other
 * certificates, both owned by the caller, and *msg is NULL or a note for
 * the result message (the input listed the leaf other than first).
 * On failure both are NULL and *msg / *hint (malloc'd, caller frees) say
 * what is wrong with the input and what to do; the code is
 * NO_CERTIFICATE, BAD_ENCODING, BAD_PASSWORD, CHAIN_ORDER or NO_MEMORY.
 * 'password' is used for PKCS#12 only (NULL: try none and ""). */
certrole_code cr_input_decode(const void *data, size_t len, certrole_format format,
                              const char *password, X509 **leaf,
                              STACK_OF(X509) **untrusted, char **msg, char **hint);

/* Trust anchor files (ca-file) may be whole CA bundles. */
#define CR_INPUT_MAX_ANCHOR_BYTES (64u * 1024u * 1024u)
#define CR_INPUT_MAX_ANCHORS 100000

/* Every certificate of an anchor file, in file order: PEM (CERTIFICATE,
 * TRUSTED CERTIFICATE and PKCS7 blocks; other blocks such as CRLs are
 * skipped), DER (one or more concatenated certificates) or DER PKCS#7.
 * No leaf is picked. On failure *certs is NULL and *msg (malloc'd, may be
 * NULL on no memory) says what is wrong with the bytes; the code is
 * NO_CERTIFICATE, BAD_ENCODING or NO_MEMORY. */
certrole_code cr_input_decode_anchors(const void *data, size_t len, STACK_OF(X509) **certs,
                                      char **msg);

/* PKCS#12 files choose their own key-derivation work; more than this many
 * iterations (MAC, encrypted safe or shrouded key) is refused. OpenSSL
 * exports use 2048; 1e6 is past every current recommendation. */
#define CR_INPUT_MAX_P12_ITER 1000000L

/* Checks every iteration count of p12 against CR_INPUT_MAX_P12_ITER
 * (input_p12.c). With decrypt, encrypted safes are opened with pw (after
 * the MAC verified) to check the keys inside them. 0, or -1 with a reason
 * in why. */
int cr_input_p12_check(PKCS12 *p12, int decrypt, const char *pw, char *why, size_t n);
/* The certificates of a PKCS#12 file without an integrity MAC, pushed to
 * out in file order, encrypted safes opened with pw (NULL: none tried).
 * There is no MAC to check a password against, so a wrong one shows only
 * as a safe that does not decrypt. Returns 0; -1 when an encrypted safe
 * does not open with pw (or pw is NULL); -2 when the contents are damaged
 * or memory runs out. Iteration counts must have been checked first. */
/* Certificate bags of bags (and of nested safe contents, at most 8 deep)
 * onto out; *keys (if not NULL) counts key bags. 0, or -2 for a damaged
 * structure or no memory. */
int cr_input_p12_cert_bags(const STACK_OF(PKCS12_SAFEBAG) *bags, int depth, STACK_OF(X509) *out,
                           int *keys);
int cr_input_p12_nomac_certs(PKCS12 *p12, const char *pw, STACK_OF(X509) *out);
#endif
