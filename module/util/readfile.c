/* Whole-file reads of regular files only (see readfile.h). */
#define _GNU_SOURCE
#include "readfile.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void *m_resize(void *p, size_t old, size_t n)
{
    (void)old;
    return realloc(p, n);
}

static void m_release(void *p, size_t n)
{
    (void)n;
    free(p);
}

static const struct cr_rf_alloc malloc_alloc = { m_resize, m_release };

/* The journal of the thread's reads, when one is open (readfile.h). */
/* initial-exec: this file is also built into the file realm plugin, and a
 * dynamic TLS block of a plugin that is dlclosed leaves a stale pointer
 * behind that LeakSanitizer's thread scan trips over; one pointer of
 * static TLS has no such block. */
static __thread struct cr_rf_journal *journal __attribute__((tls_model("initial-exec")));

void cr_rf_journal_begin(struct cr_rf_journal *j)
{
    memset(j, 0, sizeof *j);
    journal = j;
}

void cr_rf_journal_end(struct cr_rf_journal *j)
{
    if (journal == j)
        journal = NULL;
    while (j->head) {
        struct cr_rf_seen *n = j->head->next;
        free(j->head);
        j->head = n;
    }
}

struct cr_rf_journal *cr_rf_journal_current(void)
{
    return journal;
}

const struct stat *cr_rf_journal_find(const struct cr_rf_journal *j, const char *path)
{
    /* Entries are prepended: the last match is the first read, the one
     * whose identity is safe to record (an older one is only re-read). */
    const struct stat *st = NULL;
    for (const struct cr_rf_seen *s = j ? j->head : NULL; s; s = s->next)
        if (strcmp(s->path, path) == 0)
            st = &s->st;
    return st;
}

void cr_rf_journal_note(const char *path, const struct stat *st)
{
    if (!journal)
        return;
    size_t n = strlen(path) + 1;
    struct cr_rf_seen *s = malloc(sizeof *s + n);
    if (!s) {
        journal->failed = 1;
        return;
    }
    memcpy(s->path, path, n);
    s->st = *st;
    s->next = journal->head;
    journal->head = s;
}

/* Whether the file kept its size and mtime while it was read: a writer
 * still at work would hand us half a file. */
static int unchanged(int fd, const struct stat *before)
{
    struct stat after;
    return fstat(fd, &after) == 0 && after.st_size == before->st_size &&
           after.st_mtim.tv_sec == before->st_mtim.tv_sec &&
           after.st_mtim.tv_nsec == before->st_mtim.tv_nsec &&
           after.st_ino == before->st_ino && after.st_dev == before->st_dev;
}

/* Opens without blocking (a FIFO with no writer would block open() itself)
 * and refuses anything but a regular file before a byte is read. */
static int open_regular(const char *path, struct stat *st, int *why)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        *why = errno;
        return -1;
    }
    if (fstat(fd, st) != 0) {
        *why = errno;
        close(fd);
        return -1;
    }
    if (!S_ISREG(st->st_mode)) {
        *why = CR_RF_NOTREG;
        close(fd);
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
        *why = errno;
        close(fd);
        return -1;
    }
    return fd;
}

char *cr_rf_read(const char *path, size_t max, const struct cr_rf_alloc *a,
                 size_t *len, size_t *cap, int *why)
{
    struct stat st;
    if (!a)
        a = &malloc_alloc;
    int fd = open_regular(path, &st, why);
    if (fd < 0)
        return NULL;
    if ((unsigned long long)st.st_size > max) {
        close(fd);
        *why = CR_RF_TOOBIG;
        return NULL;
    }
    size_t c = (size_t)st.st_size + 1, n = 0;
    char *buf = a->resize(NULL, 0, c);
    *why = buf ? 0 : ENOMEM;
    while (buf) {
        if (n + 1 >= c) {   /* the file grew while we read it */
            char *b = n >= max ? NULL : a->resize(buf, c, c * 2);
            if (!b) {
                *why = n >= max ? CR_RF_TOOBIG : ENOMEM;
                break;
            }
            buf = b;
            c *= 2;
        }
        ssize_t k = read(fd, buf + n, c - 1 - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            *why = errno;
        if (k <= 0)
            break;
        n += (size_t)k;
    }
    if (!*why && !unchanged(fd, &st))
        *why = CR_RF_UNSTABLE;
    close(fd);
    if (*why) {
        if (buf)
            a->release(buf, c);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    /* What is recorded is what was read: the descriptor's identity, not
     * the path's, which a rename may already point elsewhere. */
    cr_rf_journal_note(path, &st);
    if (cap)
        *cap = c;
    return buf;
}

static const char *kind_of(mode_t m)
{
    return S_ISFIFO(m) ? "a FIFO" : S_ISDIR(m) ? "a directory" : S_ISCHR(m) ? "a character device"
         : S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" : "not a plain file";
}

const char *cr_rf_strerror(const char *path, int why, char *buf, size_t n)
{
    struct stat st;
    if (why == CR_RF_NOTREG) {
        if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
            snprintf(buf, n, "not a regular file (it is %s); only regular files are read",
                     kind_of(st.st_mode));
        else
            snprintf(buf, n, "not a regular file; only regular files are read");
    } else if (why == CR_RF_TOOBIG) {
        snprintf(buf, n, "file too large");
    } else if (why == CR_RF_UNSTABLE) {
        snprintf(buf, n, "file changed while it was read (still being written?)");
    } else {
        snprintf(buf, n, "%s", strerror(why));
    }
    return buf;
}
