/* The file realm: its line format, its hash table and the Tomcat reader
 * (compiled into this test), then the plugin end to end through policies
 * with real certificates from the test PKI: DN and sha256 entries, other
 * spellings of a DN, issuer binding, hostile realm files, tomcat-users.xml,
 * reload on change, and the load time of a large realm. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "certrole.h"
#include "file_load.h"
#include "file_parse.h"
#include "table.h"
#include "tomcat.h"
#include "testutil.h"

#define CRM_DN "CN=CRMApplication, OU=Sales, O=Acme Corp, L=San Francisco, ST=CA, C=US"
#define ACME_ROOT "CN=Acme Root CA,O=Acme Corp,C=US"
#define OTHER_ROOT "CN=Other Root CA,O=Other Corp,C=US"
#define CRM_DN_CANONICAL "CN=CRMApplication,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US"

/* ---- the line format -------------------------------------------------- */

static int parse(const char *line, cr_fline *f, size_t *col, const char **msg)
{
    return cr_fline_parse(line, strlen(line), f, col, msg);
}

/* Asserts that line fails at column col with a message containing want. */
static void bad_line(const char *line, size_t len, size_t want_col, const char *want)
{
    cr_fline f;
    size_t col = 0;
    const char *msg = NULL;
    ck_assert_msg(cr_fline_parse(line, len, &f, &col, &msg) == -1, "accepted: %s", line);
    ck_assert_ptr_nonnull(msg);
    ck_assert_msg(strstr(msg, want) != NULL, "'%s': want '%s', got '%s'", line, want, msg);
    if (want_col)
        ck_assert_msg(col == want_col, "'%s': column %zu, want %zu (%s)", line, col, want_col, msg);
}
#define BAD(line, col, want) bad_line(line, strlen(line), col, want)

START_TEST(parse_dn_entry)
{
    cr_fline f;
    size_t col;
    const char *msg;
    const char *l = "\"" CRM_DN "\"  invoice-readonly , invoice-admin,x.y:z_1  user=crm # note\r";
    ck_assert_int_eq(parse(l, &f, &col, &msg), 0);
    ck_assert_int_eq(f.kind, CR_FLINE_DN);
    ck_assert_uint_eq(f.idlen, strlen(CRM_DN));
    ck_assert(memcmp(f.id, CRM_DN, f.idlen) == 0);
    ck_assert_uint_eq(f.id_col, 1);
    ck_assert_uint_eq(f.nroles, 3);
    ck_assert_uint_eq(f.userlen, 3);
    ck_assert(memcmp(f.user, "crm", 3) == 0);
    ck_assert_ptr_null(f.issuer);
    /* The roles come back trimmed, one by one. */
    const char *r;
    size_t rl, pos = 0, n = 0;
    const char *want[] = { "invoice-readonly", "invoice-admin", "x.y:z_1" };
    while (cr_frole_next(f.roles, f.roleslen, &pos, &r, &rl)) {
        ck_assert_uint_lt(n, 3);
        ck_assert_uint_eq(rl, strlen(want[n]));
        ck_assert(memcmp(r, want[n], rl) == 0);
        n++;
    }
    ck_assert_uint_eq(n, 3);
}
END_TEST

START_TEST(parse_escapes_and_attributes)
{
    cr_fline f;
    size_t col;
    const char *msg;
    /* The closing quote is the first one not escaped; escapes stay. */
    const char *l = "  \"CN=John \\\"JJ\\\" Smith\\, III,O=Acme\" r issuer=\"" ACME_ROOT "\""
                    " user=\"John \\\"JJ\\\"\"";
    ck_assert_int_eq(parse(l, &f, &col, &msg), 0);
    ck_assert_uint_eq(f.id_col, 3);
    const char *want_id = "CN=John \\\"JJ\\\" Smith\\, III,O=Acme";
    ck_assert_uint_eq(f.idlen, strlen(want_id));
    ck_assert(memcmp(f.id, want_id, f.idlen) == 0);
    ck_assert_uint_eq(f.issuerlen, strlen(ACME_ROOT));
    ck_assert(memcmp(f.issuer, ACME_ROOT, f.issuerlen) == 0);
    ck_assert(f.user_quoted);
    char u[64];
    ck_assert_int_eq(cr_funquote(f.user, f.userlen, u, sizeof u), 9);
    ck_assert_str_eq(u, "John \"JJ\"");
    /* Blank lines and comments. */
    ck_assert_int_eq(parse("", &f, &col, &msg), 0);
    ck_assert_int_eq(f.kind, CR_FLINE_BLANK);
    ck_assert_int_eq(parse("   \t # \"unterminated", &f, &col, &msg), 0);
    ck_assert_int_eq(f.kind, CR_FLINE_BLANK);
    ck_assert_int_eq(parse("\r", &f, &col, &msg), 0);
    ck_assert_int_eq(f.kind, CR_FLINE_BLANK);
}
END_TEST

START_TEST(parse_fingerprints)
{
    static const char hex[] =
        "ab01cd23ef45ab01cd23ef45ab01cd23ef45ab01cd23ef45ab01cd23ef45ab01";
    cr_fline f;
    size_t col;
    const char *msg;
    char *l = tu_strf("sha256:%s admin", hex);
    ck_assert_int_eq(parse(l, &f, &col, &msg), 0);
    ck_assert_int_eq(f.kind, CR_FLINE_SHA256);
    ck_assert_str_eq(f.fp, hex);
    free(l);
    /* Upper case with colons, as openssl x509 -fingerprint prints it. */
    char colon[200] = "SHA256:";
    for (int i = 0; i < 32; i++) {
        char b[4];
        snprintf(b, sizeof b, "%s%c%c", i ? ":" : "", hex[2 * i] >= 'a' ? hex[2 * i] - 32 : hex[2 * i],
                 hex[2 * i + 1] >= 'a' ? hex[2 * i + 1] - 32 : hex[2 * i + 1]);
        strcat(colon, b);
    }
    strcat(colon, " admin");
    ck_assert_int_eq(parse(colon, &f, &col, &msg), 0);
    ck_assert_str_eq(f.fp, hex);

    BAD("sha256:ab01 admin", 8, "too short");
    l = tu_strf("sha256:%s00 admin", hex);
    BAD(l, 72, "too long");
    free(l);
    l = tu_strf("sha256:%.63sg admin", hex);
    BAD(l, 71, "bad hex digit");
    free(l);
    BAD("sha256:a:b admin", 9, "misplaced ':'");
    l = tu_strf("sha256:ab:%s admin", hex + 2);   /* one colon only */
    BAD(l, 0, "colons");
    free(l);
}
END_TEST

