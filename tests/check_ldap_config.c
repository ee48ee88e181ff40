/* The ldap realm's arguments: what open() refuses, and that open() never
 * needs the directory (a policy loads while it is down). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "testutil.h"
#include "ldap/realm_harness.h"

START_TEST(arguments_are_validated_at_open)
{
    lh_realm_err("uri= is required", "base=" PEOPLE, NULL);
    lh_realm_err("unknown argument 'colour'", "uri=ldap://127.0.0.1:1", "colour=blue", NULL);
    lh_realm_err("not an LDAP URI", "uri=http://127.0.0.1:1", NULL);
    lh_realm_err("not an LDAP URI", "uri=ldap://127.0.0.1:1 nonsense", NULL);
    lh_realm_err("map=filter needs base=", "uri=ldap://127.0.0.1:1", BY_CN, NULL);
    lh_realm_err("unknown placeholder", "uri=ldap://127.0.0.1:1", "base=" PEOPLE,
              "filter=(cn=%{commonname})", NULL);
    lh_realm_err("unbalanced", "uri=ldap://127.0.0.1:1", "base=" PEOPLE, "filter=(cn=%{cn}", NULL);
    lh_realm_err("starttls=maybe", "uri=ldap://127.0.0.1:1", "starttls=maybe", NULL);
    lh_realm_err("needs bind-password", "uri=ldap://127.0.0.1:1", "bind-dn=cn=reader,dc=acme,dc=example", NULL);
    lh_realm_err("not a distinguished name", "uri=ldap://127.0.0.1:1", "base=no-equals-sign", NULL);
    lh_realm_err("sasl=external needs tls-cert", "uri=ldaps://127.0.0.1:1", "sasl=external", NULL);
    lh_realm_err("given twice", "uri=ldap://127.0.0.1:1", "uri=ldap://127.0.0.1:2", NULL);
    lh_realm_err("expected seconds", "uri=ldap://127.0.0.1:1", "timeout=0", NULL);
    lh_realm_err("GROUP-DN:ROLE", "uri=ldap://127.0.0.1:1", "role-map=cn=x,dc=example", NULL);
    lh_realm_err("memberUid needs user-attr", "uri=ldap://127.0.0.1:1", "user-attr=dn",
              "group-base=" GROUPS, "group-member-attr=memberUid", NULL);
    lh_realm_err("bind-password-file", "uri=ldap://127.0.0.1:1", "bind-dn=cn=reader,dc=acme,dc=example",
              "bind-password-file=does-not-exist", NULL);
    lh_realm_err("sasl=external needs TLS", "uri=ldap://127.0.0.1:1", "sasl=external", "starttls=try",
                 "tls-cert=c.pem", "tls-key=c.key", NULL);
    /* Both timeouts are bounded: never 0 (wait forever), never above 300 s. */
    lh_realm_err("expected seconds", "uri=ldap://127.0.0.1:1", "network-timeout=0", NULL);
    lh_realm_err("expected seconds", "uri=ldap://127.0.0.1:1", "network-timeout=301", NULL);
    lh_realm_err("expected seconds", "uri=ldap://127.0.0.1:1", "timeout=300.5", NULL);
    lh_realm_err("expected seconds", "uri=ldap://127.0.0.1:1", "timeout=-1", NULL);
    lh_realm_err("expected seconds", "uri=ldap://127.0.0.1:1", "timeout=soon", NULL);
    lh_realm_err("pool-size", "uri=ldap://127.0.0.1:1", "pool-size=0", NULL);
    lh_realm_err("pool-size", "uri=ldap://127.0.0.1:1", "pool-size=65", NULL);
    lh_realm_err("nested-depth", "uri=ldap://127.0.0.1:1", "nested-depth=11", NULL);
}
END_TEST

START_TEST(open_does_not_need_the_server)
{
    /* Nothing listens on the port: open() succeeds, lookups fail closed. */
    int dead = tu_free_port();
    char *u = tu_strf("uri=ldap://127.0.0.1:%d", dead);
    void *st = lh_realm(u, "base=c=US", "timeout=1", "network-timeout=1", NULL);
    struct lh_result r = lh_look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_UNAVAILABLE);
    ck_assert_msg(strstr(lh_msg(&r), u + 4) != NULL, "message names the URI: %s", lh_msg(&r));
    ck_assert_msg(strstr(lh_msg(&r), "Can't contact LDAP server") != NULL, "%s", lh_msg(&r));
    lh_result_free(&r);
    lh_ops->close(st);
    free(u);
}
END_TEST

static Suite *ldap_config_suite(void)
{
    Suite *s = suite_create("ldap realm: config");
    TCase *tc_arguments = lh_tcase("arguments", 0, 30);
    tcase_add_test(tc_arguments, arguments_are_validated_at_open);
    tcase_add_test(tc_arguments, open_does_not_need_the_server);
    suite_add_tcase(s, tc_arguments);
    return s;
}

int main(void) { return lh_main(ldap_config_suite()); }
