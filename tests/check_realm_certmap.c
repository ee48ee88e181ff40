/* The certmap realm (SSSD match rules through libsss_certmap) and the
 * LDAP realm's certmap-match=/certmap-map= keys against a real slapd.
 * Certificates are made by openssl at test time. */
#define _GNU_SOURCE
#include <check.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "certmap_rule.h"
#include "ldap/realm_harness.h"
#include "testutil.h"

static const certrole_realm_ops *cm_ops;
static char *dir;

/* NAME.pem issued by "O=Acme, CN=Acme CA" with the given extensions. */
static void issue(const char *name, const char *cn, const char *exts)
{
    char *cmd = tu_strf("cd '%s' && '%s' req -config min.cnf -x509 -CA ca.pem -CAkey ca.key "
                        "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout %s.key "
                        "-out %s.pem -subj '/O=Acme/CN=%s' -days 2 "
                        "-addext basicConstraints=critical,CA:FALSE %s 2>&1",
                        dir, tu_env("OPENSSL", "openssl"), name, name, cn, exts);
    char *out = NULL;
    ck_assert_msg(tu_run(cmd, &out) == 0, "%s: %s", cmd, out ? out : "");
    free(out);
    free(cmd);
}

static void make_pki(void)
{
    if (dir)
        return;
    dir = tu_mkdtemp("certmap");
    char *cnf = tu_strf("%s/min.cnf", dir);
    tu_write_file(cnf, "[req]\ndistinguished_name=dn\n[dn]\n");
    free(cnf);
    char *cmd = tu_strf("cd '%s' && '%s' req -config min.cnf -x509 -newkey ec -pkeyopt "
                        "ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem "
                        "-subj '/O=Acme/CN=Acme CA' -days 2 2>&1", dir, tu_env("OPENSSL", "openssl"));
    char *out = NULL;
    ck_assert_msg(tu_run(cmd, &out) == 0, "%s", out ? out : "");
    free(out);
    free(cmd);
    issue("alice", "alice", "-addext keyUsage=critical,digitalSignature "
          "-addext extendedKeyUsage=clientAuth -addext 'subjectAltName=email:alice@acme.example,"
          "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:alice@corp.example'");
    issue("bob", "bob", "-addext keyUsage=critical,keyEncipherment "
          "-addext extendedKeyUsage=serverAuth -addext subjectAltName=email:bob@acme.example");
    issue("carol", "carol", "-addext keyUsage=critical,digitalSignature");
    issue("dave", "dave", "-addext 'subjectAltName=email:ceo@acme.example,"
          "email:dave@acme.example'");
}

static void load_plugin(void)
{
    make_pki();
    if (cm_ops)
        return;
    char *path = tu_strf("%s/realm_certmap.so", tu_env("CERTROLE_REALM_DIR", ".libs"));
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(h != NULL, "dlopen %s: %s", path, dlerror());
    cm_ops = dlsym(h, "certrole_realm_v1");
    ck_assert(cm_ops != NULL);
    ck_assert_str_eq(cm_ops->name, "certmap");
    free(path);
}

/* Opens the realm on a rules file holding text; NULL with err on refusal. */
static void *cm_open(const char *text, char *err, size_t errlen)
{
    char *path = tu_strf("%s/rules.conf", dir);
    tu_write_file(path, text);
    free(path);
    const char *argv[] = { "rules=rules.conf" };
    certrole_realm_env env = { .base_dir = dir };
    void *st = NULL;
    err[0] = '\0';
    if (cm_ops->open(&st, 1, argv, &env, err, errlen) != 0) {
        ck_assert(st == NULL);
        return NULL;
    }
    return st;
}

static void *cm_realm(const char *text)
{
    char err[512];
    void *st = cm_open(text, err, sizeof err);
    ck_assert_msg(st != NULL, "open failed: %s", err);
    return st;
}

