/* Locating the peer's entry (ldap_search.h). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include "ldap_certmap.h"
#include "ldap_dn.h"
#include "ldap_filter.h"
#include "ldap_search.h"

#define CERT_ATTR "userCertificate;binary"

void cr_ldap_entry_clear(struct cr_ldap_entry *e)
{
    if (e->res)
        ldap_msgfree(e->res);
    free(e->dn);
    free(e->user);
    memset(e, 0, sizeof *e);
}

/* Attributes a lookup needs from the entry: the user name, the role
 * attributes and, for map=certificate, the certificate to compare. */
static char **wanted_attrs(const struct cr_ldap_config *c)
{
    size_t n = 0;
    char **a = calloc(c->n_role_attrs + 3, sizeof *a);
    if (!a)
        return NULL;
    if (c->user_attr)
        a[n++] = c->user_attr;
    for (size_t i = 0; i < c->n_role_attrs; i++)
        a[n++] = c->role_attrs[i];
    if (c->map == CR_LDAP_MAP_CERTIFICATE)
        a[n++] = (char *)CERT_ATTR;
    if (n == 0)
        a[n++] = (char *)LDAP_NO_ATTRS;     /* "1.1": the DN only */
    return a;
}

/* For map=certificate: the server matched on issuer and serial
 * (certificateExactMatch); insist on the exact bytes. */
static int holds_certificate(LDAP *ld, LDAPMessage *entry, const unsigned char *der, size_t len)
{
    struct berval **v = ldap_get_values_len(ld, entry, CERT_ATTR);
    int found = 0;
    for (size_t i = 0; v && v[i] && !found; i++)
        found = v[i]->bv_len == len && memcmp(v[i]->bv_val, der, len) == 0;
    ldap_value_free_len(v);
    return found;
}

static char *first_value(LDAP *ld, LDAPMessage *entry, const char *attr)
{
    struct berval **v = ldap_get_values_len(ld, entry, attr);
    char *s = NULL;
    if (v && v[0] && v[0]->bv_len && !memchr(v[0]->bv_val, '\0', v[0]->bv_len))
        s = strndup(v[0]->bv_val, v[0]->bv_len);
    ldap_value_free_len(v);
    return s;
}

/* Search base, scope and filter for the identity; NOT_FOUND (with a
 * message) when the certificate cannot name an entry this way. */
static certrole_realm_status query_for(const struct cr_ldap_config *c,
                                       const certrole_identity *id, char **base,
                                       int *scope, char **filter,
                                       struct cr_ldap_outcome *o)
{
    *base = NULL;
    *filter = NULL;
    if (c->map == CR_LDAP_MAP_DN) {
        const char *subject = certrole_identity_get(id, CERTROLE_ID_SUBJECT);
        char *key = NULL;
        if (!subject || !*subject) {
            cr_ldap_outcome_set_message(o, "the certificate has an empty subject DN");
            return CERTROLE_REALM_NOT_FOUND;
        }
        if (!(*base = cr_ldap_dn_normalize(subject)) || !(key = cr_ldap_dn_key(*base))) {
            free(*base);
            *base = NULL;
            cr_ldap_outcome_set_message(o, "subject \"%s\" is not an LDAP DN", subject);
            return CERTROLE_REALM_NOT_FOUND;
        }
        if (c->base) {
            char *bkey = cr_ldap_dn_key(c->base);
            int under = bkey ? cr_ldap_dn_under(key, bkey) : -1;
            free(bkey);
            if (under != 1) {
                cr_ldap_outcome_set_message(o, "subject \"%s\" is not under base %s", subject, c->base);
                free(key);
                free(*base);
                *base = NULL;
                return CERTROLE_REALM_NOT_FOUND;
            }
        }
        free(key);
        *scope = LDAP_SCOPE_BASE;
        *filter = strdup("(objectClass=*)");
    } else if (c->map == CR_LDAP_MAP_FILTER) {
        const char *missing = NULL;
        *filter = cr_ldap_filter_expand(c->filter, id, &missing);
        if (!*filter && missing) {
            cr_ldap_outcome_set_message(o, "the certificate has no %s for filter %s", missing, c->filter);
            return CERTROLE_REALM_NOT_FOUND;
        }
        *base = strdup(c->base);
        *scope = c->scope;
    } else if (c->map == CR_LDAP_MAP_CERTMAP) {
        certrole_realm_status st = cr_ldap_certmap_filter(c, id, filter, o);
        if (st != CERTROLE_REALM_FOUND)
            return st;
        *base = strdup(c->base);
        *scope = c->scope;
    } else {
        size_t len = 0;
        const unsigned char *der = certrole_identity_der(id, &len);
        const char *serial = certrole_identity_get(id, CERTROLE_ID_SERIAL);
        const char *issuer = certrole_identity_get(id, CERTROLE_ID_ISSUER);
        if (!der || !len || !serial || !issuer) {
            cr_ldap_outcome_set_message(o, "no certificate to look up");
            return CERTROLE_REALM_NOT_FOUND;
        }
        if (!(*filter = cr_ldap_filter_certificate(serial, issuer))) {
            cr_ldap_outcome_set_message(o, "issuer \"%s\" or serial %s cannot be searched for",
                                        issuer, serial);
            return CERTROLE_REALM_NOT_FOUND;
        }
        *base = strdup(c->base);
        *scope = c->scope;
    }
    if (!*base || !*filter) {
        free(*base);
        free(*filter);
        *base = *filter = NULL;
        cr_ldap_outcome_set_message(o, "out of memory");
        return CERTROLE_REALM_UNAVAILABLE;
    }
    return CERTROLE_REALM_FOUND;
}

