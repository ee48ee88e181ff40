/* Safe edits of a realm file (see realm_edit.h).
 *
 * Lock: flock(LOCK_EX) on the realm's directory, not on the realm file.
 * The file is replaced by rename, so a lock on it would lock an inode
 * that the next writer no longer reaches by the path: two writers could
 * each hold "the" lock. The directory stays the same across renames, and
 * locking it leaves no lock file behind to own, clean up or get wrong.
 * The kernel drops the lock when its holder dies, even by SIGKILL, so a
 * crashed writer never blocks the next one. The lock is advisory: it
 * serialises 'certrole realm' writers, not an editor. A writer killed
 * between creating its temporary file and the rename leaves that file
 * (".NAME.new.XXXXXX") and an untouched realm; the next writer, holding
 * the lock, knows no one else is writing and removes it. */
#define _GNU_SOURCE
#include "realm_edit.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>
#include "file_load.h"
#include "file_parse.h"
#include "readfile.h"
#include "realm_token.h"
#include "strbuf.h"

/* A realm of millions of lines is a few hundred MB; this only bounds
 * memory. */
#define REALM_MAX ((size_t)1 << 30)

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* Splits the resolved path of 'path' into e->path, e->dir, e->base. A
 * missing file is resolved through its directory. */
static int resolve(struct cr_redit *e, const char *path, char *err, size_t errlen)
{
    char *full = realpath(path, NULL);
    struct stat ls;
    if (!full && errno == ENOENT && lstat(path, &ls) == 0 && S_ISLNK(ls.st_mode))
        return fail(err, errlen, "%s: a symbolic link to a file that does not exist: create the "
                    "target, or name it instead of the link", path);
    if (!full && errno == ENOENT) {
        const char *slash = strrchr(path, '/');
        char *d = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
        const char *name = slash ? slash + 1 : path;
        char *rd = d ? realpath(d, NULL) : NULL;
        if (rd && *name && strcmp(name, ".") && strcmp(name, "..") &&
            asprintf(&full, "%s/%s", strcmp(rd, "/") ? rd : "", name) < 0)
            full = NULL;
        free(rd);
        free(d);
        if (!full)
            errno = ENOENT;
    }
    if (!full)
        return fail(err, errlen, "%s: %s", path, strerror(errno));
    e->path = full;
    char *slash = strrchr(full, '/');
    e->dir = slash == full ? strdup("/") : strndup(full, (size_t)(slash - full));
    e->base = strdup(slash + 1);
    if (!e->dir || !e->base)
        return fail(err, errlen, "out of memory");
    return 0;
}

