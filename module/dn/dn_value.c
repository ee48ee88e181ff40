/* Attribute values of a DN: UTF-8 checks, RFC 4514 escaping, and the
 * RFC 4518-style normalisation used in matching keys (dn.h). Unicode
 * tables (case folding, character properties, names) are libunistring's. */
#include "dn.h"
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <unicase.h>
#include <unictype.h>
#include <uniname.h>
#include <uninorm.h>

/* Decodes one UTF-8 sequence at s[*i] (strict: no overlongs, surrogates
 * or code points past U+10FFFF). Returns the code point, or -1. */
static long utf8_next(const unsigned char *s, size_t n, size_t *i)
{
    size_t k = *i;
    unsigned c = s[k];
    if (c < 0x80) {
        *i = k + 1;
        return (long)c;
    }
    int len;
    unsigned long cp, min;
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; min = 0x10000; }
    else return -1;
    if (n - k < (size_t)len)
        return -1;
    for (int j = 1; j < len; j++) {
        unsigned cc = s[k + (size_t)j];
        if ((cc & 0xC0) != 0x80)
            return -1;
        cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    *i = k + (size_t)len;
    return (long)cp;
}

/* Case folding of one non-ASCII character: Unicode full case folding
 * (CaseFolding.txt C+F; no language, so no Turkic rule; no normalisation,
 * see below) with one exception. U+0130 'İ' folds to "i" U+0307, never to
 * plain "i"; U+0131 'ı' stays 'ı'; 'ς' and 'Σ' fold to 'σ'. The exception:
 * a non-ASCII character never folds to ASCII only. Full folding would
 * turn 'ß' and 'ẞ' into "ss", the ligatures U+FB00..FB06 into "ff", "fi",
 * ..., the Kelvin sign into 'k' and the long s into 's', so a requester
 * could spell an ASCII name without its letters. Those keep their simple
 * lower case if it is not ASCII ('ẞ' -> 'ß'), else stay themselves. The
 * result is stable: folding it again changes nothing.
 *
 * No normalisation: NFKC would merge fullwidth, superscript and other
 * compatibility lookalikes with ASCII; even canonical NFC would merge
 * spellings a CA may have been asked for separately (precomposed versus
 * combining marks, CJK compatibility ideographs). Canonically equivalent
 * spellings therefore compare different: a refusal, never a wrong match.
 * Writes 1 to 3 code points to out; returns 0, or -1 when out of memory. */
static int fold_one(ucs4_t c, ucs4_t out[3], size_t *n)
{
    ucs4_t buf[8];
    size_t len = sizeof buf / sizeof buf[0];
    ucs4_t *r = u32_casefold(&c, 1, NULL, NULL, buf, &len);
    if (!r)
        return -1;
    int ascii = 1;
    for (size_t k = 0; k < len; k++)
        ascii &= r[k] < 0x80;
    if (ascii || len > 3) {   /* full folding never gives more than 3 */
        ucs4_t l = uc_tolower(c);
        out[0] = l >= 0x80 ? l : c;
        *n = 1;
    } else {
        memcpy(out, r, len * sizeof *r);
        *n = len;
    }
    if (r != buf)
        free(r);
    return 0;
}

/* Characters that render as nothing (zero-width space and joiners, soft
 * hyphen, variation selectors, Hangul fillers, tags: the Unicode
 * Default_Ignorable_Code_Point property) or only steer layout (category
 * Cf: bidi controls, Arabic number signs, interlinear annotation). In a
 * name they only serve to make two different strings look alike, and
 * mapping them away would make them one identity: names holding them are
 * refused instead. None is ASCII. */
static int refused_uc(ucs4_t c)
{
    return uc_is_property_default_ignorable_code_point(c) ||
           uc_is_general_category(c, UC_CATEGORY_Cf);
}

