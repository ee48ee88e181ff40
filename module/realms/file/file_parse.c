/* Line format of the certrole realm file (see file_parse.h). */
#include "file_parse.h"
#include <string.h>
#include "file_cond.h"
#include "file_norm.h"
#include "role_name.h"

#define FAIL(p, m) do { *col = (size_t)((p) - line) + 1; *msg = (m); return -1; } while (0)

static int is_ws(char c) { return c == ' ' || c == '\t'; }
static int is_xws(char c) { return is_ws(c) || c == '\n' || c == '\r'; }

/* The identity kinds, by the name before ':' (any case). */
enum { KIND_SHA256 = -1, KIND_ISSUER_SERIAL = -2, KIND_NONE = -3 };
static const struct { const char *name; int kind; } kinds[] = {
    { "sha256", KIND_SHA256 }, { "email", CR_FK_EMAIL }, { "upn", CR_FK_UPN },
    { "dns", CR_FK_DNS }, { "uri", CR_FK_URI }, { "spiffe", CR_FK_SPIFFE },
    { "issuer-serial", KIND_ISSUER_SERIAL },
};

/* The kind named at p (followed by ':'), or KIND_NONE; *len gets the
 * length of "name:". Without the locale. */
static int kind_at(const char *p, const char *end, size_t *len)
{
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        size_t n = strlen(kinds[k].name), i;
        if ((size_t)(end - p) <= n || p[n] != ':')
            continue;
        for (i = 0; i < n; i++) {
            char c = p[i];
            if (c >= 'A' && c <= 'Z')
                c = (char)(c - 'A' + 'a');
            if (c != kinds[k].name[i])
                break;
        }
        if (i == n) {
            *len = n + 1;
            return kinds[k].kind;
        }
    }
    return KIND_NONE;
}

/* Role names follow the core's one rule (role_name.h). */
static int role_char(unsigned char c)
{
    return cr_role_char(c);
}

int cr_frole_valid(const char *s, size_t len)
{
    return cr_role_name_valid(s, len);
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* p points at an opening quote; returns the closing quote (the first one
 * not escaped by a backslash) or NULL. */
static const char *closing_quote(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        if (*p == '\\') {
            if (++p == end)
                return NULL;
        } else if (*p == '"') {
            return p;
        }
    }
    return NULL;
}

/* "sha256:" then 64 hex digits, either plain or as colon-separated
 * pairs (the way openssl x509 -fingerprint prints them). */
static int parse_fp(const char *line, const char *p, const char *end, cr_fline *out,
                    const char **next, size_t *col, const char **msg)
{
    const char *s = p;
    while (p < end && !is_ws(*p))
        p++;
    size_t n = 0, pair = 0;
    int colons = 0;
    for (const char *q = s; q < p; q++) {
        if (*q == ':') {
            if (pair != 2)
                FAIL(q, "misplaced ':' in fingerprint (colons go between byte pairs)");
            colons++;
            pair = 0;
            continue;
        }
        int v = hexval((unsigned char)*q);
        if (v < 0)
            FAIL(q, "bad hex digit in fingerprint");
        if (n >= 64)
            FAIL(q, "fingerprint too long: a SHA-256 fingerprint has 64 hex digits");
        out->fp[n++] = "0123456789abcdef"[v];
        pair++;
        if (colons && pair > 2)
            FAIL(q, "misplaced ':' in fingerprint (colons go between byte pairs)");
    }
    if (colons && pair != 2)
        FAIL(p, "misplaced ':' in fingerprint (colons go between byte pairs)");
    if (colons && colons != 31)
        FAIL(s, "fingerprint must use colons between all byte pairs or none");
    if (n != 64)
        FAIL(s, "fingerprint too short: a SHA-256 fingerprint has 64 hex digits");
    out->fp[64] = '\0';
    *next = p;
    return 0;
}

/* A KIND:VALUE value at p: bare or quoted (file_parse.h). */
static int parse_value(const char *line, const char *p, const char *end, cr_fline *out,
                       const char **next, size_t *col, const char **msg)
{
    out->val_col = (size_t)(p - line) + 1;
    if (p < end && *p == '"') {
        const char *s = ++p;
        for (; p < end && *p != '"'; p++) {
            if (*p == '\\') {
                if (p + 1 == end || (p[1] != '"' && p[1] != '\\'))
                    FAIL(p, "in a quoted value only \\\" and \\\\ are escapes");
                p++;
            }
        }
        if (p == end)
            FAIL(s - 1, "unterminated quoted value");
        out->val = s;
        out->vallen = (size_t)(p - s);
        out->val_quoted = 1;
        p++;
    } else {
        const char *s = p;
        for (; p < end && !is_ws(*p); p++) {
            unsigned char c = (unsigned char)*p;
            if (c == '"' || c == '\\')
                FAIL(p, "quote or backslash in an unquoted value (quote the value)");
            if (c >= 0x80)
                FAIL(p, "non-ASCII character in an unquoted value (quote the value)");
        }
        out->val = s;
        out->vallen = (size_t)(p - s);
    }
    if (out->vallen == 0)
        FAIL(line + out->val_col - 1, "empty value");
    if (out->vkind == CR_FK_SPIFFE && out->vallen >= 2 &&
        memcmp(out->val + out->vallen - 2, "/*", 2) == 0)
        out->vkind = CR_FK_SPIFFE_PREFIX;
    *next = p;
    return 0;
}

