/* The policy language's tables against certrole-policy(5): every
 * directive keyword, trust key and option key the parser accepts is
 * documented, and every key the page documents under "trust" and
 * "option" is one the parser accepts. */
#define _GNU_SOURCE
#include "testutil.h"
#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "policy.h"
#include "trust.h"

static char *page;

static void load(void)
{
    page = tu_read_file(tu_src("doc/certrole-policy.5"), NULL);
    ck_assert_msg(page != NULL, "doc/certrole-policy.5 missing");
}

static void unload(void)
{
    free(page);
}

/* The text of the section that starts with the line ".SS <name>" (up to
 * the next .SS or .SH), roff's "\-" read as "-"; malloc'd, NULL if none. */
static char *section(const char *name)
{
    char *head = tu_strf("\n.SS %s", name);
    const char *a = strstr(page, head);
    free(head);
    if (!a)
        return NULL;
    a++;
    const char *b = a + 1, *ss = strstr(b, "\n.SS "), *sh = strstr(b, "\n.SH ");
    b = !ss ? sh : !sh ? ss : ss < sh ? ss : sh;
    size_t n = b ? (size_t)(b - a) : strlen(a);
    char *out = malloc(n + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        if (a[i] == '\\' && a[i + 1] == '-')
            i++;
        *o++ = a[i];
    }
    *o = '\0';
    return out;
}

/* Is "key=" at the start of a word on a .B/.BI/.BR line of sec? */
static int documented(const char *sec, const char *key)
{
    for (const char *l = sec; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, ".B", 2) != 0)
            continue;
        const char *end = strchr(l, '\n');
        size_t kl = strlen(key);
        for (const char *p = l; (p = strstr(p, key)) && (!end || p < end); p++)
            if (p[kl] == '=' && (p == l || !(isalnum((unsigned char)p[-1]) || p[-1] == '-')))
                return 1;
    }
    return 0;
}

typedef const char *table_fn(size_t i);

/* Every key of the table is documented in sec; every "key=" the section
 * documents on a .B line is in the table. */
static void same_keys(const char *what, table_fn *table, const char *sec)
{
    size_t n = 0;
    for (const char *k; (k = table(n)) != NULL; n++)
        ck_assert_msg(documented(sec, k), "%s key %s= is not documented in certrole-policy(5)",
                      what, k);
    ck_assert_int_gt(n, 3);
    for (const char *l = sec; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, ".B", 2) != 0)
            continue;
        const char *end = strchr(l, '\n');
        for (const char *p = l + 3; *p && (!end || p < end); p++) {
            if (*p != '=' || p == l + 3 || !islower((unsigned char)p[-1]))
                continue;
            const char *s = p;
            while (s > l + 3 && (islower((unsigned char)s[-1]) || s[-1] == '-'))
                s--;
            char *key = strndup(s, (size_t)(p - s));
            int known = 0;
            for (size_t i = 0; i < n; i++)
                known |= strcmp(table(i), key) == 0;
            ck_assert_msg(known, "certrole-policy(5) documents %s key %s=, which the parser "
                          "does not accept", what, key);
            free(key);
        }
    }
}

START_TEST(every_trust_key_is_documented_and_only_those)
{
    char *sec = section("trust");
    ck_assert_msg(sec != NULL, "no .SS trust section");
    same_keys("trust", cr_trust_key, sec);
    free(sec);
}
END_TEST

START_TEST(every_option_key_is_documented_and_only_those)
{
    char *sec = section("option");
    ck_assert_msg(sec != NULL, "no .SS option section");
    same_keys("option", cr_policy_option_key, sec);
    free(sec);
}
END_TEST

START_TEST(every_directive_has_its_section)
{
    size_t n = 0;
    for (const char *k; (k = cr_policy_keyword(n)) != NULL; n++) {
        char *sec = section(k);
        ck_assert_msg(sec != NULL, "directive %s has no .SS %s section in certrole-policy(5)",
                      k, k);
        free(sec);
    }
    ck_assert_int_eq(n, 5);
}
END_TEST

/* The checker itself: a key missing from the page, or a documented key
 * the parser does not know, is caught. */
static const char *fake_keys(size_t i)
{
    static const char *const k[] = { "ca-file", "ca-dir", "crl-file", "no-such-key" };
    return i < 4 ? k[i] : NULL;
}

START_TEST(the_comparison_catches_a_difference)
{
    ck_assert(documented(".TP\n.BI ca-file= path\n", "ca-file"));
    ck_assert(!documented(".TP\n.BI ca-file= path\n", "file"));
    ck_assert(!documented("ca-file= in running text\n", "ca-file"));
    char *sec = section("trust");
    ck_assert(!documented(sec, fake_keys(3)));
    free(sec);
}
END_TEST

static Suite *policy_keys_suite(void)
{
    Suite *s = suite_create("policy_keys");
    TCase *tc = tcase_create("keys");
    tcase_add_checked_fixture(tc, load, unload);
    tcase_add_test(tc, every_trust_key_is_documented_and_only_those);
    tcase_add_test(tc, every_option_key_is_documented_and_only_those);
    tcase_add_test(tc, every_directive_has_its_section);
    tcase_add_test(tc, the_comparison_catches_a_difference);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(policy_keys_suite());
}
