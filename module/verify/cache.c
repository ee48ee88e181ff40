/* Verification cache (cache.h): sharded hash tables with per-shard LRU.
 * A keyed SipHash of the chain's signature values picks shard and bucket,
 * and a hit compares every certificate in full. A peer can copy another
 * certificate's signature into a forged one and so aim at a bucket; it is
 * denied, and at most SAME_HASH_MAX entries with one hash are kept, so a
 * bucket walk stays short. Stored results are shared and immutable
 * (result.h): a hit takes a reference instead of copying. A stored result
 * holds its configuration's decision object (rules, audit flag), never the
 * configuration that owns this cache, so there is no reference cycle. */
#define _GNU_SOURCE
#include "cache.h"
#include <endian.h>
#include "lru.h"
#include "result.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#define SHARDS 32   /* power of two */
#define SHARD_BITS 5 /* log2(SHARDS): the hash's low bits pick the shard */

#define SAME_HASH_MAX 4   /* entries with one hash in a bucket */
/* Signature bytes hashed per certificate: 16 unpredictable bytes pick a
 * bucket as well as more would (a hit compares in full), and the hash is
 * a fifth of a cached call. */
#define SIG_HASHED 16

struct entry {
    struct cr_lru_node node;      /* bucket chain, recency, hash */
    time_t expires;
    certrole_result *res;         /* shared (result.h): one reference is ours */
    size_t n;                     /* certificates */
    X509 *certs[];                /* references: leaf, then untrusted as sent */
};

struct shard {
    pthread_mutex_t lock;
    struct cr_lru lru;
} __attribute__((aligned(64)));   /* no false sharing between shard locks */

struct cr_cache {
    uint64_t k0, k1;              /* SipHash key, random per cache */
    /* Staleness (cr_cache_usable): read by every call, written about once
     * a second, so its own cache line, away from the shard locks. */
    _Alignas(64) atomic_llong checked_at;  /* second of the last file check */
    atomic_int stale;             /* 1: a watched file changed; never serve */
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
    /* malloc's 16-byte alignment is not enough for the 64-byte aligned
     * shards: anything less is undefined behaviour (UBSan: misaligned). */
    void *mem = NULL;
    if (posix_memalign(&mem, _Alignof(struct cr_cache), sizeof(struct cr_cache)) != 0)
        return NULL;
    struct cr_cache *c = memset(mem, 0, sizeof(struct cr_cache));
    unsigned char k[16];
    if (RAND_bytes(k, sizeof k) != 1) {
        free(c);
        return NULL;
    }
    c->k0 = load64le(k);
    c->k1 = load64le(k + 8);
    atomic_init(&c->checked_at, 0);
    atomic_init(&c->stale, 0);
    size_t per = (size + SHARDS - 1) / SHARDS;
    for (int i = 0; i < SHARDS; i++) {
        struct shard *s = &c->shards[i];
        if (cr_lru_init(&s->lru, per, SHARD_BITS) != 0 ||
            pthread_mutex_init(&s->lock, NULL) != 0) {
            cr_lru_destroy(&s->lru);
            for (int j = 0; j < i; j++) {
                pthread_mutex_destroy(&c->shards[j].lock);
                cr_lru_destroy(&c->shards[j].lru);
            }
            free(c);
            return NULL;
        }
    }
    return c;
}

static void entry_free(struct entry *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n; i++)
        X509_free(e->certs[i]);
    cr_result_release(e->res);
    free(e);
}

static struct entry *entry_of(struct cr_lru_node *n)
{
    return n ? CR_LRU_ENTRY(n, struct entry, node) : NULL;
}

static void drop_node(struct cr_lru_node *n)
{
    entry_free(entry_of(n));
}

