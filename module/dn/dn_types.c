/* Attribute types of a DN: names and OIDs in, short names and dotted
 * OIDs out (dn.h). */
#include "dn.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/err.h>
#include <openssl/objects.h>

/* Names accepted case-insensitively (OpenSSL's own lookups are exact). */
static const struct { const char *name; int nid; } type_names[] = {
    { "CN", NID_commonName }, { "OU", NID_organizationalUnitName },
    { "O", NID_organizationName }, { "L", NID_localityName },
    { "ST", NID_stateOrProvinceName }, { "S", NID_stateOrProvinceName },
    { "C", NID_countryName }, { "DC", NID_domainComponent }, { "UID", NID_userId },
    { "E", NID_pkcs9_emailAddress }, { "EMAIL", NID_pkcs9_emailAddress },
    { "emailAddress", NID_pkcs9_emailAddress }, { "mail", NID_rfc822Mailbox },
    { "serialNumber", NID_serialNumber }, { "SN", NID_surname },
    { "surname", NID_surname }, { "GN", NID_givenName }, { "givenName", NID_givenName },
    { "title", NID_title }, { "street", NID_streetAddress },
    { "streetAddress", NID_streetAddress }, { "postalCode", NID_postalCode },
    { "initials", NID_initials }, { "generationQualifier", NID_generationQualifier },
    { "dnQualifier", NID_dnQualifier }, { "pseudonym", NID_pseudonym },
    { "name", NID_name }, { "description", NID_description },
    { "businessCategory", NID_businessCategory }, { "userId", NID_userId },
    { "commonName", NID_commonName }, { "organizationName", NID_organizationName },
    { "organizationalUnitName", NID_organizationalUnitName },
    { "localityName", NID_localityName }, { "countryName", NID_countryName },
    { "stateOrProvinceName", NID_stateOrProvinceName },
    { "domainComponent", NID_domainComponent },
    { "organizationIdentifier", NID_organizationIdentifier },
    { "unstructuredName", NID_pkcs9_unstructuredName },
    { "telephoneNumber", NID_telephoneNumber },
};

/* Attribute types whose values compare case-exactly. RFC 4519/4524 and
 * X.520 give caseIgnoreMatch (or caseIgnoreIA5Match) to every naming
 * attribute in common use, and RFC 5280 §7.1 compares DirectoryString
 * values case-insensitively, so this stays short. */
static const int exact_nids[] = {
    NID_x500UniqueIdentifier,   /* 2.5.4.45, bitStringMatch */
};

int cr_dn_type_exact(const ASN1_OBJECT *obj)
{
    int nid = OBJ_obj2nid(obj);
    for (size_t i = 0; i < sizeof exact_nids / sizeof exact_nids[0]; i++)
        if (nid != NID_undef && nid == exact_nids[i])
            return 1;
    return 0;
}

static int is_dotted_oid(const char *s)
{
    if (!isdigit((unsigned char)*s))
        return 0;
    for (const char *p = s; *p; p++) {
        if (*p == '.') {
            if (!isdigit((unsigned char)p[1]))
                return 0;
        } else if (!isdigit((unsigned char)*p)) {
            return 0;
        }
    }
    return 1;
}

int cr_dn_type_resolve(const char *t, size_t tlen, const ASN1_OBJECT **obj,
                       ASN1_OBJECT **owned)
{
    char buf[128];
    *obj = NULL;
    *owned = NULL;
    if (tlen == 0 || tlen >= sizeof buf)
        return -3;
    memcpy(buf, t, tlen);
    buf[tlen] = '\0';
    const char *s = buf;
    if (!strncasecmp(s, "oid.", 4) && isdigit((unsigned char)s[4]))
        s += 4;
    if (isdigit((unsigned char)*s)) {
        ASN1_OBJECT *o = is_dotted_oid(s) ? OBJ_txt2obj(s, 1) : NULL;
        if (!o) {
            ERR_clear_error();
            return -2;
        }
        *obj = *owned = o;
        return 0;
    }
    int nid = NID_undef;
    for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
        if (!strcasecmp(s, type_names[i].name)) {
            nid = type_names[i].nid;
            break;
        }
    if (nid == NID_undef)
        nid = OBJ_sn2nid(s);
    if (nid == NID_undef)
        nid = OBJ_ln2nid(s);
    if (nid == NID_undef || !(*obj = OBJ_nid2obj(nid)))
        return -1;
    return 0;
}

/* A short name usable in an RFC 4514 string: letter, then letters,
 * digits, hyphens. Anything else is written as a dotted OID. */
static int is_descr(const char *s)
{
    if (!s || !isalpha((unsigned char)*s))
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '-')
            return 0;
    return 1;
}

/* Dotted OIDs of the usual types: OBJ_obj2txt costs more than all the
 * rest of a key (tests/check_dn.c checks every entry). */
static const char *known_oid(int nid)
{
    switch (nid) {
    case NID_commonName: return "2.5.4.3";
    case NID_surname: return "2.5.4.4";
    case NID_serialNumber: return "2.5.4.5";
    case NID_countryName: return "2.5.4.6";
    case NID_localityName: return "2.5.4.7";
    case NID_stateOrProvinceName: return "2.5.4.8";
    case NID_streetAddress: return "2.5.4.9";
    case NID_organizationName: return "2.5.4.10";
    case NID_organizationalUnitName: return "2.5.4.11";
    case NID_title: return "2.5.4.12";
    case NID_givenName: return "2.5.4.42";
    case NID_domainComponent: return "0.9.2342.19200300.100.1.25";
    case NID_userId: return "0.9.2342.19200300.100.1.1";
    case NID_pkcs9_emailAddress: return "1.2.840.113549.1.9.1";
    default: return NULL;
    }
}

static void put_oid(cr_strbuf *b, const ASN1_OBJECT *obj)
{
    const char *k = known_oid(OBJ_obj2nid(obj));
    if (k) {
        cr_sb_append(b, k);
        return;
    }
    char buf[128];
    int n = OBJ_obj2txt(buf, sizeof buf, obj, 1);
    if (n <= 0) {
        b->failed = 1;
        return;
    }
    if ((size_t)n < sizeof buf) {
        cr_sb_appendn(b, buf, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big || OBJ_obj2txt(big, n + 1, obj, 1) != n)
        b->failed = 1;
    else
        cr_sb_appendn(b, big, (size_t)n);
    free(big);
}

static const char *type_label(const ASN1_OBJECT *obj)
{
    int nid = OBJ_obj2nid(obj);
    const char *sn = nid == NID_undef ? NULL : OBJ_nid2sn(nid);
    return is_descr(sn) ? sn : NULL;
}

void cr_dn_put_type(cr_strbuf *b, const ASN1_OBJECT *obj, int key)
{
    const char *sn = key ? NULL : type_label(obj);
    if (sn)
        cr_sb_append(b, sn);
    else
        put_oid(b, obj);
}

/* Short name for messages (dotted OID in buf otherwise). */
const char *cr_dn_type_name(const ASN1_OBJECT *obj, char *buf, size_t n)
{
    const char *sn = type_label(obj);
    if (sn)
        return sn;
    if (OBJ_obj2txt(buf, (int)n, obj, 1) <= 0)
        snprintf(buf, n, "?");
    return buf;
}