START_TEST(parse_hostile_lines)
{
    BAD("\"CN=x,O=Acme", 1, "unterminated");
    BAD("\"CN=x\\\" r", 1, "unterminated");          /* the quote is escaped */
    BAD("\"CN=x\\", 1, "unterminated");              /* trailing backslash */
    BAD("\"\" r", 1, "empty DN");
    BAD("\"CN=x\"", 7, "no roles");
    BAD("\"CN=x\"   # c", 10, "no roles");
    BAD("\"CN=x\"r", 7, "white space");
    BAD("\"CN=x\" user=a", 8, "roles come before");
    BAD("\"CN=x\" a,,b", 10, "empty role");
    BAD("\"CN=x\" a,", 10, "after ','");
    BAD("\"CN=x\" a, ", 11, "after ','");
    BAD("\"CN=x\" a b", 10, "unexpected text");
    BAD("\"CN=x\" a;b", 9, "bad character");
    BAD("\"CN=x\" a\xc3\xa9", 9, "bad character");
    BAD("\"CN=x\" a color=red", 10, "unknown attribute");
    BAD("\"CN=x\" a user=b user=c", 17, "twice");
    BAD("\"CN=x\" a user=", 15, "empty user");
    BAD("\"CN=x\" a user=\"b", 15, "unterminated");
    BAD("\"CN=x\" a user=b\"c", 16, "quote inside");
    BAD("\"CN=x\" a issuer=CN=y", 17, "double quotes");
    BAD("\"CN=x\" a issuer=\"CN=y", 17, "unterminated");
    BAD("\"CN=x\" a issuer=\"\"", 17, "empty DN");
    BAD("\"CN=x\" a user=\"b\"c", 18, "white space");
    BAD("CN=x a", 1, "double quotes or sha256");
    BAD("sha1:00 a", 1, "double quotes or sha256");
    BAD("\"CN=x\" a \x01", 10, "control character");
    bad_line("\"CN=x\0y\" a", 11, 6, "NUL byte");
    /* A line longer than the limit is refused outright. */
    size_t n = CR_FLINE_MAX + 10;
    char *big = malloc(n);
    ck_assert_ptr_nonnull(big);
    memset(big, 'a', n);
    big[0] = '"';
    bad_line(big, n, CR_FLINE_MAX + 1, "too long");
    free(big);
}
END_TEST

/* ---- the table ---------------------------------------------------------- */

static void add(cr_table *t, const char *key, uint32_t issuer, const char *user,
                const char *roles, uint32_t line, int want)
{
    ck_assert_int_eq(cr_table_begin(t, key, strlen(key), issuer, user, user ? strlen(user) : 0,
                                    line), CR_TABLE_OK);
    size_t pos = 0, rl;
    const char *r;
    while (cr_frole_next(roles, strlen(roles), &pos, &r, &rl))
        ck_assert_int_eq(cr_table_role(t, r, rl), CR_TABLE_OK);
    uint32_t dup = 0;
    int rc = cr_table_commit(t, &dup);
    ck_assert_msg(rc == want, "%s: rc %d want %d", key, rc, want);
}

START_TEST(table_many_keys)
{
    cr_table *t = cr_table_new(0, 0);   /* no hints: must grow */
    ck_assert_ptr_nonnull(t);
    char key[64], user[32], roles[64];
    const int n = 50000;
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "cn=user%d,o=acme", i);
        snprintf(user, sizeof user, "u%d", i);
        snprintf(roles, sizeof roles, "r%d,common", i);
        add(t, key, 0, i % 3 ? user : NULL, roles, (uint32_t)i + 1, CR_TABLE_OK);
    }
    ck_assert_uint_eq(cr_table_count(t), (size_t)n);
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "cn=user%d,o=acme", i);
        const cr_trec *r = cr_table_find(t, key, strlen(key));
        ck_assert_ptr_nonnull(r);
        ck_assert_str_eq(cr_trec_key(r), key);
        ck_assert_uint_eq(r->line, (uint32_t)i + 1);
        ck_assert_uint_eq(r->nroles, 2);
        snprintf(roles, sizeof roles, "r%d", i);
        ck_assert_str_eq(cr_trec_roles(r), roles);
        ck_assert_str_eq(cr_trec_roles(r) + strlen(roles) + 1, "common");
        if (i % 3) {
            snprintf(user, sizeof user, "u%d", i);
            ck_assert_str_eq(cr_trec_user(r), user);
        } else {
            ck_assert_ptr_null(cr_trec_user(r));
        }
        ck_assert_ptr_null(cr_table_next(t, r));
    }
    ck_assert_ptr_null(cr_table_find(t, "cn=user50000,o=acme", 19));
    ck_assert_ptr_null(cr_table_find(t, "cn=user1,o=acm", 14));   /* prefix */
    ck_assert_ptr_null(cr_table_find(t, "", 0));
    cr_table_free(t);
}
END_TEST

