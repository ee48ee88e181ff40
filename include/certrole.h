/*
 * certrole — is this client certificate chain trusted, who is the peer,
 * and which roles does it hold?
 *
 * The public API. This header is the reference documentation: every
 * function says what it does, who owns what, and whether it is thread-safe.
 *
 * Conventions
 *  - Handles are opaque. Everything a certrole_* call allocates has a
 *    matching *_free (or certrole_free for plain strings).
 *  - Functions returning certrole_code return CERTROLE_OK on success.
 *    Code numbers are stable: they are never renumbered or reused.
 *  - Strings are NUL-terminated UTF-8. Strings returned by accessors are
 *    owned by the handle they came from and live as long as it does.
 *  - A certrole_ctx may be used by any number of threads at once,
 *    including while another thread calls certrole_reload() on it.
 *    A certrole_result belongs to one thread at a time.
 */
#ifndef CERTROLE_H
#define CERTROLE_H

#include <stddef.h>
#include <time.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#ifdef __cplusplus
extern "C" {
#endif

/* CERTROLE_VERSION_MAJOR, _MINOR, _PATCH (made by configure). */
#include "certrole_version.h"

#if defined(__GNUC__)
#define CERTROLE_API __attribute__((visibility("default")))
#else
#define CERTROLE_API
#endif

/* Every outcome a caller or a person can act on. Numbers never change. */
typedef enum certrole_code {
    CERTROLE_OK                     = 0,  /* "ok" */
    CERTROLE_E_NO_CERTIFICATE       = 1,  /* "no_certificate": peer sent none */
    CERTROLE_E_BAD_ENCODING         = 2,  /* "bad_encoding": PEM/DER/P7B/P12 damaged or unknown */
    CERTROLE_E_BAD_PASSWORD         = 3,  /* "bad_password": PKCS#12 MAC/password wrong */
    CERTROLE_E_UNTRUSTED_ISSUER     = 4,  /* "untrusted_issuer": issuer not found / not trusted */
    CERTROLE_E_SELF_SIGNED_UNTRUSTED= 5,  /* "self_signed_untrusted" */
    CERTROLE_E_EXPIRED              = 6,  /* "expired": a certificate in the chain */
    CERTROLE_E_NOT_YET_VALID        = 7,  /* "not_yet_valid" */
    CERTROLE_E_REVOKED              = 8,  /* "revoked" */
    CERTROLE_E_CRL_UNAVAILABLE      = 9,  /* "crl_unavailable": missing, expired, or unusable CRL */
    CERTROLE_E_WRONG_PURPOSE        = 10, /* "wrong_purpose": no clientAuth EKU */
    CERTROLE_E_CHAIN_TOO_LONG       = 11, /* "chain_too_long": depth limit exceeded */
    CERTROLE_E_BAD_SIGNATURE        = 12, /* "bad_signature" */
    CERTROLE_E_INVALID_CA           = 13, /* "invalid_ca": an issuer is not a CA */
    CERTROLE_E_UNKNOWN_IDENTITY     = 14, /* "unknown_identity": no realm knows the peer */
    CERTROLE_E_REALM_UNAVAILABLE    = 15, /* "realm_unavailable": a realm backend failed */
    CERTROLE_E_FORBIDDEN            = 16, /* "forbidden": mapped, but lacks the role */
    CERTROLE_E_POLICY_ERROR         = 17, /* "policy_error": policy cannot be loaded */
    CERTROLE_E_BAD_NAME             = 18, /* "bad_name": NUL in a name, two CNs, ... */
    CERTROLE_E_CHAIN_INVALID        = 19, /* "chain_invalid": other path-validation failure
                                             (name constraints, policy, critical extension) */
    CERTROLE_E_INVALID_ARGUMENT     = 20, /* "invalid_argument": API misuse */
    CERTROLE_E_NO_MEMORY            = 21, /* "no_memory" */
    CERTROLE_E_IO                   = 22, /* "io_error": a file could not be read */
    CERTROLE_E_INTERNAL             = 23, /* "internal_error" */
    CERTROLE_E_REALM_REFUSED        = 24, /* "realm_refused": a realm knows the peer and
                                             refuses it (ambiguous entry, disabled) */
    CERTROLE_E_CHAIN_ORDER          = 25, /* "chain_order": the input holds no single
                                             leaf (two end-entity certificates, a cycle) */
    CERTROLE_E_OCSP_UNAVAILABLE     = 26  /* "ocsp_unavailable": no usable OCSP answer
                                             (responder down, timeout, bad or stale response) */
    /* New codes are appended; CERTROLE_CODE_COUNT grows. */
} certrole_code;

#define CERTROLE_CODE_COUNT 27

typedef struct certrole_ctx certrole_ctx;
typedef struct certrole_result certrole_result;

/* ----- version and codes (thread-safe, no allocation) ----------------- */

/* Library version, "MAJOR.MINOR.PATCH". Static string. */
CERTROLE_API const char *certrole_version(void);

/* Short English description of a code ("certificate has expired").
 * Static string; unknown codes give "unknown error". */
CERTROLE_API const char *certrole_strerror(certrole_code code);

/* Stable machine name of a code, as used in JSON ("expired").
 * Static string; unknown codes give "unknown". */
CERTROLE_API const char *certrole_code_name(certrole_code code);

/* Reverse of certrole_code_name. Returns -1 for an unknown name. */
CERTROLE_API int certrole_code_from_name(const char *name);

/* Frees a string the library allocated for the caller (error messages,
 * canonical DNs). NULL is a no-op. */
CERTROLE_API void certrole_free(void *p);

/* ----- context ---------------------------------------------------------- */

/* Opens a context from a policy file (see certrole-policy(5)).
 * On success *ctx is a new context; free it with certrole_close().
 * On failure *ctx is NULL, the code is CERTROLE_E_POLICY_ERROR (or
 * NO_MEMORY / IO) and, if errmsg is not NULL, *errmsg is a malloc'd
 * "file:line:column: message" the caller frees with certrole_free().
 * A policy that fails to load never yields a context. Thread-safe. */
CERTROLE_API certrole_code certrole_open(certrole_ctx **ctx,
                                         const char *policy_path,
                                         char **errmsg);

/* Same as certrole_open, from policy text in memory. 'name' is used in
 * error messages and as the base for relative paths' ("policy text" if NULL;
 * relative paths then resolve against the working directory). */
CERTROLE_API certrole_code certrole_open_string(certrole_ctx **ctx,
                                                const char *policy_text,
                                                const char *name,
                                                char **errmsg);

/* Re-reads the policy, CA/CRL and realm files and builds a new immutable
 * configuration, swapped in atomically. Calls in flight finish on the old
 * configuration. On failure the old configuration stays in force and
 * *errmsg (if not NULL) says why. Drops the verification cache.
 * Safe to call while other threads verify. */
CERTROLE_API certrole_code certrole_reload(certrole_ctx *ctx, char **errmsg);

/* Reloads only if the policy, a CA, CRL or realm file changed (mtime,
 * size or inode) since the configuration was built. *reloaded (if not
 * NULL) tells whether it did. Cheap when nothing changed (a few stat()s). */
CERTROLE_API certrole_code certrole_reload_if_changed(certrole_ctx *ctx,
                                                      int *reloaded,
                                                      char **errmsg);

/* Frees the context. No call on it may be in flight or follow. */
CERTROLE_API void certrole_close(certrole_ctx *ctx);

/* ----- logging ---------------------------------------------------------- */

typedef enum certrole_log_level {
    CERTROLE_LOG_ERROR = 3,   /* same numbers as syslog priorities */
    CERTROLE_LOG_WARNING = 4,
    CERTROLE_LOG_NOTICE = 5,  /* audit lines: one per decision */
    CERTROLE_LOG_INFO = 6,
    CERTROLE_LOG_DEBUG = 7
} certrole_log_level;

typedef void (*certrole_log_fn)(void *userdata, certrole_log_level level,
                                const char *line);

/* Routes the context's log and audit lines to fn (NULL restores the
 * default sink, syslog(3) with ident "certrole"). 'line' is valid only
 * during the call. fn may be called from any verifying thread at once.
 * Set it before sharing the context between threads. */
CERTROLE_API void certrole_set_log(certrole_ctx *ctx, certrole_log_fn fn,
                                   void *userdata);

/* ----- verification ---------------------------------------------------- */

/* Input formats for certrole_verify_data. AUTO sniffs PEM, PKCS#7,
 * PKCS#12 and DER in that order. */
typedef enum certrole_format {
    CERTROLE_FORMAT_AUTO = 0,
    CERTROLE_FORMAT_PEM = 1,     /* one or more CERTIFICATE blocks, leaf first */
    CERTROLE_FORMAT_DER = 2,     /* one certificate */
    CERTROLE_FORMAT_PKCS7 = 3,   /* .p7b bundle, PEM or DER */
    CERTROLE_FORMAT_PKCS12 = 4   /* .p12, needs the password */
} certrole_format;

/* All certrole_verify_* functions: validate the chain against the
 * policy's trust profile, extract the identity, run the realm stack and
 * produce a decision. They return the result's code and ALWAYS set *res
 * to a new result (also on denial, so the caller can read the code, the
 * message and the hint), except for CERTROLE_E_INVALID_ARGUMENT and
 * CERTROLE_E_NO_MEMORY where *res may be NULL. Free *res with
 * certrole_result_free(). The caller keeps ownership of its inputs.
 * Thread-safe on a shared ctx. */

/* After the TLS handshake: the peer certificate and the chain it sent
 * (SSL_get0_peer_certificate, SSL_get_peer_cert_chain). */
CERTROLE_API certrole_code certrole_verify_ssl(certrole_ctx *ctx,
                                               const SSL *ssl,
                                               certrole_result **res);

/* A leaf and the peer's untrusted intermediates, in any order
 * (untrusted may be NULL). */
CERTROLE_API certrole_code certrole_verify_x509(certrole_ctx *ctx, X509 *leaf,
                                                STACK_OF(X509) *untrusted,
                                                certrole_result **res);

/* PEM text: the leaf and its intermediates, in any order (the leaf is
 * found as for certrole_verify_data). */
CERTROLE_API certrole_code certrole_verify_pem(certrole_ctx *ctx,
                                               const char *pem, size_t len,
                                               certrole_result **res);

/* Bytes in any supported format. 'password' is used for PKCS#12 only
 * (NULL means none). The leaf is the one certificate that issued none of
 * the others (issuer name, key identifiers and signature; in a PKCS#12
 * file with a private key, the key's certificate). When a PEM or DER
 * input lists it other than first, the result message says so; when no
 * single such certificate exists the result is CERTROLE_E_CHAIN_ORDER. */
CERTROLE_API certrole_code certrole_verify_data(certrole_ctx *ctx,
                                                const void *data, size_t len,
                                                certrole_format format,
                                                const char *password,
                                                certrole_result **res);

/* ----- authorization --------------------------------------------------- */

/* How the request target handed to certrole_authorize_target was read. */
typedef enum {
    CERTROLE_TARGET_RAW = 0,     /* the request-target exactly as received (origin-form; query allowed): decoded once here */
    CERTROLE_TARGET_DECODED = 1  /* a path the server already percent-decoded once: not decoded again, '%' is literal */
} certrole_target_form;

/* The answer of certrole_authorize_target: what was judged, by which
 * rule, and why. Opaque; free with certrole_authz_free(). */
typedef struct certrole_authz certrole_authz;

/* Applies the policy's 'require METHOD PATH ROLE...' rules to a result.
 * Returns CERTROLE_OK when the request may proceed, the result's own code
 * when the peer was already denied, CERTROLE_E_FORBIDDEN when it lacks
 * every role the longest matching rule names or when the target is
 * refused (see certrole-policy(5), "Request paths"), and
 * CERTROLE_E_INVALID_ARGUMENT / CERTROLE_E_NO_MEMORY. A path no rule
 * covers is allowed for any verified, mapped peer. Writes one audit line.
 *
 * 'target' is the request target as the server received it
 * (CERTROLE_TARGET_RAW, preferred: "/a/b%20c?q=1") or a path the server
 * already decoded once (CERTROLE_TARGET_DECODED). The library decodes
 * exactly once, so pass what the backend will route: never a path that
 * was decoded and then handed over as RAW. In DECODED form '%' is never
 * decoded; since it can only come from an encoded '%', it is refused
 * as %25 is in RAW form.
 *
 * If authz is not NULL, *authz gets a new answer (NULL only on
 * CERTROLE_E_NO_MEMORY, or CERTROLE_E_INVALID_ARGUMENT without memory)
 * the caller frees with certrole_authz_free(). Uses the configuration
 * the result was made with. Thread-safe. */
CERTROLE_API certrole_code certrole_authorize_target(certrole_ctx *ctx,
        const certrole_result *res, const char *method, const char *target,
        certrole_target_form form, certrole_authz **authz /* may be NULL */);

/* certrole_authorize_target(ctx, res, method, path, CERTROLE_TARGET_RAW,
 * NULL): 'path' is the raw request target, decoded once here. */
CERTROLE_API certrole_code certrole_authorize(certrole_ctx *ctx,
                                              const certrole_result *res,
                                              const char *method,
                                              const char *path);

/* Accessors of an answer. Strings are owned by it; NULL a is allowed.
 * Not thread-safe per answer; it outlives reloads and the result. */
CERTROLE_API const char *certrole_authz_path(const certrole_authz *a);   /* the normalised path that was judged ("" if refused before) */
CERTROLE_API const char *certrole_authz_rule(const certrole_authz *a);   /* "FILE:LINE" of the rule that matched, NULL if none */
CERTROLE_API size_t certrole_authz_role_count(const certrole_authz *a);  /* roles that rule requires */
CERTROLE_API const char *certrole_authz_role(const certrole_authz *a, size_t i);
CERTROLE_API const char *certrole_authz_reason(const certrole_authz *a); /* one line: why allowed/denied */
CERTROLE_API void certrole_authz_free(certrole_authz *a);

/* ----- statistics ------------------------------------------------------ */

/* A snapshot of a context's counters since certrole_open: decisions by
 * result code, the verification cache, realm lookups with their latency,
 * reloads. Counters only grow (a process restart resets them). Counting
 * costs the cached path no shared cache line: the hot counters are kept
 * per CPU and summed here. */
typedef struct certrole_stats certrole_stats;

typedef enum certrole_stat {
    CERTROLE_STAT_VERIFICATIONS = 1,   /* decisions of certrole_verify_* */
    CERTROLE_STAT_CACHE_HITS = 2,      /* served from the verification cache */
    CERTROLE_STAT_CACHE_MISSES = 3,    /* looked up, not there: verified */
    CERTROLE_STAT_UNCACHED = 4,        /* verified without the cache (cache
                                          off or stale, undecodable input) */
    CERTROLE_STAT_RELOADS = 5,         /* configurations swapped in after
                                          open (reload or refresh) */
    CERTROLE_STAT_RELOAD_FAILURES = 6, /* reloads that kept the old policy */
    CERTROLE_STAT_SHARED_HITS = 7,     /* local misses served from the cache
                                          shared between the server's
                                          processes (option cache-shared);
                                          also counted as cache hits */
    CERTROLE_STAT_SHARED_MISSES = 8    /* looked up there too, not found:
                                          verified */
} certrole_stat;

/* Takes a snapshot; NULL on no memory or a NULL ctx. The caller frees it
 * with certrole_stats_free(). Thread-safe: counters keep moving while it
 * is read, so a snapshot taken under load may be off by the calls in
 * flight. */
CERTROLE_API certrole_stats *certrole_stats_get(certrole_ctx *ctx);
CERTROLE_API void certrole_stats_free(certrole_stats *s);

/* Accessors of a snapshot (0 / NULL for a NULL s or an index out of range). */
CERTROLE_API unsigned long long certrole_stats_value(const certrole_stats *s,
                                                     certrole_stat which);
/* Decisions whose result had this code (CERTROLE_OK: allowed). */
CERTROLE_API unsigned long long certrole_stats_code(const certrole_stats *s,
                                                    certrole_code code);
/* Realm lines of the policies this context has loaded, by position in
 * the stack (1-based) and module name ("file"). A reload that keeps a
 * realm at its position keeps its counters; a line a reload removed stays
 * listed with the counts it had. Borrowed string, valid while s lives. */
CERTROLE_API size_t certrole_stats_realm_count(const certrole_stats *s);
CERTROLE_API const char *certrole_stats_realm(const certrole_stats *s, size_t i,
                                              unsigned *position);
/* Lookups of realm i that answered outcome: 0 found, 1 not found,
 * 2 refused, 3 unavailable (certrole_realm_status in certrole_realm.h). */
CERTROLE_API unsigned long long certrole_stats_realm_lookups(const certrole_stats *s,
                                                             size_t i, int outcome);
/* The snapshot in the Prometheus text exposition format (version 0.0.4),
 * with latency histograms of uncached verifications and of each realm's
 * lookups. Free with certrole_free(); NULL on no memory. */
CERTROLE_API char *certrole_stats_prometheus(const certrole_stats *s);

/* ----- results (not thread-safe per result; read-only after creation) --- */

/* 1 when the chain is trusted and the realm stack accepted the peer. */
CERTROLE_API int certrole_result_allowed(const certrole_result *res);
CERTROLE_API certrole_code certrole_result_code(const certrole_result *res);
/* Detail for this outcome: "certificate expired on 2024-01-31 12:00:00 UTC
 * (CN=...)". Never NULL. */
CERTROLE_API const char *certrole_result_message(const certrole_result *res);
/* What a person should do about it, one line. "" when allowed. */
CERTROLE_API const char *certrole_result_hint(const certrole_result *res);

/* Identity of the leaf (NULL if no certificate could be decoded). */
CERTROLE_API const char *certrole_result_subject(const certrole_result *res);
CERTROLE_API const char *certrole_result_issuer(const certrole_result *res);
/* Serial number, upper-case hex without separators. */
CERTROLE_API const char *certrole_result_serial(const certrole_result *res);
/* SHA-256 over the leaf's DER, lower-case hex, 64 characters. */
CERTROLE_API const char *certrole_result_fingerprint(const certrole_result *res);
CERTROLE_API time_t certrole_result_not_before(const certrole_result *res);
CERTROLE_API time_t certrole_result_not_after(const certrole_result *res);
/* Length of the validated chain, leaf and anchor included (0 if not
 * validated). */
CERTROLE_API int certrole_result_depth(const certrole_result *res);
/* Borrowed leaf certificate (NULL if none); valid while res lives. */
CERTROLE_API X509 *certrole_result_leaf(const certrole_result *res);

typedef enum certrole_san_type {
    CERTROLE_SAN_EMAIL = 1,
    CERTROLE_SAN_DNS = 2,
    CERTROLE_SAN_URI = 3,
    CERTROLE_SAN_IP = 4,     /* rendered as text: 192.0.2.1, 2001:db8::1 */
    CERTROLE_SAN_UPN = 5     /* the Microsoft UPN otherName (1.3.6.1.4.1.311.20.2.3) */
} certrole_san_type;

CERTROLE_API size_t certrole_result_san_count(const certrole_result *res);
/* i-th subjectAltName entry; *type (if not NULL) gets its type. */
CERTROLE_API const char *certrole_result_san(const certrole_result *res,
                                             size_t i, certrole_san_type *type);

/* The leaf's SPIFFE ID (X.509-SVID: its one URI SAN, a well-formed
 * spiffe://trust-domain/path), or NULL. When the certificate names a
 * spiffe URI that is not one (two URI SANs, a query, a port, an upper-case
 * trust domain, ...), certrole_result_spiffe_problem says why; else that
 * is NULL. Borrowed; valid while res lives. */
CERTROLE_API const char *certrole_result_spiffe_id(const certrole_result *res);
CERTROLE_API const char *certrole_result_spiffe_problem(const certrole_result *res);

/* The leaf's subjectKeyIdentifier as lower-case hex without colons
 * ("4f3a..."), or NULL when it has none. Borrowed; valid while res lives;
 * safe from any thread that may read res. */
CERTROLE_API const char *certrole_result_ski(const certrole_result *res);

/* Realm outcome: the user name, the module that answered ("file"), and
 * the merged roles. NULL / 0 when no realm accepted the peer. */
CERTROLE_API const char *certrole_result_user(const certrole_result *res);
CERTROLE_API const char *certrole_result_realm(const certrole_result *res);
CERTROLE_API size_t certrole_result_role_count(const certrole_result *res);
CERTROLE_API const char *certrole_result_role(const certrole_result *res,
                                              size_t i);
CERTROLE_API int certrole_result_has_role(const certrole_result *res,
                                          const char *role);
/* 1 when the result came from the verification cache. */
CERTROLE_API int certrole_result_cached(const certrole_result *res);

/* Writes the result as one JSON object (keys: ok, decision, code, message,
 * hint, subject, issuer, serial, fingerprint_sha256, san, not_before,
 * not_after, depth, user, roles, realm). Returns a malloc'd string the
 * caller frees with certrole_free(), or NULL on no memory. */
CERTROLE_API char *certrole_result_json(const certrole_result *res);

CERTROLE_API void certrole_result_free(certrole_result *res);

/* Records the network address of the peer res is about, as the server
 * saw it ("192.0.2.7", "2001:db8::1", "unix:/run/app.sock"), for the
 * audit: every later audit line of res (certrole_authorize's) carries it
 * as peer="..." with '"', '\' and control bytes escaped. The verification's
 * own audit line is written before res exists, so it has none. addr is
 * copied; NULL clears it. The address is the caller's and is never cached:
 * each result of certrole_verify_* starts without one, cache hits
 * included. Returns CERTROLE_OK, CERTROLE_E_NO_MEMORY, or
 * CERTROLE_E_INVALID_ARGUMENT (res NULL). Not safe against concurrent calls
 * on the same res: set it before res is shared between threads. */
CERTROLE_API certrole_code certrole_result_set_peer(certrole_result *res,
                                                    const char *addr);
/* The address certrole_result_set_peer recorded, or NULL. Borrowed: valid
 * until the next set_peer or certrole_result_free on res. */
CERTROLE_API const char *certrole_result_peer(const certrole_result *res);

/* ----- distinguished names --------------------------------------------- */

/* Parses a DN in RFC 4514, RFC 2253, legacy LDAPv2 ("CN=a, O=b") or
 * OpenSSL slash form ("/C=US/O=Acme/CN=a") and returns its canonical
 * RFC 4514 string in *out (malloc'd, free with certrole_free). Attribute
 * types become their short name (or dotted OID), values keep their case.
 * On failure returns CERTROLE_E_BAD_NAME and *errmsg (if not NULL) says
 * where. Thread-safe. */
CERTROLE_API certrole_code certrole_dn_canonical(const char *dn, char **out,
                                                 char **errmsg);

/* Matching key of a DN: the canonical form further normalised for
 * comparison (types by OID, case folded for case-insensitive attributes,
 * spaces folded per RFC 4518, multi-valued RDNs sorted). Two DNs match
 * iff their keys are byte-equal. Malloc'd into *out. Thread-safe. */
CERTROLE_API certrole_code certrole_dn_key(const char *dn, char **out,
                                           char **errmsg);

/* 1 when the two DN strings name the same entity, 0 when not, -1 when
 * either does not parse. Thread-safe. */
CERTROLE_API int certrole_dn_equal(const char *a, const char *b);

/* Canonical RFC 4514 string of an X509_NAME (malloc'd into *out).
 * Fails with CERTROLE_E_BAD_NAME on a NUL byte or undecodable value. */
CERTROLE_API certrole_code certrole_dn_from_x509(const X509_NAME *name,
                                                 char **out);

/* Matching key (see certrole_dn_key) of an X509_NAME. */
CERTROLE_API certrole_code certrole_dn_key_from_x509(const X509_NAME *name,
                                                     char **out);

#ifdef __cplusplus
}
#endif
#endif /* CERTROLE_H */
