/* DN parsing, printing and comparison keys through libldap (ldap_dn.h). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ldap.h>
#include "ldap_dn.h"

/* libldap allocates with its own allocator; hand callers plain malloc. */
static char *own(char *ldap_str)
{
    if (!ldap_str)
        return NULL;
    char *s = strdup(ldap_str);
    ldap_memfree(ldap_str);
    return s;
}

char *cr_ldap_dn_normalize(const char *dn)
{
    char *out = NULL;
    if (!dn || ldap_dn_normalize(dn, LDAP_DN_FORMAT_LDAPV3, &out,
                                 LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS)
        return NULL;
    return own(out);
}

static void fold_ascii(struct berval *bv, int spaces)
{
    size_t o = 0, len = bv->bv_len;
    int in_space = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = bv->bv_val[i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        if (spaces && ch == ' ') {
            if (in_space || o == 0)
                continue;           /* leading space or a run */
            in_space = 1;
        } else {
            in_space = 0;
        }
        bv->bv_val[o++] = ch;
    }
    while (spaces && o > 0 && bv->bv_val[o - 1] == ' ')
        o--;
    bv->bv_len = o;
    if (o < len)                    /* shortened inside its own buffer */
        bv->bv_val[o] = '\0';
}

static int ava_cmp(const void *a, const void *b)
{
    const LDAPAVA *x = *(LDAPAVA *const *)a, *y = *(LDAPAVA *const *)b;
    size_t n = x->la_attr.bv_len < y->la_attr.bv_len ? x->la_attr.bv_len : y->la_attr.bv_len;
    int r = memcmp(x->la_attr.bv_val, y->la_attr.bv_val, n);
    if (r || x->la_attr.bv_len != y->la_attr.bv_len)
        return r ? r : (x->la_attr.bv_len < y->la_attr.bv_len ? -1 : 1);
    n = x->la_value.bv_len < y->la_value.bv_len ? x->la_value.bv_len : y->la_value.bv_len;
    r = memcmp(x->la_value.bv_val, y->la_value.bv_val, n);
    if (r || x->la_value.bv_len == y->la_value.bv_len)
        return r;
    return x->la_value.bv_len < y->la_value.bv_len ? -1 : 1;
}

char *cr_ldap_dn_key(const char *dn)
{
    LDAPDN parsed = NULL;
    if (!dn || ldap_str2dn(dn, &parsed, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS)
        return NULL;
    /* The parsed DN owns its buffers; folding only ever shortens them. */
    for (size_t r = 0; parsed && parsed[r]; r++) {
        size_t n = 0;
        for (; parsed[r][n]; n++) {
            LDAPAVA *ava = parsed[r][n];
            fold_ascii(&ava->la_attr, 0);
            if (!(ava->la_flags & LDAP_AVA_BINARY))
                fold_ascii(&ava->la_value, 1);
        }
        if (n > 1)
            qsort(parsed[r], n, sizeof parsed[r][0], ava_cmp);
    }
    char *out = NULL;
    int rc = ldap_dn2str(parsed, &out, LDAP_DN_FORMAT_LDAPV3);
    ldap_dnfree(parsed);
    if (rc != LDAP_SUCCESS)
        return NULL;
    if (!out)                       /* the empty (root) DN */
        return strdup("");
    return own(out);
}

static size_t dn_len(LDAPDN dn)
{
    size_t n = 0;
    while (dn && dn[n])
        n++;
    return n;
}

int cr_ldap_dn_under(const char *dn_key, const char *base_key)
{
    LDAPDN d = NULL, b = NULL;
    int result = -1;
    if (ldap_str2dn(dn_key, &d, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS)
        return -1;
    if (ldap_str2dn(base_key, &b, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS)
        goto out;
    size_t nd = dn_len(d), nb = dn_len(b);
    result = nb <= nd;
    for (size_t i = 0; result == 1 && i < nb; i++) {
        char *x = NULL, *y = NULL;
        if (ldap_rdn2str(d[nd - nb + i], &x, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS ||
            ldap_rdn2str(b[i], &y, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS)
            result = -1;
        else if (strcmp(x, y) != 0)
            result = 0;
        ldap_memfree(x);
        ldap_memfree(y);
    }
out:
    ldap_dnfree(d);
    ldap_dnfree(b);
    return result;
}

char *cr_ldap_dn_rdn_value(const char *dn, const char *type)
{
    LDAPDN parsed = NULL;
    char *value = NULL;
    if (!dn || !type || ldap_str2dn(dn, &parsed, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS)
        return NULL;
    if (parsed && parsed[0]) {
        for (size_t i = 0; parsed[0][i]; i++) {
            LDAPAVA *ava = parsed[0][i];
            if (ava->la_attr.bv_len == strlen(type) &&
                strncasecmp(ava->la_attr.bv_val, type, ava->la_attr.bv_len) == 0 &&
                !(ava->la_flags & LDAP_AVA_BINARY) && ava->la_value.bv_val &&
                !memchr(ava->la_value.bv_val, '\0', ava->la_value.bv_len)) {
                value = strndup(ava->la_value.bv_val, ava->la_value.bv_len);
                break;
            }
        }
    }
    ldap_dnfree(parsed);
    return value;
}
