/* Trust profile: the X509_STORE (CA file/dir, CRLs) and path validation
 * (trust.h); option parsing is in trust_opts.c. */
#define _GNU_SOURCE
#include "trust.h"
#include "diagnose.h"
#include "strict.h"
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

struct cr_trust {
    X509_STORE *store;            /* anchors, CRLs and the verify params */
    struct cr_trust_load ld;      /* anchors with their files, CRLs, files read */
    int depth, purpose, strict, allow_ca_leaf;
    int has_dir;                  /* ca-dir: hashed CRLs are looked up, not listed */
    int lazy_crls;                /* ca-dir holds hashed CRLs: read when first needed */
    time_t crl_next_update;
    struct cr_ocsp *ocsp;         /* ocsp=leaf|chain, else NULL */
    struct { const char *key; char *msg; } warn[3];   /* cr_trust_warning */
    size_t nwarn;
};

#define errf cr_trust_errf
#define ossl_reason cr_trust_ossl_reason

/* ----- building the store -------------------------------------------------- */

void cr_trust_free(struct cr_trust *t)
{
    if (!t)
        return;
    X509_STORE_free(t->store);
    cr_ocsp_free(t->ocsp);
    cr_trust_ld_clear(&t->ld);
    for (size_t i = 0; i < t->nwarn; i++)
        free(t->warn[i].msg);
    free(t);
}

static certrole_code set_params(struct cr_trust *t, const struct cr_trust_opts *o,
                                char *err, size_t errlen)
{
    X509_VERIFY_PARAM *param = X509_STORE_get0_param(t->store);
    unsigned long flags = 0;
    if (o->crl_check == CR_CRL_LEAF)
        flags |= X509_V_FLAG_CRL_CHECK;
    else if (o->crl_check == CR_CRL_CHAIN)
        flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
    if (o->crl_check != CR_CRL_NONE)
        flags |= X509_V_FLAG_EXTENDED_CRL_SUPPORT | X509_V_FLAG_USE_DELTAS;
    if (o->strict)
        flags |= X509_V_FLAG_X509_STRICT;
    if (o->n_policies || o->explicit_policy || o->inhibit_any || o->inhibit_map)
        flags |= X509_V_FLAG_POLICY_CHECK;
    if (o->explicit_policy)
        flags |= X509_V_FLAG_EXPLICIT_POLICY;
    if (o->inhibit_any)
        flags |= X509_V_FLAG_INHIBIT_ANY;
    if (o->inhibit_map)
        flags |= X509_V_FLAG_INHIBIT_MAP;
    if (flags && !X509_VERIFY_PARAM_set_flags(param, flags))
        return CERTROLE_E_NO_MEMORY;
    if (o->purpose && !X509_VERIFY_PARAM_set_purpose(param, o->purpose)) {
        errf(err, errlen, "purpose: not supported by this OpenSSL");
        return CERTROLE_E_POLICY_ERROR;
    }
    if (o->depth >= 0)
        X509_VERIFY_PARAM_set_depth(param, o->depth);
    if (o->at_time)
        X509_VERIFY_PARAM_set_time(param, o->at_time);
    for (size_t i = 0; i < o->n_policies; i++) {
        ASN1_OBJECT *obj = OBJ_txt2obj(o->policies[i], 1);
        if (!obj || !X509_VERIFY_PARAM_add0_policy(param, obj)) {
            ASN1_OBJECT_free(obj);
            errf(err, errlen, "policy=%s: not a dotted OID", o->policies[i]);
            return CERTROLE_E_POLICY_ERROR;
        }
    }
    return CERTROLE_OK;
}

/* OpenSSL caches a certificate's decoded extensions (key identifiers,
 * basicConstraints, purposes) on first use. The anchors are shared by every
 * thread that verifies, so do that once here, before the store is shared,
 * rather than on whichever verification touches them first. */
static void precache_extensions(X509_STORE *store)
{
    STACK_OF(X509) *certs = X509_STORE_get1_all_certs(store);
    for (int i = 0; i < sk_X509_num(certs); i++)
        (void)X509_check_purpose(sk_X509_value(certs, i), -1, 0);
    sk_X509_pop_free(certs, X509_free);
}

/* The anchors of a ca-dir are all read at build time; OpenSSL still
 * looks the directory up by hash while verifying, for hashed CRLs
 * (*.rN) and for entries added since (which also trigger a refresh). */
