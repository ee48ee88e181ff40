/* The one rule for role names, shared by every realm, the policy's
 * 'require' lines and the core's merge of realm answers.
 *
 * A role name is one or more of A-Z a-z 0-9 . _ : - . Roles are exported
 * as one comma-joined string (server variables, headers, environment,
 * CLI text), so a name holding ',' — or a blank, a quote or a control
 * byte — could read as two roles, or as none. The core drops a realm's
 * role outside the rule (with a log line); a policy or realm file naming
 * one does not load. Header-only so the file realm, built as a separate
 * module, applies the very same rule. */
#ifndef CR_ROLE_NAME_H
#define CR_ROLE_NAME_H
#include <stddef.h>

#define CR_ROLE_NAME_CHARS "A-Z a-z 0-9 . _ : -"

static inline int cr_role_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == ':' || c == '-';
}

/* Offset of the first byte of s[0..len) outside the rule, or len when
 * every byte is inside it. */
static inline size_t cr_role_name_bad_at(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && cr_role_char((unsigned char)s[i]))
        i++;
    return i;
}

static inline int cr_role_name_valid(const char *s, size_t len)
{
    return len > 0 && cr_role_name_bad_at(s, len) == len;
}
#endif
