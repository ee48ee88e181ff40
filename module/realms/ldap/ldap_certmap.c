/* certmap-match= and certmap-map= of the ldap realm (ldap_certmap.h). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "build-config.h"
#include "ldap_certmap.h"
#ifdef HAVE_SSS_CERTMAP
#include "certmap_rule.h"
#endif

#define fail cr_ldap_fail

int cr_ldap_certmap_setup(struct cr_ldap_config *c, int map_set, char *err, size_t errlen)
{
    if (!c->certmap_match && !c->certmap_map)
        return 0;
    if (!c->certmap_match || !c->certmap_map)
        return fail(err, errlen, "certmap-match= and certmap-map= go together");
    if (map_set)
        return fail(err, errlen, "certmap-map= chooses how the entry is found: drop map=");
    if (c->filter)
        return fail(err, errlen, "certmap-map= and filter= both give the search filter: give one");
#ifdef HAVE_SSS_CERTMAP
    char why[320];
    if (!(c->certmap = cr_certmap_new(c->certmap_match, c->certmap_map, why, sizeof why)))
        return fail(err, errlen, "certmap-match=/certmap-map=: %s", why);
    c->map = CR_LDAP_MAP_CERTMAP;
    return 0;
#else
    return fail(err, errlen, "certmap-match= and certmap-map= need certrole built with"
                " libsss_certmap (configure --with-sss-certmap)");
#endif
}

void cr_ldap_certmap_free(struct cr_ldap_config *c)
{
#ifdef HAVE_SSS_CERTMAP
    cr_certmap_free(c->certmap);
#endif
    c->certmap = NULL;
    free(c->certmap_match);
    free(c->certmap_map);
    c->certmap_match = c->certmap_map = NULL;
}

certrole_realm_status cr_ldap_certmap_filter(const struct cr_ldap_config *c,
                                             const certrole_identity *id, char **filter,
                                             struct cr_ldap_outcome *o)
{
    *filter = NULL;
#ifdef HAVE_SSS_CERTMAP
    size_t len = 0;
    const unsigned char *der = certrole_identity_der(id, &len);
    char why[512];
    if (!der || !len) {
        cr_ldap_outcome_set_message(o, "no certificate to look up");
        return CERTROLE_REALM_NOT_FOUND;
    }
    int rc = cr_certmap_filter(c->certmap, der, len, filter, why, sizeof why);
    if (rc == 1)
        return CERTROLE_REALM_FOUND;
    if (rc == 0) {
        cr_ldap_outcome_set_message(o, "certmap-match=%s does not match the certificate",
                                    c->certmap_match);
        return CERTROLE_REALM_NOT_FOUND;
    }
    cr_ldap_outcome_set_message(o, "certmap-map=%s: %s", c->certmap_map, why);
    return rc == -2 ? CERTROLE_REALM_REFUSED : CERTROLE_REALM_UNAVAILABLE;
#else
    (void)c;
    (void)id;
    cr_ldap_outcome_set_message(o, "built without libsss_certmap");
    return CERTROLE_REALM_UNAVAILABLE;
#endif
}
