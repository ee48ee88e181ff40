/* Helpers shared by the file realm suites (check_realm_file_*.c).
 * Every helper fails the running Check test on an unexpected error. */
#ifndef CERTROLE_TESTS_REALM_FILE_UTIL_H
#define CERTROLE_TESTS_REALM_FILE_UTIL_H
#include "certrole.h"
#include "testutil.h"

#define CRM_DN "CN=CRMApplication, OU=Sales, O=Acme Corp, L=San Francisco, ST=CA, C=US"
#define ACME_ROOT "CN=Acme Root CA,O=Acme Corp,C=US"
#define OTHER_ROOT "CN=Other Root CA,O=Other Corp,C=US"
#define CRM_DN_CANONICAL "CN=CRMApplication,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US"

/* A tomcat-users.xml with a role, a group, a DN user, a password user
 * and a user holding its roles through the group. */
extern const char TOMCAT_GOOD[];

/* The end-to-end fixture: a temporary directory and, in it, both.pem
 * (Acme root + Other root, for the issuer tests). */
extern char *rf_dir;
extern char *rf_both_cas;
void e2e_setup(void);
void e2e_teardown(void);

/* Writes the realm file fname into rf_dir and a policy using it with
 * args, and opens it. Returns the context, or NULL with *err. */
certrole_ctx *open_realm_file(const char *fname, const char *content, const char *args,
                              char **err);
/* Same with users.realm; fails the test when it does not open. */
certrole_ctx *open_realm(const char *content, const char *args);
/* Asserts users.realm fails to open with a message containing want. */
void realm_error(const char *content, const char *args, const char *want);
/* Verifies a PEM file of the test PKI; never NULL. */
certrole_result *verify(certrole_ctx *ctx, const char *pemfile);
/* Verifies pemfile; asserts the code, and (when allowed) the user, the
 * realm "file" and exactly the comma-separated roles. */
void expect(certrole_ctx *ctx, const char *pemfile, certrole_code code, const char *user,
            const char *roles);
#endif
