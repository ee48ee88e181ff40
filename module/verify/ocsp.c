/* OCSP checking of a validated chain (ocsp.h): the trust keys ocsp*, the
 * checker built with the trust profile, and the per-chain decision (cache
 * first, one fetch per certificate in flight, ocsp-failure= when no usable
 * answer). The exchange itself is in ocsp_fetch.c. */
#define _GNU_SOURCE
#include "ocsp.h"
#include "trust.h"
#include "diagnose.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/http.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

struct cr_ocsp {
    struct cr_ocsp_opts o;
    X509_STORE *store;               /* responder trust: anchors, default params */
    struct cr_ocsp_cache *cache;
};

#define errf cr_trust_errf

/* ----- options -------------------------------------------------------------- */

void cr_ocsp_opts_defaults(struct cr_ocsp_opts *o)
{
    memset(o, 0, sizeof *o);
    o->timeout = CR_OCSP_DEFAULT_TIMEOUT;
    o->nonce = 1;
    o->skew = CR_OCSP_DEFAULT_SKEW;
}

static int parse_secs(const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < lo || n > hi)
        return -1;
    *out = n;
    return 0;
}

static int set_url(struct cr_ocsp_opts *o, const char *value, char *err, size_t errlen)
{
    int ssl = 0;
    char *host = NULL;
    if (strncasecmp(value, "http://", 7) != 0 ||
        !OSSL_HTTP_parse_url(value, &ssl, NULL, &host, NULL, NULL, NULL, NULL, NULL) || ssl ||
        !host || !*host) {
        ERR_clear_error();
        OPENSSL_free(host);
        errf(err, errlen, "ocsp-url=%s: expected an http:// URL (http://host[:port]/path; "
             "OCSP responses are signed, and https:// is not supported)", value);
        return CERTROLE_E_POLICY_ERROR;
    }
    OPENSSL_free(host);
    if (o->url) {
        errf(err, errlen, "ocsp-url given twice (only one is allowed)");
        return CERTROLE_E_POLICY_ERROR;
    }
    return (o->url = strdup(value)) ? CERTROLE_OK : CERTROLE_E_NO_MEMORY;
}

int cr_ocsp_opts_set(struct cr_ocsp_opts *o, const char *key, const char *value,
                     char *err, size_t errlen)
{
    long n;
    if (!strcmp(key, "ocsp")) {
        if (!strcmp(value, "off")) o->mode = CR_OCSP_OFF;
        else if (!strcmp(value, "leaf")) o->mode = CR_OCSP_LEAF;
        else if (!strcmp(value, "chain")) o->mode = CR_OCSP_CHAIN;
        else {
            errf(err, errlen, "ocsp=%s: expected off, leaf or chain", value);
            return CERTROLE_E_POLICY_ERROR;
        }
        return CERTROLE_OK;
    }
    if (!strcmp(key, "ocsp-url"))
        return set_url(o, value, err, errlen);
    if (!strcmp(key, "ocsp-failure")) {
        if (!strcmp(value, "deny")) o->failure = CR_OCSP_FAIL_DENY;
        else if (!strcmp(value, "crl")) o->failure = CR_OCSP_FAIL_CRL;
        else if (!strcmp(value, "allow")) o->failure = CR_OCSP_FAIL_ALLOW;
        else {
            errf(err, errlen, "ocsp-failure=%s: expected deny, crl or allow", value);
            return CERTROLE_E_POLICY_ERROR;
        }
        return CERTROLE_OK;
    }
    if (!strcmp(key, "ocsp-timeout")) {
        if (parse_secs(value, 1, 300, &n) < 0) {
            errf(err, errlen, "ocsp-timeout=%s: expected seconds from 1 to 300", value);
            return CERTROLE_E_POLICY_ERROR;
        }
        o->timeout = (int)n;
        return CERTROLE_OK;
    }
    if (!strcmp(key, "ocsp-skew")) {
        if (parse_secs(value, 0, 86400, &n) < 0) {
            errf(err, errlen, "ocsp-skew=%s: expected seconds from 0 to 86400", value);
            return CERTROLE_E_POLICY_ERROR;
        }
        o->skew = n;
        return CERTROLE_OK;
    }
    if (!strcmp(key, "ocsp-nonce")) {
        if (!strcmp(value, "yes")) o->nonce = 1;
        else if (!strcmp(value, "no")) o->nonce = 0;
        else {
            errf(err, errlen, "ocsp-nonce=%s: expected yes or no", value);
            return CERTROLE_E_POLICY_ERROR;
        }
        return CERTROLE_OK;
    }
    return 1;
}

