/* The result handle: accessors, JSON, copies for the cache (result.h). */
#define _GNU_SOURCE
#include "result.h"
#include "errors.h"
#include "json.h"
#include "strbuf.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

certrole_result *cr_result_new(struct cr_decision *dec)
{
    certrole_result *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->code = CERTROLE_E_INTERNAL;
    atomic_init(&r->refs, 0);    /* not shared */
    r->dec = cr_decision_ref(dec);
    return r;
}

void cr_result_set(certrole_result *r, certrole_code code, const char *message,
                   const char *hint)
{
    if (!r)
        return;
    char *m = strdup(message ? message : certrole_strerror(code));
    char *h = strdup(hint ? hint : (code == CERTROLE_OK ? "" : cr_default_hint(code)));
    free(r->message);
    free(r->hint);
    r->message = m;
    r->hint = h;
    r->code = code;
    /* A result that cannot say why stays a denial; accessors fall back to
     * the static texts when the copies failed. */
    if ((!m || !h) && code == CERTROLE_OK)
        r->code = CERTROLE_E_NO_MEMORY;
}

/* strdup that tolerates NULL; *fail latches an allocation failure. */
static char *dup_s(const char *s, int *fail)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *fail = 1;
    return d;
}

static int dup_identity(struct certrole_identity *d, const struct certrole_identity *s)
{
    int fail = 0;
    memset(d, 0, sizeof *d);
    if (s->leaf && X509_up_ref(s->leaf))
        d->leaf = s->leaf;
    if (s->der) {
        d->der = malloc(s->der_len ? s->der_len : 1);
        if (d->der) {
            memcpy(d->der, s->der, s->der_len);
            d->der_len = s->der_len;
        } else {
            fail = 1;
        }
    }
    d->subject = dup_s(s->subject, &fail);
    d->subject_key = dup_s(s->subject_key, &fail);
    d->issuer = dup_s(s->issuer, &fail);
    d->issuer_key = dup_s(s->issuer_key, &fail);
    d->anchor = dup_s(s->anchor, &fail);
    d->anchor_key = dup_s(s->anchor_key, &fail);
    d->serial = dup_s(s->serial, &fail);
    d->fingerprint = dup_s(s->fingerprint, &fail);
    d->cn = dup_s(s->cn, &fail);
    d->email = dup_s(s->email, &fail);
    d->spiffe = dup_s(s->spiffe, &fail);
    d->spiffe_why = dup_s(s->spiffe_why, &fail);
    d->ski = dup_s(s->ski, &fail);
    d->not_before = s->not_before;
    d->not_after = s->not_after;
    if (s->n_sans) {
        d->sans = calloc(s->n_sans, sizeof *d->sans);
        if (d->sans) {
            d->n_sans = s->n_sans;
            for (size_t i = 0; i < s->n_sans; i++) {
                d->sans[i].type = s->sans[i].type;
                d->sans[i].value = dup_s(s->sans[i].value, &fail);
            }
        } else {
            fail = 1;
        }
    }
    return fail ? -1 : 0;
}

certrole_result *cr_result_dup(const certrole_result *r)
{
    if (!r)
        return NULL;
    certrole_result *d = cr_result_new(r->dec);
    if (!d)
        return NULL;
    int fail = 0;
    d->code = r->code;
    d->message = dup_s(r->message, &fail);
    d->hint = dup_s(r->hint, &fail);
    d->have_id = r->have_id;
    if (r->have_id && dup_identity(&d->id, &r->id) < 0)
        fail = 1;
    d->depth = r->depth;
    d->user = dup_s(r->user, &fail);
    d->realm = dup_s(r->realm, &fail);
    if (r->n_roles) {
        d->roles = calloc(r->n_roles, sizeof *d->roles);
        if (d->roles) {
            d->n_roles = r->n_roles;
            for (size_t i = 0; i < r->n_roles; i++)
                d->roles[i] = dup_s(r->roles[i], &fail);
        } else {
            fail = 1;
        }
    }
    d->cached = r->cached;   /* d->shared stays 0: a private copy */
    if (fail) {
        certrole_result_free(d);
        return NULL;
    }
    return d;
}

/* Frees r's contents and r; its decision reference is the caller's business. */
static void destroy(certrole_result *r)
{
    free(r->message);
    free(r->hint);
    cr_identity_clear(&r->id);   /* safe on a zeroed identity */
    free(r->user);
    free(r->realm);
    for (size_t i = 0; i < r->n_roles; i++)
        free(r->roles[i]);
    free(r->roles);
    free(r->peer);
    free(r->audit_head);
    free(r);
}

certrole_result *cr_result_share(const certrole_result *r)
{
    certrole_result *s = cr_result_dup(r);   /* with its own decision reference */
    if (!s)
        return NULL;
    s->cached = 1;
    s->shared = 1;
    atomic_init(&s->refs, 1);
    if (s->dec && s->dec->audit) {
        struct cr_audit a = {
            .code = s->code, .subject = s->id.subject, .user = s->user, .realm = s->realm,
            .fingerprint = s->id.fingerprint,
        };
        /* NULL (no memory) only means each hit renders the line whole */
        if ((s->audit_head = cr_log_audit_head(&a)) != NULL)
            s->audit_head_len = strlen(s->audit_head);
    }
    return s;
}

