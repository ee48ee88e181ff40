/* Reading a configuration file whole (policy and its includes, trust
 * anchors and CRLs, realm files). Only a regular file is read: a FIFO, a
 * device or a directory named by mistake (or by an attacker who can
 * write the policy's directory) would block a load or a reload forever,
 * or feed it endless bytes. Self-contained, so a realm plugin can compile
 * it in too. */
#ifndef CR_READFILE_H
#define CR_READFILE_H
#include <stddef.h>
#include <sys/stat.h>

/* How the buffer is allocated: resize(p, old, n) grows p (NULL when
 * old == 0) to n bytes, keeping p on failure; release(p, n) frees it.
 * NULL: malloc/realloc/free. */
struct cr_rf_alloc {
    void *(*resize)(void *p, size_t old, size_t n);
    void (*release)(void *p, size_t n);
};

/* Errors besides errno values: not a regular file, larger than max. */
#define CR_RF_NOTREG (-1)
#define CR_RF_TOOBIG (-2)
#define CR_RF_UNSTABLE (-3)   /* size or mtime moved during the read */

/* Reads path whole into a NUL-terminated buffer of *cap bytes (*len of
 * them the file's). The file is opened O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
 * checked with fstat and read only if it is a regular file. Returns the
 * buffer, or NULL with *why set: an errno value, CR_RF_NOTREG,
 * CR_RF_TOOBIG (more than max bytes) or CR_RF_UNSTABLE (the file's size
 * or mtime, by fstat on the descriptor, differ after the read from
 * before it). The identity read is noted in the thread's journal. */
char *cr_rf_read(const char *path, size_t max, const struct cr_rf_alloc *a,
                 size_t *len, size_t *cap, int *why);

/* A journal of the files one thread read (path and the identity fstat
 * gave on the descriptor that was read), so a configuration records the
 * identity of what it loaded, not of what the path names a moment later.
 * begin() opens it for the calling thread (one at a time); end() closes
 * and frees it. find() returns the identity of path's first read, or NULL
 * when path was not read. A realm plugin's own copy of this file has no
 * journal open and records nothing. */
struct cr_rf_seen {
    struct cr_rf_seen *next;
    struct stat st;
    char path[];
};
struct cr_rf_journal {
    struct cr_rf_seen *head;
    int failed;   /* out of memory: an entry is missing */
};
void cr_rf_journal_begin(struct cr_rf_journal *j);
void cr_rf_journal_end(struct cr_rf_journal *j);
struct cr_rf_journal *cr_rf_journal_current(void);
const struct stat *cr_rf_journal_find(const struct cr_rf_journal *j, const char *path);
/* Notes in the thread's journal (if one is open) that path had identity
 * st when it was read; for what is read otherwise than whole, such as a
 * directory's listing. */
void cr_rf_journal_note(const char *path, const struct stat *st);

/* One line for *why, e.g. "not a regular file (a FIFO)". path is stat'ed
 * again (without opening it) to name the kind of file. */
const char *cr_rf_strerror(const char *path, int why, char *buf, size_t n);
#endif
