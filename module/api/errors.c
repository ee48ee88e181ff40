/* Names, descriptions and default hints of certrole_code (errors.h). */
#include "errors.h"
#include <stdlib.h>
#include <string.h>

#define STR_(x) #x
#define STR(x) STR_(x)

struct code_text {
    const char *name;     /* stable JSON name */
    const char *text;     /* certrole_strerror */
    const char *hint;     /* generic hint; diagnose.c gives specific ones */
};

/* Indexed by code number; the numbers are part of the ABI. */
static const struct code_text codes[CERTROLE_CODE_COUNT] = {
    [CERTROLE_OK] = { "ok", "success", "" },
    [CERTROLE_E_NO_CERTIFICATE] = { "no_certificate",
        "the peer sent no certificate",
        "configure the client to send its certificate (and the server to request one, e.g. ssl_verify_client)" },
    [CERTROLE_E_BAD_ENCODING] = { "bad_encoding",
        "certificate data is damaged or in an unknown format",
        "send the certificate as PEM, DER, PKCS#7 or PKCS#12; check that the file was not truncated or altered" },
    [CERTROLE_E_BAD_PASSWORD] = { "bad_password",
        "wrong PKCS#12 password",
        "give the password the PKCS#12 file was exported with" },
    [CERTROLE_E_UNTRUSTED_ISSUER] = { "untrusted_issuer",
        "certificate issuer not found or not trusted",
        "the peer must send its intermediate certificates, or the issuing CA must be added to ca-file" },
    [CERTROLE_E_SELF_SIGNED_UNTRUSTED] = { "self_signed_untrusted",
        "self-signed certificate is not trusted",
        "use a certificate issued by a trusted CA, or add this certificate to ca-file if you trust it" },
    [CERTROLE_E_EXPIRED] = { "expired",
        "certificate has expired",
        "renew the certificate (or the expired CA) and install the new one" },
    [CERTROLE_E_NOT_YET_VALID] = { "not_yet_valid",
        "certificate is not yet valid",
        "check the clock of this host and of the issuing CA, or wait until the certificate's notBefore" },
    [CERTROLE_E_REVOKED] = { "revoked",
        "certificate has been revoked",
        "the CA revoked this certificate; request a new one" },
    [CERTROLE_E_CRL_UNAVAILABLE] = { "crl_unavailable",
        "revocation list missing, expired or unusable",
        "install a current CRL from the issuing CA (crl-file=) and reload, or lower crl-check" },
    [CERTROLE_E_WRONG_PURPOSE] = { "wrong_purpose",
        "certificate is not valid for TLS client authentication",
        "issue the client certificate with extendedKeyUsage=clientAuth" },
    [CERTROLE_E_CHAIN_TOO_LONG] = { "chain_too_long",
        "certificate chain is too long",
        "raise depth= in the trust line, or use a shorter chain" },
    [CERTROLE_E_BAD_SIGNATURE] = { "bad_signature",
        "certificate signature does not verify",
        "the certificate was altered or was not issued by the CA it names; obtain an intact copy" },
    [CERTROLE_E_INVALID_CA] = { "invalid_ca",
        "an issuing certificate is not a CA",
        "issue intermediates with basicConstraints=critical,CA:TRUE and keyUsage=keyCertSign" },
    [CERTROLE_E_UNKNOWN_IDENTITY] = { "unknown_identity",
        "no realm knows this identity",
        "give this certificate an entry in one of the policy's realms (by subject DN, fingerprint, SAN, SPIFFE ID or a match rule: see the realm's manual page)" },
    [CERTROLE_E_REALM_UNAVAILABLE] = { "realm_unavailable",
        "a realm backend is unavailable",
        "check that the realm's backend (LDAP server, realm file) is reachable and readable" },
    [CERTROLE_E_FORBIDDEN] = { "forbidden",
        "the peer lacks the role this resource requires",
        "grant the required role to this identity in a realm, or change the policy's require rule" },
    [CERTROLE_E_POLICY_ERROR] = { "policy_error",
        "the policy cannot be loaded",
        "fix the policy line named in the message" },
    [CERTROLE_E_BAD_NAME] = { "bad_name",
        "certificate name is malformed or ambiguous",
        "reissue the certificate with one CN and no NUL bytes or undecodable strings in its names" },
    [CERTROLE_E_CHAIN_INVALID] = { "chain_invalid",
        "certificate chain is not valid",
        "the chain violates a path-validation rule (name constraints, policy, critical extension); reissue it within the CA's rules" },
    [CERTROLE_E_INVALID_ARGUMENT] = { "invalid_argument",
        "invalid argument",
        "the calling program passed a NULL or out-of-range argument" },
    [CERTROLE_E_NO_MEMORY] = { "no_memory",
        "out of memory",
        "the process ran out of memory; check its limits" },
    [CERTROLE_E_IO] = { "io_error",
        "a file could not be read",
        "check that the file exists and is readable by this process" },
    [CERTROLE_E_INTERNAL] = { "internal_error",
        "internal error",
        "report this as a bug with the certificate chain that triggered it" },
    [CERTROLE_E_REALM_REFUSED] = { "realm_refused",
        "a realm refused this identity",
        "the realm knows this identity but refuses it (disabled or ambiguous entry); fix the realm entry" },
    [CERTROLE_E_CHAIN_ORDER] = { "chain_order",
        "the certificates given hold no single leaf",
        "the file holds more than one end-entity certificate (or certificates that issue each other): put exactly one client certificate, followed by its intermediates" },
    [CERTROLE_E_OCSP_UNAVAILABLE] = { "ocsp_unavailable",
        "no usable OCSP answer for the certificate",
        "check that the OCSP responder named in the message is reachable and answers for this CA with a current, properly signed response, or set ocsp-failure= in the trust line" },
};

static const struct code_text *lookup(certrole_code code)
{
    if ((int)code < 0 || (int)code >= CERTROLE_CODE_COUNT || !codes[code].name)
        return NULL;
    return &codes[code];
}

const char *certrole_version(void)
{
    return STR(CERTROLE_VERSION_MAJOR) "." STR(CERTROLE_VERSION_MINOR) "."
           STR(CERTROLE_VERSION_PATCH);
}

const char *certrole_strerror(certrole_code code)
{
    const struct code_text *c = lookup(code);
    return c ? c->text : "unknown error";
}

const char *certrole_code_name(certrole_code code)
{
    const struct code_text *c = lookup(code);
    return c ? c->name : "unknown";
}

int certrole_code_from_name(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < CERTROLE_CODE_COUNT; i++)
        if (codes[i].name && strcmp(codes[i].name, name) == 0)
            return i;
    return -1;
}

void certrole_free(void *p)
{
    free(p);
}

const char *cr_default_hint(certrole_code code)
{
    const struct code_text *c = lookup(code);
    return c ? c->hint : "report this as a bug";
}