static void cm_refused(const char *text, const char *want)
{
    char err[512];
    void *st = cm_open(text, err, sizeof err);
    if (st)
        cm_ops->close(st);
    ck_assert_msg(st == NULL, "rules loaded that should not: %s", text);
    ck_assert_msg(strstr(err, want) != NULL, "error \"%s\" lacks \"%s\"", err, want);
}

static struct lh_result cm_look(void *st, const char *name)
{
    struct lh_result r;
    struct certrole_identity id;
    memset(&r, 0, sizeof r);
    char *pem = tu_strf("%s/%s.pem", dir, name);
    lf_identity(pem, &id);
    r.status = cm_ops->lookup(st, &id, &r.a);
    lf_identity_free(&id);
    free(pem);
    return r;
}

/* Looks NAME up and checks the status and, when found, user and roles
 * (roles: comma-joined, sorted). */
static void expect(void *st, const char *name, certrole_realm_status want, const char *user,
                   const char *roles)
{
    struct lh_result r = cm_look(st, name);
    ck_assert_msg(r.status == want, "%s: status %d, expected %d: %s", name, r.status, want,
                  lh_msg(&r));
    if (want == CERTROLE_REALM_FOUND) {
        ck_assert_str_eq(r.a.user, user);
        char got[256] = "";
        for (size_t i = 0; i < r.a.n_roles; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", i ? "," : "",
                     r.a.roles[i]);
        ck_assert_str_eq(got, roles);
    }
    lh_result_free(&r);
}

/* ---- the rules file ---------------------------------------------------- */

START_TEST(bad_rule_refuses_with_location)
{
    /* libsss_certmap's own reason, at the match rule's line and column */
    cm_refused("# rules\n\nmatch=\"<SUBJECT\" roles=a\n", "rules.conf:3:7: match rule: libsss_certmap");
    cm_refused("match=\"<KU>noSuchUsage\" roles=a\n", "rules.conf:1:7: match rule:");
    cm_refused("  roles=a match=\"<EKU>clientAuth<NOPE>x\"\n", "rules.conf:1:17:");
    cm_refused("match=\"X509:<SUBJECT>x\" roles=a\n", "does not support this rule type");
}
END_TEST

START_TEST(unknown_key_and_bad_fields)
{
    cm_refused("match=\"<SUBJECT>x\" roles=a colour=red\n",
               "rules.conf:1:28: unknown key 'colour' (keys: match, roles, user, priority)");
    cm_refused("match=\"<SUBJECT>x\"\n", "rules.conf:1:1: missing roles=");
    cm_refused("roles=a\n", "rules.conf:1:1: missing match=");
    cm_refused("match=\"<SUBJECT>x\" roles=a roles=b\n", "rules.conf:1:28: roles= given twice");
    cm_refused("match=\"<SUBJECT>a\\.b\" roles=a\n", "rules.conf:1:18: inside quotes only");
    cm_refused("match=\"<SUBJECT>x roles=a\n", "rules.conf:1:7: unterminated quote");
    cm_refused("match=\"<SUBJECT>x\"roles=a\n", "rules.conf:1:19: expected a blank");
    cm_refused("match=<SUBJECT>a\\.b roles=a\n", "rules.conf:1:17: a bare value");
    cm_refused("match=\"<SUBJECT>x\" roles=a,,b\n", "roles: '' is not a role name");
    cm_refused("match=\"<SUBJECT>x\" roles=\"a b\"\n", "roles: 'a b' is not a role name");
    cm_refused("match=\"<SUBJECT>x\" roles=a priority=4294967296\n", "rules.conf:1:37: priority=");
    cm_refused("match=\"<SUBJECT>x\" roles=a priority=-1\n", "priority=-1: expected");
    cm_refused("match=\"<SUBJECT>x\" roles=a user=%{uid}\n", "user: unknown placeholder");
    cm_refused("match=\"<SUBJECT>x\" roles=a user=\n", "rules.conf:1:33: empty value");
    cm_refused("match=\"<SUBJECT>x\" roles=a", "does not end in a newline");
    cm_refused("match=\"<SUBJECT>x\" roles=a\nmatch=\"<SUBJECT>y\" roles=b \"\n",
               "rules.conf:2:28: expected key=value");
}
END_TEST

