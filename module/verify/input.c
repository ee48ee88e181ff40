/* Peer bytes -> leaf + untrusted intermediates, and the two byte-level
 * public entry points. A decoding failure says exactly what is wrong with
 * the bytes (which PEM block, which DER offset, wrong password) because
 * "bad certificate" alone sends people guessing. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "chain_order.h"
#include "input.h"
#include "input_dec.h"
#include "trust.h"
#include "verify.h"

static const char HINT_FORMATS[] =
    "give the certificate as PEM (-----BEGIN CERTIFICATE-----), DER, "
    "PKCS#7 (.p7b) or PKCS#12 (.p12)";
static const char HINT_PEM[] =
    "the PEM text was altered or cut (copy and paste, line wrapping, mail); "
    "export the certificate again and copy every line from -----BEGIN to -----END";
static const char HINT_DER[] =
    "these bytes are not an X.509 certificate: check the file is the "
    "certificate (not a key or request) and was copied in binary mode";
static const char HINT_EMPTY[] =
    "the client must present its certificate (leaf first, then intermediates)";

#define fail cr_dec_fail
#define add_cert cr_dec_add

void cr_dec_fail(struct dec *d, certrole_code code, const char *hint, const char *fmt, ...)
{
    if (d->code != CERTROLE_OK)
        return; /* keep the first, most specific failure */
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&d->msg, fmt, ap) < 0)
        d->msg = NULL;
    va_end(ap);
    d->hint = strdup(hint);
    d->code = (d->msg && d->hint) ? code : CERTROLE_E_NO_MEMORY;
}

/* Takes ownership of x. */
int cr_dec_add(struct dec *d, X509 *x)
{
    if (sk_X509_num(d->certs) >= (d->anchors ? CR_INPUT_MAX_ANCHORS : CR_INPUT_MAX_CERTS)) {
        X509_free(x);
        fail(d, CERTROLE_E_BAD_ENCODING,
             "send only the client certificate and its intermediates",
             "input holds more than %d certificates; refused",
             d->anchors ? CR_INPUT_MAX_ANCHORS : CR_INPUT_MAX_CERTS);
        return -1;
    }
    if (!sk_X509_push(d->certs, x)) {
        X509_free(x);
        fail(d, CERTROLE_E_NO_MEMORY, "", "out of memory");
        return -1;
    }
    return 0;
}

#define ossl_reason cr_trust_ossl_reason

/* ----- DER ------------------------------------------------------------- */

/* Reads the TLV header at off. Returns 0 and the content span, or -1
 * with a message naming the offset. want < 0: any tag. */
static int der_elem(const unsigned char *p, size_t off, size_t end, int want,
                    size_t *coff, size_t *clen, char *buf, size_t n)
{
    if (off >= end) {
        snprintf(buf, n, "DER: truncated (data ends at offset %zu, an element was expected)", off);
        return -1;
    }
    if (want >= 0 && p[off] != want) {
        snprintf(buf, n, "DER: not a certificate (tag 0x%02x at offset %zu, expected 0x%02x)",
                 p[off], off, (unsigned)want);
        return -1;
    }
    const unsigned char *q = p + off;
    long len = 0;
    int tag, cls;
    ERR_clear_error();
    int r = ASN1_get_object(&q, &len, &tag, &cls, (long)(end - off));
    if (r & 0x80) {
        unsigned long e = ERR_peek_last_error();
        if (ERR_GET_REASON(e) == ASN1_R_TOO_LONG && len > 0)
            snprintf(buf, n, "DER: length error at offset %zu (element declares %ld bytes, "
                     "only %zu present: truncated?)", off, len, end - (size_t)(q - p));
        else
            snprintf(buf, n, "DER: tag/length error at offset %zu (tag 0x%02x)", off, p[off]);
        return -1;
    }
    if (r & 0x01) { /* indefinite length: not DER */
        snprintf(buf, n, "DER: indefinite length at offset %zu (BER is not accepted)", off);
        return -1;
    }
    *coff = (size_t)(q - p);
    *clen = (size_t)len;
    return 0;
}

/* Explains why p[off..end) is not a certificate: the first structural
 * fault of Certificate ::= SEQUENCE { tbs SEQUENCE, alg SEQUENCE, sig BIT
 * STRING }, else OpenSSL's reason for the inner fields. */
