/* 'certrole realm': shared between its files. */
#ifndef CR_CLI_REALM_H
#define CR_CLI_REALM_H
#include "cli.h"
#include "identity.h"
#include "realm_token.h"

struct ropts {
    const char *sub, *realm, *policy, *user, *roles, *entry, *cert;
    cr_rby by;
    int force, json;
};

int cr_realm_add(const struct ropts *o);     /* cli_realm.c */
int cr_realm_remove(const struct ropts *o);  /* cli_realm.c */
int cr_realm_list(const struct ropts *o);    /* cli_realm_show.c: list and show */

/* The certificate in o->cert as the realm sees it (no trust check):
 * fills id. 0, or an exit status with the reason reported. */
int cr_realm_cert_identity(const struct ropts *o, const char *cmd,
                           struct certrole_identity *id);

/* Comparison forms (cr_rtok_norm) of every token that names id, by
 * kind; entries NULL when id has no such field. Free with
 * cr_realm_cands_free. */
void cr_realm_cands(const struct certrole_identity *id, char *cand[CR_BY_COUNT]);
void cr_realm_cands_free(char *cand[CR_BY_COUNT]);
/* The kind by which an entry whose token normalises to norm matches a
 * certificate with these candidates, or -1. */
int cr_realm_match(const char *norm, char *const cand[CR_BY_COUNT]);
#endif
