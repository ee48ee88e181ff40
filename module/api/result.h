/* The result handle: decision, identity, realm outcome. */
#ifndef CR_RESULT_H
#define CR_RESULT_H
#include <stdatomic.h>
#include "certrole.h"
#include "identity.h"
#include "config.h"

struct certrole_result {
    certrole_code code;
    char *message;               /* never NULL once built */
    char *hint;                  /* "" when allowed */
    struct certrole_identity id; /* fields NULL when no leaf decoded */
    int have_id;
    int depth;
    char *user, *realm;
    char **roles; size_t n_roles;
    int cached;
    struct cr_config *cfg;       /* reference: the configuration that decided */
    /* A shared result (cr_result_share, the cache's) is immutable and
     * reference-counted: the cache entry and every caller served from it
     * hold one reference each, so a hit copies nothing and touches no
     * counter of the configuration. The result holds one reference on
     * cfg for all of them, given back by the last. That makes a cycle
     * (cfg -> cache -> result -> cfg), broken by retiring the cache
     * before the ctx drops the configuration (cr_cache_retire). */
    int shared;
    atomic_int refs;             /* shared results only */
    /* Per-caller: the peer's address (certrole_result_set_peer), never
     * cached. A cache hit hands the caller a view: a private shallow copy
     * whose fields borrow the shared result's, which base holds. */
    char *peer;
    certrole_result *base;       /* a view's shared result, else NULL */
};

/* New zeroed result holding a reference on cfg (may be NULL). */
certrole_result *cr_result_new(struct cr_config *cfg);
/* Sets code/message/hint (copies; NULL message = certrole_strerror). */
void cr_result_set(certrole_result *r, certrole_code code, const char *message,
                   const char *hint);
/* Deep copy; NULL on no memory. Never shared, even when r is. */
certrole_result *cr_result_dup(const certrole_result *r);

/* A shared, immutable deep copy of r marked cached, with one reference
 * (the caller's, e.g. a cache entry's) and its own reference on r's cfg;
 * NULL on no memory. Nothing may write to it afterwards. */
certrole_result *cr_result_share(const certrole_result *r);
/* Another reference on a shared result for a caller (certrole_result_free
 * gives it back). Returns s. */
certrole_result *cr_result_hold(certrole_result *s);
/* Drops a reference on a shared result; the last also drops its cfg. */
void cr_result_release(certrole_result *s);
/* A private view of shared result s, taking over the caller's reference
 * on s (given back by certrole_result_free). Touches no shared counter.
 * NULL on no memory (s then still holds the caller's reference). */
certrole_result *cr_result_view(certrole_result *s);
#endif
