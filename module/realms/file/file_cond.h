/* Conditions on a realm file entry: eku=OID[,OID...], ku=NAME[,NAME...]
 * and leaf-policy=OID[,OID...]. The certificate must carry every listed
 * extended key usage OID (anyExtendedKeyUsage stands for none of them),
 * every listed key usage bit (a certificate without a keyUsage extension
 * carries none), and every listed certificate policy OID (anyPolicy
 * stands for none of them). An entry whose conditions do not hold does
 * not match. Thread-safe; no state. */
#ifndef CR_FILE_COND_H
#define CR_FILE_COND_H
#include <stddef.h>
#include <stdint.h>

typedef enum cr_fcond_kind { CR_FCOND_EKU = 0, CR_FCOND_KU = 1, CR_FCOND_POLICY = 2 } cr_fcond_kind;

/* Checks a comma-separated list written after eku=, ku= or leaf-policy=.
 * Returns 0, or -1 with *why (static text) and *bad (offset of the bad
 * item in s). */
int cr_fcond_check(cr_fcond_kind kind, const char *s, size_t len, const char **why, size_t *bad);

/* The stored form of an entry's conditions (lists already checked; NULL
 * when absent) into out: "K<hex mask>" then " E<oid>" and " P<oid>"
 * items. Returns its length (0: no condition), or -1 when too long. */
long cr_fcond_build(const char *const list[3], const size_t len[3], char *out, size_t outlen);

/* 1 when the DER certificate satisfies the stored conditions cond, 0 when
 * not (or it cannot be decoded). */
int cr_fcond_holds(const char *cond, const unsigned char *der, size_t derlen);
#endif
