/* libFuzzer target: the file realm's parsers. The same bytes are loaded
 * as a certrole realm file (line format: quoted DN, sha256 pin or
 * KIND:VALUE, roles, user=, issuer=, conditions), once without and once with a realm-wide issuer
 * binding, and as a tomcat-users.xml document (libxml2, no DTD). Both
 * loaders are what the plugin's open() calls. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "certrole.h"
#include "file_load.h"
#include "file_parse.h"
#include "table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void probe(const cr_table *t)
{
    /* A lookup of a key that the seeds use, and walking what it finds. */
    static const char key[] = "2.5.4.3=crmapplication,2.5.4.11=sales,2.5.4.10=acme corp,"
                              "2.5.4.7=san francisco,2.5.4.8=ca,2.5.4.6=us";
    for (const cr_trec *r = cr_table_find(t, key, sizeof key - 1); r; r = cr_table_next(t, r)) {
        const char *role = cr_trec_roles(r);
        for (uint32_t i = 0; i < r->nroles; i++)
            role += strlen(role) + 1;
        (void)cr_trec_user(r);
        (void)cr_table_issuer(t, r);
    }
}

static void load(const char *text, size_t len, int tomcat, const char *issuer_key)
{
    char err[512];
    cr_table *t = cr_table_new(0, 0);
    if (!t)
        return;
    size_t skipped = 0;
    int rc = tomcat ? cr_fload_tomcat(t, "fuzz.xml", text, len, &skipped, err, sizeof err)
                    : cr_fload_certrole(t, "fuzz.realm", text, len, issuer_key, err, sizeof err);
    if (rc == 0)
        probe(t);
    cr_table_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The plugin reads the file NUL-terminated; so do we. */
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    load(text, size, 0, NULL);
    load(text, size, 0, "2.5.4.3=acme root ca,2.5.4.10=acme corp,2.5.4.6=us");
    load(text, size, 1, NULL);

    /* Each line through the line parser directly, with the unquoting
     * helper into a small buffer (the bounds are its job). */
    size_t off = 0;
    while (off <= size) {
        const char *nl = memchr(text + off, '\n', size - off);
        size_t n = nl ? (size_t)(nl - (text + off)) : size - off;
        cr_fline fl;
        size_t col = 0;
        const char *msg = NULL;
        if (cr_fline_parse(text + off, n, &fl, &col, &msg) == 0 && fl.kind == CR_FLINE_DN) {
            char small[16];
            (void)cr_funquote(fl.id, fl.idlen, small, sizeof small);
            size_t pos = 0, rlen;
            const char *role;
            while (cr_frole_next(fl.roles, fl.roleslen, &pos, &role, &rlen))
                (void)cr_frole_valid(role, rlen);
        }
        off += n + 1;
    }
    free(text);
    return 0;
}