/* Latin, Greek and Cyrillic (U+0080..U+052F) are looked up once into a
 * table: a libunistring call per character costs as much as the rest of
 * a key. Filled once, read-only after, so threads share it. */
#define FOLD_TABLE_END 0x530
struct fold_entry { unsigned char n, refused; ucs4_t c[3]; };
static struct fold_entry fold_table[FOLD_TABLE_END - 0x80];
static pthread_once_t fold_once = PTHREAD_ONCE_INIT;
static int fold_table_ok;

static void fold_table_init(void)
{
    for (ucs4_t c = 0x80; c < FOLD_TABLE_END; c++) {
        size_t n = 0;
        if (fold_one(c, fold_table[c - 0x80].c, &n) < 0)
            return;   /* out of memory: stay on the slow path */
        fold_table[c - 0x80].n = (unsigned char)n;
        fold_table[c - 0x80].refused = (unsigned char)refused_uc(c);
    }
    fold_table_ok = 1;
}

/* The table entry of non-ASCII c, or NULL outside it. */
static const struct fold_entry *fold_entry(unsigned long c)
{
    if (c >= FOLD_TABLE_END || pthread_once(&fold_once, fold_table_init) != 0 || !fold_table_ok)
        return NULL;
    return &fold_table[c - 0x80];
}

static int is_refused(unsigned long c)
{
    const struct fold_entry *e = fold_entry(c);
    return e ? e->refused : refused_uc((ucs4_t)c);
}

int cr_dn_check_utf8(const char *v, size_t n, unsigned long *cp)
{
    const unsigned char *s = (const unsigned char *)v;
    size_t i = 0;
    while (i < n) {
        if (s[i] == 0)
            return -2;
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        long c = utf8_next(s, n, &i);
        if (c < 0)
            return -1;
        if (is_refused((unsigned long)c)) {
            if (cp)
                *cp = (unsigned long)c;
            return -3;
        }
    }
    return 0;
}

const char *cr_dn_text_problem(int bad, unsigned long cp, char *buf, size_t n)
{
    if (bad == -2)
        return "NUL byte";
    if (bad != -3)
        return "invalid UTF-8";
    char name[UNINAME_MAX];
    if (!unicode_character_name((ucs4_t)cp, name))
        snprintf(name, sizeof name, "unassigned");
    snprintf(buf, n, "character U+%04lX %s (invisible or format character: refused so that "
             "look-alike names stay apart)", cp, name);
    return buf;
}

