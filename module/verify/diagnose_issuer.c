/* An issuer that is missing, or a root that is not trusted: say what is
 * known and nothing more (diagnose.h). What can be known: the missing
 * issuer's name; whether the trust profile or the peer holds a certificate
 * of that name (and whether its key is the one that signed); the
 * certificate's own authority key identifier, which sometimes names the
 * issuer's issuer; and which CAs the trust profile does hold. Whether an
 * issuer nobody holds is a root or an intermediate is not known, so the
 * hint then covers both rather than guessing. */
#define _GNU_SOURCE
#include "diagnose.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

/* Anchors listed by name up to this many; past it, only counted. */
#define LIST_MAX 5

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

/* "ab:cd:..." of a key identifier; "" when absent. */
static void keyid_hex(const ASN1_OCTET_STRING *id, char *buf, size_t n)
{
    buf[0] = '\0';
    if (!id)
        return;
    size_t off = 0;
    for (int i = 0; i < ASN1_STRING_length(id) && off + 4 < n; i++)
        off += (size_t)snprintf(buf + off, n - off, "%s%02X", i ? ":" : "",
                                ASN1_STRING_get0_data(id)[i]);
}

/* A certificate named like the missing issuer. */
struct namesake {
    X509 *cert;        /* borrowed from the lists below; NULL: none */
    int trusted;       /* from the trust profile (else sent by the peer) */
    int key_matches;   /* its key verifies the signature of the subject */
};

/* The first certificate of s named nm, preferring one whose key signed
 * subject. */
static X509 *pick(STACK_OF(X509) *s, const X509_NAME *nm, X509 *subject, int *key_matches)
{
    X509 *first = NULL;
    for (int i = 0; i < sk_X509_num(s); i++) {
        X509 *c = sk_X509_value(s, i);
        if (X509_NAME_cmp(X509_get_subject_name(c), nm) != 0 || X509_cmp(c, subject) == 0)
            continue;
        EVP_PKEY *k = X509_get0_pubkey(c);
        if (k && X509_verify(subject, k) == 1) {
            *key_matches = 1;
            return c;
        }
        if (!first)
            first = c;
    }
    *key_matches = 0;
    return first;
}

/* A certificate of the trust profile (preferred) or of the peer's chain
 * named nm; *trusted_out receives the looked-up trusted certificates
 * (caller frees), which ns->cert may point into. */
static void find_namesake(const struct cr_diag_in *in, const X509_NAME *nm, X509 *subject,
                          struct namesake *ns, STACK_OF(X509) **trusted_out)
{
    memset(ns, 0, sizeof *ns);
    *trusted_out = in->sctx ? X509_STORE_CTX_get1_certs(in->sctx, (X509_NAME *)nm) : NULL;
    if ((ns->cert = pick(*trusted_out, nm, subject, &ns->key_matches))) {
        ns->trusted = 1;
    } else if (in->sctx) {
        ns->cert = pick(X509_STORE_CTX_get0_untrusted(in->sctx), nm, subject,
                        &ns->key_matches);
    }
    ERR_clear_error();
}

/* Is x itself one of the trust profile's certificates? */
static int is_anchor(const struct cr_diag_in *in, X509 *x)
{
    STACK_OF(X509) *s = in->sctx
        ? X509_STORE_CTX_get1_certs(in->sctx, X509_get_subject_name(x)) : NULL;
    int found = 0;
    for (int i = 0; i < sk_X509_num(s) && !found; i++)
        found = X509_cmp(sk_X509_value(s, i), x) == 0;
    sk_X509_pop_free(s, X509_free);
    ERR_clear_error();
    return found;
}

/* "; the trust profile holds 2 CAs: A; B" (or only their number, or
 * nothing when a ca-dir makes the list unknowable). malloc'd. */
