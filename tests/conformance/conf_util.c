/* Conformance runners' shared helpers (conf_util.h) other than JSON. */
#define _GNU_SOURCE
#include "conf_util.h"
#include "testutil.h"
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/pem.h>

/* ----- small helpers usable outside a test ------------------------------------ */

char *conf_strf(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    if (!s) {
        fprintf(stderr, "out of memory\n");
        exit(99);
    }
    return s;
}

char *conf_mkdtemp(const char *tag)
{
    char *p = conf_strf("%s/certrole-conf-%s-XXXXXX", tu_env("TMPDIR", "/tmp"), tag);
    if (!mkdtemp(p)) {
        fprintf(stderr, "mkdtemp %s: %s\n", p, strerror(errno));
        exit(99);
    }
    return p;
}

/* Removes the files of a conf_mkdtemp directory (flat) and the directory. */
void conf_rmrf(const char *dir)
{
    if (!dir || !strstr(dir, "/certrole-conf-"))
        return;
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char *p = conf_strf("%s/%s", dir, de->d_name);
        unlink(p);
        free(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

/* ----- data directory ------------------------------------------------------ */

static const char *conf_dir(void)
{
    const char *d = getenv("CERTROLE_CONFORMANCE");
    return d && *d ? d : NULL;
}

void conf_require_data(void)
{
    const char *d = conf_dir();
    struct stat st;
    if (!d || stat(d, &st) != 0 || !S_ISDIR(st.st_mode)) {
        printf("SKIP: conformance data not found in '%s' (configure --with-conformance-dir=DIR)\n",
               d ? d : "");
        fflush(stdout);
        exit(77);
    }
}

const char *conf_data(const char *rel)
{
    static char pool[8][4096];
    static unsigned next;
    conf_require_data();
    char *slot = pool[next++ % 8];
    snprintf(slot, sizeof pool[0], "%s/%s", conf_dir(), rel);
    return slot;
}

/* ----- expected-disagreement lists ------------------------------------------ */

struct conf_expect_entry { char *id, *reason; int used; };
struct conf_expect { struct conf_expect_entry *v; size_t n; char *file; };

struct conf_expect *conf_expect_load(const char *name)
{
    struct conf_expect *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    const char *src = tu_env("CERTROLE_SRCDIR", ".");
    if (!(e->file = conf_strf("%s/tests/conformance/%s", src, name))) {
        free(e);
        return NULL;
    }
    char *text = tu_read_file(e->file, NULL);
    if (!text)
        return e;   /* no list: every disagreement is new */
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        while (*line == ' ' || *line == '\t')
            line++;
        if (!*line || *line == '#')
            continue;
        size_t idlen = strcspn(line, " \t");
        char *reason = line + idlen;
        reason += strspn(reason, " \t");
        struct conf_expect_entry *nv = realloc(e->v, (e->n + 1) * sizeof *nv);
        if (!nv)
            break;
        e->v = nv;
        nv[e->n].id = strndup(line, idlen);
        nv[e->n].reason = strdup(*reason ? reason : "(no reason given)");
        nv[e->n].used = 0;
        if (!nv[e->n].id || !nv[e->n].reason) {
            free(nv[e->n].id);
            free(nv[e->n].reason);
            break;
        }
        e->n++;
    }
    free(text);
    return e;
}

const char *conf_expect_reason(struct conf_expect *e, const char *id)
{
    for (size_t i = 0; e && i < e->n; i++)
        if (!strcmp(e->v[i].id, id)) {
            e->v[i].used = 1;
            return e->v[i].reason;
        }
    return NULL;
}

int conf_expect_unused(const struct conf_expect *e)
{
    int n = 0;
    for (size_t i = 0; e && i < e->n; i++)
        if (!e->v[i].used) {
            printf("stale entry in %s: %s matches no case\n", e->file, e->v[i].id);
            n++;
        }
    return n;
}

void conf_expect_free(struct conf_expect *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n; i++) {
        free(e->v[i].id);
        free(e->v[i].reason);
    }
    free(e->v);
    free(e->file);
    free(e);
}

/* ----- tally ------------------------------------------------------------------ */

