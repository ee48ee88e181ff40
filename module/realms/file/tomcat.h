/* Reads Tomcat's tomcat-users.xml with libxml2, so a CLIENT-CERT site
 * keeps its user file. Understood:
 *
 *   <tomcat-users [xmlns=...]>
 *     <role rolename="invoice-readonly"/>                 informative
 *     <group groupname="g" roles="a,b"/>                  roles of a group
 *     <user username="CN=..." roles="a,b" [groups="g"] [password=...]/>
 *   </tomcat-users>
 *
 * ('name' is accepted for 'username', as Tomcat's MemoryRealm does;
 * passwords are ignored.) The document must not have a DOCTYPE: no DTD is
 * loaded, no entity is expanded, nothing is fetched from the network.
 * Thread-safe (no libxml2 global state is changed). */
#ifndef CR_TOMCAT_H
#define CR_TOMCAT_H
#include <stddef.h>

/* Called once per <user>: username as written, its roles (own and its
 * groups', comma-separated, possibly empty) and the element's line.
 * Returns 0, or -1 after writing a message to err. */
typedef int (*cr_tomcat_user_fn)(void *ctx, const char *username, const char *roles,
                                 long line, char *err, size_t errlen);

/* Parses the document in data[0..len) ('path' names it in messages).
 * Returns 0, or -1 with "path:line: message" in err. */
int cr_tomcat_parse(const char *data, size_t len, const char *path, cr_tomcat_user_fn fn,
                    void *ctx, char *err, size_t errlen);

/* Why format=tomcat fails in a build without libxml2 (HAVE_LIBXML2 unset). */
#define CR_TOMCAT_UNAVAILABLE \
    "certrole was built without libxml2; format=tomcat is not available"
#endif
