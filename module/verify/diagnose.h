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
    X509_STORE_CTX *sctx;         /* the failed verification, to look certificates
                                     up in the trust profile and the peer's chain;
                                     may be NULL */
    int anchors_from_dir;         /* the profile reads a ca-dir: its CAs cannot
                                     all be listed */
};

/* Returns the code; *msg and *hint are malloc'd (NULL only on no memory). */
certrole_code cr_diagnose(const struct cr_diag_in *in, char **msg, char **hint);

/* The issuer of in->cert is missing (diagnose_issuer.c): what is known
 * about it, and a hint true for the case. Returns UNTRUSTED_ISSUER. */
certrole_code cr_diag_missing_issuer(const struct cr_diag_in *in, const char *what,
                                     const char *dn, const char *idn, char **msg,
                                     char **hint);
/* in->cert is a self-signed root the profile does not trust; says when
 * the profile trusts another key under that name. SELF_SIGNED_UNTRUSTED. */
certrole_code cr_diag_untrusted_root(const struct cr_diag_in *in, const char *dn,
                                     char **msg, char **hint);

/* Canonical DN of a name for messages (never fails: falls back to
 * OpenSSL's RFC 2253 printer). malloc'd; NULL only on no memory. */
char *cr_diag_dn(const X509_NAME *name);

/* "2024-01-31 12:00:00 UTC" into buf (>= 32 bytes); "?" if unparsable. */
void cr_diag_time(const ASN1_TIME *t, char *buf, size_t len);
/* ASN1_TIME as time_t; 0 on failure. */
time_t cr_asn1_time_to_time_t(const ASN1_TIME *t);
#endif
