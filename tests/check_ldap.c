/* The ldap realm against a real slapd (tests/ldap/slapd_fixture.c).
 * Each test starts its own server (so a frozen or killed one never leaks
 * into the next test), loads the built realm_ldap.so the way the core
 * does, and calls its ops table; the last tests go end to end through a
 * policy and certrole_verify_pem. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "testutil.h"
#include "ldap/slapd_fixture.h"
#include "certrole.h"
#include "certrole_realm.h"
#include "identity.h"
#include "stack.h"

#define PEOPLE "ou=people,dc=acme,dc=example"
#define GROUPS "ou=groups,dc=acme,dc=example"
#define READERS "cn=invoice-readers," GROUPS
#define BY_SUBJECT "filter=(&(objectClass=inetOrgPerson)(seeAlso=%{subject}))"
#define BY_CN "filter=(&(objectClass=inetOrgPerson)(cn=%{cn}))"

static const certrole_realm_ops *ops;
static struct lf_slapd srv;

/* ---- plumbing ------------------------------------------------------- */

static void load_plugin(void)
{
    lf_prepare();
    char *path = tu_strf("%s/realm_ldap.so", tu_env("CERTROLE_REALM_DIR", ".libs"));
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(h != NULL, "dlopen %s: %s", path, dlerror());
    ops = dlsym(h, "certrole_realm_v1");
    ck_assert(ops != NULL);
    ck_assert_uint_eq(ops->abi_version, CERTROLE_REALM_ABI_VERSION);
    ck_assert_str_eq(ops->name, "ldap");
    free(path);
}

static void srv_up(void) { lf_start(&srv); }
static void srv_down(void) { lf_stop(&srv); }

static char *uri(void) { return tu_strf("uri=ldap://127.0.0.1:%d", srv.port); }

/* Opens the realm with the given arguments (NULL-terminated); on failure
 * returns NULL with the message in err. */
static void *vopen(char *err, size_t errlen, const char *first, va_list ap)
{
    const char *argv[64];
    int argc = 0;
    for (const char *a = first; a && argc < 64; a = va_arg(ap, const char *))
        argv[argc++] = a;
    certrole_realm_env env = { .base_dir = lf_dir() };
    void *st = NULL;
    err[0] = '\0';
    if (ops->open(&st, argc, argv, &env, err, errlen) != 0) {
        ck_assert(st == NULL);
        return NULL;
    }
    ck_assert(st != NULL);
    return st;
}

static void *realm(const char *first, ...)
{
    char err[512];
    va_list ap;
    va_start(ap, first);
    void *st = vopen(err, sizeof err, first, ap);
    va_end(ap);
    ck_assert_msg(st != NULL, "open failed: %s", err);
    return st;
}

/* Expects open() to fail with a message containing 'want'. */
static void realm_err(const char *want, const char *first, ...)
{
    char err[512];
    va_list ap;
    va_start(ap, first);
    void *st = vopen(err, sizeof err, first, ap);
    va_end(ap);
    if (st)
        ops->close(st);
    ck_assert_msg(st == NULL, "open accepted arguments it should refuse (%s)", want);
    ck_assert_msg(strstr(err, want) != NULL, "error \"%s\" lacks \"%s\"", err, want);
}

struct result {
    certrole_realm_status status;
    struct certrole_answer a;
    double seconds;
};

static void result_free(struct result *r)
{
    free(r->a.user);
    for (size_t i = 0; i < r->a.n_roles; i++)
        free(r->a.roles[i]);
    free(r->a.roles);
    free(r->a.message);
    memset(r, 0, sizeof *r);
}

static struct result look(void *st, const char *pem)
{
    struct result r;
    struct certrole_identity id;
    memset(&r, 0, sizeof r);
    lf_identity(pem, &id);
    double t0 = lf_now();
    r.status = ops->lookup(st, &id, &r.a);
    r.seconds = lf_now() - t0;
    lf_identity_free(&id);
    ck_assert(!r.a.failed);
    return r;
}

static int has_role(const struct result *r, const char *role)
{
    for (size_t i = 0; i < r->a.n_roles; i++)
        if (strcmp(r->a.roles[i], role) == 0)
            return 1;
    return 0;
}

static const char *msg(const struct result *r) { return r->a.message ? r->a.message : "(none)"; }

#define ASSERT_STATUS(r, want) \
    ck_assert_msg((r).status == (want), "status %d, expected %d: %s", (r).status, (want), msg(&(r)))

