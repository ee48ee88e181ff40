/* Distinguished names: parse strings (libldap) and X509_NAMEs (OpenSSL)
 * into one list of AVAs, then render the canonical RFC 4514 string and
 * the matching key from it. The rules are documented in dn.h. */
#define _GNU_SOURCE
#include "dn.h"
#include <ldap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>

enum ava_kind {
    K_TEXT,   /* UTF-8 text, folded in the key */
    K_HEX     /* "#DER" everywhere: not a string type, or a T61String */
};

struct ava {
    const ASN1_OBJECT *obj;
    ASN1_OBJECT *obj_owned;     /* from OBJ_txt2obj */
    const char *text;           /* K_TEXT: UTF-8, not NUL-terminated */
    size_t tlen;
    unsigned char *text_owned;  /* from ASN1_STRING_to_UTF8 */
    unsigned char *der;         /* K_HEX: DER of the value */
    size_t derlen;
    ASN1_TYPE *ber;             /* decoded "#hex" value text may point into */
    size_t rdn;                 /* index in canonical order */
    int kind;
};

struct dnp {
    struct ava *a;
    size_t n, cap;
    struct ava inl[12];         /* most names fit: no allocation */
    char *err;
};

/* ---- the AVA list ----------------------------------------------------- */

static void dnp_init(struct dnp *P)
{
    P->a = P->inl;
    P->n = 0;
    P->cap = sizeof P->inl / sizeof P->inl[0];
    P->err = NULL;
}

static void dnp_clear(struct dnp *P)
{
    for (size_t i = 0; i < P->n; i++) {
        ASN1_OBJECT_free(P->a[i].obj_owned);
        OPENSSL_free(P->a[i].text_owned);
        OPENSSL_free(P->a[i].der);
        ASN1_TYPE_free(P->a[i].ber);
    }
    if (P->a != P->inl)
        free(P->a);
    free(P->err);
    dnp_init(P);
}

static struct ava *dnp_add(struct dnp *P, size_t rdn)
{
    if (P->n == P->cap) {
        size_t cap = P->cap * 2;
        struct ava *a = P->a == P->inl ? malloc(cap * sizeof *a)
                                       : realloc(P->a, cap * sizeof *a);
        if (!a)
            return NULL;
        if (P->a == P->inl)
            memcpy(a, P->inl, sizeof P->inl);
        P->a = a;
        P->cap = cap;
    }
    struct ava *v = &P->a[P->n++];
    memset(v, 0, sizeof *v);
    v->rdn = rdn;
    return v;
}

static certrole_code fail(struct dnp *P, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static certrole_code fail(struct dnp *P, const char *fmt, ...)
{
    if (!P->err) {
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&P->err, fmt, ap) < 0)
            P->err = NULL;
        va_end(ap);
    }
    return CERTROLE_E_BAD_NAME;
}

/* ---- values ----------------------------------------------------------- */

static certrole_code value_der(struct dnp *P, struct ava *v, int type, const ASN1_STRING *s)
{
    ASN1_TYPE t;
    t.type = type;
    t.value.asn1_string = (ASN1_STRING *)s;
    unsigned char *der = NULL;
    int n = i2d_ASN1_TYPE(&t, &der);
    if (n <= 0) {
        ERR_clear_error();
        char tb[64];
        return fail(P, "value of %s cannot be encoded", cr_dn_type_name(v->obj, tb, sizeof tb));
    }
    v->der = der;
    v->derlen = (size_t)n;
    return CERTROLE_OK;
}

static int all_ascii(const unsigned char *d, int n)
{
    for (int i = 0; i < n; i++)
        if (d[i] == 0 || d[i] >= 0x80)
            return 0;
    return 1;
}

