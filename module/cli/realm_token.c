/* Identity tokens of the realm file (see realm_token.h). */
#define _GNU_SOURCE
#include "realm_token.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "strbuf.h"

static const char *const BY_NAMES[CR_BY_COUNT] = {
    "pin", "dn", "email", "upn", "spiffe", "dns", "uri", "issuer-serial",
};

int cr_rby_parse(const char *s, cr_rby *by)
{
    for (int i = 0; i < CR_BY_COUNT; i++)
        if (strcmp(s, BY_NAMES[i]) == 0) {
            *by = (cr_rby)i;
            return 0;
        }
    return -1;
}

const char *cr_rby_name(cr_rby by)
{
    return by < CR_BY_COUNT ? BY_NAMES[by] : "?";
}

static int bare_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && c != '"' && c != '\\';
}

int cr_rtok_value(char **out, const char *prefix, const char *s)
{
    int bare = *s != '\0';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return -1;
        if (!bare_char(*p))
            bare = 0;
    }
    cr_strbuf b = CR_STRBUF_INIT;
    cr_sb_append(&b, prefix);
    if (!bare)
        cr_sb_appendc(&b, '"');
    for (const char *p = s; *p; p++) {
        if (!bare && (*p == '"' || *p == '\\'))
            cr_sb_appendc(&b, '\\');
        cr_sb_appendc(&b, *p);
    }
    if (!bare)
        cr_sb_appendc(&b, '"');
    *out = cr_sb_take(&b);
    return *out ? 0 : -1;
}

int cr_rby_of_san(certrole_san_type t, cr_rby *by)
{
    switch (t) {
    case CERTROLE_SAN_EMAIL: *by = CR_BY_EMAIL; return 0;
    case CERTROLE_SAN_UPN: *by = CR_BY_UPN; return 0;
    case CERTROLE_SAN_DNS: *by = CR_BY_DNS; return 0;
    case CERTROLE_SAN_URI: *by = CR_BY_URI; return 0;
    default: return -1;
    }
}

char *cr_rtok_kind_value(cr_rby by, const char *value)
{
    char *prefix = NULL, *tok = NULL;
    if (asprintf(&prefix, "%s:", cr_rby_name(by)) < 0)
        return NULL;
    if (cr_rtok_value(&tok, prefix, value) < 0)
        tok = NULL;
    free(prefix);
    return tok;
}

static char *san_token(const struct certrole_identity *id, cr_rby by, char *err, size_t errlen,
                       char *warn, size_t warnlen)
{
    static const char *const what[] = {
        [CR_BY_EMAIL] = "e-mail address (rfc822Name)",
        [CR_BY_UPN] = "UPN (otherName 1.3.6.1.4.1.311.20.2.3)",
        [CR_BY_DNS] = "DNS name", [CR_BY_URI] = "URI",
    };
    const char *v = NULL;
    size_t n = 0;
    for (size_t i = 0; i < id->n_sans; i++) {
        cr_rby b;
        if (cr_rby_of_san(id->sans[i].type, &b) == 0 && b == by && n++ == 0)
            v = id->sans[i].value;
    }
    if (!v) {
        snprintf(err, errlen, "the certificate has no %s subjectAltName; choose another --by",
                 what[by]);
        return NULL;
    }
    /* The realm matches a certificate's DNS name or e-mail domain only as
     * ASCII (IA5String): an entry written from a U-label or fullwidth
     * name would be IDNA-mapped on load and name another, ASCII host. */
    for (const unsigned char *p = (const unsigned char *)v;
         (by == CR_BY_DNS || by == CR_BY_EMAIL) && *p; p++)
        if (*p >= 0x80) {
            snprintf(err, errlen, "the certificate's %s %s is not ASCII: the realm never "
                     "matches it; choose another --by", what[by], v);
            return NULL;
        }
    if (n > 1)
        snprintf(warn, warnlen, "the certificate has %zu %s subjectAltNames; the entry names"
                 " the first, %s (the realm matches the certificate by any of them)", n,
                 what[by], v);
    char *tok = cr_rtok_kind_value(by, v);
    if (!tok)
        snprintf(err, errlen, "the %s cannot be written in a realm file (control character)",
                 what[by]);
    return tok;
}

