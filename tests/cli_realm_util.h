/* Helpers shared by the 'certrole realm' suites (check_cli_realm*.c).
 * Every helper fails the running Check test on an unexpected error. */
#ifndef CERTROLE_TESTS_CLI_REALM_UTIL_H
#define CERTROLE_TESTS_CLI_REALM_UTIL_H
#include <stddef.h>
#include "certrole.h"
#include "testutil.h"

#define HAS(out, s) ck_assert_msg(strstr((out), (s)) != NULL, "output lacks '%s':\n%s", (s), (out))

/* The fixture: a private directory, users.realm (realm_path) and
 * acme.policy (policy_path: the test PKI's trust with its CRL, and the
 * realm as its required file realm). */
extern char *cr_dir, *realm_path, *policy_path;
void realm_setup(void);
void realm_teardown(void);

/* Runs "certrole ARGS": tu_certrole (testutil.h). */
#define crun tu_certrole

/* Asserts the realm file's bytes are exactly 'want'. */
void realm_is(const char *want);
/* Lower-case SHA-256 fingerprint of a PEM certificate, by openssl (malloc'd). */
char *fingerprint(const char *pem);
/* A self-signed certificate made by openssl into cr_dir/name (path
 * malloc'd): subject in openssl's /A=b form, san (or NULL), serial. */
char *make_cert(const char *name, const char *subj, const char *san, const char *serial);
/* Opens the policy and verifies pem: asserts allowed, user and exactly
 * the comma-separated roles. */
void expect_allowed(const char *pem, const char *user, const char *roles);
#endif
