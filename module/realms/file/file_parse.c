/* Line format of the certrole realm file (see file_parse.h). */
#include "file_parse.h"
#include <string.h>
#include "role_name.h"

#define FAIL(p, m) do { *col = (size_t)((p) - line) + 1; *msg = (m); return -1; } while (0)

static int is_ws(char c) { return c == ' ' || c == '\t'; }
static int is_xws(char c) { return is_ws(c) || c == '\n' || c == '\r'; }

/* "sha256:" in any case, without the locale. */
static int is_sha256_prefix(const char *p)
{
    static const char want[] = "sha256:";
    for (size_t i = 0; i < 7; i++) {
        char c = p[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != want[i])
            return 0;
    }
    return 1;
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

static int parse_attrs(const char *line, const char *p, const char *end, cr_fline *out,
                       size_t *col, const char **msg)
{
    while (!at_end(&p, end)) {
        const char *k = p;
        while (p < end && ((*p >= 'a' && *p <= 'z') || *p == '-'))
            p++;
        if (p == end || *p != '=' || p == k)
            FAIL(k, "unexpected text after the roles (separate roles with ',';"
                    " attributes are user= and issuer=)");
        size_t klen = (size_t)(p - k);
        const char *v = ++p;
        if (klen == 4 && memcmp(k, "user", 4) == 0) {
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
            FAIL(k, "unknown attribute (known: user=, issuer=)");
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
    } else if ((size_t)(end - p) >= 7 && is_sha256_prefix(p)) {
        out->kind = CR_FLINE_SHA256;
        if (parse_fp(line, p + 7, end, out, &p, col, msg) < 0)
            return -1;
        out->id = out->fp;
        out->idlen = 64;
    } else {
        FAIL(p, "expected a DN in double quotes or sha256:FINGERPRINT");
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
