/* The peer identity: everything a realm or a log line needs to know about
 * the leaf, extracted once per verification. Names that could be read two
 * ways (a NUL byte inside a value, two CNs, undecodable strings) are
 * reported as CERTROLE_E_BAD_NAME rather than silently picked. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>
#include "dn.h"
#include "spiffe.h"
#include "identity.h"

/* The first problem found wins: it is the one the person sees. */
static void set_problem(char **msg, char **hint, const char *m, const char *h)
{
    if (msg && !*msg)
        *msg = strdup(m);
    if (hint && !*hint)
        *hint = strdup(h);
}

static const char HINT_NAME[] =
    "reissue the certificate with a clean subject: one CN, no NUL bytes or invisible "
    "characters (zero-width space, soft hyphen, bidi controls), values in a standard "
    "string type (UTF8String or PrintableString)";
static const char HINT_SAN[] =
    "reissue the certificate: its subjectAltName entries must be plain "
    "text without NUL bytes or invisible characters (IP addresses 4 or 16 bytes)";

/* Text that is not UTF-8 or holds a character that only makes a name
 * look like another (zero-width space, soft hyphen, bidi controls: see
 * dn_value.c) is refused here, before any realm sees the value, rather
 * than matched with the character mapped away. Returns 1 with the
 * reason in out ("contains character U+200B ..."), else 0. */
static int text_refused(const char *v, char *out, size_t n)
{
    unsigned long cp = 0;
    char why[256];
    int bad = cr_dn_check_utf8(v, strlen(v), &cp);
    if (!bad)
        return 0;
    snprintf(out, n, "%s %s", bad == -3 ? "contains" : "is not valid text:",
             cr_dn_text_problem(bad, cp, why, sizeof why));
    return 1;
}

/* UTF-8 copy of an ASN1_STRING. Returns NULL and sets *why for a value
 * that cannot be decoded or holds a NUL byte (which would let "a\0b" be
 * read as "a"). */
static char *asn1_text(const ASN1_STRING *s, const char **why)
{
    unsigned char *u = NULL;
    int n = ASN1_STRING_to_UTF8(&u, s);
    if (n < 0) {
        *why = "cannot be decoded as text";
        return NULL;
    }
    if (memchr(u, '\0', (size_t)n)) {
        OPENSSL_free(u);
        *why = "contains a NUL byte";
        return NULL;
    }
    char *out = strdup((char *)u);
    OPENSSL_free(u);
    if (!out)
        *why = "out of memory";
    return out;
}

static char *hexstr(const unsigned char *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *s = malloc(n * 2 + 1);
    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        s[2 * i] = digits[p[i] >> 4];
        s[2 * i + 1] = digits[p[i] & 15];
    }
    s[2 * n] = '\0';
    return s;
}

static char *serial_hex(X509 *leaf)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), NULL);
    if (!bn)
        return NULL;
    char *h = BN_bn2hex(bn); /* upper case */
    BN_free(bn);
    if (!h)
        return NULL;
    char *s = strdup(h);
    OPENSSL_free(h);
    return s;
}

/* The subjectKeyIdentifier as lower-case hex without colons, or NULL
 * when the leaf has none (or an undecodable or repeated one: then there
 * is no single value to name the key by). *nomem on no memory. */
static char *ski_hex(X509 *leaf, int *nomem)
{
    int crit = 0;
    ASN1_OCTET_STRING *o = X509_get_ext_d2i(leaf, NID_subject_key_identifier, &crit, NULL);
    if (!o)
        return NULL;
    char *s = NULL;
    if (ASN1_STRING_length(o) > 0 &&
        !(s = hexstr(ASN1_STRING_get0_data(o), (size_t)ASN1_STRING_length(o))))
        *nomem = 1;
    ASN1_OCTET_STRING_free(o);
    return s;
}

static time_t asn1_time_t(const ASN1_TIME *t)
{
    struct tm tm;
    if (!t || !ASN1_TIME_to_tm(t, &tm))
        return (time_t)0;
    return timegm(&tm);
}

/* Checks every subject value, fills cn (only when exactly one) and the
 * subject emailAddress fallback. Returns 0 or -1 (problem recorded). */
