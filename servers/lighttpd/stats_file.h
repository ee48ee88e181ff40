/* The authorizer's counters as a Prometheus text file (-S FILE): node
 * exporter's textfile collector, or a person with cat, reads it. */
#ifndef CERTROLE_AUTHORIZER_STATS_FILE_H
#define CERTROLE_AUTHORIZER_STATS_FILE_H
#include <certrole.h>

/* How often the file is rewritten without being asked, seconds. */
#define STATS_FILE_EVERY 10

/* Blocks SIGUSR1 in the calling thread (call it before any other thread
 * starts, so all inherit the mask) and starts a thread that writes ctx's
 * counters to path now, every STATS_FILE_EVERY seconds and whenever the
 * process gets SIGUSR1. Each write replaces the file atomically (a
 * temporary file renamed over it). Returns 0, or -1 with errno. */
int stats_file_start(certrole_ctx *ctx, const char *path);

/* Stops and joins that thread (if started), so ctx can be closed. */
void stats_file_stop(void);
#endif
