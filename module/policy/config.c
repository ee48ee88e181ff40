/* Builds a struct cr_config from a parsed policy (see config.h). */
#define _GNU_SOURCE
#include "config.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "authorize.h"
#include "cache.h"
#include "cache_shared.h"
#include "policy.h"
#include "readfile.h"
#include "realm_loader.h"

/* ---- watch list ----------------------------------------------------------- */

struct cr_watch_entry {
    char *path;
    int exists;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
};

struct cr_watch {
    struct cr_watch_entry *e;
    size_t n, cap;
    int failed;
};

/* exists: 1, 0 (gone), or -1 when this process cannot tell (a worker
 * that runs as another user than the one that loaded the file: EACCES). */
static void watch_fill(struct cr_watch_entry *w, const struct stat *seen)
{
    struct stat st;
    if (seen) {
        st = *seen;
        w->exists = 1;
    } else if (stat(w->path, &st) == 0) {
        w->exists = 1;
    } else {
        w->exists = errno == ENOENT || errno == ENOTDIR ? 0 : -1;
    }
    if (w->exists == 1) {
        w->dev = st.st_dev;
        w->ino = st.st_ino;
        w->size = st.st_size;
        w->mtime = st.st_mtim;
    }
}

static void watch_stat(struct cr_watch_entry *w)
{
    watch_fill(w, NULL);
}

static void watch_add(struct cr_watch *w, const char *path)
{
    if (!path || !*path || w->failed)
        return;
    for (size_t i = 0; i < w->n; i++)
        if (strcmp(w->e[i].path, path) == 0)
            return;
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 8;
        struct cr_watch_entry *e = realloc(w->e, cap * sizeof *e);
        if (!e) {
            w->failed = 1;
            return;
        }
        w->e = e;
        w->cap = cap;
    }
    struct cr_watch_entry *n = &w->e[w->n];
    memset(n, 0, sizeof *n);
    if (!(n->path = strdup(path))) {
        w->failed = 1;
        return;
    }
    /* A file this build read is recorded as it was read (the journal
     * holds its descriptor's identity); one read elsewhere (a realm
     * module registers its file before reading it) as it is now. */
    watch_fill(n, cr_rf_journal_find(cr_rf_journal_current(), path));
    w->n++;
}

/* The realm env's watch_file callback. */
static void watch_cb(void *watch_ctx, const char *path)
{
    watch_add(watch_ctx, path);
}

static void watch_free(struct cr_watch *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n; i++)
        free(w->e[i].path);
    free(w->e);
    free(w);
}

int cr_config_changed(const struct cr_config *c)
{
    if (!c || !c->watch)
        return 0;
    for (size_t i = 0; i < c->watch->n; i++) {
        struct cr_watch_entry now = c->watch->e[i];
        watch_stat(&now);
        const struct cr_watch_entry *was = &c->watch->e[i];
        if (now.exists < 0)
            continue;   /* cannot tell here: a reload applies it */
        if (now.exists != was->exists)
            return 1;
        if (now.exists && (now.dev != was->dev || now.ino != was->ino ||
                           now.size != was->size || now.mtime.tv_sec != was->mtime.tv_sec ||
                           now.mtime.tv_nsec != was->mtime.tv_nsec))
            return 1;
    }
    return 0;
}

const char *cr_config_unseen(const struct cr_config *c)
{
    if (!c || !c->watch)
        return NULL;
    for (size_t i = 0; i < c->watch->n; i++) {
        struct cr_watch_entry now = c->watch->e[i];
        watch_stat(&now);
        if (now.exists < 0)
            return c->watch->e[i].path;
    }
    return NULL;
}

int cr_config_settled(const struct cr_config *c, time_t now, long quiet)
{
    if (!c || !c->watch)
        return 1;
    for (size_t i = 0; i < c->watch->n; i++) {
        struct stat st;
        if (stat(c->watch->e[i].path, &st) == 0 && st.st_mtim.tv_sec + quiet > now &&
            st.st_mtim.tv_sec <= now + quiet)
            return 0;
    }
    return 1;
}

/* ---- reference counting --------------------------------------------------- */

static void config_free(struct cr_config *c)
{
    cr_cache_free(c->cache);
    cr_stack_free(c->stack);
    cr_decision_unref(c->decision);
    cr_trust_free(c->trust);
    watch_free(c->watch);
    free(c);
}

void cr_config_ref(struct cr_config *c)
{
    if (c)
        atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
}

