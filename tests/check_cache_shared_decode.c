/* The shared cache's reading of an entry's value (decode() in
 * module/verify/cache_shared.c), white-box. The checksum only proves the
 * bytes are what some process stored: values with a right checksum whose
 * lengths or counts lie (a string past the end, more roles than bytes, a
 * value cut short, bytes left over) must each be a miss. Each value is
 * given to decode() in a buffer of exactly its size, so a read past it
 * is an error under 'make check-sanitize'; through the table, the
 * checksum is made right by the cache's own code (cr_shcache_test_seal). */
#define _GNU_SOURCE
#include "testutil.h"
#include <certrole.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/pem.h>
#include "cache_shared_test.h"
#include "result.h"

#define NO_STR UINT32_MAX     /* a NULL string, as cache_shared.c writes it */

/* A value as encode() writes it, and where its lying fields are. */
struct val {
    unsigned char b[256];
    size_t n;
    size_t at_count, at_msg, at_role2;
};

static void put(struct val *v, const void *p, size_t n)
{
    ck_assert_uint_le(v->n + n, sizeof v->b);
    memcpy(v->b + v->n, p, n);
    v->n += n;
}

static void put_u32(struct val *v, uint32_t x)
{
    put(v, &x, sizeof x);
}

static void put_str(struct val *v, const char *s)
{
    put_u32(v, s ? (uint32_t)strlen(s) : NO_STR);
    if (s)
        put(v, s, strlen(s));
}

static void set_u32(struct val *v, size_t at, uint32_t x)
{
    ck_assert_uint_le(at + sizeof x, v->n);
    memcpy(v->b + at, &x, sizeof x);
}

/* code, depth, role count, message, hint, user, realm, anchor, anchor
 * key, the roles: the order encode() writes. */
static void good(struct val *v)
{
    memset(v, 0, sizeof *v);
    put_u32(v, CERTROLE_OK);
    put_u32(v, 3);
    v->at_count = v->n;
    put_u32(v, 2);
    v->at_msg = v->n;
    put_str(v, "allowed");
    put_str(v, "");
    put_str(v, "crm");
    put_str(v, "file");
    put_str(v, NULL);
    put_str(v, NULL);
    put_str(v, "reader");
    v->at_role2 = v->n;
    put_str(v, "writer");
}

/* decode() of exactly len bytes (a copy of their own): the result, or
 * NULL when refused. */
static certrole_result *decode(const unsigned char *b, size_t len)
{
    unsigned char *copy = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, b, len);
    certrole_result *r = cr_result_new(NULL);
    ck_assert_ptr_nonnull(r);
    int rc = cr_shcache_test_decode(r, copy, len);
    free(copy);
    if (rc != 0) {
        certrole_result_free(r);
        return NULL;
    }
    return r;
}

static void refused(const struct val *v, const char *what)
{
    certrole_result *r = decode(v->b, v->n);
    ck_assert_msg(r == NULL, "decoded, though %s", what);
}

static void assert_good(const certrole_result *r)
{
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(certrole_result_code(r), CERTROLE_OK);
    ck_assert_str_eq(certrole_result_message(r), "allowed");
    ck_assert_str_eq(certrole_result_user(r), "crm");
    ck_assert_uint_eq(certrole_result_role_count(r), 2);
    ck_assert_str_eq(certrole_result_role(r, 0), "reader");
    ck_assert_str_eq(certrole_result_role(r, 1), "writer");
}

START_TEST(well_formed_value_decodes)
{
    struct val v;
    good(&v);
    certrole_result *r = decode(v.b, v.n);
    assert_good(r);
    ck_assert_int_eq(r->depth, 3);
    ck_assert_str_eq(r->realm, "file");
    ck_assert_ptr_null(r->id.anchor);
    certrole_result_free(r);
}
END_TEST

START_TEST(string_length_past_the_end_is_refused)
{
    struct val v;
    good(&v);
    /* the message claims every byte after its length, and one more */
    set_u32(&v, v.at_msg, (uint32_t)(v.n - v.at_msg - 4 + 1));
    refused(&v, "the message runs past the end");
    set_u32(&v, v.at_msg, NO_STR - 1);
    refused(&v, "the message is 4 GB long");
    good(&v);
    /* the last string, one byte longer than what is left */
    set_u32(&v, v.at_role2, (uint32_t)strlen("writer") + 1);
    refused(&v, "the last role runs past the end");
}
END_TEST

START_TEST(role_count_larger_than_the_bytes_is_refused)
{
    struct val v;
    good(&v);
    set_u32(&v, v.at_count, 3);
    refused(&v, "a third role is counted but absent");
    set_u32(&v, v.at_count, (uint32_t)(v.n / 4));   /* as many as the bound lets through */
    refused(&v, "the count is the bound, the roles two");
    set_u32(&v, v.at_count, UINT32_MAX);
    refused(&v, "the count is 2^32 - 1");
    set_u32(&v, v.at_count, 1);
    refused(&v, "the second role is left over");
}
END_TEST

/* Strings carry their length and no terminator: an entry cut short
 * anywhere (inside a length, a string, before a counted role) is one
 * whose last field has no end. */
