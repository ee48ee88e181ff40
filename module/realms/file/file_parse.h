/* The certrole realm file's line format (one entry per line):
 *
 *   "DN"                 ROLE[,ROLE...]  [user=NAME] [issuer="DN"]
 *   sha256:FINGERPRINT   ROLE[,ROLE...]  [user=NAME] [issuer="DN"]
 *   KIND:VALUE           ROLE[,ROLE...]  [user=NAME] [issuer="DN"]
 *   issuer-serial:"ISSUER DN":SERIALHEX  ROLE[,ROLE...] ...
 *
 * and, after the roles, optional conditions (file_cond.h):
 *   eku=OID[,OID...]  ku=NAME[,NAME...]  leaf-policy=OID[,OID...]
 *
 * KIND is email, upn, dns, uri or spiffe (any case, like sha256). VALUE
 * is bare (printable ASCII except space, tab, '"' and '\') or quoted
 * ("..." with \" and \\ as the only escapes; UTF-8 allowed inside).
 * spiffe:VALUE is an exact SPIFFE ID or a prefix ending in "/" and "*".
 * SERIALHEX is hex digits, plain or as colon-separated pairs, compared
 * as a number. How each kind's value is normalised and matched is in
 * file_norm.h.
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
    CR_FLINE_SHA256 = 2,    /* fp: 64 lower-case hex digits */
    CR_FLINE_VALUE = 3,     /* vkind and val/vallen (raw, see val_quoted) */
    CR_FLINE_ISSUER_SERIAL = 4 /* id/idlen: issuer DN text; fp: serial (file_norm.h) */
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
    int vkind;                          /* cr_fkind of a CR_FLINE_VALUE */
    const char *val; size_t vallen;     /* the value as written, quotes off */
    int val_quoted;                     /* \" and \\ escapes still in val */
    size_t val_col;                     /* 1-based column of the value */
    const char *cond[3]; size_t condlen[3]; /* eku=, ku=, leaf-policy= lists
                                           (cr_fcond_kind order; checked) */
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
