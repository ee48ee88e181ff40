/* Helpers shared by the hostile-input suites (tests/check_hostile*.c):
 * the hostile certificates made by tests/pki/mkhostile.sh, policies from
 * text, and verification of a PEM file. */
#ifndef CERTROLE_TESTS_HOSTILE_UTIL_H
#define CERTROLE_TESTS_HOSTILE_UTIL_H
#include <stddef.h>
#include "certrole.h"

/* Runs mkhostile.sh once per process into a private directory (call from
 * an unchecked fixture), and copies the realm modules (file, ldap, test)
 * into its "mods" subdirectory: point CERTROLE_REALM_DIR there.
 * hx_cleanup removes it. */
void hx_prepare(void);
void hx_cleanup(void);
/* A file made by mkhostile.sh ("twocn-chain.pem"); rotating pool. */
const char *hx(const char *name);
/* The private directory (also a scratch place for policies). */
const char *hx_dir(void);

/* certrole_open_string on text (relative paths against hx_dir()); fails
 * the test unless the policy opens. */
certrole_ctx *hx_open(const char *text);
/* Expects the policy to be refused with want_code and an error message
 * containing want_msg. */
void hx_open_fails(const char *text, certrole_code want_code, const char *want_msg);
/* Verifies the PEM file's bytes; always returns a result. */
certrole_result *hx_verify(certrole_ctx *ctx, const char *pem_path);
/* Verifies and asserts: denied, with exactly want, no user, no roles. */
void hx_denied(certrole_ctx *ctx, const char *pem_path, certrole_code want);
/* SHA-256 of the leaf in a PEM file, lower-case hex (static buffer). */
const char *hx_sha256(const char *pem_path);

/* The policy and realm-file cases (check_hostile_policy.c). */
#include <check.h>
void hx_add_policy_tcase(Suite *s);
#endif
