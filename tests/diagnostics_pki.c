/* The certificates check_diagnostics needs beyond tests/pki, made with
 * openssl in a scratch directory (EC keys: quick to make):
 *   rogue-root    self-signed, the name of the trusted Acme Root CA, its own key
 *   rogue-client  issued by rogue-root
 *   alien-root    an untrusted root; alien-int, issued by it
 *   alien-client  issued by alien-root, authority key id naming alien-root's issuer
 *   alien-deep    issued by alien-int, likewise
 *   cyc-a0/cyc-b0 two roots; cycle.pem: each one's key certified by the other
 *   fake-int      self-signed, named like the Acme Issuing CA, no key identifier
 *   same-name.pem twelve self-signed certificates named alike, no key ids */
#define _GNU_SOURCE
#include "diagnostics_pki.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"

static char *gen;   /* scratch directory with the certificates made here */

static const char MKCERTS[] =
    "set -e\n"
    "O=\"$OPENSSL\"\n"
    "printf '[req]\\ndistinguished_name=dn\\n[dn]\\n"
    "[ca]\\nbasicConstraints=critical,CA:TRUE\\nkeyUsage=critical,keyCertSign,cRLSign\\n"
    "subjectKeyIdentifier=hash\\nauthorityKeyIdentifier=keyid:always\\n"
    "[bare]\\nbasicConstraints=critical,CA:TRUE\\nkeyUsage=critical,keyCertSign\\n"
    "subjectKeyIdentifier=none\\n' > req.cnf\n"
    "printf 'basicConstraints=critical,CA:FALSE\\nkeyUsage=critical,digitalSignature\\n"
    "extendedKeyUsage=clientAuth\\nsubjectKeyIdentifier=hash\\n"
    "authorityKeyIdentifier=keyid:always\\n' > leaf.ext\n"
    "sed 's/keyid:always$/keyid:always,issuer:always/' leaf.ext > leafiss.ext\n"
    "printf 'basicConstraints=critical,CA:TRUE\\nkeyUsage=critical,keyCertSign,cRLSign\\n"
    "subjectKeyIdentifier=hash\\nauthorityKeyIdentifier=keyid:always\\n' > ca.ext\n"
    "key() { \"$O\" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $1.key; }\n"
    "root() { key $1; \"$O\" req -x509 -new -config req.cnf -extensions ${3:-ca} "
    "-key $1.key -subj \"$2\" -days 3650 -out $1.pem; }\n"
    "sign() { [ -f $1.key ] || key $1; "
    "\"$O\" req -new -config req.cnf -key $1.key -subj \"$2\" -out $1.csr; "
    "\"$O\" x509 -req -in $1.csr -CA $3.pem -CAkey $3.key -CAcreateserial -days 3650 "
    "-extfile $4 -out $1.pem; }\n"
    /* a rogue root with the trusted root's name, and its client */
    "root rogue-root '/C=US/O=Acme Corp/CN=Acme Root CA'\n"
    "sign rogue-client '/CN=Rogue Client' rogue-root leaf.ext\n"
    /* an untrusted root and an intermediate whose clients name their
     * issuer's issuer in the authority key identifier */
    "root alien-root '/CN=Alien Root CA'\n"
    "sign alien-int '/CN=Alien Issuing CA' alien-root ca.ext\n"
    "sign alien-client '/CN=Alien Client' alien-root leafiss.ext\n"
    "sign alien-deep '/CN=Alien Deep' alien-int leafiss.ext\n"
    /* two CAs that issued each other */
    "root cyc-a0 '/CN=Cycle A'\n"
    "root cyc-b0 '/CN=Cycle B'\n"
    "cp cyc-a0.key cyc-a1.key; cp cyc-b0.key cyc-b1.key\n"
    "sign cyc-a1 '/CN=Cycle A' cyc-b0 ca.ext\n"
    "sign cyc-b1 '/CN=Cycle B' cyc-a0 ca.ext\n"
    "cat cyc-a1.pem cyc-b1.pem > cycle.pem\n"
    /* the issuing CA's name on another key, with no key identifier */
    "root fake-int '/C=US/O=Acme Corp/CN=Acme Issuing CA' bare\n"
    /* twelve self-signed certificates of one name, no key identifiers */
    "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do root same$i '/CN=Same Name' bare; "
    "cat same$i.pem >> same-name.pem; done\n";

/* Removes gen's directory; outside any test, so without the helpers. */
static void remove_dir(char *dir)
{
    char *cmd = NULL;
    if (dir && strstr(dir, "/certrole-diag-") && asprintf(&cmd, "rm -rf '%s'", dir) >= 0 &&
        system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    free(cmd);
    free(dir);
}

/* Outside any test: no ck_assert (nor the helpers that use it) here. */
void diag_pki_make(void)
{
    char *dir = NULL, *cmd = NULL;
    FILE *f = NULL;
    if (asprintf(&dir, "%s/certrole-diag-XXXXXX", tu_env("TMPDIR", "/tmp")) < 0 ||
        !mkdtemp(dir) || asprintf(&cmd, "%s/mk.sh", dir) < 0 || !(f = fopen(cmd, "w")))
        goto fail;
    fputs(MKCERTS, f);
    fclose(f);
    free(cmd);
    if (asprintf(&cmd, "cd '%s' && OPENSSL='%s' sh ./mk.sh > mk.log 2>&1 || "
                 "{ cat mk.log; exit 1; }", dir, tu_env("OPENSSL", "openssl")) < 0 ||
        system(cmd) != 0)
        goto fail;
    free(cmd);
    gen = dir;
    return;
fail:
    fprintf(stderr, "cannot make the test certificates in %s\n", dir ? dir : "?");
    free(cmd);
    remove_dir(dir);
    exit(EXIT_FAILURE);
}

const char *diag_pki(const char *name)
{
    static char buf[4][512];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/%s", gen, name);
    return buf[i];
}

char *diag_cat(const char *a, const char *b, const char *c)
{
    const char *p[] = { a, b, c };
    char *out = strdup("");
    for (int i = 0; i < 3 && p[i]; i++) {
        char *d = tu_read_file(p[i], NULL);
        ck_assert_msg(d != NULL, "cannot read %s", p[i]);
        char *n = tu_strf("%s%s", out, d);
        free(out);
        free(d);
        out = n;
    }
    return out;
}

void diag_pki_remove(void)
{
    remove_dir(gen);
    gen = NULL;
}
