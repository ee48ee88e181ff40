/* Loading a realm file into the table (see file_load.h). */
#define _GNU_SOURCE
#include "file_load.h"
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "certrole.h"
#include "file_cond.h"
#include "file_norm.h"
#include "file_parse.h"
#include "role_name.h"
#include "tomcat.h"

/* Shared by both loaders while a table is being built. */
struct loader {
    cr_table *t;
    const char *path;
    const char *issuer_key; /* realm-wide binding, or NULL */
    char *scratch;          /* CR_FLINE_MAX + 1 bytes (tomcat) */
    size_t skipped;         /* tomcat users that are not DNs */
};

static void errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* certrole_dn_key of len bytes of text; NULL with err on failure. */
static char *dn_key(struct loader *L, const char *text, size_t len, long line, size_t col,
                    char *err, size_t errlen)
{
    memcpy(L->scratch, text, len);
    L->scratch[len] = '\0';
    char *key = NULL, *why = NULL;
    certrole_code rc = certrole_dn_key(L->scratch, &key, &why);
    if (rc != CERTROLE_OK) {
        if (col)
            errf(err, errlen, "%s:%ld:%zu: bad DN: %s", L->path, line, col,
                 why ? why : certrole_strerror(rc));
        else
            errf(err, errlen, "%s:%ld: bad DN: %s", L->path, line, why ? why : certrole_strerror(rc));
        certrole_free(why);
        return NULL;
    }
    certrole_free(why);
    return key;
}

static int table_err(struct loader *L, int rc, long line, char *err, size_t errlen)
{
    errf(err, errlen, "%s:%ld: %s", L->path, line,
         rc == CR_TABLE_TOOBIG ? "realm file too large (4 GiB of entries)" : "out of memory");
    return -1;
}

/* Adds one entry: key, optional user, roles (a validated comma list). */
static int add_entry(struct loader *L, const char *key, size_t keylen, uint64_t hash,
                     uint32_t issuer, uint32_t cond, const char *user, size_t userlen,
                     const char *roles, size_t roleslen, long line, char *err, size_t errlen)
{
    cr_table *t = L->t;
    int rc = cr_table_begin(t, key, keylen, issuer, user, userlen, (uint32_t)line);
    if (rc == CR_TABLE_OK && cond)
        cr_table_set_cond(t, cond);
    const char *role;
    size_t rlen, pos = 0;
    while (rc == CR_TABLE_OK && cr_frole_next(roles, roleslen, &pos, &role, &rlen))
        rc = cr_table_role(t, role, rlen);
    if (rc != CR_TABLE_OK) {
        cr_table_abort(t);
        return table_err(L, rc, line, err, errlen);
    }
    uint32_t dup = 0;
    rc = cr_table_commit_hashed(t, hash, &dup);
    if (rc == CR_TABLE_DUP) {
        errf(err, errlen, "%s:%ld: duplicate entry: the same identity is already on line %u"
             " (give each line its own identity, or bind them to different issuers)",
             L->path, line, dup);
        return -1;
    }
    return rc == CR_TABLE_OK ? 0 : table_err(L, rc, line, err, errlen);
}

/* ---- certrole format: parse in parallel chunks, insert in file order ----
 *
 * Turning a DN into its key (certrole_dn_key) dominates the load time of
 * a big realm, and it is thread-safe, so large files are cut at line
 * boundaries into one chunk per CPU; each thread parses its lines and
 * computes their keys into a private buffer ("pending"), then this thread
 * replays the chunks in order into the table. Errors are thus reported
 * exactly as a serial read would: the first one in the file. */

#define PARALLEL_MIN_BYTES ((size_t)1 << 20)
#define MAX_CHUNKS 8

struct pend_hdr { uint64_t hash; uint32_t line, keylen, issuerlen, condlen, userlen, roleslen; };

struct chunk {
    struct loader *L;
    const char *p, *end;    /* the chunk's text */
    char *buf;              /* pend_hdr + key + issuer key + conditions + user + roles ... */
    size_t len, cap;
    long lines;             /* lines in the chunk */
    size_t entries;         /* entries in buf */
    unsigned kinds;         /* cr_table_kinds bits of its entries */
    long err_line;          /* local line of the first error, 0 = none */
    size_t err_col;
    char err[320];
    int nomem;
};

static int pend_put(struct chunk *c, const void *s, size_t n)
{
    if (n == 0)
        return 0;
    if (c->cap - c->len < n) {
        /* First guess: the chunk's own size (a key is about as long as
         * the DN text), so big chunks are not copied while growing. */
        size_t cap = c->cap ? c->cap : (size_t)(c->end - c->p) + (c->end - c->p) / 4 + 4096;
        while (cap - c->len < n)
            cap *= 2;
        char *b = cr_big_realloc(c->buf, c->cap, cap);
        if (!b) {
            c->nomem = 1;
            return -1;
        }
        c->buf = b;
        c->cap = cap;
    }
    memcpy(c->buf + c->len, s, n);
    c->len += n;
    return 0;
}

