/* The verification cache of one configuration (dropped with it on reload).
 * Keyed by the chain as the peer sent it (leaf, then the untrusted
 * certificates in the order given). Buckets are chosen by a keyed hash of
 * the certificates' signature values (read in place, nothing is encoded);
 * a hit then compares every certificate in full, never a hash alone:
 * X509_cmp (OpenSSL's cached SHA-1 of the whole DER and the to-be-signed
 * DER as received) plus the signature value and algorithm. Entries hold
 * references on the certificates they were stored for; certificates must
 * not be modified in place once passed in (as for OpenSSL's own caches).
 * Striped into shards, each with its own mutex, so concurrent callers do
 * not serialise on one lock. Thread-safe. */
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

/* The lookup key of a chain: the certificates, borrowed. */
typedef struct cr_cache_key {
    X509 *leaf;
    STACK_OF(X509) *untrusted;
    size_t n;                       /* leaf + untrusted; 0 = no key */
} cr_cache_key;

/* Fills k for this chain (the certificates must outlive k). Returns 0, or
 * -1 (k->n = 0: the call is not cached) when a certificate is missing. */
int cr_cache_key_init(cr_cache_key *k, X509 *leaf, STACK_OF(X509) *untrusted);

/* The stored result, shared and immutable (cr_result_hold: marked cached,
 * holding its decision object, freed with certrole_result_free), or NULL
 * on miss/expiry. 'now' is time(NULL). */
certrole_result *cr_cache_get(struct cr_cache *c, const cr_cache_key *k, time_t now);

/* Stores a shared copy of r until 'expires' (absolute time; ignored if
 * <= now). r must come from the configuration owning the cache. Replaces an
 * older entry with the same chain; evicts the least recently used one
 * when full. */
void cr_cache_put(struct cr_cache *c, const cr_cache_key *k, const certrole_result *r,
                  time_t expires, time_t now);

/* Whether the cache may be used at 'now'. At most once a second (one
 * caller wins; the others pass straight on) it asks changed(arg) whether
 * a file the configuration was built from (CA, CRL, policy, realm file)
 * changed; from the first yes on, the cache is flushed and stays off for
 * good, so no stored verdict outlives a CRL (or other) file change: the
 * configuration is stale until the caller reloads, which builds a new
 * cache. Returns 1 when usable; sets *went_stale on the one call that
 * turned it off (to log it once). Lock-free on the hot path. */
int cr_cache_usable(struct cr_cache *c, time_t now, int (*changed)(const void *arg),
                    const void *arg, int *went_stale);

/* Stops the cache for good and empties it (safe while other threads
 * use it): nothing can be stored afterwards. A configuration retires
 * its cache before the ctx lets go of it, which breaks the cycle
 * configuration -> cache -> stored result -> configuration. NULL-safe. */
void cr_cache_retire(struct cr_cache *c);

/* Whether the cache was turned off for good (a watched file changed, or
 * retired); also 1 for NULL. What is not stored here must not be shared
 * with other processes either. */
int cr_cache_is_stale(struct cr_cache *c);

/* Drops every entry. */
void cr_cache_flush(struct cr_cache *c);
#endif