/* ----- the checker ---------------------------------------------------------- */

void cr_ocsp_free(struct cr_ocsp *c)
{
    if (!c)
        return;
    free(c->o.url);
    X509_STORE_free(c->store);
    cr_ocsp_cache_free(c->cache);
    free(c);
}

enum cr_ocsp_failure cr_ocsp_failure_mode(const struct cr_ocsp *c)
{
    return c->o.failure;
}

certrole_code cr_ocsp_new(const struct cr_ocsp_opts *o, X509_STORE *anchors,
                          const char *ca_dir, struct cr_ocsp **out, char *err, size_t errlen)
{
    *out = NULL;
    struct cr_ocsp *c = calloc(1, sizeof *c);
    if (!c)
        return CERTROLE_E_NO_MEMORY;
    c->o = *o;
    c->o.url = NULL;
    STACK_OF(X509) *certs = X509_STORE_get1_all_certs(anchors);
    if ((o->url && !(c->o.url = strdup(o->url))) || !(c->store = X509_STORE_new()) ||
        !(c->cache = cr_ocsp_cache_new(CR_OCSP_CACHE_SIZE)) || !certs)
        goto nomem;
    for (int i = 0; i < sk_X509_num(certs); i++)
        if (!X509_STORE_add_cert(c->store, sk_X509_value(certs, i)))
            goto nomem;
    if (ca_dir && X509_STORE_load_path(c->store, ca_dir) != 1) {
        errf(err, errlen, "ca-dir %s: cannot be used to check OCSP responders", ca_dir);
        sk_X509_pop_free(certs, X509_free);
        cr_ocsp_free(c);
        ERR_clear_error();
        return CERTROLE_E_POLICY_ERROR;
    }
    sk_X509_pop_free(certs, X509_free);
    *out = c;
    return CERTROLE_OK;
nomem:
    sk_X509_pop_free(certs, X509_free);
    cr_ocsp_free(c);
    ERR_clear_error();
    return CERTROLE_E_NO_MEMORY;
}

void cr_ocsp_outcome_clear(struct cr_ocsp_outcome *o)
{
    free(o->message);
    free(o->hint);
    free(o->note);
    memset(o, 0, sizeof *o);
}

/* The first http(s) OCSP URL of the certificate's authorityInfoAccess. */
static char *aia_url(X509 *cert)
{
    STACK_OF(OPENSSL_STRING) *urls = X509_get1_ocsp(cert);
    char *u = sk_OPENSSL_STRING_num(urls) > 0 ? strdup(sk_OPENSSL_STRING_value(urls, 0)) : NULL;
    X509_email_free(urls);
    return u;
}

/* The cache key: SHA-256 of the certID's issuer name hash, issuer key
 * hash and serial (as OCSP_cert_to_id computes them). */