int conf_record(struct conf_tally *t, struct conf_expect *e, const char *id,
                enum conf_outcome o, const char *detail)
{
    const char *reason = conf_expect_reason(e, id);
    t->cases++;
    if (o == CONF_NA) {
        t->not_applicable++;
        printf("[%s] not applicable: %s (%s)\n", t->suite, id, detail ? detail : "");
        return 0;
    }
    if (o == CONF_AGREE) {
        t->agree++;
        if (reason) {
            t->now_agree++;
            printf("[%s] now agrees, remove from list: %s (was: %s)\n", t->suite, id, reason);
        }
        return 0;
    }
    if (reason) {
        t->disagree_expected++;
        printf("[%s] expected disagreement: %s (%s) -- %s\n", t->suite, id, reason,
               detail ? detail : "");
        return 0;
    }
    t->disagree_new++;
    printf("[%s] DISAGREES (not on the expected list): %s -- %s\n", t->suite, id,
           detail ? detail : "");
    fflush(stdout);
    return 1;
}

int conf_run(Suite *s, struct conf_tally *const *rows, size_t nrows)
{
    SRunner *sr = srunner_create(s);
    /* No fork: every case adds to the tallies of this process. */
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    printf("\n%-30s %6s %6s %9s %10s %6s\n", "suite", "cases", "agree", "disagree",
           "(expected)", "n/a");
    for (size_t i = 0; i < nrows; i++) {
        const struct conf_tally *t = rows[i];
        printf("%-30s %6d %6d %9d %10d %6d\n", t->suite, t->cases, t->agree,
               t->disagree_expected + t->disagree_new, t->disagree_expected,
               t->not_applicable);
        if (t->now_agree)
            printf("%-30s %d listed case(s) now agree: remove them from the list\n", "",
                   t->now_agree);
    }
    fflush(stdout);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* ----- driving the library ---------------------------------------------------- */

void conf_policy_add(char **line, const char *key, const char *value)
{
    size_t vl = strlen(value);
    char *q = malloc(2 * vl + 3), *w = q;
    ck_assert_ptr_nonnull(q);
    *w++ = '"';
    for (const char *p = value; *p; p++) {
        if (*p == '"' || *p == '\\')
            *w++ = '\\';
        *w++ = *p;
    }
    *w++ = '"';
    *w = '\0';
    char *n = conf_strf("%s%s%s=%s", *line ? *line : "", *line ? " " : "", key, q);
    ck_assert_ptr_nonnull(n);
    free(q);
    free(*line);
    *line = n;
}

static void quiet_log(void *userdata, certrole_log_level level, const char *line)
{
    (void)userdata;
    (void)level;
    (void)line;
}

certrole_code conf_open(certrole_ctx **ctx, const char *policy, char **errmsg)
{
    certrole_code rc = certrole_open_string(ctx, policy, "<conformance>", errmsg);
    if (rc == CERTROLE_OK)
        certrole_set_log(*ctx, quiet_log, NULL);
    return rc;
}

certrole_code conf_verify(certrole_ctx *ctx, X509 *leaf, STACK_OF(X509) *untrusted,
                          char **msg)
{
    certrole_result *res = NULL;
    certrole_code rc = certrole_verify_x509(ctx, leaf, untrusted, &res);
    if (msg)
        *msg = NULL;
    if (res) {
        rc = certrole_result_code(res);
        if (msg)
            *msg = strdup(certrole_result_message(res));
        certrole_result_free(res);
    }
    return rc;
}

STACK_OF(X509) *conf_pem_certs(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    STACK_OF(X509) *sk = sk_X509_new_null();
    if (!bio || !sk)
        goto fail;
    X509 *x;
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
        if (!sk_X509_push(sk, x)) {
            X509_free(x);
            goto fail;
        }
    unsigned long e = ERR_peek_last_error();
    /* The loop ends with "no start line" at the end of the text; any
     * other error means a damaged block. */
    if (e && !(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE))
        goto fail;
    ERR_clear_error();
    BIO_free(bio);
    return sk;
fail:
    ERR_clear_error();
    BIO_free(bio);
    sk_X509_pop_free(sk, X509_free);
    return NULL;
}

X509 *conf_der_cert_file(const char *path)
{
    size_t len;
    char *buf = tu_read_file(path, &len);
    if (!buf)
        return NULL;
    const unsigned char *p = (const unsigned char *)buf;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    if (x && p != (const unsigned char *)buf + len) {
        X509_free(x);
        x = NULL;
    }
    free(buf);
    ERR_clear_error();
    return x;
}

int conf_write_pem(const char *path, X509 *const *certs, size_t n, int append)
{
    FILE *f = fopen(path, append ? "a" : "w");
    if (!f)
        return -1;
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++)
        ok = PEM_write_X509(f, certs[i]) == 1;
    if (fclose(f) != 0)
        ok = 0;
    return ok ? 0 : -1;
}
