/* Helpers shared by the chain-validation suites (check_verify_*.c).
 * Every helper fails the running Check test on an unexpected error. */
#ifndef CERTROLE_TESTS_VERIFY_UTIL_H
#define CERTROLE_TESTS_VERIFY_UTIL_H
#include <stddef.h>
#include <openssl/x509.h>
#include <certrole.h>
#include "testutil.h"

#define CLIENT_DN "CN=CRMApplication,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US"
#define INT_DN "CN=Acme Issuing CA,O=Acme Corp,C=US"
#define ROOT_DN "CN=Acme Root CA,O=Acme Corp,C=US"
#define OTHER_ROOT_DN "CN=Other Root CA,O=Other Corp,C=US"

/* Opens a context from policy text; fails the test with the error. */
certrole_ctx *open_policy(const char *text);
/* Context trusting the Acme root with CRLs checked along the chain;
 * 'extra' (may be NULL) is appended to the trust line. */
certrole_ctx *open_acme(const char *extra);
/* Every certificate of a PEM file, in file order (caller frees). */
STACK_OF(X509) *load_pem(const char *path);
/* The first certificate of a PEM file (caller frees). */
X509 *load_one(const char *path);
/* Verifies PKI files (NULL-terminated list): the first certificate of
 * 'first' is the leaf, every other one is sent as untrusted, in order.
 * Always sets *res; returns its code. */
certrole_code verify_files(certrole_ctx *ctx, certrole_result **res, const char *first, ...);
/* A denial: the code, a message naming what is wrong (msg_part, if not
 * NULL), a real hint (containing hint_part, if not NULL). */
void assert_denied(const certrole_result *res, certrole_code want, const char *msg_part,
                   const char *hint_part);
/* "2024-01-31 12:00:00 UTC" of an ASN1_TIME, computed independently. */
void fmt_time(const ASN1_TIME *t, char *buf, size_t len);
#endif
