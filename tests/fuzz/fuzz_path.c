/* libFuzzer target: the request-path canonicaliser, differentially.
 *
 * Input: one mode byte (bit 0: path-parameters=strip, bit 1:
 * path-case=insensitive, bits 2-7: which bytes the re-encoding below
 * escapes), then the target (up to the first NUL). Properties checked
 * for both forms (a violation traps, so libFuzzer records the input):
 *  - an accepted path starts with '/', holds no "//", no "." or ".."
 *    segment, no NUL, control character, '\', '%', '?', '#' or ';', is
 *    well-formed UTF-8 (checked here by code point, independently of
 *    the library), and has no upper-case ASCII when case is folded;
 *  - it is a fixed point: canonicalising it again, in either form,
 *    gives it back unchanged;
 *  - DECODED p accepted => RAW percent-encode(p) is accepted and judged
 *    the same, whichever bytes other than '/' are escaped;
 *  - with parameters refused, RAW x accepted => DECODED decode(x) is
 *    accepted and judged the same.
 * Refusals must come with a reason and leave no output. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PROPERTY(c) do { if (!(c)) __builtin_trap(); } while (0)

/* Well-formed UTF-8 by code point: shortest form, no surrogate, at most
 * U+10FFFF. Written apart from the library's check on purpose. */
static int utf8_ok(const unsigned char *s)
{
    while (*s) {
        unsigned cp, n;
        if (s[0] < 0x80) { s++; continue; }
        if ((s[0] & 0xE0) == 0xC0) { cp = s[0] & 0x1F; n = 1; }
        else if ((s[0] & 0xF0) == 0xE0) { cp = s[0] & 0x0F; n = 2; }
        else if ((s[0] & 0xF8) == 0xF0) { cp = s[0] & 0x07; n = 3; }
        else return 0;
        for (unsigned i = 1; i <= n; i++) {
            if ((s[i] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i] & 0x3F);
        }
        static const unsigned min[] = { 0, 0x80, 0x800, 0x10000 };
        if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        s += n + 1;
    }
    return 1;
}

static void check_shape(const char *p, const struct cr_path_mode *m)
{
    PROPERTY(p[0] == '/');
    PROPERTY(!strstr(p, "//") && !strstr(p, "/./") && !strstr(p, "/../"));
    size_t l = strlen(p);
    PROPERTY(!(l >= 2 && strcmp(p + l - 2, "/.") == 0));
    PROPERTY(!(l >= 3 && strcmp(p + l - 3, "/..") == 0));
    for (const unsigned char *c = (const unsigned char *)p; *c; c++) {
        PROPERTY(*c >= 0x20 && *c != 0x7f);
        PROPERTY(!strchr("\\%?#;", *c));
        PROPERTY(!(m->fold_case && *c >= 'A' && *c <= 'Z'));
        PROPERTY(!(m->fold_case && *c >= 0x80));
    }
    PROPERTY(utf8_ok((const unsigned char *)p));
}

/* canon(target) in form; returns the path or NULL, checking that a
 * refusal has a reason and an acceptance the shape and fixed point. */
static char *canon(const char *t, enum cr_path_form form, const struct cr_path_mode *m)
{
    char *out = NULL, *again = NULL;
    const char *why = NULL;
    if (cr_path_canon(t, form, m, &out, &why) < 0) {
        PROPERTY(!out && why && *why);
        return NULL;
    }
    PROPERTY(out && !why);
    check_shape(out, m);
    for (int f = CR_PATH_RAW; f <= CR_PATH_DECODED; f++) {
        PROPERTY(cr_path_canon(out, (enum cr_path_form)f, m, &again, &why) == 0);
        PROPERTY(strcmp(again, out) == 0);
        free(again);
    }
    return out;
}

/* Escapes each byte of p but '/' when bit (i % 6) of mask is set, and
 * always the bytes a raw target cannot carry as they are. */
static char *encode(const char *p, unsigned mask)
{
    static const char hex[] = "0123456789ABCDEF";
    char *o = malloc(strlen(p) * 3 + 1), *w = o;
    if (!o)
        return NULL;
    for (size_t i = 0; p[i]; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c != '/' && ((mask >> (i % 6)) & 1 || strchr("%?#;", c))) {
            *w++ = '%';
            *w++ = hex[c >> 4];
            *w++ = hex[c & 15];
        } else {
            *w++ = (char)c;
        }
    }
    *w = '\0';
    return o;
}

static int hexv(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Percent-decodes x up to its query or fragment (x is known to be
 * accepted in RAW form, so every '%' starts a valid escape). */
static char *decode(const char *x)
{
    size_t n = strcspn(x, "?#");
    char *o = malloc(n + 1), *w = o;
    if (!o)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (x[i] == '%') {
            *w++ = (char)(hexv(x[i + 1]) * 16 + hexv(x[i + 2]));
            i += 2;
        } else {
            *w++ = x[i];
        }
    }
    *w = '\0';
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    struct cr_path_mode m = { (data[0] & 1) ? CR_PATH_PARAMS_STRIP : CR_PATH_PARAMS_REFUSE,
                              (data[0] >> 1) & 1 };
    unsigned mask = data[0] >> 2;
    char *t = strndup((const char *)data + 1, size - 1);
    if (!t)
        return 0;

    char *dec = canon(t, CR_PATH_DECODED, &m);
    if (dec) {
        char *e = encode(t, mask);
        char *viaraw = e ? canon(e, CR_PATH_RAW, &m) : NULL;
        PROPERTY(!e || (viaraw && strcmp(viaraw, dec) == 0));
        free(viaraw);
        free(e);
    }

    char *raw = canon(t, CR_PATH_RAW, &m);
    if (raw && m.params == CR_PATH_PARAMS_REFUSE) {
        char *d = decode(t);
        char *viadec = d ? canon(d, CR_PATH_DECODED, &m) : NULL;
        PROPERTY(!d || (viadec && strcmp(viadec, raw) == 0));
        free(viadec);
        free(d);
    }
    free(raw);
    free(dec);
    free(t);
    return 0;
}
