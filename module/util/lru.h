/* An intrusive hash table with a recency list: the shard of the
 * verification cache (cache.c) and of the ldap realm's answer cache
 * (realms/ldap/ldap_cache.c). An entry embeds a struct cr_lru_node and
 * sets its hash; the table never allocates or frees entries, so each
 * cache keeps its own key comparison and freeing. Not thread-safe: the
 * owner holds its shard's lock around every call. */
#ifndef CR_LRU_H
#define CR_LRU_H
#include <stddef.h>
#include <stdint.h>

struct cr_lru_node {
    struct cr_lru_node *chain;          /* bucket chain */
    struct cr_lru_node *prev, *next;    /* recency: head is the newest */
    uint64_t hash;
};

struct cr_lru {
    struct cr_lru_node **buckets;
    size_t nbuckets;                    /* power of two */
    unsigned shift;                     /* hash bits the owner used to pick the shard */
    struct cr_lru_node *head, *tail;
    size_t count, cap;
};

/* The entry of type 'type' whose member 'member' is node n. */
#define CR_LRU_ENTRY(n, type, member) ((type *)(void *)((char *)(n) - offsetof(type, member)))

/* An empty table for at most cap entries (buckets: about twice that);
 * the bucket index skips the low 'shift' bits of the hash. 0, or -1 on
 * no memory. */
int cr_lru_init(struct cr_lru *l, size_t cap, unsigned shift);
/* Frees the buckets; take the entries out first (cr_lru_take_all). */
void cr_lru_destroy(struct cr_lru *l);

/* The first node of hash's bucket (walk ->chain, compare ->hash). */
struct cr_lru_node *cr_lru_bucket(const struct cr_lru *l, uint64_t hash);
/* Adds n (n->hash set) as the newest entry. */
void cr_lru_insert(struct cr_lru *l, struct cr_lru_node *n);
/* Removes n from its bucket and the recency list. */
void cr_lru_unlink(struct cr_lru *l, struct cr_lru_node *n);
/* Makes n the newest entry. */
void cr_lru_touch(struct cr_lru *l, struct cr_lru_node *n);
/* When the table is full, unlinks and returns the oldest entry (the
 * caller frees it); NULL otherwise. */
struct cr_lru_node *cr_lru_evict(struct cr_lru *l);
/* Empties the table, handing every entry to drop (which frees it). */
void cr_lru_clear(struct cr_lru *l, void (*drop)(struct cr_lru_node *n));
#endif
