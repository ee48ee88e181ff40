/* Verification cache (cache.h): sharded hash tables with per-shard LRU.
 * The key is the full chain DER; a keyed SipHash picks shard and bucket so
 * a peer cannot aim collisions at one bucket, and a hit compares every
 * byte. Stored results hold no configuration reference (the cache belongs
 * to the configuration; a reference would be a cycle). */
#define _GNU_SOURCE
#include "cache.h"
#include <endian.h>
#include "result.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/rand.h>

#define SHARDS 32   /* power of two */

struct entry {
    struct entry *hnext;          /* bucket chain */
    struct entry *prev, *next;    /* LRU list, most recent first */
    uint64_t hash;
    time_t expires;
    atomic_int refs;              /* the table's + readers copying outside the lock */
    certrole_result *res;         /* immutable once stored */
    size_t keylen;
    unsigned char key[];          /* the chain DER, compared in full */
};

struct shard {
    pthread_mutex_t lock;
    struct entry **buckets;
    size_t nbuckets;              /* power of two */
    struct entry *head, *tail;
    size_t count, cap;
} __attribute__((aligned(64)));   /* no false sharing between shard locks */

struct cr_cache {
    uint64_t k0, k1;              /* SipHash key, random per cache */
    struct shard shards[SHARDS];
};

/* ----- SipHash-1-3 (Aumasson & Bernstein; the reduced-round variant hash
 * tables use): keyed, so bucket choice cannot be aimed at from outside. */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                        \
    do {                                                                \
        v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);       \
        v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                          \
        v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                          \
        v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);       \
    } while (0)

static uint64_t load64le(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);   /* one unaligned load */
    return le64toh(v);
}

static uint64_t siphash(uint64_t k0, uint64_t k1, const unsigned char *m, size_t len)
{
    uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
    const unsigned char *end = m + (len & ~(size_t)7);
    for (; m < end; m += 8) {
        uint64_t w = load64le(m);
        v3 ^= w;
        SIPROUND;
        v0 ^= w;
    }
    uint64_t b = (uint64_t)len << 56;
    for (size_t i = 0; i < (len & 7); i++)
        b |= (uint64_t)m[i] << (8 * i);
    v3 ^= b;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* ----- lifecycle ------------------------------------------------------------ */

struct cr_cache *cr_cache_new(size_t size)
{
    if (size == 0)
        return NULL;
    struct cr_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    unsigned char k[16];
    if (RAND_bytes(k, sizeof k) != 1) {
        free(c);
        return NULL;
    }
    c->k0 = load64le(k);
    c->k1 = load64le(k + 8);
    size_t per = (size + SHARDS - 1) / SHARDS;
    size_t nb = 8;
    while (nb < per * 2 && nb < ((size_t)1 << 30))
        nb <<= 1;
    for (int i = 0; i < SHARDS; i++) {
        struct shard *s = &c->shards[i];
        s->cap = per;
        s->nbuckets = nb;
        s->buckets = calloc(nb, sizeof *s->buckets);
        if (!s->buckets || pthread_mutex_init(&s->lock, NULL) != 0) {
            free(s->buckets);
            s->buckets = NULL;
            for (int j = 0; j < i; j++) {
                pthread_mutex_destroy(&c->shards[j].lock);
                free(c->shards[j].buckets);
            }
            free(c);
            return NULL;
        }
    }
    return c;
}

/* Drops one reference; the last one frees. */
static void entry_free(struct entry *e)
{
    if (!e || atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) != 1)
        return;
    certrole_result_free(e->res);
    free(e);
}

/* Unlinks e from its bucket and the LRU list (shard locked). */
static void unlink_entry(struct shard *s, struct entry *e)
{
    struct entry **pp = &s->buckets[(e->hash >> 5) & (s->nbuckets - 1)];
    while (*pp && *pp != e)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = e->hnext;
    if (e->prev) e->prev->next = e->next; else s->head = e->next;
    if (e->next) e->next->prev = e->prev; else s->tail = e->prev;
    s->count--;
}

static void shard_flush(struct shard *s)
{
    struct entry *e = s->head;
    while (e) {
        struct entry *n = e->next;
        entry_free(e);
        e = n;
    }
    s->head = s->tail = NULL;
    s->count = 0;
    memset(s->buckets, 0, s->nbuckets * sizeof *s->buckets);
}

void cr_cache_flush(struct cr_cache *c)
{
    if (!c)
        return;
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_lock(&c->shards[i].lock);
        shard_flush(&c->shards[i]);
        pthread_mutex_unlock(&c->shards[i].lock);
    }
}

void cr_cache_free(struct cr_cache *c)
{
    if (!c)
        return;
    for (int i = 0; i < SHARDS; i++) {
        shard_flush(&c->shards[i]);
        pthread_mutex_destroy(&c->shards[i].lock);
        free(c->shards[i].buckets);
    }
    free(c);
}

size_t cr_cache_count(struct cr_cache *c)
{
    size_t n = 0;
    if (!c)
        return 0;
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_lock(&c->shards[i].lock);
        n += c->shards[i].count;
        pthread_mutex_unlock(&c->shards[i].lock);
    }
    return n;
}

