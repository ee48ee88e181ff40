/* The ldap realm against a real slapd: finding the one entry of a
 * certificate by subject DN, by filter template (each placeholder escaped
 * per RFC 4515), by the certificate itself; zero entries, two entries,
 * and filter injection through certificate fields. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "testutil.h"
#include "ldap/realm_harness.h"

START_TEST(dn_map_finds_the_entry_named_by_the_subject)
{
    char *u = lh_uri();
    void *st = lh_realm(u, "map=dn", "base=c=US", "role-map=" READERS ":invoice-readonly", NULL);
    struct lh_result r = lh_look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_FOUND);
    ck_assert_str_eq(r.a.user, "crm");
    /* memberOf, mapped, then nested memberOf up to the default depth 3 */
    ck_assert(lh_has_role(&r, "invoice-readonly"));
    ck_assert(!lh_has_role(&r, "invoice-readers"));
    ck_assert(lh_has_role(&r, "staff") && lh_has_role(&r, "everyone") && lh_has_role(&r, "top"));
    ck_assert_msg(!lh_has_role(&r, "beyond"), "nesting went deeper than nested-depth");
    lh_result_free(&r);
    /* A DN made of RFC 4514 special characters */
    lh_expect_found(st, lf_cert("esc"), "jsmith");
    /* No entry of that name */
    lh_expect_status(st, tu_pki("norole.pem"), CERTROLE_REALM_NOT_FOUND);
    lh_ops->close(st);

    /* The subject must lie under base= */
    st = lh_realm(u, "map=dn", "base=" PEOPLE, NULL);
    r = lh_look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_NOT_FOUND);
    ck_assert_msg(strstr(lh_msg(&r), "not under base") != NULL, "%s", lh_msg(&r));
    lh_result_free(&r);
    lh_ops->close(st);

    st = lh_realm(u, "map=dn", "nested-depth=0", NULL);
    r = lh_look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_FOUND);
    ck_assert(lh_has_role(&r, "invoice-readers") && !lh_has_role(&r, "staff"));
    lh_result_free(&r);
    lh_ops->close(st);
    free(u);
}
END_TEST