START_TEST(empty_file_and_arguments)
{
    cm_refused("", "no rules");
    cm_refused("# only a comment\n\n   \n", "no rules");
    char err[256];
    void *st = NULL;
    certrole_realm_env env = { .base_dir = dir };
    const char *none[] = { "path=x" }, *missing[] = { "rules=does-not-exist" };
    ck_assert_int_ne(cm_ops->open(&st, 0, NULL, &env, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "missing rules=FILE"), "%s", err);
    ck_assert_int_ne(cm_ops->open(&st, 1, none, &env, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "unknown argument 'path=x'"), "%s", err);
    ck_assert_int_ne(cm_ops->open(&st, 1, missing, &env, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "does-not-exist"), "%s", err);
    /* a NUL inside the file */
    char *path = tu_strf("%s/rules.conf", dir);
    FILE *f = fopen(path, "w");
    ck_assert(f && fwrite("match=\"<SUBJECT>a\0b\" roles=a\n", 1, 29, f) == 29);
    fclose(f);
    const char *argv[] = { "rules=rules.conf" };
    ck_assert_int_ne(cm_ops->open(&st, 1, argv, &env, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "rules.conf:1:18: NUL byte"), "%s", err);
    free(path);
}
END_TEST

/* ---- matching ----------------------------------------------------------- */

START_TEST(eku_and_ku_conditions)
{
    void *st = cm_realm("match=\"<EKU>clientAuth\" roles=app.client user=%{cn}\n");
    expect(st, "alice", CERTROLE_REALM_FOUND, "alice", "app.client");
    expect(st, "bob", CERTROLE_REALM_NOT_FOUND, NULL, NULL);     /* serverAuth only */
    expect(st, "carol", CERTROLE_REALM_NOT_FOUND, NULL, NULL);   /* no EKU at all */
    cm_ops->close(st);
    st = cm_realm("match=\"<KU>keyEncipherment\" roles=k user=%{cn}\n");
    expect(st, "bob", CERTROLE_REALM_FOUND, "bob", "k");
    expect(st, "alice", CERTROLE_REALM_NOT_FOUND, NULL, NULL);
    cm_ops->close(st);
}
END_TEST

START_TEST(subject_issuer_san_and_combinations)
{
    void *st = cm_realm(
        "# the example of the manual page\n"
        "match=\"<ISSUER>^CN=Acme CA,O=Acme$<EKU>clientAuth\"  roles=invoice.write,invoice.read"
        "  user=%{cn}  priority=10\n");
    expect(st, "alice", CERTROLE_REALM_FOUND, "alice", "invoice.read,invoice.write");
    expect(st, "bob", CERTROLE_REALM_NOT_FOUND, NULL, NULL);
    cm_ops->close(st);
    st = cm_realm("match=\"<SUBJECT>^CN=bob,O=Acme$\" roles=b\n");
    expect(st, "bob", CERTROLE_REALM_FOUND, "CN=bob,O=Acme", "b");   /* default: subject DN */
    expect(st, "alice", CERTROLE_REALM_NOT_FOUND, NULL, NULL);
    cm_ops->close(st);
    st = cm_realm("match=\"<SAN:ntPrincipalName>^alice@corp\\\\.example$\" roles=u user=%{upn}\n"
                  "match=\"<SAN:rfc822Name>^bob@\" roles=m user=%{email}\n");
    expect(st, "alice", CERTROLE_REALM_FOUND, "alice@corp.example", "u");
    expect(st, "bob", CERTROLE_REALM_FOUND, "bob@acme.example", "m");
    expect(st, "carol", CERTROLE_REALM_NOT_FOUND, NULL, NULL);
    cm_ops->close(st);
    st = cm_realm("match=\"&&<SUBJECT>alice<EKU>serverAuth\" roles=and user=fixed\n");
    expect(st, "alice", CERTROLE_REALM_NOT_FOUND, NULL, NULL);
    expect(st, "bob", CERTROLE_REALM_NOT_FOUND, NULL, NULL);
    cm_ops->close(st);
    st = cm_realm("match=\"||<SUBJECT>alice<EKU>serverAuth\" roles=or user=fixed\n");
    expect(st, "alice", CERTROLE_REALM_FOUND, "fixed", "or");
    expect(st, "bob", CERTROLE_REALM_FOUND, "fixed", "or");
    expect(st, "carol", CERTROLE_REALM_NOT_FOUND, NULL, NULL);
    cm_ops->close(st);
}
END_TEST