/* ----- key ------------------------------------------------------------------ */

static int put_cert(X509 *x, unsigned char **buf, size_t *len, size_t *cap,
                    unsigned char *stackbuf)
{
    int n = i2d_X509(x, NULL);
    if (n <= 0)
        return -1;
    size_t need = *len + 4 + (size_t)n;
    if (need > *cap) {
        size_t ncap = *cap * 2 > need ? *cap * 2 : need;
        unsigned char *nb = malloc(ncap);
        if (!nb)
            return -1;
        memcpy(nb, *buf, *len);
        if (*buf != stackbuf)
            free(*buf);
        *buf = nb;
        *cap = ncap;
    }
    unsigned char *p = *buf + *len;
    p[0] = (unsigned char)(n >> 24);
    p[1] = (unsigned char)(n >> 16);
    p[2] = (unsigned char)(n >> 8);
    p[3] = (unsigned char)n;
    p += 4;
    if (i2d_X509(x, &p) != n)
        return -1;
    *len = need;
    return 0;
}

int cr_cache_key(X509 *leaf, STACK_OF(X509) *untrusted, unsigned char *buf,
                 size_t buflen, unsigned char **key, size_t *keylen)
{
    unsigned char *b = buf;
    size_t len = 0, cap = buflen;
    *key = NULL;
    *keylen = 0;
    if (!leaf || put_cert(leaf, &b, &len, &cap, buf) < 0)
        goto fail;
    for (int i = 0; i < sk_X509_num(untrusted); i++)
        if (put_cert(sk_X509_value(untrusted, i), &b, &len, &cap, buf) < 0)
            goto fail;
    *key = b;
    *keylen = len;
    return 0;
fail:
    if (b != buf)
        free(b);
    return -1;
}

/* ----- lookup and store -------------------------------------------------------- */

certrole_result *cr_cache_get(struct cr_cache *c, const unsigned char *key,
                              size_t keylen, time_t now)
{
    if (!c || !key)
        return NULL;
    uint64_t h = siphash(c->k0, c->k1, key, keylen);
    struct shard *s = &c->shards[h & (SHARDS - 1)];
    struct entry *dead = NULL, *hit = NULL;
    pthread_mutex_lock(&s->lock);
    for (struct entry *e = s->buckets[(h >> 5) & (s->nbuckets - 1)]; e; e = e->hnext) {
        if (e->hash != h || e->keylen != keylen || memcmp(e->key, key, keylen) != 0)
            continue;
        if (e->expires <= now) {
            unlink_entry(s, e);
            dead = e;
            break;
        }
        if (e != s->head) {   /* move to the front of the LRU list */
            e->prev->next = e->next;
            if (e->next) e->next->prev = e->prev; else s->tail = e->prev;
            e->prev = NULL;
            e->next = s->head;
            s->head->prev = e;
            s->head = e;
        }
        atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
        hit = e;
        break;
    }
    pthread_mutex_unlock(&s->lock);
    entry_free(dead);
    if (!hit)
        return NULL;
    /* Copy outside the lock: readers of one hot entry run in parallel. */
    certrole_result *out = cr_result_dup(hit->res);
    entry_free(hit);
    if (out)
        out->cached = 1;
    return out;
}

void cr_cache_put(struct cr_cache *c, const unsigned char *key, size_t keylen,
                  const certrole_result *r, time_t expires, time_t now)
{
    if (!c || !key || !r || expires <= now)
        return;
    struct entry *e = malloc(sizeof *e + keylen);
    if (!e)
        return;
    memcpy(e->key, key, keylen);
    e->keylen = keylen;
    e->expires = expires;
    e->hash = siphash(c->k0, c->k1, key, keylen);
    e->hnext = e->prev = e->next = NULL;
    atomic_init(&e->refs, 1);
    if (!(e->res = cr_result_dup(r))) {
        free(e);
        return;
    }
    e->res->cached = 0;
    if (e->res->cfg) {   /* see the comment at the top */
        cr_config_unref(e->res->cfg);
        e->res->cfg = NULL;
    }
    struct shard *s = &c->shards[e->hash & (SHARDS - 1)];
    struct entry *evicted = NULL, *replaced = NULL;
    pthread_mutex_lock(&s->lock);
    struct entry **pp = &s->buckets[(e->hash >> 5) & (s->nbuckets - 1)];
    for (struct entry *o = *pp; o; o = o->hnext)
        if (o->hash == e->hash && o->keylen == keylen && !memcmp(o->key, key, keylen)) {
            unlink_entry(s, o);   /* a newer verdict replaces the old one */
            replaced = o;
            break;
        }
    if (s->count >= s->cap && s->tail) {
        evicted = s->tail;
        unlink_entry(s, evicted);
    }
    e->hnext = *pp;
    *pp = e;
    e->next = s->head;
    if (s->head) s->head->prev = e; else s->tail = e;
    s->head = e;
    s->count++;
    pthread_mutex_unlock(&s->lock);
    entry_free(evicted);
    entry_free(replaced);
}
