/* The ldap realm's group-to-role map: role-map= items and the lines of
 * role-map-file (ldap_config.h). */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "role_name.h"
#include "ldap_config.h"
#include "ldap_dn.h"

#define fail cr_ldap_fail

void cr_ldap_rolemap_free(struct cr_ldap_rolemap *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(m[i].group_key);
        free(m[i].role);
    }
    free(m);
}

/* One "DN:role" item. The role is after the last ':' (so a mapped role
 * has no ':', although the role-name rule allows one; a DN value may). */
static int map_item(const char *item, const char *where, struct cr_ldap_rolemap **m,
                    size_t *n, char *err, size_t errlen)
{
    const char *colon = strrchr(item, ':');
    if (!colon || colon == item || !colon[1])
        return fail(err, errlen, "%s: \"%s\": expected GROUP-DN:ROLE", where, item);
    /* The core would drop a role outside its rule at every lookup: refuse
     * it here, where the policy's author sees it. */
    if (!cr_role_name_valid(colon + 1, strlen(colon + 1)))
        return fail(err, errlen, "%s: \"%s\": bad role name (allowed: " CR_ROLE_NAME_CHARS ")",
                    where, item);
    char *dn = strndup(item, (size_t)(colon - item));
    if (!dn)
        return fail(err, errlen, "out of memory");
    char *key = cr_ldap_dn_key(dn);
    free(dn);
    if (!key)
        return fail(err, errlen, "%s: \"%s\": not a distinguished name before ':'", where, item);
    struct cr_ldap_rolemap *v = realloc(*m, (*n + 1) * sizeof *v);
    if (!v) {
        free(key);
        return fail(err, errlen, "out of memory");
    }
    *m = v;
    v[*n].group_key = key;
    if (!(v[*n].role = strdup(colon + 1))) {
        free(key);
        return fail(err, errlen, "out of memory");
    }
    (*n)++;
    return 0;
}

/* "DN:role;DN:role". RFC 4514 escapes ';' inside DN values ("\;" or
 * "\3B"), so an unescaped ';' always ends an item. */
int cr_ldap_rolemap_parse_inline(const char *v, struct cr_ldap_rolemap **m, size_t *n,
                            char *err, size_t errlen)
{
    char *copy = strdup(v);
    if (!copy)
        return fail(err, errlen, "out of memory");
    char *start = copy;
    int rc = 0;
    for (char *p = copy;; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            continue;
        }
        if (*p == ';' || !*p) {
            int end = !*p;
            *p = '\0';
            while (isspace((unsigned char)*start))
                start++;
            if (*start && (rc = map_item(start, "role-map", m, n, err, errlen)) != 0)
                break;
            if (end)
                break;
            start = p + 1;
        }
    }
    free(copy);
    return rc;
}

/* One "DN:role" per line; '#' starts a comment line. */
static int parse_map_file(const char *path, struct cr_ldap_rolemap **m, size_t *n,
                          char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return fail(err, errlen, "role-map-file %s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned lineno = 0;
    int rc = 0;
    while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && isspace((unsigned char)line[len - 1]))
            line[--len] = '\0';
        char *s = line;
        while (isspace((unsigned char)*s))
            s++;
        if (!*s || *s == '#')
            continue;
        char where[300];
        snprintf(where, sizeof where, "%s:%u", path, lineno);
        rc = map_item(s, where, m, n, err, errlen);
    }
    free(line);
    fclose(f);
    return rc;
}

/* Builds rolemap = inline entries + the file's entries. */
int cr_ldap_rolemap_build(const struct cr_ldap_config *c, struct cr_ldap_rolemap **out,
                         size_t *n_out, char *err, size_t errlen)
{
    struct cr_ldap_rolemap *m = NULL;
    size_t n = 0;
    for (size_t i = 0; i < c->n_inline_map; i++) {
        struct cr_ldap_rolemap *v = realloc(m, (n + 1) * sizeof *v);
        if (!v)
            goto nomem;
        m = v;
        m[n].group_key = strdup(c->inline_map[i].group_key);
        m[n].role = strdup(c->inline_map[i].role);
        n++;
        if (!m[n - 1].group_key || !m[n - 1].role)
            goto nomem;
    }
    if (c->role_map_file && parse_map_file(c->role_map_file, &m, &n, err, errlen) != 0) {
        cr_ldap_rolemap_free(m, n);
        return -1;
    }
    *out = m;
    *n_out = n;
    return 0;
nomem:
    cr_ldap_rolemap_free(m, n);
    return fail(err, errlen, "out of memory");
}

const char *cr_ldap_config_role_for(const struct cr_ldap_config *c, const char *group_key)
{
    for (size_t i = 0; i < c->n_rolemap; i++)
        if (strcmp(c->rolemap[i].group_key, group_key) == 0)
            return c->rolemap[i].role;
    return NULL;
}