/* "DN" as written by the realm line format: RFC 4514 escapes every '"'
 * of a value, so the canonical text goes between the quotes as it is;
 * the caller checks it reads back as the same name. */
static char *dn_token(const char *prefix, const char *dn, const char *suffix)
{
    for (const unsigned char *p = (const unsigned char *)dn; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return NULL;
    char *t = NULL;
    return asprintf(&t, "%s\"%s\"%s", prefix, dn, suffix) < 0 ? NULL : t;
}

char *cr_rtok_for_cert(const struct certrole_identity *id, cr_rby by, char *err, size_t errlen,
                       char *warn, size_t warnlen)
{
    char *t = NULL;
    *warn = '\0';
    switch (by) {
    case CR_BY_PIN:
        if (asprintf(&t, "sha256:%s", id->fingerprint) < 0)
            t = NULL;
        break;
    case CR_BY_DN:
        if (!id->subject || !*id->subject) {
            snprintf(err, errlen, "the certificate's subject is empty; use --by pin or a"
                     " subjectAltName");
            return NULL;
        }
        if (!(t = dn_token("", id->subject, "")))
            snprintf(err, errlen, "the subject DN cannot be written in a realm file;"
                     " use --by pin");
        return t;
    case CR_BY_SPIFFE:
        if (!id->spiffe) {
            snprintf(err, errlen, "the certificate has no SPIFFE ID: %s",
                     id->spiffe_why ? id->spiffe_why : "it names no spiffe:// URI");
            return NULL;
        }
        if (cr_rtok_value(&t, "spiffe:", id->spiffe) < 0)
            t = NULL;
        break;
    case CR_BY_ISSUER_SERIAL: {
        char *suffix = NULL;
        if (asprintf(&suffix, ":%s", id->serial) < 0)
            suffix = NULL;
        t = suffix && id->issuer && *id->issuer ? dn_token("issuer-serial:", id->issuer, suffix)
                                                : NULL;
        free(suffix);
        if (!t)
            snprintf(err, errlen, "the issuer DN cannot be written in a realm file; use --by pin");
        return t;
    }
    default:
        return san_token(id, by, err, errlen, warn, warnlen);
    }
    if (!t)
        snprintf(err, errlen, "out of memory");
    return t;
}

static int blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Index of the quote closing the one at s[i], or len. */
static size_t close_quote(const char *s, size_t len, size_t i)
{
    for (i++; i < len; i++) {
        if (s[i] == '\\')
            i++;
        else if (s[i] == '"')
            return i;
    }
    return len;
}

size_t cr_rtok_span(const char *line, size_t len, size_t *start)
{
    size_t i = 0;
    while (i < len && blank(line[i]))
        i++;
    *start = i;
    while (i < len && !blank(line[i])) {
        if (line[i] == '"')
            i = close_quote(line, len, i);
        if (i < len)
            i++;
    }
    return i - *start;
}

/* The matching key of the DN between the quotes at s[0] .. s[q]. */
static int dn_norm(cr_strbuf *b, const char *s, size_t q)
{
    char *text = strndup(s + 1, q - 1), *key = NULL;
    if (!text || certrole_dn_key(text, &key, NULL) != CERTROLE_OK) {
        free(text);
        return -1;
    }
    cr_sb_append(b, key);
    certrole_free(key);
    free(text);
    return 0;
}

/* Hex digits without ':' in lower case; leading zeros dropped when
 * 'number'. */
static int hex_norm(cr_strbuf *b, const char *s, size_t len, int number)
{
    size_t start = b->len;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == ':')
            continue;
        if (c >= 'A' && c <= 'F')
            c = (char)(c - 'A' + 'a');
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return -1;
        if (number && c == '0' && b->len == start)
            continue;
        cr_sb_appendc(b, c);
    }
    if (number && b->len == start)
        cr_sb_appendc(b, '0');
    return 0;
}

