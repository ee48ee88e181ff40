/* Editing a certrole realm file for 'certrole realm': one writer at a
 * time, the whole new content checked by the file realm's own loader,
 * and an atomic replacement that keeps the file's mode and owner. */
#ifndef CR_REALM_EDIT_H
#define CR_REALM_EDIT_H
#include <stddef.h>
#include <sys/stat.h>
#include "table.h"

struct cr_redit {
    char *path;       /* the realm file, symbolic links resolved */
    char *dir, *base; /* its directory and name */
    int dirfd;        /* the directory, open; holds the lock (-1: none) */
    char *data;       /* current content, NUL-terminated ("" when absent) */
    size_t len;
    int exists;
    struct stat st;   /* of the current file, when it exists */
};

/* Opens path for editing: resolves it, takes the lock (waits up to
 * CR_REDIT_LOCK_WAIT_MS), removes temporary files a killed writer left,
 * and reads the current content. A missing file is an empty realm when
 * 'create', an error otherwise. 0, or -1 with err (then call end). */
#define CR_REDIT_LOCK_WAIT_MS 30000
int cr_redit_begin(struct cr_redit *e, const char *path, int create, char *err,
                   size_t errlen);

/* Replaces the realm with data[0..len): loads it with the file realm's
 * loader first (a file the server would refuse is never written), then
 * temporary file, fsync, owner and mode, rename, fsync of the
 * directory. 0; -2 with err when the loader refuses data; -1 with err on
 * a system error. On failure the old file is untouched. */
int cr_redit_commit(struct cr_redit *e, const char *data, size_t len, char *err,
                    size_t errlen);

/* Releases the lock and frees e. Safe after a failed begin. */
void cr_redit_end(struct cr_redit *e);

/* Loads data as the server's file realm would (path names it in
 * errors). Returns the table (free with cr_table_free), or NULL with
 * err ("path:line:column: message"). */
cr_table *cr_redit_load(const char *path, const char *data, size_t len, char *err,
                        size_t errlen);

/* One line of a realm file: text without its line end, 1-based number.
 * A UTF-8 byte order mark opening the file is skipped. */
struct cr_rline {
    const char *p;    /* the text, without '\n' (a '\r' before it kept) */
    size_t len;
    size_t off, end;  /* the line's bytes in data: [off, end), '\n' included */
    long no;
};
/* Next line from *pos (starts at 0, with l->no 0); 1, or 0 at the end. */
int cr_rline_next(const char *data, size_t len, size_t *pos, struct cr_rline *l);

/* An entry line, read for display and matching (malloc'd fields). */
struct cr_rentry {
    long no;
    char *token;   /* the identity as written */
    char *norm;    /* cr_rtok_norm of it (NULL when not comparable) */
    char *user;    /* unquoted, or NULL */
    char *roles;   /* "a,b" */
    char *issuer;  /* issuer= DN text as written, or NULL */
};
/* 1 and *e filled for an entry, 0 for a blank or comment line, -1 with
 * err ("path:line:column: message") when the line does not parse. */
int cr_rentry_read(const char *path, const struct cr_rline *l, struct cr_rentry *e, char *err,
                   size_t errlen);
void cr_rentry_free(struct cr_rentry *e);
#endif
