/* Policy parser (see policy.h and certrole-policy(5)): words come from
 * the tokenizer (policy_lex.c); this file checks each directive's shape,
 * expands includes and keeps the first error with its position. */
#define _GNU_SOURCE
#include "policy.h"
#include "policy_lex.h"
#include "readfile.h"
#include "role_name.h"
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_POLICY_BYTES (16u * 1024 * 1024)

char *cr_policy_errf(const char *file, int line, int col, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char *out = NULL;
    if (asprintf(&out, "%s:%d:%d: %s", file ? file : "policy text", line, col, msg) < 0)
        return NULL;
    return out;
}

int cr_policy_control(const char *w)
{
    /* Same order as enum cr_control in stack.h. */
    static const char *const names[] = { "required", "requisite", "sufficient", "optional" };
    for (int i = 0; i < 4; i++)
        if (strcmp(w, names[i]) == 0)
            return i;
    return -1;
}

/* ---- parse state ------------------------------------------------------ */

struct parser {
    struct cr_policy *pol;
    size_t dir_cap, file_cap;
    const char *include_stack[CR_POLICY_MAX_INCLUDE + 1];  /* real paths */
    int depth;
    int trust_seen;
    const char *trust_file;
    int trust_line;
    char *err;
    certrole_code code;
};

static void fail(struct parser *p, certrole_code code, const char *file, int line,
                 int col, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void fail(struct parser *p, certrole_code code, const char *file, int line,
                 int col, const char *fmt, ...)
{
    if (p->err)
        return;   /* keep the first error */
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    p->err = cr_policy_errf(file, line, col, "%s", msg);
    p->code = p->err ? code : CERTROLE_E_NO_MEMORY;
}

static void nomem(struct parser *p)
{
    if (!p->code)
        p->code = CERTROLE_E_NO_MEMORY;
}

static void free_args(struct cr_parg *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(a[i].text);
        free(a[i].key);
        if (a[i].value != a[i].text)
            free(a[i].value);
    }
    free(a);
}

void cr_policy_free(struct cr_policy *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->ndirs; i++)
        free_args(p->dirs[i].args, p->dirs[i].nargs);
    free(p->dirs);
    for (size_t i = 0; i < p->nfiles; i++) {
        free(p->files[i]);
        free(p->dirs_of[i]);
        free(p->real_paths[i]);
    }
    free(p->files);
    free(p->dirs_of);
    free(p->real_paths);
    free(p);
}

/* Registers a file; returns its index or -1 (no memory). Takes ownership. */
static long add_file(struct parser *p, char *name, char *dir, char *real)
{
    struct cr_policy *pol = p->pol;
    if (!name || !dir) {
        free(name); free(dir); free(real);
        return -1;
    }
    if (pol->nfiles == p->file_cap) {
        size_t cap = p->file_cap ? p->file_cap * 2 : 4;
        char **a = realloc(pol->files, cap * sizeof *a);
        if (a) pol->files = a;
        char **b = realloc(pol->dirs_of, cap * sizeof *b);
        if (b) pol->dirs_of = b;
        char **c = realloc(pol->real_paths, cap * sizeof *c);
        if (c) pol->real_paths = c;
        if (!a || !b || !c) {
            free(name); free(dir); free(real);
            return -1;
        }
        p->file_cap = cap;
    }
    pol->files[pol->nfiles] = name;
    pol->dirs_of[pol->nfiles] = dir;
    pol->real_paths[pol->nfiles] = real;
    return (long)pol->nfiles++;
}

/* Reads one word (see policy_lex.h), reporting errors through fail(). */
static int read_word(struct parser *p, struct cr_lexer *lx, const char *file,
                     struct cr_parg *arg)
{
    int el = 0, ec = 0;
    int rc = cr_lex_word(lx, arg, &el, &ec);
    if (rc == -1)
        fail(p, CERTROLE_E_POLICY_ERROR, file, el, ec, "unterminated quoted string");
    else if (rc < 0)
        nomem(p);
    return rc < 0 ? -1 : 0;
}

