/* PKCS#12 work limits. A .p12 file names its own key-derivation
 * iteration counts (the MAC's, each encrypted safe's, each shrouded
 * key's) and OpenSSL runs whatever it says: a 4 KB file asking for 2^31
 * iterations keeps a thread busy for many minutes. The bytes come from a peer
 * or a person, so every count is checked before any password is tried
 * (found while writing the certificate fuzz target, tests/fuzz/). */
#define _GNU_SOURCE
#include <stdio.h>
#include <openssl/objects.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/err.h>
#include "input.h"
#include "input_dec.h"
#include "trust.h"

#define fail cr_dec_fail
#define add_cert cr_dec_add
#define ossl_reason cr_trust_ossl_reason

/* Iterations an encryption algorithm asks for; -1 when it is not a
 * password-based scheme we can bound (e.g. scrypt) or does not decode. */
static long alg_iter(const X509_ALGOR *alg)
{
    if (!alg || !alg->algorithm)
        return -1;
    long iter = -1;
    if (OBJ_obj2nid(alg->algorithm) == NID_pbes2) {
        PBE2PARAM *p2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), alg->parameter);
        if (p2 && p2->keyfunc && OBJ_obj2nid(p2->keyfunc->algorithm) == NID_id_pbkdf2) {
            PBKDF2PARAM *k = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM),
                                                       p2->keyfunc->parameter);
            if (k && k->iter)
                iter = ASN1_INTEGER_get(k->iter);
            PBKDF2PARAM_free(k);
        }
        PBE2PARAM_free(p2);
    } else {
        PBEPARAM *p = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBEPARAM), alg->parameter);
        if (p && p->iter)
            iter = ASN1_INTEGER_get(p->iter);
        PBEPARAM_free(p);
    }
    return iter;
}

static int iter_ok(long iter, const char *what, char *why, size_t n)
{
    if (iter < 1) {
        snprintf(why, n, "%s uses an unsupported or damaged key derivation", what);
        return 0;
    }
    if (iter > CR_INPUT_MAX_P12_ITER) {
        snprintf(why, n, "%s asks for %ld key-derivation iterations (at most %ld accepted)",
                 what, iter, (long)CR_INPUT_MAX_P12_ITER);
        return 0;
    }
    return 1;
}

static int bags_ok(const STACK_OF(PKCS12_SAFEBAG) *bags, int depth, char *why, size_t n)
{
    if (depth > 8) {
        snprintf(why, n, "safe contents nested too deeply");
        return 0;
    }
    for (int i = 0; i < sk_PKCS12_SAFEBAG_num(bags); i++) {
        const PKCS12_SAFEBAG *bag = sk_PKCS12_SAFEBAG_value(bags, i);
        int nid = PKCS12_SAFEBAG_get_nid(bag);
        if (nid == NID_pkcs8ShroudedKeyBag) {
            const X509_ALGOR *alg = NULL;
            X509_SIG_get0(PKCS12_SAFEBAG_get0_pkcs8(bag), &alg, NULL);
            if (!iter_ok(alg_iter(alg), "the private key", why, n))
                return 0;
        } else if (nid == NID_safeContentsBag &&
                   !bags_ok(PKCS12_SAFEBAG_get0_safes(bag), depth + 1, why, n)) {
            return 0;
        }
    }
    return 1;
}

