/* Request-path canonicalisation (see path.h). */
#include "path.h"
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Why a byte that came out of a %XX escape may not stand in a path: each
 * of these is one thing to one backend and another to the next (a
 * separator or a literal, a second escape, a query, a parameter). */
static const char *encoded_refusal(unsigned char c)
{
    switch (c) {
    case '\0': return "encoded NUL (%00) in path";
    case '/': return "encoded '/' (%2F) in path";
    case '\\': return "encoded '\\' (%5C) in path";
    case '%': return "encoded '%' (%25) in path: a second decoding would change it";
    case '?': return "encoded '?' (%3F) in path";
    case '#': return "encoded '#' (%23) in path";
    case ';': return "encoded ';' (%3B) in path";
    default: return NULL;
    }
}

/* Same for a byte of a path the server already decoded: there '%', '?',
 * '#' can only have come from an escape, and ';' cannot be told from
 * an escaped one, so they are refused as their escapes are. */
static const char *decoded_refusal(unsigned char c, enum cr_path_params params)
{
    switch (c) {
    case '%': return "'%' in a decoded path (it was %25): a second decoding would change it";
    case '?': return "'?' in a decoded path (a query, or an encoded '?')";
    case '#': return "'#' in a decoded path (a fragment, or an encoded '#')";
    case ';':
        return params == CR_PATH_PARAMS_STRIP
            ? "';' in a decoded path: a path parameter cannot be told from an encoded ';'"
            : "path parameter (';') in path";
    default: return NULL;
    }
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs,
 * no surrogates, nothing above U+10FFFF), or 0 with *why set. */
static size_t utf8_len(const unsigned char *s, size_t n, const char **why)
{
    unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;   /* bounds of the second byte */
    if (c < 0x80)
        return 1;
    if (c < 0xC2) {
        *why = c < 0xC0 ? "invalid UTF-8 in path (stray continuation byte)"
                        : "overlong UTF-8 in path";
        return 0;
    }
    if (c < 0xE0) {
        len = 2;
    } else if (c < 0xF0) {
        len = 3;
        if (c == 0xE0) lo = 0xA0;          /* overlong below U+0800 */
        if (c == 0xED) hi = 0x9F;          /* U+D800..DFFF surrogates */
    } else if (c < 0xF5) {
        len = 4;
        if (c == 0xF0) lo = 0x90;          /* overlong below U+10000 */
        if (c == 0xF4) hi = 0x8F;          /* above U+10FFFF */
    } else {
        *why = "invalid UTF-8 in path (byte above 0xF4)";
        return 0;
    }
    if (n < len) {
        *why = "invalid UTF-8 in path (truncated sequence)";
        return 0;
    }
    if (s[1] < lo || s[1] > hi) {
        *why = s[1] >= 0x80 && s[1] <= 0xBF
            ? (c == 0xED ? "UTF-16 surrogate encoded as UTF-8 in path"
               : c == 0xF4 ? "invalid UTF-8 in path (above U+10FFFF)"
               : "overlong UTF-8 in path")
            : "invalid UTF-8 in path (truncated sequence)";
        return 0;
    }
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF) {
            *why = "invalid UTF-8 in path (truncated sequence)";
            return 0;
        }
    return len;
}

static const char *check_bytes(const unsigned char *s, size_t n, int fold_case)
{
    const char *why = NULL;
    for (size_t i = 0; i < n;) {
        if (s[i] < 0x20 || s[i] == 0x7f)
            return "control character in path";
        if (s[i] >= 0x80 && fold_case)
            return "non-ASCII byte in a path matched without case "
                   "(how a backend folds it cannot be known)";
        size_t l = utf8_len(s + i, n - i, &why);
        if (!l)
            return why;
        i += l;
    }
    return NULL;
}

/* True when the segment decoded so far (dec[seg..d)) is "", "." or "..". */
static int dot_or_empty(const char *dec, size_t seg, size_t d)
{
    size_t l = d - seg;
    return l == 0 || (l <= 2 && memcmp(dec + seg, "..", l) == 0);
}

/* Decodes (RAW) or copies (DECODED) target[0..n) into dec, refusing what
 * must not be there and cutting path parameters in strip mode. Returns
 * the decoded length, or (size_t)-1 with *why. */
