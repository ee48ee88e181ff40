/* Roles from groups (ldap_groups.h). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "ldap_dn.h"
#include "ldap_filter.h"
#include "ldap_groups.h"

#define MAX_GROUPS 512      /* per lookup: bounds work on odd directories */
#define CHUNK 16            /* group DNs per nested search filter */

struct list { char **v; size_t n, cap; };

static int list_add(struct list *l, const char *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    if (!(l->v[l->n] = strdup(s)))
        return -1;
    l->n++;
    return 0;
}

static int list_has(const struct list *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return 1;
    return 0;
}

static void list_free(struct list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

struct walk {
    struct cr_ldap_pool *p;
    struct cr_ldap_conn *conn;
    const struct cr_ldap_config *c;
    struct cr_ldap_outcome *o;
    struct list seen;               /* group keys, per mechanism */
};

/* Adds the role for a group. name: the group-name-attr value if known. */
static int add_group_role(struct walk *w, const char *key, const char *dn, const char *name)
{
    const char *mapped = cr_ldap_config_role_for(w->c, key);
    if (mapped)
        return cr_ldap_outcome_add_role(w->o, mapped);
    if (w->c->role_map_only)
        return 0;
    if (name)
        return cr_ldap_outcome_add_role(w->o, name);
    char *rdn = cr_ldap_dn_rdn_value(dn, w->c->group_name_attr);
    int rc = rdn ? cr_ldap_outcome_add_role(w->o, rdn) : 0;
    free(rdn);
    return rc;
}

static char *value_str(const struct berval *bv)
{
    if (!bv->bv_len || memchr(bv->bv_val, '\0', bv->bv_len))
        return NULL;
    return strndup(bv->bv_val, bv->bv_len);
}

static char *first_value(LDAP *ld, LDAPMessage *m, const char *attr)
{
    struct berval **v = ldap_get_values_len(ld, m, attr);
    char *s = v && v[0] ? value_str(v[0]) : NULL;
    ldap_value_free_len(v);
    return s;
}

static certrole_realm_status nomem(struct walk *w)
{
    cr_ldap_outcome_set_message(w->o, "out of memory");
    return CERTROLE_REALM_UNAVAILABLE;
}

/* More groups than a lookup reads: a partial role set is never returned. */
static certrole_realm_status too_many(struct walk *w)
{
    cr_ldap_outcome_set_message(w->o, "%s: more than %d groups for one entry; a partial role "
                                "set is never returned (narrow group-base= or nested-depth=)",
                                cr_ldap_conn_uri(w->p, w->conn), MAX_GROUPS);
    return CERTROLE_REALM_UNAVAILABLE;
}

/* Values of the role attributes of one entry: DNs go to 'groups', other
 * values are role names. */
static int role_attr_values(struct walk *w, LDAPMessage *m, struct list *groups, int literal_ok)
{
    for (size_t a = 0; a < w->c->n_role_attrs; a++) {
        struct berval **v = ldap_get_values_len(w->conn->ld, m, w->c->role_attrs[a]);
        for (size_t i = 0; v && v[i]; i++) {
            char *s = value_str(v[i]);
            if (!s)
                continue;
            int rc = 0;
            if (strchr(s, '='))
                rc = list_add(groups, s);
            else if (literal_ok && !w->c->role_map_only)
                rc = cr_ldap_outcome_add_role(w->o, s);
            free(s);
            if (rc != 0) {
                ldap_value_free_len(v);
                return -1;
            }
        }
        ldap_value_free_len(v);
    }
    return 0;
}

/* memberOf-style: the groups the entry names, then the groups those name,
 * breadth first, nested-depth levels deep. */
static certrole_realm_status by_role_attrs(struct walk *w, LDAPMessage *entry)
{
    struct list level = { 0 }, next = { 0 };
    certrole_realm_status st = CERTROLE_REALM_FOUND;
    char **attrs = calloc(w->c->n_role_attrs + 2, sizeof *attrs);
    if (!attrs || role_attr_values(w, entry, &level, 1) != 0) {
        free(attrs);
        list_free(&level);
        return nomem(w);
    }
    attrs[0] = w->c->group_name_attr;
    for (size_t a = 0; a < w->c->n_role_attrs; a++)
        attrs[a + 1] = w->c->role_attrs[a];
    for (int depth = 0; level.n && st == CERTROLE_REALM_FOUND; depth++) {
        for (size_t i = 0; i < level.n && st == CERTROLE_REALM_FOUND; i++) {
            const char *dn = level.v[i];
            char *key = cr_ldap_dn_key(dn), *name = NULL;
            if (!key || list_has(&w->seen, key)) {
                free(key);          /* not a DN after all, or a cycle */
                continue;
            }
            if (w->seen.n >= MAX_GROUPS) {
                free(key);
                st = too_many(w);
                break;
            }
            if (list_add(&w->seen, key) != 0) {
                free(key);
                st = nomem(w);
                break;
            }
            int nest = depth < w->c->nested_depth;
            char *rdn = cr_ldap_dn_rdn_value(dn, w->c->group_name_attr);
            /* Read the group only when its name or its parents are needed. */
            if (nest || (!rdn && !cr_ldap_config_role_for(w->c, key))) {
                LDAPMessage *res = NULL;
                int rc = cr_ldap_conn_search(w->p, w->conn, dn, LDAP_SCOPE_BASE,
                                             "(objectClass=*)", attrs, 1, &res);
                LDAPMessage *g = rc == LDAP_SUCCESS ? ldap_first_entry(w->conn->ld, res) : NULL;
                if (g) {
                    name = first_value(w->conn->ld, g, w->c->group_name_attr);
                    if (nest && role_attr_values(w, g, &next, 0) != 0)
                        st = nomem(w);
                } else if (rc != LDAP_SUCCESS && rc != LDAP_NO_SUCH_OBJECT) {
                    /* A dangling memberOf value is not an error; a failed
                     * read is. */
                    st = CERTROLE_REALM_UNAVAILABLE;
                    cr_ldap_conn_error(w->p, w->conn, rc, "reading group", w->o);
                }
                ldap_msgfree(res);
            }
            if (st == CERTROLE_REALM_FOUND && add_group_role(w, key, dn, name ? name : rdn) != 0)
                st = nomem(w);
            free(rdn);
            free(name);
            free(key);
        }
        list_free(&level);
        level = next;
        memset(&next, 0, sizeof next);
    }
    list_free(&level);
    list_free(&next);
    free(attrs);
    return st;
}

/* (&GROUP-FILTER(|(member=v1)(uniqueMember=v1)...)) for values[from..to). */
static char *group_filter(const struct walk *w, const struct list *values, size_t from,
                          size_t to, const char *uid)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    int ok = f != NULL;
    if (!ok)
        return NULL;
    fprintf(f, "(&%s(|", w->c->group_filter);
    for (size_t a = 0; a < w->c->n_member_attrs && ok; a++) {
        const char *attr = w->c->member_attrs[a];
        int by_name = !strcasecmp(attr, "memberUid");
        if (by_name) {
            if (!uid)
                continue;
            char *eq = cr_ldap_filter_eq(attr, uid, strlen(uid));
            ok = eq && fputs(eq, f) >= 0;
            free(eq);
            continue;
        }
        for (size_t i = from; i < to && ok; i++) {
            char *eq = cr_ldap_filter_eq(attr, values->v[i], strlen(values->v[i]));
            ok = eq && fputs(eq, f) >= 0;
            free(eq);
        }
    }
    fputs("))", f);
    if (fclose(f) != 0 || !ok) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* One search for the groups whose members include values[from..to) (and
 * the user name, on the first level); new groups go to 'next'. */
static certrole_realm_status search_groups(struct walk *w, const struct list *values,
                                           size_t from, size_t to, const char *uid,
                                           struct list *next)
{
    char *filter = group_filter(w, values, from, to, uid);
    char *attrs[] = { w->c->group_name_attr, NULL };
    LDAPMessage *res = NULL;
    certrole_realm_status st = CERTROLE_REALM_FOUND;
    if (!filter)
        return nomem(w);
    int rc = cr_ldap_conn_search(w->p, w->conn, w->c->group_base, w->c->group_scope,
                                 filter, attrs, MAX_GROUPS, &res);
    free(filter);
    /* The size limit (ours or the server's) or a referral leaves groups
     * unread: a partial role set is never returned. */
    if (rc == LDAP_SIZELIMIT_EXCEEDED) {
        cr_ldap_outcome_set_message(w->o, "%s: the group search under %s hit the size limit "
                                    "after %d entries; a partial role set is never returned",
                                    cr_ldap_conn_uri(w->p, w->conn), w->c->group_base,
                                    ldap_count_entries(w->conn->ld, res));
        ldap_msgfree(res);
        return CERTROLE_REALM_UNAVAILABLE;
    }
    if (rc != LDAP_SUCCESS) {
        ldap_msgfree(res);
        cr_ldap_conn_error(w->p, w->conn, rc,
                           rc == LDAP_NO_SUCH_OBJECT ? "group-base does not exist" : "group search", w->o);
        return CERTROLE_REALM_UNAVAILABLE;
    }
    if (cr_ldap_outcome_referral(w->o, w->conn->ld, res, cr_ldap_conn_uri(w->p, w->conn),
                                 "group search", w->c->group_base)) {
        ldap_msgfree(res);
        return CERTROLE_REALM_UNAVAILABLE;
    }
    for (LDAPMessage *m = ldap_first_entry(w->conn->ld, res); m && st == CERTROLE_REALM_FOUND;
         m = ldap_next_entry(w->conn->ld, m)) {
        char *dn = ldap_get_dn(w->conn->ld, m);
        char *key = dn ? cr_ldap_dn_key(dn) : NULL;
        if (key && !list_has(&w->seen, key) && w->seen.n >= MAX_GROUPS)
            st = too_many(w);
        else if (key && !list_has(&w->seen, key)) {
            char *name = first_value(w->conn->ld, m, w->c->group_name_attr);
            if (list_add(&w->seen, key) != 0 || list_add(next, dn) != 0 ||
                add_group_role(w, key, dn, name) != 0)
                st = nomem(w);
            free(name);
        }
        free(key);
        ldap_memfree(dn);
    }
    ldap_msgfree(res);
    return st;
}

static int has_dn_member_attr(const struct cr_ldap_config *c)
{
    for (size_t a = 0; a < c->n_member_attrs; a++)
        if (strcasecmp(c->member_attrs[a], "memberUid") != 0)
            return 1;
    return 0;
}

/* Group searches under group-base, level by level. */
static certrole_realm_status by_group_search(struct walk *w, const struct cr_ldap_entry *e)
{
    struct list level = { 0 }, next = { 0 };
    certrole_realm_status st = CERTROLE_REALM_FOUND;
    const char *uid = w->c->user_attr ? e->user : NULL;
    if (list_add(&level, e->dn) != 0)
        return nomem(w);
    for (int depth = 0; depth <= w->c->nested_depth && level.n && st == CERTROLE_REALM_FOUND; depth++) {
        /* Nesting follows DN-valued member attributes only. */
        if (depth > 0 && !has_dn_member_attr(w->c))
            break;
        for (size_t i = 0; i < level.n && st == CERTROLE_REALM_FOUND; i += CHUNK) {
            size_t to = i + CHUNK < level.n ? i + CHUNK : level.n;
            st = search_groups(w, &level, i, to, depth == 0 ? uid : NULL, &next);
        }
        list_free(&level);
        level = next;
        memset(&next, 0, sizeof next);
    }
    list_free(&level);
    list_free(&next);
    return st;
}

certrole_realm_status cr_ldap_collect_roles(struct cr_ldap_pool *p, struct cr_ldap_conn *conn,
                                            const struct cr_ldap_config *c,
                                            const struct cr_ldap_entry *e,
                                            struct cr_ldap_outcome *o)
{
    struct walk w = { .p = p, .conn = conn, .c = c, .o = o };
    certrole_realm_status st = CERTROLE_REALM_FOUND;
    if (c->n_role_attrs)
        st = by_role_attrs(&w, e->entry);
    list_free(&w.seen);
    if (st == CERTROLE_REALM_FOUND && c->group_base)
        st = by_group_search(&w, e);
    list_free(&w.seen);
    return st;
}
