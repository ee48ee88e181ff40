/* Figure 3 of the benchmark: the file realm with 1,000,000 entries
 * against 1,000 entries: per-lookup time (the same 1,000 identities, all
 * present, spread over the table) and the load time of the big file, for
 * a table of DN entries, one of email: entries and one of spiffe:
 * entries. The plugin is driven through its SPI (certrole_realm.h), as
 * the core drives it. */
#define _GNU_SOURCE
#include "bench.h"
#include "certrole_realm.h"
#include "identity.h"
#include "stack.h"
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_IDS 1000

static const certrole_realm_ops *load_ops(const char *name, void **handle)
{
    const char *dir = getenv("CERTROLE_REALM_DIR");
    char *path = bench_strf("%s/realm_%s.so", dir && *dir ? dir : ".libs", name);
    *handle = path ? dlopen(path, RTLD_NOW | RTLD_LOCAL) : NULL;
    const certrole_realm_ops *ops = *handle ? dlsym(*handle, "certrole_realm_v1") : NULL;
    if (!ops || ops->abi_version != CERTROLE_REALM_ABI_VERSION)
        bench_error("cannot load %s: %s", path ? path : name, dlerror());
    free(path);
    return ops;
}

/* What the entries of a table name. */
enum kind { K_DN, K_EMAIL, K_SPIFFE };
static const char *const kind_name[] = { "DN", "email:", "spiffe:" };

static char *entry_dn(unsigned i)
{
    return bench_strf("CN=user%07u,OU=Bench,O=Acme Corp,C=US", i);
}

static char *entry_email(unsigned i)
{
    return bench_strf("user%07u@Bench.Acme.example", i);
}

static char *entry_spiffe(unsigned i)
{
    return bench_strf("spiffe://acme.example/ns/bench/sa/user%07u", i);
}

/* Writes n entries of that kind; 0 or -1. */
static int write_realm(const char *path, unsigned n, enum kind k)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        bench_error("cannot write %s", path);
        return -1;
    }
    for (unsigned i = 0; i < n; i++) {
        if (k == K_DN)
            fprintf(f, "\"CN=user%07u,OU=Bench,O=Acme Corp,C=US\" reader,writer user=u%u\n", i, i);
        else if (k == K_EMAIL)
            fprintf(f, "email:user%07u@bench.acme.example reader,writer user=u%u\n", i, i);
        else
            fprintf(f, "spiffe:spiffe://acme.example/ns/bench/sa/user%07u reader,writer user=u%u\n",
                    i, i);
    }
    if (fclose(f) != 0) {
        bench_error("cannot write %s", path);
        return -1;
    }
    return 0;
}

struct look {
    const certrole_realm_ops *ops;
    void *st;
    struct certrole_identity *ids;
    unsigned next;
};

static int look_once(void *arg)
{
    struct look *l = arg;
    struct certrole_answer a;
    memset(&a, 0, sizeof a);
    certrole_realm_status s = l->ops->lookup(l->st, &l->ids[l->next], &a);
    int ok = s == CERTROLE_REALM_FOUND && a.user && !a.failed;
    if (!ok)
        bench_error("file realm lookup of %s: status %d", l->ids[l->next].subject, (int)s);
    free(a.user);
    for (size_t i = 0; i < a.n_roles; i++)
        free(a.roles[i]);
    free(a.roles);
    free(a.message);
    l->next = (l->next + 1) % N_IDS;
    return ok ? 0 : -1;
}

/* Identities of entries first, first+step, ... (subject and its key; a
 * fingerprint nobody pinned, so the realm tries both indexes as it would
 * for a real peer; an email SAN in another case than the entry's, or a
 * SPIFFE ID, for those tables). */