static void der_explain(const unsigned char *p, size_t off, size_t end, char *buf, size_t n)
{
    size_t c, cl, c2, cl2;
    if (der_elem(p, off, end, 0x30, &c, &cl, buf, n) < 0)
        return;
    size_t cend = c + cl;
    if (der_elem(p, c, cend, 0x30, &c2, &cl2, buf, n) < 0)
        return;
    size_t next = c2 + cl2;
    if (der_elem(p, next, cend, 0x30, &c2, &cl2, buf, n) < 0)
        return;
    next = c2 + cl2;
    if (der_elem(p, next, cend, 0x03, &c2, &cl2, buf, n) < 0)
        return;
    snprintf(buf, n, "DER: certificate fields damaged inside the structure at offset %zu (%s)",
             off, ossl_reason());
}

/* One or more concatenated DER certificates starting at p. */
static void decode_der_certs(struct dec *d, const unsigned char *p, size_t len)
{
    size_t off = 0;
    char buf[256];
    while (off < len && d->code == CERTROLE_OK) {
        const unsigned char *q = p + off;
        ERR_clear_error();
        X509 *x = d2i_X509(NULL, &q, (long)(len - off));
        if (!x) {
            der_explain(p, off, len, buf, sizeof buf);
            fail(d, CERTROLE_E_BAD_ENCODING, HINT_DER, "%s", buf);
            return;
        }
        off = (size_t)(q - p);
        if (add_cert(d, x) < 0)
            return;
    }
}

static void take_p7(struct dec *d, PKCS7 *p7, const char *what)
{
    STACK_OF(X509) *in = NULL;
    if (PKCS7_type_is_signed(p7) && p7->d.sign)
        in = p7->d.sign->cert;
    else if (PKCS7_type_is_signedAndEnveloped(p7) && p7->d.signed_and_enveloped)
        in = p7->d.signed_and_enveloped->cert;
    else {
        fail(d, CERTROLE_E_NO_CERTIFICATE, HINT_FORMATS,
             "%s is not a certificate bundle (content type %s)", what,
             OBJ_nid2sn(OBJ_obj2nid(p7->type)));
        return;
    }
    for (int i = 0; i < sk_X509_num(in); i++) {
        X509 *x = sk_X509_value(in, i);
        if (!X509_up_ref(x) || add_cert(d, x) < 0) {
            fail(d, CERTROLE_E_NO_MEMORY, "", "out of memory");
            return;
        }
    }
    d->unordered = 1;
    d->what = "the PKCS#7 bundle";
}

static void decode_p7_der(struct dec *d, const unsigned char *p, size_t len, const char *what)
{
    const unsigned char *q = p;
    ERR_clear_error();
    PKCS7 *p7 = d2i_PKCS7(NULL, &q, (long)len);
    if (!p7) {
        fail(d, CERTROLE_E_BAD_ENCODING, HINT_FORMATS, "%s: damaged, cannot be decoded (%s)",
             what, ossl_reason());
        return;
    }
    take_p7(d, p7, what);
    PKCS7_free(p7);
}

/* ----- PEM ----------------------------------------------------------- */

static int is_cert_label(const char *name)
{
    return !strcmp(name, PEM_STRING_X509) || !strcmp(name, PEM_STRING_X509_OLD) ||
           !strcmp(name, PEM_STRING_X509_TRUSTED);
}

static int is_p7_label(const char *name)
{
    return !strcmp(name, PEM_STRING_PKCS7) || !strcmp(name, PEM_STRING_PKCS7_SIGNED) ||
           !strcmp(name, "CMS");
}

/* Lines that open a PEM block, to notice a block PEM_read_bio skipped
 * because its BEGIN line itself is broken. */
static int count_begin_lines(const char *s, size_t len)
{
    int n = 0;
    for (size_t i = 0; i + 10 <= len; i++)
        if ((i == 0 || s[i - 1] == '\n') && !memcmp(s + i, "-----BEGIN", 10))
            n++;
    return n;
}

/* A PKCS#7 block is a bundle in itself: decoded apart (its errors name
 * the block), its certificates appended. Returns how many. */
