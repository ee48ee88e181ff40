/* Minimal JSON string writer (json.h). */
#include "json.h"
#include <stdio.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 if invalid
 * (overlong forms, surrogates and code points above U+10FFFF are invalid). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return 0;
    return len;
}

void cr_json_stringn(cr_strbuf *b, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, run = 0;   /* run: bytes copied verbatim, flushed lazily */
    cr_sb_appendc(b, '"');
    while (i < n) {
        unsigned c = s[i];
        const char *esc = NULL;
        char ubuf[8];
        size_t len = 1;
        if (c == '"') esc = "\\\"";
        else if (c == '\\') esc = "\\\\";
        else if (c == '\n') esc = "\\n";
        else if (c == '\r') esc = "\\r";
        else if (c == '\t') esc = "\\t";
        else if (c == '\b') esc = "\\b";
        else if (c == '\f') esc = "\\f";
        else if (c < 0x20 || c == 0x7F) {
            snprintf(ubuf, sizeof ubuf, "\\u%04x", c);
            esc = ubuf;
        } else if (c >= 0x80) {
            len = utf8_len(s + i, n - i);
            if (len == 0) {
                esc = "\\ufffd";
                len = 1;
            }
        }
        if (esc) {
            cr_sb_appendn(b, str + i - run, run);
            run = 0;
            cr_sb_append(b, esc);
        } else {
            run += len;
        }
        i += len;
    }
    cr_sb_appendn(b, str + i - run, run);
    cr_sb_appendc(b, '"');
}

void cr_json_string(cr_strbuf *b, const char *s)
{
    if (!s)
        cr_sb_append(b, "null");
    else
        cr_json_stringn(b, s, strlen(s));
}

void cr_json_key(cr_strbuf *b, int *first, const char *key)
{
    if (!*first)
        cr_sb_appendc(b, ',');
    *first = 0;
    cr_json_string(b, key);
    cr_sb_appendc(b, ':');
}
