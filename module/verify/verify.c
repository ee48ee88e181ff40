/* cr_verify: the one path every certrole_verify_* call takes (verify.h).
 * cache → trust (OpenSSL path validation) → identity → realm stack →
 * result, plus one audit line per decision. */
#define _GNU_SOURCE
#include "verify.h"
#include "cache.h"
#include "cache_shared.h"
#include "config.h"
#include "ctx.h"
#include "errors.h"
#include "identity.h"
#include "refresh.h"
#include "log.h"
#include "result.h"
#include "stack.h"
#include "trust.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One audit line per decision, formatted and escaped by log.c. */
static void audit(certrole_ctx *ctx, const certrole_result *r)
{
    cr_result_audit(&ctx->log, r, r->code, NULL, NULL, NULL);
}

/* Moves the realm outcome into the result. */
static void take_outcome(certrole_result *r, struct cr_stack_outcome *o)
{
    r->user = o->user;
    r->realm = o->realm;
    r->roles = o->roles;
    r->n_roles = o->n_roles;
    o->user = o->realm = NULL;
    o->roles = NULL;
    o->n_roles = 0;
}

/* "<message>; <note>", keeping the code and hint. */
static void add_note(certrole_result *r, const char *note)
{
    char *m = NULL;
    if (!note || asprintf(&m, "%s; %s", r->message ? r->message : certrole_strerror(r->code),
                 note) < 0)
        return; /* none, or no memory: the decision and its own message stand */
    free(r->message);
    r->message = m;
}

/* Upper bound of a cached denial, seconds (option deny-ttl is clamped). */
#define CR_MAX_DENY_TTL 60

static int config_changed(const void *cfg)
{
    return cr_config_changed(cfg);
}

/* Until when may r be served from the cache? 0 = not at all. */
static time_t cache_until(const struct cr_config *cfg, const certrole_result *r,
                          const struct cr_verified *v, time_t now)
{
    time_t until;
    switch (r->code) {
    case CERTROLE_OK:
        if (cfg->cache_ttl <= 0)
            return 0;
        until = now + cfg->cache_ttl;
        break;
    case CERTROLE_E_REALM_UNAVAILABLE:   /* transient: retry next time */
    case CERTROLE_E_OCSP_UNAVAILABLE:
    case CERTROLE_E_NO_MEMORY:
    case CERTROLE_E_INTERNAL:
    case CERTROLE_E_INVALID_ARGUMENT:
        return 0;
    default:
        if (cfg->deny_ttl <= 0)
            return 0;
        /* Denials only briefly: a fixed CRL, realm or clock must be seen
         * soon, whatever deny-ttl says. */
        until = now + (cfg->deny_ttl < CR_MAX_DENY_TTL ? cfg->deny_ttl : CR_MAX_DENY_TTL);
        break;
    }
    if (v->not_after_min && v->not_after_min < until)
        until = v->not_after_min;
    /* An answer that rests on OCSP lasts no longer than the OCSP answers. */
    if (v->ocsp_until && v->ocsp_until < until)
        until = v->ocsp_until;
    time_t crl = cr_trust_crl_next_update(cfg->trust);
    if (crl && crl < until)
        until = crl;
    return until;
}

/* What cr_verify learnt from the cache on its way in. */
struct lookup {
    struct cr_config *cfg;   /* referenced on a miss */
    cr_cache_key key;        /* key.n 0: not cacheable */
    time_t now;
    int use_cache;
    unsigned slot;           /* the reader slot: where this call counts */
    int shared;              /* skey is set: store there too */
    unsigned char skey[CR_SHCACHE_KEY];
};

/* Looks the chain up in the cache. The cache is consulted inside the
 * ctx's reader slot, without a reference on the configuration: a swap
 * (which retires the old cache) cannot happen meanwhile, and a hit holds
 * what it needs through the result. Only a miss, the slow path, takes a
 * reference: a shared counter touched by every call would stop the
 * cached path from scaling across cores. Returns 1 with *res a hit's
 * view (NULL when out of memory), 0 on a miss (l->cfg referenced), -1
 * when the ctx has no configuration. */
static int lookup(certrole_ctx *ctx, X509 *leaf, STACK_OF(X509) *untrusted, int cacheable,
                  struct lookup *l, certrole_result **res)
{
    struct cr_ctx_reader rd;
    int went_stale = 0;
    struct cr_config *cfg = cr_ctx_enter(ctx, &rd);
    l->slot = rd.slot;
    if (!cfg) {
        cr_ctx_leave(&rd);
        return -1;
    }
    /* Changed files are applied by a thread of this process, started
     * here rather than at open so that it exists after a fork. */
    if (cfg->refresh > 0)
        cr_refresh_start(ctx);
    certrole_result *hit = NULL;
    if (cacheable && cfg->cache) {
        l->now = time(NULL);
        l->use_cache = cr_cache_usable(cfg->cache, l->now, config_changed, cfg, &went_stale);
        /* A hit is shared and immutable: nothing below may write to it. */
        if (l->use_cache && cr_cache_key_init(&l->key, leaf, untrusted) == 0)
            hit = cr_cache_get(cfg->cache, &l->key, l->now);
    }
    if (hit) {
        cr_ctx_leave(&rd);
        /* The caller gets its own view, so per-caller fields (the peer's
         * address) never reach the shared result. */
        if (!(*res = cr_result_view(hit)))
            cr_result_release(hit);
        return 1;
    }
    cr_config_ref(cfg);
    cr_ctx_leave(&rd);
    l->cfg = cfg;
    if (went_stale)
        cr_log_write(&cfg->log, CERTROLE_LOG_WARNING,
                     "a CA, CRL, policy or realm file changed: verification cache off"
                     " until the policy is reloaded");
    return 0;
}