/* A rule that names the user by a field the certificate lacks is refused,
 * not passed on to another realm. */
START_TEST(missing_user_field_is_refused)
{
    void *st = cm_realm("match=\"<SUBJECT>.\" roles=r user=%{upn}\n");
    expect(st, "alice", CERTROLE_REALM_FOUND, "alice@corp.example", "r");
    struct lh_result r = cm_look(st, "bob");
    ASSERT_STATUS(r, CERTROLE_REALM_REFUSED);
    ASSERT_MSG_HAS(r, "rules.conf:1: the rule matches, but the certificate has no single value"
                      " for user=%{upn}");
    lh_result_free(&r);
    cm_ops->close(st);
    /* several addresses: the rule may have matched the second, so the
     * first names nobody the rule checked */
    st = cm_realm("match=\"<SUBJECT>CN=dave\" roles=r user=%{email}\n");
    expect(st, "bob", CERTROLE_REALM_NOT_FOUND, NULL, NULL);
    r = cm_look(st, "dave");
    ASSERT_STATUS(r, CERTROLE_REALM_REFUSED);
    ASSERT_MSG_HAS(r, "no single value for user=%{email} (none, or several)");
    lh_result_free(&r);
    cm_ops->close(st);
}
END_TEST

/* ---- several matches ---------------------------------------------------- */

START_TEST(ambiguous_matches_are_refused)
{
    /* same priority, different answers: refused, whatever the order */
    void *st = cm_realm("match=\"<EKU>clientAuth\" roles=a priority=3\n"
                        "match=\"<SUBJECT>alice\" roles=b priority=3\n"
                        "match=\"<SUBJECT>carol\" roles=c\n");
    struct lh_result r = cm_look(st, "alice");
    ASSERT_STATUS(r, CERTROLE_REALM_REFUSED);
    ASSERT_MSG_HAS(r, "lines 1 and 2 (priority 3) both match the certificate and give"
                      " different answers: refusing to choose");
    lh_result_free(&r);
    expect(st, "carol", CERTROLE_REALM_FOUND, "CN=carol,O=Acme", "c");
    cm_ops->close(st);
    /* same roles, different users: different answers too */
    st = cm_realm("match=\"<EKU>clientAuth\" roles=a user=%{cn}\n"
                  "match=\"<SUBJECT>alice\" roles=a user=%{email}\n");
    expect(st, "alice", CERTROLE_REALM_REFUSED, NULL, NULL);
    cm_ops->close(st);
}
END_TEST