static int cert_key(X509 *cert, X509 *issuer, unsigned char key[32])
{
    OCSP_CERTID *id = OCSP_cert_to_id(NULL, cert, issuer);
    ASN1_OCTET_STRING *nh = NULL, *kh = NULL;
    ASN1_INTEGER *sn = NULL;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned int len = 0;
    int ok = id && md && OCSP_id_get0_info(&nh, NULL, &kh, &sn, id) &&
             EVP_DigestInit_ex(md, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(md, nh->data, (size_t)nh->length) &&
             EVP_DigestUpdate(md, kh->data, (size_t)kh->length) &&
             EVP_DigestUpdate(md, sn->data, (size_t)sn->length) &&
             EVP_DigestFinal_ex(md, key, &len) && len == 32;
    EVP_MD_CTX_free(md);
    OCSP_CERTID_free(id);
    ERR_clear_error();
    return ok ? 0 : -1;
}

/* The answer for cert: from the cache, from a fetch in flight, or fetched. */
static void answer_for(struct cr_ocsp *c, X509 *cert, X509 *issuer, STACK_OF(X509) *chain,
                       struct cr_ocsp_answer *a)
{
    unsigned char key[32];
    memset(a, 0, sizeof *a);
    a->status = -1;
    char *url = c->o.url ? strdup(c->o.url) : aia_url(cert);
    if (!url && c->o.url) {
        snprintf(a->msg, sizeof a->msg, "out of memory before asking the OCSP responder");
        return;
    }
    if (!url) {
        char *dn = cr_diag_dn(X509_get_subject_name(cert));
        a->why = CR_OCSP_WHY_NO_URL;
        snprintf(a->msg, sizeof a->msg, "the certificate (%s) names no OCSP responder "
                 "(authorityInfoAccess) and the trust line sets no ocsp-url=", dn ? dn : "?");
        free(dn);
        return;
    }
    if (cert_key(cert, issuer, key) < 0) {
        snprintf(a->msg, sizeof a->msg, "no OCSP request could be made for the certificate");
        free(url);
        return;
    }
    time_t now = time(NULL);
    int got = cr_ocsp_cache_get(c->cache, key, now, a);
    if (got == 0) {
        struct cr_ocsp_query q = { .cert = cert, .issuer = issuer, .url = url,
            .timeout = c->o.timeout, .nonce = c->o.nonce, .skew = c->o.skew,
            .store = c->store, .chain = chain };
        cr_ocsp_fetch(&q, a);
        cr_ocsp_cache_done(c->cache, key, a, time(NULL));
    } else if (got < 0) {
        snprintf(a->msg, sizeof a->msg, "out of memory before asking the OCSP responder");
    }
    free(url);
}

static const char *reason_name(int r)
{
    return r >= 0 ? OCSP_crl_reason_str(r) : "no reason given";
}

/* A revoked answer: the reason and time in the message and the hint. */
static void revoked(struct cr_ocsp_outcome *out, X509 *cert, const struct cr_ocsp_answer *a,
                    int depth)
{
    char when[32] = "an unknown time", *dn = cr_diag_dn(X509_get_subject_name(cert));
    struct tm tm;
    if (a->revoked_at && gmtime_r(&a->revoked_at, &tm))
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    out->code = CERTROLE_E_REVOKED;
    if (asprintf(&out->message, "%s revoked at %s, reason %s, says the OCSP responder %s (%s)",
                 depth ? "an intermediate CA certificate of the chain was" : "certificate was",
                 when, reason_name(a->reason), a->url, dn ? dn : "?") < 0)
        out->message = NULL;
    if (asprintf(&out->hint, "the CA revoked this %s on %s (%s); %s", depth ? "CA certificate"
                 : "certificate", when, reason_name(a->reason), depth
                 ? "the CA must issue a new intermediate and reissue under it"
                 : "request a new certificate") < 0)
        out->hint = NULL;
    free(dn);
}

/* What to do about a missing answer, for its cause. */
static char *hint_for(const struct cr_ocsp *c, const struct cr_ocsp_answer *a)
{
    char *h = NULL;
    const char *u = a->url[0] ? a->url : "the responder";
    int n = -1;
    switch (a->why) {
    case CR_OCSP_WHY_NO_URL: n = asprintf(&h, "issue certificates with an OCSP URL in "
        "authorityInfoAccess, or set ocsp-url=http://... on the trust line"); break;
    case CR_OCSP_WHY_CONNECT: n = asprintf(&h, "start the OCSP responder at %s, or correct "
        "ocsp-url= (or the certificate's authorityInfoAccess), and check the network path", u);
        break;
    case CR_OCSP_WHY_TIMEOUT: n = asprintf(&h, "%s accepted the connection but did not answer "
        "within %d s: check the responder, or raise ocsp-timeout=", u, c->o.timeout); break;
    case CR_OCSP_WHY_NOT_OCSP: n = asprintf(&h, "%s does not serve OCSP: correct ocsp-url= "
        "(or the certificate's authorityInfoAccess)", u); break;
    case CR_OCSP_WHY_STATUS: n = asprintf(&h, "configure the responder at %s to answer for "
        "this certificate's issuer", u); break;
    case CR_OCSP_WHY_SIGNER: n = asprintf(&h, "have %s sign with the issuer's key, or with a "
        "certificate the issuer issued with extendedKeyUsage OCSPSigning", u); break;
    case CR_OCSP_WHY_OTHER_CERT: n = asprintf(&h, "%s answers about another certificate: "
        "point ocsp-url= at the responder of this certificate's issuer", u); break;
    case CR_OCSP_WHY_STALE: n = asprintf(&h, "have %s refresh its answers, or check this "
        "host's clock (ocsp-skew=%ld s is allowed)", u, c->o.skew); break;
    case CR_OCSP_WHY_NONCE: n = asprintf(&h, "something between this host and %s replays "
        "answers (a caching proxy?): fix it, or set ocsp-nonce=no", u); break;
    case CR_OCSP_WHY_UNKNOWN: n = asprintf(&h, "add this certificate to the database of %s, "
        "or point ocsp-url= at its issuer's responder", u); break;
    default: n = asprintf(&h, "retry; if it persists, report it with the certificate"); break;
    }
    return n < 0 ? NULL : h;
}

/* No usable answer (failure, or 'unknown'): ocsp-failure= decides. */
static void unusable(const struct cr_ocsp *c, struct cr_ocsp_outcome *out, const char *why,
                     const struct cr_ocsp_answer *a)
{
    if (c->o.failure == CR_OCSP_FAIL_DENY) {
        out->code = CERTROLE_E_OCSP_UNAVAILABLE;
        out->message = strdup(why);
        out->hint = hint_for(c, a);
        return;
    }
    free(out->note);
    if (asprintf(&out->note, "no usable OCSP answer (%s); %s", why,
                 c->o.failure == CR_OCSP_FAIL_CRL ? "the CRL check decided (ocsp-failure=crl)"
                 : "allowed without it (ocsp-failure=allow)") < 0)
        out->note = NULL;
    out->until = time(NULL);   /* never cached: ask again next time */
}

void cr_ocsp_check(struct cr_ocsp *c, STACK_OF(X509) *chain, struct cr_ocsp_outcome *out)
{
    memset(out, 0, sizeof *out);
    out->code = CERTROLE_OK;
    int n = sk_X509_num(chain);
    int last = c->o.mode == CR_OCSP_CHAIN ? n - 2 : (n >= 2 ? 0 : -1);
    for (int i = 0; i <= last && out->code == CERTROLE_OK; i++) {
        X509 *cert = sk_X509_value(chain, i), *issuer = sk_X509_value(chain, i + 1);
        struct cr_ocsp_answer a;
        answer_for(c, cert, issuer, chain, &a);
        if (a.status == V_OCSP_CERTSTATUS_GOOD) {
            if (!out->until || a.until < out->until)
                out->until = a.until;
        } else if (a.status == V_OCSP_CERTSTATUS_REVOKED) {
            revoked(out, cert, &a, i);
        } else if (a.status == V_OCSP_CERTSTATUS_UNKNOWN) {
            char why[512], *dn = cr_diag_dn(X509_get_subject_name(cert));
            snprintf(why, sizeof why, "the OCSP responder %s does not know this certificate "
                     "(status unknown) (%s)", a.url, dn ? dn : "?");
            free(dn);
            a.why = CR_OCSP_WHY_UNKNOWN;
            unusable(c, out, why, &a);
        } else {
            unusable(c, out, a.msg, &a);
        }
    }
    if (out->code != CERTROLE_OK && (!out->message || !out->hint))
        out->code = CERTROLE_E_NO_MEMORY;
}
