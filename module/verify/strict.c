/* strict=yes: RFC 5280 MUSTs beyond OpenSSL 3.0's X509_V_FLAG_X509_STRICT
 * (strict.h). Every check runs on a chain OpenSSL already accepted, so it
 * can only turn an acceptance into a refusal, never the other way. */
#define _GNU_SOURCE
#include "strict.h"
#include "diagnose.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/bn.h>
#include <openssl/x509v3.h>

/* Where a refusal is written (the caller's out-parameters). */
struct refusal {
    char **msg, **hint;
    int *depth;
};

/* "the client certificate at depth 0 (CN=...)" and so on. */
static char *who(STACK_OF(X509) *chain, int d)
{
    char *s = NULL, *dn = cr_diag_dn(X509_get_subject_name(sk_X509_value(chain, d)));
    const char *role = d == 0 ? "the client certificate"
                     : d == sk_X509_num(chain) - 1 ? "the trust anchor" : "the CA certificate";
    if (asprintf(&s, "%s at depth %d (%s)", role, d, dn ? dn : "?") < 0)
        s = NULL;
    free(dn);
    return s;
}

/* Message "strict (RFC 5280 <rule>): <who>: <what>". Returns
 * CERTROLE_E_CHAIN_INVALID, or CERTROLE_E_NO_MEMORY. */