/* ---- directives -------------------------------------------------------- */

static int parse_text(struct parser *p, const char *text, size_t len, long file_idx);

static int valid_method(const char *m)
{
    if (strcmp(m, "*") == 0)
        return 1;
    if (!*m)
        return 0;
    for (const char *c = m; *c; c++)
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || *c == '-' || *c == '_'))
            return 0;
    return 1;
}

static const char *const option_keys[] = { "cache-ttl", "deny-ttl", "cache-size", "audit",
                                           "path-parameters", "path-case", "refresh", "cache-shared",
                                           NULL };

static int do_include(struct parser *p, const char *file, const char *base_dir,
                      const struct cr_parg *a);

/* The roles of a require line: the realms' one rule (role_name.h), or
 * '*'. "r,s" would otherwise be one role no realm can ever hand out. */
static int check_require_roles(struct parser *p, const char *file, const struct cr_parg *r,
                               size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(r[i].text), at = cr_role_name_bad_at(r[i].text, len);
        if (len && (at == len || strcmp(r[i].text, "*") == 0))
            continue;
        fail(p, CERTROLE_E_POLICY_ERROR, file, r[i].line, r[i].col, "%s%s%s",
             len == 0 ? "require: empty role name" : "require: role name '", len ? r[i].text : "",
             len == 0 ? "" : r[i].text[at] == ',' ? "' contains ','; list roles as separate "
                                                   "words (require GET /a r s)"
             : "' has a character outside " CR_ROLE_NAME_CHARS);
        return -1;
    }
    return 0;
}

/* The arguments of each directive, checked: 0 when good, -1 after
 * fail(). kw is the keyword argument (line and column of the directive). */
typedef int check_fn(struct parser *p, const char *file, const struct cr_parg *kw,
                     const struct cr_parg *rest, size_t n);

static int check_trust(struct parser *p, const char *file, const struct cr_parg *kw,
                       const struct cr_parg *rest, size_t n)
{
    if (p->trust_seen) {
        fail(p, CERTROLE_E_POLICY_ERROR, file, kw->line, kw->col,
             "second 'trust' directive (the first is at %s:%d); a policy has exactly one",
             p->trust_file, p->trust_line);
        return -1;
    }
    p->trust_seen = 1;
    p->trust_file = file;
    p->trust_line = kw->line;
    if (n == 0) {
        fail(p, CERTROLE_E_POLICY_ERROR, file, kw->line, kw->col,
             "trust: expected key=value options (ca-file=PATH ...)");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (!rest[i].key) {
            fail(p, CERTROLE_E_POLICY_ERROR, file, rest[i].line, rest[i].col,
                 "trust: expected key=value, got '%s'", rest[i].text);
            return -1;
        }
    return 0;
}

static int check_realm(struct parser *p, const char *file, const struct cr_parg *kw,
                       const struct cr_parg *rest, size_t n)
{
    if (n < 2) {
        fail(p, CERTROLE_E_POLICY_ERROR, file, kw->line, kw->col,
             "realm: expected CONTROL MODULE [ARG ...]");
        return -1;
    }
    if (cr_policy_control(rest[0].text) < 0) {
        fail(p, CERTROLE_E_POLICY_ERROR, file, rest[0].line, rest[0].col,
             "unknown control '%s' (expected required, requisite, sufficient or optional)",
             rest[0].text);
        return -1;
    }
    if (!*rest[1].text) {
        fail(p, CERTROLE_E_POLICY_ERROR, file, rest[1].line, rest[1].col,
             "realm: empty module name");
        return -1;
    }
    return 0;
}

static int check_require(struct parser *p, const char *file, const struct cr_parg *kw,
                         const struct cr_parg *rest, size_t n)
{
    if (n < 3) {
        fail(p, CERTROLE_E_POLICY_ERROR, file, kw->line, kw->col,
             "require: expected METHOD PATH-PREFIX ROLE [ROLE ...]");
        return -1;
    }
    if (!valid_method(rest[0].text)) {
        fail(p, CERTROLE_E_POLICY_ERROR, file, rest[0].line, rest[0].col,
             "require: bad method '%s' (a token like GET, or *)", rest[0].text);
        return -1;
    }
    if (rest[1].text[0] != '/') {
        fail(p, CERTROLE_E_POLICY_ERROR, file, rest[1].line, rest[1].col,
             "require: path prefix '%s' must start with '/'", rest[1].text);
        return -1;
    }
    return check_require_roles(p, file, rest + 2, n - 2);
}

static int check_option(struct parser *p, const char *file, const struct cr_parg *kw,
                        const struct cr_parg *rest, size_t n)
{
    if (n == 0) {
        fail(p, CERTROLE_E_POLICY_ERROR, file, kw->line, kw->col, "option: expected key=value");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!rest[i].key) {
            fail(p, CERTROLE_E_POLICY_ERROR, file, rest[i].line, rest[i].col,
                 "option: expected key=value, got '%s'", rest[i].text);
            return -1;
        }
        int known = 0;
        for (int k = 0; option_keys[k]; k++)
            known |= strcmp(option_keys[k], rest[i].key) == 0;
        if (!known) {
            fail(p, CERTROLE_E_POLICY_ERROR, file, rest[i].line, rest[i].col,
                 "unknown option '%s' (expected cache-ttl, deny-ttl, cache-size, audit, "
                 "path-parameters, path-case, refresh or cache-shared)", rest[i].key);
            return -1;
        }
    }
    return 0;
}