static void put_utf8(cr_strbuf *b, unsigned long cp)
{
    char t[4];
    size_t n;
    if (cp < 0x80) { t[0] = (char)cp; n = 1; }
    else if (cp < 0x800) {
        t[0] = (char)(0xC0 | (cp >> 6)); t[1] = (char)(0x80 | (cp & 0x3F)); n = 2;
    } else if (cp < 0x10000) {
        t[0] = (char)(0xE0 | (cp >> 12)); t[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        t[2] = (char)(0x80 | (cp & 0x3F)); n = 3;
    } else {
        t[0] = (char)(0xF0 | (cp >> 18)); t[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        t[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); t[3] = (char)(0x80 | (cp & 0x3F)); n = 4;
    }
    cr_sb_appendn(b, t, n);
}

static const char hexdig[] = "0123456789ABCDEF";

/* One character of a value in RFC 4514 form. 'first'/'last' say where it
 * sits, because a leading '#' or space and a trailing space need escapes. */
static void esc_char(cr_strbuf *b, unsigned char c, int first, int last)
{
    switch (c) {
    case '"': case '+': case ',': case ';': case '<': case '>': case '\\':
        cr_sb_appendc(b, '\\');
        cr_sb_appendc(b, (char)c);
        return;
    case '#':
        if (first)
            cr_sb_appendc(b, '\\');
        cr_sb_appendc(b, '#');
        return;
    case ' ':
        if (first || last)
            cr_sb_appendc(b, '\\');
        cr_sb_appendc(b, ' ');
        return;
    default:
        if (c < 0x20 || c == 0x7F) {   /* controls as \XX so lines stay lines */
            char t[3] = { '\\', hexdig[c >> 4], hexdig[c & 15] };
            cr_sb_appendn(b, t, 3);
        } else {
            cr_sb_appendc(b, (char)c);
        }
    }
}

void cr_dn_escape(cr_strbuf *b, const char *v, size_t n)
{
    if (n == 0)
        return;   /* v may be NULL for an empty value */
    size_t run = 0;   /* copy plain stretches in one append */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        int plain = c >= 0x20 && c != 0x7F && !strchr("\"+,;<>\\# ", c);
        if (plain) {
            run++;
            continue;
        }
        cr_sb_appendn(b, v + i - run, run);
        run = 0;
        esc_char(b, c, i == 0, i + 1 == n);
    }
    cr_sb_appendn(b, v + n - run, run);
}

void cr_dn_hex(cr_strbuf *b, const unsigned char *der, size_t n)
{
    cr_sb_appendc(b, '#');
    for (size_t i = 0; i < n; i++) {
        char t[2] = { hexdig[der[i] >> 4], hexdig[der[i] & 15] };
        cr_sb_appendn(b, t, 2);
    }
}

/* RFC 4518 §2.2 (abridged): characters that map to SPACE. */
static int is_space(unsigned long c)
{
    return c == ' ' || (c >= 0x09 && c <= 0x0D) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000;
}

static void put_seq(cr_strbuf *b, const ucs4_t *r, size_t n)
{
    for (size_t k = 0; k < n; k++)   /* "i" U+0307: ASCII letters, never specials */
        if (r[k] < 0x80)
            esc_char(b, (unsigned char)r[k], 0, 0);
        else
            put_utf8(b, r[k]);
}

/* Appends the folded form of non-ASCII c. A character that does not
 * change when case folded and has no canonical decomposition (most of
 * CJK, lower-case Greek and Cyrillic without accents) is its own folding.
 * Returns 0, or -1 when out of memory (b latches the failure). */
static int put_folded(cr_strbuf *b, unsigned long c)
{
    ucs4_t u = (ucs4_t)c, r[3], dec[UC_DECOMPOSITION_MAX_LENGTH];
    size_t n = 0;
    const struct fold_entry *e = fold_entry(c);
    if (e) {
        put_seq(b, e->c, e->n);
        return 0;
    }
    if (!uc_is_property_changes_when_casefolded(u) && uc_canonical_decomposition(u, dec) < 0) {
        put_utf8(b, c);
        return 0;
    }
    if (fold_one(u, r, &n) < 0) {
        b->failed = 1;
        return -1;
    }
    put_seq(b, r, n);
    return 0;
}

int cr_dn_normalize(cr_strbuf *b, const char *v, size_t n, int casefold)
{
    const unsigned char *s = (const unsigned char *)v;
    size_t i = 0;
    int pending = 0;   /* a run of spaces seen after some output */
    int first = 1;
    while (i < n) {
        unsigned long c = s[i];
        if (c < 0x80) {   /* ASCII never reaches the Unicode tables */
            if (c == 0)
                return -2;
            i++;
        } else {
            long cp = utf8_next(s, n, &i);
            if (cp < 0)
                return -1;
            c = (unsigned long)cp;
            if (is_refused(c))
                return -3;
        }
        if (is_space(c)) {
            pending = !first;
            continue;
        }
        if (pending)
            cr_sb_appendc(b, ' ');
        pending = 0;
        if (c < 0x80)
            esc_char(b, (unsigned char)(casefold && c >= 'A' && c <= 'Z' ? c + 32 : c), first, 0);
        else if (!casefold)
            put_utf8(b, c);
        else if (put_folded(b, c) < 0)
            return -4;
        first = 0;
    }
    return 0;
}
