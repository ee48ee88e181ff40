/* Helpers shared by the certrole subcommands: reading inputs, building
 * policy text, printing results for people and for programs. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdarg.h>
#include "cli.h"
#include "json.h"

char *cr_cli_read_file(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 8192, n = 0;
    char *buf = malloc(cap + 1);
    int err = buf ? 0 : ENOMEM;
    while (buf) {
        if (n == cap) {
            if (cap >= CR_CLI_MAX_FILE) {
                err = EFBIG;
                break;
            }
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) {
                err = ENOMEM;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) {
            if (ferror(f))
                err = errno ? errno : EIO;
            break;
        }
    }
    if (f != stdin)
        fclose(f);
    if (err) {
        free(buf);
        errno = err;
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

STACK_OF(X509) *cr_cli_load_certs(const char *data, size_t len)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    BIO *b = sk ? BIO_new_mem_buf(data, (int)len) : NULL;
    if (!b) {
        sk_X509_free(sk);
        return NULL;
    }
    if (memmem(data, len, "-----BEGIN", 10)) {
        X509 *x;
        while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
            if (!sk_X509_push(sk, x)) {
                X509_free(x);
                break;
            }
    } else {
        X509 *x = d2i_X509_bio(b, NULL);
        if (x && !sk_X509_push(sk, x))
            X509_free(x);
    }
    BIO_free(b);
    ERR_clear_error();
    if (sk_X509_num(sk) == 0) {
        sk_X509_free(sk);
        return NULL;
    }
    return sk;
}

int cr_cli_quote(char **text, const char *key, const char *s)
{
    if (strpbrk(s, "\r\n"))
        return -1;
    size_t old = *text ? strlen(*text) : 0;
    size_t need = old + strlen(key) + 2 * strlen(s) + 5;
    char *t = realloc(*text, need);
    if (!t)
        return -1;
    *text = t;
    char *p = t + old;
    p += sprintf(p, " %s=\"", key);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            *p++ = '\\';
        *p++ = *s;
    }
    *p++ = '"';
    *p = '\0';
    return 0;
}

int cr_cli_json_requested(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--json") == 0)
            return 1;
    return 0;
}

int cr_cli_fail(int json, const char *cmd, certrole_code code, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!json) {
        fprintf(stderr, "certrole %s: %s\n", cmd, msg);
        return CR_CLI_EXIT_USAGE;
    }
    cr_strbuf b = CR_STRBUF_INIT;
    int first = 1;
    cr_sb_appendc(&b, '{');
    cr_json_key(&b, &first, "ok");
    cr_sb_append(&b, "false");
    cr_json_key(&b, &first, "code");
    cr_json_string(&b, certrole_code_name(code));
    cr_json_key(&b, &first, "message");
    cr_json_string(&b, msg);
    cr_sb_appendc(&b, '}');
    char *j = cr_sb_take(&b);
    printf("%s\n", j ? j : "{\"ok\":false,\"code\":\"no_memory\",\"message\":null}");
    free(j);
    return CR_CLI_EXIT_USAGE;
}

int cr_cli_bad_option(int json, const char *cmd, int c, char **argv)
{
    /* getopt has moved optind past the word holding the option. */
    const char *w = optind > 0 ? argv[optind - 1] : NULL;
    const char *what = c == ':' ? "needs a value" : "is unknown";
    if (w && strncmp(w, "--", 2) == 0)
        return cr_cli_fail(json, cmd, CERTROLE_E_INVALID_ARGUMENT, "option %.*s %s",
                           (int)strcspn(w, "="), w, what);
    return cr_cli_fail(json, cmd, CERTROLE_E_INVALID_ARGUMENT, "option -%c %s",
                       optopt ? optopt : '?', what);
}

static void fmt_time(char *buf, size_t n, time_t t)
{
    struct tm tm;
    if (t == 0 || !gmtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%d %H:%M:%S UTC", &tm))
        snprintf(buf, n, "?");
}

static const char *san_prefix(certrole_san_type t)
{
    switch (t) {
    case CERTROLE_SAN_EMAIL: return "email";
    case CERTROLE_SAN_DNS: return "DNS";
    case CERTROLE_SAN_URI: return "URI";
    case CERTROLE_SAN_IP: return "IP";
    case CERTROLE_SAN_UPN: return "UPN";
    }
    return "?";
}

void cr_cli_print_result(FILE *out, const certrole_result *res)
{
    certrole_code code = certrole_result_code(res);
    const char *hint = certrole_result_hint(res);
    if (code == CERTROLE_OK)   /* the message: it may carry a note on the input */
        fprintf(out, "OK: %s\n", certrole_result_message(res));
    else
        fprintf(out, "NOT VALID (%s): %s\n", certrole_code_name(code),
                certrole_result_message(res));
    const char *subject = certrole_result_subject(res);
    if (subject) {
        char nb[40], na[40];
        fmt_time(nb, sizeof nb, certrole_result_not_before(res));
        fmt_time(na, sizeof na, certrole_result_not_after(res));
        const char *issuer = certrole_result_issuer(res);
        fprintf(out, "  subject:     %s\n", subject);
        fprintf(out, "  issuer:      %s\n", issuer ? issuer : "?");
        fprintf(out, "  serial:      %s\n", certrole_result_serial(res) ? certrole_result_serial(res) : "?");
        fprintf(out, "  validity:    %s .. %s\n", nb, na);
        size_t n = certrole_result_san_count(res);
        for (size_t i = 0; i < n; i++) {
            certrole_san_type t = CERTROLE_SAN_DNS;
            const char *v = certrole_result_san(res, i, &t);
            fprintf(out, "  %s %s:%s\n", i == 0 ? "SAN:        " : "            ", san_prefix(t),
                    v ? v : "");
        }
        if (certrole_result_spiffe_id(res))
            fprintf(out, "  SPIFFE ID:   %s\n", certrole_result_spiffe_id(res));
        else if (certrole_result_spiffe_problem(res))
            fprintf(out, "  SPIFFE ID:   none (%s)\n", certrole_result_spiffe_problem(res));
        if (certrole_result_ski(res))
            fprintf(out, "  SKI:         %s\n", certrole_result_ski(res));
        const char *fp = certrole_result_fingerprint(res);
        fprintf(out, "  sha256:      %s\n", fp ? fp : "?");
        if (certrole_result_depth(res) > 0)
            fprintf(out, "  chain:       %d certificates, leaf to trust anchor\n",
                    certrole_result_depth(res));
    }
    const char *user = certrole_result_user(res);
    if (user)
        fprintf(out, "  user:        %s (realm %s)\n", user,
                certrole_result_realm(res) ? certrole_result_realm(res) : "?");
    if (code != CERTROLE_OK && hint && *hint)
        fprintf(out, "  hint:        %s\n", hint);
}

int cr_cli_print_json(FILE *out, const certrole_result *res)
{
    char *j = certrole_result_json(res);
    if (!j)
        return -1;
    fprintf(out, "%s\n", j);
    certrole_free(j);
    return 0;
}
