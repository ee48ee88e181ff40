/* Arguments of the ldap realm (ldap_config.h). Everything is checked at
 * open(), so a typo refuses the policy instead of failing every lookup;
 * only the directory itself is left for lookup time. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ldap.h>
#include "role_name.h"
#include "ldap_config.h"
#include "ldap_dn.h"
#include "ldap_filter.h"
#include "ldap_certmap.h"

#define DEFAULT_GROUP_FILTER \
    "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup))"

int cr_ldap_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

#define fail cr_ldap_fail

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Splits on any of 'seps' into a fresh list; empty items are skipped. */
static int split(const char *s, const char *seps, char ***out, size_t *n)
{
    char *copy = strdup(s), *save = NULL;
    if (!copy)
        return -1;
    *out = NULL;
    *n = 0;
    for (char *tok = strtok_r(copy, seps, &save); tok; tok = strtok_r(NULL, seps, &save)) {
        char **v = realloc(*out, (*n + 1) * sizeof *v);
        if (!v || !(v[*n] = strdup(tok))) {
            if (v)
                *out = v;
            free_list(*out, *n);
            *out = NULL;
            *n = 0;
            free(copy);
            return -1;
        }
        *out = v;
        (*n)++;
    }
    free(copy);
    return 0;
}

/* An attribute description: a name or OID, options after ';'. */
static int valid_attr(const char *a)
{
    if (!*a || strlen(a) > 128)
        return 0;
    for (const char *p = a; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != ';' && *p != '.')
            return 0;
    return 1;
}

static int attr_list(const char *key, const char *v, char ***out, size_t *n,
                     char *err, size_t errlen)
{
    free_list(*out, *n);
    *out = NULL;
    *n = 0;
    if (strcmp(v, "none") == 0 || !*v)
        return 0;
    if (split(v, ", ", out, n) != 0)
        return fail(err, errlen, "out of memory");
    for (size_t i = 0; i < *n; i++)
        if (!valid_attr((*out)[i]))
            return fail(err, errlen, "%s=%s: '%s' is not an attribute name", key, v, (*out)[i]);
    return 0;
}

static int number(const char *key, const char *v, long lo, long hi, long *out,
                  char *err, size_t errlen)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi)
        return fail(err, errlen, "%s=%s: expected a whole number from %ld to %ld", key, v, lo, hi);
    *out = x;
    return 0;
}

/* Seconds, decimals allowed ("0.5"), bounded: a timeout of 0 would mean
 * "wait forever" to libldap. */
static int seconds(const char *key, const char *v, int *ms, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || *end || !(x >= 0.05 && x <= 300))
        return fail(err, errlen, "%s=%s: expected seconds from 0.05 to 300", key, v);
    *ms = (int)(x * 1000 + 0.5);
    return 0;
}

static int scope_of(const char *key, const char *v, int *scope, char *err, size_t errlen)
{
    if (strcmp(v, "sub") == 0 || strcmp(v, "subtree") == 0)
        *scope = LDAP_SCOPE_SUBTREE;
    else if (strcmp(v, "one") == 0 || strcmp(v, "onelevel") == 0)
        *scope = LDAP_SCOPE_ONELEVEL;
    else if (strcmp(v, "base") == 0)
        *scope = LDAP_SCOPE_BASE;
    else
        return fail(err, errlen, "%s=%s: expected sub, one or base", key, v);
    return 0;
}

static int path_arg(const certrole_realm_env *env, const char *v, char **out)
{
    free(*out);
    *out = NULL;
    if (v[0] == '/' || !env || !env->base_dir || !*env->base_dir)
        *out = strdup(v);
    else if (asprintf(out, "%s/%s", env->base_dir, v) < 0)
        *out = NULL;
    if (*out && env && env->watch_file)
        env->watch_file(env->watch_ctx, *out);
    return *out ? 0 : -1;
}

static int str_arg(const char *v, char **out)
{
    free(*out);
    return (*out = strdup(v)) ? 0 : -1;
}

