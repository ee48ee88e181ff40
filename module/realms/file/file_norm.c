/* Normalised keys of the realm file's identity kinds (file_norm.h). */
#define _GNU_SOURCE
#include "file_norm.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <idn2.h>
#include <uninorm.h>
#include <unistr.h>
#include "spiffe.h"

#define HOST_MAX 253

static const char *const prefixes[] = {
    [CR_FK_EMAIL] = "email:", [CR_FK_UPN] = "upn:", [CR_FK_DNS] = "dns:",
    [CR_FK_URI] = "uri:", [CR_FK_SPIFFE] = "spiffe:", [CR_FK_SPIFFE_PREFIX] = "spiffe/*:",
};

const char *cr_fkind_prefix(cr_fkind kind)
{
    return prefixes[kind];
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static int all_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return 0;
    return 1;
}

/* Printable ASCII, no space: what an IA5 name can hold and a person can
 * read one way only. */
static int printable(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return 0;
    return 1;
}

/* Checks an ASCII lower-case host name: LDH labels, no trailing dot. */
static int ldh_host(const char *h, size_t n, const char **why)
{
    if (n == 0 || n > HOST_MAX) {
        *why = n ? "the host name is longer than 253 bytes" : "the host name is empty";
        return 0;
    }
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && h[i] != '.') {
            char c = h[i];
            if (c == '*') {
                *why = "wildcards are not supported (name each host)";
                return 0;
            }
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
                *why = "the host name has a character outside letters, digits, '-' and '.'";
                return 0;
            }
            continue;
        }
        size_t l = i - start;
        if (l == 0) {
            *why = i == n ? "the host name ends in '.' (write it without the trailing dot)"
                          : "the host name has an empty label";
            return 0;
        }
        if (l > 63 || h[start] == '-' || h[i - 1] == '-') {
            *why = l > 63 ? "a label of the host name is longer than 63 bytes"
                          : "a label of the host name starts or ends with '-'";
            return 0;
        }
        start = i + 1;
    }
    return 1;
}

/* Host name into out: lower-cased, IDNA2008 A-labels. Returns the
 * length written or -1 with *why. */
static long host_key(const char *h, size_t n, char *out, size_t room, const char **why)
{
    if (n == 0 || n > 4 * HOST_MAX) {
        *why = n ? "the host name is too long" : "the host name is empty";
        return -1;
    }
    char in[4 * HOST_MAX + 1];
    for (size_t i = 0; i < n; i++)
        in[i] = lower(h[i]);
    in[n] = '\0';
    if (memchr(in, '*', n)) {
        *why = "wildcards are not supported (name each host)";
        return -1;
    }
    int idna = !all_ascii(in, n) || strncmp(in, "xn--", 4) == 0 || strstr(in, ".xn--");
    const char *res = in;
    char *conv = NULL;
    if (idna) {
        int rc = idn2_to_ascii_8z(in, &conv, IDN2_NONTRANSITIONAL);
        if (rc != IDN2_OK) {
            *why = rc == IDN2_MALLOC ? "out of memory" : "the host name is not a valid IDNA2008 name";
            return -1;
        }
        res = conv;
    }
    size_t rl = strlen(res);
    long ret = -1;
    if (!ldh_host(res, rl, why))
        ret = -1;
    else if (rl >= room)
        *why = "the value is too long";
    else {
        memcpy(out, res, rl);
        ret = (long)rl;
    }
    free(conv);
    return ret;
}

/* "LOCAL@DOMAIN": the split at the last '@'; -1 when none or an empty
 * side. */
static long at_split(const char *v, size_t len, const char **why)
{
    const char *at = memrchr(v, '@', len);
    if (!at || at == v || at + 1 == v + len) {
        *why = !at ? "expected LOCAL@DOMAIN" : "empty part before or after '@'";
        return -1;
    }
    return at - v;
}

