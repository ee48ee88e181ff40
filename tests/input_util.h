/* Helpers shared by the input suites (check_input*.c): a context trusting
 * the test PKI, set up and closed around each test, and verification of
 * raw bytes. Every helper fails the running Check test on an unexpected
 * error. */
#ifndef CERTROLE_TESTS_INPUT_UTIL_H
#define CERTROLE_TESTS_INPUT_UTIL_H
#include <stddef.h>
#include "certrole.h"
#include "testutil.h"

/* The fixture's context: trusts the test PKI's ca-file.pem. */
extern certrole_ctx *ctx;
void setup(void);
void teardown(void);

/* The bytes of a test PKI file (malloc'd); *len is their count. */
char *pki(const char *name, size_t *len);

/* Verifies bytes, checks the code and (if given) a message fragment; a
 * denial must come with a hint. Returns the result (caller frees). */
certrole_result *expect(const void *data, size_t len, certrole_format fmt,
                        const char *pw, certrole_code want, const char *fragment);
#endif
