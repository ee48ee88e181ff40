/* The ldap realm against a real slapd: TLS (ldaps://, StartTLS), binds
 * (anonymous, simple, password file, SASL EXTERNAL), failover across
 * URIs, and failures that must answer "unavailable" within the timeouts
 * (server down, bind refused, server that never answers). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "testutil.h"
#include "ldap/realm_harness.h"

START_TEST(tls_ldaps_and_starttls_verify_the_server)
{
    char *ca = tu_strf("tls-ca-file=%s", tu_pki("ca-file.pem"));
    char *ldaps = tu_strf("uri=ldaps://127.0.0.1:%d", lh_srv.tls_port);
    void *st = lh_realm(ldaps, ca, "map=dn", "base=c=US", NULL);
    lh_expect_found(st, tu_pki("client.pem"), "crm");
    lh_ops->close(st);
    ck_assert_int_ge(lf_log_count(&lh_srv, "TLS established"), 1);

    char *u = lh_uri();
    int before = lf_log_count(&lh_srv, "STARTTLS");
    st = lh_realm(u, ca, "starttls=yes", "map=dn", "base=c=US", NULL);
    lh_expect_found(st, tu_pki("client.pem"), "crm");
    lh_ops->close(st);
    ck_assert_int_eq(lf_log_count(&lh_srv, "STARTTLS"), before + 1);

    /* A directory certificate from a CA we do not trust: fail closed. */
    char *other = tu_strf("tls-ca-file=%s", tu_pki("other-root-ca.pem"));
    st = lh_realm(ldaps, other, "map=dn", "base=c=US", NULL);
    struct lh_result r = lh_look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_UNAVAILABLE);
    ck_assert_msg(strstr(lh_msg(&r), "ldaps://127.0.0.1") != NULL, "%s", lh_msg(&r));
    lh_result_free(&r);
    lh_ops->close(st);
    st = lh_realm(u, other, "starttls=yes", "map=dn", "base=c=US", NULL);
    lh_expect_status(st, tu_pki("client.pem"), CERTROLE_REALM_UNAVAILABLE);
    lh_ops->close(st);
    free(other);
    free(u);
    free(ldaps);
    free(ca);
}
END_TEST

#define STARTTLS_OID "EXT oid=1.3.6.1.4.1.1466.20037"

/* The default: StartTLS required, except towards a loopback host (see
 * the realm's README); 'try' is opportunistic, 'yes' required. */
START_TEST(starttls_required_opportunistic_and_default)
{
    char *ca = tu_strf("tls-ca-file=%s", tu_pki("ca-file.pem"));
    char *u = lh_uri();
    char *local = tu_strf("uri=ldap://localhost:%d", lh_srv.port);
    /* loopback by address and by name: clear text by default */
    void *st = lh_realm(u, ca, "map=dn", "base=c=US", NULL);
    lh_expect_found(st, tu_pki("client.pem"), "crm");
    lh_ops->close(st);
    st = lh_realm(local, ca, "map=dn", "base=c=US", NULL);
    lh_expect_found(st, tu_pki("client.pem"), "crm");
    lh_ops->close(st);
    ck_assert_int_eq(lf_log_count(&lh_srv, STARTTLS_OID), 0);
    /* try: TLS when the server offers it */
    st = lh_realm(u, ca, "starttls=try", "map=dn", "base=c=US", NULL);
    lh_expect_found(st, tu_pki("client.pem"), "crm");
    lh_ops->close(st);
    ck_assert_int_eq(lf_log_count(&lh_srv, STARTTLS_OID), 1);
    ck_assert_int_ge(lf_log_count(&lh_srv, "TLS established"), 1);
    free(u);

    /* A directory without TLS: required fails closed, try falls back. */
    lf_stop(&lh_srv);
    lf_start_plain(&lh_srv);
    u = lh_uri();
    st = lh_realm(u, ca, "starttls=yes", "map=dn", "base=c=US", "timeout=1", "network-timeout=1", NULL);
    struct lh_result r = lh_look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_UNAVAILABLE);
    ASSERT_MSG_HAS(r, u + 4);
    ASSERT_MSG_HAS(r, "StartTLS");
    ck_assert_msg(r.seconds < 2.5, "took %.2f s", r.seconds);
    lh_result_free(&r);
    lh_ops->close(st);
    ck_assert_int_eq(lf_log_count(&lh_srv, " SRCH "), 0);

    st = lh_realm(u, ca, "starttls=try", "map=dn", "base=c=US", NULL);
    lh_expect_found(st, tu_pki("client.pem"), "crm");
    lh_ops->close(st);
    /* asked once for 'yes', once for 'try', refused both times */
    ck_assert_int_eq(lf_log_count(&lh_srv, STARTTLS_OID), 2);
    ck_assert_int_eq(lf_log_count(&lh_srv, "unsupported operation"), 2);
    ck_assert_int_ge(lf_log_count(&lh_srv, " SRCH "), 1);

    /* The default off the loopback is "required". 2130706433 is 127.0.0.1
     * written as one number: the same server, but not a name the realm
     * can tell is local, so it is treated as a network host (the safe
     * side). starttls=no proves the address reaches the server, so the
     * refusal is the StartTLS requirement and nothing else. */
    char *far = tu_strf("uri=ldap://2130706433:%d", lh_srv.port);
    st = lh_realm(far, ca, "starttls=no", "map=dn", "base=c=US", NULL);
    lh_expect_found(st, tu_pki("client.pem"), "crm");
    lh_ops->close(st);
    st = lh_realm(far, ca, "map=dn", "base=c=US", "timeout=1", "network-timeout=1", NULL);
    r = lh_look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_UNAVAILABLE);
    ASSERT_MSG_HAS(r, "StartTLS");
    lh_result_free(&r);
    lh_ops->close(st);
    ck_assert_int_eq(lf_log_count(&lh_srv, STARTTLS_OID), 3);
    free(far);
    free(local);
    free(u);
    free(ca);
}
END_TEST

