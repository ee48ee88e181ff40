/* libFuzzer target: certificate input, bytes into certrole_verify_data
 * (the entry point for PEM, DER, PKCS#7 and PKCS#12) under a real trust
 * profile: the test PKI's root as anchor and its CRLs, revocation
 * checked along the chain ($CERTROLE_PKI; without it every chain is
 * untrusted, which still fuzzes the decoders).
 *
 * Input: byte 0 chooses the format (b % 5: AUTO PEM DER PKCS7 PKCS12)
 * and the PKCS#12 password ((b / 5) % 3: none, "secret", ""); the rest
 * is the certificate bytes. Printable choices used by the seeds: 'K' AUTO,
 * 'L' PEM, 'M' DER, 'N' PKCS#7, 'O' PKCS#12, 'T' PKCS#12 with "secret".
 * Every outcome must be a result with a code; the result's accessors and
 * JSON are exercised on it. */
#define _GNU_SOURCE
#include <stdint.h>
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static certrole_ctx *ctx;

static void open_ctx(void)
{
    const char *dir = fz_scratch();
    char *policy = NULL, *name = NULL, *err = NULL;
    /* No cache: every input must take the full path. No realm: the
     * identity is unknown, which is fine, the decoding and path
     * validation are what is fuzzed. */
    if (asprintf(&policy,
                 "trust ca-file=ca.pem crl-file=crl.pem crl-check=chain depth=4 purpose=sslclient\n"
                 "option cache-ttl=0 deny-ttl=0 audit=no\n") < 0 ||
        asprintf(&name, "%s/cert.policy", dir) < 0)
        abort();
    if (certrole_open_string(&ctx, policy, name, &err) != CERTROLE_OK) {
        fprintf(stderr, "fuzz_cert: cannot open the policy: %s\n", err ? err : "?");
        abort();
    }
    certrole_set_log(ctx, fz_quiet, NULL);
    free(policy);
    free(name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const pw[] = { NULL, "secret", "" };
    static int verbose = -1;
    if (verbose < 0)
        verbose = getenv("FUZZ_VERBOSE") != NULL;
    if (!ctx)
        open_ctx();
    if (size < 1)
        return 0;
    certrole_format fmt = (certrole_format)(data[0] % 5);
    const char *password = pw[(data[0] / 5) % 3];
    certrole_result *res = NULL;
    certrole_code rc = certrole_verify_data(ctx, data + 1, size - 1, fmt, password, &res);
    if (verbose)
        fprintf(stderr, "fuzz_cert: %s: %s\n", certrole_code_name(rc),
                res ? certrole_result_message(res) : "(no result)");
    if (res) {
        /* Read everything a caller may read (ASan checks it). */
        size_t sum = strlen(certrole_result_message(res)) + strlen(certrole_result_hint(res));
        const char *s;
        if ((s = certrole_result_subject(res))) sum += strlen(s);
        if ((s = certrole_result_issuer(res))) sum += strlen(s);
        if ((s = certrole_result_serial(res))) sum += strlen(s);
        if ((s = certrole_result_fingerprint(res))) sum += strlen(s);
        for (size_t i = 0; i < certrole_result_san_count(res); i++) {
            certrole_san_type t;
            if ((s = certrole_result_san(res, i, &t)))
                sum += strlen(s) + (size_t)t;
        }
        char *json = certrole_result_json(res);
        if (json)
            sum += strlen(json);
        certrole_free(json);
        (void)certrole_authorize(ctx, res, "GET", "/x");
        if (sum == (size_t)-1 || (certrole_result_allowed(res) && rc != CERTROLE_OK))
            fputs("", stderr);
        certrole_result_free(res);
    }
    return 0;
}