static int take_pem_p7(struct dec *d, const unsigned char *body, long blen, int block)
{
    char what[40];
    snprintf(what, sizeof what, "PEM block %d (PKCS#7)", block);
    int before = sk_X509_num(d->certs);
    struct dec sub = { .certs = sk_X509_new_null(), .code = CERTROLE_OK, .anchors = d->anchors };
    if (!sub.certs) {
        fail(d, CERTROLE_E_NO_MEMORY, "", "out of memory");
        return 0;
    }
    decode_p7_der(&sub, body, (size_t)blen, what);
    if (sub.code != CERTROLE_OK)
        fail(d, sub.code, sub.hint ? sub.hint : "", "%s", sub.msg ? sub.msg : "");
    while (d->code == CERTROLE_OK && sk_X509_num(sub.certs) > 0)
        add_cert(d, sk_X509_shift(sub.certs));
    sk_X509_pop_free(sub.certs, X509_free);
    free(sub.msg);
    free(sub.hint);
    d->unordered = 1;
    return sk_X509_num(d->certs) - before;
}

static void decode_pem(struct dec *d, const char *data, size_t len)
{
    BIO *b = BIO_new_mem_buf(data, (int)len);
    if (!b) {
        fail(d, CERTROLE_E_NO_MEMORY, "", "out of memory");
        return;
    }
    int block = 0, certs = 0;
    char other[64] = "";
    while (d->code == CERTROLE_OK) {
        char *name = NULL, *header = NULL;
        unsigned char *body = NULL;
        long blen = 0;
        ERR_clear_error();
        if (!PEM_read_bio(b, &name, &header, &body, &blen)) {
            unsigned long e = ERR_peek_last_error();
            int reason = ERR_GET_REASON(e);
            if (ERR_GET_LIB(e) == ERR_LIB_PEM && reason == PEM_R_NO_START_LINE)
                break; /* no further block */
            if (reason == PEM_R_BAD_BASE64_DECODE)
                fail(d, CERTROLE_E_BAD_ENCODING, HINT_PEM, "PEM block %d: base64 damaged",
                     block + 1);
            else if (reason == PEM_R_BAD_END_LINE || reason == PEM_R_SHORT_HEADER)
                fail(d, CERTROLE_E_BAD_ENCODING, HINT_PEM,
                     "PEM block %d: armour broken (missing or mismatched -----END line; "
                     "truncated?)", block + 1);
            else
                fail(d, CERTROLE_E_BAD_ENCODING, HINT_PEM, "PEM block %d: armour broken (%s)",
                     block + 1, ossl_reason());
            break;
        }
        block++;
        if (is_cert_label(name)) {
            const unsigned char *q = body;
            ERR_clear_error();
            X509 *x = !strcmp(name, PEM_STRING_X509_TRUSTED) ? d2i_X509_AUX(NULL, &q, blen)
                                                               : d2i_X509(NULL, &q, blen);
            if (!x) {
                char buf[200];
                der_explain(body, 0, (size_t)blen, buf, sizeof buf);
                fail(d, CERTROLE_E_BAD_ENCODING, HINT_PEM, "PEM block %d: %s", block, buf);
            } else if (q != body + blen) {
                X509_free(x);
                fail(d, CERTROLE_E_BAD_ENCODING, HINT_PEM,
                     "PEM block %d: %ld bytes of garbage after the certificate", block,
                     (long)(body + blen - q));
            } else if (add_cert(d, x) == 0) {
                certs++;
            }
        } else if (is_p7_label(name)) {
            certs += take_pem_p7(d, body, blen, block);
        } else if (!other[0]) {
            snprintf(other, sizeof other, "%s", name);
        }
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(body);
    }
    BIO_free(b);
    if (d->code != CERTROLE_OK)
        return;
    int begins = count_begin_lines(data, len);
    if (begins > block) {
        fail(d, CERTROLE_E_BAD_ENCODING, HINT_PEM,
             "PEM block %d: armour broken (malformed -----BEGIN line)", block + 1);
        return;
    }
    if (certs == 0) {
        if (other[0])
            fail(d, CERTROLE_E_NO_CERTIFICATE, HINT_EMPTY,
                 "no certificate: the PEM input holds only %s blocks", other);
        else
            fail(d, CERTROLE_E_NO_CERTIFICATE, HINT_EMPTY, "no certificate in the PEM input");
    }
}

/* ----- format sniffing --------------------------------------------------- */

static int all_blank(const unsigned char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!strchr(" \t\r\n", p[i]) || p[i] == '\0')
            return 0;
    return 1;
}