START_TEST(simple_bind_and_sasl_external)
{
    char *u = lh_uri();
    /* ou=private is readable only by cn=reader and by the CRM certificate */
    void *st = lh_realm(u, "base=ou=private,dc=acme,dc=example", BY_SUBJECT, NULL);
    struct lh_result r = lh_look(st, tu_pki("client.pem"));
    ck_assert_msg(r.status != CERTROLE_REALM_FOUND, "anonymous read the private subtree");
    lh_result_free(&r);
    lh_ops->close(st);

    st = lh_realm(u, "base=ou=private,dc=acme,dc=example", BY_SUBJECT,
               "bind-dn=cn=reader,dc=acme,dc=example", "bind-password=readerpw", NULL);
    lh_expect_found(st, tu_pki("client.pem"), "hidden");
    lh_ops->close(st);

    char *pwfile = tu_strf("%s/reader.pw", lf_dir());
    tu_write_file(pwfile, "readerpw\n");
    st = lh_realm(u, "base=ou=private,dc=acme,dc=example", BY_SUBJECT,
               "bind-dn=cn=reader,dc=acme,dc=example", "bind-password-file=reader.pw", NULL);
    lh_expect_found(st, tu_pki("client.pem"), "hidden");
    lh_ops->close(st);

    st = lh_realm(u, "base=ou=private,dc=acme,dc=example", BY_SUBJECT,
               "bind-dn=cn=reader,dc=acme,dc=example", "bind-password=wrong", NULL);
    r = lh_look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_UNAVAILABLE);
    ck_assert_msg(strstr(lh_msg(&r), "Invalid credentials") != NULL, "%s", lh_msg(&r));
    ASSERT_MSG_HAS(r, u + 4);   /* the URI that refused the bind */
    lh_result_free(&r);
    lh_ops->close(st);

    char *ldaps = tu_strf("uri=ldaps://127.0.0.1:%d", lh_srv.tls_port);
    char *ca = tu_strf("tls-ca-file=%s", tu_pki("ca-file.pem"));
    char *cert = tu_strf("tls-cert=%s", tu_pki("client-chain.pem"));
    char *key = tu_strf("tls-key=%s", tu_pki("client.key"));
    st = lh_realm(ldaps, ca, cert, key, "sasl=external", "base=ou=private,dc=acme,dc=example",
               BY_SUBJECT, NULL);
    lh_expect_found(st, tu_pki("client.pem"), "hidden");
    lh_ops->close(st);
    /* SASL EXTERNAL over ldap:// turns StartTLS on by itself */
    int before = lf_log_count(&lh_srv, "STARTTLS");
    st = lh_realm(u, ca, cert, key, "sasl=external", "base=ou=private,dc=acme,dc=example",
               BY_SUBJECT, NULL);
    lh_expect_found(st, tu_pki("client.pem"), "hidden");
    lh_ops->close(st);
    ck_assert_int_eq(lf_log_count(&lh_srv, "STARTTLS"), before + 1);
    ck_assert_int_ge(lf_log_count(&lh_srv, "mech=EXTERNAL"), 2);
    /* a client certificate the directory does not trust: no bind */
    char *ocert = tu_strf("tls-cert=%s", tu_pki("other-client.pem"));
    char *okey = tu_strf("tls-key=%s", tu_pki("other-client.key"));
    st = lh_realm(ldaps, ca, ocert, okey, "sasl=external", "base=ou=private,dc=acme,dc=example",
               BY_SUBJECT, "timeout=1", "network-timeout=1", NULL);
    r = lh_look(st, tu_pki("client.pem"));
    ck_assert_msg(r.status != CERTROLE_REALM_FOUND, "an untrusted client certificate read the private subtree");
    lh_result_free(&r);
    lh_ops->close(st);
    free(ocert); free(okey);
    free(ldaps); free(ca); free(cert); free(key); free(pwfile); free(u);
}
END_TEST

