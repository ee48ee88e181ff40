/* Distinguished-name vectors through the public DN API:
 *  - name-pairs.json (BoringSSL's verify_name_match names): each pair
 *    compared as certificate names (certrole_dn_key_from_x509 of both)
 *    and through the string path (certrole_dn_from_x509 of a, parsed
 *    back with certrole_dn_key, against certrole_dn_key_from_x509 of b);
 *    a name that does not decode or render matches nothing;
 *  - test-dn.ldif (OpenLDAP): the "Must Succeed" strings must parse with
 *    certrole_dn_canonical, the "Must Fail N" strings must not. "Should"
 *    and "May" strings are printed for information only.
 * Disagreements must be listed with a reason in expected-dn.txt. */
#define _GNU_SOURCE
#include "conf_util.h"
#include "testutil.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/pem.h>

static struct cj *pairs;
static struct conf_expect *expect;
static struct conf_tally row_x509 = { .suite = "DN pairs (X509_NAME)" };
static struct conf_tally row_string = { .suite = "DN pairs (RFC 4514 string)" };
static struct conf_tally row_ldif = { .suite = "DN test-dn.ldif" };

/* ----- name-pairs.json -------------------------------------------------------- */

/* The DER Name in a file of dn/names/ ("-----BEGIN NAME-----"), or NULL
 * when it does not decode. */
static X509_NAME *load_name(const char *file)
{
    char *rel = conf_strf("dn/names/%s", file);
    char *text = tu_read_file(conf_data(rel), NULL);
    ck_assert_msg(text != NULL, "cannot read %s", rel);
    free(rel);
    BIO *bio = BIO_new_mem_buf(text, -1);
    ck_assert_ptr_nonnull(bio);
    char *name = NULL, *header = NULL;
    unsigned char *der = NULL;
    long len = 0;
    X509_NAME *xn = NULL;
    if (PEM_read_bio(bio, &name, &header, &der, &len) == 1 && !strcmp(name, "NAME")) {
        const unsigned char *p = der;
        xn = d2i_X509_NAME(NULL, &p, len);
        if (xn && p != der + len) {   /* trailing bytes: not one Name */
            X509_NAME_free(xn);
            xn = NULL;
        }
    }
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(der);
    BIO_free(bio);
    free(text);
    ERR_clear_error();
    return xn;
}

static char *strip_pem(const char *f)
{
    char *s = conf_strf("%s", f);
    char *dot = strstr(s, ".pem");
    if (dot && !dot[4])
        *dot = '\0';
    return s;
}

START_TEST(test_name_pair)
{
    const struct cj *p = cj_at(pairs, (size_t)_i);
    const char *fa = cj_str(cj_get(p, "a")), *fb = cj_str(cj_get(p, "b"));
    const char *why = cj_str(cj_get(p, "why"));
    const struct cj *eq = cj_get(p, "equal");
    ck_assert(fa && fb && eq && eq->type == CJ_BOOL);
    int want = eq->b;
    X509_NAME *a = load_name(fa), *b = load_name(fb);
    char *ka = NULL, *kb = NULL, *sa = NULL, *ksa = NULL;
    certrole_code rca = a ? certrole_dn_key_from_x509(a, &ka) : CERTROLE_E_BAD_NAME;
    certrole_code rcb = b ? certrole_dn_key_from_x509(b, &kb) : CERTROLE_E_BAD_NAME;
    certrole_code rcs = a ? certrole_dn_from_x509(a, &sa) : CERTROLE_E_BAD_NAME;
    certrole_code rcks = rcs == CERTROLE_OK ? certrole_dn_key(sa, &ksa, NULL) : rcs;

    char *na = strip_pem(fa), *nb = strip_pem(fb);
    char *id = conf_strf("x509:%s~%s", na, nb);
    int got = rca == CERTROLE_OK && rcb == CERTROLE_OK && !strcmp(ka, kb);
    char *detail = conf_strf("%s: expected %s, got %s (key a: %s, key b: %s)", why ? why : "",
                           want ? "equal" : "different", got ? "equal" : "different",
                           rca == CERTROLE_OK ? ka : certrole_code_name(rca),
                           rcb == CERTROLE_OK ? kb : certrole_code_name(rcb));
    int sgot = rcks == CERTROLE_OK && rcb == CERTROLE_OK && !strcmp(ksa, kb);
    char *sid = conf_strf("string:%s~%s", na, nb);
    char *sdetail = conf_strf("%s: expected %s, got %s (string a: %s, key: %s, key b: %s)",
                            why ? why : "", want ? "equal" : "different",
                            sgot ? "equal" : "different",
                            rcs == CERTROLE_OK ? sa : certrole_code_name(rcs),
                            rcks == CERTROLE_OK ? ksa : certrole_code_name(rcks),
                            rcb == CERTROLE_OK ? kb : certrole_code_name(rcb));
    int bad = conf_record(&row_string, expect, sid, sgot == want ? CONF_AGREE : CONF_DISAGREE,
                          sdetail);
    bad |= conf_record(&row_x509, expect, id, got == want ? CONF_AGREE : CONF_DISAGREE, detail);
    char label[512];
    snprintf(label, sizeof label, "%s~%s", na, nb);

    free(sid);
    free(sdetail);
    free(id);
    free(detail);
    free(na);
    free(nb);
    certrole_free(ka);
    certrole_free(kb);
    certrole_free(sa);
    certrole_free(ksa);
    X509_NAME_free(a);
    X509_NAME_free(b);
    ck_assert_msg(!bad, "pair %s disagrees and is not on expected-dn.txt", label);
}
END_TEST

