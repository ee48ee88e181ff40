/* Log sink and audit line (see log.h). */
#define _GNU_SOURCE
#include "log.h"
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

static void emit(const struct cr_log *l, certrole_log_level level, const char *line)
{
    if (l && l->fn) {
        l->fn(l->userdata, level, line);
        return;
    }
    /* openlog is process-global; pass ident per call via LOG_USER and a
     * "certrole: " prefix instead of fighting the application's own openlog. */
    syslog(LOG_USER | (int)level, "certrole: %s", line);
}

void cr_log_write(const struct cr_log *l, certrole_log_level level, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    emit(l, level, buf);
}

void cr_log_line(void *log_ctx, certrole_log_level level, const char *line)
{
    emit((const struct cr_log *)log_ctx, level, line ? line : "");
}

/* The audit line is written once per decision, so it is built without
 * printf: the text is copied in runs, 8 bytes are checked for bytes to
 * escape at a time, and the line goes to a stack buffer when it surely
 * fits (else its exact length is measured and it is malloc'd). */

static int needs_escape(unsigned char c)
{
    return c < 0x20 || c == 0x7f || c == '"' || c == '\\';
}

/* Whether any byte of w needs escaping. Exact as a yes/no answer (the
 * classic "has a byte less than n" / "has a zero byte" tests, n <= 128). */
static int word_needs_escape(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\'), d = w ^ (ones * 0x7f);
    uint64_t hit = ((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((b - ones) & ~b) |
                   ((d - ones) & ~d);
    return (hit & high) != 0;
}

/* Length of the prefix of v[0..n) that needs no escaping. */
static size_t plain_run(const char *v, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, v + i, 8);
        if (word_needs_escape(w))
            break;
    }
    while (i < n && !needs_escape((unsigned char)v[i]))
        i++;
    return i;
}

/* Bytes the escaped form of v[0..n) takes (without quotes). */
static size_t escaped_len(const char *v, size_t n)
{
    size_t len = n;
    for (size_t i = plain_run(v, n); i < n; i += 1 + plain_run(v + i + 1, n - i - 1))
        len += (v[i] == '"' || v[i] == '\\') ? 1 : 3;
    return len;
}

static char *put(char *o, const char *s, size_t n)
{
    memcpy(o, s, n);
    return o + n;
}