START_TEST(failover_to_the_second_uri)
{
    int dead = tu_free_port();
    char *u = tu_strf("uri=ldap://127.0.0.1:%d ldap://127.0.0.1:%d", dead, lh_srv.port);
    void *st = lh_realm(u, "map=dn", "base=c=US", "timeout=1", "network-timeout=1", NULL);
    struct lh_result r = lh_look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_FOUND);
    char *second = tu_strf("ldap://127.0.0.1:%d", lh_srv.port);
    ck_assert_msg(strstr(lh_msg(&r), second) != NULL, "answered by the second URI: %s", lh_msg(&r));
    lh_result_free(&r);
    lh_ops->close(st);
    free(u);

    /* First a server that never answers: its timeout, then the second. */
    int bh_port, bh = lf_blackhole(&bh_port);
    u = tu_strf("uri=ldap://127.0.0.1:%d ldap://127.0.0.1:%d", bh_port, lh_srv.port);
    st = lh_realm(u, "map=dn", "base=c=US", "timeout=1", "network-timeout=1", NULL);
    r = lh_look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_FOUND);
    ck_assert_msg(r.seconds < 1.0 + 1.5, "took %.2f s", r.seconds);
    lh_result_free(&r);
    lh_ops->close(st);
    close(bh);
    free(second);
    free(u);
}
END_TEST

START_TEST(all_servers_dead_fails_closed_within_the_timeout)
{
    int d1 = tu_free_port(), d2 = tu_free_port();
    char *u = tu_strf("uri=ldap://127.0.0.1:%d ldap://127.0.0.1:%d", d1, d2);
    void *st = lh_realm(u, "map=dn", "base=c=US", "timeout=1", "network-timeout=1", NULL);
    struct lh_result r = lh_look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_UNAVAILABLE);
    ck_assert_msg(r.seconds < 2 * 1.0 + 1.0, "took %.2f s", r.seconds);
    char *a = tu_strf("ldap://127.0.0.1:%d", d1), *b = tu_strf("ldap://127.0.0.1:%d", d2);
    ck_assert_msg(strstr(lh_msg(&r), a) && strstr(lh_msg(&r), b), "names both URIs: %s", lh_msg(&r));
    lh_result_free(&r);
    lh_ops->close(st);
    free(a); free(b); free(u);
}
END_TEST

START_TEST(a_server_that_never_answers_times_out)
{
    int port, bh = lf_blackhole(&port);
    char *plain = tu_strf("uri=ldap://127.0.0.1:%d", port);
    char *tls = tu_strf("uri=ldaps://127.0.0.1:%d", port);
    char *ca = tu_strf("tls-ca-file=%s", tu_pki("ca-file.pem"));
    /* anonymous bind, StartTLS request, TLS handshake: each must give up */
    const char *variants[][2] = { { plain, "starttls=no" }, { plain, "starttls=yes" },
                                  { tls, "starttls=no" } };
    for (size_t i = 0; i < 3; i++) {
        void *st = lh_realm(variants[i][0], variants[i][1], ca, "map=dn", "base=c=US",
                         "timeout=1", "network-timeout=1", NULL);
        struct lh_result r = lh_look(st, tu_pki("client.pem"));
        ASSERT_STATUS(r, CERTROLE_REALM_UNAVAILABLE);
        ck_assert_msg(r.seconds >= 0.5 && r.seconds < 1.0 + 1.5, "%s %s: %.2f s (%s)",
                      variants[i][0], variants[i][1], r.seconds, lh_msg(&r));
        ASSERT_MSG_HAS(r, variants[i][0] + 4);
        ck_assert_msg(strcasestr(lh_msg(&r), "timed out") != NULL, "%s", lh_msg(&r));
        printf("never answers, %s %s: %s\n", variants[i][0], variants[i][1], lh_msg(&r));
        lh_result_free(&r);
        lh_ops->close(st);
    }
    close(bh);
    free(plain); free(tls); free(ca);
}
END_TEST

static Suite *ldap_connect_suite(void)
{
    Suite *s = suite_create("ldap realm: connect");
    TCase *tc_connect = lh_tcase("connect", 1, 60);
    tcase_add_test(tc_connect, tls_ldaps_and_starttls_verify_the_server);
    tcase_add_test(tc_connect, starttls_required_opportunistic_and_default);
    tcase_add_test(tc_connect, simple_bind_and_sasl_external);
    tcase_add_test(tc_connect, failover_to_the_second_uri);
    tcase_add_test(tc_connect, all_servers_dead_fails_closed_within_the_timeout);
    tcase_add_test(tc_connect, a_server_that_never_answers_times_out);
    suite_add_tcase(s, tc_connect);
    return s;
}

int main(void) { return lh_main(ldap_connect_suite()); }
