/* Resource rules: 'require METHOD PATH-PREFIX ROLE...'.
 *
 * Matching is on whole path segments, byte for byte: the prefix /Invoice
 * covers /Invoice and /Invoice/x, never /InvoiceService or /invoice.
 * Request targets are canonicalised first by cr_path_canon (path.h):
 * decoded once, dot segments and empty segments resolved; whatever a
 * backend could read another way is refused outright. Among the rules
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
#include "path.h"

struct cr_rules;

struct cr_rules *cr_rules_new(void);
void cr_rules_free(struct cr_rules *r);
size_t cr_rules_count(const struct cr_rules *r);
/* The policy's path options; set before any rule is added. */
void cr_rules_set_mode(struct cr_rules *r, const struct cr_path_mode *mode);

/* Adds a rule; where is "file:line" for messages. Returns 0, or -1 with a
 * message in err (bad prefix, duplicate rule, no memory). */
int cr_rules_add(struct cr_rules *r, const char *method, const char *prefix,
                 const char *const *roles, size_t n_roles, const char *where,
                 char *err, size_t errlen);

/* Decides a request for a peer holding roles: target in RAW (form 0) or
 * DECODED (form 1) form. Returns CERTROLE_OK, CERTROLE_E_FORBIDDEN or
 * CERTROLE_E_NO_MEMORY; fills a (zeroed by the caller) with the judged
 * path ("" left NULL when refused before), the rule and its roles, and
 * the reason. */
certrole_code cr_rules_judge(const struct cr_rules *r, const char *method,
                             const char *target, int form, const char *const *roles,
                             size_t n_roles, struct certrole_authz *a);

/* cr_rules_judge on a RAW target; *why (malloc'd, may be NULL) explains
 * a denial. */
certrole_code cr_rules_check(const struct cr_rules *r, const char *method,
                             const char *path, const char *const *roles,
                             size_t n_roles, char **why);
#endif
