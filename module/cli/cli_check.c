/* 'certrole check' (verify + realm stack + resource rule under a policy)
 * and 'certrole policy-check' (lint a policy). Uses the public API only,
 * plus the policy parser itself (compiled into the command) for the
 * lint summary. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "certrole.h"
#include "cli.h"
#include "json.h"
#include "policy.h"
#include "strbuf.h"

/* Declared in cli.h too; repeated so this file stands on its own. */
int cr_cli_check(int argc, char **argv);
int cr_cli_policy_check(int argc, char **argv);

#define EXIT_ALLOW 0
#define EXIT_DENY 1
#define EXIT_USAGE 2
#define CHECK_MAX_INPUT (16L * 1024 * 1024)

/* Warnings and errors to stderr; audit lines are what we print anyway. */
static void to_stderr(void *ud, certrole_log_level level, const char *line)
{
    (void)ud;
    if (level <= CERTROLE_LOG_WARNING)
        fprintf(stderr, "certrole: %s\n", line);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 8192, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        if (n == cap) {
            char *nb = cap < (size_t)CHECK_MAX_INPUT ? realloc(buf, cap * 2 + 1) : NULL;
            if (!nb) {
                free(buf);
                buf = NULL;
                errno = EFBIG;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    if (buf && ferror(f)) {
        free(buf);
        buf = NULL;
    }
    if (f != stdin)
        fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}

/* Leaf from PEM or DER bytes. */
static X509 *load_leaf(const char *data, size_t len)
{
    BIO *b = BIO_new_mem_buf(data, (int)len);
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (!x) {
        const unsigned char *p = (const unsigned char *)data;
        x = d2i_X509(NULL, &p, (long)len);
    }
    ERR_clear_error();
    return x;
}

/* Every certificate of a PEM file (the peer's intermediates). */
static STACK_OF(X509) *load_chain(const char *data, size_t len)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    BIO *b = BIO_new_mem_buf(data, (int)len);
    X509 *x;
    while (sk && b && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
        if (!sk_X509_push(sk, x)) {
            X509_free(x);
            break;
        }
    BIO_free(b);
    ERR_clear_error();
    if (sk && sk_X509_num(sk) == 0) {
        const unsigned char *p = (const unsigned char *)data;
        x = d2i_X509(NULL, &p, (long)len);
        if (x && !sk_X509_push(sk, x))
            X509_free(x);
    }
    return sk;
}

static void check_usage(FILE *to)
{
    fprintf(to,
            "usage: certrole check --policy FILE [--chain FILE] [--password P]\n"
            "                      [--method M --path P] [--json] CERT\n"
            "  Verifies CERT (PEM, DER, PKCS#7 or PKCS#12; '-' for stdin) under the\n"
            "  policy, runs its realm stack and, with --method/--path, its resource\n"
            "  rules. Exit status: 0 allow, 1 deny, 2 usage or policy error.\n");
}

/* Copies a JSON string value starting at *p (at the opening quote) past
 * its end; returns 0, or -1 if *p is not a string. */
static int skip_json_string(const char **p)
{
    const char *s = *p;
    if (*s != '"')
        return -1;
    for (s++; *s; s++) {
        if (*s == '\\' && s[1])
            s++;
        else if (*s == '"') {
            *p = s + 1;
            return 0;
        }
    }
    return -1;
}

/* The result's JSON, with the decision overridden by the resource rule
 * when that denied an otherwise accepted peer, and the resource added. */
static char *check_json(const certrole_result *res, const char *method, const char *path,
                        certrole_code authz, const char *why)
{
    char *base = certrole_result_json(res);
    if (!base || !method)
        return base;
    cr_strbuf b = CR_STRBUF_INIT;
    const char *rest = base;
    int first = 1;
    cr_sb_appendc(&b, '{');
    if (authz != certrole_result_code(res)) {
        /* Leading keys are ok, decision, code, message, hint (result.c). */
        static const char *const lead[] = { "\"ok\":", "\"decision\":", "\"code\":",
                                            "\"message\":", "\"hint\":" };
        const char *p = base + 1;
        int ok = 1;
        for (size_t i = 0; i < 5 && ok; i++) {
            size_t kl = strlen(lead[i]);
            if (strncmp(p, lead[i], kl) != 0) {
                ok = 0;
                break;
            }
            p += kl;
            if (i == 0)
                p += strncmp(p, "true", 4) == 0 ? 4 : strncmp(p, "false", 5) == 0 ? 5 : 0;
            else if (skip_json_string(&p) < 0)
                ok = 0;
            if (ok && *p == ',')
                p++;
        }
        if (ok) {
            cr_json_key(&b, &first, "ok");
            cr_sb_append(&b, "false");
            cr_json_key(&b, &first, "decision");
            cr_json_string(&b, "deny");
            cr_json_key(&b, &first, "code");
            cr_json_string(&b, certrole_code_name(authz));
            cr_json_key(&b, &first, "message");
            cr_json_string(&b, why ? why : certrole_strerror(authz));
            cr_json_key(&b, &first, "hint");
            cr_json_string(&b, "use a certificate mapped to one of the roles the rule names, "
                               "or grant the role in the realm");
            rest = p - 1;   /* at the ',' (or '}') before the remaining keys */
            if (*rest != ',')
                rest = p;
        }
    }
    cr_json_key(&b, &first, "resource");
    char *resource = NULL;
    if (asprintf(&resource, "%s %s", method, path) < 0)
        resource = NULL;
    cr_json_string(&b, resource);
    free(resource);
    cr_json_key(&b, &first, "authorized");
    cr_sb_append(&b, authz == CERTROLE_OK ? "true" : "false");
    /* The remaining keys of the result, without its opening brace. */
    if (rest == base)
        rest = base + 1;
    if (*rest != ',' && *rest != '}')
        cr_sb_appendc(&b, ',');
    cr_sb_append(&b, rest);
    free(base);
    return cr_sb_take(&b);
}

static void print_text(const certrole_result *res, const char *method, const char *path,
                       certrole_code final, const char *why)
{
    printf("decision: %s\n", final == CERTROLE_OK ? "allow" : "deny");
    printf("code: %s\n", certrole_code_name(final));
    if (final != certrole_result_code(res) && why) {
        printf("message: %s\n", why);
        printf("hint: use a certificate mapped to one of the roles the rule names, "
               "or grant the role in the realm\n");
    } else {
        printf("message: %s\n", certrole_result_message(res));
        if (*certrole_result_hint(res))
            printf("hint: %s\n", certrole_result_hint(res));
    }
    if (certrole_result_subject(res))
        printf("subject: %s\n", certrole_result_subject(res));
    if (certrole_result_issuer(res))
        printf("issuer: %s\n", certrole_result_issuer(res));
    if (certrole_result_user(res))
        printf("user: %s\n", certrole_result_user(res));
    if (certrole_result_role_count(res) > 0) {
        printf("roles: ");
        for (size_t i = 0; i < certrole_result_role_count(res); i++)
            printf("%s%s", i ? "," : "", certrole_result_role(res, i));
        printf("\n");
    }
    if (certrole_result_realm(res))
        printf("realm: %s\n", certrole_result_realm(res));
    if (method)
        printf("resource: %s %s\n", method, path);
}

/* Captures the denial reason certrole_authorize writes to the audit line. */
struct authz_capture { char *why; };

static void capture(void *ud, certrole_log_level level, const char *line)
{
    struct authz_capture *c = ud;
    if (level != CERTROLE_LOG_NOTICE) {
        to_stderr(NULL, level, line);
        return;
    }
    const char *m = strstr(line, " message=\"");
    if (!m)
        return;
    m += 10;
    cr_strbuf b = CR_STRBUF_INIT;
    for (; *m && *m != '"'; m++) {
        if (*m == '\\' && m[1])
            m++;
        cr_sb_appendc(&b, *m);
    }
    free(c->why);
    c->why = cr_sb_take(&b);
}

int cr_cli_check(int argc, char **argv)
{
    static const struct option opts[] = {
        { "policy", required_argument, NULL, 'p' },
        { "chain", required_argument, NULL, 'c' },
        { "password", required_argument, NULL, 'P' },
        { "method", required_argument, NULL, 'm' },
        { "path", required_argument, NULL, 'u' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *policy = NULL, *chain = NULL, *password = NULL, *method = NULL, *path = NULL;
    int json = 0, c;
    optind = 1;
    opterr = 1;
    while ((c = getopt_long(argc, argv, "p:c:P:m:u:jh", opts, NULL)) != -1) {
        switch (c) {
        case 'p': policy = optarg; break;
        case 'c': chain = optarg; break;
        case 'P': password = optarg; break;
        case 'm': method = optarg; break;
        case 'u': path = optarg; break;
        case 'j': json = 1; break;
        case 'h': check_usage(stdout); return EXIT_ALLOW;
        default: check_usage(stderr); return EXIT_USAGE;
        }
    }
    if (!policy || optind != argc - 1 || (!method) != (!path)) {
        if (!policy)
            fprintf(stderr, "certrole check: --policy is required\n");
        else if ((!method) != (!path))
            fprintf(stderr, "certrole check: --method and --path go together\n");
        else
            fprintf(stderr, "certrole check: expected exactly one certificate file\n");
        check_usage(stderr);
        return EXIT_USAGE;
    }
    const char *certfile = argv[optind];

    certrole_ctx *ctx = NULL;
    char *err = NULL;
    certrole_code rc = certrole_open(&ctx, policy, &err);
    if (rc != CERTROLE_OK) {
        fprintf(stderr, "certrole check: %s\n", err ? err : certrole_strerror(rc));
        certrole_free(err);
        return EXIT_USAGE;
    }
    struct authz_capture cap = { NULL };
    certrole_set_log(ctx, capture, &cap);

    size_t len = 0, clen = 0;
    char *data = slurp(certfile, &len);
    if (!data) {
        fprintf(stderr, "certrole check: %s: %s\n", certfile, strerror(errno));
        certrole_close(ctx);
        return EXIT_USAGE;
    }
    certrole_result *res = NULL;
    if (chain) {
        char *cdata = slurp(chain, &clen);
        if (!cdata) {
            fprintf(stderr, "certrole check: %s: %s\n", chain, strerror(errno));
            free(data);
            certrole_close(ctx);
            return EXIT_USAGE;
        }
        X509 *leaf = load_leaf(data, len);
        STACK_OF(X509) *sk = load_chain(cdata, clen);
        if (leaf)
            rc = certrole_verify_x509(ctx, leaf, sk, &res);
        else
            rc = certrole_verify_data(ctx, data, len, CERTROLE_FORMAT_AUTO, password, &res);
        X509_free(leaf);
        sk_X509_pop_free(sk, X509_free);
        free(cdata);
    } else {
        rc = certrole_verify_data(ctx, data, len, CERTROLE_FORMAT_AUTO, password, &res);
    }
    free(data);
    if (!res) {
        fprintf(stderr, "certrole check: %s\n", certrole_strerror(rc));
        certrole_close(ctx);
        return EXIT_USAGE;
    }
    certrole_code final = certrole_result_code(res);
    if (method) {
        free(cap.why);
        cap.why = NULL;
        final = certrole_authorize(ctx, res, method, path);
    }
    if (json) {
        char *j = check_json(res, method, path, final, cap.why);
        printf("%s\n", j ? j : "{\"ok\":false,\"code\":\"no_memory\"}");
        free(j);
    } else {
        print_text(res, method, path, final, cap.why);
    }
    free(cap.why);
    certrole_result_free(res);
    certrole_close(ctx);
    return final == CERTROLE_OK ? EXIT_ALLOW : EXIT_DENY;
}

/* ---- policy-check ------------------------------------------------------ */

/* policy-check: warnings and errors of the load, to stderr. */
static void lint_log(void *ud, certrole_log_level level, const char *line)
{
    (void)ud;
    if (level == CERTROLE_LOG_WARNING)
        fprintf(stderr, "warning: %s\n", line);
    else if (level < CERTROLE_LOG_WARNING)
        fprintf(stderr, "error: %s\n", line);
}

static void print_args(const struct cr_directive *d, size_t from)
{
    for (size_t i = from; i < d->nargs; i++) {
        const char *t = d->args[i].text;
        if (strpbrk(t, " \t\"") || !*t)
            printf(" \"%s\"", t);
        else
            printf(" %s", t);
    }
}

int cr_cli_policy_check(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(argc == 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr,
                "usage: certrole policy-check FILE\n"
                "  Loads the policy as a server would (trust anchors, CRLs, realm\n"
                "  modules and their files) and prints a summary, or the\n"
                "  file:line:column of the first error. Exit status 0 or 2.\n");
        return argc == 2 && strcmp(argv[1], "--help") == 0 ? EXIT_ALLOW : EXIT_USAGE;
    }
    const char *file = argv[1];
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    certrole_code rc = certrole_open(&ctx, file, &err);
    if (rc != CERTROLE_OK) {
        fprintf(stderr, "%s\n", err ? err : certrole_strerror(rc));
        certrole_free(err);
        return EXIT_USAGE;
    }
    /* The first load logged its warnings to the default sink: load once
     * more with them routed here. They leave the exit status at 0. */
    certrole_set_log(ctx, lint_log, NULL);
    rc = certrole_reload(ctx, &err);
    certrole_close(ctx);
    if (rc != CERTROLE_OK) {   /* changed between the two reads */
        fprintf(stderr, "%s\n", err ? err : certrole_strerror(rc));
        certrole_free(err);
        return EXIT_USAGE;
    }
    struct cr_policy *p = NULL;
    rc = cr_policy_parse_file(file, &p, &err);
    if (rc != CERTROLE_OK) {   /* changed between the two reads */
        fprintf(stderr, "%s\n", err ? err : certrole_strerror(rc));
        free(err);
        return EXIT_USAGE;
    }
    size_t realms = 0, rules = 0;
    for (size_t i = 0; i < p->ndirs; i++) {
        realms += p->dirs[i].kind == CR_DIR_REALM;
        rules += p->dirs[i].kind == CR_DIR_REQUIRE;
    }
    printf("OK: %s\n", file);
    for (size_t i = 0; i < p->ndirs; i++)
        if (p->dirs[i].kind == CR_DIR_TRUST) {
            printf("  trust:");
            print_args(&p->dirs[i], 0);
            printf("\n");
        }
    printf("  realms: %zu%s\n", realms, realms ? "" : " (verification only: no user, no roles)");
    for (size_t i = 0; i < p->ndirs; i++)
        if (p->dirs[i].kind == CR_DIR_REALM) {
            printf("    %-10s %s", p->dirs[i].args[0].text, p->dirs[i].args[1].text);
            print_args(&p->dirs[i], 2);
            printf("\n");
        }
    printf("  rules: %zu%s\n", rules, rules ? "" : " (every accepted peer may access everything)");
    for (size_t i = 0; i < p->ndirs; i++)
        if (p->dirs[i].kind == CR_DIR_REQUIRE) {
            printf("    %-6s %s ->", p->dirs[i].args[0].text, p->dirs[i].args[1].text);
            print_args(&p->dirs[i], 2);
            printf("\n");
        }
    if (p->nfiles > 1)
        printf("  files: %zu (with includes)\n", p->nfiles);
    cr_policy_free(p);
    return EXIT_ALLOW;
}
