/* One SSSD certificate rule through libsss_certmap (certmap_rule.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sss_certmap.h>
#include "certmap_rule.h"

struct cr_certmap {
    struct sss_certmap_ctx *ctx;
    pthread_mutex_t lock;       /* every call into ctx (see the header) */
    char *map;                  /* NULL: match only */
    char msg[256];              /* libsss_certmap's first message of a call */
};

/* libsss_certmap reports why through its debug callback: keep the first
 * line of the call (the most specific; later ones say "Failed to parse
 * ... rule."). Called with the rule's lock held, or before it is shared. */
static void __attribute__((format(printf, 5, 6)))
on_debug(void *pvt, const char *file, long line, const char *function, const char *format, ...)
{
    struct cr_certmap *cm = pvt;
    if (cm->msg[0])
        return;
    va_list ap;
    va_start(ap, format);
    vsnprintf(cm->msg, sizeof cm->msg, format, ap);
    va_end(ap);
}

static void say(char *err, size_t errlen, const char *what, const struct cr_certmap *cm, int rc)
{
    if (cm->msg[0])
        snprintf(err, errlen, "%s: %s", what, cm->msg);
    else
        snprintf(err, errlen, "%s (%s)", what, strerror(rc));
}

cr_certmap *cr_certmap_new(const char *match, const char *map, char *err, size_t errlen)
{
    struct cr_certmap *cm = calloc(1, sizeof *cm);
    if (!cm || (map && !(cm->map = strdup(map)))) {
        free(cm);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&cm->lock, NULL);
    int rc = sss_certmap_init(NULL, on_debug, cm, &cm->ctx);
    if (rc != 0) {
        say(err, errlen, "libsss_certmap cannot start", cm, rc);
        cr_certmap_free(cm);
        return NULL;
    }
    /* Without a map rule libsss_certmap takes its default one; it is
     * never asked for a filter then. */
    rc = sss_certmap_add_rule(cm->ctx, 0, match, map, NULL);
    if (rc == 0 && cm->map && !cr_certmap_filter_safe(cm->map, NULL)) {
        snprintf(err, errlen, "map rule: its own text has a '\\' that is not followed by two hex"
                 " digits (write a literal backslash as \\5c)");
        cr_certmap_free(cm);
        return NULL;
    }
    if (rc != 0) {
        say(err, errlen, rc == ESRCH ? "libsss_certmap does not support this rule type"
                                     : "libsss_certmap refuses the rule", cm, rc);
        cr_certmap_free(cm);
        return NULL;
    }
    return cm;
}

void cr_certmap_free(cr_certmap *cm)
{
    if (!cm)
        return;
    sss_certmap_free_ctx(cm->ctx);
    pthread_mutex_destroy(&cm->lock);
    free(cm->map);
    free(cm);
}

int cr_certmap_match(cr_certmap *cm, const unsigned char *der, size_t len, char *err,
                     size_t errlen)
{
    pthread_mutex_lock(&cm->lock);
    cm->msg[0] = '\0';
    int rc = sss_certmap_match_cert(cm->ctx, der, len);
    if (rc != 0 && rc != ENOENT)
        say(err, errlen, "libsss_certmap cannot read the certificate", cm, rc);
    pthread_mutex_unlock(&cm->lock);
    return rc == 0 ? 1 : rc == ENOENT ? 0 : -1;
}

int cr_certmap_filter(cr_certmap *cm, const unsigned char *der, size_t len, char **filter,
                      char *err, size_t errlen)
{
    char *f = NULL, **domains = NULL;
    *filter = NULL;
    if (!cm->map) {
        snprintf(err, errlen, "no map rule");
        return -1;
    }
    pthread_mutex_lock(&cm->lock);
    cm->msg[0] = '\0';
    int rc = sss_certmap_get_search_filter(cm->ctx, der, len, &f, &domains);
    if (rc != 0 && rc != ENOENT)
        say(err, errlen, "libsss_certmap cannot make the filter", cm, rc);
    if (rc == 0 && f && !(*filter = strdup(f))) {
        snprintf(err, errlen, "out of memory");
        rc = ENOMEM;
    }
    sss_certmap_free_filter_and_domains(f, domains);
    pthread_mutex_unlock(&cm->lock);
    if (rc == ENOENT)
        return 0;
    if (rc != 0 || !*filter) {
        if (rc == 0)
            snprintf(err, errlen, "libsss_certmap gave no filter");
        free(*filter);
        *filter = NULL;
        return -1;
    }
    if (!cr_certmap_filter_safe(cm->map, *filter)) {
        snprintf(err, errlen, "a value from the certificate would change the filter's shape: %s",
                 *filter);
        free(*filter);
        *filter = NULL;
        return -2;
    }
    return 1;
}

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Counts the unescaped ( ) * of s[0..len) into *meta; 0 when a '\' is
 * not followed by two hex digits (RFC 4515 allows nothing else). */
static int count_meta(const char *s, size_t len, size_t *meta)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\\') {
            if (i + 2 >= len || !is_hex(s[i + 1]) || !is_hex(s[i + 2]))
                return 0;
            i += 2;
        } else if (s[i] == '(' || s[i] == ')' || s[i] == '*') {
            (*meta)++;
        }
    }
    return 1;
}

/* The map rule's text after libsss_certmap's type prefix ("LDAP:"): an
 * upper-case/digit word before the first ':', or a leading ':'. */
static const char *after_prefix(const char *map)
{
    const char *colon = strchr(map, ':');
    if (!colon)
        return map;
    for (const char *c = map; c < colon; c++)
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')))
            return map;
    return colon + 1;
}

/* The unescaped ( ) * of the map rule's literal text: outside {...}
 * templates, with "{{" and "}}" standing for one brace. 0 when its
 * literal text has a bad '\'. */
static int literal_meta(const char *map, size_t *meta)
{
    const char *p = after_prefix(map);
    char *lit = malloc(strlen(p) + 1);
    size_t n = 0;
    int in_template = 0, ok = 1;
    if (!lit)
        return 0;
    for (; *p && ok; p++) {
        if (!in_template && (p[0] == '{' || p[0] == '}') && p[1] == p[0]) {
            lit[n++] = *p++;
        } else if (*p == '{') {
            in_template = 1;
            ok = count_meta(lit, n, meta);  /* a segment ends: no '\' across it */
            n = 0;
        } else if (*p == '}') {
            in_template = 0;
        } else if (!in_template) {
            lit[n++] = *p;
        }
    }
    ok = ok && count_meta(lit, n, meta);
    free(lit);
    return ok;
}

int cr_certmap_filter_safe(const char *map, const char *filter)
{
    size_t want = 0, got = 0;
    if (!literal_meta(map, &want))
        return 0;
    if (!filter)
        return 1;
    return count_meta(filter, strlen(filter), &got) && got == want;
}
