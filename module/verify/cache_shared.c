/* The cross-process verification cache (cache_shared.h): fixed-size slots
 * in one shared anonymous mapping, striped into shards of about
 * PER_SHARD slots behind robust process-shared mutexes; LRU per shard. */
#define _GNU_SOURCE
#include "cache_shared.h"
#include "cache_shared_codec.h"
#include "cache_shared_test.h"
#include "policy.h"
#include "result.h"
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define SLOT_SIZE 2048
#define SLOT_HEAD 88
#define PER_SHARD 128           /* slots a lookup scans at most, about */
#define MAX_SHARDS 8192
#define NO_STR UINT32_MAX       /* a NULL string */

struct slot {
    uint32_t used, len;         /* len: bytes of data */
    uint64_t last;              /* LRU stamp (the shard's clock) */
    int64_t expires;
    unsigned char key[CR_SHCACHE_KEY];
    unsigned char sum[32];      /* SHA-256 of key, expires, len, data */
    unsigned char data[SLOT_SIZE - SLOT_HEAD];
};
_Static_assert(sizeof(struct slot) == SLOT_SIZE, "slot layout");

struct shard {
    pthread_mutex_t lock;       /* robust, process-shared */
    uint64_t clock;
} __attribute__((aligned(64)));

/* Process-local view; the geometry is this process's, never read back
 * from the mapping (which any worker may have scribbled on). */
struct cr_shcache {
    void *base;
    size_t bytes, nshards, per_shard;
    struct shard *shards;
    struct slot *slots;
    void (*hook)(void);         /* tests only: inside put's critical section */
};

int cr_shcache_parse_size(const char *s, size_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    unsigned long long mul = 1;
    if (*end == 'k' || *end == 'K')
        mul = 1024, end++;
    else if (*end == 'm' || *end == 'M')
        mul = 1024 * 1024, end++;
    if (errno || *end || v > CR_SHCACHE_MAX / mul)
        return -1;
    v *= mul;
    if (v != 0 && v < CR_SHCACHE_MIN)
        return -1;
    *out = (size_t)v;
    return 0;
}

/* ----- lifecycle ------------------------------------------------------------ */

static int init_lock(pthread_mutex_t *m)
{
    pthread_mutexattr_t a;
    if (pthread_mutexattr_init(&a) != 0)
        return -1;
    int rc = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED) |
             pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST) |
             pthread_mutex_init(m, &a);
    pthread_mutexattr_destroy(&a);
    return rc ? -1 : 0;
}

struct cr_shcache *cr_shcache_new(size_t bytes)
{
    if (bytes < CR_SHCACHE_MIN || bytes > CR_SHCACHE_MAX)
        return NULL;
    size_t nslots = bytes / SLOT_SIZE, nshards = 16;
    while (nshards < MAX_SHARDS && nshards * PER_SHARD < nslots)
        nshards *= 2;
    size_t head = nshards * sizeof(struct shard);
    size_t per = (bytes - head) / SLOT_SIZE / nshards;
    if (per == 0)
        return NULL;
    struct cr_shcache *sc = calloc(1, sizeof *sc);
    if (!sc)
        return NULL;
    sc->bytes = head + per * nshards * SLOT_SIZE;
    sc->base = mmap(NULL, sc->bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sc->base == MAP_FAILED) {
        free(sc);
        return NULL;
    }
    sc->nshards = nshards;
    sc->per_shard = per;
    sc->shards = sc->base;
    sc->slots = (struct slot *)((unsigned char *)sc->base + head);
    for (size_t i = 0; i < nshards; i++)
        if (init_lock(&sc->shards[i].lock) != 0) {
            cr_shcache_free(sc);
            return NULL;
        }
    return sc;
}

void cr_shcache_free(struct cr_shcache *sc)
{
    if (!sc)
        return;
    /* The mutexes stay: other processes may still use the mapping. */
    munmap(sc->base, sc->bytes);
    free(sc);
}

/* ----- shards --------------------------------------------------------------- */

static struct slot *shard_slots(struct cr_shcache *sc, size_t si)
{
    return sc->slots + si * sc->per_shard;
}

/* Locks shard si. A holder that died mid-update may have left anything
 * behind: the shard is emptied before the lock is made consistent. */
static int shard_lock(struct cr_shcache *sc, size_t si)
{
    struct shard *s = &sc->shards[si];
    int rc = pthread_mutex_lock(&s->lock);
    if (rc == EOWNERDEAD) {
        memset(shard_slots(sc, si), 0, sc->per_shard * SLOT_SIZE);
        s->clock = 0;
        rc = pthread_mutex_consistent(&s->lock);
        if (rc != 0)
            pthread_mutex_unlock(&s->lock);
    }
    return rc == 0 ? 0 : -1;   /* ENOTRECOVERABLE and the like: a miss */
}

static size_t shard_of(const struct cr_shcache *sc, const unsigned char *key)
{
    uint64_t h;
    memcpy(&h, key, sizeof h);
    return (size_t)(h & (sc->nshards - 1));
}

