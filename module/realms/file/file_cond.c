/* Conditions on a realm file entry (file_cond.h). */
#define _GNU_SOURCE
#include "file_cond.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

static const struct { const char *name; unsigned bit; } ku_names[] = {
    { "digitalSignature", X509v3_KU_DIGITAL_SIGNATURE },
    { "nonRepudiation", X509v3_KU_NON_REPUDIATION },
    { "contentCommitment", X509v3_KU_NON_REPUDIATION },
    { "keyEncipherment", X509v3_KU_KEY_ENCIPHERMENT },
    { "dataEncipherment", X509v3_KU_DATA_ENCIPHERMENT },
    { "keyAgreement", X509v3_KU_KEY_AGREEMENT },
    { "keyCertSign", X509v3_KU_KEY_CERT_SIGN },
    { "cRLSign", X509v3_KU_CRL_SIGN },
    { "encipherOnly", X509v3_KU_ENCIPHER_ONLY },
    { "decipherOnly", X509v3_KU_DECIPHER_ONLY },
};

static unsigned ku_bit(const char *s, size_t len)
{
    for (size_t i = 0; i < sizeof ku_names / sizeof ku_names[0]; i++)
        if (strlen(ku_names[i].name) == len && memcmp(ku_names[i].name, s, len) == 0)
            return ku_names[i].bit;
    return 0;
}

/* A dotted OID in its one spelling: arcs of digits without leading
 * zeros, at least two, the first 0, 1 or 2. */
static int oid_valid(const char *s, size_t len)
{
    size_t arcs = 0, i = 0;
    while (i < len) {
        size_t a = i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == a || (s[a] == '0' && i - a > 1) || i - a > 20)
            return 0;
        if (arcs == 0 && (i - a != 1 || s[a] > '2'))
            return 0;
        arcs++;
        if (i < len && (s[i] != '.' || ++i == len))
            return 0;
    }
    return arcs >= 2;
}

int cr_fcond_check(cr_fcond_kind kind, const char *s, size_t len, const char **why, size_t *bad)
{
    size_t i = 0;
    do {
        size_t a = i;
        while (i < len && s[i] != ',')
            i++;
        int ok = kind == CR_FCOND_KU ? ku_bit(s + a, i - a) != 0 : oid_valid(s + a, i - a);
        if (!ok) {
            *bad = a;
            *why = kind == CR_FCOND_KU
                       ? "unknown key usage (known: digitalSignature, nonRepudiation,"
                         " contentCommitment, keyEncipherment, dataEncipherment,"
                         " keyAgreement, keyCertSign, cRLSign, encipherOnly, decipherOnly)"
                       : "expected a dotted OID such as 1.3.6.1.5.5.7.3.2";
            return -1;
        }
    } while (i++ < len);
    return 0;
}

long cr_fcond_build(const char *const list[3], const size_t len[3], char *out, size_t outlen)
{
    if (!list[0] && !list[1] && !list[2])
        return 0;
    unsigned mask = 0;
    for (size_t i = 0, a = 0; list[1] && i <= len[1]; i++)
        if (i == len[1] || list[1][i] == ',') {
            mask |= ku_bit(list[1] + a, i - a);
            a = i + 1;
        }
    int n = snprintf(out, outlen, "K%x", mask);
    for (int k = 0; k < 3; k += 2) {
        for (size_t i = 0, a = 0; list[k] && i <= len[k] && n >= 0 && (size_t)n < outlen; i++)
            if (i == len[k] || list[k][i] == ',') {
                n += snprintf(out + n, outlen - (size_t)n, " %c%.*s", k ? 'P' : 'E',
                              (int)(i - a), list[k] + a);
                a = i + 1;
            }
    }
    return n < 0 || (size_t)n >= outlen ? -1 : n;
}

/* 1 when the stack of OIDs (EKU) or policies holds oid. */
/* Compared as objects, not as text: a text buffer could cut a long OID
 * short and make it equal to another one's beginning. */
static int has_oid(X509 *x, int nid, const char *oid)
{
    ASN1_OBJECT *want = OBJ_txt2obj(oid, 1);
    if (!want)
        return 0;   /* validated at load; no memory now: the condition fails */
    void *ext = X509_get_ext_d2i(x, nid, NULL, NULL);
    int found = 0;
    if (nid == NID_ext_key_usage) {
        EXTENDED_KEY_USAGE *eku = ext;
        for (int i = 0; eku && !found && i < sk_ASN1_OBJECT_num(eku); i++)
            found = OBJ_cmp(sk_ASN1_OBJECT_value(eku, i), want) == 0;
        EXTENDED_KEY_USAGE_free(eku);
    } else {
        CERTIFICATEPOLICIES *pol = ext;
        for (int i = 0; pol && !found && i < sk_POLICYINFO_num(pol); i++)
            found = OBJ_cmp(sk_POLICYINFO_value(pol, i)->policyid, want) == 0;
        CERTIFICATEPOLICIES_free(pol);
    }
    ASN1_OBJECT_free(want);
    return found;
}

int cr_fcond_holds(const char *cond, const unsigned char *der, size_t derlen)
{
    const unsigned char *p = der;
    X509 *x = der ? d2i_X509(NULL, &p, (long)derlen) : NULL;
    if (!x)
        return 0;
    char *end = NULL;
    unsigned long mask = strtoul(cond + 1, &end, 16);
    int ok = cond[0] == 'K';
    /* no keyUsage extension: no bit is carried (OpenSSL reports all) */
    if (ok && mask)
        ok = (X509_get_extension_flags(x) & EXFLAG_KUSAGE) &&
             (X509_get_key_usage(x) & mask) == mask;
    while (ok && end && *end == ' ') {
        const char *item = end + 1;
        end = strchr(item, ' ');
        char oid[128];
        size_t n = end ? (size_t)(end - item) : strlen(item);
        if (n < 2 || n - 1 >= sizeof oid) {
            ok = 0;
            break;
        }
        memcpy(oid, item + 1, n - 1);
        oid[n - 1] = '\0';
        ok = has_oid(x, item[0] == 'E' ? NID_ext_key_usage : NID_certificate_policies, oid);
    }
    X509_free(x);
    return ok;
}
