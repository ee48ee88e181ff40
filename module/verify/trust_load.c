/* Reading the trust profile's files (trust.h): anchors and CRLs are read
 * by certrole itself, through the regular-file reader, and handed to
 * OpenSSL from memory, so no file is ever opened by a loader that would
 * block on a FIFO or accept a device. */
#define _GNU_SOURCE
#include "trust.h"
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include "input.h"
#include "readfile.h"

/* CRLs of big CAs run to tens of megabytes; past this a file is refused. */
#define MAX_CRL_BYTES (256u * 1024u * 1024u)

static void errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static const char *ossl_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    return r ? r : "no detail";
}

/* Reads a regular file whole; on failure the message names what and path. */
static char *read_file(const char *path, const char *what, size_t max, size_t *len,
                       certrole_code *rc, char *err, size_t errlen)
{
    int why = 0;
    char *buf = cr_rf_read(path, max, NULL, len, NULL, &why);
    if (!buf) {
        char reason[160];
        cr_rf_strerror(path, why, reason, sizeof reason);
        if (why == CR_RF_TOOBIG)
            snprintf(reason, sizeof reason, "file too large (more than %zu bytes)", max);
        errf(err, errlen, "%s %s: %s", what, path, reason);
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
                              const char *what, const char *path, int *count,
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
                errf(err, errlen, "%s %s: CRL number %d is damaged (%s)", what, path,
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
    char *buf = read_file(path, "crl-file", MAX_CRL_BYTES, &len, &rc, err, errlen);
    if (!buf)
        return rc;
    ERR_clear_error();
    if (memmem(buf, len, "-----BEGIN", 10)) {
        int count = 0;
        rc = crls_pem(crls, buf, len, "crl-file", path, &count, err, errlen);
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

certrole_code cr_trust_load_anchors(X509_STORE *store, STACK_OF(X509_CRL) *crls,
                                    const char *path, int *ncrls, char *err, size_t errlen)
{
    size_t len = 0;
    certrole_code rc = CERTROLE_OK;
    *ncrls = 0;
    char *buf = read_file(path, "ca-file", CR_INPUT_MAX_ANCHOR_BYTES, &len, &rc, err, errlen);
    if (!buf)
        return rc;
    STACK_OF(X509) *certs = NULL;
    char *msg = NULL;
    rc = cr_input_decode_anchors(buf, len, &certs, &msg);
    if (rc != CERTROLE_OK) {
        if (rc != CERTROLE_E_NO_MEMORY)
            rc = CERTROLE_E_POLICY_ERROR;
        errf(err, errlen, "ca-file %s: no usable certificate (%s)", path,
             msg ? msg : "out of memory");
        free(msg);
        free(buf);
        return rc;
    }
    for (int i = 0; i < sk_X509_num(certs) && rc == CERTROLE_OK; i++)
        if (!X509_STORE_add_cert(store, sk_X509_value(certs, i))) {
            errf(err, errlen, "ca-file %s: certificate %d cannot be added (%s)", path, i + 1,
                 ossl_reason());
            rc = CERTROLE_E_POLICY_ERROR;
        }
    sk_X509_pop_free(certs, X509_free);
    /* A PEM bundle may carry CRLs too (OpenSSL's own loader took them):
     * they count as a CRL source like crl-file. */
    if (rc == CERTROLE_OK && memmem(buf, len, "-----BEGIN X509 CRL", 19))
        rc = crls_pem(crls, buf, len, "ca-file", path, ncrls, err, errlen);
    ERR_clear_error();
    free(buf);
    return rc;
}

/* "0123abcd.0" (a certificate) or "0123abcd.r0" (a CRL), as 'openssl
 * rehash' names them: 1 certificate, 2 CRL, 0 neither. */
static int hashed_name(const char *n)
{
    for (int i = 0; i < 8; i++)
        if (!n[i] || !strchr("0123456789abcdef", n[i]))
            return 0;
    if (n[8] != '.')
        return 0;
    const char *num = n[9] == 'r' ? n + 10 : n + 9;
    if (!*num || strspn(num, "0123456789") != strlen(num))
        return 0;
    return n[9] == 'r' ? 2 : 1;
}

certrole_code cr_trust_scan_dir(const char *dir, int *has_crls, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    certrole_code rc = CERTROLE_OK;
    *has_crls = 0;
    if (!d) {
        errf(err, errlen, "ca-dir %s: %s", dir, strerror(errno));
        return CERTROLE_E_IO;
    }
    /* OpenSSL opens these itself, later, while verifying: a FIFO among
     * them would hang a verification, so refuse it now. */
    while (rc == CERTROLE_OK && (e = readdir(d)) != NULL) {
        int kind = hashed_name(e->d_name);
        struct stat st;
        if (!kind)
            continue;
        *has_crls |= kind == 2;
        if (fstatat(dirfd(d), e->d_name, &st, 0) == 0 && !S_ISREG(st.st_mode)) {
            char *p = NULL, why[160];
            if (asprintf(&p, "%s/%s", dir, e->d_name) < 0)
                p = NULL;
            errf(err, errlen, "ca-dir %s: %s: %s", dir, e->d_name,
                 cr_rf_strerror(p ? p : e->d_name, CR_RF_NOTREG, why, sizeof why));
            free(p);
            rc = CERTROLE_E_POLICY_ERROR;
        }
    }
    closedir(d);
    return rc;
}
