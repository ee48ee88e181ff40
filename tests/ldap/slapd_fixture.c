/* Throwaway slapd and test certificates for the check_ldap_* suites (slapd_fixture.h). */
#define _GNU_SOURCE
#include "slapd_fixture.h"
#include "testutil.h"
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

static char *dir;

/* CN of each generated certificate (subject CN=...,OU=Sales,O=Acme Corp,C=US);
 * serial 0: the next of a counter; issuer_cn NULL: the issuing CA's name,
 * else the issuer name is CN=issuer_cn,O=Acme Corp,C=US (the signature
 * then does not verify: only for the realm's lookups, which do not). */
static const struct {
    const char *name, *cn;
    long serial;
    const char *issuer_cn;
    const char *san;   /* subjectAltName, or NULL */
} made[] = {
    { "esc", "#Smith, J. \"Jack\" <jack+ops>; a\\b=c", 0, NULL, NULL },   /* every RFC 4514 special */
    { "inj-star", "*", 0, NULL, NULL },
    { "inj-or", "*)(uid=*", 0, NULL, NULL },
    { "inj-guest", "Guest*", 0, NULL, NULL },
    { "inj-nul", "\\00", 0, NULL, NULL },
    { "inj-close", "x)(|(objectClass=*)", 0, NULL, NULL },
    { "paren", "a)(b", 0, NULL, NULL },
    { "staruser", "star*user", 0, NULL, NULL },
    { "starprefix", "star*", 0, NULL, NULL },
    { "serialuser", "Serial Holder", 0x5E71A1, NULL, NULL },          /* %{serial} */
    { "oddissuer", "Odd Issuer User", 0, "Odd* (CA), test", NULL },  /* %{issuer} */
    { "inj-issuer", "Odd Issuer User", 0, "*", NULL },               /* %{issuer} injection */
    { "upnuser", "UPN Holder", 0, NULL,                          /* %{upn} */
      "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:upn@ACME.example" },
    { "inj-upn", "UPN Holder", 0, NULL,                          /* %{upn} injection */
      "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:*)(uid=*" },
    { "svid", "SVID Holder", 0, NULL,                            /* %{spiffe} %{dns} %{uri} */
      "URI:spiffe://acme.example/ns/billing/sa/api,DNS:api.acme.example" },
    { "inj-svid", "SVID Holder", 0, NULL,                        /* not an SVID: two URIs */
      "URI:spiffe://acme.example/ns/billing/sa/api,URI:spiffe://evil.example/x" },
    { "quoteissuer", "Quote Issuer User", 0x51A1, "Q \"Quoted\" (CA)*", NULL }, /* %{issuer_serial} */
};

double lf_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

const char *lf_dir(void) { return dir; }

static __thread char pool[8][4096];
static __thread unsigned pool_next;

const char *lf_cert(const char *name)
{
    char *p = pool[pool_next++ % 8];
    snprintf(p, sizeof pool[0], "%s/%s.pem", dir, name);
    return p;
}

const char *lf_chain(const char *name)
{
    char *p = pool[pool_next++ % 8];
    snprintf(p, sizeof pool[0], "%s/%s-chain.pem", dir, name);
    return p;
}

static X509 *read_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    return x;
}