START_TEST(best_priority_decides)
{
    /* the same answer twice at one priority is no ambiguity */
    void *st = cm_realm("match=\"<EKU>clientAuth\" roles=b,a user=x\n"
                        "match=\"<SUBJECT>alice\" roles=a,b,a user=x\n");
    expect(st, "alice", CERTROLE_REALM_FOUND, "x", "a,b");
    cm_ops->close(st);
    /* a better priority wins wherever it is written; the default is last,
     * and matches of worse priorities do not count (not even to clash) */
    st = cm_realm("match=\"<SUBJECT>.\" roles=anyone\n"
                  "match=\"<SUBJECT>alice\" roles=other priority=9\n"
                  "match=\"<SUBJECT>alice\" roles=third priority=9\n"
                  "match=\"<EKU>clientAuth\" roles=client priority=0\n"
                  "match=\"<SUBJECT>bob\" roles=bob priority=4294967295\n");
    expect(st, "alice", CERTROLE_REALM_FOUND, "CN=alice,O=Acme", "client");
    expect(st, "carol", CERTROLE_REALM_FOUND, "CN=carol,O=Acme", "anyone");
    struct lh_result r = cm_look(st, "bob");      /* two rules of the last priority */
    ASSERT_STATUS(r, CERTROLE_REALM_REFUSED);
    ASSERT_MSG_HAS(r, "lines 1 and 5");
    lh_result_free(&r);
    cm_ops->close(st);
}
END_TEST

/* ---- threads ------------------------------------------------------------ */

struct worker { void *st; int bad; };

static void *work(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < 1000; i++) {
        struct lh_result r = cm_look(w->st, i % 2 ? "alice" : "bob");
        int ok = i % 2 ? r.status == CERTROLE_REALM_FOUND && strcmp(r.a.user, "alice") == 0
                       : r.status == CERTROLE_REALM_NOT_FOUND;
        w->bad += !ok;
        lh_result_free(&r);
    }
    return NULL;
}

/* libsss_certmap allocates under its context on every call: one realm,
 * many threads (the core's lookup() contract) must stay correct. Without
 * the rule's lock this aborts or crashes in talloc within these counts. */
START_TEST(concurrent_lookups)
{
    void *st = cm_realm("match=\"<EKU>clientAuth\" roles=a user=%{cn}\n"
                        "match=\"<SUBJECT>carol\" roles=b\n");
    pthread_t t[8];
    struct worker w[8];
    for (int i = 0; i < 8; i++) {
        w[i] = (struct worker){ st, 0 };
        ck_assert_int_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(w[i].bad, 0);
    }
    cm_ops->close(st);
}
END_TEST

/* ---- the filter's shape --------------------------------------------------- */

START_TEST(filter_shape_check)
{
    const char *map = "LDAP:(|(mail={subject_rfc822_name})(cn=*{subject_dn}))";
    ck_assert(cr_certmap_filter_safe(map, "(|(mail=a\\2a\\28b)(cn=*x\\5cy))"));
    ck_assert(!cr_certmap_filter_safe(map, "(|(mail=*)(cn=*x))"));        /* value is '*' */
    ck_assert(!cr_certmap_filter_safe(map, "(|(mail=a)(uid=*)(cn=*x))"));  /* breaks out */
    ck_assert(!cr_certmap_filter_safe(map, "(|(mail=a\\)(cn=*x))"));       /* bare '\' */
    ck_assert(!cr_certmap_filter_safe(map, "(|(mail=a\\2)(cn=*x))"));
    /* "{{" and "}}" are literal braces; a type prefix is not filter text */
    ck_assert(cr_certmap_filter_safe("LDAPU1:(x={{{cert!bin}}})", "(x={\\30\\82})"));
    ck_assert(cr_certmap_filter_safe("(x=\\2a{issuer_dn})", "(x=\\2aCN\\3dA)"));
    /* a map rule whose own text has a bad '\' does not load */
    char err[256];
    ck_assert_ptr_null(cr_certmap_new("<SUBJECT>x", "LDAP:(cn=\\{subject_dn})", err, sizeof err));
    ck_assert_msg(strstr(err, "not followed by two hex digits"), "%s", err);
    ck_assert_ptr_null(cr_certmap_new("<SUBJECT>x", "LDAP:(cn={no_such_template})", err,
                                      sizeof err));
    ck_assert_msg(strstr(err, "libsss_certmap refuses the rule"), "%s", err);
}
END_TEST

