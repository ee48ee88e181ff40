/* Log sink and audit line (see log.h). */
#define _GNU_SOURCE
#include "log.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include "config.h"
#include "result.h"
#include "strbuf.h"

static void emit(const struct cr_log *l, certrole_log_level level, const char *line)
{
    if (l && l->fn) {
        l->fn(l->userdata, level, line);
        return;
    }
    /* openlog is process-global; pass ident per call via LOG_USER and a
     * "certrole: " prefix instead of fighting the application's own openlog. */
    syslog(LOG_USER | (int)level, "certrole: %s", line);
}

void cr_log_write(const struct cr_log *l, certrole_log_level level, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    emit(l, level, buf);
}

void cr_log_line(void *log_ctx, certrole_log_level level, const char *line)
{
    emit((const struct cr_log *)log_ctx, level, line ? line : "");
}

/* Appends key="value" with escapes; NULL value appends key=-. */
static void quoted(cr_strbuf *b, const char *key, const char *v)
{
    cr_sb_printf(b, " %s=", key);
    if (!v) {
        cr_sb_appendc(b, '-');
        return;
    }
    cr_sb_appendc(b, '"');
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p == '"' || *p == '\\')
            cr_sb_printf(b, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            cr_sb_printf(b, "\\x%02x", *p);
        else
            cr_sb_appendc(b, (char)*p);
    }
    cr_sb_appendc(b, '"');
}

void cr_log_audit(const struct cr_log *l, const certrole_result *res,
                  certrole_code code, const char *method, const char *path,
                  const char *why)
{
    if (!res || (res->cfg && !res->cfg->audit))
        return;
    cr_strbuf b = CR_STRBUF_INIT;
    cr_sb_printf(&b, "decision=%s code=%s", code == CERTROLE_OK ? "allow" : "deny",
                 certrole_code_name(code));
    quoted(&b, "subject", res->id.subject);
    quoted(&b, "user", res->user);
    quoted(&b, "realm", res->realm);
    if (res->id.fingerprint)
        cr_sb_printf(&b, " sha256=%.64s", res->id.fingerprint);
    if (method || path) {
        char *resource = NULL;
        if (asprintf(&resource, "%s %s", method ? method : "*", path ? path : "/") < 0)
            resource = NULL;
        quoted(&b, "resource", resource);
        free(resource);
    }
    if (code != CERTROLE_OK)
        quoted(&b, "message", why ? why : res->message);
    char *line = cr_sb_take(&b);
    emit(l, CERTROLE_LOG_NOTICE, line ? line : "decision=deny code=no_memory");
    free(line);
}