void cr_config_unref(struct cr_config *c)
{
    if (c && atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
        config_free(c);
}

/* ---- building --------------------------------------------------------------- */

#define ERRLEN 768

static certrole_code at(char **err, certrole_code code, const char *file, int line,
                        int col, const char *what, const char *msg)
{
    *err = cr_policy_errf(file, line, col, "%s%s", what, msg);
    return *err ? code : CERTROLE_E_NO_MEMORY;
}

/* Logs the trust profile's warnings (a check switched off next to what
 * it would use) at the option they are about: the load goes on, but
 * 'certrole policy-check' and the log say so. */
static void trust_warnings(struct cr_config *c, const struct cr_directive *d)
{
    const char *key = NULL, *msg;
    for (size_t w = 0; (msg = cr_trust_warning(c->trust, w, &key)) != NULL; w++) {
        int line = d->line, col = d->col;
        for (size_t i = 0; i < d->nargs; i++)
            if (key && strcmp(d->args[i].key, key) == 0) {
                line = d->args[i].line;
                col = d->args[i].col;
            }
        char *at = cr_policy_errf(d->file, line, col, "trust: %s", msg);
        cr_log_write(&c->log, CERTROLE_LOG_WARNING, "%s", at ? at : msg);
        free(at);
    }
}

static certrole_code build_trust(struct cr_config *c, const struct cr_directive *d, char **err)
{
    struct cr_trust_opts o;
    char e[ERRLEN] = "";
    certrole_code rc;
    cr_trust_opts_init(&o);
    for (size_t i = 0; i < d->nargs; i++) {
        const struct cr_parg *a = &d->args[i];
        rc = cr_trust_opts_set(&o, a->key, a->value, d->base_dir, e, sizeof e);
        if (rc != CERTROLE_OK) {
            cr_trust_opts_clear(&o);
            return at(err, rc == CERTROLE_E_NO_MEMORY ? rc : CERTROLE_E_POLICY_ERROR,
                      d->file, a->line, a->col, "trust: ", e[0] ? e : "bad option");
        }
    }
    e[0] = '\0';
    struct cr_trust_blame b = { NULL, 0 };
    rc = cr_trust_build_blame(&o, &c->trust, e, sizeof e, &b);
    cr_trust_opts_clear(&o);   /* b names a key by literal and position: still good */
    if (rc != CERTROLE_OK) {
        /* At the option the failure is about (the loader says which, by
         * key and position); else at the directive. */
        int line = d->line, col = d->col;
        for (size_t i = 0, seen = 0; b.key && i < d->nargs; i++)
            if (strcmp(d->args[i].key, b.key) == 0 && seen++ == b.nth) {
                line = d->args[i].line;
                col = d->args[i].col;
                break;
            }
        return at(err, rc == CERTROLE_E_NO_MEMORY ? rc : CERTROLE_E_POLICY_ERROR,
                  d->file, line, col, "trust: ", e[0] ? e : "cannot build the trust profile");
    }
    const char *const *files = cr_trust_files(c->trust);
    for (size_t i = 0; files && files[i]; i++)
        watch_add(c->watch, files[i]);
    trust_warnings(c, d);
    return CERTROLE_OK;
}

static certrole_code build_realm(struct cr_config *c, const struct cr_directive *d, char **err)
{
    char e[ERRLEN] = "";
    enum cr_control control = (enum cr_control)cr_policy_control(d->args[0].text);
    const struct cr_parg *mod = &d->args[1];
    struct cr_realm_module *m = NULL;
    certrole_code rc = cr_realm_load(mod->text, &m, e, sizeof e);
    if (rc != CERTROLE_OK)
        return at(err, rc, d->file, mod->line, mod->col, "", e);

    int argc = (int)d->nargs - 2;
    const char **argv = calloc((size_t)argc + 1, sizeof *argv);
    if (!argv) {
        cr_realm_unload(m);
        return CERTROLE_E_NO_MEMORY;
    }
    for (int i = 0; i < argc; i++)
        argv[i] = d->args[2 + i].text;
    certrole_realm_env env = {
        .base_dir = d->base_dir,
        .log = cr_log_line, .log_ctx = &c->log,
        .watch_file = watch_cb, .watch_ctx = c->watch,
    };
    void *state = NULL;
    int orc = m->ops->open(&state, argc, argv, &env, e, sizeof e);
    free(argv);
    if (orc != 0) {
        e[sizeof e - 1] = '\0';
        cr_realm_unload(m);
        char what[128];
        snprintf(what, sizeof what, "realm %s: ", mod->text);
        return at(err, CERTROLE_E_POLICY_ERROR, d->file, mod->line, mod->col, what,
                  e[0] ? e : "module refused its arguments");
    }
    char where[PATH_MAX + 32];
    snprintf(where, sizeof where, "%s:%d", d->file, d->line);
    if (cr_stack_add(c->stack, control, m, state, where) < 0) {
        m->ops->close(state);
        cr_realm_unload(m);
        return CERTROLE_E_NO_MEMORY;
    }
    return CERTROLE_OK;
}

static certrole_code build_rule(struct cr_config *c, const struct cr_directive *d, char **err)
{
    char e[ERRLEN] = "";
    const char **roles = calloc(d->nargs, sizeof *roles);
    if (!roles)
        return CERTROLE_E_NO_MEMORY;
    for (size_t i = 2; i < d->nargs; i++)
        roles[i - 2] = d->args[i].text;
    char where[PATH_MAX + 32];
    snprintf(where, sizeof where, "%s:%d", d->file, d->line);
    int rc = cr_rules_add(c->decision->rules, d->args[0].text, d->args[1].text, roles, d->nargs - 2,
                          where, e, sizeof e);
    free(roles);
    if (rc < 0)
        return at(err, CERTROLE_E_POLICY_ERROR, d->file, d->args[1].line, d->args[1].col, "", e);
    return CERTROLE_OK;
}

static int parse_num(const char *s, long max, long *out)
{
    char *end;
    if (!*s || *s == '-' || *s == '+')
        return -1;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

/* option path-parameters=refuse|strip, path-case=sensitive|insensitive.
 * Returns 1 when a is one of them (handled), 0 when not, -1 when its
 * value is wrong (*rc and *err set). */
static int path_option(struct cr_path_mode *m, const struct cr_directive *d,
                       const struct cr_parg *a, certrole_code *rc, char **err)
{
    static const char *const vals[2][2] = { { "refuse", "strip" },
                                            { "sensitive", "insensitive" } };
    int k = strcmp(a->key, "path-parameters") == 0 ? 0
          : strcmp(a->key, "path-case") == 0 ? 1 : -1;
    if (k < 0)
        return 0;
    int v = strcmp(a->value, vals[k][0]) == 0 ? 0 : strcmp(a->value, vals[k][1]) == 0 ? 1 : -1;
    if (v < 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "option %s: expected %s or %s, got '%.60s'",
                 a->key, vals[k][0], vals[k][1], a->value);
        *rc = at(err, CERTROLE_E_POLICY_ERROR, d->file, a->line, a->vcol, "", msg);
        return -1;
    }
    if (k == 0)
        m->params = v ? CR_PATH_PARAMS_STRIP : CR_PATH_PARAMS_REFUSE;
    else
        m->fold_case = v;
    return 1;
}

static certrole_code build_option(struct cr_config *c, const struct cr_directive *d,
                                  struct cr_path_mode *pm, char **err)
{
    for (size_t i = 0; i < d->nargs; i++) {
        const struct cr_parg *a = &d->args[i];
        long v;
        certrole_code prc = CERTROLE_OK;
        int po = path_option(pm, d, a, &prc, err);
        if (po < 0)
            return prc;
        if (po > 0)
            continue;
        if (strcmp(a->key, "audit") == 0) {
            if (strcmp(a->value, "yes") == 0)
                c->decision->audit = 1;
            else if (strcmp(a->value, "no") == 0)
                c->decision->audit = 0;
            else
                return at(err, CERTROLE_E_POLICY_ERROR, d->file, a->line, a->vcol,
                          "option audit: expected yes or no, got ", a->value);
            continue;
        }
        if (strcmp(a->key, "cache-shared") == 0) {
            if (cr_shcache_parse_size(a->value, &c->cache_shared) != 0)
                return at(err, CERTROLE_E_POLICY_ERROR, d->file, a->line, a->vcol,
                          "option cache-shared: expected 0 or 64k..1024m bytes (suffix k or m), "
                          "got ", a->value);
            continue;
        }
        long max = strcmp(a->key, "cache-size") == 0 ? 100000000L
                 : strcmp(a->key, "refresh") == 0 ? 86400L : 7L * 86400;
        if (parse_num(a->value, max, &v) < 0) {
            char msg[160];
            snprintf(msg, sizeof msg, "option %s: expected a whole number 0..%ld, got '%.60s'",
                     a->key, max, a->value);
            return at(err, CERTROLE_E_POLICY_ERROR, d->file, a->line, a->vcol, "", msg);
        }
        if (strcmp(a->key, "cache-ttl") == 0)
            c->cache_ttl = v;
        else if (strcmp(a->key, "deny-ttl") == 0)
            c->deny_ttl = v;
        else if (strcmp(a->key, "refresh") == 0)
            c->refresh = v;
        else
            c->cache_size = (size_t)v;
    }
    return CERTROLE_OK;
}

/* The shared cache's tag: the policy as parsed and every watched file's
 * identity as this build recorded it, so two processes that loaded the
 * same files compute the same tag and a changed file gives a new one. */
static void config_tag(struct cr_config *c, const struct cr_policy *p)
{
    if (cr_trust_lazy_crls(c->trust)) {
        /* Each process reads those CRLs itself, when first needed: one
         * process's answer may rest on a CRL another has not read. */
        cr_log_write(&c->log, CERTROLE_LOG_WARNING, "cache-shared is not used: the ca-dir "
                     "holds hashed CRLs (*.rN), which each process reads on its own; give "
                     "them as crl-file to share the cache");
        return;
    }
    struct cr_shcache_tag *md = cr_shcache_tag_begin(p);
    if (!md)
        return;
    for (size_t i = 0; i < c->watch->n; i++) {
        const struct cr_watch_entry *w = &c->watch->e[i];
        cr_shcache_tag_file(md, w->path, w->exists, w->dev, w->ino, w->size, &w->mtime);
    }
    c->have_tag = cr_shcache_tag_end(md, c->shared_tag) == 0;
}

certrole_code cr_config_build(const struct cr_policy *p, const struct cr_log *log,
                              struct cr_config **out, char **err)
{
    certrole_code rc = CERTROLE_OK;
    *out = NULL;
    *err = NULL;
    struct cr_config *c = calloc(1, sizeof *c);
    if (!c)
        return CERTROLE_E_NO_MEMORY;
    atomic_init(&c->refs, 1);
    c->cache_ttl = CR_DEFAULT_CACHE_TTL;
    c->deny_ttl = CR_DEFAULT_DENY_TTL;
    c->cache_size = CR_DEFAULT_CACHE_SIZE;
    c->refresh = CR_DEFAULT_REFRESH;
    if (log)
        c->log = *log;
    c->watch = calloc(1, sizeof *c->watch);
    c->stack = cr_stack_new();
    c->decision = cr_decision_new(log);
    if (!c->watch || !c->stack || !c->decision) {
        rc = CERTROLE_E_NO_MEMORY;
        goto fail;
    }
    for (size_t i = 0; i < p->nfiles; i++)
        if (p->real_paths[i])
            watch_add(c->watch, p->real_paths[i]);
    /* Options first (they do not depend on anything), then in file order. */
    struct cr_path_mode pm = { CR_PATH_PARAMS_REFUSE, 0 };
    for (size_t i = 0; i < p->ndirs && rc == CERTROLE_OK; i++)
        if (p->dirs[i].kind == CR_DIR_OPTION)
            rc = build_option(c, &p->dirs[i], &pm, err);
    cr_rules_set_mode(c->decision->rules, &pm);
    for (size_t i = 0; i < p->ndirs && rc == CERTROLE_OK; i++) {
        const struct cr_directive *d = &p->dirs[i];
        switch (d->kind) {
        case CR_DIR_TRUST: rc = build_trust(c, d, err); break;
        case CR_DIR_REALM: rc = build_realm(c, d, err); break;
        case CR_DIR_REQUIRE: rc = build_rule(c, d, err); break;
        case CR_DIR_OPTION: break;
        }
    }
    if (rc != CERTROLE_OK)
        goto fail;
    if (!c->trust) {
        rc = at(err, CERTROLE_E_POLICY_ERROR, p->nfiles ? p->files[0] : "policy text", 1, 1, "",
                "no 'trust' directive");
        goto fail;
    }
    if (c->watch->failed) {
        rc = CERTROLE_E_NO_MEMORY;
        goto fail;
    }
    if (c->cache_size > 0 && (c->cache_ttl > 0 || c->deny_ttl > 0)) {
        c->cache = cr_cache_new(c->cache_size);
        if (!c->cache) {
            rc = CERTROLE_E_NO_MEMORY;
            goto fail;
        }
    }
    if (c->cache_shared)
        config_tag(c, p);
    *out = c;
    return CERTROLE_OK;
fail:
    config_free(c);
    if (rc == CERTROLE_E_NO_MEMORY && !*err)
        *err = strdup("out of memory");
    return rc;
}
