/* Outcome of one lookup (see ldap_outcome.h). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ldap.h>
#include "ldap_outcome.h"

int cr_ldap_outcome_set_user(struct cr_ldap_outcome *o, const char *user)
{
    char *u = strdup(user);
    if (!u)
        return -1;
    free(o->user);
    o->user = u;
    return 0;
}

int cr_ldap_outcome_add_role(struct cr_ldap_outcome *o, const char *role)
{
    for (size_t i = 0; i < o->n_roles; i++)
        if (strcmp(o->roles[i], role) == 0)
            return 0;
    if (o->n_roles == o->cap_roles) {
        size_t cap = o->cap_roles ? o->cap_roles * 2 : 8;
        char **r = realloc(o->roles, cap * sizeof *r);
        if (!r)
            return -1;
        o->roles = r;
        o->cap_roles = cap;
    }
    if (!(o->roles[o->n_roles] = strdup(role)))
        return -1;
    o->n_roles++;
    return 0;
}

int cr_ldap_outcome_set_message(struct cr_ldap_outcome *o, const char *fmt, ...)
{
    char *m = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&m, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    free(o->message);
    o->message = m;
    return 0;
}

int cr_ldap_outcome_referral(struct cr_ldap_outcome *o, LDAP *ld, LDAPMessage *res,
                             const char *uri, const char *what, const char *base)
{
    LDAPMessage *ref = ldap_first_reference(ld, res);
    if (!ref)
        return 0;
    char **urls = NULL;
    if (ldap_parse_reference(ld, ref, &urls, NULL, 0) != LDAP_SUCCESS)
        urls = NULL;
    cr_ldap_outcome_set_message(o, "%s: the %s under %s returned a referral%s%s, which is not "
                                "followed: the part of the directory it points to is not "
                                "searched, so the answer would be incomplete (choose a base "
                                "that holds no referral)", uri, what, base,
                                urls && urls[0] ? " to " : "", urls && urls[0] ? urls[0] : "");
    ldap_memvfree((void **)urls);
    return 1;
}

int cr_ldap_outcome_copy(struct cr_ldap_outcome *dst,
                         const struct cr_ldap_outcome *src)
{
    memset(dst, 0, sizeof *dst);
    dst->status = src->status;
    if ((src->user && !(dst->user = strdup(src->user))) ||
        (src->message && !(dst->message = strdup(src->message))))
        goto fail;
    for (size_t i = 0; i < src->n_roles; i++)
        if (cr_ldap_outcome_add_role(dst, src->roles[i]) != 0)
            goto fail;
    return 0;
fail:
    cr_ldap_outcome_clear(dst);
    return -1;
}

void cr_ldap_outcome_clear(struct cr_ldap_outcome *o)
{
    free(o->user);
    for (size_t i = 0; i < o->n_roles; i++)
        free(o->roles[i]);
    free(o->roles);
    free(o->message);
    memset(o, 0, sizeof *o);
}
