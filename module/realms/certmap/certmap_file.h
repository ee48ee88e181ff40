/* The certmap realm's rules file: one rule per line,
 *
 *   match="RULE" roles=ROLE[,ROLE...] [user=NAME|%{subject}|%{cn}|%{email}|%{upn}]
 *                [priority=N]
 *
 * fields in any order, each once, separated by blanks. RULE is a match
 * rule in SSSD's grammar (sss-certmap(5)), compiled by libsss_certmap
 * when the file loads. A value is bare (printable ASCII except blank,
 * '"' and '\') or quoted ("..." with \" and \\ the only escapes). '#'
 * starts a comment at the start of a line or after a blank; blank lines
 * are ignored. priority is 0 (first) to 4294967295, the default, as in
 * SSSD. Errors are "FILE:LINE:COLUMN: message". */
#ifndef CR_CERTMAP_FILE_H
#define CR_CERTMAP_FILE_H
#include <stddef.h>
#include <stdint.h>
#include "certmap_rule.h"

/* Where a rule's user name comes from. */
enum cm_user {
    CM_USER_SUBJECT = 0,    /* the subject DN: no user= */
    CM_USER_FIXED,          /* user=NAME */
    CM_USER_CN, CM_USER_EMAIL, CM_USER_UPN
};

struct cm_rule {
    unsigned line;
    uint32_t priority;
    cr_certmap *cm;
    char **roles; size_t nroles;    /* sorted, no duplicates */
    enum cm_user user_src;
    char *user;                     /* CM_USER_FIXED only */
};

struct cm_rules {
    struct cm_rule *v; size_t n;
};

/* Parses data[0..len) (the contents of path, NUL-terminated) into *out.
 * Returns 0, or -1 with "path:line:column: message" in err. */
int cm_rules_parse(const char *path, const char *data, size_t len, struct cm_rules *out,
                   char *err, size_t errlen);
void cm_rules_free(struct cm_rules *r);

/* 1 when two rules give the same answer to any certificate both match:
 * the same roles and the same user (or the same placeholder). */
int cm_rule_same_answer(const struct cm_rule *a, const struct cm_rule *b);
#endif
