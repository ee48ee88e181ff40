/* From OpenSSL's verification error to something a person can act on
 * (diagnose.h). Every message names the certificate concerned. */
#define _GNU_SOURCE
#include "diagnose.h"
#include "errors.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

char *cr_diag_dn(const X509_NAME *name)
{
    char *s = NULL;
    if (!name)
        return strdup("(no name)");
    if (certrole_dn_from_x509(name, &s) == CERTROLE_OK && s)
        return s;
    free(s);
    /* Not canonicalisable (e.g. NUL byte): still say something readable. */
    BIO *b = BIO_new(BIO_s_mem());
    char *out = NULL;
    if (b && X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        char *p;
        long n = BIO_get_mem_data(b, &p);
        if (n >= 0 && (out = malloc((size_t)n + 1))) {
            memcpy(out, p, (size_t)n);
            out[n] = '\0';
        }
    }
    BIO_free(b);
    return out ? out : strdup("(unprintable name)");
}

time_t cr_asn1_time_to_time_t(const ASN1_TIME *t)
{
    struct tm tm;
    if (!t || !ASN1_TIME_to_tm(t, &tm))
        return 0;
    time_t r = timegm(&tm);
    return r == (time_t)-1 ? 0 : r;
}

void cr_diag_time(const ASN1_TIME *t, char *buf, size_t len)
{
    struct tm tm;
    if (!t || !ASN1_TIME_to_tm(t, &tm) ||
        strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
        snprintf(buf, len, "?");
}

/* "client certificate" / "intermediate CA" / "root CA" for error depth. */
static const char *role_of(const struct cr_diag_in *in)
{
    int n = in->chain ? sk_X509_num(in->chain) : 0;
    if (in->depth == 0)
        return "client certificate";
    if (n > 0 && in->depth == n - 1 && in->cert &&
        (X509_get_extension_flags(in->cert) & EXFLAG_SS))
        return "root CA certificate";
    return "CA certificate";
}

/* The CRL (among ours) issued by the issuer of cert; the newest one. */
static X509_CRL *crl_for(const struct cr_diag_in *in, X509 *cert)
{
    X509_CRL *best = NULL;
    if (!in->crls || !cert)
        return NULL;
    const X509_NAME *iss = X509_get_issuer_name(cert);
    for (int i = 0; i < sk_X509_CRL_num(in->crls); i++) {
        X509_CRL *c = sk_X509_CRL_value(in->crls, i);
        if (X509_NAME_cmp(X509_CRL_get_issuer(c), iss) != 0)
            continue;
        if (!best || ASN1_TIME_compare(X509_CRL_get0_lastUpdate(c),
                                       X509_CRL_get0_lastUpdate(best)) > 0)
            best = c;
    }
    return best;
}

static const char *reason_name(long r)
{
    static const char *const names[] = {
        "unspecified", "keyCompromise", "cACompromise", "affiliationChanged",
        "superseded", "cessationOfOperation", "certificateHold", "(7)",
        "removeFromCRL", "privilegeWithdrawn", "aACompromise"
    };
    return (r >= 0 && r < (long)(sizeof names / sizeof names[0])) ? names[r] : "unknown";
}

/* Message builder: malloc'd or NULL on no memory. */
static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    char *s = NULL;
    va_list ap;
    va_start(ap, f);
    if (vasprintf(&s, f, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

static certrole_code revoked(const struct cr_diag_in *in, const char *what,
                             const char *dn, char **msg, char **hint)
{
    char date[40] = "", serial[80] = "?";
    const char *reason = NULL;
    X509_REVOKED *rev = NULL;
    for (int i = 0; in->crls && i < sk_X509_CRL_num(in->crls) && !rev; i++) {
        X509_CRL *c = sk_X509_CRL_value(in->crls, i);
        if (X509_CRL_get0_by_cert(c, &rev, in->cert) != 1)
            rev = NULL;
    }
    if (in->cert) {
        BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(in->cert), NULL);
        char *hex = bn ? BN_bn2hex(bn) : NULL;
        if (hex)
            snprintf(serial, sizeof serial, "%s", hex);
        OPENSSL_free(hex);
        BN_free(bn);
    }
    if (rev) {
        cr_diag_time(X509_REVOKED_get0_revocationDate(rev), date, sizeof date);
        int crit = 0;
        ASN1_ENUMERATED *e = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, &crit, NULL);
        if (e) {
            reason = reason_name(ASN1_ENUMERATED_get(e));
            ASN1_ENUMERATED_free(e);
        }
    }
    if (rev && reason)
        *msg = fmt("%s revoked on %s, reason %s (%s, serial %s)", what, date, reason, dn, serial);
    else if (rev)
        *msg = fmt("%s revoked on %s (%s, serial %s)", what, date, dn, serial);
    else
        *msg = fmt("%s revoked (%s, serial %s)", what, dn, serial);
    *hint = strdup(in->depth == 0
                   ? "the CA revoked this certificate; request a new certificate from it"
                   : "a CA in the chain was revoked; the CA must issue a new intermediate and reissue its certificates");
    return CERTROLE_E_REVOKED;
}

static certrole_code crl_problem(const struct cr_diag_in *in, const char *what,
                                 const char *dn, char **msg, char **hint)
{
    char *idn = in->cert ? cr_diag_dn(X509_get_issuer_name(in->cert)) : strdup("?");
    X509_CRL *crl = crl_for(in, in->cert);
    char t1[40], t2[40];
    const char *txt = X509_verify_cert_error_string(in->x509_error);
    switch (in->x509_error) {
    case X509_V_ERR_UNABLE_TO_GET_CRL:
        *msg = fmt("no CRL from issuer %s to check the %s (%s) for revocation",
                   idn ? idn : "?", what, dn);
        *hint = fmt("add the CRL of %s with crl-file= and reload, or lower crl-check",
                    idn ? idn : "the issuer");
        break;
    case X509_V_ERR_CRL_HAS_EXPIRED:
        cr_diag_time(crl ? X509_CRL_get0_nextUpdate(crl) : NULL, t1, sizeof t1);
        *msg = fmt("the CRL of %s expired (nextUpdate %s); cannot check the %s (%s)",
                   idn ? idn : "?", t1, what, dn);
        *hint = fmt("fetch a fresh CRL from %s, install it and reload",
                    idn ? idn : "the issuer");
        break;
    case X509_V_ERR_CRL_NOT_YET_VALID:
        cr_diag_time(crl ? X509_CRL_get0_lastUpdate(crl) : NULL, t2, sizeof t2);
        *msg = fmt("the CRL of %s is not valid before %s; cannot check the %s (%s)",
                   idn ? idn : "?", t2, what, dn);
        *hint = strdup("check this host's clock and the CRL's lastUpdate");
        break;
    default:
        *msg = fmt("the CRL of %s cannot be used: %s; cannot check the %s (%s)",
                   idn ? idn : "?", txt, what, dn);
        *hint = fmt("install the genuine, current CRL signed by %s and reload",
                    idn ? idn : "the issuer");
        break;
    }
    free(idn);
    return CERTROLE_E_CRL_UNAVAILABLE;
}

/* Purpose failure: say which extension is in the way. */
static certrole_code purpose(const struct cr_diag_in *in, const char *what,
                             const char *dn, char **msg, char **hint)
{
    const char *want = in->purpose == X509_PURPOSE_SSL_SERVER ? "serverAuth" : "clientAuth";
    const char *want_ku = in->purpose == X509_PURPOSE_SSL_SERVER
                          ? "extendedKeyUsage=serverAuth" : "extendedKeyUsage=clientAuth";
    uint32_t xku = in->cert ? X509_get_extended_key_usage(in->cert) : UINT32_MAX;
    uint32_t need = in->purpose == X509_PURPOSE_SSL_SERVER ? XKU_SSL_SERVER : XKU_SSL_CLIENT;
    if (in->depth == 0) {
        if (xku != UINT32_MAX && !(xku & need)) {
            *msg = fmt("certificate has no %s extended key usage%s (%s)", want,
                       (xku & (XKU_SSL_SERVER | XKU_SSL_CLIENT)) == XKU_SSL_SERVER
                       ? " (it is a serverAuth-only certificate)" : "", dn);
            *hint = fmt("issue it with %s", want_ku);
        } else if (in->cert && (X509_get_extension_flags(in->cert) & EXFLAG_KUSAGE)) {
            *msg = fmt("certificate's keyUsage does not allow TLS %s authentication (%s)",
                       in->purpose == X509_PURPOSE_SSL_SERVER ? "server" : "client", dn);
            *hint = fmt("issue it with keyUsage=digitalSignature and %s", want_ku);
        } else {
            *msg = fmt("certificate is not valid for TLS %s authentication (%s)",
                       in->purpose == X509_PURPOSE_SSL_SERVER ? "server" : "client", dn);
            *hint = fmt("issue it with %s", want_ku);
        }
    } else {
        *msg = fmt("%s %s may not issue %s certificates (its extendedKeyUsage or "
                   "Netscape cert type excludes %s)", what, dn, want, want);
        *hint = fmt("issue the CA without an extendedKeyUsage restriction, or include %s in it",
                    want);
    }
    return CERTROLE_E_WRONG_PURPOSE;
}

/* The validity period: expired, not yet valid, or unreadable dates. */
static certrole_code validity(const struct cr_diag_in *in, const char *what, const char *DN,
                              const char *txt, char **msg, char **hint)
{
    char t[40];
    certrole_code code;
    switch (in->x509_error) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
        code = CERTROLE_E_EXPIRED;
        cr_diag_time(in->cert ? X509_get0_notAfter(in->cert) : NULL, t, sizeof t);
        *msg = fmt("%s expired on %s (%s)", what, t, DN);
        *hint = in->depth == 0
                ? fmt("renew the client certificate; it was valid until %s", t)
                : fmt("the CA %s expired on %s: renew the CA and reissue the chain", DN, t);
        break;
    case X509_V_ERR_CERT_NOT_YET_VALID:
        code = CERTROLE_E_NOT_YET_VALID;
        cr_diag_time(in->cert ? X509_get0_notBefore(in->cert) : NULL, t, sizeof t);
        *msg = fmt("%s is not valid before %s (%s)", what, t, DN);
        *hint = fmt("check the clock of this host and of the issuing CA, or wait until %s", t);
        break;
    default:    /* X509_V_ERR_ERROR_IN_CERT_NOT_{BEFORE,AFTER}_FIELD */
        code = CERTROLE_E_CHAIN_INVALID;
        *msg = fmt("%s has a malformed validity date: %s (%s)", what, txt, DN);
        *hint = strdup("reissue the certificate with well-formed UTCTime/GeneralizedTime dates");
        break;
    }
    return code;
}