static int dn_arg(const char *key, const char *v, char **out, char *err, size_t errlen)
{
    free(*out);
    if (!(*out = cr_ldap_dn_normalize(v)))
        return fail(err, errlen, "%s=%s: not a distinguished name", key, v);
    return 0;
}

static int read_password(const char *path, char **out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return fail(err, errlen, "bind-password-file %s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t len = getline(&line, &cap, f);
    fclose(f);
    if (len < 0) {
        free(line);
        return fail(err, errlen, "bind-password-file %s: empty", path);
    }
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        line[--len] = '\0';
    if (len == 0) {
        free(line);
        return fail(err, errlen, "bind-password-file %s: empty first line", path);
    }
    *out = line;
    return 0;
}

int cr_ldap_config_reload_files(struct cr_ldap_config *c, char *err, size_t errlen)
{
    char *pw = NULL;
    struct cr_ldap_rolemap *m = NULL;
    size_t n = 0;
    if (c->bind_password_file && read_password(c->bind_password_file, &pw, err, errlen) != 0)
        return -1;
    if (cr_ldap_rolemap_build(c, &m, &n, err, errlen) != 0) {
        free(pw);
        return -1;
    }
    if (c->bind_password_file) {
        if (c->bind_password)
            explicit_bzero(c->bind_password, strlen(c->bind_password));
        free(c->bind_password);
        c->bind_password = pw;
    }
    cr_ldap_rolemap_free(c->rolemap, c->n_rolemap);
    c->rolemap = m;
    c->n_rolemap = n;
    return 0;
}

static int check_uris(struct cr_ldap_config *c, char *err, size_t errlen)
{
    if (c->n_uris == 0)
        return fail(err, errlen, "uri= is required (e.g. uri=\"ldaps://ldap1.example ldaps://ldap2.example\")");
    for (size_t i = 0; i < c->n_uris; i++) {
        LDAPURLDesc *u = NULL;
        if (ldap_url_parse(c->uris[i], &u) != LDAP_URL_SUCCESS)
            return fail(err, errlen, "uri: '%s' is not an LDAP URI", c->uris[i]);
        int ok = u->lud_scheme && (!strcasecmp(u->lud_scheme, "ldap") ||
                                   !strcasecmp(u->lud_scheme, "ldaps") ||
                                   !strcasecmp(u->lud_scheme, "ldapi"));
        int extra = (u->lud_dn && *u->lud_dn) || u->lud_attrs || u->lud_filter;
        ldap_free_urldesc(u);
        if (!ok)
            return fail(err, errlen, "uri: '%s': scheme must be ldap, ldaps or ldapi", c->uris[i]);
        if (extra)
            return fail(err, errlen, "uri: '%s': give base=, filter= as arguments, not in the URI", c->uris[i]);
    }
    return 0;
}

/* Cross-argument rules and defaults, once every argument is read. */
static int finish(struct cr_ldap_config *c, int map_set, char *err, size_t errlen)
{
    if (check_uris(c, err, errlen) != 0)
        return -1;
    if (cr_ldap_certmap_setup(c, map_set, err, errlen) != 0)
        return -1;
    if (c->filter && !map_set)
        c->map = CR_LDAP_MAP_FILTER;
    if (c->map == CR_LDAP_MAP_FILTER && !c->filter)
        return fail(err, errlen, "map=filter needs filter=");
    if (c->map != CR_LDAP_MAP_FILTER && c->filter)
        return fail(err, errlen, "filter= is only used with map=filter");
    if (c->map != CR_LDAP_MAP_DN && !c->base)
        return fail(err, errlen, "%s needs base=",
                    c->map == CR_LDAP_MAP_FILTER ? "map=filter"
                    : c->map == CR_LDAP_MAP_CERTMAP ? "certmap-map=" : "map=certificate");
    if (c->bind_password && c->bind_password_file)
        return fail(err, errlen, "give bind-password= or bind-password-file=, not both");
    if ((c->bind_password || c->bind_password_file) && !c->bind_dn)
        return fail(err, errlen, "a bind password needs bind-dn=");
    if (c->bind_dn && !c->bind_password && !c->bind_password_file)
        return fail(err, errlen, "bind-dn= needs bind-password= or bind-password-file=");
    if (!!c->tls_cert != !!c->tls_key)
        return fail(err, errlen, "tls-cert= and tls-key= go together");
    if (c->sasl_external) {
        if (c->bind_dn)
            return fail(err, errlen, "sasl=external binds as the TLS client certificate: drop bind-dn=");
        if (!c->tls_cert)
            return fail(err, errlen, "sasl=external needs tls-cert= and tls-key=");
        if (c->starttls == CR_LDAP_STARTTLS_NO || c->starttls == CR_LDAP_STARTTLS_TRY)
            return fail(err, errlen, "sasl=external needs TLS on every URI: use ldaps:// or starttls=yes");
        for (size_t i = 0; i < c->n_uris; i++)
            if (strncasecmp(c->uris[i], "ldaps:", 6) && strncasecmp(c->uris[i], "ldapi:", 6))
                c->starttls = CR_LDAP_STARTTLS_YES;  /* EXTERNAL over ldap:// needs StartTLS */
    }
    for (size_t i = 0; i < c->n_member_attrs; i++)
        if (!strcasecmp(c->member_attrs[i], "memberUid") && !c->user_attr)
            return fail(err, errlen, "group-member-attr=memberUid needs user-attr= (the name memberUid holds)");
    return cr_ldap_config_reload_files(c, err, errlen);
}

static int set_defaults(struct cr_ldap_config *c)
{
    c->scope = LDAP_SCOPE_SUBTREE;
    c->group_scope = LDAP_SCOPE_SUBTREE;
    c->nested_depth = 3;
    c->network_timeout_ms = 2000;
    c->timeout_ms = 3000;
    c->cache_ttl = 60;
    c->negative_ttl = 10;
    c->cache_size = 10000;
    c->pool_size = 4;
    if (!(c->user_attr = strdup("uid")) || !(c->group_name_attr = strdup("cn")) ||
        !(c->group_filter = strdup(DEFAULT_GROUP_FILTER)))
        return -1;
    if (split("memberOf", ",", &c->role_attrs, &c->n_role_attrs) != 0 ||
        split("member,uniqueMember", ",", &c->member_attrs, &c->n_member_attrs) != 0)
        return -1;
    return 0;
}

/* One argument. Returns 0, -1 (err set). */
/* The arguments that only store a value of a common shape. */
enum arg_kind { ARG_PATH, ARG_STR, ARG_DN, ARG_SCOPE, ARG_SECONDS, ARG_INT, ARG_SIZE };
static const struct simple_arg {
    const char *key;
    enum arg_kind kind;
    size_t off;                     /* of the field in struct cr_ldap_config */
    long lo, hi;                    /* ARG_INT, ARG_SIZE */
} simple_args[] = {
#define F(field) offsetof(struct cr_ldap_config, field)
    { "tls-ca-file", ARG_PATH, F(tls_ca_file), 0, 0 },
    { "tls-ca-dir", ARG_PATH, F(tls_ca_dir), 0, 0 },
    { "tls-cert", ARG_PATH, F(tls_cert), 0, 0 },
    { "tls-key", ARG_PATH, F(tls_key), 0, 0 },
    { "bind-password-file", ARG_PATH, F(bind_password_file), 0, 0 },
    { "role-map-file", ARG_PATH, F(role_map_file), 0, 0 },
    { "bind-password", ARG_STR, F(bind_password), 0, 0 },
    { "certmap-match", ARG_STR, F(certmap_match), 0, 0 },
    { "certmap-map", ARG_STR, F(certmap_map), 0, 0 },
    { "bind-dn", ARG_DN, F(bind_dn), 0, 0 },
    { "base", ARG_DN, F(base), 0, 0 },
    { "group-base", ARG_DN, F(group_base), 0, 0 },
    { "scope", ARG_SCOPE, F(scope), 0, 0 },
    { "group-scope", ARG_SCOPE, F(group_scope), 0, 0 },
    { "network-timeout", ARG_SECONDS, F(network_timeout_ms), 0, 0 },
    { "timeout", ARG_SECONDS, F(timeout_ms), 0, 0 },
    { "nested-depth", ARG_INT, F(nested_depth), 0, 10 },
    { "cache-ttl", ARG_INT, F(cache_ttl), 0, 86400 },
    { "negative-ttl", ARG_INT, F(negative_ttl), 0, 3600 },
    { "pool-size", ARG_INT, F(pool_size), 1, 64 },
    { "cache-size", ARG_SIZE, F(cache_size), 0, 10000000 },
#undef F
};

/* 1 when key is not one of simple_args, else 0 or -1 (err set). */
static int parse_simple(struct cr_ldap_config *c, const char *key, const char *v,
                        const certrole_realm_env *env, char *err, size_t errlen)
{
    const struct simple_arg *a = NULL;
    for (size_t i = 0; i < sizeof simple_args / sizeof simple_args[0] && !a; i++)
        if (!strcmp(key, simple_args[i].key))
            a = &simple_args[i];
    if (!a)
        return 1;
    void *field = (char *)c + a->off;
    long x = 0;
    switch (a->kind) {
    case ARG_PATH:
        return path_arg(env, v, field) ? fail(err, errlen, "out of memory") : 0;
    case ARG_STR:
        return str_arg(v, field) ? fail(err, errlen, "out of memory") : 0;
    case ARG_DN:
        return dn_arg(key, v, field, err, errlen);
    case ARG_SCOPE:
        return scope_of(key, v, field, err, errlen);
    case ARG_SECONDS:
        return seconds(key, v, field, err, errlen);
    case ARG_INT:
    case ARG_SIZE:
        if (number(key, v, a->lo, a->hi, &x, err, errlen) != 0)
            return -1;
        if (a->kind == ARG_INT)
            *(int *)field = (int)x;
        else
            *(size_t *)field = (size_t)x;
        return 0;
    }
    return fail(err, errlen, "unknown argument '%s'", key);
}

/* The arguments with their own syntax or checks. */
static int parse_one(struct cr_ldap_config *c, const char *key, const char *v,
                     const certrole_realm_env *env, int *map_set, char *err, size_t errlen)
{
    int rc = parse_simple(c, key, v, env, err, errlen), nomem = 0;
    if (rc <= 0)
        return rc;
    if (!strcmp(key, "uri")) {
        free_list(c->uris, c->n_uris);
        nomem = split(v, " \t,", &c->uris, &c->n_uris);
    } else if (!strcmp(key, "starttls")) {
        if (!strcmp(v, "yes")) c->starttls = CR_LDAP_STARTTLS_YES;
        else if (!strcmp(v, "no")) c->starttls = CR_LDAP_STARTTLS_NO;
        else if (!strcmp(v, "try")) c->starttls = CR_LDAP_STARTTLS_TRY;
        else return fail(err, errlen, "starttls=%s: expected yes, no or try", v);
    } else if (!strcmp(key, "sasl")) {
        if (strcasecmp(v, "external") != 0)
            return fail(err, errlen, "sasl=%s: only sasl=external is supported", v);
        c->sasl_external = 1;
    } else if (!strcmp(key, "map")) {
        *map_set = 1;
        if (!strcmp(v, "dn")) c->map = CR_LDAP_MAP_DN;
        else if (!strcmp(v, "filter")) c->map = CR_LDAP_MAP_FILTER;
        else if (!strcmp(v, "certificate")) c->map = CR_LDAP_MAP_CERTIFICATE;
        else return fail(err, errlen, "map=%s: expected dn, filter or certificate", v);
    } else if (!strcmp(key, "filter")) {
        if (cr_ldap_filter_check(v, 1, err, errlen) != 0)
            return -1;
        nomem = str_arg(v, &c->filter);
    } else if (!strcmp(key, "group-filter")) {
        if (cr_ldap_filter_check(v, 0, err, errlen) != 0)
            return -1;
        nomem = str_arg(v, &c->group_filter);
    } else if (!strcmp(key, "user-attr")) {
        free(c->user_attr);
        c->user_attr = NULL;
        if (strcmp(v, "dn") != 0) {
            if (!valid_attr(v))
                return fail(err, errlen, "user-attr=%s: not an attribute name", v);
            nomem = str_arg(v, &c->user_attr);
        }
    } else if (!strcmp(key, "role-attr")) {
        return attr_list(key, v, &c->role_attrs, &c->n_role_attrs, err, errlen);
    } else if (!strcmp(key, "group-member-attr")) {
        if (attr_list(key, v, &c->member_attrs, &c->n_member_attrs, err, errlen) != 0)
            return -1;
        if (c->n_member_attrs == 0)
            return fail(err, errlen, "group-member-attr= needs at least one attribute");
    } else if (!strcmp(key, "group-name-attr")) {
        if (!valid_attr(v))
            return fail(err, errlen, "group-name-attr=%s: not an attribute name", v);
        nomem = str_arg(v, &c->group_name_attr);
    } else if (!strcmp(key, "role-map")) {
        return cr_ldap_rolemap_parse_inline(v, &c->inline_map, &c->n_inline_map, err, errlen);
    } else if (!strcmp(key, "role-map-only")) {
        if (strcmp(v, "yes") && strcmp(v, "no"))
            return fail(err, errlen, "role-map-only=%s: expected yes or no", v);
        c->role_map_only = !strcmp(v, "yes");
    } else {
        return fail(err, errlen, "unknown argument '%s'", key);
    }
    return nomem ? fail(err, errlen, "out of memory") : 0;
}

int cr_ldap_config_parse(struct cr_ldap_config *c, int argc, const char *const *argv,
                         const certrole_realm_env *env, char *err, size_t errlen)
{
    int map_set = 0;
    char seen[40][24];
    size_t n_seen = 0;
    if (set_defaults(c) != 0)
        return fail(err, errlen, "out of memory");
    for (int i = 0; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        if (!eq)
            return fail(err, errlen, "argument '%s': expected key=value", argv[i]);
        size_t klen = (size_t)(eq - argv[i]);
        char key[24];
        if (klen == 0 || klen >= sizeof key)
            return fail(err, errlen, "unknown argument '%.*s'", (int)klen, argv[i]);
        memcpy(key, argv[i], klen);
        key[klen] = '\0';
        /* A repeated key is almost always a mistake (two uri= lines). */
        for (size_t k = 0; k < n_seen; k++)
            if (!strcmp(seen[k], key))
                return fail(err, errlen, "argument '%s' given twice", key);
        if (n_seen < sizeof seen / sizeof seen[0])
            memcpy(seen[n_seen++], key, sizeof key);
        if (parse_one(c, key, eq + 1, env, &map_set, err, errlen) != 0)
            return -1;
    }
    return finish(c, map_set, err, errlen);
}

void cr_ldap_config_free(struct cr_ldap_config *c)
{
    if (!c)
        return;
    free_list(c->uris, c->n_uris);
    free(c->tls_ca_file);
    free(c->tls_ca_dir);
    free(c->tls_cert);
    free(c->tls_key);
    free(c->bind_dn);
    if (c->bind_password) {
        explicit_bzero(c->bind_password, strlen(c->bind_password));
        free(c->bind_password);
    }
    free(c->bind_password_file);
    free(c->role_map_file);
    cr_ldap_rolemap_free(c->inline_map, c->n_inline_map);
    free(c->base);
    free(c->filter);
    cr_ldap_certmap_free(c);
    free(c->user_attr);
    free_list(c->role_attrs, c->n_role_attrs);
    free(c->group_base);
    free(c->group_filter);
    free_list(c->member_attrs, c->n_member_attrs);
    free(c->group_name_attr);
    cr_ldap_rolemap_free(c->rolemap, c->n_rolemap);
    memset(c, 0, sizeof *c);
}