static EVP_PKEY *read_key(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    return k;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    int ok = ext && X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

/* A client certificate with the given CN, issued by the test PKI's
 * issuing CA: NAME.pem, NAME.key, NAME-chain.pem in dir. */
static int make_cert(const char *name, const char *cn, long fixed_serial,
                     const char *issuer_cn, const char *san, X509 *ca, EVP_PKEY *ca_key)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_NAME *n = X509_NAME_new();
    X509_NAME *in = issuer_cn ? X509_NAME_new() : NULL;
    int ok = key && x && n && (in || !issuer_cn);
    if (ok && in)
        ok = X509_NAME_add_entry_by_txt(in, "C", MBSTRING_UTF8, (const unsigned char *)"US", -1, -1, 0) &&
             X509_NAME_add_entry_by_txt(in, "O", MBSTRING_UTF8, (const unsigned char *)"Acme Corp", -1, -1, 0) &&
             X509_NAME_add_entry_by_txt(in, "CN", MBSTRING_UTF8, (const unsigned char *)issuer_cn, -1, -1, 0);
    static long serial = 0x4c44;
    ok = ok && X509_set_version(x, 2) &&
         ASN1_INTEGER_set(X509_get_serialNumber(x), fixed_serial ? fixed_serial : serial++) &&
         X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
         X509_gmtime_adj(X509_getm_notAfter(x), 7 * 86400) &&
         X509_NAME_add_entry_by_txt(n, "C", MBSTRING_UTF8, (const unsigned char *)"US", -1, -1, 0) &&
         X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)"Acme Corp", -1, -1, 0) &&
         X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_UTF8, (const unsigned char *)"Sales", -1, -1, 0) &&
         X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) &&
         X509_set_subject_name(x, n) && X509_set_issuer_name(x, in ? in : X509_get_subject_name(ca)) &&
         X509_set_pubkey(x, key) &&
         add_ext(x, ca, NID_basic_constraints, "critical,CA:FALSE") &&
         add_ext(x, ca, NID_key_usage, "critical,digitalSignature") &&
         add_ext(x, ca, NID_ext_key_usage, "clientAuth") &&
         add_ext(x, ca, NID_subject_key_identifier, "hash") &&
         add_ext(x, ca, NID_authority_key_identifier, "keyid") &&
         (!san || add_ext(x, ca, NID_subject_alt_name, san)) &&
         X509_sign(x, ca_key, EVP_sha256()) > 0;
    char path[4096];
    FILE *f;
    if (ok) {
        snprintf(path, sizeof path, "%s/%s.pem", dir, name);
        ok = (f = fopen(path, "w")) && PEM_write_X509(f, x);
        if (f) fclose(f);
    }
    if (ok) {
        snprintf(path, sizeof path, "%s/%s-chain.pem", dir, name);
        ok = (f = fopen(path, "w")) && PEM_write_X509(f, x) && PEM_write_X509(f, ca);
        if (f) fclose(f);
    }
    if (ok) {
        snprintf(path, sizeof path, "%s/%s.key", dir, name);
        ok = (f = fopen(path, "w")) && PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
        if (f) fclose(f);
    }
    X509_NAME_free(n);
    X509_NAME_free(in);
    X509_free(x);
    EVP_PKEY_free(key);
    return ok;
}

/* "userCertificate;binary:: BASE64" of a PEM certificate. */
static char *cert_ldif_line(const char *pem)
{
    X509 *x = read_cert(pem);
    unsigned char *der = NULL;
    int len = x ? i2d_X509(x, &der) : -1;
    X509_free(x);
    if (len <= 0)
        return NULL;
    char *b64 = malloc((size_t)(len / 3 + 2) * 4 + 1);
    if (b64)
        EVP_EncodeBlock((unsigned char *)b64, der, len);
    OPENSSL_free(der);
    char *line = b64 ? tu_strf("userCertificate;binary:: %s", b64) : NULL;
    free(b64);
    return line;
}

/* Replaces every occurrence of marker in text (malloc'd result). */
static char *replace_all(const char *text, const char *marker, const char *with)
{
    char *out = strdup(text);
    char *at;
    while (out && (at = strstr(out, marker))) {
        char *n = tu_strf("%.*s%s%s", (int)(at - out), out, with, at + strlen(marker));
        free(out);
        out = n;
    }
    return out;
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    int ok = f && fputs(text, f) >= 0;
    if (f && fclose(f) != 0)
        ok = 0;
    return ok;
}

/* slapd.conf (TLS with the test PKI's server certificate) or, plain,
 * slapd-plain.conf (no TLS at all: StartTLS is refused). */