static certrole_code load_ca_dir(struct cr_trust *t, const char *dir, int *has_crls, int *ncrls,
                                 char *err, size_t errlen)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        errf(err, errlen, "ca-dir %s: %s", dir, strerror(errno));
        return CERTROLE_E_IO;
    }
    if (!S_ISDIR(st.st_mode)) {
        errf(err, errlen, "ca-dir %s: not a directory", dir);
        return CERTROLE_E_POLICY_ERROR;
    }
    certrole_code rc = cr_trust_load_dir(&t->ld, dir, has_crls, ncrls, err, errlen);
    if (rc == CERTROLE_OK && X509_STORE_load_path(t->store, dir) != 1) {
        errf(err, errlen, "ca-dir %s: cannot be used (%s)", dir, ossl_reason());
        return CERTROLE_E_POLICY_ERROR;
    }
    return rc;
}

/* Reads ca-file, ca-dir and every crl-file into t. *crl_source names the
 * first place CRLs come from ("" when none): a CRL source turns
 * revocation checking on unless crl-check= says otherwise. */
/* Names the option a failure is about (b may be NULL). */
static certrole_code blame(struct cr_trust_blame *b, const char *key, size_t nth,
                           certrole_code rc)
{
    if (b && rc != CERTROLE_OK) {
        b->key = key;
        b->nth = nth;
    }
    return rc;
}

static certrole_code load_files(struct cr_trust *t, const struct cr_trust_opts *o,
                                char *crl_source, size_t srclen, char *err, size_t errlen,
                                struct cr_trust_blame *b)
{
    certrole_code rc;
    crl_source[0] = '\0';
    if (o->ca_password_file && !o->ca_file) {
        blame(b, "ca-password-file", 0, CERTROLE_E_POLICY_ERROR);
        errf(err, errlen, "ca-password-file %s: given without ca-file (it is the password of "
             "a PKCS#12 ca-file)", o->ca_password_file);
        return CERTROLE_E_POLICY_ERROR;
    }
    if (o->ca_file) {
        int ncrls = 0;
        char label[PATH_MAX + 16];
        snprintf(label, sizeof label, "ca-file %s", o->ca_file);
        rc = cr_trust_load_anchors(&t->ld, label, o->ca_file, o->ca_password_file, &ncrls,
                                   err, errlen);
        if (rc != CERTROLE_OK)
            return blame(b, strstr(err, "ca-password-file") == err ? "ca-password-file"
                         : "ca-file", 0, rc);
        if (ncrls)
            snprintf(crl_source, srclen, "the CRLs in ca-file %s", o->ca_file);
    }
    if (o->ca_dir) {
        int hashed_crls = 0, ncrls = 0;
        if ((rc = load_ca_dir(t, o->ca_dir, &hashed_crls, &ncrls, err, errlen)) != CERTROLE_OK)
            return blame(b, "ca-dir", 0, rc);
        t->lazy_crls = hashed_crls;
        if (!crl_source[0] && (hashed_crls || ncrls))
            snprintf(crl_source, srclen, "the %s in ca-dir %s",
                     hashed_crls ? "hashed CRLs (*.rN)" : "CRLs", o->ca_dir);
    }
    for (size_t i = 0; i < o->n_crl_files; i++) {
        if ((rc = cr_trust_load_crls(t->ld.crls, o->crl_files[i], err, errlen)) != CERTROLE_OK)
            return blame(b, "crl-file", i, rc);
        if (i == 0)
            snprintf(crl_source, srclen, "the CRLs of crl-file %s%s", o->crl_files[0],
                     o->n_crl_files > 1 ? " (and the other crl-file)" : "");
        if (cr_trust_ld_file(&t->ld, o->crl_files[i]) != CERTROLE_OK)
            return CERTROLE_E_NO_MEMORY;
    }
    return CERTROLE_OK;
}

static certrole_code add_anchors(struct cr_trust *t, char *err, size_t errlen)
{
    for (int i = 0; i < sk_X509_num(t->ld.anchors); i++)
        if (!X509_STORE_add_cert(t->store, sk_X509_value(t->ld.anchors, i))) {
            errf(err, errlen, "%s: certificate cannot be added to the store (%s)",
                 t->ld.from[i], ossl_reason());
            return CERTROLE_E_POLICY_ERROR;
        }
    return CERTROLE_OK;
}

static certrole_code add_crls(struct cr_trust *t, char *err, size_t errlen)
{
    for (int i = 0; i < sk_X509_CRL_num(t->ld.crls); i++) {
        X509_CRL *crl = sk_X509_CRL_value(t->ld.crls, i);
        if (!X509_STORE_add_crl(t->store, crl)) {
            errf(err, errlen, "cannot add CRL to the store (%s)", ossl_reason());
            return CERTROLE_E_POLICY_ERROR;
        }
        const ASN1_TIME *nu = X509_CRL_get0_nextUpdate(crl);
        time_t tnu = nu ? cr_asn1_time_to_time_t(nu) : 0;
        if (tnu && (!t->crl_next_update || tnu < t->crl_next_update))
            t->crl_next_update = tnu;
    }
    return CERTROLE_OK;
}

