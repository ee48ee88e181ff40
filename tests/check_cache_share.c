/* The verification cache's sharing and comparison: a hit is a
 * reference to one immutable result that outlives its context; a chain is
 * found again when decoded afresh; a forged certificate carrying a copied
 * signature is never served the real one's verdict; the audit line is the
 * same, byte for byte, on a hit, with hostile bytes escaped. */
#define _GNU_SOURCE
#include "testutil.h"
#include <certrole.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define CLIENT_DN "CN=CRMApplication,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US"

struct lines {
    char buf[16384];
    size_t len;
    int n;
};

static void collect(void *u, certrole_log_level l, const char *line)
{
    struct lines *s = u;
    (void)l;
    int w = snprintf(s->buf + s->len, sizeof s->buf - s->len, "%s\n", line);
    if (w > 0 && (size_t)w < sizeof s->buf - s->len)
        s->len += (size_t)w;
    s->n++;
}

static void quiet(void *u, certrole_log_level l, const char *line)
{
    (void)u; (void)l; (void)line;
}

static STACK_OF(X509) *load_pem(const char *path)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    FILE *f = fopen(path, "r");
    ck_assert_msg(sk && f, "cannot read %s", path);
    X509 *x;
    while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
        ck_assert(sk_X509_push(sk, x) > 0);
    fclose(f);
    ck_assert_int_gt(sk_X509_num(sk), 0);
    return sk;
}

/* A context on the Acme PKI with a file realm knowing the client. */
static certrole_ctx *open_ctx(char **dir, const char *options)
{
    *dir = tu_mkdtemp("cacheshare");
    char *realm = tu_strf("%s/users.realm", *dir);
    tu_write_file(realm, "\"" CLIENT_DN "\" reader user=crm\n");
    char *text = tu_strf("trust ca-file=%s crl-file=%s crl-check=chain\n"
                         "realm required file path=%s\n"
                         "require GET /admin admin\n%s\n",
                         tu_pki("ca-file.pem"), tu_pki("crl.pem"), realm, options);
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    ck_assert_msg(certrole_open_string(&ctx, text, "share.policy", &err) == CERTROLE_OK, "%s",
                  err ? err : "?");
    certrole_set_log(ctx, quiet, NULL);
    free(text);
    free(realm);
    return ctx;
}

static void close_ctx(certrole_ctx *ctx, char *dir)
{
    certrole_close(ctx);
    tu_rmrf(dir);
    free(dir);
}

/* Verifies the chain in file (leaf first), decoded afresh each time. */
static certrole_result *verify_file(certrole_ctx *ctx, const char *file)
{
    STACK_OF(X509) *sk = load_pem(tu_pki(file));
    X509 *leaf = sk_X509_shift(sk);
    certrole_result *r = NULL;
    certrole_verify_x509(ctx, leaf, sk, &r);
    ck_assert_ptr_nonnull(r);
    X509_free(leaf);
    sk_X509_pop_free(sk, X509_free);
    return r;
}

START_TEST(fresh_decode_of_the_same_chain_is_a_hit)
{
    char *dir;
    certrole_ctx *ctx = open_ctx(&dir, "option cache-ttl=300");
    certrole_result *a = verify_file(ctx, "client-chain.pem");
    certrole_result *b = verify_file(ctx, "client-chain.pem");
    ck_assert_int_eq(certrole_result_code(a), CERTROLE_OK);
    ck_assert_int_eq(certrole_result_cached(a), 0);
    ck_assert_int_eq(certrole_result_code(b), CERTROLE_OK);
    ck_assert_msg(certrole_result_cached(b), "other objects, same bytes: served from the cache");
    ck_assert_str_eq(certrole_result_user(b), "crm");
    ck_assert(certrole_result_has_role(b, "reader"));
    certrole_result_free(a);
    certrole_result_free(b);
    close_ctx(ctx, dir);
}
END_TEST

/* The client certificate with its serial changed and the CA's signature
 * copied over unchanged, re-encoded and decoded afresh (what a peer could
 * send: same signature bytes, different to-be-signed part). */