static void expect_found(void *st, const char *pem, const char *user)
{
    struct result r = look(st, pem);
    ASSERT_STATUS(r, CERTROLE_REALM_FOUND);
    ck_assert_str_eq(r.a.user, user);
    result_free(&r);
}

static void expect_status(void *st, const char *pem, certrole_realm_status want)
{
    struct result r = look(st, pem);
    ASSERT_STATUS(r, want);
    result_free(&r);
}

/* ---- arguments -------------------------------------------------------- */

START_TEST(arguments_are_validated_at_open)
{
    realm_err("uri= is required", "base=" PEOPLE, NULL);
    realm_err("unknown argument 'colour'", "uri=ldap://127.0.0.1:1", "colour=blue", NULL);
    realm_err("not an LDAP URI", "uri=http://127.0.0.1:1", NULL);
    realm_err("not an LDAP URI", "uri=ldap://127.0.0.1:1 nonsense", NULL);
    realm_err("map=filter needs base=", "uri=ldap://127.0.0.1:1", BY_CN, NULL);
    realm_err("unknown placeholder", "uri=ldap://127.0.0.1:1", "base=" PEOPLE,
              "filter=(cn=%{commonname})", NULL);
    realm_err("unbalanced", "uri=ldap://127.0.0.1:1", "base=" PEOPLE, "filter=(cn=%{cn}", NULL);
    realm_err("starttls=maybe", "uri=ldap://127.0.0.1:1", "starttls=maybe", NULL);
    realm_err("needs bind-password", "uri=ldap://127.0.0.1:1", "bind-dn=cn=reader,dc=acme,dc=example", NULL);
    realm_err("not a distinguished name", "uri=ldap://127.0.0.1:1", "base=no-equals-sign", NULL);
    realm_err("sasl=external needs tls-cert", "uri=ldaps://127.0.0.1:1", "sasl=external", NULL);
    realm_err("given twice", "uri=ldap://127.0.0.1:1", "uri=ldap://127.0.0.1:2", NULL);
    realm_err("expected seconds", "uri=ldap://127.0.0.1:1", "timeout=0", NULL);
    realm_err("GROUP-DN:ROLE", "uri=ldap://127.0.0.1:1", "role-map=cn=x,dc=example", NULL);
    realm_err("memberUid needs user-attr", "uri=ldap://127.0.0.1:1", "user-attr=dn",
              "group-base=" GROUPS, "group-member-attr=memberUid", NULL);
    realm_err("bind-password-file", "uri=ldap://127.0.0.1:1", "bind-dn=cn=reader,dc=acme,dc=example",
              "bind-password-file=does-not-exist", NULL);
}
END_TEST

START_TEST(open_does_not_need_the_server)
{
    /* Nothing listens on the port: open() succeeds, lookups fail closed. */
    int dead = tu_free_port();
    char *u = tu_strf("uri=ldap://127.0.0.1:%d", dead);
    void *st = realm(u, "base=c=US", "timeout=1", "network-timeout=1", NULL);
    struct result r = look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_UNAVAILABLE);
    ck_assert_msg(strstr(msg(&r), u + 4) != NULL, "message names the URI: %s", msg(&r));
    ck_assert_msg(strstr(msg(&r), "Can't contact LDAP server") != NULL, "%s", msg(&r));
    result_free(&r);
    ops->close(st);
    free(u);
}
END_TEST

/* ---- finding the entry ------------------------------------------------ */

START_TEST(dn_map_finds_the_entry_named_by_the_subject)
{
    char *u = uri();
    void *st = realm(u, "map=dn", "base=c=US", "role-map=" READERS ":invoice-readonly", NULL);
    struct result r = look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_FOUND);
    ck_assert_str_eq(r.a.user, "crm");
    /* memberOf, mapped, then nested memberOf up to the default depth 3 */
    ck_assert(has_role(&r, "invoice-readonly"));
    ck_assert(!has_role(&r, "invoice-readers"));
    ck_assert(has_role(&r, "staff") && has_role(&r, "everyone") && has_role(&r, "top"));
    ck_assert_msg(!has_role(&r, "beyond"), "nesting went deeper than nested-depth");
    result_free(&r);
    /* A DN made of RFC 4514 special characters */
    expect_found(st, lf_cert("esc"), "jsmith");
    /* No entry of that name */
    expect_status(st, tu_pki("norole.pem"), CERTROLE_REALM_NOT_FOUND);
    ops->close(st);

    /* The subject must lie under base= */
    st = realm(u, "map=dn", "base=" PEOPLE, NULL);
    r = look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_NOT_FOUND);
    ck_assert_msg(strstr(msg(&r), "not under base") != NULL, "%s", msg(&r));
    result_free(&r);
    ops->close(st);

    st = realm(u, "map=dn", "nested-depth=0", NULL);
    r = look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_FOUND);
    ck_assert(has_role(&r, "invoice-readers") && !has_role(&r, "staff"));
    result_free(&r);
    ops->close(st);
    free(u);
}
END_TEST

