/* Growable string buffer. On allocation failure the buffer latches an
 * error flag and further appends are no-ops, so callers check once. */
#ifndef CR_STRBUF_H
#define CR_STRBUF_H
#include <stdarg.h>
#include <stddef.h>

typedef struct cr_strbuf {
    char *s;
    size_t len, cap;
    int failed;
} cr_strbuf;

#define CR_STRBUF_INIT { NULL, 0, 0, 0 }

void cr_sb_append(cr_strbuf *b, const char *s);
void cr_sb_appendn_slow(cr_strbuf *b, const char *s, size_t n);
/* Appends inline when the text fits (DN canonicalisation appends one
 * byte at a time, a million times when a big realm file loads). */
static inline void cr_sb_appendn(cr_strbuf *b, const char *s, size_t n)
{
    if (b->cap - b->len > n && !b->failed) {   /* room for n bytes and the NUL */
        __builtin_memcpy(b->s + b->len, s, n);
        b->len += n;
        b->s[b->len] = '\0';
    } else {
        cr_sb_appendn_slow(b, s, n);
    }
}
static inline void cr_sb_appendc(cr_strbuf *b, char c)
{
    if (b->cap - b->len > 1 && !b->failed) {
        b->s[b->len++] = c;
        b->s[b->len] = '\0';
    } else {
        cr_sb_appendn_slow(b, &c, 1);
    }
}
void cr_sb_printf(cr_strbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cr_sb_vprintf(cr_strbuf *b, const char *fmt, va_list ap);
/* Returns the string (caller frees) and resets b; NULL if any append failed. */
char *cr_sb_take(cr_strbuf *b);
void cr_sb_free(cr_strbuf *b);
/* "" when empty; valid until the next append. */
const char *cr_sb_str(const cr_strbuf *b);

#endif
