/* The ldap realm's arguments ("key=value" words of its policy line),
 * parsed and validated once at open(). Immutable afterwards except for
 * the bind password, which reload() may re-read from its file. */
#ifndef CR_LDAP_CONFIG_H
#define CR_LDAP_CONFIG_H
#include <stddef.h>
#include "certrole_realm.h"

enum cr_ldap_starttls {
    CR_LDAP_STARTTLS_DEFAULT = 0,   /* yes, except no for a loopback host */
    CR_LDAP_STARTTLS_NO,
    CR_LDAP_STARTTLS_TRY,
    CR_LDAP_STARTTLS_YES
};

enum cr_ldap_map {
    CR_LDAP_MAP_DN = 0,             /* the subject DN is the entry DN */
    CR_LDAP_MAP_FILTER,             /* search with the filter template */
    CR_LDAP_MAP_CERTIFICATE,        /* userCertificate;binary equals the leaf */
    CR_LDAP_MAP_CERTMAP             /* libsss_certmap's filter (certmap-*=) */
};

struct cr_certmap;

struct cr_ldap_rolemap {
    char *group_key;                /* cr_ldap_dn_key() of the group DN */
    char *role;
};

struct cr_ldap_config {
    char **uris; size_t n_uris;     /* failover order */
    enum cr_ldap_starttls starttls;
    char *tls_ca_file, *tls_ca_dir, *tls_cert, *tls_key;
    char *bind_dn;
    char *bind_password;            /* NULL: anonymous (or SASL EXTERNAL) */
    char *bind_password_file;
    char *role_map_file;
    struct cr_ldap_rolemap *inline_map; size_t n_inline_map;  /* role-map= */
    int sasl_external;
    char *base; int scope;          /* LDAP_SCOPE_* */
    enum cr_ldap_map map;
    char *filter;                   /* template, map=filter */
    char *certmap_match, *certmap_map;  /* SSSD match and map rules */
    struct cr_certmap *certmap;     /* both compiled, map=certmap */
    char *user_attr;                /* NULL: the user is the entry DN */
    char **role_attrs; size_t n_role_attrs;       /* e.g. memberOf */
    char *group_base; int group_scope;            /* NULL: no group search */
    char *group_filter;
    char **member_attrs; size_t n_member_attrs;   /* member, uniqueMember, memberUid */
    char *group_name_attr;
    int nested_depth;
    struct cr_ldap_rolemap *rolemap; size_t n_rolemap;  /* inline + file */
    int role_map_only;              /* only mapped groups give roles */
    int network_timeout_ms, timeout_ms;
    int cache_ttl, negative_ttl;    /* seconds; 0 disables */
    size_t cache_size;
    int pool_size;
};

/* Parses argv into *c (zeroed by the caller). Relative paths resolve
 * against env->base_dir; files are registered with env->watch_file.
 * Returns 0, or -1 with a one-line message naming the argument in err
 * (c may then hold partial data: free it with cr_ldap_config_free). */
/* Writes the message to err and returns -1 (the realm's error style). */
int cr_ldap_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

int cr_ldap_config_parse(struct cr_ldap_config *c, int argc,
                         const char *const *argv, const certrole_realm_env *env,
                         char *err, size_t errlen);
/* Re-reads bind-password-file and role-map-file (for reload). Either
 * everything is replaced or, on error (-1 + err), nothing is. */
int cr_ldap_config_reload_files(struct cr_ldap_config *c, char *err,
                                size_t errlen);
/* The role mapped to a group, by cr_ldap_dn_key() of its DN, or NULL. */
const char *cr_ldap_config_role_for(const struct cr_ldap_config *c,
                                    const char *group_key);
void cr_ldap_config_free(struct cr_ldap_config *c);
/* The group-to-role map (ldap_rolemap.c). parse_inline appends the
 * items of a role-map= value; build makes the map in use from the inline
 * items and role-map-file. 0, or -1 with err set. */
int cr_ldap_rolemap_parse_inline(const char *v, struct cr_ldap_rolemap **m, size_t *n,
                                 char *err, size_t errlen);
int cr_ldap_rolemap_build(const struct cr_ldap_config *c, struct cr_ldap_rolemap **out,
                          size_t *n_out, char *err, size_t errlen);
void cr_ldap_rolemap_free(struct cr_ldap_rolemap *m, size_t n);

#endif
