/* Log sink of a context: a callback or syslog. Also formats the one
 * audit line per decision:
 *   decision=deny code=forbidden subject="CN=..." user=alice realm=file
 *   sha256=... peer="192.0.2.7" resource="GET /InvoiceService/list" message="..."
 * (peer only when the integration gave one, certrole_result_set_peer)
 * Values that could carry hostile bytes are quoted, with '"', '\' and
 * control characters escaped, so one decision is always one line. */
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

/* s between double quotes, escaped as in the audit line, cut after max
 * bytes of s (then "..." follows the closing quote). malloc'd; NULL on
 * no memory. For hostile values in other log lines. */
char *cr_log_quote(const char *s, size_t max);

/* The fields of one audit line (NULL: '-' or left out, see above). */
struct cr_audit {
    certrole_code code;          /* the decision's */
    const char *subject, *user, *realm, *fingerprint, *peer;
    const char *method, *path;   /* NULL, NULL: a verification only */
    const char *message;         /* a denial's explanation */
    /* Optional: cr_log_audit_head of the same code, subject, user, realm
     * and fingerprint, head_len bytes long; then those are not read. */
    const char *head;
    size_t head_len;
};

/* The start of a's line that depends only on code, subject, user, realm
 * and fingerprint, rendered once for a result the cache serves many
 * times. malloc'd; NULL on no memory. */
char *cr_log_audit_head(const struct cr_audit *a);
/* Writes the audit line at CERTROLE_LOG_NOTICE. */
void cr_log_audit(const struct cr_log *l, const struct cr_audit *a);
#endif
