/* A small recursive-descent JSON reader (RFC 8259) for the conformance
 * data: strict grammar, \u escapes with surrogate pairs to UTF-8, a depth
 * limit, every allocation checked. Enough for test data, no more. */
#define _GNU_SOURCE
#include "conf_util.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CJ_MAX_DEPTH 64

struct cj_parser {
    const char *s, *p, *end;
    char *err;
    size_t errlen;
    int failed;
};

static void cj_fail(struct cj_parser *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void cj_fail(struct cj_parser *ps, const char *fmt, ...)
{
    if (ps->failed)
        return;
    ps->failed = 1;
    if (!ps->err || !ps->errlen)
        return;
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(ps->err, ps->errlen, "byte %zu: %s", (size_t)(ps->p - ps->s), msg);
}

void cj_free(struct cj *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++) {
        cj_free(v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
    free(v);
}

static void skip_ws(struct cj_parser *ps)
{
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static int hex4(struct cj_parser *ps, unsigned *out)
{
    unsigned v = 0;
    if (ps->end - ps->p < 4) {
        cj_fail(ps, "truncated \\u escape");
        return -1;
    }
    for (int i = 0; i < 4; i++) {
        char c = *ps->p++;
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else {
            cj_fail(ps, "bad hex digit in \\u escape");
            return -1;
        }
    }
    *out = v;
    return 0;
}

/* Growing byte buffer for string values. */
struct cj_buf { char *b; size_t n, cap; };

static int buf_put(struct cj_buf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *nb = realloc(b->b, cap);
        if (!nb)
            return -1;
        b->b = nb;
        b->cap = cap;
    }
    memcpy(b->b + b->n, s, n);
    b->n += n;
    b->b[b->n] = '\0';
    return 0;
}

static int put_utf8(struct cj_buf *b, unsigned cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) { u[0] = (char)cp; n = 1; }
    else if (cp < 0x800) { u[0] = (char)(0xC0 | (cp >> 6)); u[1] = (char)(0x80 | (cp & 0x3F)); n = 2; }
    else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12)); u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F)); n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18)); u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); u[3] = (char)(0x80 | (cp & 0x3F)); n = 4;
    }
    return buf_put(b, u, n);
}

/* At the opening quote. Returns the decoded string (malloc'd) or NULL. */
static char *parse_string(struct cj_parser *ps, size_t *len)
{
    struct cj_buf b = { NULL, 0, 0 };
    ps->p++;   /* opening quote */
    if (buf_put(&b, "", 0) < 0)
        goto nomem;
    for (;;) {
        if (ps->p >= ps->end) {
            cj_fail(ps, "unterminated string");
            goto fail;
        }
        unsigned char c = (unsigned char)*ps->p;
        if (c == '"') {
            ps->p++;
            break;
        }
        if (c < 0x20) {
            cj_fail(ps, "control character in string");
            goto fail;
        }
        if (c != '\\') {
            const char *run = ps->p;
            while (ps->p < ps->end && *ps->p != '"' && *ps->p != '\\' &&
                   (unsigned char)*ps->p >= 0x20)
                ps->p++;
            if (buf_put(&b, run, (size_t)(ps->p - run)) < 0)
                goto nomem;
            continue;
        }
        if (++ps->p >= ps->end) {
            cj_fail(ps, "unterminated escape");
            goto fail;
        }
        char e = *ps->p++;
        const char *lit = NULL;
        switch (e) {
        case '"': lit = "\""; break;
        case '\\': lit = "\\"; break;
        case '/': lit = "/"; break;
        case 'b': lit = "\b"; break;
        case 'f': lit = "\f"; break;
        case 'n': lit = "\n"; break;
        case 'r': lit = "\r"; break;
        case 't': lit = "\t"; break;
        case 'u': {
            unsigned cp, lo;
            if (hex4(ps, &cp) < 0)
                goto fail;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u') {
                    cj_fail(ps, "lone high surrogate");
                    goto fail;
                }
                ps->p += 2;
                if (hex4(ps, &lo) < 0)
                    goto fail;
                if (lo < 0xDC00 || lo > 0xDFFF) {
                    cj_fail(ps, "bad low surrogate");
                    goto fail;
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                cj_fail(ps, "lone low surrogate");
                goto fail;
            }
            if (put_utf8(&b, cp) < 0)
                goto nomem;
            continue;
        }
        default:
            cj_fail(ps, "bad escape \\%c", e);
            goto fail;
        }
        if (buf_put(&b, lit, 1) < 0)
            goto nomem;
    }
    *len = b.n;
    return b.b;
nomem:
    cj_fail(ps, "out of memory");
fail:
    free(b.b);
    return NULL;
}

static struct cj *parse_value(struct cj_parser *ps, int depth);

static int push_item(struct cj *v, struct cj *item, char *key)
{
    struct cj **ni = realloc(v->items, (v->n + 1) * sizeof *ni);
    if (!ni)
        return -1;
    v->items = ni;
    if (v->type == CJ_OBJ) {
        char **nk = realloc(v->keys, (v->n + 1) * sizeof *nk);
        if (!nk)
            return -1;
        v->keys = nk;
        v->keys[v->n] = key;
    }
    v->items[v->n++] = item;
    return 0;
}