static int write_conf(int plain)
{
    char *tls = plain ? strdup("") : tu_strf(
        "TLSCertificateFile %s\n"
        "TLSCertificateKeyFile %s\n"
        "TLSCACertificateFile %s\n"
        "TLSVerifyClient allow\n",
        tu_pki("server-chain.pem"), tu_pki("server.key"), tu_pki("ca-file.pem"));
    char *conf = tu_strf(
        "include /etc/ldap/schema/core.schema\n"
        "include /etc/ldap/schema/cosine.schema\n"
        "include /etc/ldap/schema/inetorgperson.schema\n"
        "include /etc/ldap/schema/nis.schema\n"
        "include %s\n"
        "modulepath /usr/lib/ldap\n"
        "moduleload back_mdb\n"
        "pidfile %s/slapd.pid\n"
        "argsfile %s/slapd.args\n"
        "%s"
        "database mdb\n"
        "suffix \"dc=acme,dc=example\"\n"
        "rootdn \"cn=admin,dc=acme,dc=example\"\n"
        "directory %s/db1\n"
        "maxsize 16777216\n"
        "access to attrs=userPassword by anonymous auth by * none\n"
        "access to dn.subtree=\"ou=private,dc=acme,dc=example\"\n"
        "  by dn.exact=\"cn=reader,dc=acme,dc=example\" read\n"
        "  by dn.exact=\"cn=CRMApplication,ou=Sales,o=Acme Corp,l=San Francisco,st=CA,c=US\" read\n"
        "  by * none\n"
        "access to * by * read\n"
        "database mdb\n"
        "suffix \"c=US\"\n"
        "directory %s/db2\n"
        "maxsize 16777216\n"
        "access to * by * read\n"
        /* Edge cases kept apart from the Acme data: referrals, odd group
         * names, a server size limit for one bind DN. */
        "database mdb\n"
        "suffix \"dc=edge,dc=example\"\n"
        "directory %s/db3\n"
        "maxsize 16777216\n"
        "limits dn.exact=\"cn=limited,dc=edge,dc=example\" size.soft=3 size.hard=3\n"
        "access to attrs=userPassword by anonymous auth by * none\n"
        "access to * by * read\n",
        tu_src("tests/ldap/test.schema"), dir, dir, tls, dir, dir, dir);
    char *path = tu_strf("%s/%s", dir, plain ? "slapd-plain.conf" : "slapd.conf");
    int ok = write_text(path, conf);
    free(path);
    free(conf);
    free(tls);
    return ok;
}

static int load_ldif(void)
{
    char *acme = tu_read_file(tu_src("tests/ldap/acme.ldif"), NULL);
    char *client = cert_ldif_line(tu_pki("client.pem"));
    char *norole = cert_ldif_line(tu_pki("norole.pem"));
    char *a1 = acme && client ? replace_all(acme, "description: @CLIENT_CERTIFICATE@", client) : NULL;
    char *a2 = a1 && norole ? replace_all(a1, "description: @NOROLE_CERTIFICATE@", norole) : NULL;
    struct certrole_identity cid;
    lf_identity(tu_pki("client.pem"), &cid);
    char *a4 = a2 ? replace_all(a2, "@CLIENT_FINGERPRINT@", cid.fingerprint) : NULL;
    lf_identity_free(&cid);
    char *quote = cert_ldif_line(lf_cert("quoteissuer"));
    char *a3 = a4 && quote ? replace_all(a4, "description: @QUOTEISSUER_CERTIFICATE@", quote)
                           : NULL;
    free(a4);
    free(quote);
    char *ldif = tu_strf("%s/acme.ldif", dir);
    int ok = a3 && write_text(ldif, a3);
    free(acme); free(client); free(norole); free(a1); free(a2); free(a3);
    const char *slapadd = tu_env("SLAPADD", "/usr/sbin/slapadd");
    char *out = NULL;
    char *cmd = tu_strf("mkdir -p '%s/db1' '%s/db2' '%s/db3' && "
                        "'%s' -q -f '%s/slapd.conf' -b dc=acme,dc=example -l '%s' && "
                        "'%s' -q -f '%s/slapd.conf' -b c=US -l '%s' && "
                        "'%s' -q -f '%s/slapd.conf' -b dc=edge,dc=example -l '%s'",
                        dir, dir, dir, slapadd, dir, ldif, slapadd, dir,
                        tu_src("tests/ldap/certdn.ldif"), slapadd, dir, tu_src("tests/ldap/edge.ldif"));
    if (ok && tu_run(cmd, &out) != 0) {
        fprintf(stderr, "slapadd failed: %s\n%s\n", cmd, out ? out : "");
        ok = 0;
    }
    free(out);
    free(cmd);
    free(ldif);
    return ok;
}