START_TEST(filter_map_finds_one_entry_and_refuses_two)
{
    char *u = uri();
    void *st = realm(u, "base=" PEOPLE, BY_SUBJECT, "role-attr=memberOf,employeeType",
                     "nested-depth=0", NULL);
    struct result r = look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_FOUND);
    ck_assert_str_eq(r.a.user, "crm");
    ck_assert(has_role(&r, "invoice-readers"));
    ck_assert_msg(has_role(&r, "auditor"), "a role attribute's plain value is a role");
    result_free(&r);
    ops->close(st);

    st = realm(u, "base=" PEOPLE, "filter=(mail=%{email})", "role-attr=none", NULL);
    expect_found(st, tu_pki("client.pem"), "crm");
    ops->close(st);

    /* Two entries carry cn=Guest User: refuse, never pick one. */
    st = realm(u, "base=" PEOPLE, BY_CN, NULL);
    r = look(st, tu_pki("norole.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_REFUSED);
    ck_assert_msg(strstr(msg(&r), "more than one entry") != NULL, "%s", msg(&r));
    result_free(&r);
    ops->close(st);

    /* user-attr=dn: the user is the entry's DN */
    st = realm(u, "base=" PEOPLE, BY_SUBJECT, "user-attr=dn", NULL);
    expect_found(st, tu_pki("client.pem"), "uid=crm," PEOPLE);
    ops->close(st);
    free(u);
}
END_TEST

START_TEST(certificate_map_matches_the_exact_certificate)
{
    char *u = uri();
    void *st = realm(u, "map=certificate", "base=dc=acme,dc=example", NULL);
    expect_found(st, tu_pki("client.pem"), "crm");
    /* norole.pem is stored in two entries */
    expect_status(st, tu_pki("norole.pem"), CERTROLE_REALM_REFUSED);
    /* same CA, never stored */
    expect_status(st, lf_cert("esc"), CERTROLE_REALM_NOT_FOUND);
    /* same subject, other CA, never stored */
    expect_status(st, tu_pki("other-client.pem"), CERTROLE_REALM_NOT_FOUND);
    ops->close(st);
    free(u);
}
END_TEST

START_TEST(filter_injection_through_certificate_fields_finds_nothing)
{
    char *u = uri();
    void *st = realm(u, "base=" PEOPLE, BY_CN, NULL);
    /* Unescaped, each of these would match one or several entries. */
    static const char *const attacks[] = { "inj-star", "inj-or", "inj-guest", "inj-nul",
                                           "inj-close", "starprefix" };
    for (size_t i = 0; i < sizeof attacks / sizeof attacks[0]; i++) {
        struct result r = look(st, lf_cert(attacks[i]));
        ck_assert_msg(r.status == CERTROLE_REALM_NOT_FOUND, "%s: status %d (%s)",
                      attacks[i], r.status, msg(&r));
        result_free(&r);
    }
    /* Escaping keeps meaning: the metacharacters match themselves. */
    expect_found(st, lf_cert("paren"), "paren");
    expect_found(st, lf_cert("staruser"), "star");
    ops->close(st);

    st = realm(u, "base=" PEOPLE, BY_SUBJECT, NULL);
    expect_status(st, lf_cert("inj-or"), CERTROLE_REALM_NOT_FOUND);
    expect_status(st, lf_cert("inj-close"), CERTROLE_REALM_NOT_FOUND);
    ops->close(st);
    free(u);
}
END_TEST

/* ---- roles ------------------------------------------------------------ */

START_TEST(roles_from_group_searches_nested_and_mapped)
{
    char *u = uri();
    void *st = realm(u, "base=" PEOPLE, BY_SUBJECT, "role-attr=none", "group-base=" GROUPS,
                     "group-member-attr=member,uniqueMember,memberUid",
                     "role-map=" READERS ":invoice-readonly;cn=sales," GROUPS ":sales-team", NULL);
    struct result r = look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_FOUND);
    static const char *const want[] = { "invoice-readonly", "staff", "everyone", "top",
                                        "sales-team", "crm-unix", "loop-a", "loop-b",
                                        "R&D (west)*", "rnd-all" };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_msg(has_role(&r, want[i]), "missing role %s", want[i]);
    ck_assert(!has_role(&r, "invoice-readers") && !has_role(&r, "sales"));
    ck_assert(!has_role(&r, "beyond") && !has_role(&r, "admins"));
    ck_assert_uint_eq(r.a.n_roles, sizeof want / sizeof want[0]);
    result_free(&r);
    ops->close(st);

    /* Direct membership only; role-map-only keeps just the mapped group. */
    st = realm(u, "base=" PEOPLE, BY_SUBJECT, "role-attr=none", "group-base=" GROUPS,
               "nested-depth=0", NULL);
    r = look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_FOUND);
    ck_assert(has_role(&r, "invoice-readers") && has_role(&r, "sales") && has_role(&r, "loop-a"));
    ck_assert(!has_role(&r, "staff") && !has_role(&r, "loop-b") && !has_role(&r, "crm-unix"));
    result_free(&r);
    ops->close(st);

    char *map = tu_strf("%s/roles.map", lf_dir());
    tu_write_file(map, "# group DN : role\n" READERS ":invoice-readonly\n");
    st = realm(u, "base=" PEOPLE, BY_SUBJECT, "group-base=" GROUPS, "role-map-file=roles.map",
               "role-map-only=yes", NULL);
    r = look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_FOUND);
    ck_assert_uint_eq(r.a.n_roles, 1);
    ck_assert_str_eq(r.a.roles[0], "invoice-readonly");
    result_free(&r);
    ops->close(st);
    free(map);
    free(u);
}
END_TEST

