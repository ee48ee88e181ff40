/* The realm file's identity kinds beside DNs and fingerprints: each value
 * becomes one table key, "<kind>:<normalised value>", and a certificate's
 * values go through the same function at lookup, so an entry matches
 * exactly the certificates whose value normalises to the same key. A
 * value that does not normalise is a load error in the file and matches
 * nothing in a certificate. The rules (also in certrole-policy(5)):
 *
 *   email:   LOCAL@DOMAIN, split at the last '@'. LOCAL is compared byte
 *            for byte and must be printable ASCII (an rfc822Name is
 *            IA5). DOMAIN is a host name as for dns:.
 *   dns:     a host name: ASCII letters lower-cased; a name with non-ASCII
 *            characters or an "xn--" label goes through IDNA2008
 *            (libidn2, non-transitional UTS #46 processing) to its
 *            A-label form; the result must be labels of a-z 0-9 '-' (1-63
 *            bytes, no '-' at either end), at most 253 bytes, with no
 *            trailing dot. No wildcards: a wildcard entry is refused and
 *            a wildcard SAN ("*.example") matches no dns: entry.
 *   upn:     LOCAL@SUFFIX, split at the last '@'. LOCAL is compared byte
 *            for byte; it must be valid UTF-8 in Unicode NFC (a UPN that
 *            could be spelt two ways is refused). SUFFIX must be ASCII
 *            and is lower-cased (directories compare it without case).
 *   uri:     ASCII only; the scheme and the host (of an "//authority")
 *            are lower-cased, everything else (user info, port, path,
 *            query, fragment, percent-escapes) is compared byte for
 *            byte.
 *   spiffe:  a SPIFFE ID by the X.509-SVID rules (matched against the
 *            certificate's validated SPIFFE ID only), or a prefix: an
 *            ID followed by "/" and "*" (spiffe://td/path/ then a star,
 *            or spiffe://td/ then a star for the whole trust domain),
 *            matching the IDs strictly below that path at a '/'
 *            boundary.
 *
 * Thread-safe; no state. */
#ifndef CR_FILE_NORM_H
#define CR_FILE_NORM_H
#include <stddef.h>

typedef enum cr_fkind {
    CR_FK_EMAIL = 0,
    CR_FK_UPN,
    CR_FK_DNS,
    CR_FK_URI,
    CR_FK_SPIFFE,           /* exact SPIFFE ID */
    CR_FK_SPIFFE_PREFIX,    /* ID, '/', '*'; the key keeps the '/' */
    CR_FK_ISSUER_SERIAL,    /* only a bit in cr_table_kinds (cr_fnorm_issuer_serial) */
    CR_FK_DN,               /* only a bit: the table has DN entries */
    CR_FK_SHA256            /* only a bit: the table has sha256: pins */
} cr_fkind;

/* Longest key (bytes, without the NUL). */
#define CR_FKEY_MAX 8192

/* Writes the key of value v[0..len) of that kind to out (CR_FKEY_MAX + 1
 * bytes). Returns its length, or -1 with *why (static text). */
long cr_fnorm_key(cr_fkind kind, const char *v, size_t len, char *out, const char **why);
/* The same for a value taken from a certificate: e-mail domains and DNS
 * names must be ASCII already in their compared form (up to ASCII case),
 * since mapping a certificate's bytes could make two names one. */
long cr_fnorm_cert_key(cr_fkind kind, const char *v, size_t len, char *out, const char **why);

/* The table key prefix of each kind ("email:", ...). */
const char *cr_fkind_prefix(cr_fkind kind);

/* Serial number text as a number: hex digits, either plain or as
 * colon-separated pairs; written to out (65 bytes) lower-case without
 * leading zeros ("0" for zero). Returns 0, or -1 with *why and *bad (the
 * offending offset). Also used on the certificate's upper-hex serial. */
int cr_fnorm_serial(const char *s, size_t len, char out[65], const char **why, size_t *bad);

/* "issuer-serial:SERIAL:ISSUERKEY" into out (CR_FKEY_MAX + 1 bytes);
 * length or -1 when too long. */
long cr_fnorm_issuer_serial(const char *serial, const char *issuer_key, char *out);
#endif