static int mostly_text(const unsigned char *p, size_t len)
{
    size_t text = 0, n = len < 512 ? len : 512;
    for (size_t i = 0; i < n; i++)
        if ((p[i] >= 0x20 && p[i] < 0x7f) || p[i] == '\n' || p[i] == '\r' || p[i] == '\t')
            text++;
    return n > 0 && text * 10 >= n * 9;
}

static int has_pem_armour(const char *p, size_t len)
{
    return memmem(p, len, "-----BEGIN", 10) != NULL;
}

/* The second tag of a DER SEQUENCE tells the three binary formats apart:
 * Certificate { SEQUENCE ..}, ContentInfo { OID ..}, PFX { INTEGER ..}. */
static certrole_format sniff_der(const unsigned char *p, size_t len)
{
    size_t c, cl;
    char buf[8];
    if (len < 2 || p[0] != 0x30 || der_elem(p, 0, len, 0x30, &c, &cl, buf, sizeof buf) < 0 ||
        c >= len)
        return CERTROLE_FORMAT_DER;
    /* OID 1.2.840.113549.1.7.2 (signedData); INTEGER 3 (PFX version). */
    static const unsigned char signed_data[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                                 0xf7, 0x0d, 0x01, 0x07, 0x02 };
    static const unsigned char pfx_v3[] = { 0x02, 0x01, 0x03 };
    if (len - c >= sizeof signed_data && !memcmp(p + c, signed_data, sizeof signed_data))
        return CERTROLE_FORMAT_PKCS7;
    if (len - c >= sizeof pfx_v3 && !memcmp(p + c, pfx_v3, sizeof pfx_v3))
        return CERTROLE_FORMAT_PKCS12;
    return CERTROLE_FORMAT_DER;
}

static void decode(struct dec *d, const unsigned char *p, size_t len, certrole_format format,
                   const char *password)
{
    if (len > (d->anchors ? CR_INPUT_MAX_ANCHOR_BYTES : CR_INPUT_MAX_BYTES)) {
        fail(d, CERTROLE_E_BAD_ENCODING,
             "send only the client certificate and its intermediates",
             "input is %zu bytes, more than the %u-byte limit; refused", len,
             d->anchors ? CR_INPUT_MAX_ANCHOR_BYTES : CR_INPUT_MAX_BYTES);
        return;
    }
    if (len == 0 || all_blank(p, len)) {
        fail(d, CERTROLE_E_NO_CERTIFICATE, HINT_EMPTY, "no certificate: the input is empty");
        return;
    }
    int armoured = has_pem_armour((const char *)p, len);
    d->what = armoured ? "the PEM input" : "the DER input";
    switch (format) {
    case CERTROLE_FORMAT_AUTO:
        if (armoured) {
            decode_pem(d, (const char *)p, len);
        } else if (p[0] == 0x30) {
            certrole_format f = sniff_der(p, len);
            if (f == CERTROLE_FORMAT_PKCS7)
                decode_p7_der(d, p, len, "PKCS#7 bundle");
            else if (f == CERTROLE_FORMAT_PKCS12 && d->anchors)
                fail(d, CERTROLE_E_BAD_ENCODING, HINT_FORMATS,
                     "a PKCS#12 file is not an anchor file (use PEM, DER or PKCS#7)");
            else if (f == CERTROLE_FORMAT_PKCS12)
                cr_dec_p12(d, p, len, password);
            else
                decode_der_certs(d, p, len);
        } else if (mostly_text(p, len)) {
            fail(d, CERTROLE_E_BAD_ENCODING, HINT_FORMATS,
                 "unrecognised format: text without PEM armour (no -----BEGIN line)");
        } else {
            fail(d, CERTROLE_E_BAD_ENCODING, HINT_FORMATS,
                 "unrecognised format: not PEM, and not DER (tag 0x%02x at offset 0)", p[0]);
        }
        break;
    case CERTROLE_FORMAT_PEM:
        if (!armoured)
            fail(d, CERTROLE_E_BAD_ENCODING, HINT_FORMATS,
                 "not PEM: no -----BEGIN CERTIFICATE----- line in the input");
        else
            decode_pem(d, (const char *)p, len);
        break;
    case CERTROLE_FORMAT_DER:
        if (armoured)
            fail(d, CERTROLE_E_BAD_ENCODING, HINT_FORMATS,
                 "not DER: the input is PEM text (-----BEGIN line found)");
        else
            decode_der_certs(d, p, len);
        break;
    case CERTROLE_FORMAT_PKCS7:
        if (armoured)
            decode_pem(d, (const char *)p, len);
        else
            decode_p7_der(d, p, len, "PKCS#7 bundle");
        break;
    case CERTROLE_FORMAT_PKCS12:
        cr_dec_p12(d, p, len, password);
        break;
    default:
        fail(d, CERTROLE_E_INVALID_ARGUMENT, HINT_FORMATS, "unknown input format %d",
             (int)format);
    }
    if (d->code == CERTROLE_OK && sk_X509_num(d->certs) == 0)
        fail(d, CERTROLE_E_NO_CERTIFICATE, HINT_EMPTY, "no certificate in the input");
}

