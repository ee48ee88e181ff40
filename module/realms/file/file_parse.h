/* The certrole realm file's line format (one entry per line):
 *
 *   "DN"                 ROLE[,ROLE...]  [user=NAME] [issuer="DN"]
 *   sha256:FINGERPRINT   ROLE[,ROLE...]  [user=NAME] [issuer="DN"]
 *
 * '#' starts a comment (at the start of a line or after white space);
 * blank lines are ignored. This file only splits and validates a line;
 * DN parsing is the core's (certrole_dn_key). Pure functions, no
 * allocation, thread-safe. */
#ifndef CR_FILE_PARSE_H
#define CR_FILE_PARSE_H
#include <stddef.h>

/* Longest line accepted (bytes, without the newline). */
#define CR_FLINE_MAX 65536

typedef enum cr_fline_kind {
    CR_FLINE_BLANK = 0,     /* empty or comment: nothing to do */
    CR_FLINE_DN = 1,        /* id/idlen: the DN text between the quotes */
    CR_FLINE_SHA256 = 2     /* fp: 64 lower-case hex digits */
} cr_fline_kind;

/* A parsed line. Pointers point into the caller's line buffer. */
typedef struct cr_fline {
    cr_fline_kind kind;
    const char *id; size_t idlen;       /* raw DN text, escapes kept */
    char fp[65];                        /* normalised fingerprint */
    const char *roles; size_t roleslen; /* "a, b,c" as written (validated) */
    size_t nroles;
    const char *user; size_t userlen;   /* NULL when absent; see quoted */
    int user_quoted;                    /* user was "..." (\x escapes kept) */
    const char *issuer; size_t issuerlen; /* raw DN text or NULL */
    size_t id_col, issuer_col;          /* 1-based columns, for DN errors */
} cr_fline;

/* Parses one line (without its newline; a trailing '\r' is ignored).
 * Returns 0 and fills *out, or -1 with *col (1-based byte column) and
 * *msg (static string) describing the first error. */
int cr_fline_parse(const char *line, size_t len, cr_fline *out,
                   size_t *col, const char **msg);

/* 1 when s[0..len) is a valid role name: one or more of A-Z a-z 0-9 . _ : - */
int cr_frole_valid(const char *s, size_t len);

/* Iterates a comma-separated role list (as validated by cr_fline_parse
 * or from an XML attribute): stores the next trimmed role in *role and *rlen
 * and returns 1, or returns 0 at the end. *pos starts at 0. Empty items
 * are skipped (callers validate beforehand). */
int cr_frole_next(const char *list, size_t len, size_t *pos,
                  const char **role, size_t *rlen);

/* Copies a quoted value's text into dst (dstlen bytes incl. NUL),
 * resolving backslash escapes. Returns the length or -1 if too long. */
long cr_funquote(const char *s, size_t len, char *dst, size_t dstlen);
#endif
