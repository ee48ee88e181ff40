/* The policy file: tokenizer and parser producing a flat list of
 * directives (includes already expanded), every directive and argument
 * carrying its file:line:column. Purely syntactic plus the checks that
 * need no outside resources (directive names, argument shapes, controls,
 * exactly one 'trust'); config.c gives it meaning. Self-contained (no
 * other internal file) so the CLI can link it for 'policy-check'. */
#ifndef CR_POLICY_H
#define CR_POLICY_H
#include <stddef.h>
#include "certrole.h"

enum cr_directive_kind {
    CR_DIR_TRUST,     /* trust key=value ... */
    CR_DIR_REALM,     /* realm CONTROL MODULE [arg ...] */
    CR_DIR_REQUIRE,   /* require METHOD PATH-PREFIX ROLE ... */
    CR_DIR_OPTION     /* option key=value ... */
};

/* One argument, quotes and escapes removed. For "key=value" arguments
 * (split at the first '=', quoted or not) key and value are separate
 * copies; otherwise key is NULL and value == text. */
struct cr_parg {
    char *text;           /* whole argument, unquoted */
    char *key;            /* before the first unquoted '=', or NULL */
    char *value;          /* after it (or == text when no '=') */
    int line, col;        /* of the argument's first character */
    int vcol;             /* column of the value */
};

struct cr_directive {
    enum cr_directive_kind kind;
    const char *file;     /* borrowed from cr_policy.files */
    const char *base_dir; /* directory of 'file' (for relative paths) */
    int line, col;
    struct cr_parg *args; /* the arguments after the directive keyword */
    size_t nargs;
};

struct cr_policy {
    struct cr_directive *dirs;
    size_t ndirs;
    char **files;         /* every file read (policy + includes), display names */
    char **dirs_of;       /* base directory of files[i] */
    char **real_paths;    /* absolute path of files[i] (NULL for a string) */
    size_t nfiles;
};

/* Maximum include nesting. */
#define CR_POLICY_MAX_INCLUDE 8

/* Parses the policy at path. On success *out is the policy (free with
 * cr_policy_free). On failure returns CERTROLE_E_POLICY_ERROR (or
 * CERTROLE_E_NO_MEMORY / CERTROLE_E_IO) and *err (malloc'd) reads
 * "file:line:column: message". */
certrole_code cr_policy_parse_file(const char *path, struct cr_policy **out,
                                   char **err);
/* Same from text in memory; name (or "policy text") is used in messages and
 * its directory (or the working directory) for relative includes. */
certrole_code cr_policy_parse_string(const char *text, const char *name,
                                     struct cr_policy **out, char **err);
void cr_policy_free(struct cr_policy *p);

/* "required" → CR_REQUIRED etc. (stack.h's enum values); -1 if unknown. */
int cr_policy_control(const char *word);

/* malloc'd "file:line:col: " + formatted message; NULL on no memory. */
char *cr_policy_errf(const char *file, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The i-th directive keyword and the i-th option key (NULL past the
 * last): the tables the parser checks by, for tests that keep
 * certrole-policy(5) in step. */
const char *cr_policy_keyword(size_t i);
const char *cr_policy_option_key(size_t i);
#endif