/* certrole_dn_key of a DN text; NULL with the chunk's error set. */
static char *chunk_key(struct chunk *c, char *scratch, const char *text, size_t len, long line,
                       size_t col)
{
    memcpy(scratch, text, len);
    scratch[len] = '\0';
    char *key = NULL, *why = NULL;
    certrole_code rc = certrole_dn_key(scratch, &key, &why);
    if (rc != CERTROLE_OK) {
        c->err_line = line;
        c->err_col = col;
        snprintf(c->err, sizeof c->err, "bad DN: %s", why ? why : certrole_strerror(rc));
        key = NULL;
    }
    certrole_free(why);
    return key;
}

static int chunk_fail(struct chunk *c, long line, size_t col, const char *what, const char *why)
{
    c->err_line = line;
    c->err_col = col;
    snprintf(c->err, sizeof c->err, "%s%s", what, why);
    return -1;
}

/* The table key of a KIND:VALUE or issuer-serial line into kbuf
 * (CR_FKEY_MAX + 1 bytes); -1 with the chunk's error set. */
static int kind_key(struct chunk *c, char *scratch, char *kbuf, const cr_fline *f, long line)
{
    if (f->kind == CR_FLINE_ISSUER_SERIAL) {
        char *ik = chunk_key(c, scratch, f->id, f->idlen, line, f->id_col);
        if (!ik)
            return -1;
        long n = cr_fnorm_issuer_serial(f->fp, ik, kbuf);
        certrole_free(ik);
        c->kinds |= 1u << CR_FK_ISSUER_SERIAL;
        return n < 0 ? chunk_fail(c, line, f->id_col, "", "issuer DN too long") : 0;
    }
    const char *v = f->val, *why = NULL;
    long vl = (long)f->vallen;
    if (f->val_quoted && (vl = cr_funquote(f->val, f->vallen, scratch, CR_FLINE_MAX + 1)) >= 0)
        v = scratch;
    if (vl < 0 || cr_fnorm_key(f->vkind, v, (size_t)vl, kbuf, &why) < 0) {
        static const char *const what[] = { "bad email: value: ", "bad upn: value: ",
                                            "bad dns: value: ", "bad uri: value: ",
                                            "bad spiffe: value: ", "bad spiffe: prefix: " };
        return chunk_fail(c, line, f->val_col, what[f->vkind], why ? why : "too long");
    }
    c->kinds |= 1u << f->vkind;
    return 0;
}

/* The table key of a parsed entry: in kbuf, or a certrole_dn_key string
 * (*dkey, to be freed). NULL with the chunk's error set. */
static const char *line_key(struct chunk *c, char *scratch, char *kbuf, const cr_fline *f,
                            long line, char **dkey)
{
    *dkey = NULL;
    c->kinds |= f->kind == CR_FLINE_DN ? 1u << CR_FK_DN
              : f->kind == CR_FLINE_SHA256 ? 1u << CR_FK_SHA256 : 0u;
    if (f->kind == CR_FLINE_DN)
        return *dkey = chunk_key(c, scratch, f->id, f->idlen, line, f->id_col);
    if (f->kind == CR_FLINE_SHA256) {
        memcpy(kbuf, "sha256:", 7);
        memcpy(kbuf + 7, f->fp, 65);
        return kbuf;
    }
    return kind_key(c, scratch, kbuf, f, line) < 0 ? NULL : kbuf;
}

/* Appends one parsed entry to the chunk's pending buffer. */
static void pend_entry(struct chunk *c, const cr_fline *f, long line, const char *key,
                       const char *ikey, const char *cond, long condlen, const char *user,
                       size_t userlen)
{
    size_t keylen = strlen(key);
    struct pend_hdr h = { cr_table_hash(key, keylen), (uint32_t)line, (uint32_t)keylen,
                          (uint32_t)strlen(ikey), (uint32_t)(condlen > 0 ? condlen : 0),
                          (uint32_t)userlen, (uint32_t)f->roleslen };
    c->entries++;
    if (pend_put(c, &h, sizeof h) == 0 && pend_put(c, key, h.keylen) == 0 &&
        pend_put(c, ikey, h.issuerlen) == 0 && pend_put(c, cond, h.condlen) == 0 &&
        pend_put(c, user, userlen) == 0)
        pend_put(c, f->roles, f->roleslen);
}

