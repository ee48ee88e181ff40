/* 'certrole realm add' and 'certrole realm remove' (see cli_realm.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cli_realm.h"
#include "realm_edit.h"
#include "strbuf.h"

static int cand_add(struct cr_cands *c, cr_rby by, char *token)
{
    char *norm = token ? cr_rtok_norm(token, strlen(token)) : NULL;
    free(token);
    if (!norm)
        return 0;   /* no such field, or one no entry can name */
    struct cr_cand *v = realloc(c->v, (c->n + 1) * sizeof *v);
    if (!v) {
        free(norm);
        return -1;
    }
    c->v = v;
    c->v[c->n].by = by;
    c->v[c->n++].norm = norm;
    return 0;
}

int cr_realm_cands(const struct certrole_identity *id, struct cr_cands *c)
{
    static const cr_rby whole[] = { CR_BY_PIN, CR_BY_DN, CR_BY_ISSUER_SERIAL, CR_BY_SPIFFE };
    char err[512], warn[512];
    int rc = 0;
    memset(c, 0, sizeof *c);
    for (size_t k = 0; rc == 0 && k < sizeof whole / sizeof whole[0]; k++)
        rc = cand_add(c, whole[k], cr_rtok_for_cert(id, whole[k], err, sizeof err, warn,
                                                    sizeof warn));
    for (size_t i = 0; rc == 0 && i < id->n_sans; i++) {
        cr_rby by;
        if (cr_rby_of_san(id->sans[i].type, &by) == 0)
            rc = cand_add(c, by, cr_rtok_kind_value(by, id->sans[i].value));
    }
    return rc;
}

void cr_realm_cands_free(struct cr_cands *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i].norm);
    free(c->v);
    memset(c, 0, sizeof *c);
}

int cr_realm_match(const char *norm, const struct cr_cands *c)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(norm, c->v[i].norm))
            return (int)c->v[i].by;
    /* spiffe://td/path/ * : IDs strictly under that path. */
    size_t n = strlen(norm);
    for (size_t i = 0; i < c->n; i++)
        if (c->v[i].by == CR_BY_SPIFFE && !strncmp(norm, "spiffe\n", 7) && n > 9 &&
            !strcmp(norm + n - 2, "/*") && !strncmp(c->v[i].norm, norm, n - 1))
            return CR_BY_SPIFFE;
    return -1;
}

/* Under --policy: is the chain trusted? 0 with *leaf (a new reference),
 * or an exit status. A chain that validated but that no realm knows yet
 * is what enrolment is for, so the realm's own codes pass. */
static int trust_check(const struct ropts *o, X509 **leaf)
{
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    certrole_code rc = certrole_open(&ctx, o->policy, &err);
    if (rc != CERTROLE_OK) {
        cr_cli_fail(0, "realm add", rc, "%s", err ? err : certrole_strerror(rc));
        certrole_free(err);
        return CR_CLI_EXIT_USAGE;
    }
    size_t len = 0;
    char *data = cr_cli_read_file(o->cert, &len);
    if (!data) {
        certrole_close(ctx);
        return cr_cli_fail(0, "realm add", CERTROLE_E_IO, "%s: %s", o->cert, strerror(errno));
    }
    certrole_result *res = NULL;
    rc = certrole_verify_data(ctx, data, len, CERTROLE_FORMAT_AUTO, NULL, &res);
    free(data);
    certrole_close(ctx);
    if (!res)
        return cr_cli_fail(0, "realm add", rc, "%s", certrole_strerror(rc));
    /* A realm that refuses the peer (a disabled account, an ambiguous
     * match) said no on purpose: enrolling past it takes --force. */
    int chain_ok = rc == CERTROLE_OK ||
        (certrole_result_depth(res) > 0 &&
         (rc == CERTROLE_E_UNKNOWN_IDENTITY || rc == CERTROLE_E_REALM_UNAVAILABLE ||
          rc == CERTROLE_E_FORBIDDEN));
    int status = 0;
    if (!chain_ok) {
        const char *hint = certrole_result_hint(res);
        fprintf(stderr, "certrole realm add: %s%s is not valid under %s: %s: %s\n",
                o->force ? "warning: " : "", o->cert, o->policy, certrole_code_name(rc),
                certrole_result_message(res));
        if (hint && *hint)
            fprintf(stderr, "  hint: %s\n", hint);
        if (o->force && certrole_result_leaf(res))
            fprintf(stderr, "  adding it anyway (--force)\n");
        else
            status = CR_CLI_EXIT_DENIED;
    }
    if (!status && (*leaf = certrole_result_leaf(res)) != NULL)
        X509_up_ref(*leaf);
    certrole_result_free(res);
    return status;
}

/* 1 (reported) when an entry already matches the certificate: the same
 * identity, or another one of it (a pin beside a DN entry), which the
 * realm would answer as ambiguous and refuse. */
