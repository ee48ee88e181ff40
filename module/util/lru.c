/* Intrusive hash table + recency list (lru.h). */
#include "lru.h"
#include <stdlib.h>
#include <string.h>

int cr_lru_init(struct cr_lru *l, size_t cap, unsigned shift)
{
    memset(l, 0, sizeof *l);
    size_t nb = 8;
    while (nb < cap * 2 && nb < ((size_t)1 << 30))
        nb <<= 1;
    if (!(l->buckets = calloc(nb, sizeof *l->buckets)))
        return -1;
    l->nbuckets = nb;
    l->shift = shift;
    l->cap = cap;
    return 0;
}

void cr_lru_destroy(struct cr_lru *l)
{
    free(l->buckets);
    l->buckets = NULL;
    l->nbuckets = 0;
}

static struct cr_lru_node **slot(const struct cr_lru *l, uint64_t hash)
{
    return &l->buckets[(hash >> l->shift) & (l->nbuckets - 1)];
}

struct cr_lru_node *cr_lru_bucket(const struct cr_lru *l, uint64_t hash)
{
    return *slot(l, hash);
}

void cr_lru_insert(struct cr_lru *l, struct cr_lru_node *n)
{
    struct cr_lru_node **b = slot(l, n->hash);
    n->chain = *b;
    *b = n;
    n->prev = NULL;
    n->next = l->head;
    if (l->head) l->head->prev = n; else l->tail = n;
    l->head = n;
    l->count++;
}

void cr_lru_unlink(struct cr_lru *l, struct cr_lru_node *n)
{
    struct cr_lru_node **pp = slot(l, n->hash);
    while (*pp && *pp != n)
        pp = &(*pp)->chain;
    if (*pp)
        *pp = n->chain;
    if (n->prev) n->prev->next = n->next; else l->head = n->next;
    if (n->next) n->next->prev = n->prev; else l->tail = n->prev;
    n->chain = n->prev = n->next = NULL;
    l->count--;
}

void cr_lru_touch(struct cr_lru *l, struct cr_lru_node *n)
{
    if (l->head == n)
        return;
    n->prev->next = n->next;   /* not the head, so it has a prev */
    if (n->next) n->next->prev = n->prev; else l->tail = n->prev;
    n->prev = NULL;
    n->next = l->head;
    l->head->prev = n;
    l->head = n;
}

struct cr_lru_node *cr_lru_evict(struct cr_lru *l)
{
    struct cr_lru_node *victim = l->count >= l->cap ? l->tail : NULL;
    if (victim)
        cr_lru_unlink(l, victim);
    return victim;
}

void cr_lru_clear(struct cr_lru *l, void (*drop)(struct cr_lru_node *n))
{
    struct cr_lru_node *n = l->head;
    l->head = l->tail = NULL;
    l->count = 0;
    if (l->buckets)
        memset(l->buckets, 0, l->nbuckets * sizeof *l->buckets);
    while (n) {
        struct cr_lru_node *next = n->next;
        drop(n);
        n = next;
    }
}