int cr_input_p12_check(PKCS12 *p12, int decrypt, const char *pw, char *why, size_t n)
{
    if (PKCS12_mac_present(p12)) {
        const ASN1_INTEGER *it = NULL;
        PKCS12_get0_mac(NULL, NULL, NULL, &it, p12);
        if (!iter_ok(it ? ASN1_INTEGER_get(it) : 1, "the integrity MAC", why, n))
            return -1;
    }
    STACK_OF(PKCS7) *safes = PKCS12_unpack_authsafes(p12);
    if (!safes)
        return 0; /* PKCS12_parse reports the damage */
    int ok = 1;
    for (int i = 0; ok && i < sk_PKCS7_num(safes); i++) {
        PKCS7 *p7 = sk_PKCS7_value(safes, i);
        STACK_OF(PKCS12_SAFEBAG) *bags = NULL;
        int nid = OBJ_obj2nid(p7->type);
        if (nid == NID_pkcs7_data) {
            bags = PKCS12_unpack_p7data(p7);
        } else if (nid == NID_pkcs7_encrypted) {
            const X509_ALGOR *alg = p7->d.encrypted && p7->d.encrypted->enc_data
                                        ? p7->d.encrypted->enc_data->algorithm : NULL;
            ok = iter_ok(alg_iter(alg), "an encrypted safe", why, n);
            if (ok && decrypt)
                bags = PKCS12_unpack_p7encdata(p7, pw, -1);
        }
        if (ok && bags)
            ok = bags_ok(bags, 0, why, n);
        sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
    }
    sk_PKCS7_pop_free(safes, PKCS7_free);
    return ok ? 0 : -1;
}

int cr_input_p12_cert_bags(const STACK_OF(PKCS12_SAFEBAG) *bags, int depth, STACK_OF(X509) *out,
                           int *keys)
{
    if (depth > 8)
        return -2;
    for (int i = 0; i < sk_PKCS12_SAFEBAG_num(bags); i++) {
        const PKCS12_SAFEBAG *bag = sk_PKCS12_SAFEBAG_value(bags, i);
        int nid = PKCS12_SAFEBAG_get_nid(bag);
        if (nid == NID_certBag && PKCS12_SAFEBAG_get_bag_nid(bag) == NID_x509Certificate) {
            X509 *x = PKCS12_SAFEBAG_get1_cert(bag);
            if (!x || !sk_X509_push(out, x)) {
                X509_free(x);
                return -2;
            }
        } else if (nid == NID_safeContentsBag) {
            int rc = cr_input_p12_cert_bags(PKCS12_SAFEBAG_get0_safes(bag), depth + 1, out, keys);
            if (rc < 0)
                return rc;
        } else if (keys && (nid == NID_keyBag || nid == NID_pkcs8ShroudedKeyBag)) {
            ++*keys;
        }
    }
    return 0;
}

int cr_input_p12_nomac_certs(PKCS12 *p12, const char *pw, STACK_OF(X509) *out)
{
    STACK_OF(PKCS7) *safes = PKCS12_unpack_authsafes(p12);
    if (!safes)
        return -2;
    int rc = 0;
    for (int i = 0; rc == 0 && i < sk_PKCS7_num(safes); i++) {
        PKCS7 *p7 = sk_PKCS7_value(safes, i);
        STACK_OF(PKCS12_SAFEBAG) *bags = NULL;
        int nid = OBJ_obj2nid(p7->type);
        if (nid == NID_pkcs7_data) {
            if (!(bags = PKCS12_unpack_p7data(p7)))
                rc = -2;
        } else if (nid == NID_pkcs7_encrypted) {
            if (!pw || !(bags = PKCS12_unpack_p7encdata(p7, pw, -1)))
                rc = -1;
        }
        if (rc == 0 && bags)
            rc = cr_input_p12_cert_bags(bags, 0, out, NULL);
        sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
    }
    sk_PKCS7_pop_free(safes, PKCS7_free);
    return rc;
}

/* ----- PKCS#12 ------------------------------------------------------- */

/* A file without an integrity MAC: nothing can tell whether a password is
 * right before decrypting with it (and OpenSSL's PKCS12_parse refuses any
 * password on such a file), so the certificates are read directly. */