static certrole_code refuse(struct refusal *r, STACK_OF(X509) *chain, int d, const char *rule,
                            const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static certrole_code refuse(struct refusal *r, STACK_OF(X509) *chain, int d, const char *rule,
                            const char *hint, const char *fmt, ...)
{
    va_list ap;
    char *what = NULL, *w = who(chain, d);
    va_start(ap, fmt);
    if (vasprintf(&what, fmt, ap) < 0)
        what = NULL;
    va_end(ap);
    *r->depth = d;
    if (!what || !w || asprintf(r->msg, "strict (RFC 5280 %s): %s: %s", rule, w, what) < 0)
        *r->msg = NULL;
    *r->hint = strdup(hint);
    free(what);
    free(w);
    return *r->msg && *r->hint ? CERTROLE_E_CHAIN_INVALID : CERTROLE_E_NO_MEMORY;
}

/* A name from a certificate, quoted for a message: printable ASCII as
 * is, anything else as \xHH, cut at about 80 characters. */
static void quote(char *out, size_t outlen, const ASN1_STRING *a)
{
    const unsigned char *s = ASN1_STRING_get0_data(a);
    int n = ASN1_STRING_length(a);
    size_t o = 0;
    for (int i = 0; i < n && o + 8 < outlen; i++) {
        if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\')
            out[o++] = (char)s[i];
        else
            o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", s[i]);
        if (i + 1 < n && o + 8 >= outlen)
            o += (size_t)snprintf(out + o, outlen - o, "...");
    }
    out[o] = '\0';
}

/* ----- 4.1.2.2: serial numbers --------------------------------------------- */

/* Octets of the DER content of the serial (what the 20-octet limit counts,
 * including a leading zero octet that keeps the value positive). */
static int serial_octets(const ASN1_INTEGER *sn)
{
    unsigned char *der = NULL;
    int n = i2d_ASN1_INTEGER(sn, &der), len = -1;
    if (n >= 2)
        len = der[1] < 0x80 ? n - 2 : n - 2 - (der[1] & 0x7f);
    OPENSSL_free(der);
    return len;
}

static certrole_code check_serial(struct refusal *r, STACK_OF(X509) *chain, int d)
{
    const ASN1_INTEGER *sn = X509_get0_serialNumber(sk_X509_value(chain, d));
    BIGNUM *bn = sn ? ASN1_INTEGER_to_BN(sn, NULL) : NULL;
    int octets = sn ? serial_octets(sn) : -1;
    certrole_code rc = CERTROLE_OK;
    if (!bn || octets < 0)
        rc = refuse(r, chain, d, "4.1.2.2", "reissue the certificate with a positive random "
                    "serial number of at most 20 octets", "serial number cannot be read");
    else if (BN_is_zero(bn) || BN_is_negative(bn))
        rc = refuse(r, chain, d, "4.1.2.2", "reissue the certificate with a positive random "
                    "serial number", "serial number is %s; it must be a positive integer",
                    BN_is_zero(bn) ? "zero" : "negative");
    else if (octets > 20)
        rc = refuse(r, chain, d, "4.1.2.2", "reissue the certificate with a serial number of "
                    "at most 20 octets (e.g. 159 random bits)",
                    "serial number is %d octets long; at most 20 are allowed", octets);
    BN_free(bn);
    return rc;
}

/* ----- 4.2.1.10 / 4.2.1.11 / 4.2.1.14: extensions a CA must mark critical - */

static const struct {
    int nid;
    const char *name, *rule;
} must_be_critical[] = {
    { NID_name_constraints, "nameConstraints", "4.2.1.10" },
    { NID_policy_constraints, "policyConstraints", "4.2.1.11" },
    { NID_inhibit_any_policy, "inhibitAnyPolicy", "4.2.1.14" },
};

static certrole_code check_critical(struct refusal *r, STACK_OF(X509) *chain, int d)
{
    X509 *x = sk_X509_value(chain, d);
    for (size_t i = 0; i < sizeof must_be_critical / sizeof must_be_critical[0]; i++) {
        int at = X509_get_ext_by_NID(x, must_be_critical[i].nid, -1);
        if (at >= 0 && !X509_EXTENSION_get_critical(X509_get_ext(x, at)))
            return refuse(r, chain, d, must_be_critical[i].rule,
                          "reissue the CA certificate with the extension marked critical",
                          "%s extension is not marked critical; conforming CAs must mark "
                          "it critical", must_be_critical[i].name);
    }
    return CERTROLE_OK;
}

/* ----- names ----------------------------------------------------------------- */

static int ldh(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

/* Why s is not a domain name in the preferred name syntax (RFC 1034
 * 3.5 as relaxed by RFC 1123 2.1), or NULL. With wildcard_ok, a leftmost
 * label that is exactly "*" is allowed. */
static const char *bad_dns(const unsigned char *s, size_t n, int wildcard_ok)
{
    if (n == 0)
        return "empty";
    if (n > 253)
        return "longer than 253 characters";
    if (s[0] == '.')
        return "leading dot";
    if (s[n - 1] == '.')
        return "trailing dot";
    size_t i = wildcard_ok && n > 2 && s[0] == '*' && s[1] == '.' ? 2 : 0, label = 0;
    for (; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (label == 0)
                return "empty label";
            if (label > 63)
                return "label longer than 63 characters";
            if (s[i - 1] == '-' || s[i - label] == '-')
                return "label starting or ending with '-'";
            label = 0;
        } else if (!ldh(s[i])) {
            return s[i] == '*' ? "'*' other than as the whole leftmost label"
                               : "character other than letters, digits, '-' and '.'";
        } else {
            label++;
        }
    }
    return NULL;
}

static int atext(unsigned char c)
{
    return ldh(c) || (c && strchr("!#$%&'*+/=?^_`{|}~", c) != NULL);
}

/* Why s is not a mailbox (RFC 5321 4.1.2: local-part "@" domain), or NULL. */
static const char *bad_mailbox(const unsigned char *s, size_t n)
{
    size_t i = 0;
    if (n > 0 && s[0] == '"') {                    /* quoted-string local part */
        for (i = 1; i < n && s[i] != '"'; i++) {
            if (s[i] == '\\' && i + 1 < n)
                i++;
            if (s[i] < 0x20 || s[i] > 0x7e)
                return "control or non-ASCII character in the local part";
        }
        if (i >= n)
            return "unterminated quoted local part";
        i++;
    } else {                                        /* dot-atom local part */
        for (; i < n && s[i] != '@'; i++)
            if (!atext(s[i]) && !(s[i] == '.' && i > 0 && s[i - 1] != '.'))
                return "character, or dot placement, not allowed in the local part";
        if (i == 0)
            return "empty local part";
        if (s[i - 1] == '.')
            return "local part ending with a dot";
    }
    if (i >= n || s[i] != '@')
        return "no '@' after the local part";
    if (memchr(s + i + 1, '@', n - i - 1))
        return "more than one '@'";
    return bad_dns(s + i + 1, n - i - 1, 0) ? "domain part is not a domain name" : NULL;
}

/* name equals base or lies under it (labels added on the left). */
static int dns_within(const char *name, size_t nlen, const char *base, size_t blen)
{
    if (nlen == blen)
        return !strncasecmp(name, base, blen);
    return nlen > blen && name[nlen - blen - 1] == '.' &&
           !strncasecmp(name + nlen - blen, base, blen);
}

/* Could "*.rest" (any one label in place of '*') stand for a name in the
 * excluded subtree base? base is a checked dNSName constraint. */
static int wildcard_excluded(const char *rest, size_t rlen, const char *base, size_t blen)
{
    if (blen == 0 || dns_within(rest, rlen, base, blen))
        return 1;                                   /* every name "*" stands for */
    if (blen <= rlen + 1 || base[blen - rlen - 1] != '.' ||
        strncasecmp(base + blen - rlen, rest, rlen))
        return 0;
    return memchr(base, '.', blen - rlen - 1) == NULL;   /* base is "label.rest" */
}

/* ----- 4.2.1.10: the nameConstraints extension itself ----------------------- */

static certrole_code check_nc_bases(struct refusal *r, STACK_OF(X509) *chain, int d,
                                    STACK_OF(GENERAL_SUBTREE) *subtrees)
{
    char q[128];
    for (int i = 0; i < sk_GENERAL_SUBTREE_num(subtrees); i++) {
        const GENERAL_NAME *base = sk_GENERAL_SUBTREE_value(subtrees, i)->base;
        if (base->type != GEN_DNS || ASN1_STRING_length(base->d.dNSName) == 0)
            continue;   /* an empty dNSName constraint stands for every name */
        const char *why = bad_dns(ASN1_STRING_get0_data(base->d.dNSName),
                                  (size_t)ASN1_STRING_length(base->d.dNSName), 0);
        if (why) {
            quote(q, sizeof q, base->d.dNSName);
            return refuse(r, chain, d, "4.2.1.10", "reissue the CA certificate with DNS name "
                          "constraints written as host.example.com (no leading dot)",
                          "dNSName constraint \"%s\" is not a domain name in preferred name "
                          "syntax (%s)", q, why);
        }
    }
    return CERTROLE_OK;
}

/* nameConstraints only in a CA certificate, not empty, DNS bases well
 * formed. *out gets the decoded extension (the caller frees it). */
static certrole_code check_nc(struct refusal *r, STACK_OF(X509) *chain, int d,
                              NAME_CONSTRAINTS **out)
{
    X509 *x = sk_X509_value(chain, d);
    if (X509_get_ext_by_NID(x, NID_name_constraints, -1) < 0)
        return CERTROLE_OK;
    if (!(X509_get_extension_flags(x) & EXFLAG_CA))
        return refuse(r, chain, d, "4.2.1.10", "issue end-entity certificates without "
                      "nameConstraints", "nameConstraints extension in an end-entity "
                      "certificate; it may only appear in a CA certificate");
    NAME_CONSTRAINTS *nc = X509_get_ext_d2i(x, NID_name_constraints, NULL, NULL);
    if (!(*out = nc))
        return refuse(r, chain, d, "4.2.1.10", "reissue the CA certificate",
                      "nameConstraints extension cannot be decoded");
    if (sk_GENERAL_SUBTREE_num(nc->permittedSubtrees) <= 0 &&
        sk_GENERAL_SUBTREE_num(nc->excludedSubtrees) <= 0)
        return refuse(r, chain, d, "4.2.1.10", "reissue the CA certificate with permitted or "
                      "excluded subtrees, or without nameConstraints",
                      "nameConstraints extension is an empty sequence");
    certrole_code rc = check_nc_bases(r, chain, d, nc->permittedSubtrees);
    return rc != CERTROLE_OK ? rc : check_nc_bases(r, chain, d, nc->excludedSubtrees);
}

/* ----- 4.2.1.6 / 4.2.1.10: subjectAltName below a constrained CA ---------- */

/* Does nc hold a permitted or excluded subtree of this GEN_* type? */
static int constrains(const NAME_CONSTRAINTS *nc, int type)
{
    if (!nc)
        return 0;
    STACK_OF(GENERAL_SUBTREE) *st[2] = { nc->permittedSubtrees, nc->excludedSubtrees };
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < sk_GENERAL_SUBTREE_num(st[k]); i++)
            if (sk_GENERAL_SUBTREE_value(st[k], i)->base->type == type)
                return 1;
    return 0;
}

