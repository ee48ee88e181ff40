/* LRU cache of directory answers (ldap_cache.h). Each shard is a chained
 * hash table plus a doubly linked recency list under its own mutex. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ldap_cache.h"

#define SHARDS 16

struct entry {
    char *key;
    uint64_t hash;
    struct cr_ldap_outcome value;
    int64_t expires_ms;                 /* CLOCK_MONOTONIC */
    struct entry *chain;                /* bucket chain */
    struct entry *prev, *next;          /* recency: head = newest */
};

struct shard {
    pthread_mutex_t lock;
    struct entry **buckets;
    size_t n_buckets;                   /* power of two */
    size_t count, capacity;
    struct entry *head, *tail;
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
        s->capacity = per;
        s->n_buckets = 8;
        while (s->n_buckets < per && s->n_buckets < (1u << 20))
            s->n_buckets <<= 1;
        if (per && !(s->buckets = calloc(s->n_buckets, sizeof *s->buckets))) {
            cr_ldap_cache_free(c);
            return NULL;
        }
    }
    return c;
}

static void unlink_entry(struct shard *s, struct entry *e)
{
    struct entry **pp = &s->buckets[e->hash & (s->n_buckets - 1)];
    while (*pp && *pp != e)
        pp = &(*pp)->chain;
    if (*pp)
        *pp = e->chain;
    if (e->prev) e->prev->next = e->next; else s->head = e->next;
    if (e->next) e->next->prev = e->prev; else s->tail = e->prev;
    s->count--;
}

static void free_entry(struct entry *e)
{
    cr_ldap_outcome_clear(&e->value);
    free(e->key);
    free(e);
}

static void clear_shard(struct shard *s)
{
    struct entry *e = s->head;
    while (e) {
        struct entry *next = e->next;
        free_entry(e);
        e = next;
    }
    if (s->buckets)
        memset(s->buckets, 0, s->n_buckets * sizeof *s->buckets);
    s->head = s->tail = NULL;
    s->count = 0;
}

void cr_ldap_cache_free(struct cr_ldap_cache *c)
{
    if (!c)
        return;
    for (int i = 0; i < SHARDS; i++) {
        clear_shard(&c->shards[i]);
        free(c->shards[i].buckets);
        pthread_mutex_destroy(&c->shards[i].lock);
    }
    free(c);
}

static struct entry *find(struct shard *s, const char *key, uint64_t h)
{
    for (struct entry *e = s->buckets[h & (s->n_buckets - 1)]; e; e = e->chain)
        if (e->hash == h && strcmp(e->key, key) == 0)
            return e;
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
    if (!s->capacity)
        return 0;
    pthread_mutex_lock(&s->lock);
    struct entry *e = find(s, key, h);
    if (e && e->expires_ms <= now_ms()) {
        unlink_entry(s, e);
        free_entry(e);
        e = NULL;
    }
    if (e && cr_ldap_outcome_copy(out, &e->value) == 0) {
        hit = 1;
        if (s->head != e) {             /* move to the front */
            e->prev->next = e->next;
            if (e->next) e->next->prev = e->prev; else s->tail = e->prev;
            e->prev = NULL;
            e->next = s->head;
            s->head->prev = e;
            s->head = e;
        }
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
    if (!s->capacity)
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
    n->hash = h;
    n->expires_ms = now_ms() + (int64_t)ttl * 1000;
    pthread_mutex_lock(&s->lock);
    struct entry *old = find(s, key, h);
    if (old) {
        unlink_entry(s, old);
        free_entry(old);
    }
    while (s->count >= s->capacity && s->tail) {
        struct entry *victim = s->tail;
        unlink_entry(s, victim);
        free_entry(victim);
    }
    struct entry **b = &s->buckets[h & (s->n_buckets - 1)];
    n->chain = *b;
    *b = n;
    n->next = s->head;
    if (s->head) s->head->prev = n; else s->tail = n;
    s->head = n;
    s->count++;
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

size_t cr_ldap_cache_count(struct cr_ldap_cache *c)
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
