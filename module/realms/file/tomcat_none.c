/* tomcat-users.xml reader for a build without libxml2 (configure
 * --without-libxml2; see tomcat.h): every document is refused, with the
 * reason. The file realm refuses format=tomcat before it gets here. */
#include <stdio.h>
#include "tomcat.h"

int cr_tomcat_parse(const char *data, size_t len, const char *path, cr_tomcat_user_fn fn,
                    void *ctx, char *err, size_t errlen)
{
    (void)data;
    (void)len;
    (void)fn;
    (void)ctx;
    snprintf(err, errlen, "%s: %s", path, CR_TOMCAT_UNAVAILABLE);
    return -1;
}