static size_t decode(const char *t, size_t n, enum cr_path_form form,
                     enum cr_path_params params, char *dec, const char **why)
{
    size_t d = 0, seg = 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c == '/') {
            dec[d++] = '/';
            seg = d;
            continue;
        }
        if (c == '\\') {
            *why = "backslash in path";
            return (size_t)-1;
        }
        if (form == CR_PATH_DECODED && (*why = decoded_refusal(c, params)))
            return (size_t)-1;
        if (c == ';') {
            if (params != CR_PATH_PARAMS_STRIP) {
                *why = "path parameter (';') in path";
                return (size_t)-1;
            }
            /* A parameter on "", "." or "..": no client needs one, and
             * backends disagree on what the segment then is. */
            if (dot_or_empty(dec, seg, d)) {
                *why = "path parameter on an empty, '.' or '..' segment";
                return (size_t)-1;
            }
            while (i + 1 < n && t[i + 1] != '/')
                i++;
            continue;
        }
        if (c == '%') {
            if (i + 2 >= n || hexval(t[i + 1]) < 0 || hexval(t[i + 2]) < 0) {
                *why = "bad percent-encoding in path";
                return (size_t)-1;
            }
            c = (unsigned char)(hexval(t[i + 1]) * 16 + hexval(t[i + 2]));
            i += 2;
            if ((*why = encoded_refusal(c)))
                return (size_t)-1;
        }
        dec[d++] = (char)c;
    }
    return d;
}

/* Resolves "", "." and ".." segments of dec (d bytes, starting with '/')
 * into res. Returns the length, or (size_t)-1 when ".." climbs above the
 * root. */
static size_t resolve(const char *dec, size_t d, char *res)
{
    size_t r = 0;
    for (size_t i = 0; i < d;) {
        while (i < d && dec[i] == '/')
            i++;
        if (i == d)
            break;
        const char *s = dec + i;
        const char *e = memchr(s, '/', d - i);
        size_t len = e ? (size_t)(e - s) : d - i;
        if (len == 2 && s[0] == '.' && s[1] == '.') {
            if (r == 0)
                return (size_t)-1;
            while (r > 0 && res[r - 1] != '/')
                r--;
            if (r > 0)
                r--;   /* the '/' before the popped segment */
        } else if (!(len == 1 && s[0] == '.')) {
            res[r++] = '/';
            memcpy(res + r, s, len);
            r += len;
        }
        i += len;
    }
    if (r == 0)
        res[r++] = '/';
    res[r] = '\0';
    return r;
}

int cr_path_canon(const char *target, enum cr_path_form form,
                  const struct cr_path_mode *mode, char **out, const char **why)
{
    static const struct cr_path_mode def = { CR_PATH_PARAMS_REFUSE, 0 };
    if (!mode)
        mode = &def;
    *out = NULL;
    *why = NULL;
    if (!target || target[0] != '/') {
        *why = "path does not start with '/'";
        return -1;
    }
    size_t n = form == CR_PATH_RAW ? strcspn(target, "?#") : strlen(target);
    /* Decoding only shrinks; one byte more for the lone "/" of a root. */
    char *dec = malloc(n + 2), *res = malloc(n + 2);
    if (!dec || !res) {
        free(dec);
        free(res);
        *why = "out of memory";
        return -1;
    }
    size_t d = decode(target, n, form, mode->params, dec, why);
    if (d != (size_t)-1)
        *why = check_bytes((const unsigned char *)dec, d, mode->fold_case);
    size_t r = (size_t)-1;
    if (!*why && (r = resolve(dec, d, res)) == (size_t)-1)
        *why = "path climbs above the root";
    free(dec);
    if (*why) {
        free(res);
        return -1;
    }
    if (mode->fold_case)
        for (size_t i = 0; i < r; i++)
            if (res[i] >= 'A' && res[i] <= 'Z')
                res[i] = (char)(res[i] - 'A' + 'a');
    *out = res;
    return 0;
}

int cr_path_normalize(const char *path, char **out, const char **why)
{
    return cr_path_canon(path, CR_PATH_RAW, NULL, out, why);
}
