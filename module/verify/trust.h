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
    char *ca_file;           /* anchors: PEM, DER or PKCS#7 (may be NULL) */
    char *ca_dir;            /* c_rehash'd directory (may be NULL) */
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
 * crl-file [repeatable], crl-check, depth, purpose, time, strict, policy,
 * explicit-policy, inhibit-any, inhibit-mapping, allow-ca-leaf, ocsp,
 * ocsp-url, ocsp-failure, ocsp-timeout, ocsp-nonce, ocsp-skew). Relative paths resolve
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
void cr_trust_free(struct cr_trust *t);

/* Warnings about the profile as given, such as CRLs loaded next to
 * crl-check=none: the i-th message (borrowed), *key (if not NULL) the
 * option it is about; NULL past the last. */
const char *cr_trust_warning(const struct cr_trust *t, size_t i, const char **key);

/* Earliest CRL nextUpdate among loaded CRLs (0 if none): bounds cache TTLs. */
time_t cr_trust_crl_next_update(const struct cr_trust *t);

/* Files the trust profile read, for change detection (NULL-terminated,
 * borrowed). */
const char *const *cr_trust_files(const struct cr_trust *t);

/* File loading (trust_load.c). Files are read through the regular-file
 * reader and decoded from memory; messages name the option and the file.
 * Anchors: PEM, DER or PKCS#7 certificates into store, plus any PEM CRL
 * blocks of the same file into crls (*ncrls of them). */
certrole_code cr_trust_load_anchors(X509_STORE *store, STACK_OF(X509_CRL) *crls,
                                    const char *path, int *ncrls, char *err, size_t errlen);
/* Every CRL (PEM blocks, or concatenated DER) of a crl-file into crls. */
certrole_code cr_trust_load_crls(STACK_OF(X509_CRL) *crls, const char *path,
                                 char *err, size_t errlen);
/* Checks the entries of a ca-dir named as 'openssl rehash' names them:
 * each must be a regular file (OpenSSL opens them while verifying).
 * *has_crls: whether CRLs (*.rN) are among them. */
certrole_code cr_trust_scan_dir(const char *dir, int *has_crls, char *err, size_t errlen);

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
