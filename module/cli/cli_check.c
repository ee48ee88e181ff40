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
#include "errors.h"
#include "json.h"
#include "result.h"
#include "policy.h"
#include "strbuf.h"

/* Declared in cli.h too; repeated so this file stands on its own. */
int cr_cli_check(int argc, char **argv);
int cr_cli_policy_check(int argc, char **argv);

#define EXIT_ALLOW 0
#define EXIT_DENY 1
#define EXIT_USAGE 2

/* Warnings and errors to stderr; audit lines are what we print anyway. */
static void to_stderr(void *ud, certrole_log_level level, const char *line)
{
    (void)ud;
    if (level <= CERTROLE_LOG_WARNING)
        fprintf(stderr, "certrole: %s\n", line);
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

/* The hint for a decision the resource rules changed: true for the case
 * (a rule that names roles the peer lacks), else the code's own. */
static const char *rule_hint(certrole_code final, const certrole_authz *a)
{
    if (final == CERTROLE_E_FORBIDDEN && a && certrole_authz_rule(a) &&
        certrole_authz_role_count(a) > 0)
        return "use a certificate mapped to one of the roles the rule names, "
               "or grant one of them in the realm";
    return cr_default_hint(final);
}

/* The decision, then what the rules judged, then the result's identity
 * and realm outcome: one JSON object, built, not patched. authz NULL:
 * no --method/--path. */
static char *check_json(const certrole_result *res, const char *method, const char *path,
                        certrole_code final, const certrole_authz *authz)
{
    if (!authz)
        return certrole_result_json(res);
    int changed = final != certrole_result_code(res), first = 1;
    cr_strbuf b = CR_STRBUF_INIT;
    cr_sb_appendc(&b, '{');
    cr_json_key(&b, &first, "ok");
    cr_sb_append(&b, final == CERTROLE_OK ? "true" : "false");
    cr_json_key(&b, &first, "decision");
    cr_json_string(&b, final == CERTROLE_OK ? "allow" : "deny");
    cr_json_key(&b, &first, "code");
    cr_json_string(&b, certrole_code_name(final));
    cr_json_key(&b, &first, "message");
    cr_json_string(&b, changed ? certrole_authz_reason(authz) : certrole_result_message(res));
    cr_json_key(&b, &first, "hint");
    cr_json_string(&b, changed ? rule_hint(final, authz) : certrole_result_hint(res));
    cr_json_key(&b, &first, "resource");
    char *resource = NULL;
    if (asprintf(&resource, "%s %s", method, path) < 0)
        resource = NULL;
    cr_json_string(&b, resource);   /* null when out of memory */
    free(resource);
    cr_json_key(&b, &first, "authorized");
    cr_sb_append(&b, final == CERTROLE_OK ? "true" : "false");
    cr_json_key(&b, &first, "judged_path");
    cr_json_string(&b, certrole_authz_path(authz));
    cr_json_key(&b, &first, "rule");
    cr_json_string(&b, certrole_authz_rule(authz));
    cr_json_key(&b, &first, "required_roles");
    cr_sb_appendc(&b, '[');
    for (size_t i = 0; i < certrole_authz_role_count(authz); i++) {
        if (i)
            cr_sb_appendc(&b, ',');
        cr_json_string(&b, certrole_authz_role(authz, i));
    }
    cr_sb_appendc(&b, ']');
    cr_json_key(&b, &first, "reason");
    cr_json_string(&b, certrole_authz_reason(authz));
    cr_result_json_fields(&b, &first, res);
    cr_sb_appendc(&b, '}');
    return cr_sb_take(&b);
}

static void print_rule(const certrole_authz *a)
{
    printf("judged path: %s\n", certrole_authz_path(a));
    if (certrole_authz_rule(a)) {
        printf("rule: %s", certrole_authz_rule(a));
        for (size_t i = 0; i < certrole_authz_role_count(a); i++)
            printf("%s%s", i ? "," : " requires ", certrole_authz_role(a, i));
        printf("\n");
    }
}

static void print_text(const certrole_result *res, const char *method, const char *path,
                       certrole_code final, const certrole_authz *authz)
{
    printf("decision: %s\n", final == CERTROLE_OK ? "allow" : "deny");
    printf("code: %s\n", certrole_code_name(final));
    if (authz && final != certrole_result_code(res)) {
        printf("message: %s\n", certrole_authz_reason(authz));
        printf("hint: %s\n", rule_hint(final, authz));
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
    if (authz)
        print_rule(authz);
}

struct copts {
    const char *policy, *chain, *password, *method, *path, *certfile;
    int json;
};

/* An HTTP method is a token (RFC 9110): never empty. */
static int method_token(const char *m)
{
    return *m && strspn(m, "!#$%&'*+-.^_`|~0123456789"
                           "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") == strlen(m);
}

#define CHECK_USAGE(...) cr_cli_fail(o->json, "check", CERTROLE_E_INVALID_ARGUMENT, __VA_ARGS__)

/* 0 to go on, 1 for --help, -1 after reporting a usage error. */
static int parse_check_args(int argc, char **argv, struct copts *o)
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
    int c;
    memset(o, 0, sizeof *o);
    o->json = cr_cli_json_requested(argc, argv);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":p:c:P:m:u:jh", opts, NULL)) != -1) {
        switch (c) {
        case 'p': o->policy = optarg; break;
        case 'c': o->chain = optarg; break;
        case 'P': o->password = optarg; break;
        case 'm': o->method = optarg; break;
        case 'u': o->path = optarg; break;
        case 'j': o->json = 1; break;
        case 'h': return 1;
        default: cr_cli_bad_option(o->json, "check", c, argv); return -1;
        }
    }
    if (!o->policy)
        return CHECK_USAGE("--policy is required"), -1;
    if ((!o->method) != (!o->path))
        return CHECK_USAGE("--method and --path go together"), -1;
    if (o->method && !method_token(o->method))
        return CHECK_USAGE("--method '%s' is not an HTTP method (a token such as GET)", o->method), -1;
    if (o->path && !*o->path)
        return CHECK_USAGE("--path must not be empty"), -1;
    if (optind != argc - 1)
        return CHECK_USAGE("expected exactly one certificate file"), -1;
    o->certfile = argv[optind];
    return 0;
}

