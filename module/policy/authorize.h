/* Resource rules: 'require METHOD PATH-PREFIX ROLE...'.
 *
 * Matching is on whole path segments: the prefix /Invoice covers
 * /Invoice and /Invoice/x, never /InvoiceService. Request paths are
 * normalised first (query and fragment cut, percent-decoding once, empty
 * and "." segments dropped, ".." applied); a path that climbs above the
 * root, or holds an encoded '/', '\', '%' or NUL, a raw '\' or a control
 * character, is refused outright rather than guessed at. Among the rules
 * whose method matches (METHOD '*' matches all; GET also covers HEAD;
 * case-insensitive) the longest prefix wins, a named method beating '*'
 * on a tie. The peer needs one of that rule's roles ('*' = any mapped
 * peer). A path some rule covers, but for other methods only, is refused:
 * an unlisted method is no way around a rule. A path no rule covers is
 * allowed. Thread-safe after building. */
#ifndef CR_AUTHORIZE_H
#define CR_AUTHORIZE_H
#include <stddef.h>
#include "certrole.h"

struct cr_rules;

struct cr_rules *cr_rules_new(void);
void cr_rules_free(struct cr_rules *r);
size_t cr_rules_count(const struct cr_rules *r);

/* Adds a rule; where is "file:line" for messages. Returns 0, or -1 with a
 * message in err (bad prefix, duplicate rule, no memory). */
int cr_rules_add(struct cr_rules *r, const char *method, const char *prefix,
                 const char *const *roles, size_t n_roles, const char *where,
                 char *err, size_t errlen);

/* Canonical form of a request path (malloc'd into *out) or -1 when the
 * path must be refused (*out NULL; *why a static reason). */
int cr_path_normalize(const char *path, char **out, const char **why);

/* Decides a request for a peer holding roles. Returns CERTROLE_OK or
 * CERTROLE_E_FORBIDDEN; *why (malloc'd, may be NULL) explains a denial. */
certrole_code cr_rules_check(const struct cr_rules *r, const char *method,
                             const char *path, const char *const *roles,
                             size_t n_roles, char **why);
#endif