certrole_result *cr_result_hold(certrole_result *s)
{
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    return s;
}

void cr_result_release(certrole_result *s)
{
    /* acq_rel: the last holder sees every other holder's reads done */
    if (s && atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1) {
        struct cr_decision *dec = s->dec;
        destroy(s);
        cr_decision_unref(dec);
    }
}

certrole_result *cr_result_view(certrole_result *s)
{
    /* malloc, not calloc: glibc's calloc bypasses its per-thread cache,
     * and this is the cached path's one allocation. */
    certrole_result *v = malloc(sizeof *v);
    if (!v)
        return NULL;
    *v = (certrole_result){ .code = s->code };
    /* Borrowed pointers (s is immutable); field by field, so s->refs,
     * which other threads change, is never read here. */
    v->code = s->code;
    v->message = s->message;
    v->hint = s->hint;
    v->id = s->id;
    v->have_id = s->have_id;
    v->depth = s->depth;
    v->user = s->user;
    v->realm = s->realm;
    v->roles = s->roles;
    v->n_roles = s->n_roles;
    v->cached = s->cached;
    v->dec = s->dec;
    v->audit_head = s->audit_head;
    v->audit_head_len = s->audit_head_len;
    atomic_init(&v->refs, 0);
    v->base = s;
    return v;
}

certrole_code certrole_result_set_peer(certrole_result *r, const char *addr)
{
    if (!r || r->shared)
        return CERTROLE_E_INVALID_ARGUMENT;
    char *p = NULL;
    if (addr && !(p = strdup(addr)))
        return CERTROLE_E_NO_MEMORY;
    free(r->peer);
    r->peer = p;
    return CERTROLE_OK;
}

const char *certrole_result_peer(const certrole_result *r)
{
    return r ? r->peer : NULL;
}

void certrole_result_free(certrole_result *r)
{
    if (!r)
        return;
    if (r->base) {              /* a view: its fields are the base's */
        free(r->peer);
        cr_result_release(r->base);
        free(r);
        return;
    }
    if (r->shared) {
        cr_result_release(r);    /* the last one gives back the decision */
        return;
    }
    struct cr_decision *dec = r->dec;
    destroy(r);
    cr_decision_unref(dec);
}

/* ----- accessors: NULL-safe, never crash on a NULL result ---------------- */

int certrole_result_allowed(const certrole_result *r)
{
    return r && r->code == CERTROLE_OK;
}

certrole_code certrole_result_code(const certrole_result *r)
{
    return r ? r->code : CERTROLE_E_INVALID_ARGUMENT;
}

const char *certrole_result_message(const certrole_result *r)
{
    if (!r)
        return certrole_strerror(CERTROLE_E_INVALID_ARGUMENT);
    return r->message ? r->message : certrole_strerror(r->code);
}

const char *certrole_result_hint(const certrole_result *r)
{
    if (!r)
        return cr_default_hint(CERTROLE_E_INVALID_ARGUMENT);
    if (r->hint)
        return r->hint;
    return r->code == CERTROLE_OK ? "" : cr_default_hint(r->code);
}

#define ID_FIELD(fn, field)                                  \
    const char *fn(const certrole_result *r)                 \
    {                                                        \
        return (r && r->have_id) ? r->id.field : NULL;       \
    }
ID_FIELD(certrole_result_subject, subject)
ID_FIELD(certrole_result_issuer, issuer)
ID_FIELD(certrole_result_serial, serial)
ID_FIELD(certrole_result_fingerprint, fingerprint)
ID_FIELD(certrole_result_spiffe_id, spiffe)
ID_FIELD(certrole_result_spiffe_problem, spiffe_why)
ID_FIELD(certrole_result_ski, ski)

time_t certrole_result_not_before(const certrole_result *r)
{
    return (r && r->have_id) ? r->id.not_before : 0;
}

time_t certrole_result_not_after(const certrole_result *r)
{
    return (r && r->have_id) ? r->id.not_after : 0;
}

int certrole_result_depth(const certrole_result *r)
{
    return r ? r->depth : 0;
}

X509 *certrole_result_leaf(const certrole_result *r)
{
    return (r && r->have_id) ? r->id.leaf : NULL;
}

size_t certrole_result_san_count(const certrole_result *r)
{
    return (r && r->have_id) ? r->id.n_sans : 0;
}

const char *certrole_result_san(const certrole_result *r, size_t i,
                                certrole_san_type *type)
{
    if (!r || !r->have_id || i >= r->id.n_sans)
        return NULL;
    if (type)
        *type = r->id.sans[i].type;
    return r->id.sans[i].value;
}

const char *certrole_result_user(const certrole_result *r)
{
    return r ? r->user : NULL;
}

const char *certrole_result_realm(const certrole_result *r)
{
    return r ? r->realm : NULL;
}

size_t certrole_result_role_count(const certrole_result *r)
{
    return r ? r->n_roles : 0;
}

