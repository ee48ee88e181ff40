/* certrole: command-line front end of libcertrole. Dispatches to the
 * subcommands; each parses its own options. */
#include <stdio.h>
#include <string.h>
#include "certrole.h"
#include "cli.h"

static void usage(FILE *to)
{
    fprintf(to,
            "usage: certrole COMMAND [OPTIONS] ...\n"
            "\n"
            "commands:\n"
            "  verify        validate a certificate chain against CA files (no policy)\n"
            "  check         verify, map to roles and authorize under a policy file\n"
            "  policy-check  load a policy file and report errors\n"
            "  trust list    list the trust anchors a policy loads\n"
            "  realm         add, remove, list or show entries of a realm file\n"
            "\n"
            "  certrole COMMAND --help   options of a command\n"
            "  certrole --version        library version\n"
            "\n"
            "Exit status: 0 valid/allowed, 1 not valid/denied, 2 usage or other error.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CR_CLI_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "verify"))
        return cr_cli_verify(argc - 1, argv + 1);
    if (!strcmp(cmd, "check"))
        return cr_cli_check(argc - 1, argv + 1);
    if (!strcmp(cmd, "policy-check"))
        return cr_cli_policy_check(argc - 1, argv + 1);
    if (!strcmp(cmd, "trust"))
        return cr_cli_trust(argc - 1, argv + 1);
    if (!strcmp(cmd, "realm"))
        return cr_cli_realm(argc - 1, argv + 1);
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V") || !strcmp(cmd, "version")) {
        printf("certrole %s\n", certrole_version());
        return CR_CLI_EXIT_OK;
    }
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return CR_CLI_EXIT_OK;
    }
    if (cr_cli_json_requested(argc, argv))
        return cr_cli_fail(1, "", CERTROLE_E_INVALID_ARGUMENT, "unknown command '%s'", cmd);
    fprintf(stderr, "certrole: unknown command '%s'\n", cmd);
    usage(stderr);
    return CR_CLI_EXIT_USAGE;
}