static int scan_subject(struct certrole_identity *id, const X509_NAME *name,
                        char **subject_email, char **msg, char **hint)
{
    int bad = 0, n_cn = 0;
    char buf[448], tw[320];
    for (int i = 0; i < X509_NAME_entry_count(name); i++) {
        const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
        int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
        const char *why = NULL;
        char *v = asn1_text(X509_NAME_ENTRY_get_data(e), &why);
        if (v && text_refused(v, tw, sizeof tw)) {
            free(v);
            v = NULL;
            why = tw;
        }
        if (!v) {
            const char *sn = nid != NID_undef ? OBJ_nid2sn(nid) : "attribute";
            snprintf(buf, sizeof buf, "certificate subject: %s value %s", sn, why);
            set_problem(msg, hint, buf, HINT_NAME);
            bad = 1;
            continue;
        }
        if (nid == NID_commonName) {
            n_cn++;
            if (n_cn == 1) {
                id->cn = v;
                v = NULL;
            }
        } else if (nid == NID_pkcs9_emailAddress && !*subject_email) {
            *subject_email = v;
            v = NULL;
        }
        free(v);
    }
    if (n_cn > 1) {
        snprintf(buf, sizeof buf,
                 "certificate subject has %d CN attributes; which one names the peer is ambiguous",
                 n_cn);
        set_problem(msg, hint, buf, HINT_NAME);
        free(id->cn);
        id->cn = NULL;
        bad = 1;
    }
    return bad ? -1 : 0;
}

static int add_san(struct certrole_identity *id, certrole_san_type type, char *value)
{
    struct cr_san *n = realloc(id->sans, (id->n_sans + 1) * sizeof *n);
    if (!n) {
        free(value);
        return -1;
    }
    id->sans = n;
    id->sans[id->n_sans].type = type;
    id->sans[id->n_sans].value = value;
    id->n_sans++;
    return 0;
}

/* IA5String SAN value; NULL for a NUL byte inside. */
static char *ia5_text(const ASN1_IA5STRING *s)
{
    const unsigned char *d = ASN1_STRING_get0_data(s);
    int n = ASN1_STRING_length(s);
    if (n < 0 || memchr(d, '\0', (size_t)n))
        return NULL;
    return strndup((const char *)d, (size_t)n);
}

/* A UPN otherName's value: a UTF8String (Microsoft's definition); NULL
 * for another type or a NUL byte inside. */
static char *upn_text(const ASN1_TYPE *t)
{
    if (!t || t->type != V_ASN1_UTF8STRING)
        return NULL;
    const unsigned char *d = ASN1_STRING_get0_data(t->value.utf8string);
    int n = ASN1_STRING_length(t->value.utf8string);
    if (n < 0 || memchr(d, '\0', (size_t)n))
        return NULL;
    return strndup((const char *)d, (size_t)n);
}

static char *ip_text(const ASN1_OCTET_STRING *s)
{
    char buf[INET6_ADDRSTRLEN];
    const unsigned char *d = ASN1_STRING_get0_data(s);
    int n = ASN1_STRING_length(s);
    int af = n == 4 ? AF_INET : n == 16 ? AF_INET6 : -1;
    if (af < 0 || !inet_ntop(af, d, buf, sizeof buf))
        return NULL;
    return strdup(buf);
}

/* Returns 0, -1 for a bad name (recorded), -2 for no memory. */
static int scan_sans(struct certrole_identity *id, X509 *leaf, char **msg, char **hint)
{
    int crit = -1;
    GENERAL_NAMES *gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, &crit, NULL);
    if (!gens) {
        if (crit == -1)
            return 0; /* no subjectAltName */
        set_problem(msg, hint, crit == -2
                    ? "certificate has more than one subjectAltName extension"
                    : "certificate subjectAltName extension cannot be decoded", HINT_SAN);
        return -1;
    }
    int rc = 0;
    char buf[448], tw[320];
    for (int i = 0; i < sk_GENERAL_NAME_num(gens) && rc != -2; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        certrole_san_type type;
        char *v;
        const char *what;
        switch (g->type) {
        case GEN_EMAIL: type = CERTROLE_SAN_EMAIL; what = "email"; v = ia5_text(g->d.rfc822Name); break;
        case GEN_DNS:   type = CERTROLE_SAN_DNS; what = "DNS"; v = ia5_text(g->d.dNSName); break;
        case GEN_URI:   type = CERTROLE_SAN_URI; what = "URI"; v = ia5_text(g->d.uniformResourceIdentifier); break;
        case GEN_IPADD: type = CERTROLE_SAN_IP; what = "IP"; v = ip_text(g->d.iPAddress); break;
        case GEN_OTHERNAME:
            if (OBJ_obj2nid(g->d.otherName->type_id) != NID_ms_upn)
                continue;   /* other otherNames are not part of the identity view */
            type = CERTROLE_SAN_UPN;
            what = "UPN";
            v = upn_text(g->d.otherName->value);
            break;
        default: continue; /* dirName, ...: not part of the identity view */
        }
        const char *why = type == CERTROLE_SAN_IP ? "is not a 4- or 16-byte address"
                        : type == CERTROLE_SAN_UPN ? "is not a UTF8String without NUL bytes"
                                                   : "contains a NUL byte";
        if (v && text_refused(v, tw, sizeof tw)) {
            free(v);
            v = NULL;
            why = tw;
        }
        if (!v) {
            snprintf(buf, sizeof buf, "certificate subjectAltName entry %d (%s) %s", i + 1, what,
                     why);
            set_problem(msg, hint, buf, HINT_SAN);
            rc = -1;
            continue;
        }
        if (type == CERTROLE_SAN_EMAIL && !id->email && !(id->email = strdup(v))) {
            free(v);
            rc = -2;
            break;
        }
        if (add_san(id, type, v) < 0)
            rc = -2;
    }
    GENERAL_NAMES_free(gens);
    return rc;
}