static void warn(struct cr_trust *t, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void warn(struct cr_trust *t, const char *key, const char *fmt, ...)
{
    va_list ap;
    char *msg = NULL;
    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    if (!msg || t->nwarn == sizeof t->warn / sizeof t->warn[0]) {
        free(msg);
        return;
    }
    t->warn[t->nwarn].key = key;
    t->warn[t->nwarn++].msg = msg;
}

/* The options in force: a key that loads something (a CRL, a policy OID)
 * is used unless the policy explicitly switches its check off, which is
 * then worth a warning. */
static void effective(struct cr_trust *t, const struct cr_trust_opts *o, const char *crl_source,
                      struct cr_trust_opts *eff)
{
    *eff = *o;   /* shallow: eff borrows o's strings */
    if (!o->crl_check_set && crl_source[0])
        eff->crl_check = CR_CRL_LEAF;
    if (o->crl_check_set && o->crl_check == CR_CRL_NONE && crl_source[0])
        warn(t, "crl-check", "crl-check=none: %s are loaded but not consulted, so a revoked "
             "certificate is accepted (drop crl-check=none to check the leaf, or set "
             "crl-check=chain)", crl_source);
    if (!o->explicit_set && o->n_policies)
        eff->explicit_policy = 1;
    if (o->explicit_set && !o->explicit_policy && o->n_policies)
        warn(t, "explicit-policy", "explicit-policy=no: the policy= OIDs are loaded but not "
             "required, so a chain without any of them is accepted (drop explicit-policy=no "
             "to require them)");
}

/* ocsp-failure=crl promises that the CRL decides when the responder
 * cannot: that needs a CRL the path validation consults. */
static certrole_code build_ocsp(struct cr_trust *t, const struct cr_trust_opts *o,
                                const struct cr_trust_opts *eff, char *err, size_t errlen,
                                struct cr_trust_blame *b)
{
    if (o->ocsp.failure == CR_OCSP_FAIL_CRL && eff->crl_check == CR_CRL_NONE) {
        errf(err, errlen, "ocsp-failure: crl falls back to the CRL check, but %s: add "
             "crl-file= (or use ocsp-failure=deny or allow)",
             o->crl_check_set ? "crl-check=none turns it off" : "no CRL is loaded");
        return blame(b, "ocsp-failure", 0, CERTROLE_E_POLICY_ERROR);
    }
    if (o->ocsp.failure == CR_OCSP_FAIL_CRL && o->ocsp.mode == CR_OCSP_CHAIN &&
        eff->crl_check != CR_CRL_CHAIN) {
        errf(err, errlen, "ocsp-failure: crl with ocsp=chain falls back to the CRL check of "
             "every certificate, but crl-check is leaf: set crl-check=chain");
        return blame(b, "ocsp-failure", 0, CERTROLE_E_POLICY_ERROR);
    }
    return cr_ocsp_new(&o->ocsp, t->store, o->ca_dir, &t->ocsp, err, errlen);
}

certrole_code cr_trust_build(const struct cr_trust_opts *o, struct cr_trust **out,
                             char *err, size_t errlen)
{
    return cr_trust_build_blame(o, out, err, errlen, NULL);
}

certrole_code cr_trust_build_blame(const struct cr_trust_opts *o, struct cr_trust **out,
                                   char *err, size_t errlen, struct cr_trust_blame *b)
{
    if (!o || !out)
        return CERTROLE_E_INVALID_ARGUMENT;
    *out = NULL;
    if (!o->ca_file && !o->ca_dir) {
        errf(err, errlen, "trust: no ca-file or ca-dir given, so no certificate could be trusted");
        return CERTROLE_E_POLICY_ERROR;
    }
    struct cr_trust *t = calloc(1, sizeof *t);
    if (!t)
        return CERTROLE_E_NO_MEMORY;
    certrole_code rc = CERTROLE_E_NO_MEMORY;
    struct cr_trust_opts eff;
    char crl_source[PATH_MAX + 64];
    t->depth = o->depth;
    t->purpose = o->purpose;
    t->strict = o->strict;
    t->has_dir = o->ca_dir != NULL;
    t->allow_ca_leaf = o->allow_ca_leaf;
    if (!(t->store = X509_STORE_new()) || !(t->ld.crls = sk_X509_CRL_new_null()) ||
        !(t->ld.anchors = sk_X509_new_null()))
        goto fail;
    ERR_clear_error();
    if ((rc = load_files(t, o, crl_source, sizeof crl_source, err, errlen, b)) != CERTROLE_OK ||
        (rc = add_anchors(t, err, errlen)) != CERTROLE_OK ||
        (rc = add_crls(t, err, errlen)) != CERTROLE_OK)
        goto fail;
    if (t->ld.p12_keys)
        warn(t, "ca-file", "ca-file %s: the PKCS#12 file also holds a private key; its "
             "certificates are trusted as anchors like the others", o->ca_file);
    effective(t, o, crl_source, &eff);
    /* A CRL check without any CRL would deny every peer: say so now. CRLs
     * may also come from a hashed ca-dir (*.r0), so that one is allowed. */
    if (eff.crl_check != CR_CRL_NONE && sk_X509_CRL_num(t->ld.crls) == 0 && !o->ca_dir) {
        errf(err, errlen, "crl-check=%s but no CRL is loaded: add crl-file=",
             eff.crl_check == CR_CRL_LEAF ? "leaf" : "chain");
        rc = blame(b, "crl-check", 0, CERTROLE_E_POLICY_ERROR);
        goto fail;
    }
    if ((rc = set_params(t, &eff, err, errlen)) != CERTROLE_OK)
        goto fail;
    precache_extensions(t->store);
    if (o->ocsp.mode != CR_OCSP_OFF &&
        (rc = build_ocsp(t, o, &eff, err, errlen, b)) != CERTROLE_OK)
        goto fail;
    ERR_clear_error();
    *out = t;
    return CERTROLE_OK;
fail:
    ERR_clear_error();
    if (rc == CERTROLE_E_NO_MEMORY && err && errlen && !*err)
        errf(err, errlen, "out of memory building the trust store");
    cr_trust_free(t);
    return rc;
}

const char *cr_trust_warning(const struct cr_trust *t, size_t i, const char **key)
{
    if (!t || i >= t->nwarn)
        return NULL;
    if (key)
        *key = t->warn[i].key;
    return t->warn[i].msg;
}

time_t cr_trust_crl_next_update(const struct cr_trust *t)
{
    return t ? t->crl_next_update : 0;
}

const char *const *cr_trust_files(const struct cr_trust *t)
{
    static const char *const none[] = { NULL };
    return (t && t->ld.files) ? (const char *const *)t->ld.files : none;
}

X509 *cr_trust_anchor(const struct cr_trust *t, size_t i, const char **file)
{
    if (!t || i >= t->ld.nfrom)
        return NULL;
    if (file)
        *file = t->ld.from[i];
    return sk_X509_value(t->ld.anchors, (int)i);
}

/* ----- verification ---------------------------------------------------------- */

void cr_verified_clear(struct cr_verified *v)
{
    if (!v)
        return;
    free(v->message);
    free(v->hint);
    free(v->note);
    sk_X509_pop_free(v->chain, X509_free);
    memset(v, 0, sizeof *v);
}

static certrole_code set_out(struct cr_verified *v, certrole_code code,
                             char *msg, char *hint)
{
    free(v->message);
    free(v->hint);
    v->message = msg;
    v->hint = hint;
    v->code = code;
    if (!msg || !hint)
        return CERTROLE_E_NO_MEMORY;
    return code;
}

/* A CA certificate (basicConstraints CA:TRUE) as the client: OpenSSL's
 * sslclient purpose accepts it, but a CA's key signs certificates and
 * should not also log in. Refused unless allow-ca-leaf=yes (and strict
 * refuses it even then). */
static certrole_code ca_leaf_check(const struct cr_trust *t, X509 *leaf, struct cr_verified *v)
{
    if (t->purpose != X509_PURPOSE_SSL_CLIENT || !(X509_get_extension_flags(leaf) & EXFLAG_CA) ||
        (t->allow_ca_leaf && !t->strict))
        return CERTROLE_OK;
    char *msg = NULL, *dn = cr_diag_dn(X509_get_subject_name(leaf));
    if (asprintf(&msg, "client certificate is a CA certificate (basicConstraints CA:TRUE); "
                 "%s (%s)", t->strict ? "strict mode refuses CAs as clients"
                 : "CA certificates are refused as clients", dn ? dn : "?") < 0)
        msg = NULL;
    free(dn);
    return set_out(v, CERTROLE_E_WRONG_PURPOSE, msg,
                   strdup(t->strict ? "issue the client certificate with basicConstraints=CA:FALSE"
                          : "issue the client certificate with basicConstraints=CA:FALSE, or "
                            "set allow-ca-leaf=yes on the trust line if this CA must log in"));
}

/* strict=yes: the RFC 5280 rules OpenSSL does not enforce (strict.c). */
static certrole_code strict_extras(STACK_OF(X509) *chain, struct cr_verified *v)
{
    char *msg = NULL, *hint = NULL;
    int depth = 0;
    certrole_code rc = cr_strict_check(chain, &msg, &hint, &depth);
    if (rc == CERTROLE_OK)
        return CERTROLE_OK;
    v->error_depth = depth;
    if (rc == CERTROLE_E_NO_MEMORY) {
        free(msg);
        free(hint);
        msg = hint = NULL;
    }
    return set_out(v, rc, msg, hint);
}

/* Revocation by OCSP, for a chain path validation accepted. */
static certrole_code ocsp_step(const struct cr_trust *t, struct cr_verified *v)
{
    struct cr_ocsp_outcome oc;
    cr_ocsp_check(t->ocsp, v->chain, &oc);
    v->ocsp_until = oc.until;
    v->note = oc.note;
    oc.note = NULL;
    certrole_code rc = oc.code;
    if (rc != CERTROLE_OK) {
        rc = set_out(v, rc, oc.message, oc.hint);
        oc.message = oc.hint = NULL;
    }
    cr_ocsp_outcome_clear(&oc);
    return rc;
}

certrole_code cr_trust_verify(const struct cr_trust *t, X509 *leaf,
                              STACK_OF(X509) *untrusted, struct cr_verified *out)
{
    if (!out)
        return CERTROLE_E_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    if (!t || !leaf)
        return set_out(out, CERTROLE_E_INVALID_ARGUMENT,
                       strdup(certrole_strerror(CERTROLE_E_INVALID_ARGUMENT)),
                       strdup("pass a trust profile and a leaf certificate"));
    /* One X509_STORE_CTX per call: the shared store is only read. */
    X509_STORE_CTX *sctx = X509_STORE_CTX_new();
    if (!sctx || !X509_STORE_CTX_init(sctx, t->store, leaf, untrusted)) {
        X509_STORE_CTX_free(sctx);
        ERR_clear_error();
        out->code = CERTROLE_E_NO_MEMORY;
        return CERTROLE_E_NO_MEMORY;
    }
    X509_STORE_CTX_set0_crls(sctx, t->ld.crls);
    int ok = X509_verify_cert(sctx);
    certrole_code rc;
    if (ok == 1) {
        out->chain = X509_STORE_CTX_get1_chain(sctx);
        if (!out->chain) {
            rc = set_out(out, CERTROLE_E_NO_MEMORY, NULL, NULL);
            goto done;
        }
        out->depth = sk_X509_num(out->chain);
        for (int i = 0; i < out->depth; i++) {
            time_t na = cr_asn1_time_to_time_t(X509_get0_notAfter(sk_X509_value(out->chain, i)));
            if (na && (!out->not_after_min || na < out->not_after_min))
                out->not_after_min = na;
        }
        if ((rc = ca_leaf_check(t, leaf, out)) != CERTROLE_OK ||
            (t->strict && (rc = strict_extras(out->chain, out)) != CERTROLE_OK) ||
            (t->ocsp && (rc = ocsp_step(t, out)) != CERTROLE_OK)) {
            sk_X509_pop_free(out->chain, X509_free);
            out->chain = NULL;
            out->depth = 0;
            goto done;
        }
        rc = set_out(out, CERTROLE_OK, strdup("certificate chain is valid"), strdup(""));
    } else {
        struct cr_diag_in in = {
            .x509_error = X509_STORE_CTX_get_error(sctx),
            .depth = X509_STORE_CTX_get_error_depth(sctx),
            .cert = X509_STORE_CTX_get_current_cert(sctx),
            .chain = X509_STORE_CTX_get0_chain(sctx),
            .crls = t->ld.crls,
            .max_depth = t->depth,
            .purpose = t->purpose,
            .sctx = sctx,
            .anchors_from_dir = t->has_dir,
        };
        if (ok < 0 && in.x509_error == X509_V_OK)
            in.x509_error = X509_V_ERR_UNSPECIFIED;
        if (!in.cert && in.depth == 0)
            in.cert = leaf;
        char *msg = NULL, *hint = NULL;
        certrole_code code = cr_diagnose(&in, &msg, &hint);
        out->x509_error = in.x509_error;
        out->error_depth = in.depth;
        rc = set_out(out, code, msg, hint);
    }
done:
    X509_STORE_CTX_free(sctx);
    ERR_clear_error();
    return rc;
}

int cr_trust_lazy_crls(const struct cr_trust *t)
{
    return t && t->lazy_crls;
}