static int conflict(const struct ropts *o, const struct cr_redit *e, const char *norm,
                    const struct cr_cands *cand)
{
    struct cr_rline l = { 0 };
    size_t pos = 0;
    while (cr_rline_next(e->data, e->len, &pos, &l)) {
        struct cr_rentry en;
        char err[512];
        if (cr_rentry_read(e->path, &l, &en, err, sizeof err) <= 0)
            continue;   /* the loader reports it */
        int k = en.norm ? cr_realm_match(en.norm, cand) : -1;
        if (k >= 0) {
            if (!strcmp(en.norm, norm) && en.user && !strcmp(en.user, o->user))
                fprintf(stderr, "certrole realm add: user %s already has this identity:"
                        " %s line %ld: %.*s\n", o->user, e->path, l.no, (int)l.len, l.p);
            else if (!strcmp(en.norm, norm))
                fprintf(stderr, "certrole realm add: an entry for this identity already exists:"
                        " %s line %ld: %.*s\n", e->path, l.no, (int)l.len, l.p);
            else
                fprintf(stderr, "certrole realm add: the certificate already matches %s line"
                        " %ld by %s: %.*s\n  hint: a certificate that two entries match is"
                        " refused by the realm; remove that entry first\n", e->path, l.no,
                        cr_rby_name((cr_rby)k), (int)l.len, l.p);
            cr_rentry_free(&en);
            return 1;
        }
        cr_rentry_free(&en);
    }
    return 0;
}

static int loader_refuses(const char *line, const char *err)
{
    fprintf(stderr, "certrole realm add: the realm's loader refuses the file with the new"
            " entry; nothing was written\n  entry: %s\n  error: %s\n", line, err);
    return CR_CLI_EXIT_USAGE;
}

/* "TOKEN ROLES user=NAME" in *line, checked to read back as exactly
 * these. 0, or an exit status (reported). */
static int entry_line(const struct ropts *o, const char *token, char **line)
{
    char *user = NULL, err[1024];
    *line = NULL;
    if (cr_rtok_value(&user, "user=", o->user) < 0 ||
        asprintf(line, "%s %s %s", token, o->roles, user) < 0) {
        free(user);
        *line = NULL;
        return cr_cli_fail(0, "realm add", CERTROLE_E_NO_MEMORY, "out of memory");
    }
    free(user);
    struct cr_rline l = { .p = *line, .len = strlen(*line), .no = 1 };
    struct cr_rentry en;
    int r = cr_rentry_read("the new entry", &l, &en, err, sizeof err);
    if (r < 0)
        return loader_refuses(*line, err);
    int same = r > 0 && en.user && !strcmp(en.user, o->user) && !strcmp(en.roles, o->roles) &&
               !strcmp(en.token, token);
    if (r > 0)
        cr_rentry_free(&en);
    if (!same)
        return cr_cli_fail(0, "realm add", CERTROLE_E_INTERNAL, "the entry does not read back"
                           " as written: %s", *line);
    return 0;
}

/* Appends line to the realm and writes it; an exit status. */
static int append_and_commit(const struct ropts *o, struct cr_redit *e, const char *line)
{
    cr_strbuf b = CR_STRBUF_INIT;
    long no = 1;
    for (size_t i = 0; i < e->len; i++)
        no += e->data[i] == '\n';
    /* Line ends as the file has them (its first line's). */
    const char *nl = memchr(e->data, '\n', e->len);
    const char *eol = nl && nl > e->data && nl[-1] == '\r' ? "\r\n" : "\n";
    cr_sb_appendn(&b, e->data, e->len);
    if (e->len && e->data[e->len - 1] != '\n') {
        cr_sb_append(&b, eol);
        no++;
    }
    cr_sb_append(&b, line);
    cr_sb_append(&b, eol);
    if (b.failed) {
        cr_sb_free(&b);
        return cr_cli_fail(0, "realm add", CERTROLE_E_NO_MEMORY, "out of memory");
    }
    char err[1024];
    int rc = cr_redit_commit(e, b.s, b.len, err, sizeof err);
    cr_sb_free(&b);
    if (rc == -2)
        return loader_refuses(line, err);
    if (rc < 0)
        return cr_cli_fail(0, "realm add", CERTROLE_E_IO, "%s; nothing was written", err);
    printf("added to %s line %ld: %s\n", e->path, no, line);
    return CR_CLI_EXIT_OK;
}

