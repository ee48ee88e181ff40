/* Reading the trust profile's files (trust.h): anchors and CRLs are read
 * by certrole itself, through the regular-file reader, and handed to
 * OpenSSL from memory, so no file is ever opened by a loader that would
 * block on a FIFO or accept a device. */
#define _GNU_SOURCE
#include "trust.h"
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include "input.h"
#include "readfile.h"

/* CRLs of big CAs run to tens of megabytes; past this a file is refused. */
#define MAX_CRL_BYTES (256u * 1024u * 1024u)

void cr_trust_errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}
#define errf cr_trust_errf

const char *cr_trust_ossl_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    return r ? r : "no detail";
}
#define ossl_reason cr_trust_ossl_reason

/* ----- what the loaders collect ------------------------------------------ */

/* The anchors are indexed by SHA-1 fingerprint (open addressing, a power
 * of two slots, at most half full), so finding a certificate met again
 * costs the same with 100 anchors as with 100000. */
static size_t slot_of(const unsigned char *md, size_t nslots)
{
    size_t h;
    memcpy(&h, md, sizeof h);
    return h & (nslots - 1);
}

static int index_grow(struct cr_trust_load *l)
{
    size_t n = l->nslots ? l->nslots * 2 : 256;
    size_t *s = calloc(n, sizeof *s);
    if (!s)
        return -1;
    for (size_t i = 0; i < l->nfrom; i++) {
        size_t j = slot_of(l->md[i], n);
        while (s[j])
            j = (j + 1) & (n - 1);
        s[j] = i + 1;
    }
    free(l->slots);
    l->slots = s;
    l->nslots = n;
    return 0;
}

/* Room for one more anchor in from and md. */
static int grow(struct cr_trust_load *l)
{
    char **nf = realloc(l->from, (l->nfrom + 1) * sizeof *nf);
    if (nf)
        l->from = nf;
    unsigned char (*nm)[20] = nf ? realloc(l->md, (l->nfrom + 1) * sizeof *nm) : NULL;
    if (nm)
        l->md = nm;
    return nf && nm && ((l->nfrom + 1) * 2 <= l->nslots || index_grow(l) == 0) ? 0 : -1;
}

certrole_code cr_trust_ld_anchor(struct cr_trust_load *l, X509 *x, const char *file)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!X509_digest(x, EVP_sha1(), md, &mdlen) || mdlen != 20 || grow(l) < 0) {
        X509_free(x);
        return CERTROLE_E_NO_MEMORY;
    }
    /* A certificate met again (a bundle next to its parts, as in
     * /etc/ssl/certs) is one anchor, listed under the first file. */
    size_t j = slot_of(md, l->nslots);
    for (; l->slots[j]; j = (j + 1) & (l->nslots - 1)) {
        size_t k = l->slots[j] - 1;
        if (!memcmp(l->md[k], md, 20) && !X509_cmp(sk_X509_value(l->anchors, (int)k), x)) {
            X509_free(x);
            return CERTROLE_OK;
        }
    }
    if (!(l->from[l->nfrom] = strdup(file)) || !sk_X509_push(l->anchors, x)) {
        free(l->from[l->nfrom]);
        X509_free(x);
        return CERTROLE_E_NO_MEMORY;
    }
    memcpy(l->md[l->nfrom], md, 20);
    l->slots[j] = ++l->nfrom;
    return CERTROLE_OK;
}

certrole_code cr_trust_ld_file(struct cr_trust_load *l, const char *path)
{
    for (size_t i = 0; i < l->nfiles; i++)
        if (!strcmp(l->files[i], path))
            return CERTROLE_OK;
    char **nf = realloc(l->files, (l->nfiles + 2) * sizeof *nf);
    if (!nf)
        return CERTROLE_E_NO_MEMORY;
    l->files = nf;
    if (!(nf[l->nfiles] = strdup(path))) {
        nf[l->nfiles] = NULL;
        return CERTROLE_E_NO_MEMORY;
    }
    nf[++l->nfiles] = NULL;
    return CERTROLE_OK;
}

