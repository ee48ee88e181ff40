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

/* Comparison forms (cr_rtok_norm) of every token that names id: its
 * pin, subject DN, issuer and serial, SPIFFE ID, and each of its e-mail,
 * UPN, DNS and URI subjectAltNames (the realm looks every one of them
 * up, not only the first). */
struct cr_cand { cr_rby by; char *norm; };
struct cr_cands { struct cr_cand *v; size_t n; };
int cr_realm_cands(const struct certrole_identity *id, struct cr_cands *c); /* -1: no memory */
void cr_realm_cands_free(struct cr_cands *c);
/* The kind by which an entry whose token normalises to norm matches a
 * certificate with these candidates, or -1. */
int cr_realm_match(const char *norm, const struct cr_cands *c);
#endif