START_TEST(table_duplicates_and_issuers)
{
    cr_table *t = cr_table_new(4, 0);
    int rc = 0;
    uint32_t a = cr_table_intern(t, "cn=root a", 9, &rc);
    uint32_t a2 = cr_table_intern(t, "cn=root a", 9, &rc);
    uint32_t b = cr_table_intern(t, "cn=root b", 9, &rc);
    uint32_t a3 = cr_table_intern(t, "cn=root a", 9, &rc);   /* not consecutive: a copy */
    ck_assert(a && b && a3);
    ck_assert_uint_eq(a, a2);
    add(t, "cn=x", 0, NULL, "r", 1, CR_TABLE_OK);
    add(t, "cn=x", 0, NULL, "r", 2, CR_TABLE_DUP);          /* plain duplicate */
    add(t, "cn=x", a, NULL, "r", 3, CR_TABLE_DUP);          /* unbound one matches all */
    add(t, "cn=y", a, NULL, "ra", 4, CR_TABLE_OK);
    add(t, "cn=y", b, NULL, "rb", 5, CR_TABLE_OK);          /* other issuer: fine */
    add(t, "cn=y", a3, NULL, "rc", 6, CR_TABLE_DUP);        /* same issuer text */
    add(t, "cn=y", 0, NULL, "rd", 7, CR_TABLE_DUP);
    uint32_t dup = 0;
    ck_assert_int_eq(cr_table_begin(t, "cn=y", 4, b, NULL, 0, 8), CR_TABLE_OK);
    ck_assert_int_eq(cr_table_commit(t, &dup), CR_TABLE_DUP);
    ck_assert_uint_eq(dup, 5);
    ck_assert_uint_eq(cr_table_count(t), 3);
    const cr_trec *r = cr_table_find(t, "cn=y", 4);
    int seen_a = 0, seen_b = 0;
    for (; r; r = cr_table_next(t, r)) {
        const char *ik = cr_table_issuer(t, r);
        ck_assert_ptr_nonnull(ik);
        if (strcmp(ik, "cn=root a") == 0) {
            ck_assert_str_eq(cr_trec_roles(r), "ra");
            seen_a++;
        } else {
            ck_assert_str_eq(ik, "cn=root b");
            ck_assert_str_eq(cr_trec_roles(r), "rb");
            seen_b++;
        }
    }
    ck_assert_int_eq(seen_a, 1);
    ck_assert_int_eq(seen_b, 1);
    ck_assert_ptr_null(cr_table_issuer(t, cr_table_find(t, "cn=x", 4)));
    cr_table_free(t);
}
END_TEST

/* Lookups from several threads at once on a built table. */
static cr_table *shared_table;
static void *finder(void *arg)
{
    (void)arg;
    char key[64];
    for (int round = 0; round < 20; round++)
        for (int i = 0; i < 2000; i++) {
            snprintf(key, sizeof key, "k%d", i);
            const cr_trec *r = cr_table_find(shared_table, key, strlen(key));
            if (!r || r->line != (uint32_t)i + 1)
                return (void *)1;
        }
    return NULL;
}

START_TEST(table_concurrent_lookups)
{
    shared_table = cr_table_new(2000, 0);
    char key[64];
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        add(shared_table, key, 0, NULL, "r", (uint32_t)i + 1, CR_TABLE_OK);
    }
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, finder, NULL), 0);
    for (int i = 0; i < 4; i++) {
        void *ret = (void *)1;
        pthread_join(th[i], &ret);
        ck_assert_ptr_null(ret);
    }
    cr_table_free(shared_table);
}
END_TEST

/* ---- tomcat-users.xml ----------------------------------------------------- */

struct tc_seen { int n; char user[4][128]; char roles[4][128]; long line[4]; };

static int tc_cb(void *ctx, const char *username, const char *roles, long line, char *err,
                 size_t errlen)
{
    (void)err, (void)errlen;
    struct tc_seen *s = ctx;
    if (s->n < 4) {
        snprintf(s->user[s->n], sizeof s->user[0], "%s", username);
        snprintf(s->roles[s->n], sizeof s->roles[0], "%s", roles);
        s->line[s->n] = line;
    }
    s->n++;
    return 0;
}

static const char *TOMCAT_GOOD =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<tomcat-users xmlns=\"http://tomcat.apache.org/xml\" version=\"1.0\">\n"
    "  <role rolename=\"invoice-readonly\"/>\n"
    "  <group groupname=\"auditors\" roles=\"audit, report\"/>\n"
    "  <user username=\"" CRM_DN "\" roles=\"invoice-readonly,invoice-admin\"/>\n"
    "  <user username=\"admin\" password=\"s3cret\" roles=\"manager-gui\"/>\n"
    "  <user name=\"CN=Guest User,OU=Marketing,O=Acme Corp,L=San Francisco,ST=CA,C=US\"\n"
    "        roles=\"\" groups=\"auditors\"/>\n"
    "</tomcat-users>\n";

START_TEST(tomcat_reader)
{
    struct tc_seen s = { 0 };
    char err[256] = "";
    ck_assert_int_eq(cr_tomcat_parse(TOMCAT_GOOD, strlen(TOMCAT_GOOD), "t.xml", tc_cb, &s, err,
                                     sizeof err), 0);
    ck_assert_int_eq(s.n, 3);
    ck_assert_str_eq(s.user[0], CRM_DN);
    ck_assert_str_eq(s.roles[0], "invoice-readonly,invoice-admin");
    ck_assert_int_eq(s.line[0], 5);
    ck_assert_str_eq(s.user[1], "admin");
    ck_assert_str_eq(s.roles[2], "audit, report");
    ck_assert_int_eq(s.line[2], 8);   /* libxml2: where the start tag ends */
}
END_TEST

static void tomcat_bad(const char *xml, const char *want)
{
    struct tc_seen s = { 0 };
    char err[512] = "";
    ck_assert_int_eq(cr_tomcat_parse(xml, strlen(xml), "t.xml", tc_cb, &s, err, sizeof err), -1);
    ck_assert_msg(strstr(err, want) != NULL, "want '%s', got '%s'", want, err);
    ck_assert_int_eq(s.n, 0);
}

