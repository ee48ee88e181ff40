/* The result handle: decision, identity, realm outcome. */
#ifndef CR_RESULT_H
#define CR_RESULT_H
#include <stdatomic.h>
#include "certrole.h"
#include "identity.h"
#include "decision.h"
#include "strbuf.h"

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
    struct cr_decision *dec;     /* reference: rules and audit flag of the
                                  * configuration that decided (not the
                                  * configuration itself, which owns the
                                  * cache that may hold this result) */
    /* A shared result (cr_result_share, the cache's) is immutable and
     * reference-counted: the cache entry and every caller served from it
     * hold one reference each, so a hit copies nothing and touches no
     * shared counter. The result holds one reference on dec for all of
     * them, given back by the last. */
    int shared;
    atomic_int refs;             /* shared results only */
    /* Per-caller: the peer's address (certrole_result_set_peer), never
     * cached. A cache hit hands the caller a view: a private shallow copy
     * whose fields borrow the shared result's, which base holds. */
    char *peer;
    certrole_result *base;       /* a view's shared result, else NULL */
    /* A shared result's audit line head (cr_log_audit_head), rendered
     * once when audit is on, so a hit does not escape the same names
     * again; NULL otherwise. A view borrows its base's. */
    char *audit_head;
    size_t audit_head_len;
};

/* New zeroed result holding a reference on dec (may be NULL). */
certrole_result *cr_result_new(struct cr_decision *dec);
/* Sets code/message/hint (copies; NULL message = certrole_strerror). */
void cr_result_set(certrole_result *r, certrole_code code, const char *message,
                   const char *hint);
/* Deep copy; NULL on no memory. Never shared, even when r is. */
certrole_result *cr_result_dup(const certrole_result *r);

/* A shared, immutable deep copy of r marked cached, with one reference
 * (the caller's, e.g. a cache entry's) and its own reference on r's dec;
 * NULL on no memory. Nothing may write to it afterwards. */
certrole_result *cr_result_share(const certrole_result *r);
/* Another reference on a shared result for a caller (certrole_result_free
 * gives it back). Returns s. */
certrole_result *cr_result_hold(certrole_result *s);
/* Drops a reference on a shared result; the last also drops its dec. */
void cr_result_release(certrole_result *s);
/* A private view of shared result s, taking over the caller's reference
 * on s (given back by certrole_result_free). Touches no shared counter.
 * NULL on no memory (s then still holds the caller's reference). */
certrole_result *cr_result_view(certrole_result *s);

/* The keys of certrole_result_json after the decision's (ok, decision,
 * code, message, hint): identity, realm outcome, cached; appended to an
 * open JSON object (first as cr_json_key). For callers that report
 * another decision about the same result (certrole check's rules). */
void cr_result_json_fields(cr_strbuf *b, int *first, const certrole_result *r);

/* Writes r's audit line to l unless r's configuration has 'option
 * audit=no'. code is the decision's (for certrole_authorize it may differ
 * from r's); method/path NULL for a verification only; why (NULL: r's
 * message) explains a denial. */
void cr_result_audit(const struct cr_log *l, const certrole_result *r, certrole_code code,
                     const char *method, const char *path, const char *why);
#endif