static certrole_code value_from_text(struct dnp *P, struct ava *v, const char *s, size_t n)
{
    char tb[64], why[256];
    unsigned long cp = 0;
    int bad = cr_dn_check_utf8(s, n, &cp);
    if (bad)
        return fail(P, "%s in the value of %s", cr_dn_text_problem(bad, cp, why, sizeof why),
                    cr_dn_type_name(v->obj, tb, sizeof tb));
    v->kind = K_TEXT;
    v->text = s;
    v->tlen = n;
    return CERTROLE_OK;
}

/* Sets v's value from an ASN.1 string of the given type (certificate
 * entry, or a decoded "#hex" value). */
static certrole_code value_from_asn1(struct dnp *P, struct ava *v, const ASN1_STRING *s)
{
    char tb[64];
    int type = ASN1_STRING_type(s);
    const unsigned char *d = ASN1_STRING_get0_data(s);
    int len = ASN1_STRING_length(s);
    int one_byte = 0;
    switch (type) {
    case V_ASN1_UTF8STRING:
        break;
    case V_ASN1_PRINTABLESTRING: case V_ASN1_IA5STRING: case V_ASN1_NUMERICSTRING:
    case V_ASN1_VISIBLESTRING:
        one_byte = 1;
        break;
    case V_ASN1_BMPSTRING: case V_ASN1_UNIVERSALSTRING:
        break;
    default:
        /* Includes T61String: RFC 5280 §7.1 compares it as exact bytes,
         * and OpenSSL would only guess its text (as Latin-1). Writing it
         * as "#14..." keeps the canonical string and the key of that
         * string equal to the certificate's key. */
        v->kind = K_HEX;
        return value_der(P, v, type, s);
    }
    v->kind = K_TEXT;
    if ((type == V_ASN1_UTF8STRING || one_byte) && len >= 0 && all_ascii(d, len)) {
        v->text = (const char *)d;   /* common case: no conversion, no copy */
        v->tlen = (size_t)len;
        return CERTROLE_OK;
    }
    unsigned char *u = NULL;
    int n = ASN1_STRING_to_UTF8(&u, s);
    if (n < 0) {
        ERR_clear_error();
        return fail(P, "value of %s is not a valid %s", cr_dn_type_name(v->obj, tb, sizeof tb),
                    ASN1_tag2str(type));
    }
    v->text_owned = u;
    v->text = (const char *)u;
    v->tlen = (size_t)n;
    return value_from_text(P, v, v->text, v->tlen);
}

/* "#hex" in a string DN: libldap hands over the BER bytes. */
static certrole_code value_from_ber(struct dnp *P, struct ava *v, const unsigned char *b, size_t n)
{
    char tb[64];
    const unsigned char *p = b;
    ASN1_TYPE *at = n <= 0x7fffffff ? d2i_ASN1_TYPE(NULL, &p, (long)n) : NULL;
    if (!at || p != b + n) {
        ASN1_TYPE_free(at);
        ERR_clear_error();
        return fail(P, "hex value of %s is not one BER-encoded value",
                    cr_dn_type_name(v->obj, tb, sizeof tb));
    }
    v->ber = at;
    switch (at->type) {
    case V_ASN1_UTF8STRING: case V_ASN1_PRINTABLESTRING: case V_ASN1_IA5STRING:
    case V_ASN1_NUMERICSTRING: case V_ASN1_VISIBLESTRING: case V_ASN1_T61STRING:
    case V_ASN1_BMPSTRING: case V_ASN1_UNIVERSALSTRING:
        return value_from_asn1(P, v, at->value.asn1_string);
    default:
        break;
    }
    unsigned char *der = NULL;   /* any other type stays "#DER" */
    int len = i2d_ASN1_TYPE(at, &der);
    if (len <= 0) {
        ERR_clear_error();
        return fail(P, "hex value of %s cannot be encoded", cr_dn_type_name(v->obj, tb, sizeof tb));
    }
    v->kind = K_HEX;
    v->der = der;
    v->derlen = (size_t)len;
    return CERTROLE_OK;
}

