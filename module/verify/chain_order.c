/* Which certificate of a file is the peer's (chain_order.h). A file may
 * list its certificates in any order; the leaf is the one certificate
 * that issued none of the others. "Issued" is decided by the issuer name,
 * the key identifiers and the signature together, so a certificate that
 * merely carries another one's name is not taken for its issuer. */
#define _GNU_SOURCE
#include "chain_order.h"
#include "diagnose.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

/* Signature checks one input may cost. A sound chain needs about one per
 * certificate (32 at most); only a file built to make every certificate
 * name every other as its issuer needs more, and is refused rather than
 * costing n^2 verifications with keys of the sender's choosing. */
#define MAX_SIG_CHECKS 128

/* Did a sign b? Name, key identifiers (b's AKI against a's SKI; a missing
 * one is no mismatch) and, only when both agree, the signature itself:
 * identifiers can be copied, a signature cannot. 1 yes, 0 no, -1 when
 * *budget is spent. */
static int signed_by(X509 *a, X509 *b, int *budget)
{
    if (X509_NAME_cmp(X509_get_subject_name(a), X509_get_issuer_name(b)) != 0)
        return 0;
    const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(b);
    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(a);
    if (aki && ski && ASN1_OCTET_STRING_cmp(aki, ski) != 0)
        return 0;
    if (--*budget < 0)
        return -1;
    EVP_PKEY *k = X509_get0_pubkey(a);
    int ok = k && X509_verify(b, k) == 1;
    ERR_clear_error();
    return ok;
}

/* Same certificate as an earlier one of the list (a repeated block)? */
static int repeated(STACK_OF(X509) *s, int i)
{
    for (int j = 0; j < i; j++)
        if (X509_cmp(sk_X509_value(s, i), sk_X509_value(s, j)) == 0)
            return 1;
    return 0;
}

/* 1 if certificate i signed another one of s, 0 if not, -1: budget spent. */
static int issues_another(STACK_OF(X509) *s, int i, int *budget)
{
    X509 *ci = sk_X509_value(s, i);
    for (int j = 0; j < sk_X509_num(s); j++) {
        X509 *cj = sk_X509_value(s, j);
        int r = j != i && X509_cmp(ci, cj) != 0 ? signed_by(ci, cj, budget) : 0;
        if (r != 0)
            return r;
    }
    return 0;
}

/* "certificates 1 (CN=a) and 3 (CN=b)" for the refusal message; with
 * 'more', "certificates 1 (..), 2 (..), 3 (..), 4 (..) and more". */
static char *list_leaves(STACK_OF(X509) *s, const int *idx, int n, int more)
{
    char *out = strdup("certificates ");
    for (int k = 0; k < n && out; k++) {
        char *dn = cr_diag_dn(X509_get_subject_name(sk_X509_value(s, idx[k])));
        char *next = NULL;
        if (asprintf(&next, "%s%s%d (%s)%s", out,
                     k == 0 ? "" : k == n - 1 && !more ? " and " : ", ", idx[k] + 1,
                     dn ? dn : "?", more && k == n - 1 ? " and more" : "") < 0)
            next = NULL;
        free(dn);
        free(out);
        out = next;
    }
    return out;
}

static certrole_code refuse(STACK_OF(X509) *s, const int *idx, int count, const char *what,
                            char **msg, char **hint)
{
    char *which = NULL;
    int r;
    if (count < 0) {
        r = asprintf(msg, "the certificates in %s name one another as issuers more than "
                     "%d times; refused without sorting them out", what, MAX_SIG_CHECKS);
        *hint = strdup("put exactly one client certificate, followed by its intermediates "
                       "(each issued by the next)");
    } else if (count == 0) {
        r = asprintf(msg, "every certificate in %s issued another one in it (a cycle); "
                     "cannot tell which is the peer's", what);
        *hint = strdup("the file holds no end-entity certificate: put exactly one client "
                       "certificate, followed by its intermediates");
    } else {
        which = list_leaves(s, idx, count < 4 ? count : 4, count > 4);
        r = asprintf(msg, "%s holds %d certificates that issued none of the others, %s; "
                     "cannot tell which is the peer's", what, count, which ? which : "");
        *hint = strdup("the file holds more than one end-entity certificate (or a CA "
                       "certificate unrelated to the others): put exactly one client "
                       "certificate, followed by its intermediates");
    }
    if (r < 0)
        *msg = NULL;
    free(which);
    if (!*msg || !*hint) {
        free(*msg);
        free(*hint);
        *msg = *hint = NULL;
        return CERTROLE_E_NO_MEMORY;
    }
    return CERTROLE_E_CHAIN_ORDER;
}

certrole_code cr_chain_find_leaf(STACK_OF(X509) *certs, const char *what, int *pos,
                                 char **msg, char **hint)
{
    int n = sk_X509_num(certs), count = 0, idx[4] = { -1, -1, -1, -1 };
    int budget = MAX_SIG_CHECKS;
    *pos = 0;
    *msg = *hint = NULL;
    if (n <= 0)
        return CERTROLE_E_NO_CERTIFICATE;
    for (int i = 0; i < n && count >= 0; i++) {
        int r = repeated(certs, i) ? 1 : issues_another(certs, i, &budget);
        if (r < 0)
            count = -1;
        else if (r == 0) {
            if (count < 4)
                idx[count] = i;
            count++;
        }
    }
    if (count != 1)
        return refuse(certs, idx, count, what, msg, hint);
    *pos = idx[0] + 1;
    if (idx[0] > 0) {
        X509 *x = sk_X509_delete(certs, idx[0]);
        sk_X509_unshift(certs, x); /* cannot fail: the capacity exists */
    }
    return CERTROLE_OK;
}