/* ---- the LDAP realm's certmap keys, against slapd ------------------------ */

#define ACME_ISSUER "certmap-match=<ISSUER>^CN=Acme Issuing CA,O=Acme Corp,C=US$"

START_TEST(ldap_certmap_arguments)
{
    char *uri = lh_uri();
    lh_realm_err("certmap-match= and certmap-map= go together", uri, "base=" PEOPLE,
                 ACME_ISSUER, NULL);
    lh_realm_err("certmap-map= and filter= both give the search filter", uri, "base=" PEOPLE,
                 ACME_ISSUER, "certmap-map=LDAP:(mail={subject_rfc822_name})", BY_CN, NULL);
    lh_realm_err("drop map=", uri, "base=" PEOPLE, "map=certificate", ACME_ISSUER,
                 "certmap-map=LDAP:(mail={subject_rfc822_name})", NULL);
    lh_realm_err("certmap-map= needs base=", uri, ACME_ISSUER,
                 "certmap-map=LDAP:(mail={subject_rfc822_name})", NULL);
    lh_realm_err("certmap-match=/certmap-map=: libsss_certmap refuses the rule", uri,
                 "base=" PEOPLE, "certmap-match=<SUBJECT", "certmap-map=LDAP:(mail=x)", NULL);
    free(uri);
}
END_TEST

START_TEST(ldap_certmap_finds_entries)
{
    char *uri = lh_uri();
    /* issuer and serial: slapd's certificateExactMatch on userCertificate
     * (it does not take a whole certificate, {cert!bin}, as assertion) */
    void *st = lh_realm(uri, "base=" PEOPLE, ACME_ISSUER,
                        "certmap-map=LDAPU1:(userCertificate;binary={{ serialNumber "
                        "{serial_number!dec}, issuer rdnSequence:\"{issuer_dn}\" }})", NULL);
    lh_expect_found(st, tu_pki("client.pem"), "crm");
    lh_ops->close(st);
    st = lh_realm(uri, "base=" PEOPLE, ACME_ISSUER, "certmap-map=LDAP:(mail={subject_rfc822_name})",
                  NULL);
    lh_expect_found(st, tu_pki("client.pem"), "crm");
    ck_assert_int_eq(lf_log_count(&lh_srv, "filter=\"(mail=crm@acme.example)\""), 1);
    lh_ops->close(st);
    st = lh_realm(uri, "base=" PEOPLE, ACME_ISSUER, "certmap-map=LDAP:(seeAlso={subject_dn})", NULL);
    lh_expect_found(st, tu_pki("client.pem"), "crm");
    lh_ops->close(st);
    st = lh_realm(uri, "base=" PEOPLE, "certmap-match=<SAN:ntPrincipalName>@ACME\\.example$",
                  "certmap-map=LDAP:(uid={subject_nt_principal})", NULL);
    lh_expect_found(st, lf_cert("upnuser"), "upn@ACME.example");
    lh_ops->close(st);
    free(uri);
}
END_TEST

/* A certificate the match rule does not match: not found, nothing sent. */
START_TEST(ldap_certmap_no_match_sends_nothing)
{
    char *uri = lh_uri();
    void *st = lh_realm(uri, "base=" PEOPLE, "certmap-match=<EKU>serverAuth",
                        "certmap-map=LDAP:(mail={subject_rfc822_name})", NULL);
    int before = lf_log_count(&lh_srv, " SRCH ");
    struct lh_result r = lh_look(st, tu_pki("client.pem"));
    ASSERT_STATUS(r, CERTROLE_REALM_NOT_FOUND);
    ASSERT_MSG_HAS(r, "certmap-match=<EKU>serverAuth does not match the certificate");
    lh_result_free(&r);
    ck_assert_int_eq(lf_log_count(&lh_srv, " SRCH "), before);
    lh_ops->close(st);
    /* the count does see a search when the rule matches */
    st = lh_realm(uri, "base=" PEOPLE, "certmap-match=<EKU>clientAuth",
                  "certmap-map=LDAP:(mail={subject_rfc822_name})", NULL);
    lh_expect_found(st, tu_pki("client.pem"), "crm");
    ck_assert_int_gt(lf_log_count(&lh_srv, " SRCH "), before);
    lh_ops->close(st);
    free(uri);
}
END_TEST

