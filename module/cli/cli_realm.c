/* 'certrole realm add|remove|list|show': enrolment in a certrole realm
 * file. add writes one entry for a certificate, in the file realm's own
 * line format, checked first against the policy's trust when one is
 * given; every write goes through realm_edit.c (lock, the realm's loader,
 * atomic rename). */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include "chain_order.h"
#include "cli_realm.h"
#include "realm_edit.h"
#include "role_name.h"

static void realm_usage(FILE *to)
{
    fprintf(to,
            "usage: certrole realm add    --realm FILE [--policy P] --user NAME --roles R1,R2\n"
            "                             [--by pin|dn|email|upn|spiffe|dns|uri|issuer-serial]\n"
            "                             [--force] CERT\n"
            "       certrole realm remove --realm FILE (--user NAME | --entry TOKEN)\n"
            "       certrole realm list   --realm FILE [--json]\n"
            "       certrole realm show   --realm FILE [--json] (--user NAME | CERT)\n"
            "  Exit status: 0 done, 1 refused or nothing matched, 2 usage or other error.\n");
}

static int bad(const struct ropts *o, const char *msg)
{
    char cmd[32];
    snprintf(cmd, sizeof cmd, "realm %s", o->sub ? o->sub : "");
    cr_cli_fail(o->json, cmd, CERTROLE_E_INVALID_ARGUMENT, "%s", msg);
    return -1;
}

/* Which options each subcommand takes. */
static int check_combination(const struct ropts *o, int by_given)
{
    int add = !strcmp(o->sub, "add"), rm = !strcmp(o->sub, "remove");
    int list = !strcmp(o->sub, "list"), show = !strcmp(o->sub, "show");
    if (!add && !rm && !list && !show)
        return bad(o, "unknown subcommand (add, remove, list, show)");
    if (!o->realm)
        return bad(o, "--realm FILE is required");
    if (!add && (o->policy || o->roles || by_given || o->force))
        return bad(o, "--policy, --roles, --by and --force are options of 'realm add'");
    if (add && o->force && !o->policy)
        return bad(o, "--force overrides the --policy check: without --policy there is nothing"
                      " to force");
    if (!rm && o->entry)
        return bad(o, "--entry is an option of 'realm remove'");
    if ((add || rm) && o->json)
        return bad(o, "--json is an option of 'realm list' and 'realm show'");
    if (add && (!o->user || !o->roles || !o->cert))
        return bad(o, "add needs --user NAME, --roles R1[,R2...] and a certificate");
    if (rm && !o->user == !o->entry)
        return bad(o, "remove needs exactly one of --user NAME and --entry TOKEN");
    if ((rm || list) && o->cert)
        return bad(o, "unexpected certificate argument");
    if (list && o->user)
        return bad(o, "list takes no --user (use 'realm show --user')");
    if (show && !o->user == !o->cert)
        return bad(o, "show needs exactly one of --user NAME and a certificate");
    return 0;
}

/* 1: help printed; 0: run; -1: usage error (reported). */
static int parse_args(int argc, char **argv, struct ropts *o)
{
    static const struct option opts[] = {
        { "realm", required_argument, NULL, 'r' }, { "policy", required_argument, NULL, 'p' },
        { "user", required_argument, NULL, 'u' },  { "roles", required_argument, NULL, 'R' },
        { "by", required_argument, NULL, 'b' },    { "entry", required_argument, NULL, 'e' },
        { "force", no_argument, NULL, 'f' },       { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },        { NULL, 0, NULL, 0 },
    };
    memset(o, 0, sizeof *o);
    o->by = CR_BY_PIN;
    o->json = cr_cli_json_requested(argc, argv);
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
        return argc < 2 ? bad(o, "missing subcommand (add, remove, list, show)") : 1;
    o->sub = argv[1];
    optind = 1;
    opterr = 0;
    int c, by_given = 0;
    char cmd[32];
    snprintf(cmd, sizeof cmd, "realm %s", o->sub);
    while ((c = getopt_long(argc - 1, argv + 1, ":r:p:u:R:b:e:fjh", opts, NULL)) != -1) {
        switch (c) {
        case 'r': o->realm = optarg; break;
        case 'p': o->policy = optarg; break;
        case 'u': o->user = optarg; break;
        case 'R': o->roles = optarg; break;
        case 'e': o->entry = optarg; break;
        case 'f': o->force = 1; break;
        case 'j': o->json = 1; break;
        case 'h': return 1;
        case 'b':
            by_given = 1;
            if (cr_rby_parse(optarg, &o->by) < 0)
                return bad(o, "--by takes pin, dn, email, upn, spiffe, dns, uri or issuer-serial");
            break;
        default: cr_cli_bad_option(o->json, cmd, c, argv + 1); return -1;
        }
    }
    if (optind < argc - 1)
        o->cert = argv[optind + 1];
    if (optind + 1 < argc - 1)
        return bad(o, "more than one certificate argument");
    return check_combination(o, by_given);
}

