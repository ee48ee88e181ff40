/* The file realm's hash table (see table.h). */
#define _GNU_SOURCE
#include "table.h"
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define ALIGN 8u
#define ARENA_MAX ((size_t)UINT32_MAX - 64u)

struct cr_table {
    char *mem;              /* the arena; offset 0 is never a record */
    size_t len, cap;
    uint64_t *slot;         /* (tag << 32) | record offset; 0 = empty */
    size_t mask;            /* slots - 1 */
    size_t count;
    size_t cur;             /* record under construction (0 = none) */
    uint32_t last_issuer;   /* intern cache */
    unsigned kinds;         /* cr_table_kinds */
};

/* A 64-bit hash, 8 bytes per step with a murmur-style finaliser: the
 * keys are a few dozen bytes, so this beats a byte-wise FNV loop. */
static uint64_t hash_key(const char *p, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (n * 0xff51afd7ed558ccdull);
    uint64_t w;
    while (n >= 8) {
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    w = 0;
    memcpy(&w, p, n);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 32;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

/* Big buffers: see table.h. */
#define BIG ((size_t)2 << 20)

void *cr_big_alloc(size_t n, int zero)
{
    if (n < BIG)
        return zero ? calloc(1, n) : malloc(n);
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, n, MADV_HUGEPAGE);
#endif
    return p; /* anonymous mappings are zero-filled */
}

void cr_big_free(void *p, size_t n)
{
    if (!p)
        return;
    if (n < BIG)
        free(p);
    else
        munmap(p, n);
}

void *cr_big_realloc(void *p, size_t old, size_t n)
{
    if (n < BIG && old < BIG)
        return realloc(p, n);
    if (n < BIG || old < BIG) {
        /* Crossing the threshold: copy between the two kinds. */
        void *q = cr_big_alloc(n, 0);
        if (q && p)
            memcpy(q, p, old < n ? old : n);
        if (q)
            cr_big_free(p, old);
        return q;
    }
    void *q = mremap(p, old, n, MREMAP_MAYMOVE);
    if (q == MAP_FAILED)
        return NULL;
#ifdef MADV_HUGEPAGE
    madvise(q, n, MADV_HUGEPAGE);
#endif
    return q;
}

static cr_trec *rec_at(const cr_table *t, size_t off)
{
    return (cr_trec *)(void *)(t->mem + off);
}

static int reserve(cr_table *t, size_t more)
{
    if (more > ARENA_MAX || t->len > ARENA_MAX - more)
        return CR_TABLE_TOOBIG;
    size_t need = t->len + more;
    if (need <= t->cap)
        return CR_TABLE_OK;
    size_t cap = t->cap ? t->cap : 4096;
    while (cap < need)
        cap = cap > ARENA_MAX / 2 ? ARENA_MAX + 64u : cap * 2;
    char *m = cr_big_realloc(t->mem, t->cap, cap);
    if (!m)
        return CR_TABLE_NOMEM;
    t->mem = m;
    t->cap = cap;
    return CR_TABLE_OK;
}

static int append(cr_table *t, const char *s, size_t len)
{
    int rc = reserve(t, len + 1);
    if (rc != CR_TABLE_OK)
        return rc;
    memcpy(t->mem + t->len, s, len);
    t->mem[t->len + len] = '\0';
    t->len += len + 1;
    return CR_TABLE_OK;
}

static int set_slots(cr_table *t, size_t n)
{
    uint64_t *s = cr_big_alloc(n * sizeof *s, 1);
    if (!s)
        return CR_TABLE_NOMEM;
    size_t mask = n - 1;
    if (t->slot) {
        for (size_t i = 0; i <= t->mask; i++) {
            uint64_t v = t->slot[i];
            if (!v)
                continue;
            size_t j = rec_at(t, (uint32_t)v)->hlo & mask;
            while (s[j])
                j = (j + 1) & mask;
            s[j] = v;
        }
        cr_big_free(t->slot, (t->mask + 1) * sizeof *s);
    }
    t->slot = s;
    t->mask = mask;
    return CR_TABLE_OK;
}

cr_table *cr_table_new(size_t expect, size_t bytes)
{
    cr_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    size_t n = 16;
    while (n < expect * 2 && n < ((size_t)1 << 31))
        n *= 2;
    if (set_slots(t, n) != CR_TABLE_OK || reserve(t, bytes > ARENA_MAX ? ARENA_MAX : bytes + ALIGN)) {
        cr_table_free(t);
        return NULL;
    }
    t->len = ALIGN; /* offset 0 means "none" */
    memset(t->mem, 0, ALIGN);
    return t;
}

void cr_table_free(cr_table *t)
{
    if (!t)
        return;
    cr_big_free(t->mem, t->cap);
    if (t->slot)
        cr_big_free(t->slot, (t->mask + 1) * sizeof *t->slot);
    free(t);
}

size_t cr_table_count(const cr_table *t)
{
    return t->count;
}

void cr_table_add_kinds(cr_table *t, unsigned bits)
{
    t->kinds |= bits;
}

unsigned cr_table_kinds(const cr_table *t)
{
    return t->kinds;
}

uint32_t cr_table_intern(cr_table *t, const char *s, size_t len, int *rc)
{
    if (t->last_issuer && strlen(t->mem + t->last_issuer) == len &&
        memcmp(t->mem + t->last_issuer, s, len) == 0)
        return t->last_issuer;
    size_t off = t->len;
    if ((*rc = append(t, s, len)) != CR_TABLE_OK)
        return 0;
    t->last_issuer = (uint32_t)off;
    return (uint32_t)off;
}

int cr_table_begin(cr_table *t, const char *key, size_t keylen, uint32_t issuer,
                   const char *user, size_t userlen, uint32_t line)
{
    size_t pad = (ALIGN - t->len % ALIGN) % ALIGN;
    int rc = reserve(t, pad + sizeof(cr_trec));
    if (rc != CR_TABLE_OK)
        return rc;
    t->len += pad;
    t->cur = t->len;
    cr_trec r = { .line = line, .issuer = issuer, .hlo = 0,
                  .keylen = (uint32_t)keylen, .userlen = (uint32_t)userlen };
    memcpy(t->mem + t->cur, &r, sizeof r);
    t->len += sizeof r;
    if ((rc = append(t, key, keylen)) != CR_TABLE_OK)
        return rc;
    if (userlen && (rc = append(t, user, userlen)) != CR_TABLE_OK)
        return rc;
    return CR_TABLE_OK;
}

int cr_table_role(cr_table *t, const char *role, size_t len)
{
    int rc = append(t, role, len);
    if (rc == CR_TABLE_OK)
        rec_at(t, t->cur)->nroles++;
    return rc;
}

void cr_table_set_cond(cr_table *t, uint32_t cond)
{
    if (t->cur)
        rec_at(t, t->cur)->cond = cond;
}

void cr_table_abort(cr_table *t)
{
    if (t->cur) {
        t->len = t->cur;
        t->cur = 0;
    }
}

static int same_issuer(const cr_table *t, uint32_t a, uint32_t b)
{
    return !a || !b || a == b || strcmp(t->mem + a, t->mem + b) == 0;
}

uint64_t cr_table_hash(const char *key, size_t len)
{
    return hash_key(key, len);
}

void cr_table_prefetch(const cr_table *t, uint64_t hash)
{
    __builtin_prefetch(&t->slot[(uint32_t)hash & t->mask]);
}

int cr_table_reserve(cr_table *t, size_t expect)
{
    size_t n = t->mask + 1;
    while (n < expect * 2 && n < ((size_t)1 << 31))
        n *= 2;
    return n == t->mask + 1 ? CR_TABLE_OK : set_slots(t, n);
}

int cr_table_commit(cr_table *t, uint32_t *dup_line)
{
    cr_trec *r = rec_at(t, t->cur);
    return cr_table_commit_hashed(t, hash_key(t->mem + t->cur + sizeof *r, r->keylen), dup_line);
}

int cr_table_commit_hashed(cr_table *t, uint64_t h, uint32_t *dup_line)
{
    cr_trec *r = rec_at(t, t->cur);
    const char *key = t->mem + t->cur + sizeof *r;
    uint64_t tag = h >> 32;
    r->hlo = (uint32_t)h;
    r->size = (uint32_t)(t->len - t->cur);
    for (size_t i = r->hlo & t->mask;; i = (i + 1) & t->mask) {
        uint64_t v = t->slot[i];
        if (!v)
            break;
        if ((v >> 32) != tag)
            continue;
        cr_trec *o = rec_at(t, (uint32_t)v);
        if (o->keylen != r->keylen || memcmp(cr_trec_key(o), key, r->keylen) != 0)
            continue;
        /* Same identity: allowed only when both name different issuers. */
        for (cr_trec *q = o; q; q = q->next ? rec_at(t, q->next) : NULL) {
            if (same_issuer(t, q->issuer, r->issuer)) {
                *dup_line = q->line;
                cr_table_abort(t);
                return CR_TABLE_DUP;
            }
        }
        r->next = o->next;
        o->next = (uint32_t)t->cur;
        t->cur = 0;
        t->count++;
        return CR_TABLE_OK;
    }
    if ((t->count + 1) * 2 > t->mask + 1) {
        int rc = set_slots(t, (t->mask + 1) * 2);
        if (rc != CR_TABLE_OK) {
            cr_table_abort(t);
            return rc;
        }
    }
    size_t i = r->hlo & t->mask;
    while (t->slot[i])
        i = (i + 1) & t->mask;
    t->slot[i] = (tag << 32) | (uint32_t)t->cur;
    t->cur = 0;
    t->count++;
    return CR_TABLE_OK;
}

const cr_trec *cr_table_find(const cr_table *t, const char *key, size_t keylen)
{
    uint64_t h = hash_key(key, keylen);
    uint64_t tag = h >> 32;
    for (size_t i = (uint32_t)h & t->mask;; i = (i + 1) & t->mask) {
        uint64_t v = t->slot[i];
        if (!v)
            return NULL;
        if ((v >> 32) != tag)
            continue;
        const cr_trec *r = rec_at(t, (uint32_t)v);
        if (r->keylen == keylen && memcmp(cr_trec_key(r), key, keylen) == 0)
            return r;
    }
}

const cr_trec *cr_table_next(const cr_table *t, const cr_trec *r)
{
    return r->next ? rec_at(t, r->next) : NULL;
}

const char *cr_trec_key(const cr_trec *r)
{
    return (const char *)(r + 1);
}

const char *cr_trec_user(const cr_trec *r)
{
    return r->userlen ? cr_trec_key(r) + r->keylen + 1 : NULL;
}

const char *cr_trec_roles(const cr_trec *r)
{
    return cr_trec_key(r) + r->keylen + 1 + (r->userlen ? r->userlen + 1 : 0);
}

const char *cr_table_issuer(const cr_table *t, const cr_trec *r)
{
    return r->issuer ? t->mem + r->issuer : NULL;
}

const char *cr_table_cond(const cr_table *t, const cr_trec *r)
{
    return r->cond ? t->mem + r->cond : NULL;
}