/* How the chain is built: its length, signatures, CA flags; and every
 * other path-validation rule, named by OpenSSL's own text. */
static certrole_code structure(const struct cr_diag_in *in, const char *what, const char *DN,
                               const char *IDN, const char *txt, char **msg, char **hint)
{
    certrole_code code;
    switch (in->x509_error) {
    case X509_V_ERR_CERT_CHAIN_TOO_LONG:
        code = CERTROLE_E_CHAIN_TOO_LONG;
        if (in->max_depth >= 0)
            *msg = fmt("certificate chain is longer than depth=%d allows "
                       "(at most %d intermediate%s; exceeded at %s)", in->max_depth,
                       in->max_depth, in->max_depth == 1 ? "" : "s", DN);
        else
            *msg = fmt("certificate chain is longer than the depth limit (exceeded at %s)", DN);
        *hint = strdup("raise depth= in the trust line, or have the peer use a shorter chain");
        break;
    case X509_V_ERR_PATH_LENGTH_EXCEEDED:
        code = CERTROLE_E_CHAIN_TOO_LONG;
        *msg = fmt("basicConstraints path length of a CA is exceeded at %s (%s)", what, DN);
        *hint = strdup("reissue the CA with a larger pathlen, or issue the certificate "
                       "from a CA higher in the hierarchy");
        break;
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
    case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
    case X509_V_ERR_SIGNATURE_ALGORITHM_MISMATCH:
        code = CERTROLE_E_BAD_SIGNATURE;
        *msg = fmt("signature of the %s does not verify with the key of its issuer %s: "
                   "%s (%s)", what, IDN, txt, DN);
        *hint = fmt("the certificate was altered or was not issued by %s; obtain an intact "
                    "copy from the CA", IDN);
        break;
    case X509_V_ERR_INVALID_CA:
    case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
    case X509_V_ERR_INVALID_NON_CA:
        code = CERTROLE_E_INVALID_CA;
        *msg = fmt("%s is used as an issuer but is not a CA: %s (%s)",
                   in->depth == 0 ? "a certificate" : "the intermediate", txt, DN);
        *hint = fmt("reissue %s with basicConstraints=critical,CA:TRUE and "
                    "keyUsage=keyCertSign,cRLSign", DN);
        break;
    default:
        code = CERTROLE_E_CHAIN_INVALID;
        *msg = fmt("%s: %s (OpenSSL error %d at depth %d, %s)", what, txt,
                   in->x509_error, in->depth, DN);
        *hint = fmt("the chain violates an X.509 path-validation rule (%s); "
                    "reissue the certificate within the CA's rules", txt);
        break;
    }
    return code;
}