/* ---- TLS and binds ---------------------------------------------------- */

START_TEST(tls_ldaps_and_starttls_verify_the_server)
{
    char *ca = tu_strf("tls-ca-file=%s", tu_pki("ca-file.pem"));
    char *ldaps = tu_strf("uri=ldaps://127.0.0.1:%d", srv.tls_port);
    void *st = realm(ldaps, ca, "map=dn", "base=c=US", NULL);
    expect_found(st, tu_pki("client.pem"), "crm");
    ops->close(st);
    ck_assert_int_ge(lf_log_count(&srv, "TLS established"), 1);

    char *u = uri();
    int before = lf_log_count(&srv, "STARTTLS");
    st = realm(u, ca, "starttls=yes", "map=dn", "base=c=US", NULL);
    expect_found(st, tu_pki("client.pem"), "crm");
    ops->close(st);
    ck_assert_int_eq(lf_log_count(&srv, "STARTTLS"), before + 1);

    /* A directory certificate from a CA we do not trust: fail closed. */
    char *other = tu_strf("tls-ca-file=%s", tu_pki("other-root-ca.pem"));
    st = realm(ldaps, other, "map=dn", "base=c=US", NULL);
    struct result r = look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_UNAVAILABLE);
    ck_assert_msg(strstr(msg(&r), "ldaps://127.0.0.1") != NULL, "%s", msg(&r));
    result_free(&r);
    ops->close(st);
    st = realm(u, other, "starttls=yes", "map=dn", "base=c=US", NULL);
    expect_status(st, tu_pki("client.pem"), CERTROLE_REALM_UNAVAILABLE);
    ops->close(st);
    free(other);
    free(u);
    free(ldaps);
    free(ca);
}
END_TEST

