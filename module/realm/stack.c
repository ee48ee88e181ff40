/* The realm stack (see stack.h for the control semantics).
 *
 * The walk mirrors Linux-PAM's dispatcher: an "impression" starts
 * undefined; the first 'ok' makes it positive, the first 'bad' makes it
 * negative and fixes the failure status (later failures do not overwrite
 * it); 'done' ends the walk only while the impression is positive; 'die'
 * ends it at once. If nothing made a positive impression, the stack fails. */
#define _GNU_SOURCE
#include "stack.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "realm_loader.h"
#include "role_name.h"
#include "stats.h"

struct cr_stack_entry {
    enum cr_control control;
    struct cr_realm_module *module;
    void *state;
    char *where;              /* "file:line" of the realm line */
    struct cr_realm_stats *stats;   /* NULL: not counted */
};

struct cr_stack {
    struct cr_stack_entry *e;
    size_t n, cap;
};

struct cr_stack *cr_stack_new(void)
{
    return calloc(1, sizeof(struct cr_stack));
}

int cr_stack_add(struct cr_stack *s, enum cr_control control,
                 struct cr_realm_module *module, void *state, const char *where)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4;
        struct cr_stack_entry *e = realloc(s->e, cap * sizeof *e);
        if (!e)
            return -1;
        s->e = e;
        s->cap = cap;
    }
    char *w = strdup(where ? where : "");
    if (!w)
        return -1;
    s->e[s->n++] = (struct cr_stack_entry){ control, module, state, w, NULL };
    return 0;
}

/* The module's own name ("file"), even when the policy gave a path. */
static const char *mod_name(const struct cr_realm_module *m)
{
    return m->ops && m->ops->name && *m->ops->name ? m->ops->name : m->name;
}

void cr_stack_count_into(struct cr_stack *s, struct cr_stats *st)
{
    for (size_t i = 0; s && i < s->n; i++)
        s->e[i].stats = cr_stats_realm(st, (unsigned)i + 1, mod_name(s->e[i].module));
}

const char *cr_control_name(enum cr_control c)
{
    switch (c) {
    case CR_REQUIRED: return "required";
    case CR_REQUISITE: return "requisite";
    case CR_SUFFICIENT: return "sufficient";
    case CR_OPTIONAL: return "optional";
    }
    return "?";
}

void cr_stack_free(struct cr_stack *s)
{
    if (!s)
        return;
    /* Close in reverse order of opening, then unload. */
    for (size_t i = s->n; i-- > 0;) {
        if (s->e[i].module) {
            if (s->e[i].module->ops)
                s->e[i].module->ops->close(s->e[i].state);
            cr_realm_unload(s->e[i].module);
        }
        free(s->e[i].where);
    }
    free(s->e);
    free(s);
}

void cr_stack_outcome_clear(struct cr_stack_outcome *o)
{
    if (!o)
        return;
    free(o->user);
    free(o->realm);
    for (size_t i = 0; i < o->n_roles; i++)
        free(o->roles[i]);
    free(o->roles);
    free(o->message);
    memset(o, 0, sizeof *o);
}

static certrole_code status_code(certrole_realm_status st)
{
    switch (st) {
    case CERTROLE_REALM_FOUND: return CERTROLE_OK;
    case CERTROLE_REALM_NOT_FOUND: return CERTROLE_E_UNKNOWN_IDENTITY;
    case CERTROLE_REALM_REFUSED: return CERTROLE_E_REALM_REFUSED;
    case CERTROLE_REALM_UNAVAILABLE: return CERTROLE_E_REALM_UNAVAILABLE;
    }
    return CERTROLE_E_REALM_UNAVAILABLE;   /* unknown status: fail closed */
}

static const char *status_word(certrole_realm_status st)
{
    switch (st) {
    case CERTROLE_REALM_FOUND: return "found";
    case CERTROLE_REALM_NOT_FOUND: return "does not know the peer";
    case CERTROLE_REALM_REFUSED: return "refused the peer";
    case CERTROLE_REALM_UNAVAILABLE: return "unavailable";
    }
    return "gave an invalid answer";
}

/* Drops the answer's roles outside the role-name rule (role_name.h),
 * each with a log line: a realm, ours or a third party's, cannot hand
 * out a name that a comma-joined export would read as two roles. */
static void drop_bad_roles(const struct cr_stack_entry *e, struct certrole_answer *a,
                           const struct cr_log *log)
{
    size_t kept = 0;
    for (size_t i = 0; i < a->n_roles; i++) {
        char *r = a->roles[i];
        size_t len = strlen(r);
        if (cr_role_name_valid(r, len)) {
            a->roles[kept++] = r;
            continue;
        }
        size_t at = cr_role_name_bad_at(r, len);
        char *q = cr_log_quote(r, 200);
        if (len == 0)
            cr_log_write(log, CERTROLE_LOG_WARNING, "realm %s (%s %s): dropped an empty role name",
                         mod_name(e->module), cr_control_name(e->control), e->where);
        else
            cr_log_write(log, CERTROLE_LOG_WARNING,
                         "realm %s (%s %s): dropped role %s: byte %zu (0x%02x) is outside the "
                         "role-name rule (" CR_ROLE_NAME_CHARS ")",
                         mod_name(e->module), cr_control_name(e->control), e->where,
                         q ? q : "(no memory)", at + 1, (unsigned char)r[at]);
        free(q);
        free(r);
    }
    a->n_roles = kept;
}

