/* The "certmap" realm: SSSD's certificate match rules (sss-certmap(5)),
 * evaluated by SSSD's own libsss_certmap, give a user and roles. Written
 * against the public headers only, as a third party would write a realm.
 *
 * Argument: rules=FILE (required; relative to the policy's directory),
 * in the format of certmap_file.h, read and compiled at open(): a rule
 * libsss_certmap refuses does not load.
 *
 * Lookup: each rule's match rule is tried on the leaf's DER, in priority
 * order (0 first). Only the matching rules of the best priority count:
 * one gives its answer; several that give different answers (user or
 * roles) are REFUSED as ambiguous, never "first wins"; several that give
 * the same answer give it. No match: NOT_FOUND.
 *
 * Threads: the rules are read-only after open(); each rule's
 * libsss_certmap context has its own lock (certmap_rule.h). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "certrole.h"
#include "certrole_realm.h"
#include "certmap_file.h"
#include "readfile.h"

struct certmap_realm {
    char *path;
    struct cm_rules rules;      /* sorted by priority, then line */
};

static void realm_free(struct certmap_realm *r)
{
    if (!r)
        return;
    cm_rules_free(&r->rules);
    free(r->path);
    free(r);
}

static int by_priority(const void *a, const void *b)
{
    const struct cm_rule *x = a, *y = b;
    if (x->priority != y->priority)
        return x->priority < y->priority ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

static int parse_args(int argc, const char *const *argv, const char **rules, char *err,
                      size_t errlen)
{
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "rules=", 6) != 0) {
            snprintf(err, errlen, "unknown argument '%.64s' (known: rules=FILE)", argv[i]);
            return -1;
        }
        if (*rules) {
            snprintf(err, errlen, "argument 'rules' given twice");
            return -1;
        }
        *rules = argv[i] + 6;
        if (!**rules) {
            snprintf(err, errlen, "rules=: expected a file name");
            return -1;
        }
    }
    if (!*rules) {
        snprintf(err, errlen, "missing rules=FILE");
        return -1;
    }
    return 0;
}

static int load(struct certmap_realm *r, char *err, size_t errlen)
{
    size_t len = 0, cap = 0;
    int why = 0;
    char *data = cr_rf_read(r->path, 16u << 20, NULL, &len, &cap, &why);
    if (!data) {
        char reason[160];
        snprintf(err, errlen, "%s: %s", r->path,
                 cr_rf_strerror(r->path, why, reason, sizeof reason));
        return -1;
    }
    int rc = cm_rules_parse(r->path, data, len, &r->rules, err, errlen);
    free(data);
    if (rc == 0 && r->rules.n > 1)
        qsort(r->rules.v, r->rules.n, sizeof *r->rules.v, by_priority);
    return rc;
}

