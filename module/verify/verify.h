/* The one function every certrole_verify_* entry point ends in. */
#ifndef CR_VERIFY_H
#define CR_VERIFY_H
#include <openssl/x509.h>
#include "certrole.h"

/* Verifies leaf + untrusted under the ctx's current configuration and
 * runs the realm stack. If input_code is not CERTROLE_OK (the bytes could
 * not be decoded), builds the denial result from it, input_msg and
 * input_hint instead. With CERTROLE_OK, a non-NULL input_msg is a note on
 * the input appended to the result message, whatever the decision; such
 * a call bypasses the cache (a stored result would show the note to a
 * call whose input did not earn it). Always sets *res unless no memory. */
certrole_code cr_verify(certrole_ctx *ctx, X509 *leaf, STACK_OF(X509) *untrusted,
                        certrole_code input_code, const char *input_msg,
                        const char *input_hint, certrole_result **res);
#endif
