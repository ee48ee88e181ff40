/* The ldap realm against a real slapd: roles from the entry's memberOf
 * and from group searches (member, uniqueMember, memberUid), nested groups
 * to a bounded depth, group -> role by attribute or by mapping table. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "testutil.h"
#include "ldap/realm_harness.h"

START_TEST(roles_from_group_searches_nested_and_mapped)
{
    char *u = lh_uri();
    void *st = lh_realm(u, "base=" PEOPLE, BY_SUBJECT, "role-attr=none", "group-base=" GROUPS,
                     "group-member-attr=member,uniqueMember,memberUid",
                     "role-map=" READERS ":invoice-readonly;cn=sales," GROUPS ":sales-team", NULL);
    struct lh_result r = lh_look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_FOUND);
    static const char *const want[] = { "invoice-readonly", "staff", "everyone", "top",
                                        "sales-team", "crm-unix", "loop-a", "loop-b",
                                        "R&D (west)*", "rnd-all" };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_msg(lh_has_role(&r, want[i]), "missing role %s", want[i]);
    ck_assert(!lh_has_role(&r, "invoice-readers") && !lh_has_role(&r, "sales"));
    ck_assert(!lh_has_role(&r, "beyond") && !lh_has_role(&r, "admins"));
    ck_assert_uint_eq(r.a.n_roles, sizeof want / sizeof want[0]);
    lh_result_free(&r);
    lh_ops->close(st);

    /* Direct membership only; role-map-only keeps just the mapped group. */
    st = lh_realm(u, "base=" PEOPLE, BY_SUBJECT, "role-attr=none", "group-base=" GROUPS,
               "nested-depth=0", NULL);
    r = lh_look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_FOUND);
    ck_assert(lh_has_role(&r, "invoice-readers") && lh_has_role(&r, "sales") && lh_has_role(&r, "loop-a"));
    ck_assert(!lh_has_role(&r, "staff") && !lh_has_role(&r, "loop-b") && !lh_has_role(&r, "crm-unix"));
    lh_result_free(&r);
    lh_ops->close(st);

    char *map = tu_strf("%s/roles.map", lf_dir());
    tu_write_file(map, "# group DN : role\n" READERS ":invoice-readonly\n");
    st = lh_realm(u, "base=" PEOPLE, BY_SUBJECT, "group-base=" GROUPS, "role-map-file=roles.map",
               "role-map-only=yes", NULL);
    r = lh_look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_FOUND);
    ck_assert_uint_eq(r.a.n_roles, 1);
    ck_assert_str_eq(r.a.roles[0], "invoice-readonly");
    lh_result_free(&r);
    lh_ops->close(st);
    free(map);
    free(u);
}
END_TEST

START_TEST(group_role_names_from_another_attribute)
{
    /* memberUid groups only, named by gidNumber instead of cn */
    char *u = lh_uri();
    void *st = lh_realm(u, "base=" PEOPLE, BY_SUBJECT, "role-attr=none", "group-base=" GROUPS,
                        "group-member-attr=memberUid", "group-name-attr=gidNumber", NULL);
    struct lh_result r = lh_look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_FOUND);
    ck_assert_msg(lh_has_role(&r, "5000"), "crm-unix named by its gidNumber: %s", lh_msg(&r));
    ck_assert(!lh_has_role(&r, "crm-unix") && !lh_has_role(&r, "invoice-readers"));
    lh_result_free(&r);
    lh_ops->close(st);
    free(u);
}
END_TEST

#define EDGE_PEOPLE "base=ou=people,dc=edge,dc=example"

/* A partial role set is never returned: not when the server's size limit
 * cuts the group search short, not when a referral points elsewhere. */
START_TEST(group_search_cut_short_is_unavailable)
{
    char *u = lh_uri();
    void *st = lh_realm(u, EDGE_PEOPLE, BY_SUBJECT, "role-attr=none",
                        "group-base=ou=many,dc=edge,dc=example", NULL);
    struct lh_result r = lh_look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_FOUND);
    ck_assert_uint_eq(r.a.n_roles, 5);                       /* g1 .. g5, unlimited */
    lh_result_free(&r);
    lh_ops->close(st);

    /* The same search for a bind DN the server limits to 3 entries. */
    st = lh_realm(u, EDGE_PEOPLE, BY_SUBJECT, "role-attr=none",
                  "group-base=ou=many,dc=edge,dc=example",
                  "bind-dn=cn=limited,dc=edge,dc=example", "bind-password=limitedpw", NULL);
    r = lh_look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_UNAVAILABLE);
    ck_assert_uint_eq(r.a.n_roles, 0);
    ASSERT_MSG_HAS(r, "the group search under ou=many,dc=edge,dc=example hit the size limit "
                      "after 3 entries; a partial role set is never returned");
    lh_result_free(&r);
    lh_ops->close(st);

    st = lh_realm(u, EDGE_PEOPLE, BY_SUBJECT, "role-attr=none",
                  "group-base=ou=refgroups,dc=edge,dc=example", NULL);
    r = lh_look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_UNAVAILABLE);
    ck_assert_uint_eq(r.a.n_roles, 0);
    ASSERT_MSG_HAS(r, "the group search under ou=refgroups,dc=edge,dc=example returned a "
                      "referral to ldap://127.0.0.1:9/ou=groups,dc=other,dc=example");
    lh_result_free(&r);
    lh_ops->close(st);
    free(u);
}
END_TEST

static Suite *ldap_roles_suite(void)
{
    Suite *s = suite_create("ldap realm: roles");
    TCase *tc_roles = lh_tcase("roles", 1, 60);
    tcase_add_test(tc_roles, roles_from_group_searches_nested_and_mapped);
    tcase_add_test(tc_roles, group_role_names_from_another_attribute);
    tcase_add_test(tc_roles, group_search_cut_short_is_unavailable);
    suite_add_tcase(s, tc_roles);
    return s;
}

int main(void) { return lh_main(ldap_roles_suite()); }
