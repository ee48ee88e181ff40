/* The certrole command: subcommands and the helpers they share. */
#ifndef CR_CLI_H
#define CR_CLI_H
#include <stddef.h>
#include <stdio.h>
#include <openssl/x509.h>
#include "certrole.h"

/* Exit statuses of every subcommand. */
#define CR_CLI_EXIT_OK 0      /* valid / allowed */
#define CR_CLI_EXIT_DENIED 1  /* not valid / denied */
#define CR_CLI_EXIT_USAGE 2   /* usage, policy or I/O error */

/* Largest file the command reads; the library refuses far less anyway,
 * this only bounds memory. */
#define CR_CLI_MAX_FILE (16u * 1024u * 1024u)

/* Subcommands; argv[0] is the subcommand name. Return an exit status. */
int cr_cli_verify(int argc, char **argv);
int cr_cli_check(int argc, char **argv);         /* cli_check.c */
int cr_cli_policy_check(int argc, char **argv);  /* cli_check.c */
int cr_cli_trust(int argc, char **argv);         /* cli_trust.c: trust list */
int cr_cli_realm(int argc, char **argv);         /* cli_realm.c: realm add|remove|list|show */

/* Whole file ("-" = stdin), NUL-terminated, malloc'd; *len excludes the
 * NUL. NULL with errno set on error (EFBIG past CR_CLI_MAX_FILE). */
char *cr_cli_read_file(const char *path, size_t *len);

/* Certificates of a PEM (any number of CERTIFICATE blocks) or DER (one)
 * buffer, in order; NULL when none decodes. */
STACK_OF(X509) *cr_cli_load_certs(const char *data, size_t len);

/* Appends s to the policy text as a double-quoted word (\" and \\
 * escaped). Returns -1 if s cannot be expressed (newline, NUL). */
int cr_cli_quote(char **text, const char *key, const char *s);

/* 1 when argv asks for --json (before any "--"): known before the
 * options are parsed, so an error found first still answers in JSON. */
int cr_cli_json_requested(int argc, char **argv);
/* Reports an error that ends the command (returns CR_CLI_EXIT_USAGE):
 * with json, one object {"ok":false,"code":NAME,"message":TEXT} on stdout
 * and nothing else; otherwise "certrole CMD: TEXT" on stderr. code:
 * invalid_argument (usage), io_error (a file), policy_error, ... */
int cr_cli_fail(int json, const char *cmd, certrole_code code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* For getopt's '?' (unknown option) or ':' (missing value; the option
 * string starts with ':'): reports the option. */
int cr_cli_bad_option(int json, const char *cmd, int c, char **argv);

/* Prints a verification result for a person: outcome, subject, issuer,
 * validity, SANs, fingerprint, message and hint. */
void cr_cli_print_result(FILE *out, const certrole_result *res);
/* Prints certrole_result_json() and a newline. -1 on no memory. */
int cr_cli_print_json(FILE *out, const certrole_result *res);
#endif
