/* PKCS#12 truststores as ca-file (trust.h): every certificate bag is an
 * anchor, Java's trusted-certificate entries (keytool -importcert) among
 * them. The safe bags are walked here rather than through PKCS12_parse,
 * which keeps one "own" certificate apart and drops others in some
 * layouts. Private keys are never decrypted. */
#define _GNU_SOURCE
#include "trust.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pkcs12.h>
#include "input.h"
#include "readfile.h"

#define errf cr_trust_errf
#define MAX_PASSWORD_FILE 4096

/* The password: the file's first line, without its "\n" or "\r\n". The
 * file must not be readable or writable by every user: the same password
 * often protects private keys. */
static certrole_code read_password(const char *pwfile, char **pw, char *err, size_t errlen)
{
    int why = 0;
    size_t len = 0;
    char *buf = cr_rf_read(pwfile, MAX_PASSWORD_FILE, NULL, &len, NULL, &why);
    if (!buf) {
        char reason[160];
        cr_rf_strerror(pwfile, why, reason, sizeof reason);
        if (why == CR_RF_TOOBIG)
            snprintf(reason, sizeof reason, "file too large for a password (more than %d bytes)",
                     MAX_PASSWORD_FILE);
        errf(err, errlen, "ca-password-file %s: %s", pwfile, reason);
        return why == ENOMEM ? CERTROLE_E_NO_MEMORY
             : why == CR_RF_NOTREG || why == CR_RF_TOOBIG ? CERTROLE_E_POLICY_ERROR
             : CERTROLE_E_IO;
    }
    struct stat st;
    certrole_code rc = CERTROLE_OK;
    if (stat(pwfile, &st) == 0 && (st.st_mode & (S_IROTH | S_IWOTH))) {
        errf(err, errlen, "ca-password-file %s: %s by every user (mode %04o); make it "
             "private (chmod o-rwx)", pwfile, st.st_mode & S_IWOTH ? "writable" : "readable",
             (unsigned)(st.st_mode & 07777));
        rc = CERTROLE_E_POLICY_ERROR;
    } else if (memchr(buf, '\0', len)) {
        errf(err, errlen, "ca-password-file %s: contains a NUL byte", pwfile);
        rc = CERTROLE_E_POLICY_ERROR;
    }
    if (rc != CERTROLE_OK) {
        free(buf);
        return rc;
    }
    char *nl = memchr(buf, '\n', len);
    if (nl) {
        if (nl > buf && nl[-1] == '\r')
            nl--;
        *nl = '\0';
    }
    *pw = buf;
    return CERTROLE_OK;
}

/* Certificate bags of bags (and of nested safe contents) onto out;
 * *keys counts key bags. -1 damaged or no memory. */
static int cert_bags(const STACK_OF(PKCS12_SAFEBAG) *bags, int depth, STACK_OF(X509) *out,
                     int *keys)
{
    if (depth > 8)
        return -1;
    for (int i = 0; i < sk_PKCS12_SAFEBAG_num(bags); i++) {
        const PKCS12_SAFEBAG *bag = sk_PKCS12_SAFEBAG_value(bags, i);
        int nid = PKCS12_SAFEBAG_get_nid(bag);
        if (nid == NID_certBag && PKCS12_SAFEBAG_get_bag_nid(bag) == NID_x509Certificate) {
            X509 *x = PKCS12_SAFEBAG_get1_cert(bag);
            if (!x || !sk_X509_push(out, x)) {
                X509_free(x);
                return -1;
            }
        } else if (nid == NID_safeContentsBag) {
            if (cert_bags(PKCS12_SAFEBAG_get0_safes(bag), depth + 1, out, keys) < 0)
                return -1;
        } else if (nid == NID_keyBag || nid == NID_pkcs8ShroudedKeyBag) {
            ++*keys;
        }
    }
    return 0;
}

/* Every certificate of every safe. 0; -1 damaged; -2 an encrypted safe
 * does not decrypt with pw. */
static int walk(PKCS12 *p12, const char *pw, STACK_OF(X509) *out, int *keys)
{
    STACK_OF(PKCS7) *safes = PKCS12_unpack_authsafes(p12);
    if (!safes)
        return -1;
    int rc = 0;
    for (int i = 0; rc == 0 && i < sk_PKCS7_num(safes); i++) {
        PKCS7 *p7 = sk_PKCS7_value(safes, i);
        STACK_OF(PKCS12_SAFEBAG) *bags = NULL;
        int nid = OBJ_obj2nid(p7->type);
        if (nid == NID_pkcs7_data)
            rc = (bags = PKCS12_unpack_p7data(p7)) ? 0 : -1;
        else if (nid == NID_pkcs7_encrypted)
            rc = (bags = PKCS12_unpack_p7encdata(p7, pw, -1)) ? 0 : -2;
        else
            rc = -1;   /* enveloped (public-key) safes: not for a truststore */
        if (rc == 0)
            rc = cert_bags(bags, 0, out, keys);
        sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
    }
    sk_PKCS7_pop_free(safes, PKCS7_free);
    return rc;
}

/* Checks the MAC and picks the password that opens the file: *use is pw,
 * or NULL when the MAC was made over no password at all. -1 wrong. */