/* Array or object, at '[' or '{'. */
static struct cj *parse_container(struct cj_parser *ps, int depth, struct cj *v)
{
    char close = v->type == CJ_ARR ? ']' : '}';
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return v;
    }
    for (;;) {
        char *key = NULL;
        skip_ws(ps);
        if (v->type == CJ_OBJ) {
            size_t klen;
            if (ps->p >= ps->end || *ps->p != '"') {
                cj_fail(ps, "expected a member name");
                goto fail;
            }
            if (!(key = parse_string(ps, &klen)))
                goto fail;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                free(key);
                cj_fail(ps, "expected ':'");
                goto fail;
            }
            ps->p++;
        }
        struct cj *item = parse_value(ps, depth + 1);
        if (!item) {
            free(key);
            goto fail;
        }
        if (push_item(v, item, key) < 0) {
            cj_free(item);
            free(key);
            cj_fail(ps, "out of memory");
            goto fail;
        }
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            return v;
        }
        cj_fail(ps, "expected ',' or '%c'", close);
        goto fail;
    }
fail:
    cj_free(v);
    return NULL;
}

static struct cj *parse_number(struct cj_parser *ps, struct cj *v)
{
    /* Validate the RFC 8259 grammar, then convert the span. */
    const char *q = ps->p;
    if (q < ps->end && *q == '-')
        q++;
    if (q < ps->end && *q == '0')
        q++;
    else if (q < ps->end && *q >= '1' && *q <= '9')
        while (q < ps->end && *q >= '0' && *q <= '9')
            q++;
    else
        goto bad;
    if (q < ps->end && *q == '.') {
        q++;
        if (q >= ps->end || *q < '0' || *q > '9')
            goto bad;
        while (q < ps->end && *q >= '0' && *q <= '9')
            q++;
    }
    if (q < ps->end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < ps->end && (*q == '+' || *q == '-'))
            q++;
        if (q >= ps->end || *q < '0' || *q > '9')
            goto bad;
        while (q < ps->end && *q >= '0' && *q <= '9')
            q++;
    }
    char tmp[64];
    size_t n = (size_t)(q - ps->p);
    if (n >= sizeof tmp)
        goto bad;
    memcpy(tmp, ps->p, n);
    tmp[n] = '\0';
    errno = 0;
    v->num = strtod(tmp, NULL);
    ps->p = q;
    return v;
bad:
    cj_fail(ps, "bad number");
    cj_free(v);
    return NULL;
}

static struct cj *parse_value(struct cj_parser *ps, int depth)
{
    if (depth > CJ_MAX_DEPTH) {
        cj_fail(ps, "nesting deeper than %d", CJ_MAX_DEPTH);
        return NULL;
    }
    skip_ws(ps);
    if (ps->p >= ps->end) {
        cj_fail(ps, "unexpected end of input");
        return NULL;
    }
    struct cj *v = calloc(1, sizeof *v);
    if (!v) {
        cj_fail(ps, "out of memory");
        return NULL;
    }
    char c = *ps->p;
    static const struct { const char *word; enum cj_type type; int b; } words[] = {
        { "true", CJ_BOOL, 1 }, { "false", CJ_BOOL, 0 }, { "null", CJ_NULL, 0 },
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t wl = strlen(words[i].word);
        if ((size_t)(ps->end - ps->p) >= wl && !memcmp(ps->p, words[i].word, wl)) {
            v->type = words[i].type;
            v->b = words[i].b;
            ps->p += wl;
            return v;
        }
    }
    if (c == '"') {
        v->type = CJ_STR;
        if (!(v->str = parse_string(ps, &v->slen))) {
            free(v);
            return NULL;
        }
        return v;
    }
    if (c == '[' || c == '{') {
        v->type = c == '[' ? CJ_ARR : CJ_OBJ;
        return parse_container(ps, depth, v);
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        v->type = CJ_NUM;
        return parse_number(ps, v);
    }
    free(v);
    cj_fail(ps, "unexpected character '%c'", c);
    return NULL;
}

struct cj *cj_parse(const char *text, size_t len, char *err, size_t errlen)
{
    struct cj_parser ps = { text, text, text + len, err, errlen, 0 };
    if (err && errlen)
        err[0] = '\0';
    struct cj *v = parse_value(&ps, 0);
    if (!v)
        return NULL;
    skip_ws(&ps);
    if (ps.p != ps.end) {
        cj_fail(&ps, "trailing data after the document");
        cj_free(v);
        return NULL;
    }
    return v;
}

struct cj *cj_parse_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 1 << 16;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                fclose(f);
                snprintf(err, errlen, "%s: out of memory", path);
                return NULL;
            }
            buf = nb;
            cap = ncap;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        if (r == 0)
            break;
        n += r;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        snprintf(err, errlen, "%s: read error", path);
        return NULL;
    }
    struct cj *v = cj_parse(buf, n, err, errlen);
    free(buf);
    return v;
}

const struct cj *cj_get(const struct cj *obj, const char *key)
{
    if (!obj || obj->type != CJ_OBJ)
        return NULL;
    for (size_t i = obj->n; i-- > 0;)
        if (!strcmp(obj->keys[i], key))
            return obj->items[i];
    return NULL;
}

const char *cj_str(const struct cj *v)
{
    return v && v->type == CJ_STR ? v->str : NULL;
}

size_t cj_len(const struct cj *v)
{
    return v && v->type == CJ_ARR ? v->n : 0;
}

const struct cj *cj_at(const struct cj *v, size_t i)
{
    return v && v->type == CJ_ARR && i < v->n ? v->items[i] : NULL;
}

int cj_true(const struct cj *v)
{
    return v && v->type == CJ_BOOL && v->b;
}