START_TEST(filter_map_finds_one_entry_and_refuses_two)
{
    char *u = lh_uri();
    void *st = lh_realm(u, "base=" PEOPLE, BY_SUBJECT, "role-attr=memberOf,employeeType",
                     "nested-depth=0", NULL);
    struct lh_result r = lh_look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_FOUND);
    ck_assert_str_eq(r.a.user, "crm");
    ck_assert(lh_has_role(&r, "invoice-readers"));
    ck_assert_msg(lh_has_role(&r, "auditor"), "a role attribute's plain value is a role");
    lh_result_free(&r);
    lh_ops->close(st);

    st = lh_realm(u, "base=" PEOPLE, "filter=(mail=%{email})", "role-attr=none", NULL);
    lh_expect_found(st, tu_pki("client.pem"), "crm");
    lh_ops->close(st);

    /* Two entries carry cn=Guest User: refuse, never pick one. */
    st = lh_realm(u, "base=" PEOPLE, BY_CN, NULL);
    r = lh_look(st, tu_pki("norole.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_REFUSED);
    ck_assert_msg(strstr(lh_msg(&r), "more than one entry") != NULL, "%s", lh_msg(&r));
    /* the message says how many, where and with which filter */
    ASSERT_MSG_HAS(r, PEOPLE);
    ASSERT_MSG_HAS(r, "(cn=Guest User)");
    lh_result_free(&r);
    lh_ops->close(st);

    /* user-attr=dn: the user is the entry's DN */
    st = lh_realm(u, "base=" PEOPLE, BY_SUBJECT, "user-attr=dn", NULL);
    lh_expect_found(st, tu_pki("client.pem"), "uid=crm," PEOPLE);
    lh_ops->close(st);
    free(u);
}
END_TEST

START_TEST(filter_placeholders_serial_issuer_fingerprint)
{
    char *u = lh_uri();
    /* %{serial}: upper-case hex of the serial number */
    void *st = lh_realm(u, "base=" PEOPLE, "filter=(&(objectClass=inetOrgPerson)(serialNumber=%{serial}))",
                        "role-attr=none", NULL);
    lh_expect_found(st, lf_cert("serialuser"), "serial");
    lh_expect_status(st, tu_pki("client.pem"), CERTROLE_REALM_NOT_FOUND);
    lh_ops->close(st);

    /* %{issuer}: RFC 4514 string, escaped per RFC 4515 so that '*', '('
     * and ')' of the issuer's name match only themselves. */
    st = lh_realm(u, "base=" PEOPLE, "filter=(&(description=%{issuer})(cn=%{cn}))", "role-attr=none", NULL);
    lh_expect_found(st, lf_cert("oddissuer"), "oddissuer");
    /* issuer CN=*: unescaped, (description=CN=*,O=Acme Corp,C=US) would be
     * a substring filter matching the entry above */
    struct lh_result r = lh_look(st, lf_cert("inj-issuer"));
    ASSERT_STATUS(r, CERTROLE_REALM_NOT_FOUND);
    lh_result_free(&r);
    lh_ops->close(st);

    /* %{fingerprint}: SHA-256 of the certificate */
    st = lh_realm(u, "base=" PEOPLE, "filter=(employeeNumber=%{fingerprint})", "role-attr=none", NULL);
    lh_expect_found(st, tu_pki("client.pem"), "crm");
    lh_expect_status(st, tu_pki("other-client.pem"), CERTROLE_REALM_NOT_FOUND);
    lh_ops->close(st);

    /* %{email} of a certificate without an email SAN: not found, and the
     * filter is never sent with a hole in it. */
    st = lh_realm(u, "base=" PEOPLE, "filter=(mail=%{email})", "role-attr=none", NULL);
    r = lh_look(st, lf_cert("serialuser"));
    ASSERT_STATUS(r, CERTROLE_REALM_NOT_FOUND);
    lh_result_free(&r);
    ck_assert_int_eq(lf_log_count(&lh_srv, "filter=\"(mail="), 0);
    lh_expect_found(st, tu_pki("client.pem"), "crm");
    ck_assert_int_eq(lf_log_count(&lh_srv, "filter=\"(mail=crm@acme.example)"), 1);
    lh_ops->close(st);
    free(u);
}
END_TEST

/* %{upn}, %{spiffe}, %{dns}, %{uri}: the first value of each SAN type,
 * RFC 4515-escaped; a certificate without one is not found and no filter
 * with a hole in it is sent; a spiffe URI that is not an SVID's ID is no
 * %{spiffe}. */
START_TEST(filter_placeholders_from_subject_alt_names)
{
    char *u = lh_uri();
    void *st = lh_realm(u, "base=" PEOPLE, "filter=(uid=%{upn})", "role-attr=none", NULL);
    lh_expect_found(st, lf_cert("upnuser"), "upn@ACME.example");
    /* "*)(uid=*" as a UPN matches only itself: not found, never every entry */
    struct lh_result r = lh_look(st, lf_cert("inj-upn"));
    ASSERT_STATUS(r, CERTROLE_REALM_NOT_FOUND);
    lh_result_free(&r);
    ck_assert_int_eq(lf_log_count(&lh_srv, "filter=\"(uid=*)"), 0);   /* never unescaped */
    lh_expect_status(st, tu_pki("client.pem"), CERTROLE_REALM_NOT_FOUND);   /* no UPN */
    lh_ops->close(st);

    st = lh_realm(u, "base=" PEOPLE, "filter=(labeledURI=%{spiffe})", "role-attr=none", NULL);
    lh_expect_found(st, lf_cert("svid"), "svid");
    r = lh_look(st, lf_cert("inj-svid"));   /* two URI SANs: no SPIFFE ID */
    ASSERT_STATUS(r, CERTROLE_REALM_NOT_FOUND);
    lh_result_free(&r);
    lh_ops->close(st);

    st = lh_realm(u, "base=" PEOPLE, "filter=(&(associatedDomain=%{dns})(labeledURI=%{uri}))",
                  "role-attr=none", NULL);
    lh_expect_found(st, lf_cert("svid"), "svid");
    lh_ops->close(st);
    free(u);
}
END_TEST

/* %{issuer_serial}: the RFC 4523 CertificateExactAssertion, found by
 * slapd's certificateExactMatch (userCertificate's equality rule), in
 * both filter spellings; a '"' in the issuer is doubled, and every value
 * is RFC 4515-escaped like any placeholder. */
START_TEST(issuer_serial_placeholder_finds_the_stored_certificate)
{
    static const char *const filters[] = {
        "filter=(userCertificate=%{issuer_serial})",
        "filter=(userCertificate:certificateExactMatch:=%{issuer_serial})",
    };
    char *u = lh_uri();
    for (size_t i = 0; i < 2; i++) {
        void *st = lh_realm(u, "base=dc=acme,dc=example", filters[i], "role-attr=none", NULL);
        lh_expect_found(st, tu_pki("client.pem"), "crm");
        lh_expect_found(st, lf_cert("quoteissuer"), "quoted");
        /* norole.pem is stored in two entries */
        lh_expect_status(st, tu_pki("norole.pem"), CERTROLE_REALM_REFUSED);
        /* same CA, never stored; same subject under another CA */
        lh_expect_status(st, lf_cert("esc"), CERTROLE_REALM_NOT_FOUND);
        lh_expect_status(st, tu_pki("other-client.pem"), CERTROLE_REALM_NOT_FOUND);
        lh_ops->close(st);
    }
    /* slapd parsed both spellings into the same assertion (its log shows
     * the normalised form): the quotes survived, and '(', ')' and '*'
     * arrived as characters of the issuer, not filter syntax */
    static const char *const seen[] = { "(userCertificate={",
                                        "(userCertificate:certificateExactMatch:={" };
    for (size_t i = 0; i < 2; i++) {
        char *want = tu_strf("%s serialNumber '51A1'H, issuer rdnSequence:\"cn=q \\5C22quoted\\5C22"
                             " \\28ca\\29\\2A,o=acme corp,c=us\" })", seen[i]);
        ck_assert_msg(lf_log_count(&lh_srv, want) >= 1, "not in the slapd log: %s", want);
        free(want);
    }
    free(u);
}
END_TEST

START_TEST(certificate_map_matches_the_exact_certificate)
{
    char *u = lh_uri();
    void *st = lh_realm(u, "map=certificate", "base=dc=acme,dc=example", NULL);
    lh_expect_found(st, tu_pki("client.pem"), "crm");
    /* norole.pem is stored in two entries */
    lh_expect_status(st, tu_pki("norole.pem"), CERTROLE_REALM_REFUSED);
    /* same CA, never stored */
    lh_expect_status(st, lf_cert("esc"), CERTROLE_REALM_NOT_FOUND);
    /* same subject, other CA, never stored */
    lh_expect_status(st, tu_pki("other-client.pem"), CERTROLE_REALM_NOT_FOUND);
    lh_ops->close(st);
    free(u);
}
END_TEST

START_TEST(filter_injection_through_certificate_fields_finds_nothing)
{
    char *u = lh_uri();
    void *st = lh_realm(u, "base=" PEOPLE, BY_CN, NULL);
    /* Unescaped, each of these would match one or several entries. */
    static const char *const attacks[] = { "inj-star", "inj-or", "inj-guest", "inj-nul",
                                           "inj-close", "starprefix" };
    for (size_t i = 0; i < sizeof attacks / sizeof attacks[0]; i++) {
        struct lh_result r = lh_look(st, lf_cert(attacks[i]));
        ck_assert_msg(r.status == CERTROLE_REALM_NOT_FOUND, "%s: status %d (%s)",
                      attacks[i], r.status, lh_msg(&r));
        lh_result_free(&r);
    }
    /* Escaping keeps meaning: the metacharacters match themselves. */
    lh_expect_found(st, lf_cert("paren"), "paren");
    lh_expect_found(st, lf_cert("staruser"), "star");
    lh_ops->close(st);

    st = lh_realm(u, "base=" PEOPLE, BY_SUBJECT, NULL);
    lh_expect_status(st, lf_cert("inj-or"), CERTROLE_REALM_NOT_FOUND);
    lh_expect_status(st, lf_cert("inj-close"), CERTROLE_REALM_NOT_FOUND);
    lh_ops->close(st);
    free(u);
}
END_TEST

/* A search continuation reference is never followed, so the referenced
 * partition could hold a second match (or the only one). */
START_TEST(a_referral_beside_the_entry_is_not_taken_as_found)
{
    char *u = lh_uri();
    void *st = lh_realm(u, "base=ou=people,dc=edge,dc=example", BY_SUBJECT, "role-attr=none", NULL);
    lh_expect_found(st, tu_pki("client.pem"), "crm");           /* no referral there */
    lh_ops->close(st);

    st = lh_realm(u, "base=ou=referred,dc=edge,dc=example", BY_SUBJECT, "role-attr=none", NULL);
    struct lh_result r = lh_look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_UNAVAILABLE);
    ASSERT_MSG_HAS(r, "the search under ou=referred,dc=edge,dc=example returned a referral to "
                      "ldap://127.0.0.1:9/ou=people,dc=other,dc=example");
    ASSERT_MSG_HAS(r, "which is not followed");
    lh_result_free(&r);
    lh_ops->close(st);

    /* Nothing here but a referral: not "not found" either. */
    st = lh_realm(u, "base=ou=onlyref,dc=edge,dc=example", BY_SUBJECT, "role-attr=none", NULL);
    r = lh_look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_UNAVAILABLE);
    ASSERT_MSG_HAS(r, "returned a referral");
    lh_result_free(&r);
    lh_ops->close(st);
    free(u);
}
END_TEST

static Suite *ldap_entry_suite(void)
{
    Suite *s = suite_create("ldap realm: entry");
    TCase *tc_entry = lh_tcase("entry", 1, 60);
    tcase_add_test(tc_entry, dn_map_finds_the_entry_named_by_the_subject);
    tcase_add_test(tc_entry, filter_map_finds_one_entry_and_refuses_two);
    tcase_add_test(tc_entry, filter_placeholders_serial_issuer_fingerprint);
    tcase_add_test(tc_entry, filter_placeholders_from_subject_alt_names);
    tcase_add_test(tc_entry, issuer_serial_placeholder_finds_the_stored_certificate);
    tcase_add_test(tc_entry, certificate_map_matches_the_exact_certificate);
    tcase_add_test(tc_entry, filter_injection_through_certificate_fields_finds_nothing);
    tcase_add_test(tc_entry, a_referral_beside_the_entry_is_not_taken_as_found);
    suite_add_tcase(s, tc_entry);
    return s;
}

int main(void) { return lh_main(ldap_entry_suite()); }