/* issuer-serial:"ISSUER DN":SERIALHEX, p just after the kind. */
static int parse_issuer_serial(const char *line, const char *p, const char *end, cr_fline *out,
                               const char **next, size_t *col, const char **msg)
{
    if (p == end || *p != '"')
        FAIL(p, "issuer-serial: takes \"ISSUER DN\":SERIALHEX");
    const char *c = closing_quote(p, end);
    if (!c)
        FAIL(p, "unterminated quoted DN");
    if (c == p + 1)
        FAIL(p, "empty DN");
    out->id = p + 1;
    out->idlen = (size_t)(c - p - 1);
    out->id_col = (size_t)(p - line) + 1;
    p = c + 1;
    if (p == end || *p != ':')
        FAIL(p, "expected ':' and the serial number after the issuer DN");
    const char *s = ++p;
    while (p < end && !is_ws(*p))
        p++;
    const char *why = NULL;
    size_t bad = 0;
    if (cr_fnorm_serial(s, (size_t)(p - s), out->fp, &why, &bad) < 0)
        FAIL(s + bad, why);
    *next = p;
    return 0;
}

/* Skips white space; returns 1 when the rest is empty or a comment. */
static int at_end(const char **pp, const char *end)
{
    const char *p = *pp;
    while (p < end && is_ws(*p))
        p++;
    *pp = p;
    return p == end || *p == '#';
}

static int parse_roles(const char *line, const char *p, const char *end, cr_fline *out,
                       const char **next, size_t *col, const char **msg)
{
    out->roles = p;
    out->nroles = 0;
    for (;;) {
        const char *r = p;
        while (p < end && role_char((unsigned char)*p))
            p++;
        if (p == r) {
            if (p < end && *p == ',')
                FAIL(p, "empty role name");
            if (out->nroles == 0)
                FAIL(p, "expected a role name");
            FAIL(p, "expected a role name after ','");
        }
        if (p < end && *p == '=')
            FAIL(r, out->nroles ? "expected a role name after ','"
                                : "no roles: roles come before attributes such as user=");
        if (p < end && !is_ws(*p) && *p != ',')
            FAIL(p, "bad character in role name (allowed: " CR_ROLE_NAME_CHARS ")");
        out->nroles++;
        out->roleslen = (size_t)(p - out->roles);
        const char *q = p;
        while (q < end && is_ws(*q))
            q++;
        if (q < end && *q == ',') {
            p = q + 1;
            while (p < end && is_ws(*p))
                p++;
            continue;
        }
        *next = p;
        return 0;
    }
}

/* user=NAME or user="NAME" at v; *next after it. */
static int parse_user(const char *line, const char *k, const char *v, const char *end,
                      cr_fline *out, const char **next, size_t *col, const char **msg)
{
    const char *p = v;
    if (out->user)
        FAIL(k, "user= given twice");
    if (v < end && *v == '"') {
        const char *c = closing_quote(v, end);
        if (!c)
            FAIL(v, "unterminated quoted user name");
        out->user = v + 1;
        out->userlen = (size_t)(c - v - 1);
        out->user_quoted = 1;
        p = c + 1;
    } else {
        while (p < end && !is_ws(*p)) {
            if (*p == '"')
                FAIL(p, "quote inside an unquoted user name");
            p++;
        }
        out->user = v;
        out->userlen = (size_t)(p - v);
    }
    if (out->userlen == 0)
        FAIL(v, "empty user name");
    *next = p;
    return 0;
}

/* eku=, ku= or leaf-policy= (kind) with its list at v; *next after it. */
static int parse_cond(const char *line, const char *k, const char *v, const char *end,
                      int kind, cr_fline *out, const char **next, size_t *col, const char **msg)
{
    const char *p = v;
    if (out->cond[kind])
        FAIL(k, "condition given twice");
    while (p < end && !is_ws(*p))
        p++;
    const char *why = NULL;
    size_t bad = 0;
    if (cr_fcond_check(kind, v, (size_t)(p - v), &why, &bad) < 0)
        FAIL(v + bad, why);
    out->cond[kind] = v;
    out->condlen[kind] = (size_t)(p - v);
    *next = p;
    return 0;
}

