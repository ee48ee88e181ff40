/* LRU cache of directory answers (ldap_cache.h). Each shard is a chained
 * hash table plus a doubly linked recency list under its own mutex. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ldap_cache.h"
#include "lru.h"

#define SHARDS 16

struct entry {
    struct cr_lru_node node;            /* bucket chain, recency, hash */
    char *key;
    struct cr_ldap_outcome value;
    int64_t expires_ms;                 /* CLOCK_MONOTONIC */
};

struct shard {
    pthread_mutex_t lock;
    struct cr_lru lru;                  /* lru.cap 0: an unused shard */
};

struct cr_ldap_cache {
    unsigned n_shards;      /* 1 for small caches, so the bound is exact */
    struct shard shards[SHARDS];
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t hash_of(const char *s)
{
    uint64_t h = 1469598103934665603ULL;    /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

struct cr_ldap_cache *cr_ldap_cache_new(size_t capacity)
{
    struct cr_ldap_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->n_shards = capacity >= 64 * SHARDS ? SHARDS : 1;
    for (unsigned i = 0; i < SHARDS; i++) {
        struct shard *s = &c->shards[i];
        size_t per = i < c->n_shards ? capacity / c->n_shards + (i < capacity % c->n_shards) : 0;
        pthread_mutex_init(&s->lock, NULL);
        if (cr_lru_init(&s->lru, per, 0) != 0) {
            cr_ldap_cache_free(c);
            return NULL;
        }
    }
    return c;
}

static struct entry *entry_of(struct cr_lru_node *n)
{
    return n ? CR_LRU_ENTRY(n, struct entry, node) : NULL;
}

static void free_entry(struct entry *e)
{
    if (!e)
        return;
    cr_ldap_outcome_clear(&e->value);
    free(e->key);
    free(e);
}

static void drop_node(struct cr_lru_node *n)
{
    free_entry(entry_of(n));
}

static void clear_shard(struct shard *s)
{
    cr_lru_clear(&s->lru, drop_node);
}

void cr_ldap_cache_free(struct cr_ldap_cache *c)
{
    if (!c)
        return;
    for (int i = 0; i < SHARDS; i++) {
        clear_shard(&c->shards[i]);
        cr_lru_destroy(&c->shards[i].lru);
        pthread_mutex_destroy(&c->shards[i].lock);
    }
    free(c);
}

static struct entry *find(struct shard *s, const char *key, uint64_t h)
{
    for (struct cr_lru_node *n = cr_lru_bucket(&s->lru, h); n; n = n->chain)
        if (n->hash == h && strcmp(entry_of(n)->key, key) == 0)
            return entry_of(n);
    return NULL;
}

int cr_ldap_cache_get(struct cr_ldap_cache *c, const char *key,
                      struct cr_ldap_outcome *out)
{
    if (!c || !key)
        return 0;
    uint64_t h = hash_of(key);
    struct shard *s = &c->shards[h % c->n_shards];
    int hit = 0;
    if (!s->lru.cap)
        return 0;
    pthread_mutex_lock(&s->lock);
    struct entry *e = find(s, key, h);
    if (e && e->expires_ms <= now_ms()) {
        cr_lru_unlink(&s->lru, &e->node);
        free_entry(e);
        e = NULL;
    }
    if (e && cr_ldap_outcome_copy(out, &e->value) == 0) {
        hit = 1;
        cr_lru_touch(&s->lru, &e->node);
    }
    pthread_mutex_unlock(&s->lock);
    return hit;
}

void cr_ldap_cache_put(struct cr_ldap_cache *c, const char *key,
                       const struct cr_ldap_outcome *o, int ttl)
{
    if (!c || !key || ttl <= 0)
        return;
    uint64_t h = hash_of(key);
    struct shard *s = &c->shards[h % c->n_shards];
    if (!s->lru.cap)
        return;
    /* Copy outside the lock: allocation is the slow part. */
    struct entry *n = calloc(1, sizeof *n);
    if (!n)
        return;
    if (!(n->key = strdup(key)) || cr_ldap_outcome_copy(&n->value, o) != 0) {
        free(n->key);
        free(n);
        return;
    }
    n->node.hash = h;
    n->expires_ms = now_ms() + (int64_t)ttl * 1000;
    pthread_mutex_lock(&s->lock);
    struct entry *old = find(s, key, h);
    if (old) {
        cr_lru_unlink(&s->lru, &old->node);
        free_entry(old);
    }
    struct entry *victim;
    while ((victim = entry_of(cr_lru_evict(&s->lru))) != NULL)
        free_entry(victim);
    cr_lru_insert(&s->lru, &n->node);
    pthread_mutex_unlock(&s->lock);
}

void cr_ldap_cache_clear(struct cr_ldap_cache *c)
{
    if (!c)
        return;
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_lock(&c->shards[i].lock);
        clear_shard(&c->shards[i]);
        pthread_mutex_unlock(&c->shards[i].lock);
    }
}
