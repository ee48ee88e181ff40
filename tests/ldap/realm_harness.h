/* What every check_ldap_* suite shares: the built realm_ldap.so loaded the
 * way the core loads it, one slapd per test (slapd_fixture.h), and short
 * helpers that open the realm with arguments and look a certificate up. */
#ifndef CERTROLE_LDAP_REALM_HARNESS_H
#define CERTROLE_LDAP_REALM_HARNESS_H
#include <check.h>
#include "certrole_realm.h"
#include "stack.h"          /* struct certrole_answer */
#include "slapd_fixture.h"

#define PEOPLE "ou=people,dc=acme,dc=example"
#define GROUPS "ou=groups,dc=acme,dc=example"
#define READERS "cn=invoice-readers," GROUPS
#define BY_SUBJECT "filter=(&(objectClass=inetOrgPerson)(seeAlso=%{subject}))"
#define BY_CN "filter=(&(objectClass=inetOrgPerson)(cn=%{cn}))"

/* The plugin's ops table and the test's server (started by the "slapd"
 * fixture of lh_tcase). */
extern const certrole_realm_ops *lh_ops;
extern struct lf_slapd lh_srv;

/* A test case whose tests each get a fresh slapd (with_server) or none. */
TCase *lh_tcase(const char *name, int with_server, int timeout_seconds);
/* main(): skips (77) without slapd, runs the suite, removes the files. */
int lh_main(Suite *s);

/* "uri=ldap://127.0.0.1:PORT" of the test's server (malloc'd). */
char *lh_uri(void);
/* Opens the realm with the NULL-terminated arguments; fails the test if
 * open() refuses them. */
void *lh_realm(const char *first, ...);
/* Expects open() to refuse the arguments with a message containing want. */
void lh_realm_err(const char *want, const char *first, ...);

struct lh_result {
    certrole_realm_status status;
    struct certrole_answer a;
    double seconds;                 /* how long lookup() took */
};
/* One lookup of the certificate in a PEM file. */
struct lh_result lh_look(void *st, const char *pem);
void lh_result_free(struct lh_result *r);
int lh_has_role(const struct lh_result *r, const char *role);
const char *lh_msg(const struct lh_result *r);
void lh_expect_found(void *st, const char *pem, const char *user);
void lh_expect_status(void *st, const char *pem, certrole_realm_status want);

#define ASSERT_STATUS(r, want) \
    ck_assert_msg((r).status == (want), "status %d, expected %d: %s", (r).status, (want), lh_msg(&(r)))
#define ASSERT_MSG_HAS(r, needle) \
    ck_assert_msg(strstr(lh_msg(&(r)), (needle)) != NULL, "message lacks \"%s\": %s", (needle), lh_msg(&(r)))
#endif