/* Canonical string and key of a name in one pass of the DN module. On
 * failure the reason ("character U+200B ... in the value of
 * CN") is recorded as the problem with "certificate <what>" before it. */
/* SHA-256 fetched once for the process: an implicit fetch on every
 * fingerprint costs about as much as hashing the certificate. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static void sha256_fetch(void) { sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL); }
static const EVP_MD *sha256(void)
{
    if (pthread_once(&sha256_once, sha256_fetch) != 0 || !sha256_md)
        return EVP_sha256();
    return sha256_md;
}

static int dn_pair(const X509_NAME *name, char **str, char **key, const char *what,
                   char **msg, char **hint)
{
    char *why = NULL;
    certrole_code rc = cr_dn_x509(name, str, key, &why);
    if (rc != CERTROLE_OK) {
        char buf[384];
        snprintf(buf, sizeof buf, "certificate %s: %s", what, why ? why : certrole_strerror(rc));
        set_problem(msg, hint, buf, HINT_NAME);
    }
    free(why);
    return rc == CERTROLE_OK ? 0 : -1;
}

/* The outcome of cr_identity_from_leaf: the problem text (m, h) goes to
 * the caller for a bad name, and is freed otherwise. */
static certrole_code hand_over(int nomem, int bad, char *m, char *h, char **msg, char **hint)
{
    if (nomem || !bad || !m || !h) {
        free(m);
        free(h);
        return nomem || (bad && (!m || !h)) ? CERTROLE_E_NO_MEMORY : CERTROLE_OK;
    }
    if (msg)
        *msg = m;
    else
        free(m);
    if (hint)
        *hint = h;
    else
        free(h);
    return CERTROLE_E_BAD_NAME;
}

certrole_code cr_identity_from_leaf(struct certrole_identity *id, X509 *leaf,
                                    char **msg, char **hint)
{
    char *m = NULL, *h = NULL;
    if (msg)
        *msg = NULL;
    if (hint)
        *hint = NULL;
    memset(id, 0, sizeof *id);
    if (!leaf)
        return CERTROLE_E_INVALID_ARGUMENT;
    if (!X509_up_ref(leaf))
        return CERTROLE_E_INTERNAL;
    id->leaf = leaf;

    int bad = 0, nomem = 0;
    unsigned char *der = NULL;
    int dlen = i2d_X509(leaf, &der);
    if (dlen <= 0) {
        nomem = 1;
    } else {
        id->der = malloc((size_t)dlen);
        if (id->der) {
            memcpy(id->der, der, (size_t)dlen);
            id->der_len = (size_t)dlen;
        } else {
            nomem = 1;
        }
        OPENSSL_free(der);
    }

    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    /* the DER is at hand: X509_digest would encode the leaf again */
    if (id->der && EVP_Digest(id->der, id->der_len, md, &mdlen, sha256(), NULL))
        id->fingerprint = hexstr(md, mdlen);
    if (!id->fingerprint)
        nomem = 1;
    if (!(id->serial = serial_hex(leaf)))
        nomem = 1;
    id->ski = ski_hex(leaf, &nomem);
    id->not_before = asn1_time_t(X509_get0_notBefore(leaf));
    id->not_after = asn1_time_t(X509_get0_notAfter(leaf));

    const X509_NAME *subj = X509_get_subject_name(leaf);
    char *subject_email = NULL;
    if (scan_subject(id, subj, &subject_email, &m, &h) < 0)
        bad = 1;
    if (dn_pair(subj, &id->subject, &id->subject_key, "subject", &m, &h) < 0)
        bad = 1;
    if (dn_pair(X509_get_issuer_name(leaf), &id->issuer, &id->issuer_key, "issuer name", &m,
                &h) < 0)
        bad = 1;

    int s = scan_sans(id, leaf, &m, &h);
    if (s == -1)
        bad = 1;
    else if (s == -2 || cr_spiffe_from_sans(id) < 0)
        nomem = 1;
    if (!id->email)
        id->email = subject_email;
    else
        free(subject_email);

    return hand_over(nomem, bad, m, h, msg, hint);
}

