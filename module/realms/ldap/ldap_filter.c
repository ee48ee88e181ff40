/* Filter templates and RFC 4515 escaping (ldap_filter.h). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ldap.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include "ldap_dn.h"
#include "ldap_filter.h"

static const struct {
    const char *name;
    certrole_identity_field field;
} placeholders[] = {
    { "subject", CERTROLE_ID_SUBJECT },
    { "cn", CERTROLE_ID_CN },
    { "email", CERTROLE_ID_EMAIL },
    { "serial", CERTROLE_ID_SERIAL },
    { "issuer", CERTROLE_ID_ISSUER },
    { "fingerprint", CERTROLE_ID_FINGERPRINT },
    { "upn", CERTROLE_ID_UPN },
    { "dns", CERTROLE_ID_DNS },
    { "uri", CERTROLE_ID_URI },
    { "spiffe", CERTROLE_ID_SPIFFE },
    { "issuer_serial", 0 },     /* computed: see issuer_serial() */
};

/* Index of the placeholder "%{name}" starting at p, or -1; *len gets
 * its length in the template. */
static int placeholder_at(const char *p, size_t *len)
{
    if (p[0] != '%' || p[1] != '{')
        return -1;
    const char *end = strchr(p + 2, '}');
    if (!end)
        return -1;
    size_t n = (size_t)(end - (p + 2));
    for (size_t i = 0; i < sizeof placeholders / sizeof placeholders[0]; i++)
        if (strlen(placeholders[i].name) == n && memcmp(placeholders[i].name, p + 2, n) == 0) {
            *len = n + 3;
            return (int)i;
        }
    return -1;
}

int cr_ldap_filter_check(const char *tmpl, int allow_placeholders,
                         char *err, size_t errlen)
{
    int depth = 0;
    if (!tmpl || tmpl[0] != '(') {
        snprintf(err, errlen, "filter must start with '(': \"%s\"", tmpl ? tmpl : "");
        return -1;
    }
    for (const char *p = tmpl; *p; p++) {
        size_t len;
        if (*p == '%') {
            if (p[1] == '%') {
                p++;
                continue;
            }
            if (!allow_placeholders || placeholder_at(p, &len) < 0) {
                snprintf(err, errlen, "filter \"%s\": %s at offset %zu "
                         "(known: %%{subject} %%{cn} %%{email} %%{serial} "
                         "%%{issuer} %%{fingerprint} %%{upn} %%{dns} %%{uri} %%{spiffe} "
                         "%%{issuer_serial})", tmpl,
                         allow_placeholders ? "unknown placeholder" : "no placeholder allowed",
                         (size_t)(p - tmpl));
                return -1;
            }
            p += len - 1;
        } else if (*p == '\\') {
            /* RFC 4515 escape: exactly two hex digits follow. */
            static const char hex[] = "0123456789abcdefABCDEF";
            if (!p[1] || !p[2] || !strchr(hex, p[1]) || !strchr(hex, p[2])) {
                snprintf(err, errlen, "filter \"%s\": bad escape at offset %zu",
                         tmpl, (size_t)(p - tmpl));
                return -1;
            }
            p += 2;
        } else if (*p == '(') {
            depth++;
        } else if (*p == ')') {
            if (--depth < 0)
                break;
            if (depth == 0 && p[1]) {
                depth = -1;         /* text after the outermost filter */
                break;
            }
        }
    }
    if (depth != 0) {
        snprintf(err, errlen, "filter \"%s\": unbalanced parentheses", tmpl);
        return -1;
    }
    return 0;
}

static char *escape(const void *value, size_t len)
{
    struct berval in = { .bv_len = len, .bv_val = (char *)value }, out = { 0, NULL };
    if (ldap_bv2escaped_filter_value(&in, &out) != 0)
        return NULL;
    char *s = strndup(out.bv_val ? out.bv_val : "", out.bv_len);
    ber_memfree(out.bv_val);
    return s;
}

/* The RFC 4523 CertificateExactAssertion of the identity's leaf, or
 * NULL (no memory, or no serial/issuer). */
static char *issuer_serial(const certrole_identity *id)
{
    return cr_ldap_gser_exact(certrole_identity_get(id, CERTROLE_ID_SERIAL),
                              certrole_identity_get(id, CERTROLE_ID_ISSUER));
}

char *cr_ldap_filter_expand(const char *tmpl, const certrole_identity *id,
                            const char **missing)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f)
        return NULL;
    int ok = 1;
    for (const char *p = tmpl; *p && ok; p++) {
        size_t len;
        int i;
        if (p[0] == '%' && p[1] == '%') {
            fputc('%', f);
            p++;
        } else if ((i = placeholder_at(p, &len)) >= 0) {
            char *computed = placeholders[i].field ? NULL : issuer_serial(id);
            const char *v = placeholders[i].field ? certrole_identity_get(id, placeholders[i].field)
                                                  : computed;
            char *e = NULL;
            if (!v) {
                if (missing)
                    *missing = placeholders[i].name;
                ok = 0;
            } else if (!(e = escape(v, strlen(v)))) {
                ok = 0;
            } else {
                fputs(e, f);
                free(e);
            }
            free(computed);
            p += len - 1;
        } else {
            fputc(*p, f);
        }
    }
    if (fclose(f) != 0)
        ok = 0;
    if (!ok) {
        free(buf);
        return NULL;
    }
    return buf;
}

char *cr_ldap_filter_eq(const char *attr, const void *value, size_t len)
{
    char *e = escape(value, len), *s = NULL;
    if (!e)
        return NULL;
    if (asprintf(&s, "(%s=%s)", attr, e) < 0)
        s = NULL;
    free(e);
    return s;
}

char *cr_ldap_gser_exact(const char *serial_hex, const char *issuer)
{
    BIGNUM *bn = NULL;
    char *dec = NULL, *dn = NULL, *gser = NULL;
    size_t n = 0;
    if (!serial_hex || !issuer || !BN_hex2bn(&bn, serial_hex) ||
        (size_t)BN_num_bytes(bn) > 64 || !(dec = BN_bn2dec(bn)) ||
        !(dn = cr_ldap_dn_normalize(issuer)))
        goto out;
    /* GSER strings double their quotes. */
    for (const char *p = dn; *p; p++)
        n += *p == '"' ? 2 : 1;
    char *quoted = malloc(n + 1), *q = quoted;
    if (!quoted)
        goto out;
    for (const char *p = dn; *p; p++) {
        if (*p == '"')
            *q++ = '"';
        *q++ = *p;
    }
    *q = '\0';
    if (asprintf(&gser, "{ serialNumber %s, issuer rdnSequence:\"%s\" }", dec, quoted) < 0)
        gser = NULL;
    free(quoted);
out:
    free(dn);
    OPENSSL_free(dec);
    BN_free(bn);
    return gser;
}

char *cr_ldap_filter_certificate(const char *serial_hex, const char *issuer)
{
    char *gser = cr_ldap_gser_exact(serial_hex, issuer);
    char *out = gser ? cr_ldap_filter_eq("userCertificate", gser, strlen(gser)) : NULL;
    free(gser);
    return out;
}
