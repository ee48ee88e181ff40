/* Decoding the bytes a peer (or a person) hands us into a leaf and its
 * untrusted intermediates: PEM, DER, PKCS#7, PKCS#12, or sniffed. */
#ifndef CR_INPUT_H
#define CR_INPUT_H
#include <stddef.h>
#include <openssl/x509.h>
#include "certrole.h"

/* A client chain is a few kilobytes; anything past these is refused
 * (bad_encoding) before any parsing work. */
#define CR_INPUT_MAX_BYTES (1024u * 1024u)
#define CR_INPUT_MAX_CERTS 32

/* Decodes data. On CERTROLE_OK *leaf is a new reference and *untrusted a
 * new stack (possibly empty) of the other certificates, both owned by the
 * caller. On failure both are NULL and *msg / *hint (malloc'd, caller
 * frees) say what is wrong with the input and what to do; the code is
 * NO_CERTIFICATE, BAD_ENCODING, BAD_PASSWORD or NO_MEMORY.
 * 'password' is used for PKCS#12 only (NULL: try none and ""). */
certrole_code cr_input_decode(const void *data, size_t len, certrole_format format,
                              const char *password, X509 **leaf,
                              STACK_OF(X509) **untrusted, char **msg, char **hint);
#endif
