/* The "file" realm: maps a verified peer to a user and roles from a file
 * read once at open() (certrole's own line format, or Tomcat's
 * tomcat-users.xml). Written against the public headers only, as a third
 * party would write a realm.
 *
 * Arguments:  path=FILE (required, relative to the policy's directory)
 *             format=certrole|tomcat        (default certrole)
 *             issuer="DN"                   only peers whose trust anchor is DN
 *             default-user=subject|cn|email (user name when an entry has none;
 *                                            default subject)
 *
 * Lookup is a hash probe on the peer's certrole_dn_key() subject key and
 * on its SHA-256 fingerprint; the state is read-only after open(), so
 * lookups from any number of threads need no lock. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "certrole.h"
#include "certrole_realm.h"
#include "build-config.h"
#include "file_load.h"
#include "readfile.h"
#include "table.h"
#include "tomcat.h"

enum user_src { USER_SUBJECT, USER_CN, USER_EMAIL };

struct file_realm {
    cr_table *t;
    char *path;
    char *issuer_key;       /* realm-wide binding to the trust anchor */
    enum user_src user_src;
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

static void realm_free(struct file_realm *r)
{
    if (!r)
        return;
    cr_table_free(r->t);
    free(r->path);
    free(r->issuer_key);
    free(r);
}

/* Realm files can be big: their buffer comes from the table's allocator
 * (large ones are mappings, returned to the system when freed). */
static void *big_resize(void *p, size_t old, size_t n)
{
    return cr_big_realloc(p, old, n);
}

static const struct cr_rf_alloc big_alloc = { big_resize, cr_big_free };

/* Reads the whole file (a regular file only), NUL-terminated, into a
 * cr_big_alloc buffer of *size bytes. */
static char *slurp(const char *path, size_t *len, size_t *size, char *err, size_t errlen)
{
    int why = 0;
    char *buf = cr_rf_read(path, (size_t)-1 / 4, &big_alloc, len, size, &why);
    if (!buf) {
        char reason[160];
        errf(err, errlen, "%s: %s", path, cr_rf_strerror(path, why, reason, sizeof reason));
    }
    return buf;
}

static int parse_args(struct file_realm *r, int argc, const char *const *argv,
                      const char **path, const char **format, const char **issuer, char *err,
                      size_t errlen)
{
    unsigned seen = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *eq = strchr(a, '=');
        size_t kl = eq ? (size_t)(eq - a) : strlen(a);
        const char *v = eq ? eq + 1 : NULL;
#define IS(k) (kl == sizeof(k) - 1 && memcmp(a, k, kl) == 0)
        if (!v || (!*v && !IS("issuer"))) {
            errf(err, errlen, "argument '%.64s': expected key=value", a);
            return -1;
        }
        unsigned bit = IS("path") ? 1u : IS("format") ? 2u : IS("issuer") ? 4u
                     : IS("default-user") ? 8u : 0u;
        if (seen & bit) {
            errf(err, errlen, "argument '%.*s' given twice", (int)kl, a);
            return -1;
        }
        seen |= bit;
        if (IS("path")) {
            *path = v;
        } else if (IS("format")) {
            if (strcmp(v, "certrole") != 0 && strcmp(v, "tomcat") != 0) {
                errf(err, errlen, "format=%s: expected format=certrole or format=tomcat", v);
                return -1;
            }
            *format = v;
        } else if (IS("issuer")) {
            *issuer = v;
        } else if (IS("default-user")) {
            if (strcmp(v, "subject") == 0)
                r->user_src = USER_SUBJECT;
            else if (strcmp(v, "cn") == 0)
                r->user_src = USER_CN;
            else if (strcmp(v, "email") == 0)
                r->user_src = USER_EMAIL;
            else {
                errf(err, errlen, "default-user=%s: expected subject, cn or email", v);
                return -1;
            }
        } else {
            errf(err, errlen, "unknown argument '%.*s' (known: path, format, issuer,"
                 " default-user)", (int)(kl > 64 ? 64 : kl), a);
            return -1;
        }
#undef IS
    }
    if (!*path) {
        errf(err, errlen, "missing path=FILE");
        return -1;
    }
#ifndef HAVE_LIBXML2
    if (strcmp(*format, "tomcat") == 0) {
        errf(err, errlen, "%s", CR_TOMCAT_UNAVAILABLE);
        return -1;
    }
#endif
    return 0;
}

