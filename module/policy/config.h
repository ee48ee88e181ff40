/* One immutable configuration: everything a policy file describes, built
 * whole by certrole_open/certrole_reload and swapped in atomically.
 * Readers hold a reference for the duration of one call (or of a result). */
#ifndef CR_CONFIG_H
#define CR_CONFIG_H
#include <stdatomic.h>
#include <time.h>
#include "trust.h"
#include "stack.h"
#include "log.h"
#include "decision.h"

struct cr_cache;   /* cache.h */
struct cr_watch;   /* files whose change triggers reload_if_changed */
struct cr_policy;  /* policy.h */

struct cr_config {
    atomic_long refs;
    struct cr_trust *trust;
    struct cr_stack *stack;
    struct cr_decision *decision; /* rules, audit flag: what results keep */
    struct cr_cache *cache;      /* NULL when caching is off */
    struct cr_watch *watch;
    long cache_ttl;              /* seconds an allow may be served from cache */
    long deny_ttl;               /* seconds a deny may be (short; 0 = never) */
    size_t cache_size;           /* max entries */
    long refresh;                /* seconds between checks for changed files; 0 = off */
    size_t cache_shared;         /* option cache-shared: bytes; 0 = off */
    int have_tag;                /* shared_tag computed */
    unsigned char shared_tag[32]; /* what this configuration was built from
                                  * (cache_shared.h): policy and file identities */
    /* The context's sink when this configuration was built; realms log
     * through it, so it lives as long as they do (even past close). */
    struct cr_log log;
};

/* Defaults of the 'option' keys. */
#define CR_DEFAULT_CACHE_TTL 300
#define CR_DEFAULT_DENY_TTL 0
#define CR_DEFAULT_CACHE_SIZE 10000
#define CR_DEFAULT_REFRESH 60

/* Builds a configuration from a parsed policy: trust profile, realms
 * (opened), rules, cache, watch list. On failure returns the code and
 * *err (malloc'd) "file:line:column: message"; nothing is left open. */
certrole_code cr_config_build(const struct cr_policy *p, const struct cr_log *log,
                              struct cr_config **out, char **err);

/* 1 when a watched file (policy, include, CA, CRL, realm file) changed
 * its mtime, size or inode, or appeared/disappeared, since the build.
 * A file this process cannot stat for another reason than its absence
 * (EACCES: a worker running as another user) counts as unchanged. */
int cr_config_changed(const struct cr_config *c);

/* The first watched file this process cannot stat for another reason
 * than its absence, or NULL: changes to it are not seen here. */
const char *cr_config_unseen(const struct cr_config *c);

/* 0 while a watched file was modified less than quiet seconds before now
 * (a writer may not be done with it), else 1. */
int cr_config_settled(const struct cr_config *c, time_t now, long quiet);

void cr_config_ref(struct cr_config *c);
void cr_config_unref(struct cr_config *c);   /* frees at zero */
#endif