/* Copies v[0..n) escaped: '"' and backslash backslashed, control bytes as \xNN. */
static char *put_escaped(char *o, const char *v, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (;;) {
        size_t r = plain_run(v, n);
        o = put(o, v, r);
        if (r == n)
            return o;
        unsigned char c = (unsigned char)v[r];
        *o++ = '\\';
        if (c == '"' || c == '\\') {
            *o++ = (char)c;
        } else {
            *o++ = 'x';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
        v += r + 1;
        n -= r + 1;
    }
}

char *cr_log_quote(const char *s, size_t max)
{
    size_t n = strlen(s), cut = n > max;
    if (cut)
        n = max;
    char *out = malloc(escaped_len(s, n) + 6);
    if (!out)
        return NULL;
    char *o = out;
    *o++ = '"';
    o = put_escaped(o, s, n);
    *o++ = '"';
    if (cut)
        o = put(o, "...", 3);
    *o = '\0';
    return out;
}

/* One field of the line: ' key="value"' (or ' key=-' for NULL); value is
 * up to two parts joined by a space (the resource "METHOD PATH"). */
struct field {
    const char *key;
    const char *v1, *v2;        /* v1 NULL: '-' */
    size_t klen, l1, l2;
};

static void field_set(struct field *f, const char *key, const char *v1, const char *v2)
{
    f->key = key;
    f->klen = strlen(key);
    f->v1 = v1;
    f->v2 = v2;
    f->l1 = v1 ? strlen(v1) : 0;
    f->l2 = v2 ? strlen(v2) : 0;
}

/* The field's length: exact, or (exact = 0) a cheap upper bound (every
 * byte escaped as \xNN). Lengths are of strings in memory: no overflow. */
static size_t field_len(const struct field *f, int exact)
{
    size_t n = 2 + f->klen;     /* ' ' key '=' */
    if (!f->v1)
        return n + 1;
    n += 2 + (exact ? escaped_len(f->v1, f->l1) : 4 * f->l1);
    if (f->v2)
        n += 1 + (exact ? escaped_len(f->v2, f->l2) : 4 * f->l2);
    return n;
}

static char *field_put(char *o, const struct field *f)
{
    *o++ = ' ';
    o = put(o, f->key, f->klen);
    *o++ = '=';
    if (!f->v1) {
        *o++ = '-';
        return o;
    }
    *o++ = '"';
    o = put_escaped(o, f->v1, f->l1);
    if (f->v2) {
        *o++ = ' ';
        o = put_escaped(o, f->v2, f->l2);
    }
    *o++ = '"';
    return o;
}

/* The head of the line: what a cached result repeats on every hit
 * (decision, code, subject, user, realm, sha256). */
struct head {
    const char *decision, *name, *fp;
    size_t dl, nl, fl;
    struct field f[3];
};

static void head_set(struct head *h, const struct cr_audit *a)
{
    h->decision = a->code == CERTROLE_OK ? "decision=allow code=" : "decision=deny code=";
    h->name = certrole_code_name(a->code);
    h->dl = strlen(h->decision);
    h->nl = strlen(h->name);
    h->fp = a->fingerprint;
    /* sha256=%.64s: at most 64 bytes of the fingerprint */
    h->fl = h->fp ? strnlen(h->fp, 64) : 0;
    field_set(&h->f[0], "subject", a->subject, NULL);
    field_set(&h->f[1], "user", a->user, NULL);
    field_set(&h->f[2], "realm", a->realm, NULL);
}

static size_t head_len(const struct head *h, int exact)
{
    size_t n = h->dl + h->nl + (h->fp ? 8 + h->fl : 0);
    for (size_t i = 0; i < 3; i++)
        n += field_len(&h->f[i], exact);
    return n;
}

static char *head_put(char *o, const struct head *h)
{
    o = put(o, h->decision, h->dl);
    o = put(o, h->name, h->nl);
    for (size_t i = 0; i < 3; i++)
        o = field_put(o, &h->f[i]);
    if (h->fp) {
        o = put(o, " sha256=", 8);
        o = put(o, h->fp, h->fl);
    }
    return o;
}

char *cr_log_audit_head(const struct cr_audit *a)
{
    struct head h;
    head_set(&h, a);
    char *out = malloc(head_len(&h, 1) + 1);
    if (out)
        *head_put(out, &h) = '\0';
    return out;
}

void cr_log_audit(const struct cr_log *l, const struct cr_audit *a)
{
    struct field f[3];
    size_t nf = 0;
    if (a->peer)
        field_set(&f[nf++], "peer", a->peer, NULL);
    if (a->method || a->path)
        field_set(&f[nf++], "resource", a->method ? a->method : "*", a->path ? a->path : "/");
    if (a->code != CERTROLE_OK)
        field_set(&f[nf++], "message", a->message, NULL);
    struct head h;
    size_t hl = a->head ? a->head_len : 0;
    if (!a->head) {
        head_set(&h, a);
        hl = head_len(&h, 0);
    }
    size_t len = hl + 1;
    for (size_t i = 0; i < nf; i++)
        len += field_len(&f[i], 0);
    char stackbuf[2048], *heap = NULL, *line = stackbuf;
    if (len > sizeof stackbuf) {
        len = (a->head ? hl : head_len(&h, 1)) + 1;
        for (size_t i = 0; i < nf; i++)
            len += field_len(&f[i], 1);
    }
    if (len > sizeof stackbuf && !(line = heap = malloc(len))) {
        emit(l, CERTROLE_LOG_NOTICE, "decision=deny code=no_memory");
        return;
    }
    char *o = a->head ? put(line, a->head, hl) : head_put(line, &h);
    for (size_t i = 0; i < nf; i++)
        o = field_put(o, &f[i]);
    *o = '\0';
    emit(l, CERTROLE_LOG_NOTICE, line);
    free(heap);
}
