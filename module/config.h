/* One immutable configuration: everything a policy file describes, built
 * whole by certrole_open/certrole_reload and swapped in atomically.
 * Readers hold a reference for the duration of one call (or of a result). */
#ifndef CR_CONFIG_H
#define CR_CONFIG_H
#include <stdatomic.h>
#include <time.h>
#include "trust.h"
#include "stack.h"

struct cr_rules;   /* authorize.h */
struct cr_cache;   /* cache.h */
struct cr_watch;   /* files whose change triggers reload_if_changed */

struct cr_config {
    atomic_long refs;
    struct cr_trust *trust;
    struct cr_stack *stack;
    struct cr_rules *rules;
    struct cr_cache *cache;      /* NULL when caching is off */
    struct cr_watch *watch;
    long cache_ttl;              /* seconds an allow may be served from cache */
    long deny_ttl;               /* seconds a deny may be (short; 0 = never) */
    size_t cache_size;           /* max entries */
};

void cr_config_ref(struct cr_config *c);
void cr_config_unref(struct cr_config *c);   /* frees at zero */
#endif