static int certmap_open(void **state, int argc, const char *const *argv,
                        const certrole_realm_env *env, char *err, size_t errlen)
{
    const char *rules = NULL;
    *state = NULL;
    if (parse_args(argc, argv, &rules, err, errlen) != 0)
        return -1;
    struct certmap_realm *r = calloc(1, sizeof *r);
    int n = !r ? -1
          : rules[0] == '/' ? asprintf(&r->path, "%s", rules)
          : asprintf(&r->path, "%s/%s", env && env->base_dir ? env->base_dir : ".", rules);
    if (n < 0) {
        if (r)
            r->path = NULL;
        realm_free(r);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (env && env->watch_file)
        env->watch_file(env->watch_ctx, r->path);
    if (load(r, err, errlen) != 0) {
        realm_free(r);
        return -1;
    }
    if (env && env->log) {
        char line[512];
        snprintf(line, sizeof line, "certmap realm %s: %zu rules", r->path, r->rules.n);
        env->log(env->log_ctx, CERTROLE_LOG_DEBUG, line);
    }
    *state = r;
    return 0;
}

/* The peer's one subjectAltName of type t, or NULL when it has none or
 * several: a rule may have matched any of several, so naming the peer by
 * the first could be a name the rule never checked. */
static const char *only_san(const certrole_identity *id, certrole_san_type t)
{
    const char *one = NULL;
    for (size_t i = 0; i < certrole_identity_san_count(id); i++) {
        certrole_san_type ti = CERTROLE_SAN_IP;
        const char *v = certrole_identity_san(id, i, &ti);
        if (v && ti == t) {
            if (one)
                return NULL;
            one = v;
        }
    }
    return one;
}

static const char *user_of(const struct cm_rule *rule, const certrole_identity *id,
                           const char **field)
{
    switch (rule->user_src) {
    case CM_USER_FIXED: return rule->user;
    case CM_USER_CN: *field = "%{cn}"; return certrole_identity_get(id, CERTROLE_ID_CN);
    case CM_USER_EMAIL: *field = "%{email}"; return only_san(id, CERTROLE_SAN_EMAIL);
    case CM_USER_UPN: *field = "%{upn}"; return only_san(id, CERTROLE_SAN_UPN);
    case CM_USER_SUBJECT: break;
    }
    *field = "%{subject}";
    return certrole_identity_get(id, CERTROLE_ID_SUBJECT);
}

static certrole_realm_status answer(const struct certmap_realm *r, const struct cm_rule *rule,
                                    const certrole_identity *id, certrole_answer *ans)
{
    const char *field = NULL, *user = user_of(rule, id, &field);
    if (!user || !*user) {
        /* The rule claims this certificate but cannot name it: refuse
         * rather than let another realm answer for it. */
        certrole_answer_set_message(ans, "%s:%u: the rule matches, but the certificate has no"
                                    " single value for user=%s (none, or several)", r->path, rule->line, field);
        return CERTROLE_REALM_REFUSED;
    }
    if (certrole_answer_set_user(ans, user) != 0)
        goto nomem;
    for (size_t i = 0; i < rule->nroles; i++)
        if (certrole_answer_add_role(ans, rule->roles[i]) != 0)
            goto nomem;
    certrole_answer_set_message(ans, "%s:%u: the rule matches", r->path, rule->line);
    return CERTROLE_REALM_FOUND;
nomem:
    certrole_answer_set_message(ans, "%s: out of memory", r->path);
    return CERTROLE_REALM_UNAVAILABLE;
}

static certrole_realm_status certmap_lookup(void *state, const certrole_identity *id,
                                            certrole_answer *ans)
{
    const struct certmap_realm *r = state;
    size_t len = 0;
    const unsigned char *der = certrole_identity_der(id, &len);
    if (!der || !len) {
        certrole_answer_set_message(ans, "%s: no certificate to match", r->path);
        return CERTROLE_REALM_NOT_FOUND;
    }
    const struct cm_rule *first = NULL;
    for (size_t i = 0; i < r->rules.n; i++) {
        const struct cm_rule *rule = &r->rules.v[i];
        if (first && rule->priority != first->priority)
            break;      /* sorted: only the best matching priority counts */
        char why[320];
        int m = cr_certmap_match(rule->cm, der, len, why, sizeof why);
        if (m < 0) {
            certrole_answer_set_message(ans, "%s:%u: %s", r->path, rule->line, why);
            return CERTROLE_REALM_UNAVAILABLE;
        }
        if (!m)
            continue;
        if (!first) {
            first = rule;
        } else if (!cm_rule_same_answer(first, rule)) {
            certrole_answer_set_message(ans, "%s: lines %u and %u (priority %u) both match the"
                                        " certificate and give different answers: refusing to"
                                        " choose", r->path, first->line, rule->line,
                                        (unsigned)rule->priority);
            return CERTROLE_REALM_REFUSED;
        }
    }
    if (!first) {
        certrole_answer_set_message(ans, "%s: no rule matches the certificate", r->path);
        return CERTROLE_REALM_NOT_FOUND;
    }
    return answer(r, first, id, ans);
}

static void certmap_close(void *state)
{
    realm_free(state);
}

CERTROLE_REALM_EXPORT const certrole_realm_ops certrole_realm_v1 = {
    .abi_version = CERTROLE_REALM_ABI_VERSION,
    .name = "certmap",
    .open = certmap_open,
    .lookup = certmap_lookup,
    .close = certmap_close,
    .reload = NULL, /* reload re-opens: the rules are read again by open() */
};