/* ----- test-dn.ldif --------------------------------------------------------- */

struct ldif_case { char *id, *dn, *group; int must_parse; };
static struct ldif_case *lcases, *info;   /* checked / informational */
static size_t nlcases, ninfo;

static void add_ldif_case(const char *group, const char *id, const char *dn, int must)
{
    struct ldif_case **v = must < 0 ? &info : &lcases;
    size_t *nv = must < 0 ? &ninfo : &nlcases;
    struct ldif_case *n = realloc(*v, (*nv + 1) * sizeof *n);
    if (!n) {
        fprintf(stderr, "out of memory\n");
        exit(99);
    }
    *v = n;
    n[*nv].id = conf_strf("%s", id);
    n[*nv].dn = conf_strf("%s", dn);
    n[*nv].group = conf_strf("%s", group);
    n[*nv].must_parse = must;
    (*nv)++;
}

static void free_ldif_cases(struct ldif_case *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].id);
        free(v[i].dn);
        free(v[i].group);
    }
    free(v);
}

/* Handles one unfolded LDIF entry: the "cn:" names the group; "member"
 * and "seeAlso" values are the DN strings under test. must: 1 must parse,
 * 0 must fail, -1 informational (printed after the table). */
static void ldif_entry(char **lines, size_t n)
{
    const char *cn = NULL;
    for (size_t i = 0; i < n; i++)
        if (!strncmp(lines[i], "cn:", 3))
            cn = lines[i] + 3 + strspn(lines[i] + 3, " ");
    if (!cn)
        return;
    int must, failno = 0;
    if (!strcmp(cn, "Must Succeed"))
        must = 1;
    else if (sscanf(cn, "Must Fail %d", &failno) == 1)
        must = 0;
    else if (!strcmp(cn, "Should Succeed") || !strncmp(cn, "May Succeed", 11))
        must = -1;
    else
        return;
    int k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *v;
        if (!strncmp(lines[i], "member:", 7))
            v = lines[i] + 7;
        else if (!strncmp(lines[i], "seeAlso:", 8))
            v = lines[i] + 8;
        else
            continue;
        v += strspn(v, " ");   /* LDIF FILL */
        k++;
        char *id = must == 0 ? conf_strf("must-fail-%d", failno)
                 : conf_strf("%s-%d", must == 1 ? "must-succeed" : "info", k);
        for (char *q = id; *q; q++)
            if (*q == ' ')
                *q = '-';
        add_ldif_case(cn, id, v, must);
        free(id);
    }
}

