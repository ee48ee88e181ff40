/* The certrole_answer a realm lookup fills (certrole_realm.h). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "certrole_realm.h"
#include "stack.h"

int certrole_answer_set_user(certrole_answer *a, const char *user)
{
    if (!a || !user)
        return -1;
    char *u = strdup(user);
    if (!u) {
        a->failed = 1;
        return -1;
    }
    free(a->user);
    a->user = u;
    return 0;
}

int certrole_answer_add_role(certrole_answer *a, const char *role)
{
    if (!a || !role)
        return -1;
    for (size_t i = 0; i < a->n_roles; i++)
        if (strcmp(a->roles[i], role) == 0)
            return 0;
    if (a->n_roles == a->cap_roles) {
        size_t cap = a->cap_roles ? a->cap_roles * 2 : 8;
        char **r = realloc(a->roles, cap * sizeof *r);
        if (!r) {
            a->failed = 1;
            return -1;
        }
        a->roles = r;
        a->cap_roles = cap;
    }
    if (!(a->roles[a->n_roles] = strdup(role))) {
        a->failed = 1;
        return -1;
    }
    a->n_roles++;
    return 0;
}

void certrole_answer_set_message(certrole_answer *a, const char *fmt, ...)
{
    if (!a || !fmt)
        return;
    char *m = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&m, fmt, ap) < 0)
        m = NULL;
    va_end(ap);
    if (m) {
        free(a->message);
        a->message = m;
    }
}

void cr_answer_clear(struct certrole_answer *a)
{
    free(a->user);
    for (size_t i = 0; i < a->n_roles; i++)
        free(a->roles[i]);
    free(a->roles);
    free(a->message);
    memset(a, 0, sizeof *a);
}