/* The directives (certrole-policy(5) DIRECTIVES, in this order). include
 * has no check: it reads another file instead of adding a directive. */
static const struct keyword {
    const char *name;
    enum cr_directive_kind kind;
    check_fn *check;
} keywords[] = {
    { "trust", CR_DIR_TRUST, check_trust },
    { "realm", CR_DIR_REALM, check_realm },
    { "require", CR_DIR_REQUIRE, check_require },
    { "option", CR_DIR_OPTION, check_option },
    { "include", CR_DIR_OPTION, NULL },
};

const char *cr_policy_keyword(size_t i)
{
    return i < sizeof keywords / sizeof keywords[0] ? keywords[i].name : NULL;
}

const char *cr_policy_option_key(size_t i)
{
    return i < sizeof option_keys / sizeof option_keys[0] ? option_keys[i] : NULL;
}

/* Validates one logical line and appends it. Takes ownership of args. */
static int add_directive(struct parser *p, long file_idx, struct cr_parg *args,
                         size_t n)
{
    const char *file = p->pol->files[file_idx];
    const char *base = p->pol->dirs_of[file_idx];
    const char *kw = args[0].text;
    int line = args[0].line, col = args[0].col;
    struct cr_parg *rest = args + 1;
    size_t nrest = n - 1;
    const struct keyword *k = NULL;
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0] && !k; i++)
        if (strcmp(kw, keywords[i].name) == 0)
            k = &keywords[i];
    if (!k) {
        fail(p, CERTROLE_E_POLICY_ERROR, file, line, col,
             "unknown directive '%s' (expected trust, realm, require, option or include)", kw);
        goto out;
    }
    if (!k->check) {   /* include */
        int rc = -1;
        if (nrest != 1)
            fail(p, CERTROLE_E_POLICY_ERROR, file, line, col,
                 "include: expected exactly one file name");
        else
            rc = do_include(p, file, base, &rest[0]);
        free_args(args, n);
        return rc;
    }
    if (k->check(p, file, &args[0], rest, nrest) < 0)
        goto out;
    enum cr_directive_kind kind = k->kind;

    struct cr_policy *pol = p->pol;
    if (pol->ndirs == p->dir_cap) {
        size_t cap = p->dir_cap ? p->dir_cap * 2 : 16;
        struct cr_directive *d = realloc(pol->dirs, cap * sizeof *d);
        if (!d) {
            nomem(p);
            goto out;
        }
        pol->dirs = d;
        p->dir_cap = cap;
    }
    /* Drop the keyword itself; keep the arguments. */
    free(args[0].text);
    free(args[0].key);
    if (args[0].value != args[0].text)
        free(args[0].value);
    memmove(args, args + 1, nrest * sizeof *args);
    pol->dirs[pol->ndirs++] = (struct cr_directive){
        .kind = kind, .file = file, .base_dir = base, .line = line, .col = col,
        .args = args, .nargs = nrest,
    };
    return 0;
