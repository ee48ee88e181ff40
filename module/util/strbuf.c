/* Growable string buffer (see strbuf.h). */
#include "strbuf.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int grow(cr_strbuf *b, size_t extra)
{
    if (b->failed)
        return -1;
    if (extra > ((size_t)-1) / 2 - b->len) {
        b->failed = 1;
        return -1;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->s, cap);
    if (!p) {
        b->failed = 1;
        return -1;
    }
    b->s = p;
    b->cap = cap;
    return 0;
}

void cr_sb_appendn_slow(cr_strbuf *b, const char *s, size_t n)
{
    if (grow(b, n) < 0)
        return;
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void cr_sb_append(cr_strbuf *b, const char *s)
{
    cr_sb_appendn(b, s, strlen(s));
}

void cr_sb_vprintf(cr_strbuf *b, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0) {
        b->failed = 1;
        return;
    }
    if (grow(b, (size_t)n) < 0)
        return;
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void cr_sb_printf(cr_strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cr_sb_vprintf(b, fmt, ap);
    va_end(ap);
}

char *cr_sb_take(cr_strbuf *b)
{
    char *s = NULL;
    if (!b->failed)
        s = b->s ? b->s : strdup("");
    else
        free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
    return s;
}

void cr_sb_free(cr_strbuf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}

const char *cr_sb_str(const cr_strbuf *b)
{
    return b->s ? b->s : "";
}
