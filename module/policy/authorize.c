/* Resource rules and certrole_authorize (see authorize.h). */
#define _GNU_SOURCE
#include "authorize.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "config.h"
#include "ctx.h"
#include "log.h"
#include "result.h"

struct cr_rule {
    char *method;       /* NULL = '*' */
    char *prefix;       /* normalised */
    size_t prefix_len;
    char **roles; size_t n_roles;
    char *where;
};

struct cr_rules {
    struct cr_rule *r;
    size_t n, cap;
};

struct cr_rules *cr_rules_new(void)
{
    return calloc(1, sizeof(struct cr_rules));
}

static void rule_clear(struct cr_rule *r)
{
    free(r->method);
    free(r->prefix);
    for (size_t i = 0; i < r->n_roles; i++)
        free(r->roles[i]);
    free(r->roles);
    free(r->where);
}

void cr_rules_free(struct cr_rules *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        rule_clear(&r->r[i]);
    free(r->r);
    free(r);
}

size_t cr_rules_count(const struct cr_rules *r)
{
    return r ? r->n : 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int cr_path_normalize(const char *path, char **out, const char **why)
{
    *out = NULL;
    *why = NULL;
    if (!path || path[0] != '/') {
        *why = "path does not start with '/'";
        return -1;
    }
    size_t n = strcspn(path, "?#");
    /* Decoding only shrinks; segments are rebuilt in place in 'dec'. */
    char *dec = malloc(n + 2);
    char *res = malloc(n + 2);
    if (!dec || !res) {
        free(dec); free(res);
        *why = "out of memory";
        return -1;
    }
    size_t d = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];
        if (c == '%') {
            if (i + 2 >= n || hexval(path[i + 1]) < 0 || hexval(path[i + 2]) < 0) {
                *why = "bad percent-encoding";
                goto refuse;
            }
            c = (unsigned char)(hexval(path[i + 1]) * 16 + hexval(path[i + 2]));
            i += 2;
            if (c == '/' || c == '\\' || c == '%' || c == 0) {
                *why = "encoded '/', '\\', '%' or NUL in path";
                goto refuse;
            }
        } else if (c == '\\') {
            *why = "backslash in path";
            goto refuse;
        }
        if (c < 0x20 || c == 0x7f) {
            *why = "control character in path";
            goto refuse;
        }
        dec[d++] = (char)c;
    }
    dec[d] = '\0';
    /* Walk segments: drop "" and ".", apply "..". */
    size_t r = 0;
    const char *s = dec;
    while (*s) {
        while (*s == '/')
            s++;
        if (!*s)
            break;
        const char *e = strchr(s, '/');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == 1 && s[0] == '.') {
            /* nothing */
        } else if (len == 2 && s[0] == '.' && s[1] == '.') {
            if (r == 0) {
                *why = "path climbs above the root";
                goto refuse;
            }
            while (r > 0 && res[r - 1] != '/')
                r--;
            if (r > 0)
                r--;   /* the '/' before the popped segment */
        } else {
            res[r++] = '/';
            memcpy(res + r, s, len);
            r += len;
        }
        s += len;
    }
    if (r == 0)
        res[r++] = '/';
    res[r] = '\0';
    free(dec);
    *out = res;
    return 0;
refuse:
    free(dec);
    free(res);
    return -1;
}

static int method_matches(const char *rule, const char *req)
{
    if (!rule)
        return 1;
    if (strcasecmp(rule, req) == 0)
        return 1;
    /* HEAD reveals what GET would (headers, existence): same rule. */
    return strcasecmp(rule, "GET") == 0 && strcasecmp(req, "HEAD") == 0;
}

static int prefix_matches(const struct cr_rule *r, const char *path)
{
    if (r->prefix_len == 1)
        return 1;   /* "/" covers everything */
    return strncmp(path, r->prefix, r->prefix_len) == 0 &&
           (path[r->prefix_len] == '\0' || path[r->prefix_len] == '/');
}

