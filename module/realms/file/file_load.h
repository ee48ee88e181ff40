/* Builds the file realm's table from a file's contents: certrole's own
 * line format (file_parse.h) or Tomcat's tomcat-users.xml (tomcat.h).
 * DNs become keys with certrole_dn_key(); fingerprints "sha256:<hex>".
 * Errors are "path:line[:column]: message", the first one in the file. */
#ifndef CR_FILE_LOAD_H
#define CR_FILE_LOAD_H
#include <stddef.h>
#include "table.h"

/* Loads data[0..len) in certrole format into t. issuer_key (or NULL) is
 * the realm-wide issuer binding: an entry naming another issuer is an
 * error. Large files are parsed by several threads. 0, or -1 with err. */
int cr_fload_certrole(cr_table *t, const char *path, const char *data, size_t len,
                      const char *issuer_key, char *err, size_t errlen);

/* Loads a tomcat-users.xml document into t. Users whose name is not a DN
 * (no '=') are counted in *skipped. 0, or -1 with err. */
int cr_fload_tomcat(cr_table *t, const char *path, const char *data, size_t len,
                    size_t *skipped, char *err, size_t errlen);
#endif
