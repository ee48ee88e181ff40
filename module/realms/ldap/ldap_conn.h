/* Connections to the directory: URIs tried in order (failover), TLS
 * (ldaps:// or StartTLS, verified against tls-ca-file), simple, anonymous
 * or SASL EXTERNAL bind, every step bounded by network-timeout (connect,
 * TLS handshake) and timeout (each request). Connections are kept in a
 * pool and reused across lookups and threads; one is used by one thread
 * at a time. A connection that failed is closed, never handed out again.
 * Thread-safe (a mutex guards the idle list; connecting happens outside
 * it). */
#ifndef CR_LDAP_CONN_H
#define CR_LDAP_CONN_H
#include <ldap.h>
#include "ldap_config.h"
#include "ldap_outcome.h"

struct cr_ldap_watchdog;

struct cr_ldap_conn {
    LDAP *ld;
    struct ldap_conncb connect_cb;  /* tells the watchdog the socket */
    struct cr_ldap_watchdog *wd;    /* armed while connecting only */
    int wd_restart_ms;              /* handshake budget once TCP is up */
    size_t uri;                     /* index in config->uris */
    int reused;                     /* came from the idle list */
    int broken;                     /* set on a transport/protocol failure */
    int last_rc;                    /* last LDAP result code seen */
    struct cr_ldap_conn *next;      /* idle list */
};

struct cr_ldap_pool;

/* The pool reads config (URIs, TLS, bind, timeouts, pool-size) when it
 * connects; config must outlive it. NULL on no memory. */
struct cr_ldap_pool *cr_ldap_pool_new(const struct cr_ldap_config *config);
/* Closes every idle connection and frees the pool (none may be out). */
void cr_ldap_pool_free(struct cr_ldap_pool *p);
/* Closes idle connections (reload: new password, CA file). */
void cr_ldap_pool_drain(struct cr_ldap_pool *p);

/* A connected, bound connection: an idle one, or a new one made by trying
 * each URI in order. On failure NULL, and o->message lists each URI with
 * its error ("ldap://h:1: Can't contact LDAP server; ..."). */
struct cr_ldap_conn *cr_ldap_pool_get(struct cr_ldap_pool *p,
                                      struct cr_ldap_outcome *o);
/* Gives a connection back: kept if healthy and the idle list has room,
 * closed if conn->broken. */
void cr_ldap_pool_put(struct cr_ldap_pool *p, struct cr_ldap_conn *conn);

const char *cr_ldap_conn_uri(const struct cr_ldap_pool *p,
                             const struct cr_ldap_conn *conn);

/* Synchronous search bounded by the timeout (sent to the server as the
 * time limit too). Returns the LDAP result code; *res (always to be
 * freed with ldap_msgfree, may be NULL) holds the entries. Marks the
 * connection broken on transport errors. */
int cr_ldap_conn_search(struct cr_ldap_pool *p, struct cr_ldap_conn *conn,
                        const char *base, int scope, const char *filter,
                        char **attrs, int sizelimit, LDAPMessage **res);

/* Writes "URI: what: LDAP error (server's diagnostic)" into o->message. */
void cr_ldap_conn_error(struct cr_ldap_pool *p, struct cr_ldap_conn *conn,
                        int rc, const char *what, struct cr_ldap_outcome *o);
#endif
