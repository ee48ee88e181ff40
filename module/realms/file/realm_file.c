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
 * Lookup is a hash probe on the peer's certrole_dn_key() subject key, on
 * its SHA-256 fingerprint, and, for the kinds the file holds, on each
 * normalised email, UPN, DNS and URI subjectAltName, the SPIFFE ID (and
 * its prefixes at '/' boundaries) and issuer+serial (file_norm.h). Two
 * different entries matching one peer is a refusal, never a pick. The
 * state is read-only after open(), so lookups from any number of threads
 * need no lock. */
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
#include "file_cond.h"
#include "file_norm.h"
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

/* How many subjectAltNames of type t the peer has. */
static size_t san_count(const certrole_identity *id, certrole_san_type t)
{
    size_t n = 0;
    for (size_t i = 0; i < certrole_identity_san_count(id); i++) {
        certrole_san_type ti = CERTROLE_SAN_IP;
        if (certrole_identity_san(id, i, &ti) && ti == t)
            n++;
    }
    return n;
}

/* default-user=email on a peer with several addresses: the first need
 * not be the one an email: entry matched, so naming the peer by it would
 * be a name nobody checked. */
static int user_is_a_guess(const struct file_realm *r, const certrole_identity *id,
                           const cr_trec *rec)
{
    return !cr_trec_user(rec) && r->user_src == USER_EMAIL &&
           san_count(id, CERTROLE_SAN_EMAIL) > 1;
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

/* The entries one peer matches: two different ones are a refusal. */
struct hits {
    const cr_trec *rec[2];
    const char *what[2];
    const cr_trec *miss;    /* an entry bound to another issuer */
    const cr_trec *unmet;   /* an entry whose conditions do not hold */
    const certrole_identity *id;
    int n;
};

static void probe(const struct file_realm *r, const char *key, size_t keylen,
                  const char *anchor, const char *what, struct hits *h)
{
    const cr_trec *rec = pick(r->t, cr_table_find(r->t, key, keylen), anchor, &h->miss);
    if (!rec || (h->n > 0 && h->rec[0] == rec) || h->n == 2)
        return;     /* the same entry twice (two spellings) is one match */
    const char *cond = cr_table_cond(r->t, rec);
    size_t derlen = 0;
    const unsigned char *der = cond ? certrole_identity_der(h->id, &derlen) : NULL;
    if (cond && !cr_fcond_holds(cond, der, derlen)) {
        h->unmet = rec;
        return;
    }
    h->rec[h->n] = rec;
    h->what[h->n++] = what;
}

/* Every subjectAltName of the kinds the file holds, normalised as the
 * entries were; a value that does not normalise matches nothing. */
static void probe_sans(const struct file_realm *r, const certrole_identity *id,
                       const char *anchor, unsigned kinds, struct hits *h)
{
    char key[CR_FKEY_MAX + 1];
    for (size_t i = 0; i < certrole_identity_san_count(id); i++) {
        certrole_san_type t = CERTROLE_SAN_IP;
        const char *v = certrole_identity_san(id, i, &t), *why = NULL;
        cr_fkind k = t == CERTROLE_SAN_EMAIL ? CR_FK_EMAIL : t == CERTROLE_SAN_UPN ? CR_FK_UPN
                   : t == CERTROLE_SAN_DNS ? CR_FK_DNS : t == CERTROLE_SAN_URI ? CR_FK_URI
                                                                              : CR_FK_SPIFFE;
        if (!v || k == CR_FK_SPIFFE || !(kinds & (1u << k)))
            continue;
        long n = cr_fnorm_cert_key(k, v, strlen(v), key, &why);
        if (n > 0)
            probe(r, key, (size_t)n, anchor, cr_fkind_prefix(k), h);
    }
}

/* The SPIFFE ID (never any other URI) exactly, then each of its
 * prefixes at a '/' boundary: one hash probe per path segment. */
static void probe_spiffe(const struct file_realm *r, const char *spiffe, const char *anchor,
                         unsigned kinds, struct hits *h)
{
    size_t len = strlen(spiffe);
    char key[CR_FKEY_MAX + 1];
    if (len > 2048)
        return;
    if (kinds & (1u << CR_FK_SPIFFE)) {
        memcpy(key, "spiffe:", 7);
        memcpy(key + 7, spiffe, len);
        probe(r, key, 7 + len, anchor, "spiffe:", h);
    }
    if (!(kinds & (1u << CR_FK_SPIFFE_PREFIX)))
        return;
    memcpy(key, "spiffe/*:", 9);
    memcpy(key + 9, spiffe, len);
    for (size_t i = 9; i < len; i++)   /* past "spiffe://" */
        if (spiffe[i] == '/')
            probe(r, key, 9 + i + 1, anchor, "spiffe: prefix", h);
}

static void probe_issuer_serial(const struct file_realm *r, const certrole_identity *id,
                                const char *anchor, struct hits *h)
{
    const char *serial = certrole_identity_get(id, CERTROLE_ID_SERIAL);
    const char *ik = certrole_identity_get(id, CERTROLE_ID_ISSUER_KEY), *why = NULL;
    char sn[65], key[CR_FKEY_MAX + 1];
    size_t bad = 0;
    long n;
    /* a negative serial has a '-': no entry can name it */
    if (serial && ik && cr_fnorm_serial(serial, strlen(serial), sn, &why, &bad) == 0 &&
        (n = cr_fnorm_issuer_serial(sn, ik, key)) > 0)
        probe(r, key, (size_t)n, anchor, "issuer-serial:", h);
}

static void find_all(const struct file_realm *r, const certrole_identity *id,
                     const char *anchor, struct hits *h)
{
    /* only the kinds the file holds: each probe of a big table is a cache
     * miss */
    unsigned kinds = cr_table_kinds(r->t);
    const char *sk = certrole_identity_get(id, CERTROLE_ID_SUBJECT_KEY);
    if (sk && (kinds & (1u << CR_FK_DN)))
        probe(r, sk, strlen(sk), anchor, "DN", h);
    const char *fp = certrole_identity_get(id, CERTROLE_ID_FINGERPRINT);
    if (fp && strlen(fp) == 64 && (kinds & (1u << CR_FK_SHA256))) {
        char key[7 + 64 + 1];
        memcpy(key, "sha256:", 7);
        memcpy(key + 7, fp, 65);
        probe(r, key, 7 + 64, anchor, "sha256 pin", h);
    }
    if (kinds & ((1u << CR_FK_EMAIL) | (1u << CR_FK_UPN) | (1u << CR_FK_DNS) | (1u << CR_FK_URI)))
        probe_sans(r, id, anchor, kinds, h);
    const char *spiffe = certrole_identity_get(id, CERTROLE_ID_SPIFFE);
    if (spiffe)
        probe_spiffe(r, spiffe, anchor, kinds, h);
    if (kinds & (1u << CR_FK_ISSUER_SERIAL))
        probe_issuer_serial(r, id, anchor, h);
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
    struct hits h = { .n = 0, .id = id };
    find_all(r, id, anchor, &h);
    if (h.n == 2) {
        certrole_answer_set_message(ans, "%s: lines %u (%s) and %u (%s) both match the peer",
                                    r->path, h.rec[0]->line, h.what[0], h.rec[1]->line,
                                    h.what[1]);
        return CERTROLE_REALM_REFUSED;
    }
    const cr_trec *rec = h.n ? h.rec[0] : NULL;
    if (!rec) {
        if (h.unmet)
            certrole_answer_set_message(ans, "%s:%u: the certificate does not carry the key"
                                        " usages or policies the entry requires (eku=, ku=,"
                                        " leaf-policy=)", r->path, h.unmet->line);
        else if (h.miss)
            certrole_answer_set_message(ans, "%s:%u: the entry is bound to another issuer than"
                                        " the peer's trust anchor", r->path, h.miss->line);
        else
            certrole_answer_set_message(ans, "%s: no entry for this certificate (subject DN,"
                                        " sha256 fingerprint or other identity)", r->path);
        return CERTROLE_REALM_NOT_FOUND;
    }
    if (user_is_a_guess(r, id, rec)) {
        certrole_answer_set_message(ans, "%s: the entry has no user= and the certificate has "
                                    "several e-mail addresses: default-user=email cannot tell "
                                    "which one names the peer", r->path);
        return CERTROLE_REALM_REFUSED;
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