START_TEST(tomcat_hostile)
{
    /* External entity (XXE): refused at the DOCTYPE, nothing is read. */
    tomcat_bad("<?xml version=\"1.0\"?>\n"
               "<!DOCTYPE tomcat-users [ <!ENTITY x SYSTEM \"file:///etc/passwd\"> ]>\n"
               "<tomcat-users><user username=\"CN=&x;\" roles=\"a\"/></tomcat-users>\n",
               "t.xml:2: DOCTYPE not allowed");
    /* Exponential entity expansion. */
    tomcat_bad("<!DOCTYPE t [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;\">]>"
               "<tomcat-users><user username=\"CN=&b;\" roles=\"a\"/></tomcat-users>",
               "DOCTYPE not allowed");
    tomcat_bad("<!DOCTYPE tomcat-users SYSTEM \"http://127.0.0.1:1/x.dtd\"><tomcat-users/>",
               "DOCTYPE not allowed");
    /* Undeclared entity, malformed XML: libxml2's message with the line. */
    tomcat_bad("<tomcat-users>\n<user username=\"CN=&x;\" roles=\"a\"/>\n</tomcat-users>",
               "t.xml:2: Entity 'x' not defined");
    tomcat_bad("<tomcat-users>\n\n  <user username=\"CN=a\" roles=\"a\">\n</tomcat-users>\n",
               "t.xml:4: Opening and ending tag mismatch");
    tomcat_bad("", "t.xml:");
    tomcat_bad("<users><user username=\"CN=a\" roles=\"a\"/></users>", "expected <tomcat-users>");
    tomcat_bad("<tomcat-users>\n<user roles=\"a\"/></tomcat-users>", "t.xml:2: <user> without");
    tomcat_bad("<tomcat-users>\n\n<user username=\"CN=a\" groups=\"nope\"/></tomcat-users>",
               "t.xml:3: user in unknown group 'nope'");
}
END_TEST

/* ---- the loader: big files are parsed in chunks by several threads ----- */

/* A realm text of n entries (~3 MB for n = 30000, so it is cut into
 * chunks), with comments and blank lines; entry i is on line line_of(i). */
static long line_of(long i)
{
    return 2 + i + i / 7;   /* a header comment, then a blank line after every 7th */
}

static char *big_text(long n, long bad_at, const char *bad)
{
    size_t cap = (size_t)n * 120 + 256, len = 0;
    char *t = malloc(cap);
    ck_assert_ptr_nonnull(t);
    len += (size_t)sprintf(t, "# generated\n");
    for (long i = 0; i < n; i++) {
        if (i == bad_at)
            len += (size_t)sprintf(t + len, "%s\n", bad);
        else
            len += (size_t)sprintf(t + len, "\"CN=Person %06ld,OU=Unit %ld,O=Acme Corp,C=US\" "
                                   "r%ld,all user=p%ld\n", i, i % 10, i % 5, i);
        if (i % 7 == 6)
            len += (size_t)sprintf(t + len, "   \n");
    }
    return t;
}

START_TEST(load_chunks_keep_line_numbers)
{
    const long n = 30000;
    char *text = big_text(n, -1, NULL);
    ck_assert_uint_gt(strlen(text), (size_t)1 << 20);
    cr_table *t = cr_table_new(0, 0);
    char err[512] = "";
    ck_assert_msg(cr_fload_certrole(t, "big.realm", text, strlen(text), NULL, err, sizeof err) == 0,
                  "%s", err);
    ck_assert_uint_eq(cr_table_count(t), (size_t)n);
    for (long i = 0; i < n; i += 997) {
        char dn[128], *key = NULL, user[32];
        snprintf(dn, sizeof dn, "cn=person %06ld, ou=unit %ld, o=acme corp, c=us", i, i % 10);
        ck_assert_int_eq(certrole_dn_key(dn, &key, NULL), CERTROLE_OK);
        const cr_trec *r = cr_table_find(t, key, strlen(key));
        ck_assert_msg(r != NULL, "entry %ld missing", i);
        ck_assert_uint_eq(r->line, (uint32_t)line_of(i));
        snprintf(user, sizeof user, "p%ld", i);
        ck_assert_str_eq(cr_trec_user(r), user);
        certrole_free(key);
    }
    cr_table_free(t);
    free(text);
}
END_TEST

static void big_error(long n, long bad_at, const char *bad, const char *want)
{
    char *text = big_text(n, bad_at, bad);
    cr_table *t = cr_table_new(0, 0);
    char err[512] = "";
    ck_assert_int_eq(cr_fload_certrole(t, "big.realm", text, strlen(text), NULL, err, sizeof err), -1);
    ck_assert_msg(strstr(err, want) != NULL, "want '%s', got '%s'", want, err);
    cr_table_free(t);
    free(text);
}

START_TEST(load_chunks_first_error)
{
    char want[128];
    /* A syntax error near the end (another chunk than the first). */
    snprintf(want, sizeof want, "big.realm:%ld:1: unterminated", line_of(29000));
    big_error(30000, 29000, "\"CN=broken r", want);
    /* A DN that does not parse. */
    snprintf(want, sizeof want, "big.realm:%ld:1: bad DN", line_of(20000));
    big_error(30000, 20000, "\"no equals sign\" r", want);
    /* A duplicate of an entry in the first chunk, found in a later one. */
    snprintf(want, sizeof want, "big.realm:%ld: duplicate entry: the same identity is already"
             " on line %ld", line_of(25000), line_of(3));
    big_error(30000, 25000, "\"cn=person 000003,ou=unit 3,o=acme corp,c=us\" x", want);
}
END_TEST

/* ---- end to end: the plugin through policies, real certificates --------- */

static char *dir;
static char *both_cas;   /* Acme root + Other root, for the issuer tests */