static struct certrole_identity *make_ids(unsigned first, unsigned step, enum kind k)
{
    struct certrole_identity *ids = calloc(N_IDS, sizeof *ids);
    if (!ids)
        return NULL;
    for (unsigned i = 0; i < N_IDS; i++) {
        if (k == K_EMAIL && (ids[i].sans = calloc(1, sizeof *ids[i].sans))) {
            ids[i].sans[0].type = CERTROLE_SAN_EMAIL;
            ids[i].sans[0].value = entry_email(first + i * step);
            ids[i].n_sans = 1;
        }
        if (k == K_SPIFFE)
            ids[i].spiffe = entry_spiffe(first + i * step);
        ids[i].subject = entry_dn(first + i * step);
        ids[i].fingerprint = bench_strf("%064x", i);
        char *key = NULL;
        if (!ids[i].subject || certrole_dn_key(ids[i].subject, &key, NULL) != CERTROLE_OK) {
            bench_error("cannot make the key of entry %u", i);
            free(ids);   /* leaks the strings of a failed run: an error anyway */
            return NULL;
        }
        ids[i].subject_key = strdup(key);
        certrole_free(key);
    }
    return ids;
}

static void free_ids(struct certrole_identity *ids)
{
    for (unsigned i = 0; ids && i < N_IDS; i++) {
        free(ids[i].subject);
        free(ids[i].subject_key);
        free(ids[i].fingerprint);
        free(ids[i].spiffe);
        for (size_t j = 0; j < ids[i].n_sans; j++)
            free(ids[i].sans[j].value);
        free(ids[i].sans);
    }
    free(ids);
}

static void *open_realm(const certrole_realm_ops *ops, const char *path, const char *dir)
{
    char *arg = bench_strf("path=%s", path);
    const char *argv[] = { arg };
    certrole_realm_env env = { .base_dir = dir };
    char err[512] = "";
    void *st = NULL;
    if (!arg || ops->open(&st, 1, argv, &env, err, sizeof err) != 0) {
        bench_error("file realm %s: %s", path, err);
        st = NULL;
    }
    free(arg);
    return st;
}

/* Load and lookup rows for one kind of table. */
static void bench_kind(const certrole_realm_ops *ops, const char *dir, enum kind k)
{
    char *small = bench_strf("%s/1k.realm", dir), *big = bench_strf("%s/1m.realm", dir);
    struct look ls = { 0 }, lb = { 0 };
    if (!small || !big || write_realm(small, 1000, k) < 0 || write_realm(big, 1000000, k) < 0)
        goto out;
    ls.ops = lb.ops = ops;
    ls.ids = make_ids(0, 1, k);          /* every entry of the small realm */
    lb.ids = make_ids(431, 997, k);      /* spread over the big one */
    if (!ls.ids || !lb.ids || !(ls.st = open_realm(ops, small, dir)))
        goto out;
    double t0 = bench_now();
    lb.st = open_realm(ops, big, dir);
    double load = bench_now() - t0;
    if (!lb.st)
        goto out;
    char m[128], row[128];
    snprintf(m, sizeof m, "%.2f s", load);
    snprintf(row, sizeof row, "file realm: load of 1,000,000 %s entries", kind_name[k]);
    bench_row(row, m, "< 2 s", load < 2.0);
    double per_small, per_big;
    if (bench_pair(look_once, &ls, look_once, &lb, 5, 0.15, &per_small, &per_big) == 0) {
        double ratio = per_big / per_small;
        snprintf(m, sizeof m, "%.2f (%.0f ns / %.0f ns)", ratio, per_big * 1e9, per_small * 1e9);
        snprintf(row, sizeof row, "file realm lookup, %s, 1,000,000 / 1,000 entries",
                 kind_name[k]);
        bench_row(row, m, "<= 1.5", ratio <= 1.5);
    }
out:
    if (ls.st)
        ops->close(ls.st);
    if (lb.st)
        ops->close(lb.st);
    free_ids(ls.ids);
    free_ids(lb.ids);
    free(small);
    free(big);
}

void bench_realm_file(void)
{
    void *h = NULL;
    const certrole_realm_ops *ops = load_ops("file", &h);
    char *dir = bench_tmpdir("realm");
    if (ops && dir)
        for (enum kind k = K_DN; k <= K_SPIFFE; k++)
            bench_kind(ops, dir, k);
    free(dir);
    /* the plugin stays loaded: its atexit/TLS destructors may still run */
}