int lf_available(void)
{
    const char *slapd = tu_env("SLAPD", "");
    if (!*slapd || access(slapd, X_OK) != 0 || access("/usr/lib/ldap/back_mdb.la", R_OK) != 0) {
        printf("SKIP: no usable slapd (SLAPD='%s', back_mdb module)\n", slapd);
        return 77;
    }
    return 0;
}

void lf_prepare(void)
{
    if (dir)
        return;
    dir = tu_mkdtemp("ldap");
    X509 *ca = read_cert(tu_pki("int-ca.pem"));
    EVP_PKEY *ca_key = read_key(tu_pki("int-ca.key"));
    int ok = ca && ca_key;
    for (size_t i = 0; ok && i < sizeof made / sizeof made[0]; i++)
        ok = make_cert(made[i].name, made[i].cn, made[i].serial, made[i].issuer_cn, made[i].san,
                       ca, ca_key);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    ck_assert_msg(ok, "cannot make test certificates from %s", tu_pki("int-ca.pem"));
    ck_assert_msg(write_conf(0) && write_conf(1), "cannot write slapd.conf in %s", dir);
    ck_assert_msg(load_ldif(), "cannot load the test directory");
}

/* A slapd left running by a test that failed half-way (Check ends a
 * failed test's process at once): found by its pidfile, not by name.
 * No ck_* calls: this also runs after the suite. */
static void kill_stale(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/slapd.pid", dir);
    char *text = tu_read_file(path, NULL);
    long pid = text ? strtol(text, NULL, 10) : 0;
    if (pid > 1 && kill((pid_t)pid, 0) == 0) {
        kill((pid_t)pid, SIGCONT);
        kill((pid_t)pid, SIGKILL);
        for (int i = 0; i < 100 && kill((pid_t)pid, 0) == 0; i++)
            usleep(20000);
    }
    unlink(path);
    free(text);
}

void lf_cleanup(void)
{
    if (!dir)
        return;
    kill_stale();
    if (!getenv("CERTROLE_KEEP_TMP") && strstr(dir, "/certrole-ldap-")) {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0) { /* best effort */ }
    }
    free(dir);
    dir = NULL;
}

static void start(struct lf_slapd *s, int plain)
{
    kill_stale();
    s->port = tu_free_port();
    do
        s->tls_port = plain ? 0 : tu_free_port();
    while (s->tls_port == s->port);
    free(s->log);
    s->log = tu_strf("%s/slapd-%d.log", dir, s->port);
    char *conf = tu_strf("%s/%s", dir, plain ? "slapd-plain.conf" : "slapd.conf");
    char *urls = plain ? tu_strf("ldap://127.0.0.1:%d/", s->port)
                       : tu_strf("ldap://127.0.0.1:%d/ ldaps://127.0.0.1:%d/", s->port, s->tls_port);
    char *argv[] = { (char *)tu_env("SLAPD", "slapd"), "-f", conf, "-h", urls, "-d", "stats", NULL };
    s->pid = tu_spawn(argv, s->log);
    int up = tu_wait_port(s->port, 10000) == 0 && (plain || tu_wait_port(s->tls_port, 10000) == 0);
    free(conf);
    free(urls);
    if (!up) {
        char *log = tu_read_file(s->log, NULL);
        ck_abort_msg("slapd did not start on port %d: %s", s->port, log ? log : "(no log)");
    }
}

void lf_start(struct lf_slapd *s) { start(s, 0); }
void lf_start_plain(struct lf_slapd *s) { start(s, 1); }

void lf_stop(struct lf_slapd *s)
{
    if (s->pid > 0) {
        kill(-s->pid, SIGCONT);
        tu_stop(s->pid);
    }
    s->pid = 0;
    free(s->log);
    s->log = NULL;
}

/* Whether every thread of pid is stopped ('T' in /proc/PID/task/TID/stat). */
static int all_threads_stopped(pid_t pid)
{
    char tasks[64];
    snprintf(tasks, sizeof tasks, "/proc/%d/task", (int)pid);
    DIR *d = opendir(tasks);
    if (!d)
        return 0;
    int stopped = 1, seen = 0;
    struct dirent *e;
    while (stopped && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[384], buf[512], state = '?';
        snprintf(path, sizeof path, "%s/%s/stat", tasks, e->d_name);
        FILE *f = fopen(path, "r");
        size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
        if (f)
            fclose(f);
        buf[n] = '\0';
        char *rp = strrchr(buf, ')');   /* the name may hold anything */
        if (rp && sscanf(rp + 1, " %c", &state) == 1)
            seen++;
        stopped = state == 'T';
    }
    closedir(d);
    return stopped && seen > 0;
}