/* Values with ( ) * \ reach the server escaped and match only literally. */
START_TEST(ldap_certmap_escapes_values)
{
    char *uri = lh_uri();
    void *st = lh_realm(uri, "base=" PEOPLE, "certmap-match=<SUBJECT>.",
                        "certmap-map=LDAPU1:(cn={subject_dn_component.cn})", NULL);
    struct lh_result r = lh_look(st, lf_cert("inj-or"));          /* CN: *)(uid=* */
    ASSERT_STATUS(r, CERTROLE_REALM_NOT_FOUND);
    ASSERT_MSG_HAS(r, "(cn=\\2a\\29\\28uid=\\2a)");
    lh_result_free(&r);
    lh_expect_status(st, lf_cert("inj-star"), CERTROLE_REALM_NOT_FOUND);   /* CN: * */
    lh_expect_status(st, lf_cert("esc"), CERTROLE_REALM_NOT_FOUND);        /* a\b */
    lh_ops->close(st);
    st = lh_realm(uri, "base=" PEOPLE, "certmap-match=<SAN:ntPrincipalName>.",
                  "certmap-map=LDAP:(uid={subject_nt_principal})", NULL);
    lh_expect_status(st, lf_cert("inj-upn"), CERTROLE_REALM_NOT_FOUND);   /* UPN: *)(uid=* */
    lh_ops->close(st);
    ck_assert_int_eq(lf_log_count(&lh_srv, "(uid=*)"), 0);
    ck_assert_int_eq(lf_log_count(&lh_srv, "filter=\"(cn=\\2A\\29\\28uid=\\2A)\""), 1);
    ck_assert_int_eq(lf_log_count(&lh_srv, "filter=\"(cn=\\2A)\""), 1);
    ck_assert_int_eq(lf_log_count(&lh_srv, "filter=\"(uid=\\2A\\29\\28uid=\\2A)\""), 1);
    free(uri);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("realm_certmap");
    TCase *tc = tcase_create("rules");
    tcase_add_unchecked_fixture(tc, load_plugin, NULL);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, bad_rule_refuses_with_location);
    tcase_add_test(tc, unknown_key_and_bad_fields);
    tcase_add_test(tc, empty_file_and_arguments);
    tcase_add_test(tc, eku_and_ku_conditions);
    tcase_add_test(tc, subject_issuer_san_and_combinations);
    tcase_add_test(tc, missing_user_field_is_refused);
    tcase_add_test(tc, ambiguous_matches_are_refused);
    tcase_add_test(tc, best_priority_decides);
    tcase_add_test(tc, concurrent_lookups);
    tcase_add_test(tc, filter_shape_check);
    suite_add_tcase(s, tc);
    tc = lh_tcase("ldap", 1, 60);
    tcase_add_test(tc, ldap_certmap_arguments);
    tcase_add_test(tc, ldap_certmap_finds_entries);
    tcase_add_test(tc, ldap_certmap_no_match_sends_nothing);
    tcase_add_test(tc, ldap_certmap_escapes_values);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int rc = lh_main(suite());
    if (dir && !getenv("CERTROLE_KEEP_TMP") && strstr(dir, "/certrole-")) {
        /* no test helpers here: they may call ck_assert, outside a test now */
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0) { /* best effort */ }
    }
    free(dir);
    return rc;
}