/* A user name as the realm format carries it and servers export it:
 * 1 to 1023 bytes of UTF-8, no control character (C0, DEL, C1), no
 * invisible or bidi formatting character, no blank at either end. */
static const char *user_problem(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 1023)
        return "a user name has 1 to 1023 bytes";
    if (s[0] == ' ' || s[n - 1] == ' ')
        return "a user name cannot start or end with a space";
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        unsigned cp, len = *p < 0x80 ? 1 : (*p >> 5) == 6 ? 2 : (*p >> 4) == 14 ? 3
                         : (*p >> 3) == 30 ? 4 : 0;
        if (!len)
            return "a user name must be UTF-8";
        cp = len == 1 ? *p : *p & (0x7f >> len);
        for (unsigned i = 1; i < len; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return "a user name must be UTF-8";
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return "a user name must be UTF-8 (overlong or surrogate sequence)";
        if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
            return "control character in the user name";
        if (cp == 0xad || cp == 0x34f || cp == 0x61c || (cp >= 0x200b && cp <= 0x200f) ||
            (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x206f) ||
            cp == 0xfeff || (cp >= 0xfe00 && cp <= 0xfe0f))
            return "invisible or bidi formatting character in the user name";
        p += len;
    }
    return NULL;
}

/* R1,R2 under the one role rule; no blanks, no empty or repeated role. */
static int check_roles(const struct ropts *o)
{
    const char *s = o->roles;
    char msg[300];
    for (const char *p = s;;) {
        size_t n = strcspn(p, ",");
        size_t badat = cr_role_name_bad_at(p, n);
        if (n == 0) {
            snprintf(msg, sizeof msg, "empty role name in --roles '%s'", s);
            return bad(o, msg);
        }
        if (badat < n) {
            snprintf(msg, sizeof msg, "bad character 0x%02x in role '%.*s' (allowed: "
                     CR_ROLE_NAME_CHARS ")", (unsigned char)p[badat], (int)n, p);
            return bad(o, msg);
        }
        for (const char *q = s; q < p; q += strcspn(q, ",") + 1)
            if (strcspn(q, ",") == n && !memcmp(q, p, n)) {
                snprintf(msg, sizeof msg, "role '%.*s' given twice", (int)n, p);
                return bad(o, msg);
            }
        if (!p[n])
            return 0;
        p += n + 1;
    }
}

int cr_realm_cert_identity(const struct ropts *o, const char *cmd, struct certrole_identity *id)
{
    size_t len = 0;
    char *data = cr_cli_read_file(o->cert, &len);
    if (!data)
        return cr_cli_fail(o->json, cmd, CERTROLE_E_IO, "%s: %s", o->cert, strerror(errno));
    STACK_OF(X509) *sk = cr_cli_load_certs(data, len);
    free(data);
    if (!sk) {
        cr_cli_fail(o->json, cmd, CERTROLE_E_BAD_ENCODING, "%s: no certificate decodes"
                    " (PEM or DER)", o->cert);
        return CR_CLI_EXIT_DENIED;
    }
    int pos = 0;
    char *msg = NULL, *hint = NULL;
    certrole_code rc = cr_chain_find_leaf(sk, o->cert, &pos, &msg, &hint);
    if (rc == CERTROLE_OK)
        rc = cr_identity_from_leaf(id, sk_X509_value(sk, 0), &msg, &hint);
    sk_X509_pop_free(sk, X509_free);
    if (rc != CERTROLE_OK) {
        cr_cli_fail(o->json, cmd, rc, "%s%s%s", msg ? msg : certrole_strerror(rc),
                    hint ? "; hint: " : "", hint ? hint : "");
        free(msg);
        free(hint);
        return CR_CLI_EXIT_DENIED;
    }
    return 0;
}

int cr_cli_realm(int argc, char **argv)
{
    struct ropts o;
    int pr = parse_args(argc, argv, &o);
    if (pr != 0) {
        if (pr > 0 || !o.json)
            realm_usage(pr > 0 ? stdout : stderr);
        return pr > 0 ? CR_CLI_EXIT_OK : CR_CLI_EXIT_USAGE;
    }
    const char *why = o.user ? user_problem(o.user) : NULL;
    if (why) {
        bad(&o, why);
        return CR_CLI_EXIT_USAGE;
    }
    if (o.roles && check_roles(&o) < 0)
        return CR_CLI_EXIT_USAGE;
    if (!strcmp(o.sub, "add"))
        return cr_realm_add(&o);
    if (!strcmp(o.sub, "remove"))
        return cr_realm_remove(&o);
    return cr_realm_list(&o);
}