void lf_freeze(struct lf_slapd *s, int frozen)
{
    ck_assert(s->pid > 0);
    ck_assert(kill(-s->pid, frozen ? SIGSTOP : SIGCONT) == 0);
    if (!frozen)
        return;
    /* A stop is not instant for a threaded process: one thread takes the
     * signal and stops the others, and under load a thread woken by a
     * request can answer it first. Frozen means every thread stopped. */
    for (int i = 0; i < 5000 && !all_threads_stopped(s->pid); i++)
        usleep(1000);
    ck_assert_msg(all_threads_stopped(s->pid), "slapd (pid %d) did not stop", (int)s->pid);
}

int lf_log_count(const struct lf_slapd *s, const char *needle)
{
    char *log = tu_read_file(s->log, NULL);
    int n = 0;
    for (const char *p = log; p && (p = strstr(p, needle)); p += strlen(needle))
        n++;
    free(log);
    return n;
}

int lf_blackhole(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert(fd >= 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    ck_assert(listen(fd, 64) == 0);     /* never accept()ed, never answered */
    socklen_t l = sizeof a;
    ck_assert(getsockname(fd, (struct sockaddr *)&a, &l) == 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static char *name_text(const X509_NAME *name)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *s = NULL;
    if (b && X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        char *data;
        long n = BIO_get_mem_data(b, &data);
        s = strndup(data, (size_t)n);
    }
    BIO_free(b);
    return s;
}

void lf_identity(const char *pem_path, struct certrole_identity *id)
{
    memset(id, 0, sizeof *id);
    X509 *x = read_cert(pem_path);
    ck_assert_msg(x != NULL, "cannot read %s", pem_path);
    id->leaf = x;
    int len = i2d_X509(x, &id->der);
    ck_assert(len > 0);
    id->der_len = (size_t)len;
    id->subject = name_text(X509_get_subject_name(x));
    id->issuer = name_text(X509_get_issuer_name(x));
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(x), NULL);
    char *hex = BN_bn2hex(bn);
    id->serial = strdup(hex);
    OPENSSL_free(hex);
    BN_free(bn);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    ck_assert(X509_digest(x, EVP_sha256(), md, &mdlen));
    id->fingerprint = calloc(1, mdlen * 2 + 1);
    for (unsigned i = 0; i < mdlen; i++)
        sprintf(id->fingerprint + 2 * i, "%02x", md[i]);
    char cn[1024];
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn) >= 0)
        id->cn = strdup(cn);
    GENERAL_NAMES *sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans) && !id->email; i++) {
        GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
        if (g->type == GEN_EMAIL)
            id->email = strndup((const char *)ASN1_STRING_get0_data(g->d.rfc822Name),
                                (size_t)ASN1_STRING_length(g->d.rfc822Name));
    }
    GENERAL_NAMES_free(sans);
    /* subjectAltNames by type and the SPIFFE ID, as the library reads them */
    struct certrole_identity lib;
    char *m = NULL, *h = NULL;
    (void)cr_identity_from_leaf(&lib, x, &m, &h);
    id->sans = lib.sans;
    id->n_sans = lib.n_sans;
    id->spiffe = lib.spiffe;
    lib.sans = NULL;
    lib.n_sans = 0;
    lib.spiffe = NULL;
    cr_identity_clear(&lib);
    free(m);
    free(h);
    ck_assert(id->subject && id->issuer && id->serial);
}

void lf_identity_free(struct certrole_identity *id)
{
    X509_free(id->leaf);
    OPENSSL_free(id->der);
    free(id->subject);
    free(id->issuer);
    free(id->serial);
    free(id->fingerprint);
    free(id->cn);
    free(id->email);
    for (size_t i = 0; i < id->n_sans; i++)
        free(id->sans[i].value);
    free(id->sans);
    free(id->spiffe);
    memset(id, 0, sizeof *id);
}