static char *anchor_list(const struct cr_diag_in *in)
{
    if (!in->sctx || in->anchors_from_dir)
        return strdup("");
    STACK_OF(X509) *all = X509_STORE_get1_all_certs(X509_STORE_CTX_get0_store(in->sctx));
    int n = sk_X509_num(all);
    char *out = n > LIST_MAX || n <= 0
        ? fmt("; the trust profile holds %d CA certificate%s", n, n == 1 ? "" : "s")
        : fmt("; the trust profile holds %d CA certificate%s: ", n, n == 1 ? "" : "s");
    for (int i = 0; out && n <= LIST_MAX && i < n; i++) {
        char *dn = cr_diag_dn(X509_get_subject_name(sk_X509_value(all, i)));
        char *next = fmt("%s%s%s", out, i ? "; " : "", dn ? dn : "?");
        free(dn);
        free(out);
        out = next;
    }
    sk_X509_pop_free(all, X509_free);
    return out;
}

/* "a self-signed root" / "issued by DN" for a certificate we hold. */
static char *kind_of(X509 *x)
{
    if (X509_get_extension_flags(x) & EXFLAG_SI)
        return strdup("a self-signed root");
    char *dn = cr_diag_dn(X509_get_issuer_name(x));
    char *s = fmt("a CA issued by %s", dn ? dn : "?");
    free(dn);
    return s;
}

/* The issuer's own issuer as the certificate's authority key identifier
 * names it (authorityCertIssuer), or NULL: rarely present, never guessed. */
static X509_NAME *aki_issuer_of_issuer(X509 *x)
{
    const GENERAL_NAMES *g = X509_get0_authority_issuer(x);
    for (int i = 0; i < sk_GENERAL_NAME_num(g); i++) {
        GENERAL_NAME *n = sk_GENERAL_NAME_value(g, i);
        if (n->type == GEN_DIRNAME)
            return n->d.directoryName;
    }
    return NULL;
}

/* A certificate named like the issuer exists, but its key did not sign. */
static void wrong_key(const struct namesake *ns, X509 *subject, const char *what,
                      const char *dn, const char *idn, char **msg, char **hint)
{
    char aki[100], ski[100];
    keyid_hex(X509_get0_authority_key_id(subject), aki, sizeof aki);
    keyid_hex(X509_get0_subject_key_id(ns->cert), ski, sizeof ski);
    char *kind = kind_of(ns->cert);
    char *ids = aki[0] && ski[0]
        ? fmt(" (the %s was signed by key id %s; the certificate named %s has key id %s)",
              what, aki, idn, ski)
        : strdup("");
    *msg = fmt("issuer not found: the %s (%s) names %s as its issuer; %s holds a certificate "
               "of that name (%s), but its key does not match the key that signed the %s%s",
               what, dn, idn, ns->trusted ? "the trust profile" : "the peer's chain",
               kind ? kind : "?", what, ids ? ids : "");
    if (ns->trusted)
        *hint = fmt("the %s was not signed by the trusted %s: another CA uses the same name, "
                    "or that CA has a new key; trust it only if the CA's operator confirms "
                    "a new key, by adding that CA certificate to ca-file", what, idn);
    else
        *hint = fmt("the peer sent a certificate named %s whose key did not sign its %s (an "
                    "old or wrong copy): it must send the CA certificate whose key did",
                    idn, what);
    free(kind);
    free(ids);
}

/* A certificate of the issuer's name and key exists but cannot issue. */
static void unusable(const struct namesake *ns, X509 *subject, const char *what,
                     const char *dn, const char *idn, char **msg, char **hint)
{
    int why = X509_check_issued(ns->cert, subject);
    *msg = fmt("issuer not usable: %s holds %s, whose key signed the %s (%s), but it "
               "cannot act as its issuer: %s", ns->trusted ? "the trust profile" :
               "the peer's chain", idn, what, dn,
               why == X509_V_OK ? "rejected" : X509_verify_cert_error_string(why));
    *hint = fmt("a CA certificate must allow certificate signing (keyUsage keyCertSign) "
                "and its subjectKeyIdentifier must equal the authorityKeyIdentifier of "
                "what it issues: reissue %s accordingly", idn);
}

/* Nobody holds the issuer: name it, say what the certificate itself
 * tells about it, and which CAs are trusted instead. */
