/* Figures 1 and 2 of the benchmark: a cold certrole verification (path
 * validation + identity + file realm) against a bare X509_verify_cert on
 * the same chain with a store built the same way, and a cached repeat
 * against the cold call. RSA-2048 and ECDSA P-256, chain depth 2 and 3. */
#define _GNU_SOURCE
#include "bench.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#define COLD_OPTIONS "option cache-ttl=0 audit=yes\n"
#define CACHED_OPTIONS "option cache-ttl=300 audit=yes\n"

/* The CRL file of a spec: one PKI file, or "a.pem+b.pem" joined into a
 * temporary file (malloc'd path; NULL on error, recorded). */
static char *crl_path(const char *spec)
{
    if (!strchr(spec, '+'))
        return bench_pki(spec);
    char *dir = bench_tmpdir("crl"), *out = dir ? bench_strf("%s/crls.pem", dir) : NULL;
    char *copy = strdup(spec), *save = NULL, *text = strdup("");
    for (char *t = copy ? strtok_r(copy, "+", &save) : NULL; t && text && out;
         t = strtok_r(NULL, "+", &save)) {
        char *p = bench_pki(t), *more = NULL;
        FILE *f = p ? fopen(p, "r") : NULL;
        size_t n = 0;
        if (!f || getdelim(&more, &n, '\0', f) < 0) {
            bench_error("cannot read %s", p ? p : t);
            free(text);
            text = NULL;
        } else {
            char *j = bench_strf("%s%s", text, more);
            free(text);
            text = j;
        }
        if (f)
            fclose(f);
        free(more);
        free(p);
    }
    if (!text || !out || bench_write(out, text) < 0) {
        free(out);
        out = NULL;
    }
    free(text);
    free(copy);
    free(dir);
    return out;
}

int bench_case_open(struct bench_case *c, const char *label, const char *ca,
                    const char *crl, const char *chain, const char *options)
{
    return bench_case_open2(c, label, ca, crl, chain, NULL, options);
}

/* "DN" invoice-readonly user=bench, for the realm file (malloc'd). */
static char *realm_line(X509 *leaf, const char *path)
{
    char *dn = NULL, *line = NULL;
    if (certrole_dn_from_x509(X509_get_subject_name(leaf), &dn) != CERTROLE_OK)
        bench_error("%s: cannot read the leaf's subject", path);
    else
        line = bench_strf("\"%s\" invoice-readonly user=bench\n", dn);
    certrole_free(dn);
    return line;
}

int bench_case_open2(struct bench_case *c, const char *label, const char *ca,
                     const char *crl, const char *chain, const char *chain2,
                     const char *options)
{
    memset(c, 0, sizeof *c);
    c->label = label;
    char *chainp = bench_pki(chain), *chain2p = chain2 ? bench_pki(chain2) : NULL;
    char *cap = bench_pki(ca), *crlp = crl ? crl_path(crl) : NULL;
    char *dir = NULL, *l1 = NULL, *l2 = NULL, *realm = NULL, *realmtext = NULL, *pol = NULL;
    int rc = -1;
    if ((crl && !crlp) || bench_chain(chainp, &c->leaf, &c->rest) < 0 ||
        (chain2 && bench_chain(chain2p, &c->leaf2, &c->rest2) < 0))
        goto out;
    if (!(l1 = realm_line(c->leaf, chainp)) || (chain2 && !(l2 = realm_line(c->leaf2, chain2p))))
        goto out;
    if (!(dir = bench_tmpdir("verify")) || !(realm = bench_strf("%s/users.realm", dir)) ||
        !(realmtext = bench_strf("%s%s", l1, l2 ? l2 : "")) ||
        bench_write(realm, realmtext) < 0)
        goto out;
    pol = bench_strf("trust ca-file=%s%s%s%s purpose=sslclient\n"
                     "realm required file path=%s\n%s",
                     cap, crlp ? " crl-file=" : "", crlp ? crlp : "",
                     crlp ? " crl-check=chain" : "", realm, options);
    char *err = NULL;
    if (!pol || certrole_open_string(&c->ctx, pol, "bench.policy", &err) != CERTROLE_OK) {
        bench_error("%s: policy refused: %s", label, err ? err : "no memory");
        certrole_free(err);
        goto out;
    }
    certrole_set_log(c->ctx, bench_quiet_log, NULL);
    rc = 0;
out:
    free(chainp); free(chain2p); free(cap); free(crlp); free(dir); free(l1); free(l2);
    free(realm); free(realmtext); free(pol);
    if (rc < 0)
        bench_case_close(c);
    return rc;
}

void bench_case_close(struct bench_case *c)
{
    certrole_close(c->ctx);
    X509_free(c->leaf);
    sk_X509_pop_free(c->rest, X509_free);
    X509_free(c->leaf2);
    sk_X509_pop_free(c->rest2, X509_free);
    memset(c, 0, sizeof *c);
}

int bench_case_verify(struct bench_case *c, int want_cached)
{
    return bench_case_verify_peer(c, 0, want_cached);
}

int bench_case_verify_peer(struct bench_case *c, int second, int want_cached)
{
    certrole_result *r = NULL;
    certrole_code rc = second
        ? certrole_verify_x509(c->ctx, c->leaf2, c->rest2, &r)
        : certrole_verify_x509(c->ctx, c->leaf, c->rest, &r);
    int ok = rc == CERTROLE_OK && certrole_result_allowed(r) &&
             certrole_result_cached(r) == want_cached;
    if (!ok)
        bench_error("%s: verification gave %s (%s), cached=%d, expected allow%s",
                    c->label, certrole_code_name(rc), r ? certrole_result_message(r) : "-",
                    r ? certrole_result_cached(r) : -1, want_cached ? " from the cache" : "");
    certrole_result_free(r);
    return ok ? 0 : -1;
}

