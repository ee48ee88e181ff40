/* Distinguished names inside the core: dn.c (parse, render, public API),
 * dn_types.c (attribute types), dn_syntax.c (input spellings),
 * dn_value.c (value escaping and normalisation).
 *
 * The public functions (certrole_dn_* in certrole.h) are the interface
 * for everyone else; this header adds one-pass variants for the hot path
 * (canonical string and key together) and the helpers the files share.
 *
 * Rules, in one place:
 *  - Input strings: RFC 4514 / RFC 2253 first, then LDAPv2 / RFC 1779
 *    ("CN=a, O=b", quoted values, ';', "OID.2.5.4.3="), then OpenSSL's
 *    slash form "/C=US/O=Acme/CN=a" (most significant first, '+' between
 *    the AVAs of one RDN, "\x" escapes x; a '/' or '+' not followed by
 *    "type=" is part of the value). Parsing uses libldap (ldap_bv2dn);
 *    what it is too lenient about is refused first: attribute options
 *    ("uid;x=..."), a backslash not followed by a special character or
 *    two hex digits, text after a "#hex" value, a trailing separator.
 *    The empty string is the empty DN (canonical "", key ""); a string of
 *    spaces only is an error.
 *  - Attribute types: OpenSSL short or long names (case-insensitive for
 *    the usual ones: CN OU O L ST/S C DC UID E/emailAddress serialNumber SN
 *    GN title street postalCode ...) or dotted OIDs (also "OID.2.5.4.3").
 *    Unknown names are an error. Types compare by OID.
 *  - Values: "#hex" is BER, decoded with OpenSSL; string types become
 *    their UTF-8 text, other types and T61String stay "#HEX" (upper
 *    case, DER). A NUL byte, invalid UTF-8, undecodable BER, or a
 *    default-ignorable or format (Cf) character (zero-width space, soft
 *    hyphen, joiners, bidi controls, variation selectors...) is
 *    CERTROLE_E_BAD_NAME: such characters only make names look alike.
 *  - Canonical string: RDNs most specific first (OpenSSL's RFC 2253
 *    order), OpenSSL short names (dotted OID when OpenSSL has none),
 *    values escaped per RFC 4514 (controls as \XX, UTF-8 kept), the AVAs
 *    of a multi-valued RDN sorted so every spelling gives one string.
 *  - Matching key: same RDN order, type as dotted OID, value with RFC 4518
 *    space handling (ends trimmed, inner runs of white space -> one space)
 *    and Unicode full case folding from libunistring (U+0130 'İ' -> "i"
 *    U+0307, so it never equals 'i'; no Turkic rule), except that no
 *    non-ASCII character folds to ASCII only (ß, ẞ -> ß; Kelvin sign,
 *    long s, ligatures stay): see put_folded in dn_value.c. No
 *    normalisation (no NFKC, no NFC). Escaped as in the canonical form,
 *    AVAs of an RDN sorted. Control characters other than white space
 *    stay significant.
 *  - Certificate names (X509_NAME), per RFC 5280 §7.1: Printable, UTF8,
 *    BMP, Universal, IA5, Visible and Numeric strings are folded as above;
 *    a T61String is compared as exact bytes: it is written "#14..." (its
 *    DER in hex) in both the canonical string and the key, so it never
 *    matches another string type or a case/space variant. This keeps the
 *    rule "key of the canonical string == key of the name" without
 *    exception, at the price of an unreadable T61 value (OpenSSL could
 *    only guess its text as Latin-1 anyway).
 *  - Certificate names with an empty RDN (OpenSSL decodes them) are
 *    CERTROLE_E_BAD_NAME.
 *
 * All functions are thread-safe (the only static state is dn_value.c's
 * folding table, filled once under pthread_once and read-only after).
 */
#ifndef CR_DN_H
#define CR_DN_H
#include <stddef.h>
#include <openssl/x509.h>
#include "certrole.h"
#include "strbuf.h"

/* Canonical string and matching key of an X509_NAME in one pass (either
 * out pointer may be NULL). On failure returns CERTROLE_E_BAD_NAME (or
 * NO_MEMORY), *canon and *key are NULL and, if errmsg is not NULL, *errmsg is
 * a malloc'd reason. Free results with free(). */
certrole_code cr_dn_x509(const X509_NAME *name, char **canon, char **key,
                         char **errmsg);

/* Same for a DN string (any spelling listed above). */
certrole_code cr_dn_string(const char *dn, char **canon, char **key,
                           char **errmsg);

/* ---- attribute types (dn_types.c) ---- */

/* Resolves a type name ("cn", "emailAddress", "2.5.4.3", "OID.2.5.4.3").
 * Returns 0 with *obj set (*owned is the same object when the caller must
 * ASN1_OBJECT_free it, else NULL), -1 unknown name, -2 bad OID, -3 empty
 * or too long. */
int cr_dn_type_resolve(const char *t, size_t tlen, const ASN1_OBJECT **obj,
                       ASN1_OBJECT **owned);
/* 1 when values of this type compare case-exactly. */
int cr_dn_type_exact(const ASN1_OBJECT *obj);
/* Appends the type: dotted OID when key, else OpenSSL's short name (dotted
 * OID when it has none usable in RFC 4514). */
void cr_dn_put_type(cr_strbuf *b, const ASN1_OBJECT *obj, int key);
/* The type's name for messages (short name, or dotted OID in buf). */
const char *cr_dn_type_name(const ASN1_OBJECT *obj, char *buf, size_t n);

/* ---- input spellings (dn_syntax.c) ---- */

/* OpenSSL's "/C=US/O=Acme/CN=a+UID=b" as RFC 4514 "CN=a+UID=b,O=Acme,C=US"
 * appended to out. 0 or -1 when s is not in that form. */
int cr_dn_slash_to_rfc4514(const char *s, size_t n, cr_strbuf *out);
/* Checks a string for what libldap would wrongly accept (attribute
 * options, invalid escapes, text after a #hex value, a trailing
 * separator) and rewrites what it would wrongly refuse (enclosing "<>",
 * "OID." prefixes). Returns 0 (parse s as is), 1 (parse *out) or -1 with
 * *why set to a static reason. */
int cr_dn_prepare(const char *s, size_t n, cr_strbuf *out, const char **why);

/* ---- value helpers (dn_value.c) ---- */

/* 0 when v[0..n) is valid UTF-8 without NUL, -1 invalid UTF-8, -2 NUL,
 * -3 a default-ignorable or format (Cf) character, stored in *cp. */
int cr_dn_check_utf8(const char *v, size_t n, unsigned long *cp);
/* Reason for a cr_dn_check_utf8 failure, naming the character for -3
 * ("character U+200B ZERO WIDTH SPACE ..."): a static string
 * or buf (256 bytes are enough). */
const char *cr_dn_text_problem(int bad, unsigned long cp, char *buf, size_t n);
/* Appends v escaped per RFC 4514. */
void cr_dn_escape(cr_strbuf *b, const char *v, size_t n);
/* Appends "#" and the bytes in upper-case hex. */
void cr_dn_hex(cr_strbuf *b, const unsigned char *der, size_t n);
/* Appends the matching form of UTF-8 text v (see above); casefold=0 for
 * case-exact attributes. Returns 0, -1 on invalid UTF-8, -2 on NUL, -3 on
 * a refused character, -4 out of memory. */
int cr_dn_normalize(cr_strbuf *b, const char *v, size_t n, int casefold);
#endif
