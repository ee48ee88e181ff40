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
#include "path.h"
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
    struct cr_path_mode mode;   /* the policy's path-* options */
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

void cr_rules_set_mode(struct cr_rules *r, const struct cr_path_mode *mode)
{
    r->mode = *mode;
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
    /* A prefix is read like a raw target, with parameters refused in
     * every mode: a path that reaches the rules never holds a ';'. */
    struct cr_path_mode pm = { CR_PATH_PARAMS_REFUSE, rs->mode.fold_case };
    if (cr_path_canon(prefix, CR_PATH_RAW, &pm, &norm, &why) < 0) {
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

/* The answer behind certrole_authz_*: everything owned, so it outlives
 * a reload of the configuration that produced it. */
struct certrole_authz {
    char *path;       /* "" when refused before judging */
    char *rule;       /* NULL when no rule matched */
    char **roles;
    size_t n_roles;
    char *reason;
};

static void authz_clear(struct certrole_authz *a)
{
    free(a->path);
    free(a->rule);
    for (size_t i = 0; i < a->n_roles; i++)
        free(a->roles[i]);
    free(a->roles);
    free(a->reason);
    memset(a, 0, sizeof *a);
}

static char *join_roles(const struct cr_rule *r)
{
    size_t need = 1;
    for (size_t i = 0; i < r->n_roles; i++)
        need += strlen(r->roles[i]) + 2;
    char *list = malloc(need);
    if (!list)
        return NULL;
    list[0] = '\0';
    for (size_t i = 0; i < r->n_roles; i++) {
        if (i)
            strcat(list, ", ");
        strcat(list, r->roles[i]);
    }
    return list;
}

/* Records the matched rule in a. -1 on no memory. */
static int authz_set_rule(struct certrole_authz *a, const struct cr_rule *r)
{
    if (!(a->rule = strdup(r->where)) ||
        !(a->roles = calloc(r->n_roles ? r->n_roles : 1, sizeof *a->roles)))
        return -1;
    for (size_t i = 0; i < r->n_roles; i++) {
        if (!(a->roles[i] = strdup(r->roles[i])))
            return -1;
        a->n_roles++;
    }
    return 0;
}

/* The longest-prefix rule for method on path (see authorize.h); *other
 * gets a covering rule for another method when none matches this one. */
static const struct cr_rule *best_rule(const struct cr_rules *rs, const char *method,
                                       const char *path, const struct cr_rule **other)
{
    const struct cr_rule *best = NULL;
    *other = NULL;
    for (size_t i = 0; rs && i < rs->n; i++) {
        const struct cr_rule *r = &rs->r[i];
        if (!prefix_matches(r, path))
            continue;
        if (!method_matches(r->method, method)) {
            *other = r;
            continue;
        }
        if (!best || r->prefix_len > best->prefix_len ||
            (r->prefix_len == best->prefix_len && r->method && !best->method))
            best = r;
    }
    return best;
}

static const char *holds_one(const struct cr_rule *r, const char *const *roles, size_t n)
{
    for (size_t i = 0; i < r->n_roles; i++) {
        if (strcmp(r->roles[i], "*") == 0)
            return r->roles[i];
        for (size_t j = 0; j < n; j++)
            if (strcmp(r->roles[i], roles[j]) == 0)
                return r->roles[i];
    }
    return NULL;
}

certrole_code cr_rules_judge(const struct cr_rules *rs, const char *method,
                             const char *target, int form, const char *const *roles,
                             size_t n_roles, struct certrole_authz *a)
{
    char *norm = NULL;
    const char *bad = NULL;
    int rc;
    if (cr_path_canon(target, form ? CR_PATH_DECODED : CR_PATH_RAW, rs ? &rs->mode : NULL,
                      &norm, &bad) < 0) {
        if (strcmp(bad, "out of memory") == 0)
            return CERTROLE_E_NO_MEMORY;
        rc = asprintf(&a->reason, "request path refused: %s", bad);
        return rc < 0 ? CERTROLE_E_NO_MEMORY : CERTROLE_E_FORBIDDEN;
    }
    a->path = norm;
    const struct cr_rule *other, *best = best_rule(rs, method, norm, &other);
    if (!best && other) {
        /* The path is protected, only not for this method: refuse rather
         * than treat the method as a way around the rule. */
        rc = asprintf(&a->reason, "no rule allows %s on %s (it is protected by the rule at %s)",
                      method, norm, other->where);
        return rc < 0 ? CERTROLE_E_NO_MEMORY : CERTROLE_E_FORBIDDEN;
    }
    if (!best) {
        rc = asprintf(&a->reason, "%s %s: no rule covers the path", method, norm);
        return rc < 0 ? CERTROLE_E_NO_MEMORY : CERTROLE_OK;
    }
    if (authz_set_rule(a, best) < 0)
        return CERTROLE_E_NO_MEMORY;
    const char *held = holds_one(best, roles, n_roles);
    char *list = held ? NULL : join_roles(best);
    if (held && strcmp(held, "*") == 0)
        rc = asprintf(&a->reason, "%s %s allowed to any accepted peer (rule at %s)",
                      method, norm, best->where);
    else if (held)
        rc = asprintf(&a->reason, "%s %s allowed by role %s (rule at %s)",
                      method, norm, held, best->where);
    else if (list)
        rc = asprintf(&a->reason, "%s %s needs role %s (rule at %s)",
                      method, norm, list, best->where);
    else
        rc = -1;
    free(list);
    if (rc < 0)
        return CERTROLE_E_NO_MEMORY;
    return held ? CERTROLE_OK : CERTROLE_E_FORBIDDEN;
}

certrole_code cr_rules_check(const struct cr_rules *rs, const char *method,
                             const char *path, const char *const *roles,
                             size_t n_roles, char **why)
{
    struct certrole_authz a = { 0 };
    certrole_code c = cr_rules_judge(rs, method, path, 0, roles, n_roles, &a);
    *why = NULL;
    if (c != CERTROLE_OK) {
        *why = a.reason;
        a.reason = NULL;
    }
    authz_clear(&a);
    return c;
}

/* Decides what needs no rule: a peer denied already, a result without
 * its configuration. Returns -1 when the rules must decide. */
static int precheck(const certrole_result *res, struct certrole_authz *a)
{
    int rc;
    if (res->code != CERTROLE_OK) {
        rc = asprintf(&a->reason, "the peer was denied before authorization (%s: %s)",
                      certrole_code_name(res->code), res->message ? res->message : "");
        return rc < 0 ? CERTROLE_E_NO_MEMORY : (int)res->code;
    }
    if (!res->dec) {
        /* A result without its configuration's rules cannot be checked: refuse. */
        rc = asprintf(&a->reason, "no configuration");
        return rc < 0 ? CERTROLE_E_NO_MEMORY : CERTROLE_E_FORBIDDEN;
    }
    return -1;
}

static struct certrole_authz *invalid(const char *what)
{
    struct certrole_authz *a = calloc(1, sizeof *a);
    if (a && (!(a->path = strdup("")) ||
              asprintf(&a->reason, "invalid argument: %s", what) < 0)) {
        a->reason = NULL;
        certrole_authz_free(a);
        a = NULL;
    }
    return a;
}

certrole_code certrole_authorize_target(certrole_ctx *ctx, const certrole_result *res,
                                        const char *method, const char *target,
                                        certrole_target_form form, certrole_authz **authz)
{
    if (authz)
        *authz = NULL;
    if (!res || !method || !*method || !target ||
        (form != CERTROLE_TARGET_RAW && form != CERTROLE_TARGET_DECODED)) {
        if (authz)
            *authz = invalid(!res ? "no result" : !method || !*method ? "no method"
                             : !target ? "no target" : "unknown target form");
        return CERTROLE_E_INVALID_ARGUMENT;
    }
    struct certrole_authz *a = calloc(1, sizeof *a);
    if (!a)
        return CERTROLE_E_NO_MEMORY;
    int pre = precheck(res, a);
    certrole_code c = pre >= 0 ? (certrole_code)pre
        : cr_rules_judge(res->dec->rules, method, target, form == CERTROLE_TARGET_DECODED,
                         (const char *const *)res->roles, res->n_roles, a);
    if (c == CERTROLE_E_NO_MEMORY || (!a->path && !(a->path = strdup("")))) {
        certrole_authz_free(a);
        return CERTROLE_E_NO_MEMORY;
    }
    const struct cr_log *log = ctx ? &ctx->log : res->dec ? &res->dec->log : NULL;
    /* The audit line keeps the target as received; the reason names the
     * path that was judged. A denied peer's line carries its message. */
    cr_result_audit(log, res, c, method, target, res->code != CERTROLE_OK ? NULL : a->reason);
    if (authz)
        *authz = a;
    else
        certrole_authz_free(a);
    return c;
}

certrole_code certrole_authorize(certrole_ctx *ctx, const certrole_result *res,
                                 const char *method, const char *path)
{
    return certrole_authorize_target(ctx, res, method, path, CERTROLE_TARGET_RAW, NULL);
}

const char *certrole_authz_path(const certrole_authz *a)
{
    return a && a->path ? a->path : "";
}

const char *certrole_authz_rule(const certrole_authz *a)
{
    return a ? a->rule : NULL;
}

size_t certrole_authz_role_count(const certrole_authz *a)
{
    return a ? a->n_roles : 0;
}

const char *certrole_authz_role(const certrole_authz *a, size_t i)
{
    return a && i < a->n_roles ? a->roles[i] : NULL;
}

const char *certrole_authz_reason(const certrole_authz *a)
{
    return a && a->reason ? a->reason : "";
}

void certrole_authz_free(certrole_authz *a)
{
    if (!a)
        return;
    authz_clear(a);
    free(a);
}