/* OpenSSL compares "*.x" with an excluded subtree literally; here it
 * stands for every name it matches (any one label in place of '*'). */
static certrole_code check_wildcard(struct refusal *r, STACK_OF(X509) *chain,
                                    NAME_CONSTRAINTS **nc, int d, const ASN1_IA5STRING *san)
{
    const char *rest = (const char *)ASN1_STRING_get0_data(san) + 2;
    size_t rlen = (size_t)ASN1_STRING_length(san) - 2;
    char q[128], qb[128];
    for (int c = d + 1; c < sk_X509_num(chain); c++) {
        STACK_OF(GENERAL_SUBTREE) *ex = nc[c] ? nc[c]->excludedSubtrees : NULL;
        for (int i = 0; i < sk_GENERAL_SUBTREE_num(ex); i++) {
            const GENERAL_NAME *base = sk_GENERAL_SUBTREE_value(ex, i)->base;
            if (base->type != GEN_DNS ||
                !wildcard_excluded(rest, rlen, (const char *)ASN1_STRING_get0_data(base->d.dNSName),
                                   (size_t)ASN1_STRING_length(base->d.dNSName)))
                continue;
            quote(q, sizeof q, san);
            quote(qb, sizeof qb, base->d.dNSName);
            return refuse(r, chain, d, "4.2.1.10", "issue the certificate without a wildcard "
                          "that reaches into the excluded names",
                          "wildcard dNSName SAN \"%s\" stands for names in the subtree \"%s\" "
                          "that the CA at depth %d excludes", q, qb, c);
        }
    }
    return CERTROLE_OK;
}

