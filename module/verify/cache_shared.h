/* The verification cache shared by the processes of one server
 * (option cache-shared=SIZE). A server opens its policy in the parent
 * and forks its workers after: an anonymous MAP_SHARED mapping made at
 * open is inherited by every worker, so a client whose next connection
 * lands on another worker is not verified again. The mapping belongs to
 * the ctx and outlives its reloads; every configuration tags its entries
 * with a digest of what it was built from (cr_config.shared_tag), so an
 * entry is only ever served to a configuration built from the same policy
 * and the same CA, CRL and realm files.
 *
 * Keyed by SHA-256 over the tag and the chain as received (each
 * certificate's DER, with its length, leaf first). The local cache
 * (cache.h) buckets by a fast keyed hash that is not collision resistant
 * and therefore compares every certificate in full; here the digest is
 * collision resistant, and finding two chains with one key is finding a
 * SHA-256 collision, the very assumption every SHA-256 certificate
 * signature the chain is verified by already rests on. Storing the DER
 * instead would cost several kilobytes a slot for no stronger guarantee.
 *
 * The value is what rebuilds the result without verifying: code,
 * message, hint, depth, user, realm, roles, the anchor's name and the
 * expiry. Fields derived from the leaf (subject, SANs, ...) are computed
 * again from the leaf the caller holds.
 *
 * Crash safety: the table is striped into shards, each behind a robust,
 * process-shared mutex. A process that dies holding one (SIGKILL in mid
 * update) leaves the next locker EOWNERDEAD: that shard is emptied and
 * the mutex made consistent. Readers copy an entry out under the lock
 * and check its lengths and checksum before use: anything odd is a miss,
 * never an answer. Thread- and process-safe. */
#ifndef CR_CACHE_SHARED_H
#define CR_CACHE_SHARED_H
#include <stddef.h>
#include <time.h>
#include <sys/types.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include "certrole.h"

struct cr_shcache;
struct cr_decision;
struct cr_policy;

#define CR_SHCACHE_KEY 32
#define CR_SHCACHE_MIN (64UL * 1024)
#define CR_SHCACHE_MAX (1024UL * 1024 * 1024)

/* Parses SIZE: a whole number of bytes, optionally followed by k or m
 * (KiB, MiB); 0, or CR_SHCACHE_MIN..CR_SHCACHE_MAX. 0 on success, -1 when
 * malformed or out of range. */
int cr_shcache_parse_size(const char *s, size_t *out);

/* A table of about 'bytes' bytes in a fresh shared anonymous mapping;
 * NULL when bytes is 0 or the mapping cannot be made. The process that
 * frees it unmaps its own view only. */
struct cr_shcache *cr_shcache_new(size_t bytes);
void cr_shcache_free(struct cr_shcache *sc);

/* The configuration tag: begin hashes the policy's directives (as
 * parsed: file, line, base directory, every argument), file() adds one
 * watched file's identity as recorded at load, end writes the digest
 * and frees the tag (-1 after any failed update: no tag). begin returns
 * NULL when out of memory. Without a tag the configuration does not use
 * the shared cache. */
struct cr_shcache_tag;
struct cr_shcache_tag *cr_shcache_tag_begin(const struct cr_policy *p);
void cr_shcache_tag_file(struct cr_shcache_tag *t, const char *path, int exists, dev_t dev,
                         ino_t ino, off_t size, const struct timespec *mtime);
int cr_shcache_tag_end(struct cr_shcache_tag *t, unsigned char tag[CR_SHCACHE_KEY]);

/* The key of a chain under a tag. 0, or -1 (not cacheable) when a
 * certificate cannot be encoded. */
int cr_shcache_key(unsigned char key[CR_SHCACHE_KEY], const unsigned char tag[CR_SHCACHE_KEY],
                   X509 *leaf, STACK_OF(X509) *untrusted);

/* A new result (the caller's, not shared) for key, rebuilt from the
 * entry and the leaf, holding a reference on dec, marked cached; *until
 * is the entry's expiry. NULL on miss, expiry, a damaged entry or no
 * memory. */
certrole_result *cr_shcache_get(struct cr_shcache *sc, const unsigned char key[CR_SHCACHE_KEY],
                                time_t now, struct cr_decision *dec, X509 *leaf, time_t *until);

/* Stores r under key until 'expires' (ignored if <= now). An entry that
 * does not fit a slot is not stored. Replaces the entry with the same
 * key, else takes a free or expired slot, else the least recently used
 * one of the shard. */
void cr_shcache_put(struct cr_shcache *sc, const unsigned char key[CR_SHCACHE_KEY],
                    const certrole_result *r, time_t expires, time_t now);
/* Empties the whole table, for every process: a reload (certrole_reload)
 * promises fresh answers, also where no file changed (an LDAP group
 * edited), and entries of the same tag would otherwise outlive it. */
void cr_shcache_flush(struct cr_shcache *sc);

#endif