static int take_lock(struct cr_redit *e, char *err, size_t errlen)
{
    e->dirfd = open(e->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (e->dirfd < 0)
        return fail(err, errlen, "%s: %s", e->dir, strerror(errno));
    for (long waited = 0;; waited += 10) {
        if (flock(e->dirfd, LOCK_EX | LOCK_NB) == 0)
            return 0;
        if (errno != EWOULDBLOCK && errno != EINTR)
            return fail(err, errlen, "cannot lock %s: %s", e->dir, strerror(errno));
        if (waited >= CR_REDIT_LOCK_WAIT_MS)
            return fail(err, errlen, "another 'certrole realm' has been editing realm files in %s"
                        " for %d s; try again later", e->dir, CR_REDIT_LOCK_WAIT_MS / 1000);
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
}

/* ".NAME.new." prefix of the temporary files; malloc'd. */
static char *tmp_prefix(const struct cr_redit *e)
{
    char *p = NULL;
    return asprintf(&p, ".%s.new.", e->base) < 0 ? NULL : p;
}

/* Under the lock: temporary files of a writer that died. */
static void remove_stale(struct cr_redit *e)
{
    char *prefix = tmp_prefix(e);
    int fd = prefix ? dup(e->dirfd) : -1;
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d && fd >= 0)
        close(fd);
    size_t pl = prefix ? strlen(prefix) : 0;
    for (struct dirent *de; d && (de = readdir(d)) != NULL;)
        if (strncmp(de->d_name, prefix, pl) == 0 && strlen(de->d_name) == pl + 6)
            (void)unlinkat(e->dirfd, de->d_name, 0);
    if (d)
        closedir(d);
    free(prefix);
}

int cr_redit_begin(struct cr_redit *e, const char *path, int create, char *err,
                   size_t errlen)
{
    memset(e, 0, sizeof *e);
    e->dirfd = -1;
    if (resolve(e, path, err, errlen) < 0 || take_lock(e, err, errlen) < 0)
        return -1;
    remove_stale(e);
    size_t cap = 0;
    int why = 0;
    e->data = cr_rf_read(e->path, REALM_MAX, NULL, &e->len, &cap, &why);
    if (e->data) {
        e->exists = 1;
        if (stat(e->path, &e->st) < 0)
            return fail(err, errlen, "%s: %s", e->path, strerror(errno));
        /* The rename would give this name a new file while another name
         * of the old one kept serving the old entries (a removal that
         * revokes nothing there). */
        if (e->st.st_nlink > 1)
            return fail(err, errlen, "%s has %lu hard links: a replaced file would leave the "
                        "others with the old entries; edit it through one name only", e->path,
                        (unsigned long)e->st.st_nlink);
        return 0;
    }
    if (why == ENOENT && create) {
        e->data = strdup("");
        return e->data ? 0 : fail(err, errlen, "out of memory");
    }
    char buf[256];
    return fail(err, errlen, "%s: %s", path, cr_rf_strerror(e->path, why, buf, sizeof buf));
}

void cr_redit_end(struct cr_redit *e)
{
    if (e->dirfd >= 0)
        close(e->dirfd);   /* releases the lock */
    free(e->path);
    free(e->dir);
    free(e->base);
    free(e->data);
    memset(e, 0, sizeof *e);
    e->dirfd = -1;
}

cr_table *cr_redit_load(const char *path, const char *data, size_t len, char *err,
                        size_t errlen)
{
    cr_table *t = cr_table_new(0, 0);
    if (!t) {
        fail(err, errlen, "out of memory");
        return NULL;
    }
    if (cr_fload_certrole(t, path, data, len, NULL, err, errlen) < 0) {
        cr_table_free(t);
        return NULL;
    }
    return t;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The new file's owner and mode: the old file's, or, for a new realm,
 * the caller's with 0666 less the umask (mkstemp makes it 0600). The
 * owner first: chown may clear set-id bits. */
static int keep_owner_mode(const struct cr_redit *e, int fd, char *err, size_t errlen)
{
    mode_t mode;
    if (e->exists) {
        struct stat now;
        if (fstat(fd, &now) < 0)
            return fail(err, errlen, "fstat: %s", strerror(errno));
        if ((now.st_uid != e->st.st_uid || now.st_gid != e->st.st_gid) &&
            fchown(fd, e->st.st_uid, e->st.st_gid) < 0)
            return fail(err, errlen, "cannot keep the owner (uid %u, gid %u) of %s: %s;"
                        " run this as that user or as root", (unsigned)e->st.st_uid,
                        (unsigned)e->st.st_gid, e->path, strerror(errno));
        mode = e->st.st_mode & 07777;
    } else {
        mode_t um = umask(0);
        umask(um);
        mode = 0666 & ~um;
    }
    if (fchmod(fd, mode) < 0)
        return fail(err, errlen, "cannot set mode %04o on the new %s: %s", (unsigned)mode,
                    e->path, strerror(errno));
    return 0;
}

int cr_redit_commit(struct cr_redit *e, const char *data, size_t len, char *err,
                    size_t errlen)
{
    cr_table *t = cr_redit_load(e->path, data, len, err, errlen);
    if (!t)
        return -2;
    cr_table_free(t);
    char *prefix = tmp_prefix(e), *tmp = NULL;
    if (!prefix || asprintf(&tmp, "%s/%sXXXXXX", e->dir, prefix) < 0) {
        free(prefix);
        return fail(err, errlen, "out of memory");
    }
    free(prefix);
    int rc = -1, fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        fail(err, errlen, "cannot create a temporary file in %s: %s", e->dir, strerror(errno));
        free(tmp);
        return -1;
    }
    if (write_all(fd, data, len) < 0)
        fail(err, errlen, "writing %s: %s", tmp, strerror(errno));
    else if (keep_owner_mode(e, fd, err, errlen) < 0)
        ;
    else if (fsync(fd) < 0)
        fail(err, errlen, "fsync %s: %s", tmp, strerror(errno));
    else
        rc = 0;
    if (close(fd) < 0 && rc == 0)
        rc = fail(err, errlen, "closing %s: %s", tmp, strerror(errno));
    if (rc == 0 && rename(tmp, e->path) < 0)
        rc = fail(err, errlen, "cannot replace %s: %s", e->path, strerror(errno));
    if (rc < 0)
        (void)unlink(tmp);
    /* The rename is durable once the directory is. */
    else if (fsync(e->dirfd) < 0)
        rc = fail(err, errlen, "fsync %s: %s (the new content is in place but may not"
                  " survive a crash)", e->dir, strerror(errno));
    free(tmp);
    return rc;
}

int cr_rline_next(const char *data, size_t len, size_t *pos, struct cr_rline *l)
{
    size_t i = *pos;
    if (i >= len)
        return 0;
    if (i == 0 && len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
        i = 3;
    const char *nl = memchr(data + i, '\n', len - i);
    size_t e = nl ? (size_t)(nl - data) : len;
    l->p = data + i;
    l->len = e - i;
    l->off = i;
    l->end = nl ? e + 1 : len;
    l->no++;
    *pos = l->end;
    return 1;
}

void cr_rentry_free(struct cr_rentry *e)
{
    free(e->token);
    free(e->norm);
    free(e->user);
    free(e->roles);
    free(e->issuer);
    memset(e, 0, sizeof *e);
}

int cr_rentry_read(const char *path, const struct cr_rline *l, struct cr_rentry *e, char *err,
                   size_t errlen)
{
    cr_fline f;
    size_t col = 0, start = 0;
    const char *msg = NULL;
    memset(e, 0, sizeof *e);
    if (cr_fline_parse(l->p, l->len, &f, &col, &msg) < 0)
        return fail(err, errlen, "%s:%ld:%zu: %s", path, l->no, col, msg);
    if (f.kind == CR_FLINE_BLANK)
        return 0;
    e->no = l->no;
    size_t n = cr_rtok_span(l->p, l->len, &start);
    e->token = strndup(l->p + start, n);
    e->norm = cr_rtok_norm(l->p + start, n);
    cr_strbuf b = CR_STRBUF_INIT;
    const char *role;
    size_t rlen, pos = 0;
    while (cr_frole_next(f.roles, f.roleslen, &pos, &role, &rlen)) {
        if (b.len)
            cr_sb_appendc(&b, ',');
        cr_sb_appendn(&b, role, rlen);
    }
    e->roles = cr_sb_take(&b);
    if (f.user) {
        char ubuf[1024];
        long u = f.user_quoted ? cr_funquote(f.user, f.userlen, ubuf, sizeof ubuf) : -1;
        e->user = u >= 0 ? strndup(ubuf, (size_t)u) : strndup(f.user, f.userlen);
    }
    if (f.issuer)
        e->issuer = strndup(f.issuer, f.issuerlen);
    if (!e->token || !e->roles || (f.user && !e->user) || (f.issuer && !e->issuer)) {
        cr_rentry_free(e);
        return fail(err, errlen, "out of memory");
    }
    return 1;
}
