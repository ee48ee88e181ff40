/* The OCSP answer cache (ocsp.h): usable answers by certificate (a hash of
 * the certID's issuer name hash, issuer key hash and serial) until their
 * nextUpdate, bounded (least recently used out), and at most one fetch in
 * flight per certificate: later callers for the same key wait for it
 * rather than each asking the responder. One mutex: a lookup is a hash
 * probe, cheap next to the path validation that precedes it. */
#include "ocsp.h"
#include "lru.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    struct cr_lru_node node;
    unsigned char key[32];
    struct cr_ocsp_answer ans;
};

/* A fetch in flight; its waiters hold it until they have read it. */
struct flight {
    struct flight *next;
    unsigned char key[32];
    int done, refs;
    struct cr_ocsp_answer ans;
};

struct cr_ocsp_cache {
    pthread_mutex_t mu;
    pthread_cond_t cv;           /* broadcast when any fetch ends */
    struct cr_lru lru;
    struct flight *flights;
};

static uint64_t key_hash(const unsigned char key[32])
{
    uint64_t h;
    memcpy(&h, key, sizeof h);   /* the key is already a digest */
    return h;
}

struct cr_ocsp_cache *cr_ocsp_cache_new(size_t cap)
{
    struct cr_ocsp_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (cr_lru_init(&c->lru, cap ? cap : 1, 0) < 0) {
        free(c);
        return NULL;
    }
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    return c;
}

static void drop(struct cr_lru_node *n)
{
    free(CR_LRU_ENTRY(n, struct entry, node));
}

void cr_ocsp_cache_free(struct cr_ocsp_cache *c)
{
    if (!c)
        return;
    cr_lru_clear(&c->lru, drop);
    cr_lru_destroy(&c->lru);
    while (c->flights) {   /* none in flight once the configuration is freed */
        struct flight *f = c->flights;
        c->flights = f->next;
        free(f);
    }
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static struct entry *find(struct cr_ocsp_cache *c, const unsigned char key[32])
{
    uint64_t h = key_hash(key);
    for (struct cr_lru_node *n = cr_lru_bucket(&c->lru, h); n; n = n->chain) {
        struct entry *e = CR_LRU_ENTRY(n, struct entry, node);
        if (n->hash == h && memcmp(e->key, key, 32) == 0)
            return e;
    }
    return NULL;
}

static struct flight *find_flight(struct cr_ocsp_cache *c, const unsigned char key[32])
{
    for (struct flight *f = c->flights; f; f = f->next)
        if (!f->done && memcmp(f->key, key, 32) == 0)
            return f;
    return NULL;
}

static void unlink_flight(struct cr_ocsp_cache *c, struct flight *f)
{
    for (struct flight **p = &c->flights; *p; p = &(*p)->next)
        if (*p == f) {
            *p = f->next;
            return;
        }
}

int cr_ocsp_cache_get(struct cr_ocsp_cache *c, const unsigned char key[32], time_t now,
                      struct cr_ocsp_answer *ans)
{
    pthread_mutex_lock(&c->mu);
    struct entry *e = find(c, key);
    if (e && e->ans.until > now) {
        cr_lru_touch(&c->lru, &e->node);
        *ans = e->ans;
        pthread_mutex_unlock(&c->mu);
        return 1;
    }
    if (e) {   /* past its nextUpdate: never served again */
        cr_lru_unlink(&c->lru, &e->node);
        free(e);
    }
    struct flight *f = find_flight(c, key);
    if (f) {
        f->refs++;
        while (!f->done)
            pthread_cond_wait(&c->cv, &c->mu);
        *ans = f->ans;
        if (--f->refs == 0)
            free(f);   /* unlinked by cr_ocsp_cache_done */
        pthread_mutex_unlock(&c->mu);
        return 1;
    }
    if (!(f = calloc(1, sizeof *f))) {
        pthread_mutex_unlock(&c->mu);
        return -1;
    }
    memcpy(f->key, key, 32);
    f->refs = 1;   /* the fetching caller's */
    f->next = c->flights;
    c->flights = f;
    pthread_mutex_unlock(&c->mu);
    return 0;
}

static void store(struct cr_ocsp_cache *c, const unsigned char key[32],
                  const struct cr_ocsp_answer *ans)
{
    struct entry *e = find(c, key);
    if (e) {
        e->ans = *ans;
        cr_lru_touch(&c->lru, &e->node);
        return;
    }
    struct cr_lru_node *old = cr_lru_evict(&c->lru);
    if (old)
        drop(old);
    if (!(e = calloc(1, sizeof *e)))
        return;   /* no memory: the next caller asks again */
    memcpy(e->key, key, 32);
    e->ans = *ans;
    e->node.hash = key_hash(key);
    cr_lru_insert(&c->lru, &e->node);
}

void cr_ocsp_cache_done(struct cr_ocsp_cache *c, const unsigned char key[32],
                        const struct cr_ocsp_answer *ans, time_t now)
{
    pthread_mutex_lock(&c->mu);
    if (ans->status >= 0 && ans->until > now)
        store(c, key, ans);
    struct flight *f = find_flight(c, key);
    if (f) {
        f->ans = *ans;
        f->done = 1;
        unlink_flight(c, f);
        if (--f->refs == 0)
            free(f);
        pthread_cond_broadcast(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
}