/* Appends roles (de-duplicated) to out. -1 on no memory. */
static int merge_roles(struct cr_stack_outcome *out, const struct certrole_answer *a)
{
    for (size_t i = 0; i < a->n_roles; i++) {
        int dup = 0;
        for (size_t j = 0; j < out->n_roles && !dup; j++)
            dup = strcmp(out->roles[j], a->roles[i]) == 0;
        if (dup)
            continue;
        char **r = realloc(out->roles, (out->n_roles + 1) * sizeof *r);
        if (!r)
            return -1;
        out->roles = r;
        if (!(r[out->n_roles] = strdup(a->roles[i])))
            return -1;
        out->n_roles++;
    }
    return 0;
}

static char *describe(const struct cr_stack_entry *e, certrole_realm_status st,
                      const struct certrole_answer *a)
{
    char *m = NULL;
    if (asprintf(&m, "realm %s (%s %s) %s%s%s", mod_name(e->module), cr_control_name(e->control),
                 e->where, status_word(st), a->message ? ": " : "",
                 a->message ? a->message : "") < 0)
        return NULL;
    return m;
}

/* The walk's state (see the top of this file). */
struct walk {
    enum { UNDEF, POSITIVE, NEGATIVE } impression;
    certrole_code status;
    /* Worst ignored failure, to explain a stack where nothing answered
     * positively: unavailable > refused > not found. */
    certrole_code ignored;
    char *ignored_msg;
    int nomem;
};

static int rank(certrole_code c)
{
    return c == CERTROLE_E_REALM_UNAVAILABLE ? 3 : c == CERTROLE_E_REALM_REFUSED ? 2 : c ? 1 : 0;
}

/* 'ok' / 'done': merge user and roles; 1 when the walk ends here. */
static int on_found(struct walk *w, const struct cr_stack_entry *e, struct certrole_answer *a,
                    const struct cr_log *log, struct cr_stack_outcome *out)
{
    if (w->impression == UNDEF || (w->impression == POSITIVE && w->status == CERTROLE_OK)) {
        w->impression = POSITIVE;
        w->status = CERTROLE_OK;
    }
    drop_bad_roles(e, a, log);
    if (merge_roles(out, a) < 0)
        w->nomem = 1;
    if (!out->user && a->user && !(out->user = strdup(a->user)))
        w->nomem = 1;
    if (!out->realm && !(out->realm = strdup(mod_name(e->module))))
        w->nomem = 1;
    return w->nomem || (e->control == CR_SUFFICIENT && w->impression == POSITIVE);
}

/* A failure: 'bad' / 'die' for required / requisite, else 'ignore' (but
 * remember why). 1 when the walk ends here. */
static int on_failure(struct walk *w, const struct cr_stack_entry *e, certrole_realm_status st,
                      const struct certrole_answer *a, struct cr_stack_outcome *out)
{
    certrole_code c = status_code(st);
    if (e->control == CR_REQUIRED || e->control == CR_REQUISITE) {
        if (w->impression != NEGATIVE) {
            w->impression = NEGATIVE;
            w->status = c;
            free(out->message);
            out->message = describe(e, st, a);
        }
        return e->control == CR_REQUISITE;
    }
    if (rank(c) > rank(w->ignored)) {
        w->ignored = c;
        free(w->ignored_msg);
        w->ignored_msg = describe(e, st, a);
    }
    return 0;
}

certrole_code cr_stack_run(const struct cr_stack *s, const certrole_identity *id,
                           const struct cr_log *log, struct cr_stack_outcome *out)
{
    memset(out, 0, sizeof *out);
    if (!s || s->n == 0) {
        out->code = CERTROLE_OK;
        return CERTROLE_OK;
    }
    struct walk w = { .impression = UNDEF, .status = CERTROLE_E_UNKNOWN_IDENTITY };
    for (size_t i = 0; i < s->n; i++) {
        const struct cr_stack_entry *e = &s->e[i];
        struct certrole_answer a = { 0 };
        unsigned long long t0 = e->stats ? cr_stats_now_ns() : 0;
        certrole_realm_status st = e->module->ops->lookup(e->state, id, &a);
        if (a.failed && st == CERTROLE_REALM_FOUND)
            st = CERTROLE_REALM_UNAVAILABLE;   /* half an answer is no answer */
        if (e->stats)
            cr_realm_stats_lookup(e->stats, st, cr_stats_now_ns() - t0);
        int stop = st == CERTROLE_REALM_FOUND ? on_found(&w, e, &a, log, out)
                                              : on_failure(&w, e, st, &a, out);
        cr_answer_clear(&a);
        if (stop)
            break;
    }
    if (w.nomem) {
        free(w.ignored_msg);
        cr_stack_outcome_clear(out);
        out->code = CERTROLE_E_NO_MEMORY;
        return out->code;
    }
    if (w.impression == POSITIVE && w.status == CERTROLE_OK) {
        free(w.ignored_msg);
        free(out->message);
        out->message = NULL;
        out->code = CERTROLE_OK;
        return CERTROLE_OK;
    }
    /* Denied: the peer gets neither user, nor roles, nor a realm that
     * answered found (the message names the realm that decided). */
    char *msg = out->message;
    out->message = NULL;
    cr_stack_outcome_clear(out);
    if (w.impression == UNDEF) {
        w.status = w.ignored ? w.ignored : CERTROLE_E_UNKNOWN_IDENTITY;
        free(msg);
        msg = w.ignored_msg;
        if (!msg && asprintf(&msg, "no realm knows the peer") < 0)
            msg = NULL;
    } else {
        free(w.ignored_msg);
    }
    out->code = w.status;
    out->message = msg;
    return w.status;
}