START_TEST(simple_bind_and_sasl_external)
{
    char *u = uri();
    /* ou=private is readable only by cn=reader and by the CRM certificate */
    void *st = realm(u, "base=ou=private,dc=acme,dc=example", BY_SUBJECT, NULL);
    struct result r = look(st, tu_pki("client.pem"));
    ck_assert_msg(r.status != CERTROLE_REALM_FOUND, "anonymous read the private subtree");
    result_free(&r);
    ops->close(st);

    st = realm(u, "base=ou=private,dc=acme,dc=example", BY_SUBJECT,
               "bind-dn=cn=reader,dc=acme,dc=example", "bind-password=readerpw", NULL);
    expect_found(st, tu_pki("client.pem"), "hidden");
    ops->close(st);

    char *pwfile = tu_strf("%s/reader.pw", lf_dir());
    tu_write_file(pwfile, "readerpw\n");
    st = realm(u, "base=ou=private,dc=acme,dc=example", BY_SUBJECT,
               "bind-dn=cn=reader,dc=acme,dc=example", "bind-password-file=reader.pw", NULL);
    expect_found(st, tu_pki("client.pem"), "hidden");
    ops->close(st);

    st = realm(u, "base=ou=private,dc=acme,dc=example", BY_SUBJECT,
               "bind-dn=cn=reader,dc=acme,dc=example", "bind-password=wrong", NULL);
    r = look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_UNAVAILABLE);
    ck_assert_msg(strstr(msg(&r), "Invalid credentials") != NULL, "%s", msg(&r));
    result_free(&r);
    ops->close(st);

    char *ldaps = tu_strf("uri=ldaps://127.0.0.1:%d", srv.tls_port);
    char *ca = tu_strf("tls-ca-file=%s", tu_pki("ca-file.pem"));
    char *cert = tu_strf("tls-cert=%s", tu_pki("client-chain.pem"));
    char *key = tu_strf("tls-key=%s", tu_pki("client.key"));
    st = realm(ldaps, ca, cert, key, "sasl=external", "base=ou=private,dc=acme,dc=example",
               BY_SUBJECT, NULL);
    expect_found(st, tu_pki("client.pem"), "hidden");
    ops->close(st);
    free(ldaps); free(ca); free(cert); free(key); free(pwfile); free(u);
}
END_TEST

/* ---- failures: failover and timeouts ---------------------------------- */

START_TEST(failover_to_the_second_uri)
{
    int dead = tu_free_port();
    char *u = tu_strf("uri=ldap://127.0.0.1:%d ldap://127.0.0.1:%d", dead, srv.port);
    void *st = realm(u, "map=dn", "base=c=US", "timeout=1", "network-timeout=1", NULL);
    struct result r = look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_FOUND);
    char *second = tu_strf("ldap://127.0.0.1:%d", srv.port);
    ck_assert_msg(strstr(msg(&r), second) != NULL, "answered by the second URI: %s", msg(&r));
    result_free(&r);
    ops->close(st);
    free(u);

    /* First a server that never answers: its timeout, then the second. */
    int bh_port, bh = lf_blackhole(&bh_port);
    u = tu_strf("uri=ldap://127.0.0.1:%d ldap://127.0.0.1:%d", bh_port, srv.port);
    st = realm(u, "map=dn", "base=c=US", "timeout=1", "network-timeout=1", NULL);
    r = look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_FOUND);
    ck_assert_msg(r.seconds < 1.0 + 1.5, "took %.2f s", r.seconds);
    result_free(&r);
    ops->close(st);
    close(bh);
    free(second);
    free(u);
}
END_TEST

START_TEST(all_servers_dead_fails_closed_within_the_timeout)
{
    int d1 = tu_free_port(), d2 = tu_free_port();
    char *u = tu_strf("uri=ldap://127.0.0.1:%d ldap://127.0.0.1:%d", d1, d2);
    void *st = realm(u, "map=dn", "base=c=US", "timeout=1", "network-timeout=1", NULL);
    struct result r = look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_UNAVAILABLE);
    ck_assert_msg(r.seconds < 2 * 1.0 + 1.0, "took %.2f s", r.seconds);
    char *a = tu_strf("ldap://127.0.0.1:%d", d1), *b = tu_strf("ldap://127.0.0.1:%d", d2);
    ck_assert_msg(strstr(msg(&r), a) && strstr(msg(&r), b), "names both URIs: %s", msg(&r));
    result_free(&r);
    ops->close(st);
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
        void *st = realm(variants[i][0], variants[i][1], ca, "map=dn", "base=c=US",
                         "timeout=1", "network-timeout=1", NULL);
        struct result r = look(st, tu_pki("client.pem"));
        ASSERT_STATUS(r, CERTROLE_REALM_UNAVAILABLE);
        ck_assert_msg(r.seconds >= 0.5 && r.seconds < 1.0 + 1.5, "%s %s: %.2f s (%s)",
                      variants[i][0], variants[i][1], r.seconds, msg(&r));
        result_free(&r);
        ops->close(st);
    }
    close(bh);
    free(plain); free(tls); free(ca);
}
END_TEST

