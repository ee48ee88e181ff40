/* The file realm's lookup table: identity key -> user and roles.
 *
 * Keys are certrole_dn_key() strings or "sha256:<64 lower hex>". All
 * records live in one growing arena (key, user and roles side by side, so
 * a hit touches one or two cache lines); an open-addressing index of
 * (hash tag, record offset) pairs, power-of-two sized, load <= 1/2, finds
 * them. Several records may share a key when each names a different
 * issuer; cr_table_next walks them.
 *
 * Building is single-threaded; once built the table is read-only and
 * cr_table_find / cr_table_next / accessors are safe from any number of
 * threads. */
#ifndef CR_TABLE_H
#define CR_TABLE_H
#include <stddef.h>
#include <stdint.h>

typedef struct cr_table cr_table;

/* One record, followed in the arena by: key NUL, user NUL (if userlen),
 * then nroles NUL-terminated roles. */
typedef struct cr_trec {
    uint32_t line;      /* source line, for messages */
    uint32_t next;      /* offset of the next record with this key, or 0 */
    uint32_t issuer;    /* offset of the interned issuer key, or 0 */
    uint32_t hlo;       /* low 32 bits of the key's hash */
    uint32_t cond;      /* offset of the interned conditions (file_cond.h), or 0 */
    uint32_t keylen, userlen, nroles, size;
} cr_trec;

enum { CR_TABLE_OK = 0, CR_TABLE_DUP = 1, CR_TABLE_NOMEM = -1, CR_TABLE_TOOBIG = -2 };

/* A new empty table; 'expect' is a hint of the number of entries and
 * 'bytes' of the arena size (0 for none). NULL on no memory. */
cr_table *cr_table_new(size_t expect, size_t bytes);
void cr_table_free(cr_table *t);

/* Number of records. */
size_t cr_table_count(const cr_table *t);

/* Which identity kinds (bit 1 << cr_fkind) the table holds, so a lookup
 * skips the probes no entry could answer. */
void cr_table_add_kinds(cr_table *t, unsigned bits);
unsigned cr_table_kinds(const cr_table *t);

/* Stores an issuer key once (consecutive equal keys share one copy).
 * Returns its offset (> 0) or 0 with *rc set to NOMEM/TOOBIG. */
uint32_t cr_table_intern(cr_table *t, const char *s, size_t len, int *rc);

/* Builds one record: begin, then one cr_table_role per role, then
 * commit. begin/role return CR_TABLE_OK, NOMEM or TOOBIG; after a
 * failure call cr_table_abort (or free the table). commit returns
 * CR_TABLE_OK, or CR_TABLE_DUP with *dup_line the line of the entry it
 * clashes with (same key and the same issuer, or either has none); the
 * record is then discarded. */
int cr_table_begin(cr_table *t, const char *key, size_t keylen, uint32_t issuer,
                   const char *user, size_t userlen, uint32_t line);
int cr_table_role(cr_table *t, const char *role, size_t len);
/* Binds the record under construction to conditions interned with
 * cr_table_intern (offset > 0). */
void cr_table_set_cond(cr_table *t, uint32_t cond);
int cr_table_commit(cr_table *t, uint32_t *dup_line);
void cr_table_abort(cr_table *t);

/* The hash cr_table_commit uses; a loader may compute it in advance (in
 * another thread), pass it to cr_table_commit_hashed, and cr_table_prefetch
 * the slot a few entries ahead so inserting does not wait on memory. */
uint64_t cr_table_hash(const char *key, size_t len);
int cr_table_commit_hashed(cr_table *t, uint64_t hash, uint32_t *dup_line);
void cr_table_prefetch(const cr_table *t, uint64_t hash);

/* Sizes the index for 'expect' entries in all (only grows). CR_TABLE_OK
 * or NOMEM. */
int cr_table_reserve(cr_table *t, size_t expect);

/* First record with this key, or NULL. */
const cr_trec *cr_table_find(const cr_table *t, const char *key, size_t keylen);
/* Next record with the same key, or NULL. */
const cr_trec *cr_table_next(const cr_table *t, const cr_trec *r);

/* Accessors (pointers into the arena, valid while the table lives). */
const char *cr_trec_key(const cr_trec *r);
const char *cr_trec_user(const cr_trec *r);        /* NULL when none */
const char *cr_trec_roles(const cr_trec *r);       /* first role; next = +strlen+1 */
const char *cr_table_issuer(const cr_table *t, const cr_trec *r); /* NULL when none */
const char *cr_table_cond(const cr_table *t, const cr_trec *r);   /* NULL when none */

/* Large buffers (>= 2 MiB) are mapped directly and marked for transparent
 * huge pages: a million-entry realm is ~100 MB touched at random, and
 * with 4 KiB pages every first touch is a page fault and every lookup a
 * TLB miss. Smaller ones come from malloc. cr_big_alloc zero-fills when
 * 'zero'; sizes must be passed back exactly. NULL on failure. */
void *cr_big_alloc(size_t n, int zero);
void *cr_big_realloc(void *p, size_t old, size_t n);
void cr_big_free(void *p, size_t n);
#endif