/* ---- rendering -------------------------------------------------------- */

static certrole_code put_ava(struct dnp *P, const struct ava *v, int key, cr_strbuf *b)
{
    cr_dn_put_type(b, v->obj, key);
    cr_sb_appendc(b, '=');
    if (v->kind == K_HEX) {
        cr_dn_hex(b, v->der, v->derlen);
    } else if (!key) {
        cr_dn_escape(b, v->text, v->tlen);
    } else {
        int r = cr_dn_normalize(b, v->text, v->tlen, !cr_dn_type_exact(v->obj));
        char tb[64];   /* values were checked when set; kept for safety */
        if (r < 0)
            return r == -4 ? CERTROLE_E_NO_MEMORY
                           : fail(P, "bad value of %s", cr_dn_type_name(v->obj, tb, sizeof tb));
    }
    return CERTROLE_OK;
}

struct seg { const char *p; size_t n; };

static int seg_cmp(const void *x, const void *y)
{
    const struct seg *a = x, *b = y;
    int c = memcmp(a->p, b->p, a->n < b->n ? a->n : b->n);
    return c ? c : (a->n > b->n) - (a->n < b->n);
}

/* A multi-valued RDN is a set: its AVAs are written in sorted order. */
static certrole_code put_multi(struct dnp *P, size_t from, size_t to, int key, cr_strbuf *b)
{
    size_t m = to - from;
    cr_strbuf tmp = CR_STRBUF_INIT;
    size_t *off = malloc((m + 1) * sizeof *off);
    struct seg *sg = malloc(m * sizeof *sg);
    certrole_code rc = off && sg ? CERTROLE_OK : CERTROLE_E_NO_MEMORY;
    for (size_t k = 0; k < m && rc == CERTROLE_OK; k++) {
        off[k] = tmp.len;
        rc = put_ava(P, &P->a[from + k], key, &tmp);
    }
    if (rc == CERTROLE_OK && tmp.failed)
        rc = CERTROLE_E_NO_MEMORY;
    if (rc == CERTROLE_OK) {
        off[m] = tmp.len;
        for (size_t k = 0; k < m; k++)
            sg[k] = (struct seg){ tmp.s + off[k], off[k + 1] - off[k] };
        qsort(sg, m, sizeof *sg, seg_cmp);
        for (size_t k = 0; k < m; k++) {
            if (k)
                cr_sb_appendc(b, '+');
            cr_sb_appendn(b, sg[k].p, sg[k].n);
        }
    }
    free(off);
    free(sg);
    cr_sb_free(&tmp);
    return rc;
}

static certrole_code render(struct dnp *P, int key, char **out)
{
    cr_strbuf b = CR_STRBUF_INIT;
    certrole_code rc = CERTROLE_OK;
    for (size_t i = 0; i < P->n && rc == CERTROLE_OK;) {
        size_t j = i + 1;
        while (j < P->n && P->a[j].rdn == P->a[i].rdn)
            j++;
        if (i)
            cr_sb_appendc(&b, ',');
        rc = j - i == 1 ? put_ava(P, &P->a[i], key, &b) : put_multi(P, i, j, key, &b);
        i = j;
    }
    if (rc != CERTROLE_OK) {
        cr_sb_free(&b);
        return rc;
    }
    *out = cr_sb_take(&b);
    return *out ? CERTROLE_OK : CERTROLE_E_NO_MEMORY;
}

/* Renders what was asked; on failure nothing is returned. */
static certrole_code finish(struct dnp *P, certrole_code rc, char **canon, char **key,
                            char **errmsg)
{
    char *c = NULL, *k = NULL;
    if (rc == CERTROLE_OK && canon)
        rc = render(P, 0, &c);
    if (rc == CERTROLE_OK && key)
        rc = render(P, 1, &k);
    if (rc != CERTROLE_OK) {
        free(c);
        free(k);
        c = k = NULL;
        if (rc == CERTROLE_E_NO_MEMORY)
            fail(P, "out of memory");
        if (errmsg) {
            *errmsg = P->err;
            P->err = NULL;
        }
    }
    if (canon)
        *canon = c;
    if (key)
        *key = k;
    dnp_clear(P);
    return rc;
}