/* ---- cache and pool --------------------------------------------------- */

START_TEST(cache_answers_without_the_server_until_reload)
{
    char *u = uri();
    void *st = realm(u, "map=dn", "base=c=US", "cache-ttl=60", "negative-ttl=60",
                     "timeout=1", "network-timeout=1", NULL);
    expect_found(st, tu_pki("client.pem"), "crm");
    expect_status(st, tu_pki("norole.pem"), CERTROLE_REALM_NOT_FOUND);
    int searches = lf_log_count(&srv, " SRCH ");
    ck_assert_int_gt(searches, 0);

    /* Repeat lookups: no traffic at all, positive and negative. */
    struct result r = look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_FOUND);
    ck_assert(has_role(&r, "invoice-readers"));
    result_free(&r);
    expect_status(st, tu_pki("norole.pem"), CERTROLE_REALM_NOT_FOUND);
    ck_assert_int_eq(lf_log_count(&srv, " SRCH "), searches);

    /* Even with the server frozen. */
    lf_freeze(&srv, 1);
    r = look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_FOUND);
    ck_assert_msg(r.seconds < 0.2, "cached lookup took %.3f s", r.seconds);
    result_free(&r);
    expect_status(st, tu_pki("norole.pem"), CERTROLE_REALM_NOT_FOUND);

    /* reload() empties the cache: now the frozen server must time out. */
    char err[256];
    ck_assert_int_eq(ops->reload(st, err, sizeof err), 0);
    r = look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_UNAVAILABLE);
    ck_assert_msg(r.seconds < 1.0 + 1.5, "took %.2f s", r.seconds);
    result_free(&r);
    lf_freeze(&srv, 0);
    ops->close(st);

    /* cache-ttl=0: a frozen server behind a pooled connection times out. */
    st = realm(u, "map=dn", "base=c=US", "cache-ttl=0", "negative-ttl=0", "timeout=1", NULL);
    expect_found(st, tu_pki("client.pem"), "crm");
    lf_freeze(&srv, 1);
    r = look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_UNAVAILABLE);
    ck_assert_msg(r.seconds >= 0.5 && r.seconds < 1.0 + 1.5, "took %.2f s", r.seconds);
    result_free(&r);
    lf_freeze(&srv, 0);
    ops->close(st);
    free(u);
}
END_TEST

START_TEST(cache_expires_after_its_ttl)
{
    char *u = uri();
    void *st = realm(u, "map=dn", "base=c=US", "cache-ttl=1", "timeout=1", NULL);
    expect_found(st, tu_pki("client.pem"), "crm");
    lf_freeze(&srv, 1);
    expect_found(st, tu_pki("client.pem"), "crm");
    usleep(1100 * 1000);
    expect_status(st, tu_pki("client.pem"), CERTROLE_REALM_UNAVAILABLE);
    lf_freeze(&srv, 0);
    ops->close(st);
    free(u);
}
END_TEST

START_TEST(cached_lookups_are_a_hundred_times_faster)
{
    char *u = uri();
    void *cold = realm(u, "base=" PEOPLE, BY_SUBJECT, "group-base=" GROUPS, "cache-ttl=0", NULL);
    void *warm = realm(u, "base=" PEOPLE, BY_SUBJECT, "group-base=" GROUPS, "cache-ttl=60", NULL);
    struct certrole_identity id;
    lf_identity(tu_pki("client.pem"), &id);
    const int n_cold = 100, n_warm = 20000;
    double t0 = lf_now();
    for (int i = 0; i < n_cold; i++) {
        struct certrole_answer a;
        memset(&a, 0, sizeof a);
        ck_assert_int_eq(ops->lookup(cold, &id, &a), CERTROLE_REALM_FOUND);
        struct result r = { .a = a };
        result_free(&r);
    }
    double per_cold = (lf_now() - t0) / n_cold;
    t0 = lf_now();
    for (int i = 0; i < n_warm; i++) {
        struct certrole_answer a;
        memset(&a, 0, sizeof a);
        ck_assert_int_eq(ops->lookup(warm, &id, &a), CERTROLE_REALM_FOUND);
        struct result r = { .a = a };
        result_free(&r);
    }
    double per_warm = (lf_now() - t0) / n_warm;
    printf("ldap realm lookup: uncached %.1f us, cached %.3f us, ratio %.0fx\n",
           per_cold * 1e6, per_warm * 1e6, per_cold / per_warm);
    /* The target (#6) is 100x; under valgrind only the cached side (all
     * in-process) slows down a hundredfold, so demand less there. */
    const char *preload = getenv("LD_PRELOAD");
    double want = preload && strstr(preload, "vgpreload") ? 20 : 100;
    ck_assert_msg(per_cold / per_warm >= want, "cached only %.0fx faster", per_cold / per_warm);
    lf_identity_free(&id);
    ops->close(cold);
    ops->close(warm);
    free(u);
}
END_TEST

