/* Test access to the shared verification cache (cache_shared.h). Not part
 * of the library's interface: only white-box suites include it. */
#ifndef CR_CACHE_SHARED_TEST_H
#define CR_CACHE_SHARED_TEST_H
#include <stddef.h>
#include "cache_shared.h"

/* hook() is called inside every store's critical section, with the shard
 * locked and the slot half written (a test kills the process there). */
void cr_shcache_set_test_hook(struct cr_shcache *sc, void (*hook)(void));

/* The slot holding key, in the mapping (unlocked; NULL when absent), with
 * the offset and size of its value bytes, for a test to damage it. */
void *cr_shcache_test_slot(struct cr_shcache *sc, const unsigned char key[CR_SHCACHE_KEY],
                           size_t *data_off, size_t *data_cap);

/* Slots in all, and per shard. */
size_t cr_shcache_test_capacity(const struct cr_shcache *sc, size_t *per_shard);

/* decode(): fills r from exactly len bytes of an entry's value; 0, or -1
 * when they are not one well-formed value. */
int cr_shcache_test_decode(certrole_result *r, const unsigned char *data, size_t len);

/* Gives the slot holding key a value of len bytes (written by the test
 * at its data offset) and the checksum a store would: an entry the
 * checksum no longer guards against. 0, or -1 when absent or too long. */
int cr_shcache_test_seal(struct cr_shcache *sc, const unsigned char key[CR_SHCACHE_KEY],
                         size_t len);
#endif