certrole_code cr_diagnose(const struct cr_diag_in *in, char **msg, char **hint)
{
    *msg = *hint = NULL;
    if (!in)
        return CERTROLE_E_INTERNAL;
    const char *what = role_of(in);
    char *dn = in->cert ? cr_diag_dn(X509_get_subject_name(in->cert)) : strdup("unknown certificate");
    char *idn = in->cert ? cr_diag_dn(X509_get_issuer_name(in->cert)) : NULL;
    const char *DN = dn ? dn : "?", *IDN = idn ? idn : "?";
    const char *txt = X509_verify_cert_error_string(in->x509_error);
    certrole_code code;

    switch (in->x509_error) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        code = cr_diag_missing_issuer(in, what, DN, IDN, msg, hint);
        break;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        code = CERTROLE_E_SELF_SIGNED_UNTRUSTED;
        *msg = fmt("the client certificate is self-signed and not trusted (%s)", DN);
        *hint = strdup("use a certificate issued by a trusted CA, or add this exact "
                       "certificate to ca-file if you mean to trust it");
        break;
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        code = cr_diag_untrusted_root(in, DN, msg, hint);
        break;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
    case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD:
    case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD:
        code = validity(in, what, DN, txt, msg, hint);
        break;
    case X509_V_ERR_CERT_REVOKED:
        code = revoked(in, what, DN, msg, hint);
        break;
    case X509_V_ERR_UNABLE_TO_GET_CRL:
    case X509_V_ERR_CRL_HAS_EXPIRED:
    case X509_V_ERR_CRL_NOT_YET_VALID:
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
    case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
    case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
    case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
    case X509_V_ERR_DIFFERENT_CRL_SCOPE:
    case X509_V_ERR_CRL_PATH_VALIDATION_ERROR:
    case X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION:
        code = crl_problem(in, what, DN, msg, hint);
        break;
    case X509_V_ERR_INVALID_PURPOSE:
        code = purpose(in, what, DN, msg, hint);
        break;
    default:
        code = structure(in, what, DN, IDN, txt, msg, hint);
        break;
    }
    free(dn);
    free(idn);
    return code;
}
