/* DN spellings libldap does not take as they are: OpenSSL's slash form,
 * and the RFC 1779 forms and RFC 4514 errors it is too lenient about
 * (dn.h). */
#include "dn.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Length of "type=" starting at s (0 if s does not start an AVA). */
static size_t ava_start(const char *s, const char *end)
{
    const char *p = s;
    while (p < end && (isalnum((unsigned char)*p) || *p == '.' || *p == '-'))
        p++;
    return p > s && p < end && *p == '=' ? (size_t)(p - s) : 0;
}

/* Appends one slash-form AVA "type=value" as RFC 4514. */
static int slash_ava(const char *s, const char *end, cr_strbuf *b)
{
    size_t tl = ava_start(s, end);
    if (!tl)
        return -1;
    cr_sb_appendn(b, s, tl + 1);
    const char *v = s + tl + 1;
    while (v < end && *v == ' ')
        v++;
    while (end > v && end[-1] == ' ' && !(end - 1 > v && end[-2] == '\\'))
        end--;
    cr_strbuf raw = CR_STRBUF_INIT;
    for (const char *p = v; p < end; p++) {
        if (*p == '\\')
            p++;   /* the caller made sure a character follows */
        cr_sb_appendc(&raw, *p);
    }
    cr_dn_escape(b, cr_sb_str(&raw), raw.len);
    int bad = raw.failed;
    cr_sb_free(&raw);
    return bad ? -1 : 0;
}

/* OpenSSL's "/C=US/O=Acme/CN=a+UID=b" into "CN=a+UID=b,O=Acme,C=US".
 * A '/' or '+' starts a new RDN / AVA only when "type=" follows, so
 * "/CN=a/b" keeps "a/b" as the value, as OpenSSL's output needs. */
int cr_dn_slash_to_rfc4514(const char *s, size_t n, cr_strbuf *out)
{
    const char *end = s + n;
    size_t cap = 8, cnt = 0;
    const char **rd = malloc(cap * sizeof *rd);   /* start of each RDN */
    int rc = rd ? 0 : -1;
    for (const char *p = s; p < end && rc == 0; p++) {
        if (*p == '\\') {
            if (++p >= end)
                rc = -1;
        } else if (*p == '/' && (p == s || ava_start(p + 1, end))) {
            if (cnt == cap) {
                const char **r2 = realloc(rd, (cap *= 2) * sizeof *rd);
                if (!r2) { rc = -1; break; }
                rd = r2;
            }
            rd[cnt++] = p + 1;
        }
    }
    for (size_t k = cnt; k-- > 0 && rc == 0;) {
        const char *a = rd[k], *rend = k + 1 < cnt ? rd[k + 1] - 1 : end;
        if (k + 1 < cnt)
            cr_sb_appendc(out, ',');
        const char *av = a;
        for (const char *p = a; p <= rend && rc == 0; p++) {
            if (p < rend && *p == '\\') {
                p++;
                continue;
            }
            if (p == rend || (*p == '+' && ava_start(p + 1, rend))) {
                if (av != a)
                    cr_sb_appendc(out, '+');
                rc = slash_ava(av, p, out);
                av = p + 1;
            }
        }
    }
    free(rd);
    return rc == 0 && cnt > 0 && !out->failed ? 0 : -1;
}

static int is_hex(char c)
{
    return isxdigit((unsigned char)c) != 0;
}

/* Checks what libldap lets through although RFC 4514 and RFC 1779 do not
 * (attribute options "uid;x=", escapes such as "\\?"), and rewrites what
 * it does not take but RFC 1779 allows (an enclosing "<...>", "OID."
 * before a dotted type). Returns 0 (use s as is), 1 (use *out) or -1
 * with *why set. */
int cr_dn_prepare(const char *s, size_t n, cr_strbuf *out, const char **why)
{
    int rewrite = 0;
    if (n && *s == '<') {
        while (n && s[n - 1] == ' ')
            n--;
        if (n < 2 || s[n - 1] != '>') {
            *why = "unbalanced '<'";
            return -1;
        }
        s++, n -= 2, rewrite = 1;
    }
    size_t i = 0, copied = 0;
    while (i < n) {
        while (i < n && s[i] == ' ')
            i++;
        if (i + 4 < n && !strncasecmp(s + i, "oid.", 4) && isdigit((unsigned char)s[i + 4])) {
            cr_sb_appendn(out, s + copied, i - copied);
            i += 4, copied = i, rewrite = 1;
        }
        size_t t = i;
        while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '.' || s[i] == '-'))
            i++;
        while (i < n && s[i] == ' ')
            i++;
        if (i == t || i >= n || s[i] != '=') {
            *why = i < n && s[i] == ';' ? "attribute options are not allowed in a DN"
                                        : "expected attribute type and '='";
            return -1;
        }
        for (i++; i < n && s[i] == ' '; i++)
            ;
        if (i < n && s[i] == '#') {   /* libldap lets text after the hex through */
            for (i++; i < n && is_hex(s[i]); i++)
                ;
            while (i < n && s[i] == ' ')
                i++;
            if (i < n && s[i] != ',' && s[i] != ';' && s[i] != '+') {
                *why = "a #hex value has only hex digits";
                return -1;
            }
        }
        int quoted = 0;
        for (; i < n; i++) {
            char c = s[i];
            if (c == '\\') {
                if (i + 1 < n && strchr(",=+<>#;\\\" ", s[i + 1]))
                    i++;
                else if (i + 2 < n && is_hex(s[i + 1]) && is_hex(s[i + 2]))
                    i += 2;
                else {
                    *why = "invalid escape (use \\ before , + \" \\ < > ; # = space, or two hex digits)";
                    return -1;
                }
            } else if (c == '"') {
                quoted = !quoted;
            } else if (!quoted && (c == ',' || c == ';' || c == '+')) {
                break;
            }
        }
        if (i < n && ++i == n) {   /* stopped on a separator */
            *why = "DN ends with a separator";
            return -1;
        }
    }
    if (!rewrite)
        return 0;
    cr_sb_appendn(out, s + copied, n - copied);
    return out->failed ? -1 : 1;
}