/* ---- X509_NAME -------------------------------------------------------- */

certrole_code cr_dn_x509(const X509_NAME *name, char **canon, char **key, char **errmsg)
{
    if (canon)
        *canon = NULL;
    if (key)
        *key = NULL;
    if (errmsg)
        *errmsg = NULL;
    if (!name)
        return CERTROLE_E_INVALID_ARGUMENT;
    struct dnp P;
    dnp_init(&P);
    certrole_code rc = CERTROLE_OK;
    int n = X509_NAME_entry_count(name);
    size_t rdn = 0;
    int prev_set = -1;
    /* DER order is most significant first; RFC 4514 is the reverse. */
    for (int i = n - 1; i >= 0 && rc == CERTROLE_OK; i--) {
        const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
        const ASN1_STRING *s = e ? X509_NAME_ENTRY_get_data(e) : NULL;
        const ASN1_OBJECT *o = e ? X509_NAME_ENTRY_get_object(e) : NULL;
        if (!s || !o) {
            rc = fail(&P, "damaged name entry");
            break;
        }
        /* OpenSSL numbers RDNs from 0 in DER order; a gap is an empty
         * RDN (SET OF with no AVA), which RFC 5280 does not allow. */
        int set = X509_NAME_ENTRY_set(e);
        if (prev_set != -1 && set != prev_set) {
            if (set != prev_set - 1) {
                rc = fail(&P, "empty RDN in name");
                break;
            }
            rdn++;
        }
        prev_set = set;
        struct ava *v = dnp_add(&P, rdn);
        if (!v) {
            rc = CERTROLE_E_NO_MEMORY;
            break;
        }
        v->obj = o;
        rc = value_from_asn1(&P, v, s);
    }
    if (rc == CERTROLE_OK && prev_set > 0)
        rc = fail(&P, "empty RDN in name");
    if (rc == CERTROLE_OK && n == 0) {   /* only "30 00" is the empty name */
        const unsigned char *der = NULL;
        size_t dlen = 0;
        if (X509_NAME_get0_der((X509_NAME *)name, &der, &dlen) != 1 || dlen != 2)
            rc = fail(&P, "empty RDN in name");
    }
    return finish(&P, rc, canon, key, errmsg);
}

/* ---- strings ---------------------------------------------------------- */

