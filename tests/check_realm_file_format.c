/* The file realm's line format, its hash table and its chunked loader,
 * compiled into this test: entries, escapes, fingerprints, hostile
 * lines with their columns, duplicates and issuer keys, concurrent
 * lookups, and line numbers kept across chunks. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include "certrole.h"
#include "file_load.h"
#include "file_norm.h"
#include "file_parse.h"
#include "table.h"
#include "realm_file_util.h"

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

/* KIND:VALUE and issuer-serial lines: what the parser hands the loader. */
#define SEG_EQ(p, n, want) \
    ck_assert_msg((n) == strlen(want) && memcmp((p), (want), (n)) == 0, "'%.*s' != '%s'", \
                  (int)(n), (p), (want))
START_TEST(parse_identity_kinds)
{
    cr_fline f;
    size_t col = 0;
    const char *msg = NULL;
    ck_assert_int_eq(parse("EMAIL:alice@x.example r", &f, &col, &msg), 0);
    ck_assert_int_eq(f.kind, CR_FLINE_VALUE);
    ck_assert_int_eq(f.vkind, CR_FK_EMAIL);
    ck_assert_int_eq(f.val_col, 7);
    SEG_EQ(f.val, f.vallen, "alice@x.example");
    ck_assert_int_eq(parse("upn:\"a \\\"b\\\\@c\" r eku=1.2 ku=cRLSign leaf-policy=2.5", &f, &col,
                           &msg), 0);
    ck_assert_int_eq(f.vkind, CR_FK_UPN);
    ck_assert(f.val_quoted);
    SEG_EQ(f.val, f.vallen, "a \\\"b\\\\@c");
    SEG_EQ(f.cond[1], f.condlen[1], "cRLSign");
    SEG_EQ(f.cond[2], f.condlen[2], "2.5");
    ck_assert_int_eq(parse("Spiffe:spiffe://td/ns/* r", &f, &col, &msg), 0);
    ck_assert_int_eq(f.vkind, CR_FK_SPIFFE_PREFIX);
    ck_assert_int_eq(parse("spiffe:spiffe://td/ns r", &f, &col, &msg), 0);
    ck_assert_int_eq(f.vkind, CR_FK_SPIFFE);
    ck_assert_int_eq(parse("issuer-serial:\"CN=a, O=\\\"b\\\"\":00:0A:ff r", &f, &col, &msg), 0);
    ck_assert_int_eq(f.kind, CR_FLINE_ISSUER_SERIAL);
    ck_assert_str_eq(f.fp, "aff");
    SEG_EQ(f.id, f.idlen, "CN=a, O=\\\"b\\\"");
    ck_assert_int_eq(parse("issuer-serial:\"CN=a\":0000 r", &f, &col, &msg), 0);
    ck_assert_str_eq(f.fp, "0");
    BAD("dns:a.example", 14, "no roles");
    BAD("dns:\"a.example\"r", 16, "white space after the identity");
    BAD("uri:\"x\\y\" r", 7, "only");
}
END_TEST

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

static Suite *realm_file_format_suite(void)
{
    Suite *s = suite_create("realm_file_format");
    TCase *tc = tcase_create("format");
    tcase_add_test(tc, parse_identity_kinds);
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
    tc = tcase_create("loader");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, load_chunks_keep_line_numbers);
    tcase_add_test(tc, load_chunks_first_error);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(realm_file_format_suite());
}