certrole_code cr_input_decode(const void *data, size_t len, certrole_format format,
                              const char *password, X509 **leaf,
                              STACK_OF(X509) **untrusted, char **msg, char **hint)
{
    *leaf = NULL;
    *untrusted = NULL;
    *msg = *hint = NULL;
    struct dec d = { .certs = sk_X509_new_null(), .code = CERTROLE_OK };
    if (!d.certs)
        return CERTROLE_E_NO_MEMORY;
    if (!data && len > 0)
        fail(&d, CERTROLE_E_INVALID_ARGUMENT, "", "no input buffer");
    else
        decode(&d, data ? data : "", len, format, password);
    int pos = 1;
    if (d.code == CERTROLE_OK && !d.leaf_known)
        d.code = cr_chain_find_leaf(d.certs, d.what ? d.what : "the input", &pos,
                                    &d.msg, &d.hint);
    ERR_clear_error(); /* leave no decoding noise in the thread's queue */
    if (d.code != CERTROLE_OK) {
        sk_X509_pop_free(d.certs, X509_free);
        *msg = d.msg;
        *hint = d.hint;
        return d.code;
    }
    /* Only a list has an order: a PKCS#7 or PKCS#12 set has none to get
     * wrong. The note goes into the result message. */
    if (pos > 1 && !d.unordered &&
        asprintf(msg, "the file lists the chain out of order (leaf is certificate %d of %d); "
                 "it was verified in the right order", pos, sk_X509_num(d.certs)) < 0) {
        sk_X509_pop_free(d.certs, X509_free);
        *msg = NULL;
        return CERTROLE_E_NO_MEMORY;
    }
    *leaf = sk_X509_shift(d.certs);
    *untrusted = d.certs;
    return CERTROLE_OK;
}

certrole_code cr_input_decode_anchors(const void *data, size_t len, STACK_OF(X509) **certs,
                                      char **msg)
{
    *certs = NULL;
    *msg = NULL;
    struct dec d = { .certs = sk_X509_new_null(), .code = CERTROLE_OK, .anchors = 1 };
    if (!d.certs)
        return CERTROLE_E_NO_MEMORY;
    decode(&d, data ? data : "", data ? len : 0, CERTROLE_FORMAT_AUTO, NULL);
    ERR_clear_error();
    free(d.hint);
    if (d.code != CERTROLE_OK) {
        sk_X509_pop_free(d.certs, X509_free);
        *msg = d.msg;
        return d.code;
    }
    *certs = d.certs;
    return CERTROLE_OK;
}

/* ----- public entry points ------------------------------------------------ */

certrole_code certrole_verify_data(certrole_ctx *ctx, const void *data, size_t len,
                                   certrole_format format, const char *password,
                                   certrole_result **res)
{
    if (res)
        *res = NULL;
    if (!ctx || !res)
        return CERTROLE_E_INVALID_ARGUMENT;
    X509 *leaf = NULL;
    STACK_OF(X509) *untrusted = NULL;
    char *msg = NULL, *hint = NULL;
    certrole_code code = cr_input_decode(data, len, format, password, &leaf, &untrusted,
                                         &msg, &hint);
    if (code == CERTROLE_E_NO_MEMORY || code == CERTROLE_E_INVALID_ARGUMENT) {
        free(msg);
        free(hint);
        return code;
    }
    code = cr_verify(ctx, leaf, untrusted, code, msg, hint, res);
    X509_free(leaf);
    sk_X509_pop_free(untrusted, X509_free);
    free(msg);
    free(hint);
    return code;
}

certrole_code certrole_verify_pem(certrole_ctx *ctx, const char *pem, size_t len,
                                  certrole_result **res)
{
    return certrole_verify_data(ctx, pem, len, CERTROLE_FORMAT_PEM, NULL, res);
}