static void e2e_setup(void)
{
    dir = tu_mkdtemp("realmfile");
    char *a = tu_read_file(tu_pki("ca-file.pem"), NULL);
    char *b = tu_read_file(tu_pki("other-root-ca.pem"), NULL);
    ck_assert(a && b);
    both_cas = tu_strf("%s/both.pem", dir);
    char *t = tu_strf("%s%s", a, b);
    tu_write_file(both_cas, t);
    free(a);
    free(b);
    free(t);
}

static void e2e_teardown(void)
{
    tu_rmrf(dir);
    free(dir);
    free(both_cas);
    dir = both_cas = NULL;
}

/* Writes the realm file (relative name users.realm) and a policy using
 * it with args, and opens it. Returns the context, or NULL with *err. */
static certrole_ctx *open_realm_file(const char *fname, const char *content, const char *args,
                                     char **err)
{
    char *rp = tu_strf("%s/%s", dir, fname);
    tu_write_file(rp, content);
    free(rp);
    char *pol = tu_strf("trust ca-file=%s\nrealm required file path=%s %s\n", both_cas, fname,
                        args ? args : "");
    char *name = tu_strf("%s/test.policy", dir);
    certrole_ctx *ctx = NULL;
    *err = NULL;
    certrole_code rc = certrole_open_string(&ctx, pol, name, err);
    if (rc != CERTROLE_OK)
        ctx = NULL;
    free(pol);
    free(name);
    return ctx;
}

static certrole_ctx *open_realm(const char *content, const char *args)
{
    char *err = NULL;
    certrole_ctx *ctx = open_realm_file("users.realm", content, args, &err);
    ck_assert_msg(ctx != NULL, "open failed: %s", err ? err : "?");
    return ctx;
}

/* Asserts the realm file fails to open with a message containing want. */
static void realm_error(const char *content, const char *args, const char *want)
{
    char *err = NULL;
    certrole_ctx *ctx = open_realm_file("users.realm", content, args, &err);
    ck_assert_msg(ctx == NULL, "opened, but want error '%s'", want);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, want) != NULL, "want '%s'\n got '%s'", want, err);
    certrole_free(err);
}

static certrole_result *verify(certrole_ctx *ctx, const char *pemfile)
{
    size_t len = 0;
    char *pem = tu_read_file(tu_pki(pemfile), &len);
    ck_assert_ptr_nonnull(pem);
    certrole_result *res = NULL;
    certrole_verify_pem(ctx, pem, len, &res);
    free(pem);
    ck_assert_ptr_nonnull(res);
    return res;
}

/* Verifies pemfile; asserts the code, and (when allowed) user and roles
 * (roles: comma-separated, exactly those). */
static void expect(certrole_ctx *ctx, const char *pemfile, certrole_code code, const char *user,
                   const char *roles)
{
    certrole_result *res = verify(ctx, pemfile);
    ck_assert_msg(certrole_result_code(res) == code, "%s: code %s (%s), want %s", pemfile,
                  certrole_code_name(certrole_result_code(res)), certrole_result_message(res),
                  certrole_code_name(code));
    if (code == CERTROLE_OK) {
        ck_assert_str_eq(certrole_result_user(res), user);
        ck_assert_str_eq(certrole_result_realm(res), "file");
        size_t n = 0;
        const char *r;
        size_t rl, pos = 0;
        while (cr_frole_next(roles, strlen(roles), &pos, &r, &rl)) {
            char *one = tu_strf("%.*s", (int)rl, r);
            ck_assert_msg(certrole_result_has_role(res, one), "%s lacks role %s", pemfile, one);
            free(one);
            n++;
        }
        ck_assert_uint_eq(certrole_result_role_count(res), n);
    } else {
        ck_assert_uint_eq(certrole_result_role_count(res), 0);
    }
    certrole_result_free(res);
}

START_TEST(e2e_dn_entry)
{
    certrole_ctx *ctx = open_realm("\xef\xbb\xbf# Acme users\n\n"
                                   "\"" CRM_DN "\"  invoice-readonly,invoice-admin  user=crm\n"
                                   "\"CN=Someone Else,O=Acme Corp,C=US\" other\n", NULL);
    expect(ctx, "client-chain.pem", CERTROLE_OK, "crm", "invoice-readonly,invoice-admin");
    expect(ctx, "norole-chain.pem", CERTROLE_E_UNKNOWN_IDENTITY, NULL, NULL);
    certrole_close(ctx);
}
END_TEST

START_TEST(e2e_other_spellings)
{
    /* The same DN: other case, spacing, RFC 2253 and OpenSSL's slash form. */
    const char *spellings[] = {
        "\"cn=crmapplication,ou=SALES,o=acme  corp, l=San Francisco ,st=ca,c=us\"",
        "\"CN=CRMApplication,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US\"",
        "\"/C=US/ST=CA/L=San Francisco/O=Acme Corp/OU=Sales/CN=CRMApplication\"",
        "\"2.5.4.3=CRMApplication,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US\"",
    };
    for (size_t i = 0; i < sizeof spellings / sizeof *spellings; i++) {
        char *realm = tu_strf("%s reader\n", spellings[i]);
        certrole_ctx *ctx = open_realm(realm, "default-user=cn");
        expect(ctx, "client-chain.pem", CERTROLE_OK, "CRMApplication", "reader");
        certrole_close(ctx);
        free(realm);
    }
    /* Not the same DN: the escaped commas make one long CN; an RDN
     * missing, or in another order, is another name. */
    const char *others[] = {
        "\"CN=CRMApplication\\, OU=Sales\\, O=Acme Corp\\, L=San Francisco\\, ST=CA\\, C=US\"",
        "\"CN=CRMApplication,OU=Sales,O=Acme Corp,L=San Francisco,C=US\"",
        "\"OU=Sales,CN=CRMApplication,O=Acme Corp,L=San Francisco,ST=CA,C=US\"",
        "\"CN=CRMApplication,OU=Sales,O=Acme Corp\"",
    };
    for (size_t i = 0; i < sizeof others / sizeof *others; i++) {
        char *realm = tu_strf("%s reader\n\"CN=x\\,O=Acme Corp\" x\n", others[i]);
        certrole_ctx *ctx = open_realm(realm, NULL);
        expect(ctx, "client-chain.pem", CERTROLE_E_UNKNOWN_IDENTITY, NULL, NULL);
        certrole_close(ctx);
        free(realm);
    }
}
END_TEST

