/* Turns OpenSSL's path-validation failure (X509_V_ERR_*, the error depth
 * and the offending certificate) into a certrole_code, a precise message
 * and one actionable hint. */
#ifndef CR_DIAGNOSE_H
#define CR_DIAGNOSE_H
#include <openssl/x509.h>
#include "certrole.h"

struct cr_diag_in {
    int x509_error;               /* X509_V_ERR_* */
    int depth;                    /* error depth (0 = leaf) */
    X509 *cert;                   /* certificate at that depth, may be NULL */
    STACK_OF(X509) *chain;        /* chain as built so far, may be NULL */
    STACK_OF(X509_CRL) *crls;     /* CRLs of the trust profile, may be NULL */
    int max_depth;                /* configured depth limit, -1 default */
    int purpose;                  /* X509_PURPOSE_* or 0 */
};

/* Returns the code; *msg and *hint are malloc'd (NULL only on no memory). */
certrole_code cr_diagnose(const struct cr_diag_in *in, char **msg, char **hint);

/* Canonical DN of a name for messages (never fails: falls back to
 * OpenSSL's RFC 2253 printer). malloc'd; NULL only on no memory. */
char *cr_diag_dn(const X509_NAME *name);

/* "2024-01-31 12:00:00 UTC" into buf (>= 32 bytes); "?" if unparsable. */
void cr_diag_time(const ASN1_TIME *t, char *buf, size_t len);
/* ASN1_TIME as time_t; 0 on failure. */
time_t cr_asn1_time_to_time_t(const ASN1_TIME *t);
#endif