/* ----- the baseline: bare OpenSSL, store set up as trust.c does --------- */

int bench_bare_open(struct bench_bare *b, const struct bench_case *c, const char *ca, const char *crl)
{
    memset(b, 0, sizeof *b);
    b->leaf = c->leaf;
    b->rest = c->rest;
    char *cap = bench_pki(ca), *crlp = crl ? crl_path(crl) : NULL;
    int rc = -1;
    if (crl && !crlp)
        goto out;
    if (!(b->store = X509_STORE_new()) || !(b->crls = sk_X509_CRL_new_null()) ||
        X509_STORE_load_file(b->store, cap) != 1) {
        bench_error("baseline store: cannot load %s", cap);
        goto out;
    }
    unsigned long flags = 0;
    if (crlp) {
        FILE *f = fopen(crlp, "r");
        X509_CRL *x;
        while (f && (x = PEM_read_X509_CRL(f, NULL, NULL, NULL)) != NULL) {
            if (!sk_X509_CRL_push(b->crls, x) || !X509_STORE_add_crl(b->store, x)) {
                bench_error("baseline store: cannot add a CRL");
                if (f)
                    fclose(f);
                goto out;
            }
        }
        if (f)
            fclose(f);
        ERR_clear_error();
        if (sk_X509_CRL_num(b->crls) == 0) {
            bench_error("baseline store: no CRL in %s", crlp);
            goto out;
        }
        flags = X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL |
                X509_V_FLAG_EXTENDED_CRL_SUPPORT | X509_V_FLAG_USE_DELTAS;
    }
    X509_VERIFY_PARAM *p = X509_STORE_get0_param(b->store);
    if ((flags && !X509_VERIFY_PARAM_set_flags(p, flags)) ||
        !X509_VERIFY_PARAM_set_purpose(p, X509_PURPOSE_SSL_CLIENT)) {
        bench_error("baseline store: cannot set parameters");
        goto out;
    }
    rc = 0;
out:
    free(cap);
    free(crlp);
    return rc;
}

void bench_bare_close(struct bench_bare *b)
{
    X509_STORE_free(b->store);
    sk_X509_CRL_pop_free(b->crls, X509_CRL_free);
}

int bench_bare_once(void *arg)
{
    struct bench_bare *b = arg;
    X509_STORE_CTX *s = X509_STORE_CTX_new();
    int ok = s && X509_STORE_CTX_init(s, b->store, b->leaf, b->rest);
    if (ok) {
        X509_STORE_CTX_set0_crls(s, b->crls);
        ok = X509_verify_cert(s) == 1;
        if (!ok)
            bench_error("baseline: X509_verify_cert: %s",
                        X509_verify_cert_error_string(X509_STORE_CTX_get_error(s)));
    }
    X509_STORE_CTX_free(s);
    return ok ? 0 : -1;
}

static int cold_once(void *arg) { return bench_case_verify(arg, 0); }
static int cached_once(void *arg) { return bench_case_verify(arg, 1); }

struct vdef { const char *label, *ca, *crl, *chain; };
static const struct vdef defs[] = {
    { "RSA-2048, depth 2", "ca-file.pem", "crl.pem", "client-chain.pem" },
    { "RSA-2048, depth 3", "ca-file.pem", "crl.pem+crl-int2.pem", "deep-chain.pem" },
    { "ECDSA P-256, depth 2", "ec/ca-file.pem", NULL, "ec/client-chain.pem" },
    { "ECDSA P-256, depth 3", "ec/ca-file.pem", NULL, "ec/deep-chain.pem" },
};

void bench_verify(void)
{
    char fig[128], m[128];
    for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) {
        const struct vdef *d = &defs[i];
        struct bench_case cold, cached;
        struct bench_bare b;
        if (bench_case_open(&cold, d->label, d->ca, d->crl, d->chain, COLD_OPTIONS) < 0)
            continue;
        if (bench_case_open(&cached, d->label, d->ca, d->crl, d->chain, CACHED_OPTIONS) < 0) {
            bench_case_close(&cold);
            continue;
        }
        if (bench_bare_open(&b, &cold, d->ca, d->crl) == 0) {
            double per_bare, per_cold, per_cold2, per_cached;
            if (bench_pair(bench_bare_once, &b, cold_once, &cold, 9, 0.08, &per_bare, &per_cold) == 0) {
                double ratio = per_cold / per_bare;
                snprintf(fig, sizeof fig, "cold verify+file map / bare X509_verify_cert, %s", d->label);
                snprintf(m, sizeof m, "%.3f (%.1f us / %.1f us)", ratio, per_cold * 1e6,
                         per_bare * 1e6);
                bench_row(fig, m, "<= 1.00", ratio <= 1.00);
            }
            /* the first call fills the cache; the repeats are served from it */
            if (bench_case_verify(&cached, 0) == 0 &&
                bench_pair(cold_once, &cold, cached_once, &cached, 7, 0.06,
                           &per_cold2, &per_cached) == 0) {
                double x = per_cold2 / per_cached;
                snprintf(fig, sizeof fig, "cached repeat vs cold (speed-up, us/call), %s", d->label);
                snprintf(m, sizeof m, "%.0fx faster, %.2f us/call", x, per_cached * 1e6);
                bench_row(fig, m, ">= 20x, < 0.15 us", x >= 20 && per_cached < 0.15e-6);
            }
            bench_bare_close(&b);
        }
        bench_case_close(&cached);
        bench_case_close(&cold);
    }
}