static int mac_password(PKCS12 *p12, const char *pw, const char **use)
{
    *use = pw ? pw : "";
    if (!PKCS12_mac_present(p12))
        return 0;
    if (PKCS12_verify_mac(p12, *use, -1))
        return 0;
    /* An empty password is written either as no bytes or as a UTF-16
     * terminator alone, depending on the exporter: try both. */
    if (**use == '\0' && PKCS12_verify_mac(p12, NULL, 0)) {
        *use = NULL;
        return 0;
    }
    return -1;
}

static certrole_code no_open(const char *path, const char *pwfile, int rc, int mac,
                             char *err, size_t errlen)
{
    if (rc == -1 && mac)   /* the password verified the MAC: the contents are bad */
        errf(err, errlen, "ca-file %s: PKCS#12 truststore is damaged: the password is right "
             "(MAC verification succeeded) but the contents do not decode", path);
    else if (rc == -1)
        errf(err, errlen, "ca-file %s: PKCS#12 truststore is damaged: the contents do not "
             "decode", path);
    else
        errf(err, errlen, "ca-file %s: PKCS#12 truststore has no integrity MAC and its "
             "certificates do not decrypt with %s%s (a wrong password, or damaged contents)",
             path, pwfile ? "the password of ca-password-file " : "an empty password",
             pwfile ? pwfile : "");
    return CERTROLE_E_POLICY_ERROR;
}

static certrole_code open_p12(struct cr_trust_load *l, const char *path, PKCS12 *p12,
                              const char *pw, const char *pwfile, char *err, size_t errlen)
{
    char why[160];
    const char *use = NULL;
    if (cr_input_p12_check(p12, 0, NULL, why, sizeof why) < 0) { /* before any KDF runs */
        errf(err, errlen, "ca-file %s: PKCS#12 truststore refused: %s", path, why);
        return CERTROLE_E_POLICY_ERROR;
    }
    if (mac_password(p12, pw, &use) < 0) {
        if (pwfile)
            errf(err, errlen, "ca-file %s: wrong password for the PKCS#12 truststore (MAC "
                 "verification failed with the password of ca-password-file %s)", path, pwfile);
        else
            errf(err, errlen, "ca-file %s: the PKCS#12 truststore is password-protected (MAC "
                 "verification failed with an empty password): give ca-password-file=", path);
        return CERTROLE_E_POLICY_ERROR;
    }
    STACK_OF(X509) *certs = sk_X509_new_null();
    if (!certs)
        return CERTROLE_E_NO_MEMORY;
    int keys = 0, rc = walk(p12, use, certs, &keys);
    certrole_code code = CERTROLE_OK;
    if (rc < 0) {
        code = no_open(path, pwfile, rc, PKCS12_mac_present(p12), err, errlen);
    } else if (sk_X509_num(certs) == 0) {
        errf(err, errlen, "ca-file %s: the PKCS#12 truststore holds no certificate", path);
        code = CERTROLE_E_POLICY_ERROR;
    }
    while (code == CERTROLE_OK && sk_X509_num(certs) > 0)
        code = cr_trust_ld_anchor(l, sk_X509_shift(certs), path);
    sk_X509_pop_free(certs, X509_free);
    l->p12_keys |= keys > 0;
    return code;
}

certrole_code cr_trust_load_p12(struct cr_trust_load *l, const char *path,
                                const unsigned char *buf, size_t len, const char *pwfile,
                                char *err, size_t errlen)
{
    char *pw = NULL;
    certrole_code rc = CERTROLE_OK;
    if (pwfile && (rc = read_password(pwfile, &pw, err, errlen)) != CERTROLE_OK)
        return rc;
    const unsigned char *q = buf;
    ERR_clear_error();
    PKCS12 *p12 = d2i_PKCS12(NULL, &q, (long)len);
    if (!p12) {
        errf(err, errlen, "ca-file %s: PKCS#12 truststore is damaged or truncated, it does "
             "not decode (%s)", path, cr_trust_ossl_reason());
        rc = CERTROLE_E_POLICY_ERROR;
    } else if (q != buf + len) {
        errf(err, errlen, "ca-file %s: trailing data after the PKCS#12 truststore (at byte %zu)",
             path, (size_t)(q - buf));
        rc = CERTROLE_E_POLICY_ERROR;
    } else {
        rc = open_p12(l, path, p12, pw, pwfile, err, errlen);
    }
    PKCS12_free(p12);
    if (pw) {
        OPENSSL_cleanse(pw, strlen(pw));
        free(pw);
    }
    if (rc == CERTROLE_OK && pwfile)
        rc = cr_trust_ld_file(l, pwfile);
    ERR_clear_error();
    return rc;
}

int cr_trust_is_p12(const unsigned char *p, size_t len)
{
    /* PFX ::= SEQUENCE { version INTEGER (3), authSafe, macData OPTIONAL }:
     * a certificate's SEQUENCE starts with a SEQUENCE, PKCS#7 with an OID. */
    if (len < 2 || p[0] != 0x30)
        return 0;
    size_t i = 2;
    if (p[1] & 0x80) {
        size_t n = p[1] & 0x7f;
        if (n == 0 || n > 4)
            return 0;
        i += n;
    }
    return len >= i + 3 && p[i] == 0x02 && p[i + 1] == 0x01 && p[i + 2] == 0x03;
}
