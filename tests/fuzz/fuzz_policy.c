/* libFuzzer target: the policy file. Input is policy text; it goes
 * through the internal parser (tokenizer, directives, includes) and, when
 * it parses, through certrole_open_string (trust options, CA/CRL loading,
 * realm loader, require rules, options) in a scratch directory with a
 * real CA and CRL (see fuzz_common.h). Nothing here may crash, leak or
 * hang; errors are the expected outcome for most inputs. */
#define _GNU_SOURCE
#include <stdint.h>
#include "fuzz_common.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char *name;
    if (!name && asprintf(&name, "%s/fuzz.policy", fz_scratch()) < 0)
        abort();
    char *text = strndup((const char *)data, size);
    if (!text)
        return 0;
    /* An include of a device or a FIFO is the administrator's business
     * (it may block); keep the fuzzer to ordinary files. */
    if (strstr(text, "/dev") || strstr(text, "/proc") || strstr(text, "/sys")) {
        free(text);
        return 0;
    }
    struct cr_policy *pol = NULL;
    char *err = NULL;
    certrole_code rc = cr_policy_parse_string(text, name, &pol, &err);
    if (getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "fuzz_policy: parse: %s %s\n", certrole_code_name(rc), err ? err : "");
    if (rc == CERTROLE_OK) {
        /* Touch everything the parser produced (ASan checks it). */
        size_t sum = 0;
        for (size_t i = 0; i < pol->ndirs; i++) {
            const struct cr_directive *d = &pol->dirs[i];
            sum += strlen(d->file) + strlen(d->base_dir) + (size_t)d->line;
            for (size_t j = 0; j < d->nargs; j++)
                sum += strlen(d->args[j].text) + strlen(d->args[j].value) +
                       (d->args[j].key ? strlen(d->args[j].key) : 0);
        }
        for (size_t i = 0; i < pol->nfiles; i++)
            sum += strlen(pol->files[i]) + strlen(pol->dirs_of[i]);
        if (sum == (size_t)-1)
            fputs("", stderr);
        cr_policy_free(pol);

        certrole_ctx *ctx = NULL;
        char *oerr = NULL;
        certrole_code orc = certrole_open_string(&ctx, text, name, &oerr);
        if (getenv("FUZZ_VERBOSE"))
            fprintf(stderr, "fuzz_policy: open: %s %s\n", certrole_code_name(orc),
                    oerr ? oerr : "");
        if (orc == CERTROLE_OK) {
            certrole_set_log(ctx, fz_quiet, NULL);
            int reloaded = 0;
            char *rerr = NULL;
            certrole_reload_if_changed(ctx, &reloaded, &rerr);
            certrole_free(rerr);
            certrole_close(ctx);
        }
        certrole_free(oerr);
    }
    free(err);
    free(text);
    return 0;
}
