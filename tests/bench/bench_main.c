/* certrole benchmark program (make bench): prints one table row per
 * figure of the performance targets, each a ratio against a baseline
 * measured in this same run. Exits 1 on an error, never on a miss. */
#define _GNU_SOURCE
#include "bench.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
    double t0 = bench_now();
    printf("certrole %s benchmarks (best of several rounds; audit lines formatted and"
           " dropped)\n\n", certrole_version());
    /* the machine, so a reader can judge the figures */
    char model[256] = "?", load[64] = "?", line[512];
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "model name", 10) == 0 && strchr(line, ':')) {
            snprintf(model, sizeof model, "%s", strchr(line, ':') + 2);
            model[strcspn(model, "\n")] = '\0';
            break;
        }
    if (f)
        fclose(f);
    if ((f = fopen("/proc/loadavg", "r")) != NULL) {
        if (fgets(load, sizeof load, f))
            load[strcspn(load, "\n")] = '\0';
        fclose(f);
    }
    printf("machine: %ld online CPU(s), %s; load average at start: %s\n\n",
           sysconf(_SC_NPROCESSORS_ONLN), model, load);
    printf("| %-58s | %-34s | %-14s | %-4s |\n", "figure", "measured", "target", "");
    printf("|%s|%s|%s|%s|\n", "------------------------------------------------------------",
           "------------------------------------", "----------------", "------");
    fflush(stdout);
    static const struct { const char *name; void (*fn)(void); } parts[] = {
        { "verify", bench_verify }, { "threads", bench_threads },
        { "realm", bench_realm_file }, { "ldap", bench_ldap }, { "nginx", bench_nginx },
        { "lighttpd", bench_lighttpd }, { "ocsp", bench_ocsp },
    };
    /* CERTROLE_BENCH_ONLY=name[,name]: run only those parts */
    const char *only = getenv("CERTROLE_BENCH_ONLY");
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if (!only || !*only || strstr(only, parts[i].name))
            parts[i].fn();
    bench_cleanup();
    printf("\n(%.0f s; %d error%s)\n", bench_now() - t0, bench_errors(),
           bench_errors() == 1 ? "" : "s");
    return bench_errors() ? EXIT_FAILURE : EXIT_SUCCESS;
}
