/* SPIFFE IDs (spiffe.h). The rules are the SPIFFE ID and X.509-SVID
 * specifications': scheme "spiffe", a lower-case trust domain of
 * [a-z0-9._-] with no port or user info, a path of non-empty segments of
 * [A-Za-z0-9._-] other than "." and "..", no query, no fragment, no
 * percent-encoding, at most 2048 bytes; and an SVID carries exactly one
 * URI SAN. Anything else is no SPIFFE ID: a name that can be read two
 * ways is not one. */
#define _GNU_SOURCE
#include "spiffe.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SPIFFE_MAX 2048

static int td_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
           c == '_';
}

static int path_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '-' || c == '_';
}

/* The path after the trust domain: "" or "/seg/seg". */
static int path_valid(const char *p, const char **why)
{
    while (*p) {
        const char *seg = ++p;   /* past '/' */
        while (*p && *p != '/') {
            if (!path_char(*p)) {
                *why = *p == '%' ? "the path is percent-encoded"
                     : *p == '?' ? "it has a query"
                     : *p == '#' ? "it has a fragment"
                                 : "the path has a character outside A-Z a-z 0-9 . - _";
                return 0;
            }
            p++;
        }
        size_t n = (size_t)(p - seg);
        if (n == 0) {
            *why = *p || seg[-1] == '/' ? "the path has an empty segment or ends in '/'"
                                        : "the path has an empty segment";
            return 0;
        }
        if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.')) {
            *why = "the path has a '.' or '..' segment";
            return 0;
        }
    }
    return 1;
}

int cr_spiffe_valid(const char *uri, const char **why)
{
    if (strlen(uri) > SPIFFE_MAX) {
        *why = "it is longer than 2048 bytes";
        return 0;
    }
    if (strncmp(uri, "spiffe://", 9) != 0) {
        *why = strncasecmp(uri, "spiffe://", 9) == 0 ? "the scheme is not lower-case \"spiffe\""
                                                     : "it does not start with spiffe://";
        return 0;
    }
    const char *td = uri + 9, *p = td;
    while (td_char(*p))
        p++;
    if (*p && *p != '/') {
        *why = *p == ':' ? "the trust domain has a port"
             : *p == '@' ? "it has user info"
             : *p == '?' ? "it has a query"
             : *p == '#' ? "it has a fragment"
             : (*p >= 'A' && *p <= 'Z') ? "the trust domain is not lower-case"
                                        : "the trust domain has a character outside a-z 0-9 . - _";
        return 0;
    }
    if (p == td) {
        *why = "the trust domain is empty";
        return 0;
    }
    return path_valid(p, why);
}

int cr_spiffe_from_sans(struct certrole_identity *id)
{
    size_t uris = 0, spiffe = 0;
    const char *first = NULL;
    for (size_t i = 0; i < id->n_sans; i++) {
        if (id->sans[i].type != CERTROLE_SAN_URI)
            continue;
        uris++;
        if (strncasecmp(id->sans[i].value, "spiffe:", 7) == 0 && spiffe++ == 0)
            first = id->sans[i].value;
    }
    if (!spiffe)
        return 0;
    const char *why = NULL;
    char buf[160];
    if (uris > 1) {
        snprintf(buf, sizeof buf, "an X.509-SVID has exactly one URI SAN; this certificate "
                 "has %zu", uris);
        why = buf;
    } else if (cr_spiffe_valid(first, &why)) {
        return (id->spiffe = strdup(first)) ? 0 : -1;
    }
    char *w = NULL;
    if (asprintf(&w, "not a SPIFFE ID: %s", why) < 0)
        return -1;
    id->spiffe_why = w;
    return 0;
}
