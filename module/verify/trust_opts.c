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

/* The trust keys, in certrole-policy(5)'s order. A key is accepted only
 * when it is here (and handled below): the unknown-key message and the
 * test that keeps the manual page in step read this table. */
static const char *const trust_keys[] = {
    "ca-file", "ca-password-file", "ca-dir", "crl-file", "crl-check", "depth", "purpose",
    "allow-ca-leaf", "time", "strict", "policy", "explicit-policy", "inhibit-any", "inhibit-mapping",
    "ocsp", "ocsp-url", "ocsp-failure", "ocsp-timeout", "ocsp-nonce", "ocsp-skew",
};
#define N_TRUST_KEYS (sizeof trust_keys / sizeof trust_keys[0])

const char *cr_trust_key(size_t i)
{
    return i < N_TRUST_KEYS ? trust_keys[i] : NULL;
}

static certrole_code unknown_key(const char *key, char *err, size_t errlen)
{
    char known[400];
    size_t n = 0;
    known[0] = '\0';
    for (size_t i = 0; i < N_TRUST_KEYS && n < sizeof known; i++)
        n += (size_t)snprintf(known + n, sizeof known - n, "%s%s", i ? ", " : "", trust_keys[i]);
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
    size_t k = 0;
    while (k < N_TRUST_KEYS && strcmp(trust_keys[k], key) != 0)
        k++;
    if (k == N_TRUST_KEYS)
        return unknown_key(key, err, errlen);
    if (!strcmp(key, "ca-file") || !strcmp(key, "ca-dir") || !strcmp(key, "ca-password-file")) {
        if (!*value) {
            errf(err, errlen, "%s: empty path", key);
            return CERTROLE_E_POLICY_ERROR;
        }
        char **slot = key[3] == 'f' ? &o->ca_file : key[3] == 'd' ? &o->ca_dir
                    : &o->ca_password_file;
        if (*slot) {
            errf(err, errlen, "%s given twice (only one is allowed)", key);
            return CERTROLE_E_POLICY_ERROR;
        }
        if (!(*slot = resolve(value, base_dir)))
            return CERTROLE_E_NO_MEMORY;
        return CERTROLE_OK;
    }
    if (!strcmp(key, "crl-file")) {
        if (!*value) {
            errf(err, errlen, "crl-file: empty path");
            return CERTROLE_E_POLICY_ERROR;
        }
        if (push_str(&o->crl_files, &o->n_crl_files, resolve(value, base_dir)) < 0)
            return CERTROLE_E_NO_MEMORY;
        return CERTROLE_OK;
    }
    if (!strcmp(key, "crl-check")) {
        if (!strcmp(value, "none")) o->crl_check = CR_CRL_NONE;
        else if (!strcmp(value, "leaf")) o->crl_check = CR_CRL_LEAF;
        else if (!strcmp(value, "chain")) o->crl_check = CR_CRL_CHAIN;
        else {
            errf(err, errlen, "crl-check=%s: expected none, leaf or chain", value);
            return CERTROLE_E_POLICY_ERROR;
        }
        o->crl_check_set = 1;
        return CERTROLE_OK;
    }
    if (!strcmp(key, "depth")) {
        char *end;
        errno = 0;
        long d = strtol(value, &end, 10);
        if (errno || end == value || *end || d < 0 || d > 100) {
            errf(err, errlen, "depth=%s: expected a number of intermediates from 0 to 100", value);
            return CERTROLE_E_POLICY_ERROR;
        }
        o->depth = (int)d;
        return CERTROLE_OK;
    }
    if (!strcmp(key, "purpose")) {
        if (!strcmp(value, "sslclient")) o->purpose = X509_PURPOSE_SSL_CLIENT;
        else if (!strcmp(value, "sslserver")) o->purpose = X509_PURPOSE_SSL_SERVER;
        else if (!strcmp(value, "any")) o->purpose = 0;
        else {
            errf(err, errlen, "purpose=%s: expected sslclient, sslserver or any", value);
            return CERTROLE_E_POLICY_ERROR;
        }
        return CERTROLE_OK;
    }
    if (!strcmp(key, "time")) {
        if (parse_time(value, &o->at_time) < 0) {
            errf(err, errlen, "time=%s: expected UTC ISO 8601 (2011-04-15T00:00:00Z) or @unix-seconds", value);
            return CERTROLE_E_POLICY_ERROR;
        }
        return CERTROLE_OK;
    }
    if (!strcmp(key, "strict") || !strcmp(key, "explicit-policy") ||
        !strcmp(key, "inhibit-any") || !strcmp(key, "inhibit-mapping") ||
        !strcmp(key, "allow-ca-leaf")) {
        int *slot = !strcmp(key, "strict") ? &o->strict
                  : !strcmp(key, "allow-ca-leaf") ? &o->allow_ca_leaf
                  : !strcmp(key, "explicit-policy") ? &o->explicit_policy
                  : !strcmp(key, "inhibit-any") ? &o->inhibit_any : &o->inhibit_map;
        if (parse_bool(value, slot) < 0) {
            errf(err, errlen, "%s=%s: expected yes or no", key, value);
            return CERTROLE_E_POLICY_ERROR;
        }
        if (slot == &o->explicit_policy)
            o->explicit_set = 1;
        return CERTROLE_OK;
    }
    if (!strcmp(key, "policy")) {
        ASN1_OBJECT *obj = OBJ_txt2obj(value, 1);   /* dotted OIDs only */
        if (!obj) {
            ERR_clear_error();
            errf(err, errlen, "policy=%s: not a dotted OID (e.g. 2.5.29.32.0)", value);
            return CERTROLE_E_POLICY_ERROR;
        }
        ASN1_OBJECT_free(obj);
        if (push_str(&o->policies, &o->n_policies, strdup(value)) < 0)
            return CERTROLE_E_NO_MEMORY;
        return CERTROLE_OK;
    }
    int orc = cr_ocsp_opts_set(&o->ocsp, key, value, err, errlen);
    if (orc != 1)
        return (certrole_code)orc;
    return unknown_key(key, err, errlen);   /* in the table, not handled: a bug */
}
