/* The bytes of a shared cache entry's value (cache_shared_codec.h): a
 * result's code, depth, role count, then its strings, each a 32-bit length
 * (NO_STR for NULL) and its bytes. Decoding takes nothing on trust: the
 * bytes come from memory other processes write. */
#define _GNU_SOURCE
#include "cache_shared_codec.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NO_STR UINT32_MAX       /* a NULL string */

struct cur {
    unsigned char *p;
    size_t left;
    int bad;
};

static void w_bytes(struct cur *c, const void *b, size_t n)
{
    if (c->bad || n > c->left) {
        c->bad = 1;
        return;
    }
    memcpy(c->p, b, n);
    c->p += n;
    c->left -= n;
}

static void w_u32(struct cur *c, uint32_t v)
{
    w_bytes(c, &v, sizeof v);
}

static void w_str(struct cur *c, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n >= NO_STR)
        c->bad = 1;
    w_u32(c, s ? (uint32_t)n : NO_STR);
    if (s)
        w_bytes(c, s, n);
}

static uint32_t r_u32(struct cur *c)
{
    uint32_t v = 0;
    if (c->bad || c->left < sizeof v) {
        c->bad = 1;
        return 0;
    }
    memcpy(&v, c->p, sizeof v);
    c->p += sizeof v;
    c->left -= sizeof v;
    return v;
}

/* A NUL-terminated copy, NULL for a stored NULL; *c bad on anything odd
 * (past the end, an embedded NUL) or no memory. */
static char *r_str(struct cur *c)
{
    uint32_t n = r_u32(c);
    if (c->bad || n == NO_STR)
        return NULL;
    if (n > c->left || memchr(c->p, '\0', n)) {
        c->bad = 1;
        return NULL;
    }
    char *s = strndup((const char *)c->p, n);
    c->p += n;
    c->left -= n;
    if (!s)
        c->bad = 1;
    return s;
}

size_t cr_shcache_encode(const certrole_result *r, unsigned char *buf, size_t cap)
{
    struct cur c = { buf, cap, 0 };
    w_u32(&c, (uint32_t)r->code);
    w_u32(&c, (uint32_t)r->depth);
    w_u32(&c, (uint32_t)r->n_roles);
    w_str(&c, r->message);
    w_str(&c, r->hint);
    w_str(&c, r->user);
    w_str(&c, r->realm);
    w_str(&c, r->id.anchor);
    w_str(&c, r->id.anchor_key);
    for (size_t i = 0; i < r->n_roles; i++)
        w_str(&c, r->roles[i]);
    return c.bad ? 0 : cap - c.left;
}

int cr_shcache_decode(certrole_result *r, const unsigned char *data, size_t len)
{
    struct cur c = { (unsigned char *)data, len, 0 };
    uint32_t code = r_u32(&c), depth = r_u32(&c), n = r_u32(&c);
    char *msg = r_str(&c), *hint = r_str(&c);
    if (c.bad || code >= CERTROLE_CODE_COUNT || depth > 100 || n > len / 4 || !msg || !hint) {
        free(msg);
        free(hint);
        return -1;
    }
    cr_result_set(r, (certrole_code)code, msg, hint);
    free(msg);
    free(hint);
    r->depth = (int)depth;
    r->user = r_str(&c);
    r->realm = r_str(&c);
    r->id.anchor = r_str(&c);
    r->id.anchor_key = r_str(&c);
    if (n && !c.bad && !(r->roles = calloc(n, sizeof *r->roles)))
        c.bad = 1;
    for (uint32_t i = 0; i < n && !c.bad; i++) {
        if ((r->roles[i] = r_str(&c)) == NULL)
            c.bad = 1;
        else
            r->n_roles++;
    }
    return c.bad || c.left || r->code != (certrole_code)code ? -1 : 0;
}
