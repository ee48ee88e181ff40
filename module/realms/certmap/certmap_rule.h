/* One SSSD certificate rule (a match rule and a map rule in the grammar
 * of sss-certmap(5)), compiled and evaluated by libsss_certmap; certrole
 * adds no rule logic of its own.
 *
 * Threads: libsss_certmap is not safe for concurrent calls on one
 * context. Every evaluation talloc-allocates the decoded certificate (and
 * the filter) as children of the context, which links them into the
 * context's child list without a lock. So each rule holds a mutex and
 * every call below takes it: any number of threads may call them on the
 * same rule. */
#ifndef CR_CERTMAP_RULE_H
#define CR_CERTMAP_RULE_H
#include <stddef.h>
#include <stdint.h>

typedef struct cr_certmap cr_certmap;

/* Compiles the rule (map may be NULL: then no filter can be asked for).
 * Returns the rule, or NULL with libsss_certmap's reason in err. */
cr_certmap *cr_certmap_new(const char *match, const char *map, char *err, size_t errlen);
void cr_certmap_free(cr_certmap *cm);

/* 1 when the certificate matches, 0 when not, -1 when libsss_certmap
 * could not read the certificate (reason in err). */
int cr_certmap_match(cr_certmap *cm, const unsigned char *der, size_t len, char *err,
                     size_t errlen);

/* The LDAP search filter the map rule gives for a matching certificate.
 * Returns 1 with *filter (malloc'd), 0 when the match rule does not match
 * (no filter), -1 with err when it cannot be made, -2 with err when it
 * is unsafe: the filter must have exactly the map rule's own unescaped
 * ( ) * and only \XX escapes, so no certificate value can change its
 * shape. */
int cr_certmap_filter(cr_certmap *cm, const unsigned char *der, size_t len, char **filter,
                      char *err, size_t errlen);

/* The shape check of cr_certmap_filter: 1 when filter is map's template
 * with values that add no ( ) * and whose backslashes all start \XX. */
int cr_certmap_filter_safe(const char *map, const char *filter);
#endif