static void *chunk_parse(void *arg)
{
    struct chunk *c = arg;
    char *scratch = malloc(CR_FLINE_MAX + 1), *kbuf = malloc(CR_FKEY_MAX + 1);
    char *cbuf = malloc(CR_FLINE_MAX + 64);
    char *last_issuer = NULL, *last_ikey = NULL;   /* issuer= repeats a lot */
    char ubuf[1024];
    const char *p = c->p;
    if (!scratch || !kbuf || !cbuf)
        c->nomem = 1;
    for (long line = 1; p < c->end && scratch && kbuf && cbuf && !c->nomem; line++) {
        const char *ls = p, *nl = memchr(p, '\n', (size_t)(c->end - p));
        size_t ll = nl ? (size_t)(nl - p) : (size_t)(c->end - p);
        c->lines = line;
        p = nl ? nl + 1 : c->end;
        cr_fline f;
        size_t col = 0;
        const char *msg = NULL;
        if (cr_fline_parse(ls, ll, &f, &col, &msg) < 0) {
            c->err_line = line;
            c->err_col = col;
            snprintf(c->err, sizeof c->err, "%s", msg);
            break;
        }
        if (f.kind == CR_FLINE_BLANK)
            continue;
        const char *ikey = "";
        if (f.issuer) {
            if (!last_issuer || strlen(last_issuer) != f.issuerlen ||
                memcmp(last_issuer, f.issuer, f.issuerlen) != 0) {
                free(last_issuer);
                certrole_free(last_ikey);
                last_issuer = strndup(f.issuer, f.issuerlen);
                last_ikey = chunk_key(c, scratch, f.issuer, f.issuerlen, line, f.issuer_col);
                if (!last_ikey || !last_issuer) {
                    c->nomem = !last_issuer;
                    free(last_issuer);
                    last_issuer = NULL;
                    break;
                }
            }
            ikey = last_ikey;
            if (c->L->issuer_key && strcmp(ikey, c->L->issuer_key) != 0) {
                c->err_line = line;
                c->err_col = f.issuer_col;
                snprintf(c->err, sizeof c->err,
                         "issuer= differs from the realm's issuer=, so this entry could never match");
                break;
            }
        }
        const char *user = f.user;
        size_t userlen = f.userlen;
        if (f.user && f.user_quoted) {
            long n = cr_funquote(f.user, f.userlen, ubuf, sizeof ubuf);
            if (n <= 0 && chunk_fail(c, line, (size_t)(f.user - ls), "",
                                     "user name empty or too long"))
                break;
            user = ubuf;
            userlen = (size_t)n;
        }
        char *dkey = NULL;
        const char *key = line_key(c, scratch, kbuf, &f, line, &dkey);
        if (!key)
            break;
        long cl = cr_fcond_build(f.cond, f.condlen, cbuf, CR_FLINE_MAX + 64);
        if (cl < 0 && chunk_fail(c, line, 1, "", "conditions too long")) {
            certrole_free(dkey);    /* never dropped: fewer conditions match more */
            break;
        }
        pend_entry(c, &f, line, key, ikey, cbuf, cl, user, userlen);
        certrole_free(dkey);
    }
    free(scratch);
    free(kbuf);
    free(cbuf);
    free(last_issuer);
    certrole_free(last_ikey);
    return NULL;
}

/* Prefetches the index slot of the entry at offset o; returns the next. */
static size_t prefetch_next(const struct chunk *c, size_t o)
{
    struct pend_hdr h;
    memcpy(&h, c->buf + o, sizeof h);
    cr_table_prefetch(c->L->t, h.hash);
    return o + sizeof h + h.keylen + h.issuerlen + h.condlen + h.userlen + h.roleslen;
}

/* Replays one parsed chunk into the table; line numbers start at base. */
static int chunk_replay(struct chunk *c, long base, char *err, size_t errlen)
{
    struct loader *L = c->L;
    /* 'ahead' runs a few entries in front, touching their index slots so
     * that they are in cache when their turn comes. */
    size_t ahead = 0;
    for (int k = 0; k < 8 && ahead < c->len; k++)
        ahead = prefetch_next(c, ahead);
    for (size_t o = 0; o < c->len;) {
        struct pend_hdr h;
        if (ahead < c->len)
            ahead = prefetch_next(c, ahead);
        memcpy(&h, c->buf + o, sizeof h);
        const char *key = c->buf + o + sizeof h, *ik = key + h.keylen, *cd = ik + h.issuerlen;
        const char *user = cd + h.condlen, *roles = user + h.userlen;
        o += sizeof h + h.keylen + h.issuerlen + h.condlen + h.userlen + h.roleslen;
        long line = base + (long)h.line;
        uint32_t issuer = 0, cond = 0;
        int rc = CR_TABLE_OK;
        if (h.issuerlen && !(issuer = cr_table_intern(L->t, ik, h.issuerlen, &rc)))
            return table_err(L, rc, line, err, errlen);
        if (h.condlen && !(cond = cr_table_intern(L->t, cd, h.condlen, &rc)))
            return table_err(L, rc, line, err, errlen);
        if (add_entry(L, key, h.keylen, h.hash, issuer, cond, h.userlen ? user : NULL, h.userlen,
                      roles, h.roleslen, line, err, errlen) < 0)
            return -1;
    }
    if (c->nomem) {
        errf(err, errlen, "%s: out of memory", L->path);
        return -1;
    }
    if (c->err_line) {
        errf(err, errlen, "%s:%ld:%zu: %s", L->path, base + c->err_line, c->err_col, c->err);
        return -1;
    }
    return 0;
}