static int parse_attrs(const char *line, const char *p, const char *end, cr_fline *out,
                       size_t *col, const char **msg)
{
    while (!at_end(&p, end)) {
        const char *k = p;
        while (p < end && ((*p >= 'a' && *p <= 'z') || *p == '-'))
            p++;
        if (p == end || *p != '=' || p == k)
            FAIL(k, "unexpected text after the roles (separate roles with ',';"
                    " attributes are user=, issuer=, eku=, ku= and leaf-policy=)");
        size_t klen = (size_t)(p - k);
        const char *v = ++p;
        int cond = klen == 3 && memcmp(k, "eku", 3) == 0      ? CR_FCOND_EKU
                 : klen == 2 && memcmp(k, "ku", 2) == 0       ? CR_FCOND_KU
                 : klen == 11 && memcmp(k, "leaf-policy", 11) == 0 ? CR_FCOND_POLICY
                                                              : -1;
        if (klen == 4 && memcmp(k, "user", 4) == 0) {
            if (parse_user(line, k, v, end, out, &p, col, msg) < 0)
                return -1;
        } else if (cond >= 0) {
            if (parse_cond(line, k, v, end, cond, out, &p, col, msg) < 0)
                return -1;
        } else if (klen == 6 && memcmp(k, "issuer", 6) == 0) {
            if (out->issuer)
                FAIL(k, "issuer= given twice");
            if (v == end || *v != '"')
                FAIL(v, "issuer= takes a DN in double quotes");
            const char *c = closing_quote(v, end);
            if (!c)
                FAIL(v, "unterminated quoted DN");
            if (c == v + 1)
                FAIL(v, "empty DN");
            out->issuer = v + 1;
            out->issuerlen = (size_t)(c - v - 1);
            out->issuer_col = (size_t)(v - line) + 1;
            p = c + 1;
        } else {
            FAIL(k, "unknown attribute (known: user=, issuer=, eku=, ku=, leaf-policy=)");
        }
        if (p < end && !is_ws(*p))
            FAIL(p, "expected white space after the attribute value");
    }
    return 0;
}

int cr_fline_parse(const char *line, size_t len, cr_fline *out, size_t *col,
                   const char **msg)
{
    memset(out, 0, sizeof *out);
    if (len > 0 && line[len - 1] == '\r')
        len--;
    const char *end = line + len;
    if (len > CR_FLINE_MAX)
        FAIL(line + CR_FLINE_MAX, "line too long (limit 65536 bytes)");
    for (const char *q = line; q < end; q++) {
        unsigned char c = (unsigned char)*q;
        if (c == 0)
            FAIL(q, "NUL byte in line");
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            FAIL(q, "control character in line");
    }
    const char *p = line;
    if (at_end(&p, end)) {
        out->kind = CR_FLINE_BLANK;
        return 0;
    }
    out->id_col = (size_t)(p - line) + 1;
    if (*p == '"') {
        const char *c = closing_quote(p, end);
        if (!c)
            FAIL(p, "unterminated quoted DN (the DN ends at the first '\"' not"
                    " escaped by a backslash)");
        if (c == p + 1)
            FAIL(p, "empty DN");
        out->kind = CR_FLINE_DN;
        out->id = p + 1;
        out->idlen = (size_t)(c - p - 1);
        p = c + 1;
    } else {
        size_t kl = 0;
        int k = kind_at(p, end, &kl);
        if (k == KIND_NONE)
            FAIL(p, "expected a DN in double quotes or sha256:FINGERPRINT, or KIND:VALUE"
                    " (kinds: email, upn, dns, uri, spiffe, issuer-serial)");
        if (k == KIND_SHA256) {
            out->kind = CR_FLINE_SHA256;
            if (parse_fp(line, p + kl, end, out, &p, col, msg) < 0)
                return -1;
            out->id = out->fp;
            out->idlen = 64;
        } else if (k == KIND_ISSUER_SERIAL) {
            out->kind = CR_FLINE_ISSUER_SERIAL;
            if (parse_issuer_serial(line, p + kl, end, out, &p, col, msg) < 0)
                return -1;
        } else {
            out->kind = CR_FLINE_VALUE;
            out->vkind = k;
            if (parse_value(line, p + kl, end, out, &p, col, msg) < 0)
                return -1;
        }
    }
    if (p < end && !is_ws(*p))
        FAIL(p, "expected white space after the identity");
    if (at_end(&p, end))
        FAIL(p, "no roles after the identity");
    if (parse_roles(line, p, end, out, &p, col, msg) < 0)
        return -1;
    return parse_attrs(line, p, end, out, col, msg);
}

int cr_frole_next(const char *list, size_t len, size_t *pos, const char **role,
                  size_t *rlen)
{
    size_t i = *pos;
    for (;;) {
        while (i < len && (is_xws(list[i]) || list[i] == ','))
            i++;
        if (i >= len) {
            *pos = i;
            return 0;
        }
        size_t s = i;
        while (i < len && list[i] != ',')
            i++;
        size_t e = i;
        while (e > s && is_xws(list[e - 1]))
            e--;
        if (e > s) {
            *role = list + s;
            *rlen = e - s;
            *pos = i;
            return 1;
        }
    }
}

long cr_funquote(const char *s, size_t len, char *dst, size_t dstlen)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '\\' && i + 1 < len)
            c = s[++i];
        if (o + 1 >= dstlen)
            return -1;
        dst[o++] = c;
    }
    if (o >= dstlen)
        return -1;
    dst[o] = '\0';
    return (long)o;
}