static int slot_sum(const struct slot *s, unsigned char out[32])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(md, s->key, sizeof s->key) &&
             EVP_DigestUpdate(md, &s->expires, sizeof s->expires) &&
             EVP_DigestUpdate(md, &s->len, sizeof s->len) &&
             EVP_DigestUpdate(md, s->data, s->len) && EVP_DigestFinal_ex(md, out, NULL);
    EVP_MD_CTX_free(md);
    return ok ? 0 : -1;
}

/* ----- tag and key ---------------------------------------------------------- */

/* A tag being computed; any failed update leaves it without a result. */
struct cr_shcache_tag {
    EVP_MD_CTX *md;
    int bad;
};

static void put_bytes(struct cr_shcache_tag *t, const void *p, size_t n)
{
    if (!EVP_DigestUpdate(t->md, p, n))
        t->bad = 1;
}

static void put_str(struct cr_shcache_tag *t, const char *s)
{
    uint32_t n = s ? (uint32_t)strlen(s) : NO_STR;
    put_bytes(t, &n, sizeof n);
    if (s)
        put_bytes(t, s, n);
}

struct cr_shcache_tag *cr_shcache_tag_begin(const struct cr_policy *p)
{
    struct cr_shcache_tag *t = calloc(1, sizeof *t);
    if (!t || !(t->md = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(t->md, EVP_sha256(), NULL)) {
        if (t)
            EVP_MD_CTX_free(t->md);
        free(t);
        return NULL;
    }
    put_str(t, "certrole shared cache 1");
    for (size_t i = 0; i < p->ndirs; i++) {
        const struct cr_directive *d = &p->dirs[i];
        int head[3] = { (int)d->kind, d->line, (int)d->nargs };
        put_bytes(t, head, sizeof head);
        put_str(t, d->file);
        put_str(t, d->base_dir);
        for (size_t a = 0; a < d->nargs; a++)
            put_str(t, d->args[a].text);
    }
    return t;
}

void cr_shcache_tag_file(struct cr_shcache_tag *t, const char *path, int exists, dev_t dev,
                         ino_t ino, off_t size, const struct timespec *mtime)
{
    long long v[6] = { exists, (long long)dev, (long long)ino, (long long)size,
                       (long long)mtime->tv_sec, (long long)mtime->tv_nsec };
    put_str(t, path);
    put_bytes(t, v, sizeof v);
}

int cr_shcache_tag_end(struct cr_shcache_tag *t, unsigned char tag[CR_SHCACHE_KEY])
{
    int ok = t && !t->bad && EVP_DigestFinal_ex(t->md, tag, NULL);
    if (t)
        EVP_MD_CTX_free(t->md);
    free(t);
    return ok ? 0 : -1;
}

static int key_cert(EVP_MD_CTX *md, X509 *x)
{
    unsigned char *der = NULL;
    int n = x ? i2d_X509(x, &der) : -1;
    uint32_t l = (uint32_t)n;
    int ok = n > 0 && EVP_DigestUpdate(md, &l, sizeof l) && EVP_DigestUpdate(md, der, (size_t)n);
    OPENSSL_free(der);
    return ok ? 0 : -1;
}

int cr_shcache_key(unsigned char key[CR_SHCACHE_KEY], const unsigned char tag[CR_SHCACHE_KEY],
                   X509 *leaf, STACK_OF(X509) *untrusted)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    uint32_t n = (uint32_t)sk_X509_num(untrusted) + 1;
    int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(md, tag, CR_SHCACHE_KEY) && EVP_DigestUpdate(md, &n, sizeof n) &&
             key_cert(md, leaf) == 0;
    for (int i = 0; ok && i < sk_X509_num(untrusted); i++)
        ok = key_cert(md, sk_X509_value(untrusted, i)) == 0;
    ok = ok && EVP_DigestFinal_ex(md, key, NULL);
    EVP_MD_CTX_free(md);
    return ok ? 0 : -1;
}

/* ----- lookup and store ---------------------------------------------------------- */

static struct slot *find(struct cr_shcache *sc, size_t si, const unsigned char *key)
{
    struct slot *s = shard_slots(sc, si);
    for (size_t i = 0; i < sc->per_shard; i++)
        if (s[i].used && memcmp(s[i].key, key, CR_SHCACHE_KEY) == 0)
            return &s[i];
    return NULL;
}