static void decode_p12_nomac(struct dec *d, PKCS12 *p12, const char *password)
{
    STACK_OF(X509) *certs = sk_X509_new_null();
    int rc = certs ? cr_input_p12_nomac_certs(p12, password, certs) : -2;
    if (rc == -1 && password)
        fail(d, CERTROLE_E_BAD_PASSWORD,
             "give the password the .p12 file was exported with (--password)",
             "PKCS#12: the file has no integrity MAC, so the password cannot be checked "
             "by one; the certificates do not decrypt with the password given (a wrong "
             "password, or damaged contents)");
    else if (rc == -1)
        fail(d, CERTROLE_E_BAD_PASSWORD,
             "give the password the .p12 file was exported with (--password)",
             "PKCS#12: the certificates are encrypted and no password was given "
             "(the file has no integrity MAC)");
    else if (rc < 0)
        fail(d, CERTROLE_E_BAD_ENCODING, "export the .p12 file again; it is damaged",
             "PKCS#12: damaged, the certificates cannot be decoded");
    while (rc == 0 && d->code == CERTROLE_OK && sk_X509_num(certs) > 0)
        add_cert(d, sk_X509_shift(certs));
    sk_X509_pop_free(certs, X509_free);
    /* No key to name the leaf: it is found by issuance, like any set. */
    d->unordered = 1;
    d->what = "the PKCS#12 file";
}

void cr_dec_p12(struct dec *d, const unsigned char *p, size_t len, const char *password)
{
    const unsigned char *q = p;
    ERR_clear_error();
    PKCS12 *p12 = d2i_PKCS12(NULL, &q, (long)len);
    if (!p12) {
        fail(d, CERTROLE_E_BAD_ENCODING, "export the .p12 file again; it is damaged",
             "PKCS#12: damaged, cannot be decoded (%s)", ossl_reason());
        return;
    }
    const char *pw = password;
    char why[160];
    const char *hint_p12 = "re-export the .p12 with current settings (openssl pkcs12 -export)";
    if (cr_input_p12_check(p12, 0, NULL, why, sizeof why) < 0) { /* before any KDF runs */
        fail(d, CERTROLE_E_BAD_ENCODING, hint_p12, "PKCS#12: %s; refused", why);
        goto out;
    }
    if (!PKCS12_mac_present(p12)) {
        decode_p12_nomac(d, p12, password);
        goto out;
    }
    /* The MAC tells a wrong password apart from damaged contents. */
    {
        if (password) {
            if (!PKCS12_verify_mac(p12, password, -1)) {
                fail(d, CERTROLE_E_BAD_PASSWORD,
                     "give the password the .p12 file was exported with (--password)",
                     "PKCS#12: wrong password (integrity MAC does not verify)");
                goto out;
            }
        } else if (PKCS12_verify_mac(p12, NULL, 0)) {
            pw = NULL;
        } else if (PKCS12_verify_mac(p12, "", 0)) {
            pw = "";
        } else {
            fail(d, CERTROLE_E_BAD_PASSWORD,
                 "give the password the .p12 file was exported with (--password)",
                 "PKCS#12: the file is password-protected and no password was given");
            goto out;
        }
    }
    if (cr_input_p12_check(p12, 1, pw, why, sizeof why) < 0) { /* keys in encrypted safes */
        fail(d, CERTROLE_E_BAD_ENCODING, hint_p12, "PKCS#12: %s; refused", why);
        goto out;
    }
    EVP_PKEY *pkey = NULL;
    X509 *cert = NULL;
    STACK_OF(X509) *ca = NULL;
    ERR_clear_error();
    if (!PKCS12_parse(p12, pw, &pkey, &cert, &ca)) {
        fail(d, CERTROLE_E_BAD_ENCODING,
             "re-export the .p12 with current algorithms (openssl pkcs12 -export uses AES-256)",
             "PKCS#12: password accepted but the contents cannot be decrypted or decoded (%s)",
             ossl_reason());
        goto out;
    }
    EVP_PKEY_free(pkey);
    int have_leaf = cert != NULL;
    if (cert && add_cert(d, cert) < 0)
        cert = NULL;
    while (d->code == CERTROLE_OK && ca && sk_X509_num(ca) > 0)
        add_cert(d, sk_X509_shift(ca));
    sk_X509_pop_free(ca, X509_free);
    d->leaf_known = have_leaf;  /* else no key: found by issuance */
    d->unordered = 1;
    d->what = "the PKCS#12 file";
out:
    PKCS12_free(p12);
}
