/* Trust profile: the X509_STORE and verification parameters one policy's
 * 'trust' line describes, built once per configuration, read-only after. */
#ifndef CR_TRUST_H
#define CR_TRUST_H
#include <time.h>
#include <openssl/x509.h>
#include "certrole.h"
#include "ocsp.h"

enum cr_crl_check { CR_CRL_NONE = 0, CR_CRL_LEAF = 1, CR_CRL_CHAIN = 2 };

/* Parsed 'trust' options (owned strings; cr_trust_opts_clear frees). */
struct cr_trust_opts {
    char *ca_file;           /* anchors: PEM, DER, PKCS#7 or PKCS#12 (may be NULL) */
    char *ca_password_file;  /* password of a PKCS#12 ca-file (may be NULL) */
    char *ca_dir;            /* directory of anchors, hashed or not (may be NULL) */
    char **crl_files;        /* PEM or DER CRL files */
    size_t n_crl_files;
    enum cr_crl_check crl_check;
    int crl_check_set;       /* crl-check= given; else leaf when CRLs are loaded */
    int depth;               /* max intermediates, OpenSSL meaning; -1 default */
    int purpose;             /* X509_PURPOSE_SSL_CLIENT by default; 0 = any */
    time_t at_time;          /* 0 = now; else fixed validation time */
    int strict;              /* X509_V_FLAG_X509_STRICT + certrole's own extras */
    int allow_ca_leaf;       /* accept a CA:TRUE leaf as a client (not with strict) */
    char **policies;         /* initial policy OIDs (explicit policy), may be empty */
    size_t n_policies;
    int explicit_policy, inhibit_any, inhibit_map;  /* RFC 5280 policy inputs */
    int explicit_set;        /* explicit-policy= given; else yes when policy= is */
    struct cr_ocsp_opts ocsp;  /* ocsp, ocsp-url, ocsp-failure, ocsp-timeout, ... */
};

void cr_trust_opts_init(struct cr_trust_opts *o);   /* defaults */
void cr_trust_opts_clear(struct cr_trust_opts *o);
/* Applies one 'trust' key=value from the policy (ca-file, ca-dir,
 * ca-password-file, crl-file [repeatable], crl-check, depth, purpose, time, strict, policy,
 * explicit-policy, inhibit-any, inhibit-mapping, allow-ca-leaf, ocsp, ocsp-url,
 * ocsp-failure, ocsp-timeout, ocsp-nonce, ocsp-skew). Relative paths resolve
 * against base_dir. Returns CERTROLE_OK or CERTROLE_E_POLICY_ERROR with a
 * message (no file:line; the caller adds it) in err. */
certrole_code cr_trust_opts_set(struct cr_trust_opts *o, const char *key,
                                const char *value, const char *base_dir,
                                char *err, size_t errlen);

struct cr_trust;  /* opaque */

/* Builds the store (loads CA file/dir and CRLs). On failure returns a code
 * and writes a one-line message ("crl-file /x: not a CRL") into err. */
certrole_code cr_trust_build(const struct cr_trust_opts *o, struct cr_trust **out,
                             char *err, size_t errlen);
/* The option a cr_trust_build_blame failure is about: its key and which
 * of the options with that key (0 = the first); key NULL when the
 * failure is about the directive as a whole. */
struct cr_trust_blame { const char *key; size_t nth; };
certrole_code cr_trust_build_blame(const struct cr_trust_opts *o, struct cr_trust **out,
                                   char *err, size_t errlen, struct cr_trust_blame *b);
void cr_trust_free(struct cr_trust *t);

/* Warnings about the profile as given, such as CRLs loaded next to
 * crl-check=none: the i-th message (borrowed), *key (if not NULL) the
 * option it is about; NULL past the last. */
const char *cr_trust_warning(const struct cr_trust *t, size_t i, const char **key);

/* Earliest CRL nextUpdate among loaded CRLs (0 if none): bounds cache TTLs. */
time_t cr_trust_crl_next_update(const struct cr_trust *t);

/* Whether a ca-dir holds hashed CRLs (*.rN): OpenSSL reads those when a
 * verification first needs them, in each process on its own, so what
 * they said is neither in the watched files nor in the CRL nextUpdate. */
int cr_trust_lazy_crls(const struct cr_trust *t);

/* Files the trust profile read, for change detection (NULL-terminated,
 * borrowed). */
const char *const *cr_trust_files(const struct cr_trust *t);

/* What the file loaders fill while a profile is built: the anchors, each
 * with the file it came from, the CRLs, and every file read (the watch
 * list). cr_trust_build moves it into the profile. */
