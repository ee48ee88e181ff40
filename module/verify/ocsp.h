/* OCSP checking of a validated chain (ocsp.c) and the answer cache it
 * consults first (ocsp_cache.c). Built with the trust profile, one per
 * configuration; cr_ocsp_check is thread-safe. */
#ifndef CR_OCSP_H
#define CR_OCSP_H
#include <stddef.h>
#include <time.h>
#include <openssl/x509.h>
#include "certrole.h"

enum cr_ocsp_mode { CR_OCSP_OFF = 0, CR_OCSP_LEAF = 1, CR_OCSP_CHAIN = 2 };
enum cr_ocsp_failure { CR_OCSP_FAIL_DENY = 0, CR_OCSP_FAIL_CRL = 1, CR_OCSP_FAIL_ALLOW = 2 };

#define CR_OCSP_DEFAULT_TIMEOUT 5
#define CR_OCSP_DEFAULT_SKEW 300
/* Lifetime of a cached answer without nextUpdate, seconds. */
#define CR_OCSP_NO_NEXT_UPDATE_TTL 60
/* Oldest thisUpdate accepted in an answer without nextUpdate, seconds. */
#define CR_OCSP_NO_NEXT_UPDATE_MAX_AGE 3600
/* Answers kept (distinct certificates). */
#define CR_OCSP_CACHE_SIZE 10000

struct cr_ocsp_opts {
    enum cr_ocsp_mode mode;
    enum cr_ocsp_failure failure;
    char *url;              /* ocsp-url= (owned), NULL: the certificate's AIA */
    int timeout;            /* seconds, whole exchange */
    int nonce;              /* send a nonce (and require it echoed, if echoed) */
    long skew;              /* clock-skew allowance, seconds */
};

/* Parses one ocsp* trust key; 1 if key is not an ocsp key, else a code
 * (CERTROLE_OK, CERTROLE_E_POLICY_ERROR with err, CERTROLE_E_NO_MEMORY). */
int cr_ocsp_opts_set(struct cr_ocsp_opts *o, const char *key, const char *value,
                     char *err, size_t errlen);
void cr_ocsp_opts_defaults(struct cr_ocsp_opts *o);

struct cr_ocsp;

/* The checker: options (copied) and responder trust. 'anchors' supplies the
 * trust anchors a response's signer chains to (its certificates are
 * referenced, its lookup directory 'ca_dir' re-added): the verification
 * store's purpose and CRL flags are for clients, not for responders. */
certrole_code cr_ocsp_new(const struct cr_ocsp_opts *o, X509_STORE *anchors,
                          const char *ca_dir, struct cr_ocsp **out, char *err, size_t errlen);
void cr_ocsp_free(struct cr_ocsp *c);
enum cr_ocsp_failure cr_ocsp_failure_mode(const struct cr_ocsp *c);

/* Outcome of checking one chain. Strings malloc'd (NULL when none). */
struct cr_ocsp_outcome {
    certrole_code code;     /* OK, REVOKED, OCSP_UNAVAILABLE, NO_MEMORY */
    char *message, *hint;   /* for a refusal */
    char *note;             /* for an OK reached through ocsp-failure= */
    time_t until;           /* answers valid until (0: unbounded, i.e. no OCSP) */
};

/* Checks chain (leaf..anchor, validated) per the mode: the leaf, or every
 * certificate but the anchor. */
void cr_ocsp_check(struct cr_ocsp *c, STACK_OF(X509) *chain, struct cr_ocsp_outcome *out);
void cr_ocsp_outcome_clear(struct cr_ocsp_outcome *o);

/* ----- the answer cache (ocsp_cache.c) ----------------------------------- */

/* Why there is no usable answer: picks the hint. */
enum cr_ocsp_why {
    CR_OCSP_WHY_INTERNAL = 0, CR_OCSP_WHY_NO_URL, CR_OCSP_WHY_CONNECT, CR_OCSP_WHY_TIMEOUT,
    CR_OCSP_WHY_NOT_OCSP, CR_OCSP_WHY_STATUS, CR_OCSP_WHY_SIGNER, CR_OCSP_WHY_OTHER_CERT,
    CR_OCSP_WHY_STALE, CR_OCSP_WHY_NONCE, CR_OCSP_WHY_UNKNOWN
};

/* One usable answer (status from the responder), or a failure. */
struct cr_ocsp_answer {
    int status;             /* V_OCSP_CERTSTATUS_*, or -1: no usable answer */
    enum cr_ocsp_why why;   /* for status -1 */
    int reason;             /* revocation reason (OCSP_REVOKED_STATUS_*), -1 none */
    time_t revoked_at;
    time_t until;           /* cache lifetime: nextUpdate, or a short fixed one */
    char url[256];          /* responder asked */
    char msg[512];          /* for status -1: what failed */
};

struct cr_ocsp_cache;
struct cr_ocsp_cache *cr_ocsp_cache_new(size_t cap);
void cr_ocsp_cache_free(struct cr_ocsp_cache *c);

/* Looks up key (32 bytes). Returns 1 with *ans set when a current answer
 * is cached, or when another thread's fetch for the same key was in
 * flight (its outcome, usable or not); 0 when the caller must fetch and
 * then call cr_ocsp_cache_done with the same key; -1 on no memory. */
int cr_ocsp_cache_get(struct cr_ocsp_cache *c, const unsigned char key[32], time_t now,
                      struct cr_ocsp_answer *ans);
/* Ends the caller's fetch: stores a usable answer (until > now) and wakes
 * the callers waiting on it. */
void cr_ocsp_cache_done(struct cr_ocsp_cache *c, const unsigned char key[32],
                        const struct cr_ocsp_answer *ans, time_t now);

/* Fetches and checks one certificate's answer (ocsp.c). */
struct cr_ocsp_query {
    X509 *cert, *issuer;
    const char *url;        /* responder */
    int timeout, nonce;
    long skew;
    X509_STORE *store;      /* responder trust */
    STACK_OF(X509) *chain;  /* validated chain: helps build the signer's */
};
void cr_ocsp_fetch(const struct cr_ocsp_query *q, struct cr_ocsp_answer *ans);
#endif