certrole_result *cr_shcache_get(struct cr_shcache *sc, const unsigned char key[CR_SHCACHE_KEY],
                                time_t now, struct cr_decision *dec, X509 *leaf, time_t *until)
{
    if (!sc || !leaf)
        return NULL;
    size_t si = shard_of(sc, key);
    struct slot copy;
    int found = 0;
    if (shard_lock(sc, si) != 0)
        return NULL;
    struct slot *s = find(sc, si, key);
    if (s) {
        memcpy(&copy, s, sizeof copy);
        s->last = ++sc->shards[si].clock;
        found = 1;
    }
    pthread_mutex_unlock(&sc->shards[si].lock);
    unsigned char sum[32];
    if (!found || copy.len > sizeof copy.data || copy.expires <= (int64_t)now ||
        memcmp(copy.key, key, CR_SHCACHE_KEY) != 0 || slot_sum(&copy, sum) != 0 ||
        memcmp(sum, copy.sum, sizeof sum) != 0)
        return NULL;
    certrole_result *r = cr_result_new(dec);
    if (!r)
        return NULL;
    char *m = NULL, *h = NULL;
    certrole_code idrc = cr_identity_from_leaf(&r->id, leaf, &m, &h);
    free(m);
    free(h);
    r->have_id = 1;
    /* A leaf whose identity cannot be built now (no memory) would be
     * refused by a fresh verification: a miss, never the stored answer. */
    if (idrc != CERTROLE_OK || cr_shcache_decode(r, copy.data, copy.len) != 0) {
        certrole_result_free(r);
        return NULL;
    }
    r->cached = 1;
    *until = (time_t)copy.expires;
    return r;
}

/* The slot a store takes: the one holding key, else a free or expired
 * one, else the least recently used. */
static struct slot *victim(struct cr_shcache *sc, size_t si, const unsigned char *key, time_t now)
{
    struct slot *s = shard_slots(sc, si), *unused = NULL, *lru = NULL;
    for (size_t i = 0; i < sc->per_shard; i++) {
        if (s[i].used && memcmp(s[i].key, key, CR_SHCACHE_KEY) == 0)
            return &s[i];
        if (!s[i].used || s[i].expires <= (int64_t)now) {
            if (!unused)
                unused = &s[i];
        } else if (!lru || s[i].last < lru->last) {
            lru = &s[i];
        }
    }
    return unused ? unused : lru;
}

void cr_shcache_put(struct cr_shcache *sc, const unsigned char key[CR_SHCACHE_KEY],
                    const certrole_result *r, time_t expires, time_t now)
{
    if (!sc || !r || expires <= now)
        return;
    struct slot *in = calloc(1, sizeof *in);
    if (!in)
        return;
    in->len = (uint32_t)cr_shcache_encode(r, in->data, sizeof in->data);
    memcpy(in->key, key, CR_SHCACHE_KEY);
    in->expires = (int64_t)expires;
    if (in->len == 0 || slot_sum(in, in->sum) != 0) {
        free(in);   /* too large for a slot: only the local cache keeps it */
        return;
    }
    size_t si = shard_of(sc, key);
    if (shard_lock(sc, si) == 0) {
        struct slot *s = victim(sc, si, key, now);
        /* Cleared first: a writer killed from here on leaves a free slot
         * (and the shard is emptied by the next locker anyway). */
        s->used = 0;
        memcpy(s->data, in->data, in->len);
        if (sc->hook)
            sc->hook();
        memcpy(s->key, in->key, sizeof s->key);
        s->expires = in->expires;
        s->len = in->len;
        memcpy(s->sum, in->sum, sizeof s->sum);
        s->last = ++sc->shards[si].clock;
        s->used = 1;
        pthread_mutex_unlock(&sc->shards[si].lock);
    }
    free(in);
}

void cr_shcache_flush(struct cr_shcache *sc)
{
    for (size_t si = 0; sc && si < sc->nshards; si++)
        if (shard_lock(sc, si) == 0) {
            memset(shard_slots(sc, si), 0, sc->per_shard * SLOT_SIZE);
            pthread_mutex_unlock(&sc->shards[si].lock);
        }
}

/* ----- test access (cache_shared_test.h) ---------------------------------------- */

void cr_shcache_set_test_hook(struct cr_shcache *sc, void (*hook)(void))
{
    if (sc)
        sc->hook = hook;
}

void *cr_shcache_test_slot(struct cr_shcache *sc, const unsigned char key[CR_SHCACHE_KEY],
                           size_t *data_off, size_t *data_cap)
{
    struct slot *s = sc ? find(sc, shard_of(sc, key), key) : NULL;
    *data_off = offsetof(struct slot, data);
    *data_cap = sizeof s->data;
    return s;
}

size_t cr_shcache_test_capacity(const struct cr_shcache *sc, size_t *per_shard)
{
    *per_shard = sc ? sc->per_shard : 0;
    return sc ? sc->per_shard * sc->nshards : 0;
}

int cr_shcache_test_decode(certrole_result *r, const unsigned char *data, size_t len)
{
    return cr_shcache_decode(r, data, len);
}

int cr_shcache_test_seal(struct cr_shcache *sc, const unsigned char key[CR_SHCACHE_KEY], size_t len)
{
    struct slot *s = sc ? find(sc, shard_of(sc, key), key) : NULL;
    if (!s || len > sizeof s->data)
        return -1;
    s->len = (uint32_t)len;
    return slot_sum(s, s->sum);
}
