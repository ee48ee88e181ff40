/* What a result needs from the configuration that decided it: the access
 * rules certrole_authorize judges it by, whether decisions are audited,
 * and the log sink. Reference-counted and immutable once built, so a
 * result (and a cache entry holding one) keeps only this alive, not the
 * configuration that owns the cache: no reference cycle. */
#ifndef CR_DECISION_H
#define CR_DECISION_H
#include <stdatomic.h>
#include "log.h"

struct cr_rules;   /* authorize.h */

struct cr_decision {
    atomic_long refs;
    struct cr_rules *rules;   /* owned */
    int audit;                /* option audit=yes|no (default yes) */
    struct cr_log log;        /* the context's sink (certrole_set_log updates it) */
};

/* New, one reference, empty rules, audit on; NULL on no memory. */
struct cr_decision *cr_decision_new(const struct cr_log *log);
struct cr_decision *cr_decision_ref(struct cr_decision *d);   /* returns d */
void cr_decision_unref(struct cr_decision *d);                /* frees at zero */
#endif
