/* Parsing of the policy's 'trust' options (trust.h). */
#define _GNU_SOURCE
#include "trust.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#define errf cr_trust_errf

/* ----- options ------------------------------------------------------------ */

void cr_trust_opts_init(struct cr_trust_opts *o)
{
    memset(o, 0, sizeof *o);
    o->crl_check = CR_CRL_NONE;
    o->depth = -1;
    o->purpose = X509_PURPOSE_SSL_CLIENT;
    cr_ocsp_opts_defaults(&o->ocsp);
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void cr_trust_opts_clear(struct cr_trust_opts *o)
{
    if (!o)
        return;
    free(o->ca_file);
    free(o->ca_password_file);
    free(o->ca_dir);
    free_strv(o->crl_files, o->n_crl_files);
    free_strv(o->policies, o->n_policies);
    free(o->ocsp.url);
    cr_trust_opts_init(o);
}

/* Absolute path: value itself, or base_dir/value. NULL on no memory. */
static char *resolve(const char *value, const char *base_dir)
{
    char *p = NULL;
    if (value[0] == '/' || !base_dir || !*base_dir)
        return strdup(value);
    if (asprintf(&p, "%s/%s", base_dir, value) < 0)
        return NULL;
    return p;
}

static int push_str(char ***v, size_t *n, char *s)
{
    if (!s)
        return -1;
    char **nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (!nv) {
        free(s);
        return -1;
    }
    nv[(*n)++] = s;
    *v = nv;
    return 0;
}

static int parse_bool(const char *v, int *out)
{
    if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1") ||
        !strcasecmp(v, "on")) {
        *out = 1;
        return 0;
    }
    if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0") ||
        !strcasecmp(v, "off")) {
        *out = 0;
        return 0;
    }
    return -1;
}