static long email_key(const char *v, size_t len, char *out, size_t room, const char **why)
{
    long at = at_split(v, len, why);
    if (at < 0)
        return -1;
    if (!printable(v, (size_t)at)) {
        *why = "the local part must be printable ASCII without spaces (an email SAN is ASCII)";
        return -1;
    }
    if ((size_t)at + 1 >= room) {
        *why = "the value is too long";
        return -1;
    }
    memcpy(out, v, (size_t)at + 1);
    long h = host_key(v + at + 1, len - (size_t)at - 1, out + at + 1, room - (size_t)at - 1, why);
    return h < 0 ? -1 : at + 1 + h;
}

/* 1 when s is valid UTF-8 without controls and already in NFC. */
static int utf8_nfc(const char *s, size_t n)
{
    if (u8_check((const uint8_t *)s, n) != NULL)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    if (all_ascii(s, n))
        return 1;
    size_t ol = 0;
    uint8_t *o = u8_normalize(UNINORM_NFC, (const uint8_t *)s, n, NULL, &ol);
    int same = o && ol == n && memcmp(o, s, n) == 0;
    free(o);
    return same;
}

static long upn_key(const char *v, size_t len, char *out, size_t room, const char **why)
{
    long at = at_split(v, len, why);
    if (at < 0)
        return -1;
    if (!utf8_nfc(v, (size_t)at)) {
        *why = "the part before '@' must be UTF-8 text in Unicode NFC";
        return -1;
    }
    if (!printable(v + at + 1, len - (size_t)at - 1)) {
        *why = "the part after '@' must be printable ASCII without spaces";
        return -1;
    }
    if (len >= room) {
        *why = "the value is too long";
        return -1;
    }
    for (size_t i = 0; i < len; i++)
        out[i] = (long)i > at ? lower(v[i]) : v[i];
    return (long)len;
}

static long uri_key(const char *v, size_t len, char *out, size_t room, const char **why)
{
    if (!printable(v, len)) {
        *why = "a URI must be printable ASCII without spaces (a URI SAN is ASCII)";
        return -1;
    }
    size_t i = 0;
    while (i < len && ((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
                       (i && ((v[i] >= '0' && v[i] <= '9') || strchr("+.-", v[i])))))
        i++;
    if (i == 0 || i == len || v[i] != ':') {
        *why = "expected SCHEME:...";
        return -1;
    }
    if (len >= room) {
        *why = "the value is too long";
        return -1;
    }
    memcpy(out, v, len);
    for (size_t k = 0; k < i; k++)
        out[k] = lower(v[k]);
    if (len - i >= 3 && v[i + 1] == '/' && v[i + 2] == '/') {
        /* authority: [userinfo@]host[:port]; the host ends at ':' unless
         * it is an IP-literal in brackets */
        size_t a = i + 3, e = a;
        while (e < len && v[e] != '/' && v[e] != '?' && v[e] != '#')
            e++;
        const char *at = memrchr(v + a, '@', e - a);
        size_t k = at ? (size_t)(at - v) + 1 : a;
        char stop = k < e && v[k] == '[' ? ']' : ':';
        for (; k < e && v[k] != stop; k++)
            out[k] = lower(v[k]);
    }
    return (long)len;
}

static long spiffe_key(cr_fkind kind, const char *v, size_t len, char *out, size_t room,
                       const char **why)
{
    if (len >= room || len > 2048) {
        *why = "a SPIFFE ID is at most 2048 bytes";
        return -1;
    }
    char id[2048 + 1];
    memcpy(id, v, len);
    id[len] = '\0';
    if (kind == CR_FK_SPIFFE_PREFIX) {
        /* spiffe://td/ns/ and a star: valid as the ID spiffe://td/ns;
         * the key keeps the '/' so "bill" never prefixes "billing" */
        if (len < 2 || v[len - 2] != '/') {
            *why = "a SPIFFE prefix ends in \"/*\"";
            return -1;
        }
        id[len - 2] = '\0';
    }
    if (!cr_spiffe_valid(id, why))
        return -1;
    memcpy(out, v, len);
    return kind == CR_FK_SPIFFE_PREFIX ? (long)len - 1 : (long)len;
}

long cr_fnorm_cert_key(cr_fkind kind, const char *v, size_t len, char *out, const char **why)
{
    long n = cr_fnorm_key(kind, v, len, out, why);
    if (n < 0 || (kind != CR_FK_DNS && kind != CR_FK_EMAIL))
        return n;
    /* An IA5String holds ASCII; the name in it must already be the form
     * the entry was brought to, up to ASCII case. UTS #46 mapping is for
     * what an administrator types, never for what a CA signed: a
     * fullwidth or U-label SAN that maps onto an entry is another name to
     * OpenSSL's byte-wise name constraints, so it must match nothing. */
    size_t pl = strlen(prefixes[kind]);
    const char *at = kind == CR_FK_EMAIL ? memrchr(v, '@', len) : NULL;
    size_t exact = at ? (size_t)(at - v) + 1 : 0;   /* the local part and '@' */
    if ((size_t)n - pl != len) {
        *why = "the certificate's name is not in the form its entries are compared in";
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c >= 0x80 || out[pl + i] != (i < exact ? v[i] : lower(v[i]))) {
            *why = "the certificate's name is not in the form its entries are compared in";
            return -1;
        }
    }
    return n;
}