START_TEST(e2e_default_user)
{
    const char *realm = "\"" CRM_DN "\" reader\n";
    certrole_ctx *ctx = open_realm(realm, NULL);   /* default: the subject DN */
    certrole_result *res = verify(ctx, "client-chain.pem");
    ck_assert_int_eq(certrole_result_code(res), CERTROLE_OK);
    ck_assert_str_eq(certrole_result_user(res), certrole_result_subject(res));
    certrole_result_free(res);
    certrole_close(ctx);
    ctx = open_realm(realm, "default-user=email");
    expect(ctx, "client-chain.pem", CERTROLE_OK, "crm@acme.example", "reader");
    certrole_close(ctx);
}
END_TEST

/* sha256 fingerprint of a PEM certificate, hex, upper case with colons
 * when 'colons', else lower case plain. */
static char *fingerprint(const char *pemfile, int colons)
{
    FILE *f = fopen(tu_pki(pemfile), "r");
    ck_assert_ptr_nonnull(f);
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    ck_assert_ptr_nonnull(x);
    unsigned char md[32];
    unsigned n = 0;
    ck_assert(X509_digest(x, EVP_sha256(), md, &n) == 1 && n == 32);
    X509_free(x);
    char *out = calloc(1, 100);
    for (unsigned i = 0; i < n; i++)
        sprintf(out + strlen(out), colons ? "%s%02X" : "%s%02x", colons && i ? ":" : "", md[i]);
    return out;
}

START_TEST(e2e_sha256_pin)
{
    char *fp = fingerprint("norole.pem", 1);
    char *realm = tu_strf("\"" CRM_DN "\" reader user=crm\nsha256:%s  pinned,uploader user=guest\n",
                          fp);
    certrole_ctx *ctx = open_realm(realm, NULL);
    expect(ctx, "norole-chain.pem", CERTROLE_OK, "guest", "pinned,uploader");
    expect(ctx, "client-chain.pem", CERTROLE_OK, "crm", "reader");
    certrole_close(ctx);
    free(realm);
    free(fp);

    /* Lower case without colons pins too; a pin and a DN line both
     * matching one peer is ambiguous: refused, not picked. */
    fp = fingerprint("client.pem", 0);
    realm = tu_strf("sha256:%s pinned\n\"" CRM_DN "\" reader\n", fp);
    ctx = open_realm(realm, NULL);
    certrole_result *res = verify(ctx, "client-chain.pem");
    ck_assert_int_eq(certrole_result_code(res), CERTROLE_E_REALM_REFUSED);
    ck_assert_int_eq(certrole_result_allowed(res), 0);
    certrole_result_free(res);
    certrole_close(ctx);
    free(realm);
    realm = tu_strf("sha256:%s pinned\n", fp);
    ctx = open_realm(realm, "default-user=cn");
    expect(ctx, "client-chain.pem", CERTROLE_OK, "CRMApplication", "pinned");
    /* other-client has the same DN but is another certificate. */
    expect(ctx, "other-client.pem", CERTROLE_E_UNKNOWN_IDENTITY, NULL, NULL);
    certrole_close(ctx);
    free(realm);
    free(fp);
}
END_TEST

START_TEST(e2e_issuer_binding)
{
    /* No binding: the same DN from the other trusted root matches. */
    certrole_ctx *ctx = open_realm("\"" CRM_DN "\" reader user=crm\n", NULL);
    expect(ctx, "client-chain.pem", CERTROLE_OK, "crm", "reader");
    expect(ctx, "other-client.pem", CERTROLE_OK, "crm", "reader");
    certrole_close(ctx);

    /* Bound to the Acme root (any spelling): only Acme's peer matches. */
    ctx = open_realm("\"" CRM_DN "\" reader user=crm issuer=\"cn=acme root ca, o=ACME CORP, c=us\"\n",
                     NULL);
    expect(ctx, "client-chain.pem", CERTROLE_OK, "crm", "reader");
    expect(ctx, "other-client.pem", CERTROLE_E_UNKNOWN_IDENTITY, NULL, NULL);
    certrole_close(ctx);

    /* One line per anchor: each peer gets its own entry. */
    ctx = open_realm("\"" CRM_DN "\" acme-role user=crm issuer=\"" ACME_ROOT "\"\n"
                     "\"" CRM_DN "\" other-role user=impostor issuer=\"" OTHER_ROOT "\"\n", NULL);
    expect(ctx, "client-chain.pem", CERTROLE_OK, "crm", "acme-role");
    expect(ctx, "other-client.pem", CERTROLE_OK, "impostor", "other-role");
    certrole_close(ctx);

    /* The binding names the trust anchor, not the issuing intermediate. */
    ctx = open_realm("\"" CRM_DN "\" reader issuer=\"CN=Acme Issuing CA,O=Acme Corp,C=US\"\n", NULL);
    expect(ctx, "client-chain.pem", CERTROLE_E_UNKNOWN_IDENTITY, NULL, NULL);
    certrole_close(ctx);

    /* Realm-wide binding. */
    ctx = open_realm("\"" CRM_DN "\" reader user=crm\n", "issuer=\"" ACME_ROOT "\"");
    expect(ctx, "client-chain.pem", CERTROLE_OK, "crm", "reader");
    expect(ctx, "other-client.pem", CERTROLE_E_UNKNOWN_IDENTITY, NULL, NULL);
    certrole_close(ctx);
    ctx = open_realm("\"" CRM_DN "\" reader user=crm\n", "issuer=\"" OTHER_ROOT "\"");
    expect(ctx, "client-chain.pem", CERTROLE_E_UNKNOWN_IDENTITY, NULL, NULL);
    expect(ctx, "other-client.pem", CERTROLE_OK, "crm", "reader");
    certrole_close(ctx);
    char *want = tu_strf("users.realm:1:%zu: issuer= differs from the realm's issuer=",
                         strlen("\"" CRM_DN "\" reader issuer=") + 1);
    realm_error("\"" CRM_DN "\" reader issuer=\"" OTHER_ROOT "\"\n", "issuer=\"" ACME_ROOT "\"", want);
    free(want);
}
END_TEST

