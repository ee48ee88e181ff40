/* 'certrole verify': validate one certificate (and the chain it comes
 * with) against CA files given on the command line. The options become a
 * one-line policy ("trust ...") so the command exercises exactly the
 * library path a server uses. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/x509.h>
#include "cli.h"

#define MAX_CRL_FILES 64
#define MAX_TRUST_OPTS 16

static void verify_usage(FILE *to)
{
    fprintf(to,
            "usage: certrole verify --ca-file FILE [--ca-dir DIR] [--crl-file FILE]...\n"
            "                       [--crl-check none|leaf|chain] [--depth N]\n"
            "                       [--purpose sslclient|sslserver|any] [--trust KEY=VALUE]...\n"
            "                       [--chain FILE] [--password P] [--format auto|pem|der|p7b|p12]\n"
            "                       [--time YYYY-MM-DDTHH:MM:SSZ] [--json] CERT\n"
            "  Validates CERT (a file, or - for standard input) and the intermediates it\n"
            "  carries or --chain adds. Exit status: 0 valid, 1 not valid, 2 usage or error.\n");
}

static int parse_format(const char *s, certrole_format *f)
{
    static const struct { const char *name; certrole_format f; } t[] = {
        { "auto", CERTROLE_FORMAT_AUTO }, { "pem", CERTROLE_FORMAT_PEM },
        { "der", CERTROLE_FORMAT_DER }, { "p7b", CERTROLE_FORMAT_PKCS7 },
        { "pkcs7", CERTROLE_FORMAT_PKCS7 }, { "p12", CERTROLE_FORMAT_PKCS12 },
        { "pkcs12", CERTROLE_FORMAT_PKCS12 }, { "pfx", CERTROLE_FORMAT_PKCS12 },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!strcasecmp(s, t[i].name)) {
            *f = t[i].f;
            return 0;
        }
    return -1;
}

struct vopts {
    const char *ca_file, *ca_dir, *crl_check, *depth, *purpose, *chain, *password, *time;
    const char *crl[MAX_CRL_FILES];
    const char *extra[MAX_TRUST_OPTS];
    int n_crl, n_extra, json;
    certrole_format format;
};

/* The trust line, values quoted. Defaults are the library's, as for a
 * policy file: with CRL files but no --crl-check the leaf is checked. */
static char *build_policy(const struct vopts *o)
{
    char *t = strdup("trust");
    int bad = !t;
    if (!bad && o->ca_file)
        bad = cr_cli_quote(&t, "ca-file", o->ca_file);
    if (!bad && o->ca_dir)
        bad = cr_cli_quote(&t, "ca-dir", o->ca_dir);
    for (int i = 0; !bad && i < o->n_crl; i++)
        bad = cr_cli_quote(&t, "crl-file", o->crl[i]);
    if (!bad && o->crl_check)
        bad = cr_cli_quote(&t, "crl-check", o->crl_check);
    if (!bad && o->depth)
        bad = cr_cli_quote(&t, "depth", o->depth);
    if (!bad && o->purpose)
        bad = cr_cli_quote(&t, "purpose", o->purpose);
    if (!bad && o->time)
        bad = cr_cli_quote(&t, "time", o->time);
    for (int i = 0; !bad && i < o->n_extra; i++) {
        /* KEY=VALUE: the key was checked to be a plain word; the policy
         * parser decides whether it is a known trust option. */
        const char *eq = strchr(o->extra[i], '=');
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)(eq - o->extra[i]), o->extra[i]);
        bad = cr_cli_quote(&t, key, eq + 1);
    }
    size_t n = t ? strlen(t) : 0;
    char *nt = bad ? NULL : realloc(t, n + 2);
    if (!nt) {
        free(t);
        return NULL;
    }
    nt[n] = '\n';
    nt[n + 1] = '\0';
    return nt;
}