certrole_code cr_identity_set_anchor(struct certrole_identity *id, X509 *anchor)
{
    if (!id || !anchor)
        return CERTROLE_E_INVALID_ARGUMENT;
    free(id->anchor);
    free(id->anchor_key);
    id->anchor = id->anchor_key = NULL;
    if (dn_pair(X509_get_subject_name(anchor), &id->anchor, &id->anchor_key, "anchor", NULL,
                NULL) < 0) {
        free(id->anchor);
        free(id->anchor_key);
        id->anchor = id->anchor_key = NULL;
        return CERTROLE_E_BAD_NAME;
    }
    return CERTROLE_OK;
}

void cr_identity_clear(struct certrole_identity *id)
{
    if (!id)
        return;
    X509_free(id->leaf);
    free(id->der);
    free(id->subject);
    free(id->subject_key);
    free(id->issuer);
    free(id->issuer_key);
    free(id->anchor);
    free(id->anchor_key);
    free(id->serial);
    free(id->fingerprint);
    free(id->cn);
    free(id->email);
    for (size_t i = 0; i < id->n_sans; i++)
        free(id->sans[i].value);
    free(id->sans);
    free(id->spiffe);
    free(id->spiffe_why);
    free(id->ski);
    memset(id, 0, sizeof *id);
}

/* ----- the realm SPI's read-only view ---------------------------------- */

/* The first subjectAltName of a type, or NULL: a template takes one
 * value, and the certificate's order is the issuer's. */
static const char *first_san(const certrole_identity *id, certrole_san_type t)
{
    for (size_t i = 0; i < id->n_sans; i++)
        if (id->sans[i].type == t)
            return id->sans[i].value;
    return NULL;
}

const char *certrole_identity_get(const certrole_identity *id, certrole_identity_field f)
{
    if (!id)
        return NULL;
    switch (f) {
    case CERTROLE_ID_SUBJECT: return id->subject;
    case CERTROLE_ID_SUBJECT_KEY: return id->subject_key;
    case CERTROLE_ID_ISSUER: return id->issuer;
    case CERTROLE_ID_ISSUER_KEY: return id->issuer_key;
    case CERTROLE_ID_ANCHOR: return id->anchor;
    case CERTROLE_ID_ANCHOR_KEY: return id->anchor_key;
    case CERTROLE_ID_SERIAL: return id->serial;
    case CERTROLE_ID_FINGERPRINT: return id->fingerprint;
    case CERTROLE_ID_CN: return id->cn;
    case CERTROLE_ID_EMAIL: return id->email;
    case CERTROLE_ID_SPIFFE: return id->spiffe;
    case CERTROLE_ID_UPN: return first_san(id, CERTROLE_SAN_UPN);
    case CERTROLE_ID_DNS: return first_san(id, CERTROLE_SAN_DNS);
    case CERTROLE_ID_URI: return first_san(id, CERTROLE_SAN_URI);
    case CERTROLE_ID_SKI: return id->ski;
    }
    return NULL;
}

const unsigned char *certrole_identity_der(const certrole_identity *id, size_t *len)
{
    if (len)
        *len = id ? id->der_len : 0;
    return id ? id->der : NULL;
}

size_t certrole_identity_san_count(const certrole_identity *id)
{
    return id ? id->n_sans : 0;
}

const char *certrole_identity_san(const certrole_identity *id, size_t i,
                                  certrole_san_type *type)
{
    if (!id || i >= id->n_sans)
        return NULL;
    if (type)
        *type = id->sans[i].type;
    return id->sans[i].value;
}