certrole_code cr_dn_string(const char *dn, char **canon, char **key, char **errmsg)
{
    if (canon)
        *canon = NULL;
    if (key)
        *key = NULL;
    if (errmsg)
        *errmsg = NULL;
    if (!dn)
        return CERTROLE_E_INVALID_ARGUMENT;
    struct dnp P;
    dnp_init(&P);
    size_t len = strlen(dn);
    LDAPDN ld = NULL;
    cr_strbuf conv = CR_STRBUF_INIT;
    struct berval bv = { (ber_len_t)len, (char *)dn };
    size_t lead = 0;
    while (lead < len && dn[lead] == ' ')
        lead++;
    int lrc;
    if (lead < len && dn[lead] == '/') {
        if (cr_dn_slash_to_rfc4514(dn + lead, len - lead, &conv) < 0) {
            cr_sb_free(&conv);
            return finish(&P, fail(&P, "not a valid /-separated DN"), canon, key, errmsg);
        }
        bv.bv_val = conv.s;
        bv.bv_len = conv.len;
        lrc = ldap_bv2dn(&bv, &ld, LDAP_DN_FORMAT_LDAPV3);
    } else {
        const char *why = NULL;
        int pr = cr_dn_prepare(dn + lead, len - lead, &conv, &why);
        if (pr < 0) {
            cr_sb_free(&conv);
            return finish(&P, fail(&P, "not a valid DN: %s", why ? why : "out of memory"),
                          canon, key, errmsg);
        }
        if (pr == 1) {
            bv.bv_val = conv.s ? conv.s : (char *)"";
            bv.bv_len = conv.len;
        }
        lrc = ldap_bv2dn(&bv, &ld, LDAP_DN_FORMAT_LDAPV3);
        if (lrc != LDAP_SUCCESS)
            lrc = ldap_bv2dn(&bv, &ld, LDAP_DN_FORMAT_LDAPV2);
    }
    certrole_code rc = CERTROLE_OK;
    if (lrc != LDAP_SUCCESS) {
        ld = NULL;
        rc = fail(&P, "not a valid DN (RFC 4514, LDAPv2 or /-separated): %s",
                  ldap_err2string(lrc));
    }
    for (size_t i = 0; rc == CERTROLE_OK && ld && ld[i]; i++) {
        for (size_t j = 0; rc == CERTROLE_OK && ld[i][j]; j++) {
            const LDAPAVA *a = ld[i][j];
            struct ava *v = dnp_add(&P, i);
            if (!v) {
                rc = CERTROLE_E_NO_MEMORY;
                break;
            }
            int tr = cr_dn_type_resolve(a->la_attr.bv_val, a->la_attr.bv_len, &v->obj,
                                        &v->obj_owned);
            if (tr < 0) {
                rc = fail(&P, tr == -1 ? "unknown attribute type '%.*s'"
                              : tr == -2 ? "attribute type '%.*s' is not a valid OID"
                                         : "attribute type '%.*s' too long",
                          (int)(a->la_attr.bv_len < 64 ? a->la_attr.bv_len : 64),
                          a->la_attr.bv_val);
                break;
            }
            if (a->la_flags & LDAP_AVA_BINARY)
                rc = value_from_ber(&P, v, (const unsigned char *)a->la_value.bv_val,
                                    a->la_value.bv_len);
            else
                rc = value_from_text(&P, v, a->la_value.bv_val, a->la_value.bv_len);
        }
    }
    rc = finish(&P, rc, canon, key, errmsg);   /* values point into ld: render first */
    ldap_dnfree(ld);
    cr_sb_free(&conv);
    return rc;
}

/* ---- public API ------------------------------------------------------- */

certrole_code certrole_dn_canonical(const char *dn, char **out, char **errmsg)
{
    if (errmsg)
        *errmsg = NULL;
    if (!dn || !out)
        return CERTROLE_E_INVALID_ARGUMENT;
    return cr_dn_string(dn, out, NULL, errmsg);
}

certrole_code certrole_dn_key(const char *dn, char **out, char **errmsg)
{
    if (errmsg)
        *errmsg = NULL;
    if (!dn || !out)
        return CERTROLE_E_INVALID_ARGUMENT;
    return cr_dn_string(dn, NULL, out, errmsg);
}

int certrole_dn_equal(const char *a, const char *b)
{
    char *ka = NULL, *kb = NULL;
    int r = -1;
    if (certrole_dn_key(a, &ka, NULL) == CERTROLE_OK &&
        certrole_dn_key(b, &kb, NULL) == CERTROLE_OK)
        r = strcmp(ka, kb) == 0;
    free(ka);
    free(kb);
    return r;
}

certrole_code certrole_dn_from_x509(const X509_NAME *name, char **out)
{
    if (!out)
        return CERTROLE_E_INVALID_ARGUMENT;
    return cr_dn_x509(name, out, NULL, NULL);
}

certrole_code certrole_dn_key_from_x509(const X509_NAME *name, char **out)
{
    if (!out)
        return CERTROLE_E_INVALID_ARGUMENT;
    return cr_dn_x509(name, NULL, out, NULL);
}
