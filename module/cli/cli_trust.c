/* 'certrole trust list': the trust anchors a policy loads, each with its
 * subject, SHA-256 fingerprint, expiry and the file it came from. The
 * policy is opened exactly as a server opens it, so what is listed is
 * what that server trusts. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include "cli.h"
#include "config.h"
#include "ctx.h"
#include "diagnose.h"
#include "json.h"
#include "strbuf.h"

struct topts {
    const char *policy;
    int json;
};

static void trust_usage(FILE *to)
{
    fprintf(to,
            "usage: certrole trust list --policy FILE [--json]\n"
            "  Loads the policy as a server would and lists its trust anchors:\n"
            "  subject, SHA-256 fingerprint, notAfter (EXPIRED when past) and the\n"
            "  file each came from. Exit status 0, or 2 when the policy does not load.\n");
}

/* 1: help printed; 0: run; -1: usage error (reported). */
static int parse_trust_args(int argc, char **argv, struct topts *o)
{
    static const struct option opts[] = {
        { "policy", required_argument, NULL, 'p' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    memset(o, 0, sizeof *o);
    o->json = cr_cli_json_requested(argc, argv);
    if (argc < 2 || strcmp(argv[1], "list") != 0) {
        if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
            return 1;
        cr_cli_fail(o->json, "trust", CERTROLE_E_INVALID_ARGUMENT,
                    argc < 2 ? "missing subcommand (list)" : "unknown subcommand '%s' (list)",
                    argc < 2 ? "" : argv[1]);
        return -1;
    }
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc - 1, argv + 1, ":p:jh", opts, NULL)) != -1) {
        switch (c) {
        case 'p': o->policy = optarg; break;
        case 'j': o->json = 1; break;
        case 'h': return 1;
        default: cr_cli_bad_option(o->json, "trust list", c, argv + 1); return -1;
        }
    }
    if (optind < argc - 1) {
        cr_cli_fail(o->json, "trust list", CERTROLE_E_INVALID_ARGUMENT,
                    "unexpected argument '%s'", argv[optind + 1]);
        return -1;
    }
    if (!o->policy) {
        cr_cli_fail(o->json, "trust list", CERTROLE_E_INVALID_ARGUMENT, "--policy FILE is required");
        return -1;
    }
    return 0;
}

struct anchor_view {
    char *subject;
    char fingerprint[2 * EVP_MAX_MD_SIZE + 1];
    char not_after[32];      /* "2045-12-31 23:59:59 UTC" */
    char not_after_iso[32];  /* "2045-12-31T23:59:59Z", or "" */
    int expired;
};

static int view(X509 *x, time_t now, struct anchor_view *v)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    memset(v, 0, sizeof *v);
    if (!(v->subject = cr_diag_dn(X509_get_subject_name(x))) ||
        !X509_digest(x, EVP_sha256(), md, &mdlen))
        return -1;
    for (unsigned int i = 0; i < mdlen; i++)
        sprintf(v->fingerprint + 2 * i, "%02x", md[i]);
    cr_diag_time(X509_get0_notAfter(x), v->not_after, sizeof v->not_after);
    time_t na = cr_asn1_time_to_time_t(X509_get0_notAfter(x));
    struct tm tm;
    if (na && gmtime_r(&na, &tm))
        strftime(v->not_after_iso, sizeof v->not_after_iso, "%Y-%m-%dT%H:%M:%SZ", &tm);
    v->expired = na && na < now;
    return 0;
}

static void json_anchor(cr_strbuf *b, const struct anchor_view *v, const char *file)
{
    int first = 1;
    cr_sb_appendc(b, '{');
    cr_json_key(b, &first, "subject");
    cr_json_string(b, v->subject);
    cr_json_key(b, &first, "fingerprint_sha256");
    cr_json_string(b, v->fingerprint);
    cr_json_key(b, &first, "not_after");
    if (v->not_after_iso[0])
        cr_json_string(b, v->not_after_iso);
    else
        cr_sb_append(b, "null");
    cr_json_key(b, &first, "expired");
    cr_sb_append(b, v->expired ? "true" : "false");
    cr_json_key(b, &first, "file");
    cr_json_string(b, file);
    cr_sb_appendc(b, '}');
}

/* Lists t's anchors on stdout. -1 on no memory. */
static int list_anchors(const struct cr_trust *t, const char *policy, int json)
{
    cr_strbuf b = CR_STRBUF_INIT;
    int first = 1, rc = 0;
    time_t now = time(NULL);
    size_t n = 0;
    const char *file;
    if (json) {
        cr_sb_appendc(&b, '{');
        cr_json_key(&b, &first, "ok");
        cr_sb_append(&b, "true");
        cr_json_key(&b, &first, "policy");
        cr_json_string(&b, policy);
        cr_json_key(&b, &first, "anchors");
        cr_sb_appendc(&b, '[');
    }
    for (X509 *x; rc == 0 && (x = cr_trust_anchor(t, n, &file)) != NULL; n++) {
        struct anchor_view v;
        if ((rc = view(x, now, &v)) == 0 && json) {
            if (n)
                cr_sb_appendc(&b, ',');
            json_anchor(&b, &v, file);
        } else if (rc == 0) {
            printf("%s\n  sha256:    %s\n  notAfter:  %s%s\n  file:      %s\n", v.subject,
                   v.fingerprint, v.not_after, v.expired ? "  EXPIRED" : "", file);
        }
        free(v.subject);
    }
    if (json) {
        cr_sb_append(&b, "]}");
        char *j = cr_sb_take(&b);
        if (j && rc == 0)
            printf("%s\n", j);
        rc = j ? rc : -1;
        free(j);
    } else if (rc == 0) {
        printf("%zu trust anchor%s\n", n, n == 1 ? "" : "s");
    }
    return rc;
}

int cr_cli_trust(int argc, char **argv)
{
    struct topts o;
    int pr = parse_trust_args(argc, argv, &o);
    if (pr != 0) {
        if (pr > 0 || !o.json)
            trust_usage(pr > 0 ? stdout : stderr);
        return pr > 0 ? CR_CLI_EXIT_OK : CR_CLI_EXIT_USAGE;
    }
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    certrole_code rc = certrole_open(&ctx, o.policy, &err);
    if (rc != CERTROLE_OK) {   /* err is "file:line:column: ..." */
        cr_cli_fail(o.json, "trust list", rc, "%s", err ? err : certrole_strerror(rc));
        certrole_free(err);
        return CR_CLI_EXIT_USAGE;
    }
    struct cr_config *c = cr_ctx_acquire(ctx);
    int lr = list_anchors(c->trust, o.policy, o.json);
    cr_config_unref(c);
    certrole_close(ctx);
    if (lr < 0)
        return cr_cli_fail(o.json, "trust list", CERTROLE_E_NO_MEMORY, "out of memory");
    return CR_CLI_EXIT_OK;
}