/* "2011-04-15T00:00:00Z" (or with a space, or a date alone) or "@1302825600". */
static int parse_time(const char *v, time_t *out)
{
    if (v[0] == '@') {
        char *end;
        errno = 0;
        long long t = strtoll(v + 1, &end, 10);
        if (errno || end == v + 1 || *end || t <= 0)
            return -1;
        *out = (time_t)t;
        return 0;
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(v, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end)
        end = strptime(v, "%Y-%m-%d %H:%M:%S", &tm);
    if (!end) {
        memset(&tm, 0, sizeof tm);
        end = strptime(v, "%Y-%m-%d", &tm);
        if (!end || *end)
            return -1;
    } else if (strcmp(end, "Z") && strcmp(end, "+00:00") && *end) {
        return -1;   /* only UTC is accepted: no ambiguity about zones */
    }
    time_t t = timegm(&tm);
    if (t == (time_t)-1 || t <= 0)
        return -1;
    *out = t;
    return 0;
}

/* One handler per kind of trust key: CERTROLE_OK, or an error with err
 * set. key is the table's name; base_dir resolves relative paths. */
typedef certrole_code set_fn(struct cr_trust_opts *o, const char *key, const char *value,
                             const char *base_dir, char *err, size_t errlen);

static certrole_code bad(char *err, size_t errlen, const char *key, const char *value,
                         const char *expected)
{
    errf(err, errlen, "%s=%s: expected %s", key, value, expected);
    return CERTROLE_E_POLICY_ERROR;
}

static certrole_code set_path(struct cr_trust_opts *o, const char *key, const char *value,
                              const char *base_dir, char *err, size_t errlen)
{
    if (!*value) {
        errf(err, errlen, "%s: empty path", key);
        return CERTROLE_E_POLICY_ERROR;
    }
    if (!strcmp(key, "crl-file"))
        return push_str(&o->crl_files, &o->n_crl_files, resolve(value, base_dir)) < 0
            ? CERTROLE_E_NO_MEMORY : CERTROLE_OK;
    char **slot = key[3] == 'f' ? &o->ca_file : key[3] == 'd' ? &o->ca_dir
                : &o->ca_password_file;
    if (*slot) {
        errf(err, errlen, "%s given twice (only one is allowed)", key);
        return CERTROLE_E_POLICY_ERROR;
    }
    return (*slot = resolve(value, base_dir)) ? CERTROLE_OK : CERTROLE_E_NO_MEMORY;
}

static certrole_code set_crl_check(struct cr_trust_opts *o, const char *key, const char *value,
                                   const char *base_dir, char *err, size_t errlen)
{
    (void)base_dir;
    if (!strcmp(value, "none")) o->crl_check = CR_CRL_NONE;
    else if (!strcmp(value, "leaf")) o->crl_check = CR_CRL_LEAF;
    else if (!strcmp(value, "chain")) o->crl_check = CR_CRL_CHAIN;
    else return bad(err, errlen, key, value, "none, leaf or chain");
    o->crl_check_set = 1;
    return CERTROLE_OK;
}

static certrole_code set_depth(struct cr_trust_opts *o, const char *key, const char *value,
                               const char *base_dir, char *err, size_t errlen)
{
    (void)base_dir;
    char *end;
    errno = 0;
    long d = strtol(value, &end, 10);
    if (errno || end == value || *end || d < 0 || d > 100)
        return bad(err, errlen, key, value, "a number of intermediates from 0 to 100");
    o->depth = (int)d;
    return CERTROLE_OK;
}

static certrole_code set_purpose(struct cr_trust_opts *o, const char *key, const char *value,
                                 const char *base_dir, char *err, size_t errlen)
{
    (void)base_dir;
    if (!strcmp(value, "sslclient")) o->purpose = X509_PURPOSE_SSL_CLIENT;
    else if (!strcmp(value, "sslserver")) o->purpose = X509_PURPOSE_SSL_SERVER;
    else if (!strcmp(value, "any")) o->purpose = 0;
    else return bad(err, errlen, key, value, "sslclient, sslserver or any");
    return CERTROLE_OK;
}

static certrole_code set_time(struct cr_trust_opts *o, const char *key, const char *value,
                              const char *base_dir, char *err, size_t errlen)
{
    (void)base_dir;
    if (parse_time(value, &o->at_time) < 0)
        return bad(err, errlen, key, value,
                   "UTC ISO 8601 (2011-04-15T00:00:00Z) or @unix-seconds");
    return CERTROLE_OK;
}

static certrole_code set_bool(struct cr_trust_opts *o, const char *key, const char *value,
                              const char *base_dir, char *err, size_t errlen)
{
    (void)base_dir;
    int *slot = !strcmp(key, "strict") ? &o->strict
              : !strcmp(key, "allow-ca-leaf") ? &o->allow_ca_leaf
              : !strcmp(key, "explicit-policy") ? &o->explicit_policy
              : !strcmp(key, "inhibit-any") ? &o->inhibit_any : &o->inhibit_map;
    if (parse_bool(value, slot) < 0)
        return bad(err, errlen, key, value, "yes or no");
    if (slot == &o->explicit_policy)
        o->explicit_set = 1;
    return CERTROLE_OK;
}

static certrole_code set_policy(struct cr_trust_opts *o, const char *key, const char *value,
                                const char *base_dir, char *err, size_t errlen)
{
    (void)base_dir;
    (void)key;
    ASN1_OBJECT *obj = OBJ_txt2obj(value, 1);   /* dotted OIDs only */
    if (!obj) {
        ERR_clear_error();
        errf(err, errlen, "policy=%s: not a dotted OID (e.g. 2.5.29.32.0)", value);
        return CERTROLE_E_POLICY_ERROR;
    }
    ASN1_OBJECT_free(obj);
    return push_str(&o->policies, &o->n_policies, strdup(value)) < 0 ? CERTROLE_E_NO_MEMORY
                                                                      : CERTROLE_OK;
}

static certrole_code set_ocsp(struct cr_trust_opts *o, const char *key, const char *value,
                              const char *base_dir, char *err, size_t errlen)
{
    (void)base_dir;
    int rc = cr_ocsp_opts_set(&o->ocsp, key, value, err, errlen);
    if (rc == 1) {   /* in the table, not handled by ocsp.c: a bug, refused */
        errf(err, errlen, "unknown trust option '%s'", key);
        return CERTROLE_E_POLICY_ERROR;
    }
    return (certrole_code)rc;
}

/* The trust keys, in certrole-policy(5)'s order, and what sets each. A
 * key is accepted only when it is here: the unknown-key message and the
 * test that keeps the manual page in step read this table. */
static const struct trust_key {
    const char *name;
    set_fn *set;
} trust_keys[] = {
    { "ca-file", set_path }, { "ca-password-file", set_path }, { "ca-dir", set_path },
    { "crl-file", set_path }, { "crl-check", set_crl_check }, { "depth", set_depth },
    { "purpose", set_purpose }, { "allow-ca-leaf", set_bool }, { "time", set_time },
    { "strict", set_bool }, { "policy", set_policy }, { "explicit-policy", set_bool },
    { "inhibit-any", set_bool }, { "inhibit-mapping", set_bool },
    { "ocsp", set_ocsp }, { "ocsp-url", set_ocsp }, { "ocsp-failure", set_ocsp },
    { "ocsp-timeout", set_ocsp }, { "ocsp-nonce", set_ocsp }, { "ocsp-skew", set_ocsp },
};
#define N_TRUST_KEYS (sizeof trust_keys / sizeof trust_keys[0])

const char *cr_trust_key(size_t i)
{
    return i < N_TRUST_KEYS ? trust_keys[i].name : NULL;
}

static certrole_code unknown_key(const char *key, char *err, size_t errlen)
{
    char known[400];
    size_t n = 0;
    known[0] = '\0';
    for (size_t i = 0; i < N_TRUST_KEYS && n < sizeof known; i++)
        n += (size_t)snprintf(known + n, sizeof known - n, "%s%s", i ? ", " : "", trust_keys[i].name);
    errf(err, errlen, "unknown trust option '%s' (known: %s)", key, known);
    return CERTROLE_E_POLICY_ERROR;
}

certrole_code cr_trust_opts_set(struct cr_trust_opts *o, const char *key,
                                const char *value, const char *base_dir,
                                char *err, size_t errlen)
{
    if (!o || !key || !value) {
        errf(err, errlen, "trust: missing option or value");
        return CERTROLE_E_POLICY_ERROR;
    }
    for (size_t k = 0; k < N_TRUST_KEYS; k++)
        if (strcmp(trust_keys[k].name, key) == 0)
            return trust_keys[k].set(o, trust_keys[k].name, value, base_dir, err, errlen);
    return unknown_key(key, err, errlen);
}
