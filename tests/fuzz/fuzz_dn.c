/* libFuzzer target: the DN parser and comparator, differentially.
 *
 * Input: text DNs separated by a newline ("A\nB"), or, when the first
 * byte is 0x00, the DER of an X509_NAME after it. Properties checked
 * (a violation traps, so libFuzzer records the input):
 *  - canonical form is a fixed point: parse(canon(A)) gives canon(A) and
 *    the same key; the key itself parses to itself;
 *  - the one-pass internal call agrees with the public ones;
 *  - A equals its canonical form, both ways;
 *  - for two DNs: equal(A,B) == equal(B,A) == (key(A) == key(B));
 *  - an X509_NAME's key is the key of its canonical string;
 *  - folding is stable: the key of a key is that key, and so is the key
 *    of the key with its ASCII letters upper-cased (the key's values are
 *    folded, and ASCII case never matters in them);
 *  - no non-ASCII character folds into ASCII: a canonical string with a
 *    non-ASCII character other than white space (which becomes a space)
 *    has a key with one too (U+0130 must not become "i", nor "ß" "ss");
 *  - no default-ignorable or format (Cf) code point survives: a DN that
 *    holds one raw never yields a key, and no canonical string or key
 *    contains one (escaped or "#hex" spellings included), judged with
 *    libunistring's tables independently of the library's check.
 * Anything that does not parse must say so (-1 / BAD_NAME), never crash. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/x509.h>
#include <unictype.h>
#include <unistr.h>
#include "certrole.h"
#include "dn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PROPERTY(c) do { if (!(c)) __builtin_trap(); } while (0)

static int same(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* 1 when the text holds a code point that must never reach a key. */
static int has_invisible(const char *s)
{
    const uint8_t *p = (const uint8_t *)s;
    ucs4_t c;
    while ((p = u8_next(&c, p)) != NULL)
        if (uc_is_property_default_ignorable_code_point(c) ||
            uc_is_general_category(c, UC_CATEGORY_Cf))
            return 1;
    return 0;
}

/* 1 when the text holds a non-ASCII character that is not white space. */
static int has_non_ascii_letter(const char *s)
{
    const uint8_t *p = (const uint8_t *)s;
    ucs4_t c;
    while ((p = u8_next(&c, p)) != NULL)
        if (c >= 0x80 && !uc_is_property_white_space(c))
            return 1;
    return 0;
}

static int has_non_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return 1;
    return 0;
}

/* The key with ASCII letters upper-cased keys to itself: its type names
 * are OIDs (digits), its values already folded, "#HEX" upper case. The
 * one case-exact type (x500UniqueIdentifier) is left out. */
static void check_fold_stable(const char *key)
{
    if (strstr(key, "2.5.4.45="))
        return;
    char *up = strdup(key), *k = NULL;
    if (!up)
        return;
    for (char *q = up; *q; q++)
        if (*q >= 'a' && *q <= 'z')
            *q = (char)(*q - 32);
    PROPERTY(cr_dn_string(up, NULL, &k, NULL) == CERTROLE_OK);
    PROPERTY(same(k, key));
    free(k);
    free(up);
}

/* Checks one text DN; returns its key (malloc'd) or NULL if it does not
 * parse. */
static char *check_one(const char *s)
{
    char *canon = NULL, *key = NULL, *err = NULL;
    certrole_code rc = cr_dn_string(s, &canon, &key, &err);
    if (rc != CERTROLE_OK) {
        PROPERTY(!canon && !key);
        free(err);
        PROPERTY(certrole_dn_equal(s, s) == -1 || rc == CERTROLE_E_NO_MEMORY);
        return NULL;
    }
    PROPERTY(canon && key);
    PROPERTY(!has_invisible(s));
    PROPERTY(!has_invisible(canon) && !has_invisible(key));
    PROPERTY(!has_non_ascii_letter(canon) || has_non_ascii(key));
    check_fold_stable(key);

    /* Public entry points agree with the one-pass call. */
    char *pc = NULL, *pk = NULL;
    PROPERTY(certrole_dn_canonical(s, &pc, NULL) == CERTROLE_OK && same(pc, canon));
    PROPERTY(certrole_dn_key(s, &pk, NULL) == CERTROLE_OK && same(pk, key));
    certrole_free(pc);
    certrole_free(pk);

    /* Canonical form is stable: parse -> canonical -> parse. */
    char *c2 = NULL, *k2 = NULL;
    PROPERTY(cr_dn_string(canon, &c2, &k2, NULL) == CERTROLE_OK);
    PROPERTY(same(c2, canon));
    PROPERTY(same(k2, key));
    free(c2);
    free(k2);

    /* The key is itself a DN whose key it is. */
    char *k3 = NULL;
    PROPERTY(cr_dn_string(key, NULL, &k3, NULL) == CERTROLE_OK);
    PROPERTY(same(k3, key));
    free(k3);

    /* A DN names the same entity as its canonical form, both ways. */
    PROPERTY(certrole_dn_equal(s, canon) == 1);
    PROPERTY(certrole_dn_equal(canon, s) == 1);
    free(canon);
    return key;
}

static void check_x509_name(const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    X509_NAME *name = d2i_X509_NAME(NULL, &p, (long)len);
    if (!name)
        return;
    char *canon = NULL, *key = NULL, *err = NULL;
    if (cr_dn_x509(name, &canon, &key, &err) == CERTROLE_OK) {
        PROPERTY(canon && key);
        PROPERTY(!has_invisible(canon) && !has_invisible(key));
        char *pc = NULL, *pk = NULL;
        PROPERTY(certrole_dn_from_x509(name, &pc) == CERTROLE_OK && same(pc, canon));
        PROPERTY(certrole_dn_key_from_x509(name, &pk) == CERTROLE_OK && same(pk, key));
        certrole_free(pc);
        certrole_free(pk);
        /* dn.h: "key of the canonical string == key of the name". */
        char *ks = check_one(canon);
        PROPERTY(same(ks, key));
        free(ks);
    } else {
        PROPERTY(!canon && !key);
    }
    free(canon);
    free(key);
    free(err);
    X509_NAME_free(name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 0 && data[0] == 0) {
        check_x509_name(data + 1, size - 1);
        return 0;
    }
    /* Text mode: the DN strings end at a NUL (C strings). */
    size_t n = strnlen((const char *)data, size);
    char *s = malloc(n + 1);
    if (!s)
        return 0;
    memcpy(s, data, n);
    s[n] = '\0';
    char *b = strchr(s, '\n');
    if (b)
        *b++ = '\0';

    char *ka = check_one(s);
    if (b) {
        char *kb = check_one(b);
        int ea = certrole_dn_equal(s, b), eb = certrole_dn_equal(b, s);
        PROPERTY(ea == eb);
        if (ka && kb)
            PROPERTY(ea == (strcmp(ka, kb) == 0));
        else
            PROPERTY(ea == -1);
        free(kb);
    }
    free(ka);
    free(s);
    return 0;
}