static void nowhere(const struct cr_diag_in *in, const char *what, const char *dn,
                    const char *idn, char **msg, char **hint)
{
    X509_NAME *up = aki_issuer_of_issuer(in->cert);
    char *updn = up ? cr_diag_dn(up) : NULL;
    int root = up && X509_NAME_cmp(up, X509_get_issuer_name(in->cert)) == 0;
    char *known = !up ? strdup("")
        : root ? strdup(" (a root CA: the certificate's authority key identifier names it "
                        "as its own issuer)")
               : fmt(" (a CA issued by %s, as the certificate's authority key identifier "
                     "says)", updn ? updn : "?");
    char *anchors = anchor_list(in);
    *msg = fmt("issuer not found: %s, the issuer of the %s (%s), was neither sent by the "
               "peer nor is it a trusted CA%s%s", idn, what, dn, known ? known : "",
               anchors ? anchors : "");
    if (root)
        *hint = fmt("if you trust the root CA %s, add its certificate to ca-file "
                    "(the peer sending a root does not make it trusted)", idn);
    else if (up)
        *hint = fmt("the peer must send the certificate of the intermediate CA %s after "
                    "its own", idn);
    else
        *hint = fmt("get the certificate of %s from its operator: if it is a root CA you "
                    "trust, add it to ca-file; if another CA issued it, the peer must send "
                    "it after its own certificate", idn);
    free(updn);
    free(known);
    free(anchors);
}

certrole_code cr_diag_missing_issuer(const struct cr_diag_in *in, const char *what,
                                     const char *dn, const char *idn, char **msg,
                                     char **hint)
{
    struct namesake ns = { NULL, 0, 0 };
    STACK_OF(X509) *trusted = NULL;
    if (in->cert)
        find_namesake(in, X509_get_issuer_name(in->cert), in->cert, &ns, &trusted);
    if (ns.cert && !ns.key_matches) {
        wrong_key(&ns, in->cert, what, dn, idn, msg, hint);
    } else if (ns.cert) {
        unusable(&ns, in->cert, what, dn, idn, msg, hint);
    } else if (in->cert && in->depth > 0 && is_anchor(in, in->cert)) {
        *msg = fmt("issuer not found: the trusted CA %s is not a self-signed root, and its "
                   "issuer %s is not trusted; a chain must end at a trusted self-signed root",
                   dn, idn);
        *hint = fmt("add the certificate of %s (and any CA above it, up to its self-signed "
                    "root) to ca-file", idn);
    } else if (in->cert) {
        nowhere(in, what, dn, idn, msg, hint);
    } else {
        *msg = fmt("issuer not found: %s was neither sent by the peer nor is it a trusted CA",
                   idn);
        *hint = strdup("the peer must send its CA certificates after its own, and the root "
                       "must be in ca-file");
    }
    sk_X509_pop_free(trusted, X509_free);
    return CERTROLE_E_UNTRUSTED_ISSUER;
}

certrole_code cr_diag_untrusted_root(const struct cr_diag_in *in, const char *dn,
                                     char **msg, char **hint)
{
    struct namesake ns = { NULL, 0, 0 };
    STACK_OF(X509) *trusted = NULL;
    if (in->cert)
        find_namesake(in, X509_get_subject_name(in->cert), in->cert, &ns, &trusted);
    if (ns.cert && ns.trusted && !ns.key_matches) {
        char sent[100], have[100];
        keyid_hex(X509_get0_subject_key_id(in->cert), sent, sizeof sent);
        keyid_hex(X509_get0_subject_key_id(ns.cert), have, sizeof have);
        char *ids = sent[0] && have[0]
            ? fmt(" (the sent root has key id %s, the trusted one %s)", sent, have)
            : strdup("");
        *msg = fmt("the chain ends in a self-signed root that is not trusted (%s); the trust "
                   "profile holds a certificate of that name, but its key does not match%s",
                   dn, ids ? ids : "");
        *hint = fmt("the peer's root %s is not the trusted one: another CA uses the same "
                    "name, or that CA has a new key; add it to ca-file only if the CA's "
                    "operator confirms the new key", dn);
        free(ids);
    } else {
        char *anchors = anchor_list(in);
        *msg = fmt("the chain ends in a self-signed root that is not trusted (%s)%s", dn,
                   anchors ? anchors : "");
        *hint = fmt("add the root %s to ca-file if you trust it, or use a certificate "
                    "from a trusted CA", dn);
        free(anchors);
    }
    sk_X509_pop_free(trusted, X509_free);
    return CERTROLE_E_SELF_SIGNED_UNTRUSTED;
}