static int file_open(void **state, int argc, const char *const *argv,
                     const certrole_realm_env *env, char *err, size_t errlen)
{
    *state = NULL;
    struct file_realm *r = calloc(1, sizeof *r);
    if (!r) {
        errf(err, errlen, "out of memory");
        return -1;
    }
    const char *path = NULL, *format = "certrole", *issuer = NULL;
    if (parse_args(r, argc, argv, &path, &format, &issuer, err, errlen) < 0) {
        realm_free(r);
        return -1;
    }
    if (issuer) {
        char *why = NULL;
        if (!*issuer || certrole_dn_key(issuer, &r->issuer_key, &why) != CERTROLE_OK) {
            errf(err, errlen, "issuer=\"%s\": bad DN: %s", issuer, why ? why : "empty");
            certrole_free(why);
            realm_free(r);
            return -1;
        }
        certrole_free(why);
    }
    int n = path[0] == '/' ? asprintf(&r->path, "%s", path)
                           : asprintf(&r->path, "%s/%s", env && env->base_dir ? env->base_dir : ".",
                                      path);
    if (n < 0) {
        r->path = NULL;
        errf(err, errlen, "out of memory");
        realm_free(r);
        return -1;
    }
    if (env && env->watch_file)
        env->watch_file(env->watch_ctx, r->path);

    size_t len = 0;
    size_t size = 0;
    char *data = slurp(r->path, &len, &size, err, errlen);
    size_t skipped = 0;
    int rc = -1;
    if (data && len > 0 && data[len - 1] != '\n') {
        /* Caught half-written (cat new > file): the cut last line could
         * hold a shortened role name or miss its user=. */
        errf(err, errlen, "%s: the file does not end in a newline (still being written?)",
             r->path);
    } else if (data) {
        /* Records are about as long as lines: reserve that much arena
         * (untouched pages cost nothing); the loader sizes the index. */
        r->t = cr_table_new(0, len + len / 2);
        if (!r->t)
            errf(err, errlen, "%s: out of memory", r->path);
        else if (strcmp(format, "tomcat") == 0)
            rc = cr_fload_tomcat(r->t, r->path, data, len, &skipped, err, errlen);
        else
            rc = cr_fload_certrole(r->t, r->path, data, len, r->issuer_key, err, errlen);
    }
    cr_big_free(data, size);
    if (rc < 0) {
        realm_free(r);
        return -1;
    }
    if (env && env->log) {
        char line[512];
        snprintf(line, sizeof line, "file realm %s: %zu entries%s", r->path,
                 cr_table_count(r->t), skipped ? " (users without a DN skipped)" : "");
        env->log(env->log_ctx, CERTROLE_LOG_DEBUG, line);
    }
    *state = r;
    return 0;
}

/* The entry among those sharing a key that the peer's anchor selects. */
static const cr_trec *pick(const cr_table *t, const cr_trec *rec, const char *anchor_key,
                           const cr_trec **bound_miss)
{
    for (; rec; rec = cr_table_next(t, rec)) {
        const char *ik = cr_table_issuer(t, rec);
        if (!ik || (anchor_key && strcmp(ik, anchor_key) == 0))
            return rec;
        *bound_miss = rec;
    }
    return NULL;
}

static const char *user_of(const struct file_realm *r, const certrole_identity *id,
                           const cr_trec *rec)
{
    const char *u = cr_trec_user(rec);
    if (u)
        return u;
    if (r->user_src == USER_CN)
        u = certrole_identity_get(id, CERTROLE_ID_CN);
    else if (r->user_src == USER_EMAIL)
        u = certrole_identity_get(id, CERTROLE_ID_EMAIL);
    return u ? u : certrole_identity_get(id, CERTROLE_ID_SUBJECT);
}

static certrole_realm_status file_lookup(void *state, const certrole_identity *id,
                                         certrole_answer *ans)
{
    const struct file_realm *r = state;
    const char *anchor = certrole_identity_get(id, CERTROLE_ID_ANCHOR_KEY);
    if (r->issuer_key && (!anchor || strcmp(anchor, r->issuer_key) != 0)) {
        certrole_answer_set_message(ans, "%s: the peer's trust anchor is not the realm's issuer",
                                    r->path);
        return CERTROLE_REALM_NOT_FOUND;
    }
    const cr_trec *by_dn = NULL, *by_fp = NULL, *miss = NULL;
    const char *sk = certrole_identity_get(id, CERTROLE_ID_SUBJECT_KEY);
    if (sk)
        by_dn = pick(r->t, cr_table_find(r->t, sk, strlen(sk)), anchor, &miss);
    const char *fp = certrole_identity_get(id, CERTROLE_ID_FINGERPRINT);
    if (fp && strlen(fp) == 64) {
        char key[7 + 64 + 1];
        memcpy(key, "sha256:", 7);
        memcpy(key + 7, fp, 65);
        by_fp = pick(r->t, cr_table_find(r->t, key, 7 + 64), anchor, &miss);
    }
    if (by_dn && by_fp) {
        certrole_answer_set_message(ans, "%s: lines %u (DN) and %u (sha256 pin) both match the"
                                    " peer", r->path, by_dn->line, by_fp->line);
        return CERTROLE_REALM_REFUSED;
    }
    const cr_trec *rec = by_dn ? by_dn : by_fp;
    if (!rec) {
        if (miss)
            certrole_answer_set_message(ans, "%s:%u: the entry is bound to another issuer than"
                                        " the peer's trust anchor", r->path, miss->line);
        else
            certrole_answer_set_message(ans, "%s: no entry for this subject DN or sha256"
                                        " fingerprint", r->path);
        return CERTROLE_REALM_NOT_FOUND;
    }
    const char *user = user_of(r, id, rec);
    if (user && certrole_answer_set_user(ans, user) != 0)
        goto nomem;
    const char *role = cr_trec_roles(rec);
    for (uint32_t i = 0; i < rec->nroles; i++, role += strlen(role) + 1)
        if (certrole_answer_add_role(ans, role) != 0)
            goto nomem;
    return CERTROLE_REALM_FOUND;
nomem:
    certrole_answer_set_message(ans, "%s: out of memory", r->path);
    return CERTROLE_REALM_UNAVAILABLE;
}

static void file_close(void *state)
{
    realm_free(state);
}

CERTROLE_REALM_EXPORT const certrole_realm_ops certrole_realm_v1 = {
    .abi_version = CERTROLE_REALM_ABI_VERSION,
    .name = "file",
    .open = file_open,
    .lookup = file_lookup,
    .close = file_close,
    .reload = NULL, /* reload re-opens: the file is read again by open() */
};
