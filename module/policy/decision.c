/* The decision object (decision.h). */
#include "decision.h"
#include <stdlib.h>
#include "authorize.h"

struct cr_decision *cr_decision_new(const struct cr_log *log)
{
    struct cr_decision *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    if (!(d->rules = cr_rules_new())) {
        free(d);
        return NULL;
    }
    atomic_init(&d->refs, 1);
    d->audit = 1;
    if (log)
        d->log = *log;
    return d;
}

struct cr_decision *cr_decision_ref(struct cr_decision *d)
{
    if (d)
        atomic_fetch_add_explicit(&d->refs, 1, memory_order_relaxed);
    return d;
}

void cr_decision_unref(struct cr_decision *d)
{
    if (!d || atomic_fetch_sub_explicit(&d->refs, 1, memory_order_acq_rel) != 1)
        return;
    cr_rules_free(d->rules);
    free(d);
}
