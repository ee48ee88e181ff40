/* Positive and negative answers of the directory, keyed by the leaf's
 * SHA-256 fingerprint, each with its own expiry. Bounded: when full the
 * least recently used entry goes. Sharded by key so that threads looking
 * up different peers do not wait on one lock. Thread-safe. */
#ifndef CR_LDAP_CACHE_H
#define CR_LDAP_CACHE_H
#include <stddef.h>
#include "ldap_outcome.h"

struct cr_ldap_cache;

/* capacity 0 gives a cache that stores nothing. NULL on no memory. */
struct cr_ldap_cache *cr_ldap_cache_new(size_t capacity);
void cr_ldap_cache_free(struct cr_ldap_cache *c);

/* 1 and a deep copy in *out (caller clears it) on a live hit; 0 on a
 * miss, an expired entry, or no memory. */
int cr_ldap_cache_get(struct cr_ldap_cache *c, const char *key,
                      struct cr_ldap_outcome *out);
/* Stores a copy for ttl seconds (ttl <= 0: not stored). */
void cr_ldap_cache_put(struct cr_ldap_cache *c, const char *key,
                       const struct cr_ldap_outcome *o, int ttl);
/* Drops every entry (reload). */
void cr_ldap_cache_clear(struct cr_ldap_cache *c);
#endif