static certrole_code check_san(struct refusal *r, STACK_OF(X509) *chain, NAME_CONSTRAINTS **nc,
                               int d, const GENERAL_NAME *g, int dns_ca, int mail_ca)
{
    char q[128];
    if (g->type == GEN_DNS && dns_ca >= 0) {
        const unsigned char *s = ASN1_STRING_get0_data(g->d.dNSName);
        size_t n = (size_t)ASN1_STRING_length(g->d.dNSName);
        const char *why = bad_dns(s, n, 1);
        if (!why)
            return n > 2 && s[0] == '*' ? check_wildcard(r, chain, nc, d, g->d.dNSName)
                                        : CERTROLE_OK;
        quote(q, sizeof q, g->d.dNSName);
        return refuse(r, chain, d, "4.2.1.6", "reissue the certificate with well-formed DNS "
                      "names", "dNSName SAN \"%s\" is not a domain name in preferred name "
                      "syntax (%s), and the CA at depth %d constrains DNS names", q, why, dns_ca);
    }
    if (g->type == GEN_EMAIL && mail_ca >= 0) {
        const char *why = bad_mailbox(ASN1_STRING_get0_data(g->d.rfc822Name),
                                      (size_t)ASN1_STRING_length(g->d.rfc822Name));
        if (!why)
            return CERTROLE_OK;
        quote(q, sizeof q, g->d.rfc822Name);
        return refuse(r, chain, d, "4.2.1.6", "reissue the certificate with well-formed e-mail "
                      "addresses (local-part@domain)", "rfc822Name SAN \"%s\" is not a mailbox "
                      "(%s), and the CA at depth %d constrains e-mail addresses", q, why, mail_ca);
    }
    return CERTROLE_OK;
}

static certrole_code check_sans(struct refusal *r, STACK_OF(X509) *chain, NAME_CONSTRAINTS **nc,
                                int d)
{
    int dns_ca = -1, mail_ca = -1;
    for (int c = d + 1; c < sk_X509_num(chain); c++) {
        if (dns_ca < 0 && constrains(nc[c], GEN_DNS))
            dns_ca = c;
        if (mail_ca < 0 && constrains(nc[c], GEN_EMAIL))
            mail_ca = c;
    }
    if (dns_ca < 0 && mail_ca < 0)
        return CERTROLE_OK;
    X509 *x = sk_X509_value(chain, d);
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    if (!gens && X509_get_ext_by_NID(x, NID_subject_alt_name, -1) >= 0)
        return refuse(r, chain, d, "4.2.1.6", "reissue the certificate",
                      "subjectAltName extension cannot be decoded");   /* or no memory */
    certrole_code rc = CERTROLE_OK;
    for (int i = 0; i < sk_GENERAL_NAME_num(gens) && rc == CERTROLE_OK; i++)
        rc = check_san(r, chain, nc, d, sk_GENERAL_NAME_value(gens, i), dns_ca, mail_ca);
    GENERAL_NAMES_free(gens);
    return rc;
}

/* ----- the walk ------------------------------------------------------------------ */

certrole_code cr_strict_check(STACK_OF(X509) *chain, char **msg, char **hint, int *depth)
{
    *msg = *hint = NULL;
    *depth = 0;
    struct refusal r = { msg, hint, depth };
    int n = sk_X509_num(chain);
    if (n <= 0)
        return CERTROLE_OK;
    NAME_CONSTRAINTS **nc = calloc((size_t)n, sizeof *nc);
    if (!nc)
        return CERTROLE_E_NO_MEMORY;
    certrole_code rc = CERTROLE_OK;
    /* Each certificate on its own first (from the leaf up), then the
     * names below each constraining CA. */
    for (int d = 0; d < n && rc == CERTROLE_OK; d++)
        if ((rc = check_serial(&r, chain, d)) == CERTROLE_OK &&
            (rc = check_nc(&r, chain, d, &nc[d])) == CERTROLE_OK)
            rc = check_critical(&r, chain, d);
    for (int d = 0; d < n && rc == CERTROLE_OK; d++)
        rc = check_sans(&r, chain, nc, d);
    for (int d = 0; d < n; d++)
        NAME_CONSTRAINTS_free(nc[d]);
    free(nc);
    return rc;
}