static int parse_args(int argc, char **argv, struct vopts *o)
{
    static const struct option opts[] = {
        { "ca-file", required_argument, NULL, 'a' },
        { "ca-dir", required_argument, NULL, 'd' },
        { "crl-file", required_argument, NULL, 'r' },
        { "crl-check", required_argument, NULL, 'k' },
        { "depth", required_argument, NULL, 'n' },
        { "purpose", required_argument, NULL, 'u' },
        { "chain", required_argument, NULL, 'c' },
        { "password", required_argument, NULL, 'P' },
        { "format", required_argument, NULL, 'f' },
        { "time", required_argument, NULL, 't' },
        { "trust", required_argument, NULL, 'T' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    optind = 1;
    opterr = 1;
    while ((c = getopt_long(argc, argv, "a:d:r:k:n:u:c:P:f:t:T:jh", opts, NULL)) != -1) {
        switch (c) {
        case 'a': o->ca_file = optarg; break;
        case 'd': o->ca_dir = optarg; break;
        case 'r':
            if (o->n_crl == MAX_CRL_FILES) {
                fprintf(stderr, "certrole verify: at most %d --crl-file options\n", MAX_CRL_FILES);
                return -1;
            }
            o->crl[o->n_crl++] = optarg;
            break;
        case 'k':
            if (strcmp(optarg, "none") && strcmp(optarg, "leaf") && strcmp(optarg, "chain")) {
                fprintf(stderr, "certrole verify: --crl-check must be none, leaf or chain\n");
                return -1;
            }
            o->crl_check = optarg;
            break;
        case 'n': {
            char *end;
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg || v < 0 || v > 100) {
                fprintf(stderr, "certrole verify: --depth must be a number from 0 to 100\n");
                return -1;
            }
            o->depth = optarg;
            break;
        }
        case 'u': o->purpose = optarg; break;
        case 'c': o->chain = optarg; break;
        case 'P': o->password = optarg; break;
        case 'f':
            if (parse_format(optarg, &o->format) < 0) {
                fprintf(stderr, "certrole verify: --format must be auto, pem, der, p7b or p12\n");
                return -1;
            }
            break;
        case 't': o->time = optarg; break;
        case 'T': {
            size_t k = strcspn(optarg, "=");
            if (o->n_extra == MAX_TRUST_OPTS || k == 0 || k >= 64 || !optarg[k] ||
                strspn(optarg, "abcdefghijklmnopqrstuvwxyz0123456789-") != k) {
                fprintf(stderr, "certrole verify: --trust wants KEY=VALUE "
                        "(a trust option of certrole-policy(5)), at most %d\n", MAX_TRUST_OPTS);
                return -1;
            }
            o->extra[o->n_extra++] = optarg;
            break;
        }
        case 'j': o->json = 1; break;
        case 'h': return 1;
        default: return -1;
        }
    }
    if (!o->ca_file && !o->ca_dir) {
        fprintf(stderr, "certrole verify: --ca-file (or --ca-dir) is required\n");
        return -1;
    }
    if (optind != argc - 1) {
        fprintf(stderr, "certrole verify: expected exactly one certificate file\n");
        return -1;
    }
    return 0;
}

/* With --chain: the leaf (and any further certificates) of CERT plus
 * every certificate of the chain file, verified as X509 objects. NULL
 * leaf when CERT is not plain PEM/DER: the caller then hands CERT alone
 * to the library, which says what is wrong with it. */
static int verify_with_chain(certrole_ctx *ctx, const char *data, size_t len,
                             const char *chainfile, certrole_result **res, int *used)
{
    size_t clen = 0;
    char *cdata = cr_cli_read_file(chainfile, &clen);
    if (!cdata) {
        fprintf(stderr, "certrole verify: %s: %s\n", chainfile, strerror(errno));
        return -1;
    }
    STACK_OF(X509) *chain = cr_cli_load_certs(cdata, clen);
    free(cdata);
    if (!chain) {
        fprintf(stderr, "certrole verify: %s: no PEM or DER certificate in the chain file\n",
                chainfile);
        return -1;
    }
    STACK_OF(X509) *certs = cr_cli_load_certs(data, len);
    *used = 0;
    if (certs) {
        X509 *leaf = sk_X509_shift(certs);
        while (sk_X509_num(certs) > 0) {
            X509 *x = sk_X509_pop(certs);
            if (!sk_X509_unshift(chain, x))
                X509_free(x);
        }
        certrole_verify_x509(ctx, leaf, chain, res);
        X509_free(leaf);
        sk_X509_free(certs);
        *used = 1;
    }
    sk_X509_pop_free(chain, X509_free);
    return 0;
}

/* The policy is made from the command line: its errors read
 * "command line:1:7: trust: ca-file x: ..."; the position means nothing
 * to the person who typed the options, so it is dropped. */
#define OPTIONS_NAME "command line"

static const char *without_position(const char *err)
{
    size_t n = strlen(OPTIONS_NAME);
    if (strncmp(err, OPTIONS_NAME ":", n + 1) != 0)
        return err;
    const char *p = err + n + 1;
    p += strspn(p, "0123456789");
    if (*p++ != ':')
        return err;
    p += strspn(p, "0123456789");
    return strncmp(p, ": ", 2) == 0 ? p + 2 : err;
}

int cr_cli_verify(int argc, char **argv)
{
    struct vopts o;
    memset(&o, 0, sizeof o);
    int pr = parse_args(argc, argv, &o);
    if (pr != 0) {
        verify_usage(pr > 0 ? stdout : stderr);
        return pr > 0 ? CR_CLI_EXIT_OK : CR_CLI_EXIT_USAGE;
    }
    const char *certfile = argv[optind];

    char *policy = build_policy(&o);
    if (!policy) {
        fprintf(stderr, "certrole verify: a path or value contains a line break\n");
        return CR_CLI_EXIT_USAGE;
    }
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    certrole_code rc = certrole_open_string(&ctx, policy, OPTIONS_NAME, &err);
    free(policy);
    if (rc != CERTROLE_OK) {
        fprintf(stderr, "certrole verify: %s\n", err ? without_position(err) : certrole_strerror(rc));
        certrole_free(err);
        return CR_CLI_EXIT_USAGE;
    }

    size_t len = 0;
    char *data = cr_cli_read_file(certfile, &len);
    if (!data) {
        fprintf(stderr, "certrole verify: %s: %s\n", certfile, strerror(errno));
        certrole_close(ctx);
        return CR_CLI_EXIT_USAGE;
    }
    certrole_result *res = NULL;
    int used = 0;
    if (o.chain) {
        if (verify_with_chain(ctx, data, len, o.chain, &res, &used) < 0) {
            free(data);
            certrole_close(ctx);
            return CR_CLI_EXIT_USAGE;
        }
        if (!used)
            fprintf(stderr, "certrole verify: %s is not a PEM/DER certificate; "
                    "--chain ignored\n", certfile);
    }
    if (!used)
        rc = certrole_verify_data(ctx, data, len, o.format, o.password, &res);
    free(data);
    if (!res) {
        fprintf(stderr, "certrole verify: %s\n", certrole_strerror(rc));
        certrole_close(ctx);
        return CR_CLI_EXIT_USAGE;
    }
    int status = certrole_result_code(res) == CERTROLE_OK ? CR_CLI_EXIT_OK : CR_CLI_EXIT_DENIED;
    if (o.json) {
        if (cr_cli_print_json(stdout, res) < 0)
            status = CR_CLI_EXIT_USAGE;
    } else {
        cr_cli_print_result(stdout, res);
    }
    certrole_result_free(res);
    certrole_close(ctx);
    return status;
}