struct cr_trust_load {
    STACK_OF(X509) *anchors;
    char **from;                /* from[i]: file anchors[i] was read from */
    size_t nfrom;
    unsigned char (*md)[20];    /* md[i]: SHA-1 of anchors[i], for the index */
    size_t *slots, nslots;      /* open-addressing index by md: i + 1, or 0 */
    STACK_OF(X509_CRL) *crls;
    char **files;               /* NULL-terminated */
    size_t nfiles;
    int p12_keys;               /* a PKCS#12 ca-file also holds private keys */
};
/* Helpers of the loaders: a message into err (may be NULL), and the
 * reason of OpenSSL's last error ("no detail" when none). */
void cr_trust_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *cr_trust_ossl_reason(void);
/* Takes x (freed on failure, and when an identical certificate is
 * already there: it stays listed under its first file); file is copied. */
certrole_code cr_trust_ld_anchor(struct cr_trust_load *l, X509 *x, const char *file);
/* Records a file read (once). */
certrole_code cr_trust_ld_file(struct cr_trust_load *l, const char *path);
void cr_trust_ld_clear(struct cr_trust_load *l);

/* File loading (trust_load.c). Files are read through the regular-file
 * reader and decoded from memory; messages start with label ("ca-file
 * /x.pem", or "ca-dir /d: x.pem") so they name the option and the file.
 * Anchors: PEM, DER, PKCS#7 or (sniffed by content) PKCS#12 with the
 * password of pwfile (may be NULL), plus any PEM CRL blocks of the same
 * file (*ncrls of them). The file is recorded as read. */
certrole_code cr_trust_load_anchors(struct cr_trust_load *l, const char *label,
                                    const char *path, const char *pwfile, int *ncrls,
                                    char *err, size_t errlen);
/* Every CRL (PEM blocks, or concatenated DER) of a crl-file into crls. */
certrole_code cr_trust_load_crls(STACK_OF(X509_CRL) *crls, const char *path,
                                 char *err, size_t errlen);
/* A whole ca-dir, once (trust_dir.c): every certificate file in it,
 * hashed ("0123abcd.0") or named *.pem, *.crt, *.cer, *.der, is loaded as
 * an anchor and recorded; the directory itself is recorded, so a changed
 * listing counts as a change. Other names are ignored; a certificate
 * name that is not a regular file or does not decode is an error.
 * *has_crls: whether hashed CRLs (*.rN) are there; *ncrls: CRLs read
 * from PEM files. */
certrole_code cr_trust_load_dir(struct cr_trust_load *l, const char *dir, int *has_crls,
                                int *ncrls, char *err, size_t errlen);

/* PKCS#12 truststores (trust_p12.c). 1 when buf starts as a DER PFX
 * (SEQUENCE, INTEGER 3), damaged or not. */
int cr_trust_is_p12(const unsigned char *buf, size_t len);
/* Every certificate bag of the PKCS#12 in buf (read from path), Java's
 * trusted-certificate entries included, as anchors. The password is the
 * first line of pwfile (NULL: none, or empty). */
certrole_code cr_trust_load_p12(struct cr_trust_load *l, const char *path,
                                const unsigned char *buf, size_t len, const char *pwfile,
                                char *err, size_t errlen);

/* Anchors of a built profile, for listing: the i-th (borrowed), *file
 * the file it came from; NULL past the last. */
X509 *cr_trust_anchor(const struct cr_trust *t, size_t i, const char **file);

/* Outcome of path validation. Strings are malloc'd; cr_verified_clear. */
struct cr_verified {
    certrole_code code;
    char *message;              /* detail, e.g. "certificate expired on ..." */
    char *hint;                 /* one actionable line */
    STACK_OF(X509) *chain;      /* validated chain leaf..anchor, or NULL */
    int depth;                  /* chain length when validated */
    time_t not_after_min;       /* earliest notAfter in the chain (cache bound) */
    int x509_error;             /* raw X509_V_ERR_* for diagnostics/conformance */
    int error_depth;
    time_t ocsp_until;          /* OCSP answers valid until (cache bound); 0: none */
    char *note;                 /* an OK reached through ocsp-failure=, or NULL */
};

void cr_verified_clear(struct cr_verified *v);

/* Validates leaf + untrusted (any order) against the profile. Thread-safe. */
certrole_code cr_trust_verify(const struct cr_trust *t, X509 *leaf,
                              STACK_OF(X509) *untrusted, struct cr_verified *out);

/* The i-th trust key the policy may use (NULL past the last). */
const char *cr_trust_key(size_t i);
#endif