static void shard_flush(struct shard *s)
{
    cr_lru_clear(&s->lru, drop_node);
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

void cr_cache_retire(struct cr_cache *c)
{
    if (!c)
        return;
    /* cr_cache_put checks 'stale' again under the shard lock the flush
     * takes, so no entry can slip in behind the flush. */
    atomic_store_explicit(&c->stale, 1, memory_order_seq_cst);
    cr_cache_flush(c);
}

void cr_cache_free(struct cr_cache *c)
{
    if (!c)
        return;
    for (int i = 0; i < SHARDS; i++) {
        shard_flush(&c->shards[i]);
        pthread_mutex_destroy(&c->shards[i].lock);
        cr_lru_destroy(&c->shards[i].lru);
    }
    free(c);
}

/* ----- staleness ------------------------------------------------------------ */

int cr_cache_usable(struct cr_cache *c, time_t now, int (*changed)(const void *arg),
                    const void *arg, int *went_stale)
{
    if (went_stale)
        *went_stale = 0;
    if (!c || atomic_load_explicit(&c->stale, memory_order_acquire))
        return 0;
    long long last = atomic_load_explicit(&c->checked_at, memory_order_relaxed);
    if (!changed || (long long)now <= last ||
        !atomic_compare_exchange_strong(&c->checked_at, &last, (long long)now))
        return 1;   /* checked this second already, or another caller is on it */
    if (!changed(arg))
        return 1;
    int expected = 0;
    if (atomic_compare_exchange_strong(&c->stale, &expected, 1)) {
        cr_cache_flush(c);
        if (went_stale)
            *went_stale = 1;
    }
    return 0;
}

/* ----- key ------------------------------------------------------------------ */

static X509 *key_cert(const cr_cache_key *k, size_t i)
{
    return i == 0 ? k->leaf : sk_X509_value(k->untrusted, (int)i - 1);
}

int cr_cache_key_init(cr_cache_key *k, X509 *leaf, STACK_OF(X509) *untrusted)
{
    int nu = sk_X509_num(untrusted);
    k->leaf = leaf;
    k->untrusted = untrusted;
    k->n = 0;
    if (!leaf || nu < 0)
        return -1;
    for (int i = 0; i < nu; i++)
        if (!sk_X509_value(untrusted, i))
            return -1;
    k->n = (size_t)nu + 1;
    return 0;
}

/* The bucket hash: per certificate the signature's length and its first
 * SIG_HASHED bytes (a signature is unpredictable without the CA's key;
 * forged copies are bounded by SAME_HASH_MAX). */
static uint64_t key_hash(const struct cr_cache *c, const cr_cache_key *k)
{
    unsigned char buf[8 * (4 + SIG_HASHED)];
    size_t len = 0;
    uint64_t h = (uint64_t)k->n;
    for (size_t i = 0; i < k->n; i++) {
        const ASN1_BIT_STRING *sig = NULL;
        X509_get0_signature(&sig, NULL, key_cert(k, i));
        int sl = sig ? ASN1_STRING_length(sig) : 0;
        size_t take = sl <= 0 ? 0 : (size_t)sl < SIG_HASHED ? (size_t)sl : SIG_HASHED;
        if (len + 4 + take > sizeof buf) {   /* long chains: hash in pieces */
            h ^= siphash(c->k0, c->k1 ^ h, buf, len);
            len = 0;
        }
        uint32_t l = (uint32_t)sl;
        memcpy(buf + len, &l, 4);
        if (take)
            memcpy(buf + len + 4, ASN1_STRING_get0_data(sig), take);
        len += 4 + take;
    }
    return h ^ siphash(c->k0, c->k1 ^ h, buf, len);
}

/* The same certificate, compared in full: X509_cmp compares the SHA-1 of
 * the DER and the to-be-signed bytes as decoded; the signature value and
 * the outer algorithm are compared here, so no hash is trusted alone. */
static int same_cert(X509 *a, X509 *b)
{
    if (a == b)   /* one object, kept alive by the entry's reference */
        return 1;
    const ASN1_BIT_STRING *sa = NULL, *sb = NULL;
    const X509_ALGOR *aa = NULL, *ab = NULL;
    /* (X509_get_extension_flags caches the extensions and the SHA-1.)
     * Without a SHA-1 X509_cmp would compare less: never a hit then. */
    if (((X509_get_extension_flags(a) | X509_get_extension_flags(b)) & EXFLAG_NO_FINGERPRINT) ||
        X509_cmp(a, b) != 0)
        return 0;
    X509_get0_signature(&sa, &aa, a);
    X509_get0_signature(&sb, &ab, b);
    return sa && sb && aa && ab && ASN1_STRING_cmp(sa, sb) == 0 && X509_ALGOR_cmp(aa, ab) == 0;
}

static int entry_matches(const struct entry *e, uint64_t h, const cr_cache_key *k)
{
    if (e->node.hash != h || e->n != k->n)
        return 0;
    for (size_t i = 0; i < k->n; i++)
        if (!same_cert(e->certs[i], key_cert(k, i)))
            return 0;
    return 1;
}

/* ----- lookup and store -------------------------------------------------------- */

certrole_result *cr_cache_get(struct cr_cache *c, const cr_cache_key *k, time_t now)
{
    if (!c || !k || !k->n || atomic_load_explicit(&c->stale, memory_order_acquire))
        return NULL;
    uint64_t h = key_hash(c, k);
    struct shard *s = &c->shards[h & (SHARDS - 1)];
    struct entry *dead = NULL;
    certrole_result *out = NULL;
    pthread_mutex_lock(&s->lock);
    for (struct cr_lru_node *n = cr_lru_bucket(&s->lru, h); n; n = n->chain) {
        struct entry *e = entry_of(n);
        if (!entry_matches(e, h, k))
            continue;
        if (e->expires <= now) {
            cr_lru_unlink(&s->lru, n);
            dead = e;
            break;
        }
        cr_lru_touch(&s->lru, n);
        /* A reference, not a copy: the result is immutable. */
        out = cr_result_hold(e->res);
        break;
    }
    pthread_mutex_unlock(&s->lock);
    entry_free(dead);
    return out;
}

int cr_cache_is_stale(struct cr_cache *c)
{
    return !c || atomic_load_explicit(&c->stale, memory_order_acquire);
}

void cr_cache_put(struct cr_cache *c, const cr_cache_key *k, const certrole_result *r,
                  time_t expires, time_t now)
{
    if (!c || !k || !k->n || !r || expires <= now ||
        atomic_load_explicit(&c->stale, memory_order_acquire))
        return;
    if (k->n > (SIZE_MAX - sizeof(struct entry)) / sizeof(X509 *))
        return;
    struct entry *e = calloc(1, sizeof *e + k->n * sizeof(X509 *));
    if (!e)
        return;
    for (size_t i = 0; i < k->n; i++) {
        X509 *x = key_cert(k, i);
        if (!X509_up_ref(x)) {
            entry_free(e);
            return;
        }
        e->certs[e->n++] = x;
    }
    e->expires = expires;
    e->node.hash = key_hash(c, k);
    if (!(e->res = cr_result_share(r))) {
        entry_free(e);
        return;
    }
    uint64_t h = e->node.hash;
    struct shard *s = &c->shards[h & (SHARDS - 1)];
    struct entry *evicted = NULL, *replaced = NULL;
    pthread_mutex_lock(&s->lock);
    if (atomic_load_explicit(&c->stale, memory_order_acquire)) {
        /* went stale meanwhile; the flush takes this lock, so after it
         * nothing can be stored */
        pthread_mutex_unlock(&s->lock);
        entry_free(e);
        return;
    }
    int same_hash = 0;
    for (struct cr_lru_node *n = cr_lru_bucket(&s->lru, h); n; n = n->chain) {
        if (n->hash != h)
            continue;
        if (entry_matches(entry_of(n), h, k)) {
            cr_lru_unlink(&s->lru, n);   /* a newer verdict replaces the old one */
            replaced = entry_of(n);
            break;
        }
        same_hash++;
    }
    if (!replaced && same_hash >= SAME_HASH_MAX) {
        /* Only forged certificates carrying copied signatures get here:
         * not cached, so no bucket walk grows long. */
        pthread_mutex_unlock(&s->lock);
        entry_free(e);
        return;
    }
    evicted = entry_of(cr_lru_evict(&s->lru));   /* at most one: count <= cap */
    cr_lru_insert(&s->lru, &e->node);
    pthread_mutex_unlock(&s->lock);
    entry_free(evicted);
    entry_free(replaced);
}