static int load_ldif(void)
{
    char *text = tu_read_file(conf_data("dn/test-dn.ldif"), NULL);
    if (!text)
        return -1;
    char **lines = NULL;
    size_t n = 0;
    /* Split keeping empty lines (entry separators). */
    for (char *p = text; p; ) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        size_t l = strlen(p);
        if (l && p[l - 1] == '\r')
            p[l - 1] = '\0';
        if (!*p) {
            ldif_entry(lines, n);
            for (size_t i = 0; i < n; i++)
                free(lines[i]);
            n = 0;
        } else if (*p == '#') {
            /* comment */
        } else if (*p == ' ' && n) {
            char *j = conf_strf("%s%s", lines[n - 1], p + 1);   /* folded line */
            free(lines[n - 1]);
            lines[n - 1] = j;
        } else {
            char **nv = realloc(lines, (n + 1) * sizeof *nv);
            if (!nv)
                break;
            lines = nv;
            lines[n++] = conf_strf("%s", p);
        }
        p = nl ? nl + 1 : NULL;
    }
    ldif_entry(lines, n);
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
    free(text);
    return nlcases ? 0 : -1;
}

START_TEST(test_ldif_string)
{
    const struct ldif_case *lc = &lcases[_i];
    char *out = NULL, *err = NULL;
    certrole_code rc = certrole_dn_canonical(lc->dn, &out, &err);
    char *detail = conf_strf("%s \"%s\": expected %s, got %s%s", lc->group, lc->dn,
                             lc->must_parse ? "parse" : "refusal",
                             rc == CERTROLE_OK ? "parse as " : "refusal: ",
                             rc == CERTROLE_OK ? out : (err ? err : certrole_code_name(rc)));
    int bad = conf_record(&row_ldif, expect, lc->id,
                          (rc == CERTROLE_OK) == lc->must_parse ? CONF_AGREE : CONF_DISAGREE,
                          detail);
    free(detail);
    certrole_free(out);
    certrole_free(err);
    ck_assert_msg(!bad, "%s disagrees and is not on expected-dn.txt", lc->id);
}
END_TEST

/* The "Should" and "May" strings: what we do with them, for the record. */
static void print_informational(void)
{
    printf("\ntest-dn.ldif Should/May Succeed strings (information, not checked):\n");
    for (size_t i = 0; i < ninfo; i++) {
        char *out = NULL, *err = NULL;
        certrole_code rc = certrole_dn_canonical(info[i].dn, &out, &err);
        printf("  %s \"%s\": %s%s\n", info[i].group, info[i].dn,
               rc == CERTROLE_OK ? "parses as " : "refused: ",
               rc == CERTROLE_OK ? out : (err ? err : certrole_code_name(rc)));
        certrole_free(out);
        certrole_free(err);
    }
}

int main(void)
{
    conf_require_data();
    char err[256];
    if (!(pairs = cj_parse_file(conf_data("dn/name-pairs.json"), err, sizeof err)) ||
        !cj_len(pairs)) {
        fprintf(stderr, "name-pairs.json: %s\n", pairs ? "no pairs" : err);
        cj_free(pairs);
        return EXIT_FAILURE;
    }
    expect = conf_expect_load("expected-dn.txt");
    if (!expect) {
        fprintf(stderr, "out of memory\n");
        return EXIT_FAILURE;
    }
    if (load_ldif() < 0) {
        fprintf(stderr, "test-dn.ldif: unreadable or no DN strings found\n");
        return EXIT_FAILURE;
    }

    Suite *s = suite_create("conformance: DN vectors");
    TCase *tc = tcase_create("dn");
    tcase_add_loop_test(tc, test_name_pair, 0, (int)cj_len(pairs));
    tcase_add_loop_test(tc, test_ldif_string, 0, (int)nlcases);
    suite_add_tcase(s, tc);
    struct conf_tally *rows[] = { &row_x509, &row_string, &row_ldif };
    int rc = conf_run(s, rows, sizeof rows / sizeof rows[0]);
    print_informational();
    conf_expect_unused(expect);

    free_ldif_cases(lcases, nlcases);
    free_ldif_cases(info, ninfo);
    conf_expect_free(expect);
    cj_free(pairs);
    return rc;
}
