/* The verification cache of one configuration (dropped with it on reload).
 * Keyed by the exact DER bytes of the chain as the peer sent it (leaf, then
 * the untrusted certificates in the order given); a hit compares the full
 * bytes, never a hash alone. Striped into shards, each with its own mutex,
 * so concurrent callers do not serialise on one lock. Thread-safe. */
#ifndef CR_CACHE_H
#define CR_CACHE_H
#include <stddef.h>
#include <time.h>
#include <openssl/x509.h>
#include "certrole.h"

struct cr_cache;

/* A cache holding at most 'size' entries (LRU eviction per shard).
 * NULL on no memory or size 0. */
struct cr_cache *cr_cache_new(size_t size);
void cr_cache_free(struct cr_cache *c);

/* The lookup key of a chain: DER of leaf, then of each untrusted cert in
 * order, each prefixed by its 4-byte length. Written into buf when it
 * fits (then *key == buf), else into a malloc'd buffer the caller frees
 * when *key != buf. Returns 0, or -1 on encoding failure / no memory. */
int cr_cache_key(X509 *leaf, STACK_OF(X509) *untrusted, unsigned char *buf,
                 size_t buflen, unsigned char **key, size_t *keylen);

/* A copy of the stored result, marked cached, or NULL on miss/expiry.
 * 'now' is time(NULL). The copy holds no configuration reference (the
 * caller attaches one to ->cfg). */
certrole_result *cr_cache_get(struct cr_cache *c, const unsigned char *key,
                              size_t keylen, time_t now);

/* Stores a copy of r (without its configuration reference) until
 * 'expires' (absolute time; ignored if <= now). Replaces an older entry
 * with the same key; evicts the least recently used one when full. */
void cr_cache_put(struct cr_cache *c, const unsigned char *key, size_t keylen,
                  const certrole_result *r, time_t expires, time_t now);

/* Number of live entries (for tests and benchmarks). */
size_t cr_cache_count(struct cr_cache *c);
/* Drops every entry. */
void cr_cache_flush(struct cr_cache *c);
#endif
