/* The certmap realm's rules file (certmap_file.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "certmap_file.h"
#include "role_name.h"

#define LINE_MAX_BYTES 65536

/* One line being parsed: where errors point. */
struct at {
    const char *path;
    unsigned line;
    const char *start;      /* the line's first byte: columns count from it */
    char *err; size_t errlen;
};

static int fail(const struct at *at, const char *p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(const struct at *at, const char *p, const char *fmt, ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(at->err, at->errlen, "%s:%u:%zu: %s", at->path, at->line,
             (size_t)(p - at->start) + 1, msg);
    return -1;
}

static int is_blank(char c) { return c == ' ' || c == '\t'; }

/* A value at p (bare or quoted) into a malloc'd string; *next is the byte
 * after it, which must be a blank or the end. */
static int value_at(const struct at *at, const char *p, const char *end, char **out,
                    const char **next)
{
    char *v = malloc((size_t)(end - p) + 1), *o = v;
    if (!v)
        return fail(at, p, "out of memory");
    if (*p == '"') {
        const char *q = p + 1;
        for (; q < end && *q != '"'; q++) {
            if (*q == '\\') {
                if (q + 1 >= end || (q[1] != '"' && q[1] != '\\')) {
                    free(v);
                    return fail(at, q, "inside quotes only \\\" and \\\\ are escapes"
                                " (write a backslash as \\\\)");
                }
                q++;
            } else if ((unsigned char)*q < 0x20 || *q == 0x7f) {
                free(v);
                return fail(at, q, "control character inside quotes");
            }
            *o++ = *q;
        }
        if (q >= end) {
            free(v);
            return fail(at, p, "unterminated quote");
        }
        p = q + 1;
    } else {
        for (; p < end && !is_blank(*p); p++) {
            unsigned char c = (unsigned char)*p;
            if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\') {
                free(v);
                return fail(at, p, "a bare value is printable ASCII without '\"' or '\\'"
                            " (quote it)");
            }
            *o++ = *p;
        }
    }
    *o = '\0';
    if (p < end && !is_blank(*p)) {
        free(v);
        return fail(at, p, "expected a blank after the value");
    }
    if (!*v) {
        free(v);
        return fail(at, p - 1, "empty value");
    }
    *out = v;
    *next = p;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int set_roles(const struct at *at, const char *col, const char *v, struct cm_rule *r)
{
    size_t n = 1;
    for (const char *c = v; *c; c++)
        n += *c == ',';
    if (!(r->roles = calloc(n, sizeof *r->roles)))
        return fail(at, col, "out of memory");
    for (const char *s = v;; s++) {
        size_t len = strcspn(s, ",");
        if (!cr_role_name_valid(s, len))
            return fail(at, col, "roles: '%.*s' is not a role name (one or more of %s)",
                        (int)len, s, CR_ROLE_NAME_CHARS);
        if (!(r->roles[r->nroles++] = strndup(s, len)))
            return fail(at, col, "out of memory");
        s += len;
        if (!*s)
            break;
    }
    if (r->nroles > 1)
        qsort(r->roles, r->nroles, sizeof *r->roles, cmp_str);
    size_t k = 0;
    for (size_t i = 0; i < r->nroles; i++) {
        if (k && strcmp(r->roles[k - 1], r->roles[i]) == 0)
            free(r->roles[i]);
        else
            r->roles[k++] = r->roles[i];
    }
    r->nroles = k;
    return 0;
}

static int set_user(const struct at *at, const char *col, char *v, struct cm_rule *r)
{
    static const struct { const char *name; enum cm_user src; } ph[] = {
        { "%{subject}", CM_USER_SUBJECT }, { "%{cn}", CM_USER_CN },
        { "%{email}", CM_USER_EMAIL }, { "%{upn}", CM_USER_UPN },
    };
    if (strncmp(v, "%{", 2) == 0) {
        for (size_t i = 0; i < sizeof ph / sizeof ph[0]; i++)
            if (strcmp(v, ph[i].name) == 0) {
                r->user_src = ph[i].src;
                free(v);
                return 0;
            }
        free(v);
        return fail(at, col, "user: unknown placeholder (known: %%{subject}, %%{cn},"
                    " %%{email}, %%{upn}, each as the whole value)");
    }
    r->user_src = CM_USER_FIXED;
    r->user = v;
    return 0;
}

static int set_priority(const struct at *at, const char *col, const char *v, struct cm_rule *r)
{
    unsigned long long x = 0;
    for (const char *c = v; *c; c++) {
        if (*c < '0' || *c > '9' || (x = x * 10 + (unsigned)(*c - '0')) > UINT32_MAX)
            return fail(at, col, "priority=%s: expected 0 (first) to 4294967295 (last)", v);
    }
    r->priority = (uint32_t)x;
    return 0;
}

enum { F_MATCH = 1, F_ROLES = 2, F_USER = 4, F_PRIORITY = 8 };

/* One key=value field at p; the value is consumed (stored or freed). */
static int field(const struct at *at, const char **pp, const char *end, unsigned *seen,
                 struct cm_rule *r, char **match, const char **match_col)
{
    const char *p = *pp, *k = p;
    while (p < end && *p >= 'a' && *p <= 'z')
        p++;
    size_t kl = (size_t)(p - k);
    if (p >= end || *p != '=' || kl == 0)
        return fail(at, k, "expected key=value (keys: match, roles, user, priority)");
#define IS(s) (kl == sizeof(s) - 1 && memcmp(k, s, kl) == 0)
    unsigned bit = IS("match") ? F_MATCH : IS("roles") ? F_ROLES : IS("user") ? F_USER
                 : IS("priority") ? F_PRIORITY : 0;
#undef IS
    if (!bit)
        return fail(at, k, "unknown key '%.*s' (keys: match, roles, user, priority)",
                    (int)(kl > 32 ? 32 : kl), k);
    if (*seen & bit)
        return fail(at, k, "%.*s= given twice", (int)kl, k);
    *seen |= bit;
    const char *vcol = ++p;
    char *v = NULL;
    if (p >= end || is_blank(*p))
        return fail(at, vcol, "empty value");
    if (value_at(at, p, end, &v, pp) != 0)
        return -1;
    int rc = 0;
    if (bit == F_MATCH) {
        *match = v;
        *match_col = vcol;
        return 0;
    }
    if (bit == F_USER)
        return set_user(at, vcol, v, r);
    rc = bit == F_ROLES ? set_roles(at, vcol, v, r) : set_priority(at, vcol, v, r);
    free(v);
    return rc;
}

static void rule_free(struct cm_rule *r)
{
    cr_certmap_free(r->cm);
    for (size_t i = 0; i < r->nroles; i++)
        free(r->roles[i]);
    free(r->roles);
    free(r->user);
    memset(r, 0, sizeof *r);
}

/* Parses one line; 1 with *r filled, 0 for a blank line, -1 on error. */
static int parse_line(const struct at *at, const char *end, struct cm_rule *r)
{
    const char *p = at->start, *match_col = NULL;
    char *match = NULL;
    unsigned seen = 0;
    memset(r, 0, sizeof *r);
    r->line = at->line;
    r->priority = UINT32_MAX;
    for (;;) {
        while (p < end && is_blank(*p))
            p++;
        if (p >= end || *p == '#')
            break;
        if (field(at, &p, end, &seen, r, &match, &match_col) != 0)
            goto bad;
    }
    if (!seen)
        return 0;
    if (!(seen & F_MATCH)) {
        fail(at, at->start, "missing match=\"RULE\"");
        goto bad;
    }
    if (!(seen & F_ROLES)) {
        fail(at, at->start, "missing roles=ROLE[,ROLE...]");
        goto bad;
    }
    char why[320];
    if (!(r->cm = cr_certmap_new(match, NULL, why, sizeof why))) {
        fail(at, match_col, "match rule: %s", why);
        goto bad;
    }
    free(match);
    return 1;
bad:
    free(match);
    rule_free(r);
    return -1;
}

int cm_rules_parse(const char *path, const char *data, size_t len, struct cm_rules *out,
                   char *err, size_t errlen)
{
    struct at at = { path, 0, data, err, errlen };
    const char *end = data + len;
    memset(out, 0, sizeof *out);
    if (len > 0 && data[len - 1] != '\n') {
        snprintf(err, errlen, "%s: the file does not end in a newline (still being written?)",
                 path);
        return -1;
    }
    for (const char *p = data; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *e = nl;
        const char *nul = memchr(p, '\0', (size_t)(nl - p));
        at.line++;
        at.start = p;
        if (e > p && e[-1] == '\r')
            e--;
        struct cm_rule r;
        int rc = nul ? fail(&at, nul, "NUL byte")
               : e - p > LINE_MAX_BYTES ? fail(&at, p, "line longer than %d bytes", LINE_MAX_BYTES)
               : parse_line(&at, e, &r);
        if (rc < 0) {
            cm_rules_free(out);
            return -1;
        }
        if (rc > 0) {
            struct cm_rule *v = realloc(out->v, (out->n + 1) * sizeof *v);
            if (!v) {
                rule_free(&r);
                cm_rules_free(out);
                snprintf(err, errlen, "%s: out of memory", path);
                return -1;
            }
            out->v = v;
            out->v[out->n++] = r;
        }
        p = nl + 1;
    }
    if (out->n == 0) {
        snprintf(err, errlen, "%s: no rules (an empty rules file is a mistake: remove the realm"
                 " instead)", path);
        return -1;
    }
    return 0;
}

void cm_rules_free(struct cm_rules *r)
{
    for (size_t i = 0; i < r->n; i++)
        rule_free(&r->v[i]);
    free(r->v);
    memset(r, 0, sizeof *r);
}

int cm_rule_same_answer(const struct cm_rule *a, const struct cm_rule *b)
{
    if (a->user_src != b->user_src || a->nroles != b->nroles)
        return 0;
    if (a->user_src == CM_USER_FIXED && strcmp(a->user, b->user) != 0)
        return 0;
    for (size_t i = 0; i < a->nroles; i++)
        if (strcmp(a->roles[i], b->roles[i]) != 0)
            return 0;
    return 1;
}