START_TEST(pool_reuses_connections_and_reopens_broken_ones)
{
    char *u = uri();
    void *st = realm(u, "map=dn", "base=c=US", "cache-ttl=0", "pool-size=2", NULL);
    /* Each new connection binds once (the readiness probes never do). */
    for (int i = 0; i < 20; i++)
        expect_found(st, tu_pki("client.pem"), "crm");
    ck_assert_int_eq(lf_log_count(&srv, " BIND dn="), 1);

    /* The server restarts on the same port: the idle connection is dead;
     * the next lookup notices, reconnects and answers. */
    int port = srv.port, tls_port = srv.tls_port;
    lf_stop(&srv);
    srv.port = port;
    srv.tls_port = tls_port;
    char *urls = tu_strf("ldap://127.0.0.1:%d/ ldaps://127.0.0.1:%d/", port, tls_port);
    char *conf = tu_strf("%s/slapd.conf", lf_dir());
    srv.log = tu_strf("%s/slapd-%d-again.log", lf_dir(), port);
    char *argv[] = { (char *)tu_env("SLAPD", "slapd"), "-f", conf, "-h", urls, "-d", "stats", NULL };
    srv.pid = tu_spawn(argv, srv.log);
    ck_assert_int_eq(tu_wait_port(port, 10000), 0);
    expect_found(st, tu_pki("client.pem"), "crm");
    ops->close(st);
    free(urls); free(conf); free(u);
}
END_TEST

struct worker { void *st; int ok; };

static void *work(void *arg)
{
    struct worker *w = arg;
    struct certrole_identity id;
    lf_identity(tu_pki("client.pem"), &id);
    for (int i = 0; i < 25; i++) {
        struct certrole_answer a;
        memset(&a, 0, sizeof a);
        if (ops->lookup(w->st, &id, &a) == CERTROLE_REALM_FOUND && a.user &&
            strcmp(a.user, "crm") == 0 && a.n_roles == 4)
            w->ok++;
        struct result r = { .a = a };
        result_free(&r);
    }
    lf_identity_free(&id);
    return NULL;
}

START_TEST(many_threads_share_one_realm)
{
    char *u = uri();
    void *st = realm(u, "map=dn", "base=c=US", "cache-ttl=0", "pool-size=2", NULL);
    pthread_t t[4];
    struct worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){ .st = st };
        ck_assert_int_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(w[i].ok, 25);
    }
    ops->close(st);
    free(u);
}
END_TEST

/* ---- end to end through a policy -------------------------------------- */

static certrole_ctx *policy_ctx(const char *realm_args)
{
    char *text = tu_strf("trust ca-file=%s\n"
                         "realm required ldap uri=ldap://127.0.0.1:%d %s\n"
                         "require GET /InvoiceService/list invoice-readonly\n",
                         tu_pki("ca-file.pem"), srv.port, realm_args);
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    certrole_code rc = certrole_open_string(&ctx, text, "ldap-test.policy", &err);
    ck_assert_msg(rc == CERTROLE_OK, "policy: %s\n%s", err ? err : "?", text);
    free(text);
    return ctx;
}

static certrole_result *verify(certrole_ctx *ctx, const char *chain)
{
    size_t len;
    char *pem = tu_read_file(chain, &len);
    ck_assert(pem != NULL);
    certrole_result *res = NULL;
    certrole_verify_pem(ctx, pem, len, &res);
    ck_assert(res != NULL);
    free(pem);
    return res;
}

