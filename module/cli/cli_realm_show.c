/* 'certrole realm list' and 'certrole realm show': the entries of a
 * realm file as the server loads them; show picks those of one user or
 * those a certificate would match. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cli_realm.h"
#include "json.h"
#include "readfile.h"
#include "realm_edit.h"
#include "strbuf.h"

static void entry_text(const struct cr_rentry *en, const char *by)
{
    printf("%ld\t%s\t%s\t%s", en->no, en->token, en->user ? en->user : "-", en->roles);
    if (en->issuer)
        printf("\tissuer=\"%s\"", en->issuer);
    if (by)
        printf("\tby=%s", by);
    putchar('\n');
}

static void entry_json(cr_strbuf *b, const struct cr_rentry *en, const char *by)
{
    int first = 1;
    cr_sb_appendc(b, '{');
    cr_json_key(b, &first, "line");
    cr_sb_printf(b, "%ld", en->no);
    cr_json_key(b, &first, "identity");
    cr_json_string(b, en->token);
    cr_json_key(b, &first, "user");
    if (en->user)
        cr_json_string(b, en->user);
    else
        cr_sb_append(b, "null");
    cr_json_key(b, &first, "roles");
    cr_sb_appendc(b, '[');
    for (const char *r = en->roles; *r;) {
        size_t n = strcspn(r, ",");
        if (r != en->roles)
            cr_sb_appendc(b, ',');
        cr_json_stringn(b, r, n);
        r += n + (r[n] == ',');
    }
    cr_sb_appendc(b, ']');
    cr_json_key(b, &first, "issuer");
    if (en->issuer)
        cr_json_string(b, en->issuer);
    else
        cr_sb_append(b, "null");
    if (by) {
        cr_json_key(b, &first, "by");
        cr_json_string(b, by);
    }
    cr_sb_appendc(b, '}');
}

/* The kind by which en is shown, "" for every entry (list), NULL when it
 * is not shown. */
static const char *selected(const struct ropts *o, const struct cr_rentry *en,
                            const struct cr_cands *cand)
{
    if (!strcmp(o->sub, "list"))
        return "";
    if (o->user)
        return en->user && !strcmp(en->user, o->user) ? "" : NULL;
    int k = en->norm ? cr_realm_match(en->norm, cand) : -1;
    return k >= 0 ? cr_rby_name((cr_rby)k) : NULL;
}

/* Prints the selected entries of the loaded realm; their number, or -1
 * with err when a line does not parse. */
static long walk(const struct ropts *o, const char *path, const char *data, size_t len,
                 const struct cr_cands *cand, cr_strbuf *js, char *err, size_t errlen)
{
    struct cr_rline l = { 0 };
    size_t pos = 0;
    long n = 0;
    while (cr_rline_next(data, len, &pos, &l)) {
        struct cr_rentry en;
        int r = cr_rentry_read(path, &l, &en, err, errlen);
        if (r < 0)
            return -1;
        const char *by = r > 0 ? selected(o, &en, cand) : NULL;
        if (by && o->json) {
            if (n)
                cr_sb_appendc(js, ',');
            entry_json(js, &en, *by ? by : NULL);
        } else if (by) {
            entry_text(&en, *by ? by : NULL);
        }
        n += by != NULL;
        if (r > 0)
            cr_rentry_free(&en);
    }
    return n;
}

static int finish(const struct ropts *o, const char *path, cr_strbuf *js, long n)
{
    int show = !strcmp(o->sub, "show");
    if (o->json) {
        cr_sb_append(js, "]}");
        char *j = cr_sb_take(js);
        if (!j)
            return cr_cli_fail(1, "realm", CERTROLE_E_NO_MEMORY, "out of memory");
        printf("%s\n", j);
        free(j);
    } else if (show && n == 0) {
        fprintf(stderr, "certrole realm show: no entry of %s matches %s%s\n", path,
                o->user ? "user " : "", o->user ? o->user : o->cert);
    } else if (show && o->cert && n > 1) {
        fprintf(stderr, "certrole realm show: %ld entries match this certificate: the realm"
                " refuses it as ambiguous\n", n);
    }
    return show && n == 0 ? CR_CLI_EXIT_DENIED : CR_CLI_EXIT_OK;
}

int cr_realm_list(const struct ropts *o)
{
    char cmd[32], err[1024];
    snprintf(cmd, sizeof cmd, "realm %s", o->sub);
    struct cr_cands cand = { NULL, 0 };
    if (o->cert) {
        struct certrole_identity id;
        memset(&id, 0, sizeof id);
        int st = cr_realm_cert_identity(o, cmd, &id);
        if (st == 0 && cr_realm_cands(&id, &cand) < 0)
            st = cr_cli_fail(o->json, cmd, CERTROLE_E_NO_MEMORY, "out of memory");
        cr_identity_clear(&id);
        if (st) {
            cr_realm_cands_free(&cand);
            return st;
        }
    }
    size_t len = 0, cap = 0;
    int why = 0;
    /* Replaced only by rename, so one read sees one version. */
    char *data = cr_rf_read(o->realm, (size_t)1 << 30, NULL, &len, &cap, &why);
    cr_table *t = data ? cr_redit_load(o->realm, data, len, err, sizeof err) : NULL;
    int status;
    if (!data) {
        char buf[256];
        status = cr_cli_fail(o->json, cmd, CERTROLE_E_IO, "%s: %s", o->realm,
                             cr_rf_strerror(o->realm, why, buf, sizeof buf));
    } else if (!t) {
        status = cr_cli_fail(o->json, cmd, CERTROLE_E_POLICY_ERROR, "the realm does not load: %s",
                             err);
    } else {
        cr_strbuf js = CR_STRBUF_INIT;
        int first = 1;
        if (o->json) {
            cr_sb_appendc(&js, '{');
            cr_json_key(&js, &first, "ok");
            cr_sb_append(&js, "true");
            cr_json_key(&js, &first, "realm");
            cr_json_string(&js, o->realm);
            cr_json_key(&js, &first, "entries");
            cr_sb_appendc(&js, '[');
        }
        long n = walk(o, o->realm, data, len, &cand, &js, err, sizeof err);
        if (n < 0) {
            cr_sb_free(&js);
            status = cr_cli_fail(o->json, cmd, CERTROLE_E_POLICY_ERROR, "%s", err);
        } else {
            status = finish(o, o->realm, &js, n);
        }
    }
    if (t)
        cr_table_free(t);
    free(data);
    cr_realm_cands_free(&cand);
    return status;
}