static X509 *forge(X509 *real, long serial)
{
    X509 *f = X509_dup(real);
    ASN1_INTEGER *s = ASN1_INTEGER_new();
    ck_assert(f && s && ASN1_INTEGER_set(s, serial) == 1 && X509_set_serialNumber(f, s) == 1);
    ASN1_INTEGER_free(s);
    /* setters keep the cached encoding: force a fresh one */
    ck_assert_int_gt(i2d_re_X509_tbs(f, NULL), 0);
    unsigned char *der = NULL;
    int n = i2d_X509(f, &der);
    ck_assert_int_gt(n, 0);
    const unsigned char *p = der;
    X509 *out = d2i_X509(NULL, &p, n);
    ck_assert_ptr_nonnull(out);
    OPENSSL_free(der);
    X509_free(f);
    const ASN1_BIT_STRING *s1, *s2;
    X509_get0_signature(&s1, NULL, real);
    X509_get0_signature(&s2, NULL, out);
    ck_assert_int_eq(ASN1_STRING_cmp(s1, s2), 0);
    ck_assert_int_ne(X509_cmp(real, out), 0);
    return out;
}

START_TEST(forged_copy_of_a_signature_is_never_served)
{
    char *dir;
    /* denials cached too: forged entries share the real one's bucket */
    certrole_ctx *ctx = open_ctx(&dir, "option cache-ttl=300 deny-ttl=30");
    STACK_OF(X509) *sk = load_pem(tu_pki("client-chain.pem"));
    X509 *leaf = sk_X509_shift(sk);
    certrole_result *r = NULL;
    ck_assert_int_eq(certrole_verify_x509(ctx, leaf, sk, &r), CERTROLE_OK);
    certrole_result_free(r);
    for (long i = 0; i < 10; i++) {
        X509 *f = forge(leaf, 424242 + i);
        for (int round = 0; round < 2; round++) {
            certrole_code rc = certrole_verify_x509(ctx, f, sk, &r);
            ck_assert_msg(rc != CERTROLE_OK, "forged certificate %ld allowed (cached=%d)", i,
                          certrole_result_cached(r));
            ck_assert_int_ne(certrole_result_code(r), CERTROLE_OK);
            certrole_result_free(r);
        }
        X509_free(f);
        /* the real chain keeps its own verdict, from the cache */
        ck_assert_int_eq(certrole_verify_x509(ctx, leaf, sk, &r), CERTROLE_OK);
        ck_assert_int_eq(certrole_result_cached(r), 1);
        ck_assert_str_eq(certrole_result_user(r), "crm");
        certrole_result_free(r);
    }
    /* and the damaged-signature copy of the client (same to-be-signed
     * bytes) is denied, not served the client's verdict */
    STACK_OF(X509) *bad = load_pem(tu_pki("badsig.pem"));
    ck_assert_int_ne(certrole_verify_x509(ctx, sk_X509_value(bad, 0), sk, &r), CERTROLE_OK);
    ck_assert_int_eq(certrole_result_cached(r), 0);
    certrole_result_free(r);
    sk_X509_pop_free(bad, X509_free);
    X509_free(leaf);
    sk_X509_pop_free(sk, X509_free);
    close_ctx(ctx, dir);
}
END_TEST

