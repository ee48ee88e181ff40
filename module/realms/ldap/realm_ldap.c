/*
 * The ldap realm: maps a verified certificate to a directory entry and its
 * groups to roles. Its arguments are documented in certrole-realm-ldap(5).
 *
 * A lookup: cache (by SHA-256 fingerprint) -> a pooled connection ->
 * find the one entry -> roles from its attributes and group searches ->
 * cache the answer (not-found and refused for negative-ttl only; backend
 * failures never). Every failure of the directory is UNAVAILABLE, so the
 * core fails closed unless the policy made this realm optional.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "certrole_realm.h"
#include "ldap_cache.h"
#include "ldap_config.h"
#include "ldap_conn.h"
#include "ldap_groups.h"
#include "ldap_search.h"
#include "ldap_sigpipe.h"

struct realm_ldap {
    struct cr_ldap_config config;
    struct cr_ldap_pool *pool;
    struct cr_ldap_cache *cache;
};

static void ldap_realm_close(void *state)
{
    struct realm_ldap *r = state;
    struct cr_ldap_sigpipe sp;
    if (!r)
        return;
    cr_ldap_sigpipe_block(&sp);         /* unbind writes */
    cr_ldap_pool_free(r->pool);
    cr_ldap_sigpipe_restore(&sp);
    cr_ldap_cache_free(r->cache);
    cr_ldap_config_free(&r->config);
    free(r);
}

/* Validates the arguments and prepares the pool; does not contact the
 * directory, so a policy loads while the server is down (lookups then
 * answer UNAVAILABLE until it is back). */
static int ldap_realm_open(void **state, int argc, const char *const *argv,
                           const certrole_realm_env *env, char *err, size_t errlen)
{
    struct realm_ldap *r = calloc(1, sizeof *r);
    *state = NULL;
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (cr_ldap_config_parse(&r->config, argc, argv, env, err, errlen) != 0) {
        ldap_realm_close(r);
        return -1;
    }
    if (!(r->pool = cr_ldap_pool_new(&r->config)) ||
        !(r->cache = cr_ldap_cache_new(r->config.cache_size))) {
        snprintf(err, errlen, "out of memory");
        ldap_realm_close(r);
        return -1;
    }
    *state = r;
    return 0;
}

/* One attempt on one connection. */
static certrole_realm_status resolve(struct realm_ldap *r, struct cr_ldap_conn *conn,
                                     const certrole_identity *id, struct cr_ldap_outcome *o)
{
    struct cr_ldap_entry e;
    certrole_realm_status st = cr_ldap_find_entry(r->pool, conn, &r->config, id, &e, o);
    if (st != CERTROLE_REALM_FOUND)
        return st;
    if (cr_ldap_outcome_set_user(o, e.user) != 0) {
        cr_ldap_outcome_set_message(o, "out of memory");
        st = CERTROLE_REALM_UNAVAILABLE;
    } else {
        st = cr_ldap_collect_roles(r->pool, conn, &r->config, &e, o);
        if (st == CERTROLE_REALM_FOUND)
            cr_ldap_outcome_set_message(o, "%s: %s", cr_ldap_conn_uri(r->pool, conn), e.dn);
    }
    cr_ldap_entry_clear(&e);
    return st;
}

static certrole_realm_status deliver(const struct cr_ldap_outcome *o, certrole_answer *a)
{
    if (o->message)
        certrole_answer_set_message(a, "%s", o->message);
    if (o->status != CERTROLE_REALM_FOUND)
        return o->status;
    if (certrole_answer_set_user(a, o->user) != 0)
        return CERTROLE_REALM_UNAVAILABLE;
    for (size_t i = 0; i < o->n_roles; i++)
        if (certrole_answer_add_role(a, o->roles[i]) != 0)
            return CERTROLE_REALM_UNAVAILABLE;
    return CERTROLE_REALM_FOUND;
}

static certrole_realm_status ldap_realm_lookup(void *state, const certrole_identity *id,
                                               certrole_answer *answer)
{
    struct realm_ldap *r = state;
    struct cr_ldap_outcome o;
    memset(&o, 0, sizeof o);
    const char *fp = certrole_identity_get(id, CERTROLE_ID_FINGERPRINT);
    if (fp && cr_ldap_cache_get(r->cache, fp, &o)) {
        certrole_realm_status st = deliver(&o, answer);
        cr_ldap_outcome_clear(&o);
        return st;
    }
    /* An idle connection may have been closed by the server since its last
     * use (restart, idle timeout): one retry on a fresh connection then.
     * Never after a timeout, which would double the wait. */
    struct cr_ldap_sigpipe sp;
    cr_ldap_sigpipe_block(&sp);
    for (int attempt = 0; attempt < 2; attempt++) {
        cr_ldap_outcome_clear(&o);
        struct cr_ldap_conn *conn = cr_ldap_pool_get(r->pool, &o);
        if (!conn) {
            o.status = CERTROLE_REALM_UNAVAILABLE;
            break;
        }
        o.status = resolve(r, conn, id, &o);
        int stale = o.status == CERTROLE_REALM_UNAVAILABLE && conn->reused &&
                    conn->last_rc == LDAP_SERVER_DOWN;
        if (o.status == CERTROLE_REALM_UNAVAILABLE)
            conn->broken = 1;
        cr_ldap_pool_put(r->pool, conn);
        if (!stale)
            break;
    }
    cr_ldap_sigpipe_restore(&sp);
    if (fp && o.status == CERTROLE_REALM_FOUND)
        cr_ldap_cache_put(r->cache, fp, &o, r->config.cache_ttl);
    else if (fp && o.status != CERTROLE_REALM_UNAVAILABLE)
        cr_ldap_cache_put(r->cache, fp, &o, r->config.negative_ttl);
    certrole_realm_status st = deliver(&o, answer);
    cr_ldap_outcome_clear(&o);
    return st;
}

/* Same arguments, new configuration round: forget every answer, re-read
 * the password and role-map files, and reconnect (a CA or password file
 * may have changed). */
static int ldap_realm_reload(void *state, char *err, size_t errlen)
{
    struct realm_ldap *r = state;
    cr_ldap_cache_clear(r->cache);
    if (cr_ldap_config_reload_files(&r->config, err, errlen) != 0)
        return -1;
    struct cr_ldap_sigpipe sp;
    cr_ldap_sigpipe_block(&sp);
    cr_ldap_pool_drain(r->pool);
    cr_ldap_sigpipe_restore(&sp);
    return 0;
}

CERTROLE_REALM_EXPORT const certrole_realm_ops certrole_realm_v1 = {
    .abi_version = CERTROLE_REALM_ABI_VERSION,
    .name = "ldap",
    .open = ldap_realm_open,
    .lookup = ldap_realm_lookup,
    .close = ldap_realm_close,
    .reload = ldap_realm_reload,
};