void cr_trust_ld_clear(struct cr_trust_load *l)
{
    sk_X509_pop_free(l->anchors, X509_free);
    sk_X509_CRL_pop_free(l->crls, X509_CRL_free);
    for (size_t i = 0; i < l->nfrom; i++)
        free(l->from[i]);
    free(l->from);
    free(l->md);
    free(l->slots);
    for (size_t i = 0; i < l->nfiles; i++)
        free(l->files[i]);
    free(l->files);
    memset(l, 0, sizeof *l);
}

/* Reads a regular file whole; on failure the message names what and path. */
static char *read_file(const char *path, const char *label, size_t max, size_t *len,
                       certrole_code *rc, char *err, size_t errlen)
{
    int why = 0;
    char *buf = cr_rf_read(path, max, NULL, len, NULL, &why);
    if (!buf) {
        char reason[160];
        cr_rf_strerror(path, why, reason, sizeof reason);
        if (why == CR_RF_TOOBIG)
            snprintf(reason, sizeof reason, "file too large (more than %zu bytes)", max);
        errf(err, errlen, "%s: %s", label, reason);
        *rc = why == ENOMEM ? CERTROLE_E_NO_MEMORY
            : why == CR_RF_NOTREG || why == CR_RF_TOOBIG ? CERTROLE_E_POLICY_ERROR
            : CERTROLE_E_IO;
    }
    return buf;
}

static certrole_code push_crl(STACK_OF(X509_CRL) *crls, X509_CRL *crl)
{
    if (sk_X509_CRL_push(crls, crl))
        return CERTROLE_OK;
    X509_CRL_free(crl);
    return CERTROLE_E_NO_MEMORY;
}

/* Every "X509 CRL" block of PEM text (other blocks are skipped). *count
 * is how many were read; a damaged block is an error, none is not. */
static certrole_code crls_pem(STACK_OF(X509_CRL) *crls, const char *buf, size_t len,
                              const char *label, int *count,
                              char *err, size_t errlen)
{
    BIO *bio = BIO_new_mem_buf(buf, (int)len);
    if (!bio)
        return CERTROLE_E_NO_MEMORY;
    certrole_code rc = CERTROLE_OK;
    ERR_clear_error();
    for (*count = 0; rc == CERTROLE_OK; ++*count) {
        X509_CRL *crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
        if (!crl) {
            unsigned long e = ERR_peek_last_error();
            if (ERR_GET_LIB(e) != ERR_LIB_PEM || ERR_GET_REASON(e) != PEM_R_NO_START_LINE) {
                errf(err, errlen, "%s: CRL number %d is damaged (%s)", label,
                     *count + 1, ossl_reason());
                rc = CERTROLE_E_POLICY_ERROR;
            }
            break;   /* else: no further CRL block */
        }
        rc = push_crl(crls, crl);
    }
    BIO_free(bio);
    ERR_clear_error();
    return rc;
}

/* One or more concatenated DER CRLs. */
static certrole_code crls_der(STACK_OF(X509_CRL) *crls, const unsigned char *buf, size_t len,
                              const char *path, char *err, size_t errlen)
{
    const unsigned char *p = buf, *end = buf + len;
    certrole_code rc = CERTROLE_OK;
    int count = 0;
    while (p < end && rc == CERTROLE_OK) {
        const unsigned char *start = p;
        X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)(end - p));
        if (!crl) {
            if (count == 0)
                errf(err, errlen, "crl-file %s: not a CRL (neither PEM nor DER X.509 CRL: %s)",
                     path, ossl_reason());
            else
                errf(err, errlen, "crl-file %s: trailing data at byte %zu is not a DER CRL",
                     path, (size_t)(start - buf));
            return CERTROLE_E_POLICY_ERROR;
        }
        rc = push_crl(crls, crl);
        count++;
    }
    if (rc == CERTROLE_OK && count == 0) {
        errf(err, errlen, "crl-file %s: empty file, no CRL", path);
        rc = CERTROLE_E_POLICY_ERROR;
    }
    return rc;
}