certrole_realm_status cr_ldap_find_entry(struct cr_ldap_pool *p, struct cr_ldap_conn *conn,
                                         const struct cr_ldap_config *c,
                                         const certrole_identity *id,
                                         struct cr_ldap_entry *e,
                                         struct cr_ldap_outcome *o)
{
    char *base, *filter, **attrs = NULL;
    int scope;
    memset(e, 0, sizeof *e);
    certrole_realm_status st = query_for(c, id, &base, &scope, &filter, o);
    if (st != CERTROLE_REALM_FOUND)
        return st;
    if (!(attrs = wanted_attrs(c))) {
        st = CERTROLE_REALM_UNAVAILABLE;
        cr_ldap_outcome_set_message(o, "out of memory");
        goto out;
    }
    /* Size limit 2: enough to tell "one" from "ambiguous". */
    int rc = cr_ldap_conn_search(p, conn, base, scope, filter, attrs, 2, &e->res);
    if (rc == LDAP_NO_SUCH_OBJECT && c->map == CR_LDAP_MAP_DN) {
        st = CERTROLE_REALM_NOT_FOUND;
        cr_ldap_outcome_set_message(o, "%s: no entry %s", cr_ldap_conn_uri(p, conn), base);
        goto out;
    }
    if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED) {
        st = CERTROLE_REALM_UNAVAILABLE;
        cr_ldap_conn_error(p, conn, rc, rc == LDAP_NO_SUCH_OBJECT ? "base does not exist" : "search", o);
        goto out;
    }
    size_t len = 0, matches = 0;
    const unsigned char *der = c->map == CR_LDAP_MAP_CERTIFICATE ? certrole_identity_der(id, &len) : NULL;
    for (LDAPMessage *m = ldap_first_entry(conn->ld, e->res); m; m = ldap_next_entry(conn->ld, m)) {
        if (der && !holds_certificate(conn->ld, m, der, len))
            continue;
        if (matches++ == 0)
            e->entry = m;
    }
    if (matches <= 1 && cr_ldap_outcome_referral(o, conn->ld, e->res, cr_ldap_conn_uri(p, conn),
                                                 "search", base)) {
        /* One entry here and a referral: the other partition could hold
         * a second match (ambiguous); none here: it could hold the only
         * one (not "not found"). */
        st = CERTROLE_REALM_UNAVAILABLE;
        goto out;
    }
    if (matches == 0) {
        st = CERTROLE_REALM_NOT_FOUND;
        cr_ldap_outcome_set_message(o, "%s: no entry matches %s under %s",
                                    cr_ldap_conn_uri(p, conn),
                                    c->map == CR_LDAP_MAP_CERTIFICATE ? "the certificate" : filter, base);
        goto out;
    }
    if (matches > 1 || rc == LDAP_SIZELIMIT_EXCEEDED) {
        st = CERTROLE_REALM_REFUSED;
        cr_ldap_outcome_set_message(o, "%s: more than one entry matches %s under %s: "
                                    "refusing to choose (make the filter unique)",
                                    cr_ldap_conn_uri(p, conn),
                                    c->map == CR_LDAP_MAP_CERTIFICATE ? "the certificate" : filter, base);
        goto out;
    }
    char *dn = ldap_get_dn(conn->ld, e->entry);
    e->dn = dn ? strdup(dn) : NULL;
    ldap_memfree(dn);
    if (c->user_attr)
        e->user = first_value(conn->ld, e->entry, c->user_attr);
    if (!e->user && e->dn)
        e->user = strdup(e->dn);
    if (!e->dn || !e->user) {
        st = CERTROLE_REALM_UNAVAILABLE;
        cr_ldap_outcome_set_message(o, "out of memory");
    }
out:
    if (st != CERTROLE_REALM_FOUND)
        cr_ldap_entry_clear(e);
    free(attrs);
    free(base);
    free(filter);
    return st;
}
