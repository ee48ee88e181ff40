/* ca-dir (trust.h): every certificate file of the directory is read once,
 * when the profile is built, whether 'openssl rehash' named it or not.
 * What was loaded is then what is trusted, it can be listed, and a
 * changed file or listing is noticed like any other watched file. */
#define _GNU_SOURCE
#include "trust.h"
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include "readfile.h"

#define errf cr_trust_errf
/* Far more than any CA directory holds; bounds the work of one load. */
#define MAX_DIR_ENTRIES 100000

enum kind { OTHER = 0, HASHED_CERT = 1, HASHED_CRL = 2, NAMED_CERT = 3 };

/* "0123abcd.0" (a certificate) or "0123abcd.r0" (a CRL), as 'openssl
 * rehash' names them; "*.pem", "*.crt", "*.cer", "*.der" (any case). */
static enum kind name_kind(const char *n)
{
    static const char *const ext[] = { ".pem", ".crt", ".cer", ".der" };
    size_t len = strlen(n);
    if (n[0] == '.')
        return OTHER;   /* hidden files, editors' backups */
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
        if (len > 4 && !strcasecmp(n + len - 4, ext[i]))
            return NAMED_CERT;
    for (int i = 0; i < 8; i++)
        if (!n[i] || !strchr("0123456789abcdef", n[i]))
            return OTHER;
    if (n[8] != '.')
        return OTHER;
    const char *num = n[9] == 'r' ? n + 10 : n + 9;
    if (!*num || strspn(num, "0123456789") != strlen(num))
        return OTHER;
    return n[9] == 'r' ? HASHED_CRL : HASHED_CERT;
}

struct entry {
    char *name;
    enum kind kind;
};

/* Named files first, so an anchor is listed under its own name rather
 * than under a hash link to it; then by name, for a stable order. */
static int entry_cmp(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    if (x->kind != y->kind)
        return x->kind == NAMED_CERT ? -1 : y->kind == NAMED_CERT ? 1 : 0;
    return strcmp(x->name, y->name);
}

static void entries_free(struct entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(e[i].name);
    free(e);
}

/* The certificate and hashed CRL entries of d; *has_crls when a hashed
 * CRL is there. */
static certrole_code list_dir(DIR *d, const char *dir, struct entry **out, size_t *n,
                              int *has_crls, char *err, size_t errlen)
{
    struct dirent *de;
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    while ((de = readdir(d)) != NULL) {
        enum kind k = name_kind(de->d_name);
        if (k == OTHER)
            continue;   /* keys, notes, READMEs: not anchors */
        *has_crls |= k == HASHED_CRL;
        if (*n == MAX_DIR_ENTRIES) {
            errf(err, errlen, "ca-dir %s: more than %d certificate files", dir, MAX_DIR_ENTRIES);
            return CERTROLE_E_POLICY_ERROR;
        }
        if (*n == cap) {
            struct entry *ne = realloc(*out, (cap = cap ? cap * 2 : 32) * sizeof *ne);
            if (!ne)
                return CERTROLE_E_NO_MEMORY;
            *out = ne;
        }
        if (!((*out)[*n].name = strdup(de->d_name)))
            return CERTROLE_E_NO_MEMORY;
        (*out)[(*n)++].kind = k;
    }
    if (*n > 1)     /* qsort's base may not be NULL, even for no entries */
        qsort(*out, *n, sizeof **out, entry_cmp);
    return CERTROLE_OK;
}

/* Each entry must be a regular file (or a link to one): a FIFO would hang
 * a read, a loop or a dangling link is a certificate that is missing. A
 * file reached twice (a hash link to a named file) is read once. */
static certrole_code load_entries(struct cr_trust_load *l, int dfd, const char *dir,
                                  const struct entry *e, size_t n, int *ncrls,
                                  char *err, size_t errlen)
{
    struct { dev_t dev; ino_t ino; } *seen = calloc(n ? n : 1, sizeof *seen);
    size_t nseen = 0;
    certrole_code rc = seen ? CERTROLE_OK : CERTROLE_E_NO_MEMORY;
    for (size_t i = 0; i < n && rc == CERTROLE_OK; i++) {
        struct stat st;
        char why[160], *path = NULL, *label = NULL;
        if (fstatat(dfd, e[i].name, &st, 0) != 0) {
            errf(err, errlen, "ca-dir %s: %s: %s", dir, e[i].name, strerror(errno));
            rc = CERTROLE_E_POLICY_ERROR;
            break;
        }
        if (asprintf(&path, "%s/%s", dir, e[i].name) < 0) {
            rc = CERTROLE_E_NO_MEMORY;
            break;
        }
        if (!S_ISREG(st.st_mode)) {
            errf(err, errlen, "ca-dir %s: %s: %s", dir, e[i].name,
                 cr_rf_strerror(path, CR_RF_NOTREG, why, sizeof why));
            rc = CERTROLE_E_POLICY_ERROR;
        } else if (e[i].kind != HASHED_CRL) {
            size_t j = 0;
            while (j < nseen && (seen[j].dev != st.st_dev || seen[j].ino != st.st_ino))
                j++;
            int more = 0;
            if (j == nseen) {
                seen[nseen].dev = st.st_dev;
                seen[nseen++].ino = st.st_ino;
                if (asprintf(&label, "ca-dir %s: %s", dir, e[i].name) < 0)
                    rc = CERTROLE_E_NO_MEMORY;
                else
                    rc = cr_trust_load_anchors(l, label, path, NULL, &more, err, errlen);
                *ncrls += more;
            }
        }
        free(label);
        free(path);
    }
    free(seen);
    return rc;
}

certrole_code cr_trust_load_dir(struct cr_trust_load *l, const char *dir, int *has_crls,
                                int *ncrls, char *err, size_t errlen)
{
    *has_crls = *ncrls = 0;
    DIR *d = opendir(dir);
    if (!d) {
        errf(err, errlen, "ca-dir %s: %s", dir, strerror(errno));
        return errno == ENOTDIR ? CERTROLE_E_POLICY_ERROR : CERTROLE_E_IO;
    }
    /* The directory's identity before its listing is read: an entry
     * added, removed or renamed from now on changes its mtime, which the
     * watch list then compares against this. */
    struct stat st;
    if (fstat(dirfd(d), &st) == 0)
        cr_rf_journal_note(dir, &st);
    struct entry *e = NULL;
    size_t n = 0;
    certrole_code rc = list_dir(d, dir, &e, &n, has_crls, err, errlen);
    size_t ncerts = 0;
    for (size_t i = 0; i < n; i++)
        ncerts += e[i].kind != HASHED_CRL;
    /* Like a ca-file with no certificate in it: a directory that trusts
     * nothing is a mistake to report, not a policy that refuses everyone. */
    if (rc == CERTROLE_OK && ncerts == 0) {
        errf(err, errlen, "ca-dir %s: no certificate file in it (names ending in .pem, .crt, "
             ".cer or .der, or hash names from 'openssl rehash')", dir);
        rc = CERTROLE_E_POLICY_ERROR;
    }
    if (rc == CERTROLE_OK)
        rc = load_entries(l, dirfd(d), dir, e, n, ncrls, err, errlen);
    entries_free(e, n);
    closedir(d);
    if (rc == CERTROLE_OK)
        rc = cr_trust_ld_file(l, dir);
    return rc;
}