/* The leaf and the peer's other certificates when --chain names them
 * apart; NULL leaf when the certificate file is not a PEM or DER
 * certificate (a PKCS#7 or PKCS#12 bundle carries its own chain). */
static certrole_code verify_split(certrole_ctx *ctx, const char *data, size_t len,
                                  const char *cdata, size_t clen, const struct copts *o,
                                  certrole_result **res)
{
    STACK_OF(X509) *leafs = cr_cli_load_certs(data, len);
    STACK_OF(X509) *sk = cr_cli_load_certs(cdata, clen);
    certrole_code rc;
    if (leafs)
        rc = certrole_verify_x509(ctx, sk_X509_value(leafs, 0), sk, res);
    else
        rc = certrole_verify_data(ctx, data, len, CERTROLE_FORMAT_AUTO, o->password, res);
    sk_X509_pop_free(leafs, X509_free);
    sk_X509_pop_free(sk, X509_free);
    return rc;
}

/* Reads the inputs and verifies them; NULL after reporting an error. */
static certrole_result *check_verify(certrole_ctx *ctx, const struct copts *o)
{
    size_t len = 0, clen = 0;
    char *data = cr_cli_read_file(o->certfile, &len), *cdata = NULL;
    if (!data) {
        cr_cli_fail(o->json, "check", CERTROLE_E_IO, "%s: %s", o->certfile, strerror(errno));
        return NULL;
    }
    if (o->chain && !(cdata = cr_cli_read_file(o->chain, &clen))) {
        cr_cli_fail(o->json, "check", CERTROLE_E_IO, "%s: %s", o->chain, strerror(errno));
        free(data);
        return NULL;
    }
    certrole_result *res = NULL;
    certrole_code rc = cdata ? verify_split(ctx, data, len, cdata, clen, o, &res)
        : certrole_verify_data(ctx, data, len, CERTROLE_FORMAT_AUTO, o->password, &res);
    free(data);
    free(cdata);
    if (!res)
        cr_cli_fail(o->json, "check", rc, "%s", certrole_strerror(rc));
    return res;
}

int cr_cli_check(int argc, char **argv)
{
    struct copts o;
    int pr = parse_check_args(argc, argv, &o);
    if (pr != 0) {
        if (pr > 0 || !o.json)
            check_usage(pr > 0 ? stdout : stderr);
        return pr > 0 ? EXIT_ALLOW : EXIT_USAGE;
    }
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    certrole_code rc = certrole_open(&ctx, o.policy, &err);
    if (rc != CERTROLE_OK) {
        cr_cli_fail(o.json, "check", rc, "%s", err ? err : certrole_strerror(rc));
        certrole_free(err);
        return EXIT_USAGE;
    }
    certrole_set_log(ctx, to_stderr, NULL);
    certrole_result *res = check_verify(ctx, &o);
    if (!res) {
        certrole_close(ctx);
        return EXIT_USAGE;
    }
    certrole_code final = certrole_result_code(res);
    certrole_authz *authz = NULL;
    if (o.method) {
        final = certrole_authorize_target(ctx, res, o.method, o.path, CERTROLE_TARGET_RAW,
                                          &authz);
        if (!authz) {
            cr_cli_fail(o.json, "check", final, "%s", certrole_strerror(final));
            certrole_result_free(res);
            certrole_close(ctx);
            return EXIT_DENY;
        }
    }
    if (o.json) {
        char *j = check_json(res, o.method, o.path, final, authz);
        printf("%s\n", j ? j : "{\"ok\":false,\"code\":\"no_memory\"}");
        free(j);
    } else {
        print_text(res, o.method, o.path, final, authz);
    }
    certrole_authz_free(authz);
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