/* Judges a decoded leaf into r: identity, path validation, the anchor's
 * name, the realm stack. Returns 1 when r may be cached, 0 when not. */
static int judge(certrole_ctx *ctx, struct cr_config *cfg, certrole_result *r, X509 *leaf,
                 STACK_OF(X509) *untrusted, struct cr_verified *v, char **idmsg, char **idhint)
{
    certrole_code idrc = cr_identity_from_leaf(&r->id, leaf, idmsg, idhint);
    r->have_id = 1;
    certrole_code trc = cr_trust_verify(cfg->trust, leaf, untrusted, v);
    if (trc != CERTROLE_OK) {
        cr_result_set(r, trc, v->message, v->hint);
        return 1;
    }
    r->depth = v->depth;
    certrole_code arc = v->chain && v->depth > 0
        ? cr_identity_set_anchor(&r->id, sk_X509_value(v->chain, v->depth - 1)) : CERTROLE_OK;
    if (arc != CERTROLE_OK) {
        /* Pass the real cause on: realms bind entries to the anchor's name,
         * so one that cannot be read is a refusal (bad_name), not no_memory. */
        cr_result_set(r, arc, arc == CERTROLE_E_BAD_NAME
                      ? "the trust anchor's subject name cannot be rendered as an RFC 4514 "
                        "name (NUL byte or undecodable value)" : NULL, NULL);
        return 0;
    }
    if (idrc != CERTROLE_OK) {
        cr_result_set(r, idrc, *idmsg, *idhint);
        return 1;
    }
    struct cr_stack_outcome o;
    memset(&o, 0, sizeof o);
    certrole_code src = cfg->stack ? cr_stack_run(cfg->stack, &r->id, &ctx->log, &o) : CERTROLE_OK;
    take_outcome(r, &o);
    if (src == CERTROLE_OK)
        cr_result_set(r, CERTROLE_OK, "certificate chain is valid and the peer is known", "");
    else
        cr_result_set(r, src, o.message, NULL);
    cr_stack_outcome_clear(&o);
    return 1;
}

/* After a local miss: the cache shared with the server's other processes
 * (cache_shared.h), when this configuration uses it. A hit is stored in
 * the local cache too and returned (the caller's); NULL on a miss. */
static certrole_result *shared_get(certrole_ctx *ctx, struct cr_config *cfg, struct lookup *l,
                                   X509 *leaf, STACK_OF(X509) *untrusted)
{
    if (!ctx->shcache || !cfg->cache_shared || !cfg->have_tag || !l->use_cache || !l->key.n ||
        cr_shcache_key(l->skey, cfg->shared_tag, leaf, untrusted) != 0)
        return NULL;
    l->shared = 1;
    time_t until = 0;
    certrole_result *r = cr_shcache_get(ctx->shcache, l->skey, l->now, cfg->decision, leaf, &until);
    atomic_fetch_add_explicit(r ? &ctx->stats.shared_hits : &ctx->stats.shared_misses, 1,
                              memory_order_relaxed);
    if (r)
        cr_cache_put(cfg->cache, &l->key, r, until, l->now);
    return r;
}

/* A refusal decided before any verification: the input could not be
 * decoded into a leaf. The identity, even partial, explains it. */
static void refuse_input(certrole_result *r, X509 *leaf, certrole_code input_code,
                         const char *input_msg, const char *input_hint, char **idmsg,
                         char **idhint)
{
    if (leaf) {
        (void)cr_identity_from_leaf(&r->id, leaf, idmsg, idhint);
        r->have_id = 1;
    }
    if (input_code == CERTROLE_OK)
        input_code = CERTROLE_E_NO_CERTIFICATE;
    cr_result_set(r, input_code, input_msg, input_hint);
}