out:
    free_args(args, n);
    return -1;
}

static int parse_text(struct parser *p, const char *text, size_t len, long file_idx)
{
    const char *file = p->pol->files[file_idx];
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        int line = 1, col = 1;
        for (const char *c = text; c < nul; c++) {
            if (*c == '\n') { line++; col = 1; } else col++;
        }
        fail(p, CERTROLE_E_POLICY_ERROR, file, line, col, "NUL byte in policy");
        return -1;
    }
    struct cr_lexer lx = { text, text + len, 1, 1 };
    struct cr_parg *args = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        size_t cl;
        while (lx.s < lx.end && cr_lex_is_blank(*lx.s)) {
            lx.s++; lx.col++;
        }
        if ((cl = cr_lex_continuation(&lx)) != 0) {
            lx.s += cl; lx.line++; lx.col = 1;
            continue;
        }
        int eol = lx.s >= lx.end || *lx.s == '\n' || *lx.s == '#';
        if (eol) {
            while (lx.s < lx.end && *lx.s != '\n')
                lx.s++;   /* comment */
            if (n > 0) {
                int rc = add_directive(p, file_idx, args, n);
                args = NULL; n = 0; cap = 0;
                if (rc < 0)
                    return -1;
            }
            if (lx.s >= lx.end)
                break;
            lx.s++; lx.line++; lx.col = 1;
            continue;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 8;
            struct cr_parg *a = realloc(args, nc * sizeof *a);
            if (!a) {
                free_args(args, n);
                nomem(p);
                return -1;
            }
            args = a;
            cap = nc;
        }
        memset(&args[n], 0, sizeof args[n]);
        if (read_word(p, &lx, file, &args[n]) < 0) {
            free_args(args, n + 1);
            return -1;
        }
        n++;
    }
    free(args);
    return 0;
}

/* ---- files ------------------------------------------------------------- */

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    if (!slash)
        dir = strdup(".");
    else if (slash == path)
        dir = strdup("/");
    else
        dir = strndup(path, (size_t)(slash - path));
    if (!dir || dir[0] == '/')
        return dir;
    /* Relative: anchor it to the working directory now, so a later chdir
     * does not change what a reload reads. */
    char cwd[PATH_MAX];
    char *abs = NULL;
    if (getcwd(cwd, sizeof cwd) &&
        asprintf(&abs, "%s%s%s", cwd, strcmp(dir, ".") ? "/" : "",
                 strcmp(dir, ".") ? dir : "") < 0)
        abs = NULL;
    free(dir);
    return abs;
}

