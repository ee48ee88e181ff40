/* Log sink of a context: a callback or syslog. */
#ifndef CR_LOG_H
#define CR_LOG_H
#include "certrole.h"

struct cr_log {
    certrole_log_fn fn;     /* NULL: syslog */
    void *userdata;
};

void cr_log_write(const struct cr_log *l, certrole_log_level level,
                  const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Adapter with the realm env's signature (log_ctx is a struct cr_log *). */
void cr_log_line(void *log_ctx, certrole_log_level level, const char *line);
#endif