START_TEST(end_to_end_through_a_policy)
{
    certrole_ctx *ctx = policy_ctx("base=" PEOPLE " \"" BY_SUBJECT "\" group-base=" GROUPS
                                   " \"role-map=" READERS ":invoice-readonly\"");
    certrole_result *res = verify(ctx, tu_pki("client-chain.pem"));
    ck_assert_msg(certrole_result_allowed(res), "%s", certrole_result_message(res));
    ck_assert_str_eq(certrole_result_user(res), "crm");
    ck_assert(certrole_result_has_role(res, "invoice-readonly"));
    ck_assert_int_eq(certrole_authorize(ctx, res, "GET", "/InvoiceService/list"), CERTROLE_OK);
    certrole_result_free(res);

    res = verify(ctx, tu_pki("norole-chain.pem"));
    ck_assert_int_eq(certrole_result_code(res), CERTROLE_E_UNKNOWN_IDENTITY);
    certrole_result_free(res);

    /* the escaped-DN certificate goes through the core's DN code too */
    certrole_close(ctx);
    ctx = policy_ctx("map=dn base=c=US");
    res = verify(ctx, lf_chain("esc"));
    ck_assert_msg(certrole_result_allowed(res), "%s", certrole_result_message(res));
    ck_assert_str_eq(certrole_result_user(res), "jsmith");
    certrole_result_free(res);
    res = verify(ctx, lf_chain("inj-star"));
    ck_assert_int_eq(certrole_result_code(res), CERTROLE_E_UNKNOWN_IDENTITY);
    certrole_result_free(res);
    certrole_close(ctx);
}
END_TEST

START_TEST(end_to_end_server_down_is_realm_unavailable)
{
    certrole_ctx *ctx = policy_ctx("map=dn base=c=US timeout=1 network-timeout=1");
    lf_stop(&srv);
    double t0 = lf_now();
    certrole_result *res = verify(ctx, tu_pki("client-chain.pem"));
    double took = lf_now() - t0;
    ck_assert_int_eq(certrole_result_code(res), CERTROLE_E_REALM_UNAVAILABLE);
    ck_assert(!certrole_result_allowed(res));
    ck_assert_msg(took < 2.5, "took %.2f s", took);
    ck_assert_msg(strstr(certrole_result_message(res), "Can't contact LDAP server") != NULL,
                  "%s", certrole_result_message(res));
    certrole_result_free(res);
    certrole_close(ctx);
}
END_TEST

static Suite *ldap_suite(void)
{
    Suite *s = suite_create("ldap realm");
    TCase *args = tcase_create("arguments");
    tcase_add_unchecked_fixture(args, load_plugin, NULL);
    tcase_set_timeout(args, 30);
    tcase_add_test(args, arguments_are_validated_at_open);
    tcase_add_test(args, open_does_not_need_the_server);
    suite_add_tcase(s, args);

    TCase *tc = tcase_create("slapd");
    tcase_add_unchecked_fixture(tc, load_plugin, NULL);
    tcase_add_checked_fixture(tc, srv_up, srv_down);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, dn_map_finds_the_entry_named_by_the_subject);
    tcase_add_test(tc, filter_map_finds_one_entry_and_refuses_two);
    tcase_add_test(tc, certificate_map_matches_the_exact_certificate);
    tcase_add_test(tc, filter_injection_through_certificate_fields_finds_nothing);
    tcase_add_test(tc, roles_from_group_searches_nested_and_mapped);
    tcase_add_test(tc, tls_ldaps_and_starttls_verify_the_server);
    tcase_add_test(tc, simple_bind_and_sasl_external);
    tcase_add_test(tc, failover_to_the_second_uri);
    tcase_add_test(tc, all_servers_dead_fails_closed_within_the_timeout);
    tcase_add_test(tc, a_server_that_never_answers_times_out);
    tcase_add_test(tc, cache_answers_without_the_server_until_reload);
    tcase_add_test(tc, cache_expires_after_its_ttl);
    tcase_add_test(tc, cached_lookups_are_a_hundred_times_faster);
    tcase_add_test(tc, pool_reuses_connections_and_reopens_broken_ones);
    tcase_add_test(tc, many_threads_share_one_realm);
    suite_add_tcase(s, tc);

    TCase *e2e = tcase_create("policy");
    tcase_add_unchecked_fixture(e2e, load_plugin, NULL);
    tcase_add_checked_fixture(e2e, srv_up, srv_down);
    tcase_set_timeout(e2e, 60);
    tcase_add_test(e2e, end_to_end_through_a_policy);
    tcase_add_test(e2e, end_to_end_server_down_is_realm_unavailable);
    suite_add_tcase(s, e2e);
    return s;
}

int main(void)
{
    int rc = lf_available();
    if (rc != 0)
        return rc;
    rc = tu_run_suite(ldap_suite());
    lf_cleanup();
    return rc;
}