START_TEST(value_cut_short_is_refused)
{
    struct val v;
    good(&v);
    for (size_t len = 0; len < v.n; len++) {
        certrole_result *r = decode(v.b, len);
        ck_assert_msg(r == NULL, "decoded from its first %zu of %zu bytes", len, v.n);
    }
}
END_TEST

START_TEST(trailing_bytes_are_refused)
{
    struct val v;
    good(&v);
    put(&v, "x", 1);
    refused(&v, "one byte is left over");
    good(&v);
    put_str(&v, "");     /* looks like one more empty string */
    refused(&v, "four bytes are left over");
    good(&v);
    put_str(&v, NULL);
    refused(&v, "a NULL string is left over");
}
END_TEST

START_TEST(odd_fields_are_refused)
{
    struct val v;
    good(&v);
    v.b[v.at_role2 + 4 + 2] = '\0';                      /* "wr\0ter" */
    refused(&v, "a role holds a NUL byte");
    good(&v);
    set_u32(&v, v.at_role2, NO_STR);
    v.n = v.at_role2 + 4;
    refused(&v, "a role is NULL");
    good(&v);
    set_u32(&v, v.at_msg, NO_STR);
    memmove(v.b + v.at_msg + 4, v.b + v.at_msg + 4 + 7, v.n - v.at_msg - 4 - 7);
    v.n -= 7;
    refused(&v, "the message is NULL");
    good(&v);
    set_u32(&v, 0, CERTROLE_CODE_COUNT);
    refused(&v, "the code is out of range");
    good(&v);
    set_u32(&v, 4, 101);
    refused(&v, "the depth is out of range");
}
END_TEST

/* ----- through the table: the checksum holds, the value lies ----- */

static X509 *client_leaf(void)
{
    FILE *f = fopen(tu_pki("client.pem"), "r");
    ck_assert_msg(f != NULL, "cannot read client.pem");
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    ck_assert_ptr_nonnull(x);
    return x;
}

/* Writes v as the value of key's slot, sealed; what a lookup gives. */
static certrole_result *stored_as(struct cr_shcache *sc, const unsigned char *key,
                                  const struct val *v, X509 *leaf, time_t now)
{
    size_t off, cap;
    unsigned char *slot = cr_shcache_test_slot(sc, key, &off, &cap);
    ck_assert_ptr_nonnull(slot);
    ck_assert_uint_le(v->n, cap);
    memcpy(slot + off, v->b, v->n);
    ck_assert_int_eq(cr_shcache_test_seal(sc, key, v->n), 0);
    time_t until;
    return cr_shcache_get(sc, key, now, NULL, leaf, &until);
}

START_TEST(sealed_lying_entries_are_misses)
{
    size_t bytes = 0;
    ck_assert_int_eq(cr_shcache_parse_size("1m", &bytes), 0);
    struct cr_shcache *sc = cr_shcache_new(bytes);
    ck_assert_ptr_nonnull(sc);
    X509 *leaf = client_leaf();
    time_t now = time(NULL);
    unsigned char key[CR_SHCACHE_KEY] = { 0 };
    certrole_result *r = cr_result_new(NULL);
    ck_assert_ptr_nonnull(r);
    cr_result_set(r, CERTROLE_OK, NULL, NULL);
    cr_shcache_put(sc, key, r, now + 60, now);
    certrole_result_free(r);

    /* a hand-made value with its seal is served: the seal is right */
    struct val v;
    good(&v);
    r = stored_as(sc, key, &v, leaf, now);
    assert_good(r);
    certrole_result_free(r);
    /* the stored length ends inside the message: the bytes after it,
     * still in the slot, are not read */
    struct val cut = v;
    cut.n = v.at_msg + 4 + 3;
    ck_assert_ptr_null(stored_as(sc, key, &cut, leaf, now));
    set_u32(&v, v.at_count, 3);
    ck_assert_ptr_null(stored_as(sc, key, &v, leaf, now));
    good(&v);
    set_u32(&v, v.at_role2, 200);
    ck_assert_ptr_null(stored_as(sc, key, &v, leaf, now));
    good(&v);
    put(&v, "x", 1);
    ck_assert_ptr_null(stored_as(sc, key, &v, leaf, now));
    /* and again intact: served */
    good(&v);
    r = stored_as(sc, key, &v, leaf, now);
    assert_good(r);
    certrole_result_free(r);
    X509_free(leaf);
    cr_shcache_free(sc);
}
END_TEST

static Suite *decode_suite(void)
{
    Suite *s = suite_create("shared cache entry decoding");
    TCase *tc = tcase_create("decode");
    tcase_add_test(tc, well_formed_value_decodes);
    tcase_add_test(tc, string_length_past_the_end_is_refused);
    tcase_add_test(tc, role_count_larger_than_the_bytes_is_refused);
    tcase_add_test(tc, value_cut_short_is_refused);
    tcase_add_test(tc, trailing_bytes_are_refused);
    tcase_add_test(tc, odd_fields_are_refused);
    tcase_add_test(tc, sealed_lying_entries_are_misses);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(decode_suite());
}