certrole_code cr_verify(certrole_ctx *ctx, X509 *leaf, STACK_OF(X509) *untrusted,
                        certrole_code input_code, const char *input_msg,
                        const char *input_hint, certrole_result **res)
{
    if (!res)
        return CERTROLE_E_INVALID_ARGUMENT;
    *res = NULL;
    if (!ctx)
        return CERTROLE_E_INVALID_ARGUMENT;
    /* field by field: zeroing the key buffer too costs the cached path */
    struct lookup l;
    l.cfg = NULL;
    l.key.n = 0;
    l.now = 0;
    l.use_cache = l.shared = 0;
    l.slot = 0;
    int decoded = input_code == CERTROLE_OK && leaf;
    int found = lookup(ctx, leaf, untrusted, decoded && !input_msg, &l, res);
    if (found < 0)
        return CERTROLE_E_INTERNAL;
    if (found > 0) {
        if (!*res)
            return CERTROLE_E_NO_MEMORY;
        cr_stats_decision(&ctx->stats, l.slot, CR_STATS_HIT, (*res)->code);
        audit(ctx, *res);
        return (*res)->code;
    }
    struct cr_config *cfg = l.cfg;
    certrole_result *shared = decoded ? shared_get(ctx, cfg, &l, leaf, untrusted) : NULL;
    if (shared) {
        cr_stats_decision(&ctx->stats, l.slot, CR_STATS_HIT, shared->code);
        audit(ctx, shared);
        cr_config_unref(cfg);
        *res = shared;
        return shared->code;
    }
    unsigned long long t0 = cr_stats_now_ns();
    struct cr_verified v;
    memset(&v, 0, sizeof v);
    char *idmsg = NULL, *idhint = NULL;
    certrole_result *r = cr_result_new(cfg->decision);
    if (r && !decoded) {
        refuse_input(r, leaf, input_code, input_msg, input_hint, &idmsg, &idhint);
    } else if (r && judge(ctx, cfg, r, leaf, untrusted, &v, &idmsg, &idhint) &&
               l.use_cache && l.key.n) {
        time_t until = cache_until(cfg, r, &v, l.now);
        if (until > l.now)
            cr_cache_put(cfg->cache, &l.key, r, until, l.now);
        if (until > l.now && l.shared && !cr_cache_is_stale(cfg->cache))
            cr_shcache_put(ctx->shcache, l.skey, r, until, l.now);
    }
    if (r) {
        add_note(r, input_code == CERTROLE_OK ? input_msg : NULL);
        if (r->code == CERTROLE_OK)
            add_note(r, v.note);
        cr_stats_observe(&ctx->stats.verify_latency, cr_stats_now_ns() - t0);
        cr_stats_decision(&ctx->stats, l.slot,
                          l.use_cache && l.key.n ? CR_STATS_MISS : CR_STATS_UNCACHED, r->code);
        audit(ctx, r);
        *res = r;
    }
    free(idmsg);
    free(idhint);
    cr_verified_clear(&v);
    cr_config_unref(cfg);
    return r ? r->code : CERTROLE_E_NO_MEMORY;
}

certrole_code certrole_verify_x509(certrole_ctx *ctx, X509 *leaf,
                                   STACK_OF(X509) *untrusted, certrole_result **res)
{
    if (res)
        *res = NULL;
    if (!ctx || !res)
        return CERTROLE_E_INVALID_ARGUMENT;
    return cr_verify(ctx, leaf, untrusted, CERTROLE_OK, NULL, NULL, res);
}

certrole_code certrole_verify_ssl(certrole_ctx *ctx, const SSL *ssl,
                                  certrole_result **res)
{
    if (res)
        *res = NULL;
    if (!ctx || !ssl || !res)
        return CERTROLE_E_INVALID_ARGUMENT;
    X509 *leaf = SSL_get0_peer_certificate(ssl);
    if (!leaf)
        return cr_verify(ctx, NULL, NULL, CERTROLE_E_NO_CERTIFICATE,
                         "the peer sent no certificate in the TLS handshake", NULL, res);
    /* On a client the peer chain starts with the leaf, on a server it does
     * not (SSL_get_peer_cert_chain(3)): pass the leaf only once, and the
     * intermediates in the order the peer sent them. */
    STACK_OF(X509) *sent = SSL_get_peer_cert_chain(ssl);
    /* A session resumed from a ticket may carry the leaf only; then the
     * chain OpenSSL verified at the full handshake (if it did) is used. */
    int n_other = 0;
    for (int i = 0; i < sk_X509_num(sent); i++)
        if (X509_cmp(sk_X509_value(sent, i), leaf) != 0)
            n_other++;
    if (n_other == 0 && sk_X509_num(SSL_get0_verified_chain(ssl)) > 1)
        sent = SSL_get0_verified_chain(ssl);
    STACK_OF(X509) *untrusted = sent;
    int has_leaf = 0;
    for (int i = 0; i < sk_X509_num(sent); i++)
        if (X509_cmp(sk_X509_value(sent, i), leaf) == 0) {
            has_leaf = 1;
            break;
        }
    if (has_leaf) {
        if (!(untrusted = sk_X509_new_null()))
            return CERTROLE_E_NO_MEMORY;
        for (int i = 0; i < sk_X509_num(sent); i++) {
            X509 *x = sk_X509_value(sent, i);
            if (X509_cmp(x, leaf) != 0 && !sk_X509_push(untrusted, x)) {
                sk_X509_free(untrusted);
                return CERTROLE_E_NO_MEMORY;
            }
        }
    }
    certrole_code rc = cr_verify(ctx, leaf, untrusted, CERTROLE_OK, NULL, NULL, res);
    if (has_leaf)
        sk_X509_free(untrusted);   /* borrowed pointers: no X509_free */
    return rc;
}