int cr_rules_add(struct cr_rules *rs, const char *method, const char *prefix,
                 const char *const *roles, size_t n_roles, const char *where,
                 char *err, size_t errlen)
{
    char *norm = NULL;
    const char *why = NULL;
    if (cr_path_normalize(prefix, &norm, &why) < 0) {
        snprintf(err, errlen, "require: bad path prefix '%s': %s", prefix, why);
        return -1;
    }
    const char *m = strcmp(method, "*") == 0 ? NULL : method;
    for (size_t i = 0; i < rs->n; i++) {
        const struct cr_rule *o = &rs->r[i];
        int same_m = (!o->method && !m) || (o->method && m && strcasecmp(o->method, m) == 0);
        if (same_m && strcmp(o->prefix, norm) == 0) {
            snprintf(err, errlen, "require: duplicate rule for %s %s (first at %s)",
                     method, norm, o->where);
            free(norm);
            return -1;
        }
    }
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 8;
        struct cr_rule *nr = realloc(rs->r, cap * sizeof *nr);
        if (!nr)
            goto nomem;
        rs->r = nr;
        rs->cap = cap;
    }
    struct cr_rule rule = { 0 };
    rule.prefix = norm;
    norm = NULL;
    rule.prefix_len = strlen(rule.prefix);
    if ((m && !(rule.method = strdup(m))) || !(rule.where = strdup(where ? where : "")) ||
        !(rule.roles = calloc(n_roles ? n_roles : 1, sizeof *rule.roles))) {
        rule_clear(&rule);
        goto nomem;
    }
    for (size_t i = 0; i < n_roles; i++) {
        if (!(rule.roles[i] = strdup(roles[i]))) {
            rule_clear(&rule);
            goto nomem;
        }
        rule.n_roles++;
    }
    rs->r[rs->n++] = rule;
    return 0;
nomem:
    free(norm);
    snprintf(err, errlen, "out of memory");
    return -1;
}

certrole_code cr_rules_check(const struct cr_rules *rs, const char *method,
                             const char *path, const char *const *roles,
                             size_t n_roles, char **why)
{
    *why = NULL;
    char *norm = NULL;
    const char *bad = NULL;
    if (cr_path_normalize(path, &norm, &bad) < 0) {
        if (asprintf(why, "request path refused: %s", bad) < 0)
            *why = NULL;
        return CERTROLE_E_FORBIDDEN;
    }
    const struct cr_rule *best = NULL, *other = NULL;
    for (size_t i = 0; rs && i < rs->n; i++) {
        const struct cr_rule *r = &rs->r[i];
        if (!prefix_matches(r, norm))
            continue;
        if (!method_matches(r->method, method)) {
            other = r;
            continue;
        }
        if (!best || r->prefix_len > best->prefix_len ||
            (r->prefix_len == best->prefix_len && r->method && !best->method))
            best = r;
    }
    if (!best && other) {
        /* The path is protected, only not for this method: refuse rather
         * than treat the method as a way around the rule. */
        if (asprintf(why, "no rule allows %s on %s (it is protected by the rule at %s)",
                     method, norm, other->where) < 0)
            *why = NULL;
        free(norm);
        return CERTROLE_E_FORBIDDEN;
    }
    if (!best) {
        free(norm);
        return CERTROLE_OK;
    }
    for (size_t i = 0; i < best->n_roles; i++) {
        if (strcmp(best->roles[i], "*") == 0) {
            free(norm);
            return CERTROLE_OK;
        }
        for (size_t j = 0; j < n_roles; j++)
            if (strcmp(best->roles[i], roles[j]) == 0) {
                free(norm);
                return CERTROLE_OK;
            }
    }
    /* List what would have sufficed, for the audit line and the caller. */
    size_t need = 1;
    for (size_t i = 0; i < best->n_roles; i++)
        need += strlen(best->roles[i]) + 2;
    char *list = malloc(need);
    if (list) {
        list[0] = '\0';
        for (size_t i = 0; i < best->n_roles; i++) {
            if (i)
                strcat(list, ", ");
            strcat(list, best->roles[i]);
        }
    }
    if (asprintf(why, "%s %s needs role %s (rule at %s)", method, norm,
                 list ? list : "?", best->where) < 0)
        *why = NULL;
    free(list);
    free(norm);
    return CERTROLE_E_FORBIDDEN;
}

certrole_code certrole_authorize(certrole_ctx *ctx, const certrole_result *res,
                                 const char *method, const char *path)
{
    if (!res || !method || !path || !*method)
        return CERTROLE_E_INVALID_ARGUMENT;
    const struct cr_log *log = ctx ? &ctx->log : res->cfg ? &res->cfg->log : NULL;
    if (res->code != CERTROLE_OK) {
        cr_log_audit(log, res, res->code, method, path, NULL);
        return res->code;
    }
    if (!res->cfg) {
        /* A result without its configuration cannot be checked: refuse. */
        cr_log_audit(log, res, CERTROLE_E_FORBIDDEN, method, path, "no configuration");
        return CERTROLE_E_FORBIDDEN;
    }
    char *why = NULL;
    certrole_code c = cr_rules_check(res->cfg->rules, method, path,
                                     (const char *const *)res->roles, res->n_roles, &why);
    cr_log_audit(log, res, c, method, path, why);
    free(why);
    return c;
}
