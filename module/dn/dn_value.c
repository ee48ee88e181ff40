/* Attribute values of a DN: UTF-8 checks, RFC 4514 escaping, and the
 * RFC 4518-style normalisation used in matching keys (dn.h). */
#include "dn.h"
#include <string.h>

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

int cr_dn_check_utf8(const char *v, size_t n)
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
        if (utf8_next(s, n, &i) < 0)
            return -1;
    }
    return 0;
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

/* RFC 4518 §2.2: characters that map to nothing (soft hyphen, joiners,
 * variation selectors, BOM). Other control characters stay significant:
 * dropping them would let "admin\01" match "admin". */
static int is_ignorable(unsigned long c)
{
    return c == 0xAD || c == 0x034F || c == 0x1806 || (c >= 0x180B && c <= 0x180D) ||
           c == 0x200B || c == 0x200C || c == 0x200D || c == 0x2060 ||
           (c >= 0xFE00 && c <= 0xFE0F) || c == 0xFEFF || c == 0xFFFC;
}

/* Simple (one-to-one) case folding: ASCII, Latin-1, Latin Extended-A,
 * Latin Extended Additional, Greek, Cyrillic, fullwidth ASCII. Other
 * scripts compare exactly; no NFKC normalisation is done. */
static unsigned long fold(unsigned long c)
{
    if (c < 0x80)
        return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7)
        return c + 32;
    if (c == 0xB5)
        return 0x3BC;
    if (c >= 0x100 && c <= 0x17F) {
        if (c == 0x130)
            return 'i';
        if (c == 0x178)
            return 0xFF;
        if (c == 0x17F)
            return 's';
        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
            return (c & 1) ? c + 1 : c;
        if (c == 0x138 || c == 0x149)
            return c;
        return (c & 1) ? c : c + 1;
    }
    if ((c >= 0x1E00 && c <= 0x1E95) || (c >= 0x1EA0 && c <= 0x1EFF))
        return (c & 1) ? c : c + 1;
    if (c >= 0x370 && c <= 0x3FF) {
        if (c == 0x386) return 0x3AC;
        if (c >= 0x388 && c <= 0x38A) return c + 37;
        if (c == 0x38C) return 0x3CC;
        if (c == 0x38E || c == 0x38F) return c + 63;
        if ((c >= 0x391 && c <= 0x3A1) || (c >= 0x3A3 && c <= 0x3AB)) return c + 32;
        if (c == 0x3C2) return 0x3C3;   /* final sigma folds to sigma */
        return c;
    }
    if (c >= 0x400 && c <= 0x52F) {
        if (c <= 0x40F) return c + 80;
        if (c <= 0x42F) return c + 32;
        if (c <= 0x45F) return c;
        if (c == 0x4C0) return 0x4CF;
        if (c >= 0x4C1 && c <= 0x4CE) return (c & 1) ? c + 1 : c;
        if ((c >= 0x460 && c <= 0x481) || (c >= 0x48A && c <= 0x4BF) || c >= 0x4D0)
            return (c & 1) ? c : c + 1;
        return c;
    }
    if (c >= 0xFF21 && c <= 0xFF3A)
        return c + 32;
    return c;
}

int cr_dn_normalize(cr_strbuf *b, const char *v, size_t n, int casefold)
{
    const unsigned char *s = (const unsigned char *)v;
    size_t i = 0;
    int pending = 0;   /* a run of spaces seen after some output */
    int first = 1;
    while (i < n) {
        unsigned long c = s[i];
        if (c < 0x80) {
            i++;
        } else {
            long cp = utf8_next(s, n, &i);
            if (cp < 0)
                return -1;
            c = (unsigned long)cp;
        }
        if (c == 0)
            return -2;
        if (is_space(c)) {
            pending = !first;
            continue;
        }
        if (is_ignorable(c))
            continue;
        if (pending)
            cr_sb_appendc(b, ' ');
        pending = 0;
        if (casefold)
            c = fold(c);
        if (c < 0x80)
            esc_char(b, (unsigned char)c, first, 0);
        else
            put_utf8(b, c);
        first = 0;
    }
    return 0;
}