certrole_code cr_trust_load_crls(STACK_OF(X509_CRL) *crls, const char *path,
                                 char *err, size_t errlen)
{
    size_t len = 0;
    certrole_code rc = CERTROLE_OK;
    char label[PATH_MAX + 16];
    snprintf(label, sizeof label, "crl-file %s", path);
    char *buf = read_file(path, label, MAX_CRL_BYTES, &len, &rc, err, errlen);
    if (!buf)
        return rc;
    ERR_clear_error();
    if (memmem(buf, len, "-----BEGIN", 10)) {
        int count = 0;
        rc = crls_pem(crls, buf, len, label, &count, err, errlen);
        if (rc == CERTROLE_OK && count == 0) {
            errf(err, errlen, "crl-file %s: not a CRL (no X509 CRL block in the PEM text)", path);
            rc = CERTROLE_E_POLICY_ERROR;
        }
    } else {
        rc = crls_der(crls, (const unsigned char *)buf, len, path, err, errlen);
    }
    ERR_clear_error();
    free(buf);
    return rc;
}

/* The certificates (and PEM CRL blocks) of an anchor file's bytes. */
static certrole_code anchors_from(struct cr_trust_load *l, const char *label, const char *path,
                                  const char *buf, size_t len, int *ncrls,
                                  char *err, size_t errlen)
{
    STACK_OF(X509) *certs = NULL;
    char *msg = NULL;
    certrole_code rc = cr_input_decode_anchors(buf, len, &certs, &msg);
    if (rc != CERTROLE_OK) {
        if (rc != CERTROLE_E_NO_MEMORY)
            rc = CERTROLE_E_POLICY_ERROR;
        errf(err, errlen, "%s: no usable certificate (%s)", label, msg ? msg : "out of memory");
        free(msg);
        return rc;
    }
    while (rc == CERTROLE_OK && sk_X509_num(certs) > 0)
        rc = cr_trust_ld_anchor(l, sk_X509_shift(certs), path);
    sk_X509_pop_free(certs, X509_free);
    /* A PEM bundle may carry CRLs too (OpenSSL's own loader took them):
     * they count as a CRL source like crl-file. */
    if (rc == CERTROLE_OK && memmem(buf, len, "-----BEGIN X509 CRL", 19))
        rc = crls_pem(l->crls, buf, len, label, ncrls, err, errlen);
    return rc;
}

certrole_code cr_trust_load_anchors(struct cr_trust_load *l, const char *label,
                                    const char *path, const char *pwfile, int *ncrls,
                                    char *err, size_t errlen)
{
    size_t len = 0;
    certrole_code rc = CERTROLE_OK;
    *ncrls = 0;
    char *buf = read_file(path, label, CR_INPUT_MAX_ANCHOR_BYTES, &len, &rc, err, errlen);
    if (!buf)
        return rc;
    if (cr_trust_is_p12((const unsigned char *)buf, len)) {
        rc = cr_trust_load_p12(l, path, (const unsigned char *)buf, len, pwfile, err, errlen);
    } else if (pwfile) {
        errf(err, errlen, "ca-password-file %s: given, but %s is not a PKCS#12 truststore "
             "(the password is for a PKCS#12 ca-file only)", pwfile, label);
        rc = CERTROLE_E_POLICY_ERROR;
    } else {
        rc = anchors_from(l, label, path, buf, len, ncrls, err, errlen);
    }
    if (rc == CERTROLE_OK)
        rc = cr_trust_ld_file(l, path);
    ERR_clear_error();
    free(buf);
    return rc;
}