static int value_norm(cr_strbuf *b, const char *s, size_t len)
{
    if (len == 0)
        return -1;
    if (s[0] != '"') {
        cr_sb_appendn(b, s, len);
        return 0;
    }
    if (close_quote(s, len, 0) != len - 1 || len < 3)
        return -1;
    for (size_t i = 1; i + 1 < len; i++) {
        if (s[i] == '\\')
            i++;
        cr_sb_appendc(b, s[i]);
    }
    return 0;
}

static void lower(char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 'A' && s[i] <= 'Z')
            s[i] = (char)(s[i] - 'A' + 'a');
}

/* The parts of a value the realm compares without ASCII case: all of a
 * DNS name, the domain of an e-mail address and the suffix of a UPN
 * (after the last '@'), a URI's scheme and host. (IDNA spellings are
 * not unified here; the realm's loader still refuses two entries that
 * it finds alike.) s is the value after "kind\n". */
static void fold_case(const char *kind, char *s)
{
    size_t n = strlen(s);
    if (!strcmp(kind, "dns\n")) {
        lower(s, n);
    } else if (!strcmp(kind, "email\n") || !strcmp(kind, "upn\n")) {
        char *at = strrchr(s, '@');
        if (at)
            lower(at, n - (size_t)(at - s));
    } else if (!strcmp(kind, "uri\n")) {
        size_t scheme = strcspn(s, ":/?#");
        if (s[scheme] != ':')
            return;
        lower(s, scheme);
        char *a = s + scheme + 1;
        if (strncmp(a, "//", 2) != 0)
            return;
        a += 2;
        size_t alen = strcspn(a, "/?#");
        char *host = memrchr(a, '@', alen);
        host = host ? host + 1 : a;
        lower(host, alen - (size_t)(host - a));
    }
}

char *cr_rtok_norm(const char *tok, size_t len)
{
    cr_strbuf b = CR_STRBUF_INIT;
    int bad = 0;
    if (len > 0 && tok[0] == '"') {
        size_t q = close_quote(tok, len, 0);
        cr_sb_append(&b, "dn\n");
        bad = q != len - 1 || q < 2 || dn_norm(&b, tok, q) < 0;
    } else {
        const char *c = memchr(tok, ':', len);
        bad = !c || c == tok;
        for (const char *p = tok; !bad && p < c; p++)
            cr_sb_appendc(&b, (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p));
        cr_sb_appendc(&b, '\n');
        const char *v = c ? c + 1 : NULL;
        size_t vlen = c ? len - (size_t)(v - tok) : 0;
        if (bad)
            ;
        else if (strcmp(cr_sb_str(&b), "sha256\n") == 0)
            bad = vlen == 0 || hex_norm(&b, v, vlen, 0) < 0;
        else if (strcmp(cr_sb_str(&b), "issuer-serial\n") == 0) {
            size_t q = vlen && v[0] == '"' ? close_quote(v, vlen, 0) : vlen;
            bad = q < 2 || q + 2 >= vlen || v[q + 1] != ':' || dn_norm(&b, v, q) < 0;
            if (!bad) {
                cr_sb_appendc(&b, '\n');
                bad = hex_norm(&b, v + q + 2, vlen - q - 2, 1) < 0;
            }
        } else {
            size_t klen = b.len;
            bad = value_norm(&b, v, vlen) < 0;
            if (!bad && !b.failed) {
                char kind[16];
                snprintf(kind, sizeof kind, "%.*s", (int)klen, b.s);
                fold_case(kind, b.s + klen);
            }
        }
    }
    if (bad) {
        cr_sb_free(&b);
        return NULL;
    }
    return cr_sb_take(&b);
}