START_TEST(hit_outlives_its_context)
{
    char *dir;
    certrole_ctx *ctx = open_ctx(&dir, "option cache-ttl=300");
    certrole_result *a = verify_file(ctx, "client-chain.pem");
    certrole_result *b = verify_file(ctx, "client-chain.pem");
    certrole_result *c = verify_file(ctx, "client-chain.pem");
    ck_assert(certrole_result_cached(b) && certrole_result_cached(c));
    certrole_close(ctx);   /* drops the configuration's cache with its entry */
    certrole_result_free(b);
    ck_assert_str_eq(certrole_result_subject(c), CLIENT_DN);
    ck_assert_str_eq(certrole_result_user(c), "crm");
    ck_assert(certrole_result_has_role(c, "reader"));
    ck_assert_ptr_nonnull(certrole_result_leaf(c));
    /* authorization still sees the configuration the result came from */
    ck_assert_int_eq(certrole_authorize(NULL, c, "GET", "/admin"), CERTROLE_E_FORBIDDEN);
    ck_assert_int_eq(certrole_authorize(NULL, c, "GET", "/other"), CERTROLE_OK);
    char *json = certrole_result_json(c);
    ck_assert_ptr_nonnull(strstr(json, "\"cached\":true"));
    certrole_free(json);
    certrole_result_free(c);
    ck_assert_int_eq(certrole_result_cached(a), 0);
    certrole_result_free(a);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* A stored result holds its configuration; a reload retires the old
 * cache so that cycle cannot keep old configurations alive (the sanitizer
 * run's leak check would see them), while a hit a caller still holds
 * keeps working against the generation that decided it. */
START_TEST(hits_held_across_reloads_keep_their_generation)
{
    char *dir;
    certrole_ctx *ctx = open_ctx(&dir, "option cache-ttl=300");
    char *realm = tu_strf("%s/users.realm", dir);
    certrole_result *held[4] = { NULL };
    for (int g = 0; g < 4; g++) {
        if (g > 0) {
            /* generation g: the client holds role rG */
            char *line = tu_strf("\"" CLIENT_DN "\" r%d user=crm\n", g);
            tu_write_file(realm, line);
            free(line);
            char *err = NULL;
            ck_assert_msg(certrole_reload(ctx, &err) == CERTROLE_OK, "%s", err ? err : "?");
        }
        certrole_result *miss = verify_file(ctx, "client-chain.pem");
        ck_assert_msg(!certrole_result_cached(miss), "generation %d: a reload must empty the cache", g);
        certrole_result_free(miss);
        held[g] = verify_file(ctx, "client-chain.pem");
        ck_assert(certrole_result_cached(held[g]));
    }
    for (int g = 0; g < 4; g++) {
        char role[8];
        snprintf(role, sizeof role, g ? "r%d" : "reader", g);
        ck_assert_msg(certrole_result_has_role(held[g], role), "generation %d lost %s", g, role);
        ck_assert_int_eq(certrole_result_role_count(held[g]), 1);
        ck_assert_int_eq(certrole_authorize(NULL, held[g], "GET", "/admin"), CERTROLE_E_FORBIDDEN);
    }
    certrole_close(ctx);
    for (int g = 3; g >= 0; g--)
        certrole_result_free(held[g]);   /* the last one frees its configuration */
    free(realm);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

struct worker {
    certrole_ctx *ctx;
    X509 *leaf;
    STACK_OF(X509) *rest;
    int bad;
};

static void *hammer(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < 20000; i++) {
        certrole_result *r = NULL;
        if (certrole_verify_x509(w->ctx, w->leaf, w->rest, &r) != CERTROLE_OK ||
            !certrole_result_cached(r) || strcmp(certrole_result_user(r), "crm") != 0 ||
            !certrole_result_has_role(r, "reader"))
            w->bad++;
        certrole_result_free(r);
    }
    return NULL;
}

START_TEST(threads_share_one_cached_result)
{
    char *dir;
    certrole_ctx *ctx = open_ctx(&dir, "option cache-ttl=300");
    STACK_OF(X509) *sk = load_pem(tu_pki("client-chain.pem"));
    X509 *leaf = sk_X509_shift(sk);
    certrole_result *r = NULL;
    ck_assert_int_eq(certrole_verify_x509(ctx, leaf, sk, &r), CERTROLE_OK);
    certrole_result_free(r);
    struct worker w[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        w[i] = (struct worker){ ctx, leaf, sk, 0 };
        ck_assert_int_eq(pthread_create(&th[i], NULL, hammer, &w[i]), 0);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(w[i].bad, 0);
    }
    X509_free(leaf);
    sk_X509_pop_free(sk, X509_free);
    close_ctx(ctx, dir);
}
END_TEST

/* The first line of buf (without its newline), malloc'd; *rest after it. */
static char *first_line(const char *buf, const char **rest)
{
    const char *nl = strchr(buf, '\n');
    ck_assert_ptr_nonnull(nl);
    *rest = nl + 1;
    return strndup(buf, (size_t)(nl - buf));
}

/* A hit's line starts with a head rendered once, when the result was
 * stored: it must be the miss's line byte for byte, for an allow and for
 * a cached denial, and with the per-caller peer and resource after it. */
START_TEST(audit_head_of_a_hit_is_the_miss_line)
{
    char *dir;
    certrole_ctx *ctx = open_ctx(&dir, "option cache-ttl=300 deny-ttl=30 audit=yes");
    static const char *const files[] = { "client-chain.pem", "norole-chain.pem" };
    for (size_t i = 0; i < 2; i++) {
        struct lines l;
        memset(&l, 0, sizeof l);
        certrole_set_log(ctx, collect, &l);
        certrole_result *miss = verify_file(ctx, files[i]);
        certrole_result *hit = verify_file(ctx, files[i]);
        ck_assert_msg(!certrole_result_cached(miss) && certrole_result_cached(hit), "%s",
                      files[i]);
        ck_assert_int_eq(certrole_result_code(miss), certrole_result_code(hit));
        ck_assert_int_eq(certrole_result_allowed(miss), i == 0);
        const char *rest, *end;
        char *a = first_line(l.buf, &rest), *b = first_line(rest, &end);
        ck_assert_str_eq(a, b);
        ck_assert_str_eq(end, "");
        free(a);
        free(b);
        l.len = 0;
        l.buf[0] = '\0';
        ck_assert_int_eq(certrole_result_set_peer(miss, "192.0.2.7"), CERTROLE_OK);
        ck_assert_int_eq(certrole_result_set_peer(hit, "192.0.2.7"), CERTROLE_OK);
        certrole_code want = certrole_authorize(ctx, miss, "GET", "/report");
        ck_assert_int_eq(certrole_authorize(ctx, hit, "GET", "/report"), want);
        a = first_line(l.buf, &rest);
        b = first_line(rest, &end);
        ck_assert_str_eq(a, b);
        ck_assert_msg(strstr(a, " peer=\"192.0.2.7\" resource=\"GET /report\""), "%s", a);
        free(a);
        free(b);
        certrole_result_free(miss);
        certrole_result_free(hit);
        certrole_set_log(ctx, quiet, NULL);
    }
    close_ctx(ctx, dir);
}
END_TEST

START_TEST(audit_line_identical_on_a_hit_and_escaped)
{
    char *dir;
    certrole_ctx *ctx = open_ctx(&dir, "option cache-ttl=300 audit=yes");
    struct lines l;
    memset(&l, 0, sizeof l);
    certrole_set_log(ctx, collect, &l);
    certrole_result *a = verify_file(ctx, "client-chain.pem");
    certrole_result *b = verify_file(ctx, "client-chain.pem");
    ck_assert(certrole_result_cached(b));
    char *want = tu_strf("decision=allow code=ok subject=\"%s\" user=\"crm\" realm=\"%s\""
                         " sha256=%.64s\n", CLIENT_DN, certrole_result_realm(a),
                         certrole_result_fingerprint(a));
    char *both = tu_strf("%s%s", want, want);
    ck_assert_str_eq(l.buf, both);
    free(both);
    free(want);

    /* a denial by authorization, path with a quote, a backslash and
     * control bytes, and a long one (more than any stack buffer) */
    l.len = 0;
    l.buf[0] = '\0';
    ck_assert_int_eq(certrole_authorize(ctx, b, "GET", "/admin/a\"b\\c\x01\x7f"),
                     CERTROLE_E_FORBIDDEN);
    ck_assert_msg(strstr(l.buf, " resource=\"GET /admin/a\\\"b\\\\c\\x01\\x7f\" message=\""),
                  "%s", l.buf);
    ck_assert_ptr_nonnull(strstr(l.buf, "decision=deny code=forbidden subject=\"" CLIENT_DN
                                        "\" user=\"crm\""));
    ck_assert_ptr_eq(strchr(l.buf, '\n'), l.buf + l.len - 1);   /* one line */
    size_t n = 3000;
    char *path = malloc(n + 2);
    path[0] = '/';
    for (size_t i = 1; i <= n; i++)
        path[i] = i % 3 == 0 ? '"' : 'x';
    path[n + 1] = '\0';
    l.len = 0;
    l.buf[0] = '\0';
    ck_assert_int_eq(certrole_authorize(ctx, b, "POST", path), CERTROLE_OK);
    char *p = strstr(l.buf, " resource=\"POST /");
    ck_assert_ptr_nonnull(p);
    p += strlen(" resource=\"POST /");
    for (size_t i = 1; i <= n; i++) {
        if (i % 3 == 0) {
            ck_assert_msg(p[0] == '\\' && p[1] == '"', "escape at %zu", i);
            p += 2;
        } else {
            ck_assert_int_eq(*p++, 'x');
        }
    }
    ck_assert_int_eq(*p, '"');
    free(path);
    certrole_result_free(a);
    certrole_result_free(b);
    close_ctx(ctx, dir);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("cache_share");
    TCase *t = tcase_create("core");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, fresh_decode_of_the_same_chain_is_a_hit);
    tcase_add_test(t, forged_copy_of_a_signature_is_never_served);
    tcase_add_test(t, hit_outlives_its_context);
    tcase_add_test(t, hits_held_across_reloads_keep_their_generation);
    tcase_add_test(t, threads_share_one_cached_result);
    tcase_add_test(t, audit_line_identical_on_a_hit_and_escaped);
    tcase_add_test(t, audit_head_of_a_hit_is_the_miss_line);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return tu_run_suite(suite());
}
