/*
 * certrole realm plugin SPI.
 *
 * A realm module is a shared object that maps a verified certificate
 * identity to a user and roles. It exports exactly one symbol:
 *
 *     CERTROLE_REALM_EXPORT const certrole_realm_ops certrole_realm_v1 = {
 *         .abi_version = CERTROLE_REALM_ABI_VERSION,
 *         .name = "mine",
 *         .open = my_open, .lookup = my_lookup, .close = my_close,
 *     };
 *
 * and is built against this header and libcertrole only. The core loads
 * it with dlopen() from the module directory only: by name (NAME loads
 * realm_NAME.so there) or by a path that, with symlinks and ".."
 * resolved, lies inside that directory. It checks abi_version, and calls
 * open() once per configuration with the arguments of its 'realm' line,
 * argc/argv style, as Linux-PAM does. The core alone interprets the
 * stack controls (required, requisite, sufficient, optional); a module
 * only answers "found", "not found", "refused" or "unavailable".
 *
 * Threads: lookup() is called from many threads at once on the same
 * state; open(), reload() and close() are never concurrent with lookup()
 * on the same state. A module must never block longer than the timeouts
 * its arguments give, and must fail closed (UNAVAILABLE) when unsure.
 */
#ifndef CERTROLE_REALM_H
#define CERTROLE_REALM_H

#include <stddef.h>
#include <certrole.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CERTROLE_REALM_ABI_VERSION 1

#if defined(__GNUC__)
#define CERTROLE_REALM_EXPORT __attribute__((visibility("default")))
#else
#define CERTROLE_REALM_EXPORT
#endif

/* What a lookup found. */
typedef enum certrole_realm_status {
    CERTROLE_REALM_FOUND = 0,       /* known: user and roles set in answer */
    CERTROLE_REALM_NOT_FOUND = 1,   /* this realm does not know the peer */
    CERTROLE_REALM_REFUSED = 2,     /* known, and must be refused (e.g. two
                                       entries match; account disabled) */
    CERTROLE_REALM_UNAVAILABLE = 3  /* backend failed: fail closed */
} certrole_realm_status;

/* Read-only view of the verified peer, valid during lookup(). */
typedef struct certrole_identity certrole_identity;

typedef enum certrole_identity_field {
    CERTROLE_ID_SUBJECT = 1,       /* canonical RFC 4514 subject DN */
    CERTROLE_ID_SUBJECT_KEY = 2,   /* certrole_dn_key() form of the subject */
    CERTROLE_ID_ISSUER = 3,        /* canonical issuer DN */
    CERTROLE_ID_ISSUER_KEY = 4,
    CERTROLE_ID_ANCHOR = 5,        /* canonical DN of the trust anchor */
    CERTROLE_ID_ANCHOR_KEY = 6,
    CERTROLE_ID_SERIAL = 7,        /* upper-case hex */
    CERTROLE_ID_FINGERPRINT = 8,   /* SHA-256 of the leaf DER, lower-case hex */
    CERTROLE_ID_CN = 9,            /* the subject's single CN, or NULL */
    CERTROLE_ID_EMAIL = 10,        /* first rfc822Name SAN (or subject
                                      emailAddress), or NULL */
    CERTROLE_ID_SPIFFE = 11,       /* the X.509-SVID's SPIFFE ID, or NULL */
    CERTROLE_ID_UPN = 12,          /* first UPN otherName SAN, or NULL */
    CERTROLE_ID_DNS = 13,          /* first dNSName SAN, or NULL */
    CERTROLE_ID_URI = 14,          /* first URI SAN, or NULL */
    CERTROLE_ID_SKI = 15           /* subjectKeyIdentifier, lower-case hex
                                      without colons, or NULL */
} certrole_identity_field;

/* A string field of the identity, or NULL when absent. Borrowed. */
CERTROLE_API const char *certrole_identity_get(const certrole_identity *id,
                                               certrole_identity_field f);

/* The leaf certificate's DER encoding (borrowed). */
CERTROLE_API const unsigned char *
certrole_identity_der(const certrole_identity *id, size_t *len);

/* subjectAltName entries, as in certrole_result_san. */
CERTROLE_API size_t certrole_identity_san_count(const certrole_identity *id);
CERTROLE_API const char *certrole_identity_san(const certrole_identity *id,
                                               size_t i,
                                               certrole_san_type *type);

/* Where a lookup writes its findings; owned by the core. */
typedef struct certrole_answer certrole_answer;

/* Sets the user name (copied). Returns 0, or -1 on no memory. */
CERTROLE_API int certrole_answer_set_user(certrole_answer *a,
                                          const char *user);
/* Adds a role (copied; duplicates are ignored). 0, or -1 on no memory. */
CERTROLE_API int certrole_answer_add_role(certrole_answer *a,
                                          const char *role);
/* A one-line reason for the outcome, for logs and the result message
 * ("ldap://127.0.0.1:3389: Can't contact LDAP server"). Copied. */
CERTROLE_API void certrole_answer_set_message(certrole_answer *a,
                                              const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Facilities the core lends a module at open(). */
typedef struct certrole_realm_env {
    /* Directory of the policy file, for relative paths (never NULL). */
    const char *base_dir;
    /* Log through the context's sink. */
    void (*log)(void *log_ctx, certrole_log_level level, const char *line);
    void *log_ctx;
    /* Registers a file whose change (mtime) should make
     * certrole_reload_if_changed() rebuild the configuration. */
    void (*watch_file)(void *watch_ctx, const char *path);
    void *watch_ctx;
} certrole_realm_env;

typedef struct certrole_realm_ops {
    unsigned abi_version;   /* CERTROLE_REALM_ABI_VERSION */
    const char *name;       /* "file", "ldap" */

    /* Parses argv (each "key=value" or "flag", quotes already removed)
     * and prepares *state. On error returns -1 and writes a one-line
     * message naming the bad argument to err. */
    int (*open)(void **state, int argc, const char *const *argv,
                const certrole_realm_env *env, char *err, size_t errlen);

    certrole_realm_status (*lookup)(void *state, const certrole_identity *id,
                                    certrole_answer *answer);

    void (*close)(void *state);

    /* Optional (NULL): drop caches. Called when the context reloads and
     * the module's arguments are unchanged. Returns 0 or -1 with err. */
    int (*reload)(void *state, char *err, size_t errlen);
} certrole_realm_ops;

#ifdef __cplusplus
}
#endif
#endif /* CERTROLE_REALM_H */