static int add_identity(const struct ropts *o, const struct certrole_identity *id)
{
    char err[1024], warn[512];
    char *token = cr_rtok_for_cert(id, o->by, err, sizeof err, warn, sizeof warn);
    char *norm = token ? cr_rtok_norm(token, strlen(token)) : NULL;
    struct cr_cands cand;
    if (cr_realm_cands(id, &cand) < 0) {
        cr_realm_cands_free(&cand);
        free(token);
        free(norm);
        return cr_cli_fail(0, "realm add", CERTROLE_E_NO_MEMORY, "out of memory");
    }
    /* Read back, the token names this very certificate by that kind. */
    int ok = norm && cr_realm_match(norm, &cand) == (int)o->by;
    if (token && !ok)
        snprintf(err, sizeof err, "the %s of the certificate does not read back as the same"
                 " name when written; use --by pin", cr_rby_name(o->by));
    char *line = NULL;
    int status = CR_CLI_EXIT_DENIED;
    struct cr_redit e;
    if (!ok)
        fprintf(stderr, "certrole realm add: %s\n", err);
    else if (*warn)
        fprintf(stderr, "certrole realm add: note: %s\n", warn);
    if (ok && (status = entry_line(o, token, &line)) == 0) {
        if (cr_redit_begin(&e, o->realm, 1, err, sizeof err) < 0)
            status = cr_cli_fail(0, "realm add", CERTROLE_E_IO, "%s", err);
        else if (conflict(o, &e, norm, &cand))
            status = CR_CLI_EXIT_DENIED;
        else
            status = append_and_commit(o, &e, line);
        cr_redit_end(&e);
    }
    cr_realm_cands_free(&cand);
    free(token);
    free(norm);
    free(line);
    return status;
}

int cr_realm_add(const struct ropts *o)
{
    struct certrole_identity id;
    memset(&id, 0, sizeof id);
    int st;
    if (o->policy) {
        X509 *leaf = NULL;
        if ((st = trust_check(o, &leaf)) != 0)
            return st;
        char *msg = NULL, *hint = NULL;
        certrole_code rc = cr_identity_from_leaf(&id, leaf, &msg, &hint);
        X509_free(leaf);
        if (rc != CERTROLE_OK) {
            fprintf(stderr, "certrole realm add: %s: %s\n", certrole_code_name(rc),
                    msg ? msg : certrole_strerror(rc));
            free(msg);
            free(hint);
            cr_identity_clear(&id);
            return CR_CLI_EXIT_DENIED;
        }
    } else if ((st = cr_realm_cert_identity(o, "realm add", &id)) != 0) {
        cr_identity_clear(&id);
        return st;
    }
    st = add_identity(o, &id);
    cr_identity_clear(&id);
    return st;
}

int cr_realm_remove(const struct ropts *o)
{
    char *want = o->entry ? cr_rtok_norm(o->entry, strlen(o->entry)) : NULL;
    if (o->entry && !want)
        return cr_cli_fail(0, "realm remove", CERTROLE_E_INVALID_ARGUMENT,
                           "--entry '%s' is not an identity token (\"DN\", sha256:FP,"
                           " email:VALUE, ...)", o->entry);
    char err[1024];
    struct cr_redit e;
    if (cr_redit_begin(&e, o->realm, 0, err, sizeof err) < 0) {
        cr_redit_end(&e);
        free(want);
        return cr_cli_fail(0, "realm remove", CERTROLE_E_IO, "%s", err);
    }
    cr_strbuf b = CR_STRBUF_INIT, gone = CR_STRBUF_INIT;
    struct cr_rline l = { 0 };
    size_t pos = 0, kept = 0;
    int n = 0;
    while (cr_rline_next(e.data, e.len, &pos, &l)) {
        struct cr_rentry en;
        if (cr_rentry_read(e.path, &l, &en, err, sizeof err) <= 0)
            continue;
        int hit = o->user ? en.user && !strcmp(en.user, o->user)
                          : en.norm && !strcmp(en.norm, want);
        cr_rentry_free(&en);
        if (!hit)
            continue;
        cr_sb_appendn(&b, e.data + kept, l.off - kept);
        kept = l.end;
        cr_sb_printf(&gone, "removed from %s line %ld: %.*s\n", e.path, l.no, (int)l.len, l.p);
        n++;
    }
    cr_sb_appendn(&b, e.data + kept, e.len - kept);
    int status = CR_CLI_EXIT_OK, rc = 0;
    if (b.failed || gone.failed)
        status = cr_cli_fail(0, "realm remove", CERTROLE_E_NO_MEMORY, "out of memory");
    else if (n == 0) {
        fprintf(stderr, "certrole realm remove: no entry of %s matches %s %s\n", e.path,
                o->user ? "user" : "identity", o->user ? o->user : o->entry);
        status = CR_CLI_EXIT_DENIED;
    } else if ((rc = cr_redit_commit(&e, b.s ? b.s : "", b.len, err, sizeof err)) < 0)
        status = cr_cli_fail(0, "realm remove", rc == -2 ? CERTROLE_E_POLICY_ERROR : CERTROLE_E_IO,
                             "%s; nothing was written", err);
    else
        fputs(cr_sb_str(&gone), stdout);
    cr_sb_free(&b);
    cr_sb_free(&gone);
    cr_redit_end(&e);
    free(want);
    return status;
}