int cr_fload_certrole(cr_table *t, const char *path, const char *data, size_t len,
                      const char *issuer_key, char *err, size_t errlen)
{
    struct loader loader = { .t = t, .path = path, .issuer_key = issuer_key }, *L = &loader;
    const char *p = data, *end = data + len;
    if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
        p += 3; /* UTF-8 byte order mark, as some editors write it */
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    size_t n = len < PARALLEL_MIN_BYTES || ncpu < 2 ? 1 : ncpu > MAX_CHUNKS ? MAX_CHUNKS
                                                                            : (size_t)ncpu;
    struct chunk c[MAX_CHUNKS];
    pthread_t th[MAX_CHUNKS];
    int started[MAX_CHUNKS] = { 0 };
    memset(c, 0, sizeof c);
    for (size_t i = 0; i < n; i++) {
        c[i].L = L;
        c[i].p = p;
        const char *cut = i + 1 == n ? end : p + (size_t)(end - p) / (n - i);
        const char *nl = cut < end ? memchr(cut, '\n', (size_t)(end - cut)) : NULL;
        c[i].end = p = nl ? nl + 1 : end;
    }
    for (size_t i = 1; i < n; i++)
        started[i] = pthread_create(&th[i], NULL, chunk_parse, &c[i]) == 0;
    chunk_parse(&c[0]);
    for (size_t i = 1; i < n; i++) {
        if (started[i])
            pthread_join(th[i], NULL);
        else
            chunk_parse(&c[i]);
    }
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += c[i].entries;
    int rc = cr_table_reserve(t, total) == CR_TABLE_OK ? 0 : -1;
    if (rc < 0)
        errf(err, errlen, "%s: out of memory", path);
    long base = 0;
    for (size_t i = 0; i < n; i++) {
        if (rc == 0)
            rc = chunk_replay(&c[i], base, err, errlen);
        cr_table_add_kinds(t, c[i].kinds);
        /* A chunk that ends with a newline has a next line in the next
         * chunk; its count is exact because cuts follow a '\n'. */
        base += c[i].lines;
        cr_big_free(c[i].buf, c[i].cap);
    }
    return rc;
}

static int tomcat_user(void *ctx, const char *username, const char *roles, long line, char *err,
                       size_t errlen)
{
    struct loader *L = ctx;
    size_t ulen = strlen(username);
    if (!strchr(username, '=')) {
        /* A password user ("admin"): it can never be a certificate's
         * subject, so it is not an identity here. */
        L->skipped++;
        return 0;
    }
    if (ulen > CR_FLINE_MAX) {
        errf(err, errlen, "%s:%ld: username too long", L->path, line);
        return -1;
    }
    size_t pos = 0, rlen;
    const char *role;
    size_t rl = strlen(roles);
    while (cr_frole_next(roles, rl, &pos, &role, &rlen)) {
        if (!cr_frole_valid(role, rlen)) {
            errf(err, errlen, "%s:%ld: bad role name '%.*s' (allowed: " CR_ROLE_NAME_CHARS ")",
                 L->path, line, (int)(rlen > 64 ? 64 : rlen), role);
            return -1;
        }
    }
    char *key = dn_key(L, username, ulen, line, 0, err, errlen);
    if (!key)
        return -1;
    size_t kl = strlen(key);
    int rc = add_entry(L, key, kl, cr_table_hash(key, kl), 0, 0, NULL, 0, roles, rl, line, err,
                       errlen);
    certrole_free(key);
    return rc;
}

int cr_fload_tomcat(cr_table *t, const char *path, const char *data, size_t len,
                    size_t *skipped, char *err, size_t errlen)
{
    struct loader L = { .t = t, .path = path, .scratch = malloc(CR_FLINE_MAX + 1) };
    if (!L.scratch) {
        errf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    int rc = cr_tomcat_parse(data, len, path, tomcat_user, &L, err, errlen);
    cr_table_add_kinds(t, 1u << CR_FK_DN);
    free(L.scratch);
    *skipped = L.skipped;
    return rc;
}