START_TEST(e2e_hostile_files)
{
    realm_error("# users\n\"CN=x,O=Acme x\n", NULL, "users.realm:2:1: unterminated quoted DN");
    realm_error("\"CN=a\" r\n\n\"not a dn\" r\n", NULL, "users.realm:3:1: bad DN");
    realm_error("\"CN=a\" r issuer=\"nonsense\"\n", NULL, "users.realm:1:17: bad DN");
    realm_error("sha256:0123 r\n", NULL, "users.realm:1:8: fingerprint too short");
    realm_error("\"CN=a\" r,\n", NULL, "users.realm:1:10: expected a role name");
    realm_error("\"CN=a\" r trailing\n", NULL, "users.realm:1:10: unexpected text");
    realm_error("\"" CRM_DN "\" reader\n\"cn=crmapplication,ou=sales,o=acme corp,l=san francisco,"
                "st=ca,c=us\" admin\n", NULL,
                "users.realm:2: duplicate entry: the same identity is already on line 1");
    /* NUL byte and an over-long line. */
    char *rp = tu_strf("%s/nul.realm", dir);
    FILE *f = fopen(rp, "w");
    ck_assert_ptr_nonnull(f);
    fwrite("\"CN=a\" r\n\"CN=b\0,O=x\" r\n", 1, 23, f);
    fclose(f);
    char *pol = tu_strf("trust ca-file=%s\nrealm required file path=nul.realm\n", both_cas);
    char *name = tu_strf("%s/test.policy", dir);
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    ck_assert_int_ne(certrole_open_string(&ctx, pol, name, &err), CERTROLE_OK);
    ck_assert_ptr_null(ctx);
    ck_assert_msg(err && strstr(err, "nul.realm:2:6: NUL byte"), "got %s", err);
    certrole_free(err);
    free(pol);
    free(rp);
    size_t n = 70000;
    char *big = malloc(n + 32);
    ck_assert_ptr_nonnull(big);
    strcpy(big, "\"CN=");
    memset(big + 4, 'a', n);
    strcpy(big + 4 + n, "\" r\n");
    realm_error(big, NULL, "users.realm:1:65537: line too long");
    free(big);

    /* Arguments. */
    realm_error("\"CN=a\" r\n", "colour=red", "unknown argument 'colour'");
    realm_error("\"CN=a\" r\n", "path=other.realm", "argument 'path' given twice");
    realm_error("\"CN=a\" r\n", "format=xml", "format=xml");
    realm_error("\"CN=a\" r\n", "default-user=uid", "default-user=uid");
    realm_error("\"CN=a\" r\n", "issuer=nonsense", "issuer=\"nonsense\": bad DN");
    pol = tu_strf("trust ca-file=%s\nrealm required file path=missing.realm\n", both_cas);
    err = NULL;
    ck_assert_int_ne(certrole_open_string(&ctx, pol, name, &err), CERTROLE_OK);
    ck_assert_msg(err && strstr(err, "missing.realm: No such file"), "got %s", err);
    certrole_free(err);
    free(pol);
    pol = tu_strf("trust ca-file=%s\nrealm required file format=tomcat\n", both_cas);
    err = NULL;
    ck_assert_int_ne(certrole_open_string(&ctx, pol, name, &err), CERTROLE_OK);
    ck_assert_msg(err && strstr(err, "missing path=FILE"), "got %s", err);
    certrole_free(err);
    free(pol);
    free(name);
}
END_TEST

START_TEST(e2e_tomcat)
{
    char *err = NULL;
    certrole_ctx *ctx = open_realm_file("tomcat-users.xml", TOMCAT_GOOD, "format=tomcat", &err);
    ck_assert_msg(ctx != NULL, "open failed: %s", err);
    expect(ctx, "client-chain.pem", CERTROLE_OK, CRM_DN_CANONICAL, "invoice-readonly,invoice-admin");
    expect(ctx, "norole-chain.pem", CERTROLE_OK,
           "CN=Guest User,OU=Marketing,O=Acme Corp,L=San Francisco,ST=CA,C=US", "audit,report");
    expect(ctx, "other-client.pem", CERTROLE_OK, CRM_DN_CANONICAL, "invoice-readonly,invoice-admin");
    certrole_close(ctx);

    ctx = open_realm_file("tomcat-users.xml", TOMCAT_GOOD,
                          "format=tomcat default-user=cn issuer=\"" ACME_ROOT "\"", &err);
    ck_assert_msg(ctx != NULL, "open failed: %s", err);
    expect(ctx, "client-chain.pem", CERTROLE_OK, "CRMApplication", "invoice-readonly,invoice-admin");
    expect(ctx, "other-client.pem", CERTROLE_E_UNKNOWN_IDENTITY, NULL, NULL);
    certrole_close(ctx);

    ck_assert_ptr_null(open_realm_file("tomcat-users.xml",
        "<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/hostname\">]>\n"
        "<tomcat-users><user username=\"" CRM_DN "\" roles=\"&e;\"/></tomcat-users>\n",
        "format=tomcat", &err));
    ck_assert_msg(err && strstr(err, "tomcat-users.xml:2: DOCTYPE not allowed"), "got %s", err);
    certrole_free(err);
    ck_assert_ptr_null(open_realm_file("tomcat-users.xml",
        "<tomcat-users>\n<user username=\"" CRM_DN "\" roles=\"a\">\n</tomcat-users>\n",
        "format=tomcat", &err));
    ck_assert_msg(err && strstr(err, "tomcat-users.xml:3:"), "got %s", err);
    certrole_free(err);
    ck_assert_ptr_null(open_realm_file("tomcat-users.xml",
        "<tomcat-users>\n<user username=\"" CRM_DN "\" roles=\"a\"/>\n"
        "<user username=\"cn=crmapplication,ou=sales,o=acme corp,l=san francisco,st=ca,c=us\""
        " roles=\"b\"/>\n</tomcat-users>\n", "format=tomcat", &err));
    ck_assert_msg(err && strstr(err, "tomcat-users.xml:3: duplicate entry"), "got %s", err);
    certrole_free(err);
    ck_assert_ptr_null(open_realm_file("tomcat-users.xml",
        "<tomcat-users>\n<user username=\"" CRM_DN "\" roles=\"a b\"/>\n</tomcat-users>\n",
        "format=tomcat", &err));
    ck_assert_msg(err && strstr(err, "tomcat-users.xml:2: bad role name 'a b'"), "got %s", err);
    certrole_free(err);
}
END_TEST