/* Parses one file (top level when from == NULL, else an include at from). */
static int parse_path(struct parser *p, const char *path, const char *from_file,
                      const struct cr_parg *from)
{
    char *real = realpath(path, NULL);
    char *text = NULL;
    size_t len = 0;
    int errnum = 0;
    if (!real || !(text = cr_rf_read(real, MAX_POLICY_BYTES, NULL, &len, NULL, &errnum))) {
        if (!real)
            errnum = errno;
        free(real);
        char why[160];
        cr_rf_strerror(path, errnum, why, sizeof why);
        if (errnum == ENOMEM) {
            nomem(p);
        } else if (from) {
            fail(p, CERTROLE_E_POLICY_ERROR, from_file, from->line, from->col,
                 "include '%s': %s", path, why);
        } else if (!p->err) {
            if (asprintf(&p->err, "%s: cannot read policy: %s", path, why) < 0)
                p->err = NULL;
            p->code = p->err ? CERTROLE_E_IO : CERTROLE_E_NO_MEMORY;
        }
        return -1;
    }
    for (int i = 0; i < p->depth; i++) {
        if (strcmp(p->include_stack[i], real) == 0) {
            fail(p, CERTROLE_E_POLICY_ERROR, from_file, from->line, from->col,
                 "include '%s': include cycle (the file is already being read)", path);
            free(real);
            free(text);
            return -1;
        }
    }
    if (p->depth >= CR_POLICY_MAX_INCLUDE) {
        fail(p, CERTROLE_E_POLICY_ERROR, from_file, from->line, from->col,
             "include '%s': includes nested deeper than %d", path, CR_POLICY_MAX_INCLUDE);
        free(real);
        free(text);
        return -1;
    }
    long idx = add_file(p, strdup(path), dir_of(path), real);
    if (idx < 0) {
        free(text);
        nomem(p);
        return -1;
    }
    p->include_stack[p->depth++] = p->pol->real_paths[idx];
    int rc = parse_text(p, text, len, idx);
    p->depth--;
    free(text);
    return rc;
}

static int do_include(struct parser *p, const char *file, const char *base_dir,
                      const struct cr_parg *a)
{
    char *path = NULL;
    if (!*a->text) {
        fail(p, CERTROLE_E_POLICY_ERROR, file, a->line, a->col, "include: empty file name");
        return -1;
    }
    if (a->text[0] == '/')
        path = strdup(a->text);
    else if (asprintf(&path, "%s/%s", base_dir, a->text) < 0)
        path = NULL;
    if (!path) {
        nomem(p);
        return -1;
    }
    int rc = parse_path(p, path, file, a);
    free(path);
    return rc;
}

static certrole_code finish(struct parser *p, struct cr_policy **out, char **err)
{
    if (!p->err && !p->code && !p->trust_seen) {
        const char *top = p->pol->nfiles ? p->pol->files[0] : "policy text";
        fail(p, CERTROLE_E_POLICY_ERROR, top, 1, 1,
             "no 'trust' directive: a policy needs exactly one (trust ca-file=PATH ...)");
    }
    if (p->err || p->code) {
        cr_policy_free(p->pol);
        *out = NULL;
        if (err)
            *err = p->err;
        else
            free(p->err);
        return p->code ? p->code : CERTROLE_E_POLICY_ERROR;
    }
    *out = p->pol;
    if (err)
        *err = NULL;
    return CERTROLE_OK;
}

certrole_code cr_policy_parse_file(const char *path, struct cr_policy **out, char **err)
{
    struct parser p = { 0 };
    *out = NULL;
    if (err)
        *err = NULL;
    if (!path)
        return CERTROLE_E_INVALID_ARGUMENT;
    p.pol = calloc(1, sizeof *p.pol);
    if (!p.pol)
        return CERTROLE_E_NO_MEMORY;
    parse_path(&p, path, NULL, NULL);
    return finish(&p, out, err);
}

certrole_code cr_policy_parse_string(const char *text, const char *name,
                                     struct cr_policy **out, char **err)
{
    struct parser p = { 0 };
    *out = NULL;
    if (err)
        *err = NULL;
    if (!text)
        return CERTROLE_E_INVALID_ARGUMENT;
    p.pol = calloc(1, sizeof *p.pol);
    if (!p.pol)
        return CERTROLE_E_NO_MEMORY;
    const char *nm = name ? name : "policy text";
    long idx = add_file(&p, strdup(nm), dir_of(name && strchr(name, '/') ? name : "x"), NULL);
    if (idx < 0) {
        cr_policy_free(p.pol);
        return CERTROLE_E_NO_MEMORY;
    }
    parse_text(&p, text, strlen(text), idx);
    return finish(&p, out, err);
}