const char *certrole_result_role(const certrole_result *r, size_t i)
{
    return (r && i < r->n_roles) ? r->roles[i] : NULL;
}

int certrole_result_has_role(const certrole_result *r, const char *role)
{
    if (!r || !role)
        return 0;
    for (size_t i = 0; i < r->n_roles; i++)
        if (r->roles[i] && strcmp(r->roles[i], role) == 0)
            return 1;
    return 0;
}

int certrole_result_cached(const certrole_result *r)
{
    return r ? r->cached : 0;
}

/* ----- JSON --------------------------------------------------------------- */

static const char *san_type_name(certrole_san_type t)
{
    switch (t) {
    case CERTROLE_SAN_EMAIL: return "email";
    case CERTROLE_SAN_DNS: return "dns";
    case CERTROLE_SAN_URI: return "uri";
    case CERTROLE_SAN_IP: return "ip";
    case CERTROLE_SAN_UPN: return "upn";
    }
    return "other";
}

/* ISO 8601 UTC, or null when unknown. */
static void json_time(cr_strbuf *b, time_t t)
{
    struct tm tm;
    char buf[32];
    if (t == 0 || !gmtime_r(&t, &tm) ||
        strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        cr_sb_append(b, "null");
        return;
    }
    cr_json_string(b, buf);
}

char *certrole_result_json(const certrole_result *r)
{
    cr_strbuf b = CR_STRBUF_INIT;
    int first = 1;
    if (!r)
        return NULL;
    cr_sb_appendc(&b, '{');
    cr_json_key(&b, &first, "ok");
    cr_sb_append(&b, r->code == CERTROLE_OK ? "true" : "false");
    cr_json_key(&b, &first, "decision");
    cr_json_string(&b, r->code == CERTROLE_OK ? "allow" : "deny");
    cr_json_key(&b, &first, "code");
    cr_json_string(&b, certrole_code_name(r->code));
    cr_json_key(&b, &first, "message");
    cr_json_string(&b, certrole_result_message(r));
    cr_json_key(&b, &first, "hint");
    cr_json_string(&b, certrole_result_hint(r));
    cr_result_json_fields(&b, &first, r);
    cr_sb_appendc(&b, '}');
    return cr_sb_take(&b);
}

void cr_result_json_fields(cr_strbuf *b, int *first, const certrole_result *r)
{
    cr_json_key(b, first, "subject");
    cr_json_string(b, certrole_result_subject(r));
    cr_json_key(b, first, "issuer");
    cr_json_string(b, certrole_result_issuer(r));
    cr_json_key(b, first, "serial");
    cr_json_string(b, certrole_result_serial(r));
    cr_json_key(b, first, "fingerprint_sha256");
    cr_json_string(b, certrole_result_fingerprint(r));
    cr_json_key(b, first, "san");
    cr_sb_appendc(b, '[');
    for (size_t i = 0; i < certrole_result_san_count(r); i++) {
        certrole_san_type t = 0;
        const char *v = certrole_result_san(r, i, &t);
        if (i)
            cr_sb_appendc(b, ',');
        cr_sb_append(b, "{\"type\":");
        cr_json_string(b, san_type_name(t));
        cr_sb_append(b, ",\"value\":");
        cr_json_string(b, v);
        cr_sb_appendc(b, '}');
    }
    cr_sb_appendc(b, ']');
    cr_json_key(b, first, "spiffe_id");
    cr_json_string(b, certrole_result_spiffe_id(r));
    cr_json_key(b, first, "spiffe_problem");
    cr_json_string(b, certrole_result_spiffe_problem(r));
    cr_json_key(b, first, "ski");
    cr_json_string(b, certrole_result_ski(r));
    cr_json_key(b, first, "not_before");
    json_time(b, certrole_result_not_before(r));
    cr_json_key(b, first, "not_after");
    json_time(b, certrole_result_not_after(r));
    cr_json_key(b, first, "depth");
    cr_sb_printf(b, "%d", r->depth);
    cr_json_key(b, first, "user");
    cr_json_string(b, r->user);
    cr_json_key(b, first, "roles");
    cr_sb_appendc(b, '[');
    for (size_t i = 0; i < r->n_roles; i++) {
        if (i)
            cr_sb_appendc(b, ',');
        cr_json_string(b, r->roles[i]);
    }
    cr_sb_appendc(b, ']');
    cr_json_key(b, first, "realm");
    cr_json_string(b, r->realm);
    cr_json_key(b, first, "cached");
    cr_sb_append(b, r->cached ? "true" : "false");
}

void cr_result_audit(const struct cr_log *l, const certrole_result *r, certrole_code code,
                     const char *method, const char *path, const char *why)
{
    if (!r || (r->dec && !r->dec->audit))
        return;
    struct cr_audit a = {
        .code = code, .subject = r->id.subject, .user = r->user, .realm = r->realm,
        .fingerprint = r->id.fingerprint, .peer = r->peer, .method = method, .path = path,
        .message = why ? why : r->message,
    };
    if (r->audit_head && code == r->code) {   /* the head was rendered for r->code */
        a.head = r->audit_head;
        a.head_len = r->audit_head_len;
    }
    cr_log_audit(l, &a);
}