START_TEST(e2e_reload_on_change)
{
    certrole_ctx *ctx = open_realm("\"" CRM_DN "\" before user=crm\n", NULL);
    expect(ctx, "client-chain.pem", CERTROLE_OK, "crm", "before");
    int reloaded = -1;
    char *err = NULL;
    ck_assert_int_eq(certrole_reload_if_changed(ctx, &reloaded, &err), CERTROLE_OK);
    ck_assert_int_eq(reloaded, 0);
    char *rp = tu_strf("%s/users.realm", dir);
    tu_write_file(rp, "\"" CRM_DN "\" after,more user=crm\n");
    ck_assert_int_eq(certrole_reload_if_changed(ctx, &reloaded, &err), CERTROLE_OK);
    ck_assert_int_eq(reloaded, 1);
    expect(ctx, "client-chain.pem", CERTROLE_OK, "crm", "after,more");
    /* A broken edit keeps the previous realm in force. */
    tu_write_file(rp, "\"" CRM_DN " after\n");
    ck_assert_int_ne(certrole_reload_if_changed(ctx, &reloaded, &err), CERTROLE_OK);
    ck_assert_msg(err && strstr(err, "users.realm:1:1: unterminated"), "got %s", err);
    certrole_free(err);
    expect(ctx, "client-chain.pem", CERTROLE_OK, "crm", "after,more");
    free(rp);
    certrole_close(ctx);
}
END_TEST

/* A large realm loads quickly; the time is printed, not asserted (the
 * benchmark program owns speed). CERTROLE_REALM_LOAD_LINES overrides the
 * size (e.g. 1000000). */
START_TEST(e2e_large_realm)
{
    long n = atol(tu_env("CERTROLE_REALM_LOAD_LINES", "100000"));
    if (n < 1)
        n = 100000;
    char *rp = tu_strf("%s/big.realm", dir);
    FILE *f = fopen(rp, "w");
    ck_assert_ptr_nonnull(f);
    for (long i = 0; i < n; i++)
        fprintf(f, "\"CN=User %07ld, OU=Load %ld, O=Acme Corp, L=San Francisco, ST=CA, C=US\""
                "  role-a,role-%ld  user=u%ld\n", i, i % 97, i % 13, i);
    fprintf(f, "\"" CRM_DN "\" invoice-readonly user=crm\n");
    ck_assert_int_eq(fclose(f), 0);
    char *pol = tu_strf("trust ca-file=%s\nrealm required file path=big.realm\n", both_cas);
    char *name = tu_strf("%s/test.policy", dir);
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    certrole_code rc = certrole_open_string(&ctx, pol, name, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_msg(rc == CERTROLE_OK, "open: %s", err);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("file realm: %ld lines loaded in %.3f s (%.2f us/line)\n", n + 1, s,
           s * 1e6 / (double)(n + 1));
    fflush(stdout);
    expect(ctx, "client-chain.pem", CERTROLE_OK, "crm", "invoice-readonly");
    expect(ctx, "norole-chain.pem", CERTROLE_E_UNKNOWN_IDENTITY, NULL, NULL);
    certrole_close(ctx);
    free(pol);
    free(name);
    free(rp);
}
END_TEST

static Suite *realm_file_suite(void)
{
    Suite *s = suite_create("realm_file");
    TCase *tc = tcase_create("format");
    tcase_add_test(tc, parse_dn_entry);
    tcase_add_test(tc, parse_escapes_and_attributes);
    tcase_add_test(tc, parse_fingerprints);
    tcase_add_test(tc, parse_hostile_lines);
    suite_add_tcase(s, tc);
    tc = tcase_create("table");
    tcase_add_test(tc, table_many_keys);
    tcase_add_test(tc, table_duplicates_and_issuers);
    tcase_add_test(tc, table_concurrent_lookups);
    suite_add_tcase(s, tc);
    tc = tcase_create("tomcat");
    tcase_add_test(tc, tomcat_reader);
    tcase_add_test(tc, tomcat_hostile);
    suite_add_tcase(s, tc);
    tc = tcase_create("loader");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, load_chunks_keep_line_numbers);
    tcase_add_test(tc, load_chunks_first_error);
    suite_add_tcase(s, tc);
    tc = tcase_create("plugin");
    tcase_add_checked_fixture(tc, e2e_setup, e2e_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, e2e_dn_entry);
    tcase_add_test(tc, e2e_other_spellings);
    tcase_add_test(tc, e2e_default_user);
    tcase_add_test(tc, e2e_sha256_pin);
    tcase_add_test(tc, e2e_issuer_binding);
    tcase_add_test(tc, e2e_hostile_files);
    tcase_add_test(tc, e2e_tomcat);
    tcase_add_test(tc, e2e_reload_on_change);
    tcase_add_test(tc, e2e_large_realm);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(realm_file_suite());
}