long cr_fnorm_key(cr_fkind kind, const char *v, size_t len, char *out, const char **why)
{
    size_t pl = strlen(prefixes[kind]);
    memcpy(out, prefixes[kind], pl);
    char *o = out + pl;
    size_t room = CR_FKEY_MAX + 1 - pl;
    long n;
    if (memchr(v, '\0', len)) {
        *why = "NUL byte in the value";
        return -1;
    }
    switch (kind) {
    case CR_FK_EMAIL: n = email_key(v, len, o, room, why); break;
    case CR_FK_UPN: n = upn_key(v, len, o, room, why); break;
    case CR_FK_DNS: n = host_key(v, len, o, room, why); break;
    case CR_FK_URI: n = uri_key(v, len, o, room, why); break;
    default: n = spiffe_key(kind, v, len, o, room, why); break;
    }
    if (n < 0)
        return -1;
    o[n] = '\0';
    return (long)pl + n;
}

int cr_fnorm_serial(const char *s, size_t len, char out[65], const char **why, size_t *bad)
{
    size_t n = 0, pair = 0, colons = 0;
    int started = 0;
    for (size_t i = 0; i < len; i++) {
        char c = lower(s[i]);
        if (c == ':') {
            if (pair != 2 || i + 1 == len) {
                *why = "misplaced ':' in the serial (colons go between byte pairs)";
                *bad = i;
                return -1;
            }
            colons++;
            pair = 0;
            continue;
        }
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            *why = "bad hex digit in the serial";
            *bad = i;
            return -1;
        }
        if (++pair > 2 && colons) {
            *why = "misplaced ':' in the serial (colons go between byte pairs)";
            *bad = i;
            return -1;
        }
        if (c == '0' && !started)
            continue;
        started = 1;
        if (n == 64) {
            *why = "serial longer than 32 bytes";
            *bad = i;
            return -1;
        }
        out[n++] = c;
    }
    if (len == 0 || (colons && pair != 2)) {
        *why = len ? "misplaced ':' in the serial (colons go between byte pairs)"
                   : "empty serial";
        *bad = len;
        return -1;
    }
    if (n == 0)
        out[n++] = '0';
    out[n] = '\0';
    return 0;
}

long cr_fnorm_issuer_serial(const char *serial, const char *issuer_key, char *out)
{
    int n = snprintf(out, CR_FKEY_MAX + 1, "issuer-serial:%s:%s", serial, issuer_key);
    return n < 0 || n > CR_FKEY_MAX ? -1 : n;
}
