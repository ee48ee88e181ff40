/* OCSP fixtures made at test time (header-only, for check_ocsp and the
 * bench): a CA with client certificates, responder certificates and an
 * index, made by openssl; 'openssl ocsp' responders on loopback; and a
 * small in-process HTTP server answering every request with fixed bytes
 * (a response openssl made), counting requests, optionally slowly. */
#ifndef CERTROLE_OCSP_UTIL_H
#define CERTROLE_OCSP_UTIL_H
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include "testutil.h"

/* The PKI, in $1 (the directory), AIA URLs on port $2 ($3 for what ica
 * issues):
 * ca (root), other (a second root), rsp (ca's delegated responder),
 * orsp (other's responder), client certificates good (1001), revoked
 * (1002, keyCompromise an hour ago), unknown (1003, not in the index),
 * other-leaf (1004); an intermediate ica (1005, revoked in ca's index)
 * issuing deep (3001, good in index-ica.txt); deep-chain.pem is deep + ica. */
static const char ou_mkpki[] =
    "set -e; cd \"$1\"\n"
    "key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $1.key 2>/dev/null; }\n"
    "root() { key $1; openssl req -x509 -new -key $1.key -subj \"/CN=$2\" -days 30 -out $1.pem "
    "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign; }\n"
    "root ca 'OCSP Test CA'; root other 'Other CA'\n"
    "issue() { n=$1 ca=$2 sn=$3; shift 3; key $n\n"
    "  openssl req -new -key $n.key -subj \"/CN=$n\" -out $n.csr\n"
    "  printf '%s\\n' \"$@\" > $n.ext\n"
    "  openssl x509 -req -in $n.csr -CA $ca.pem -CAkey $ca.key -set_serial $sn -days 20 "
    "-extfile $n.ext -out $n.pem 2>/dev/null; }\n"
    "issue rsp ca 0x2001 basicConstraints=CA:FALSE extendedKeyUsage=OCSPSigning "
    "keyUsage=critical,digitalSignature\n"
    "issue orsp other 0x2002 basicConstraints=CA:FALSE extendedKeyUsage=OCSPSigning "
    "keyUsage=critical,digitalSignature\n"
    "for p in good:0x1001 revoked:0x1002 unknown:0x1003 other-leaf:0x1004; do\n"
    "  issue ${p%%:*} ca ${p#*:} basicConstraints=CA:FALSE extendedKeyUsage=clientAuth "
    "keyUsage=critical,digitalSignature authorityInfoAccess=OCSP\\;URI:http://127.0.0.1:$2/\n"
    "done\n"
    "issue ica ca 0x1005 basicConstraints=critical,CA:TRUE keyUsage=critical,keyCertSign,cRLSign "
    "authorityInfoAccess=OCSP\\;URI:http://127.0.0.1:$2/\n"
    "issue deep ica 0x3001 basicConstraints=CA:FALSE extendedKeyUsage=clientAuth "
    "keyUsage=critical,digitalSignature authorityInfoAccess=OCSP\\;URI:http://127.0.0.1:$3/\n"
    "cat deep.pem ica.pem > deep-chain.pem\n"
    "exp=$(date -u -d '+20 days' +%y%m%d%H%M%SZ); rev=$(date -u -d '-1 hour' +%y%m%d%H%M%SZ)\n"
    "printf 'V\\t%s\\t\\t1001\\tunknown\\t/CN=good\\n' $exp > index.txt\n"
    "printf 'R\\t%s\\t%s,keyCompromise\\t1002\\tunknown\\t/CN=revoked\\n' $exp $rev >> index.txt\n"
    "printf 'V\\t%s\\t\\t1004\\tunknown\\t/CN=other-leaf\\n' $exp >> index.txt\n"
    "printf 'R\\t%s\\t%s,cACompromise\\t1005\\tunknown\\t/CN=ica\\n' $exp $rev >> index.txt\n"
    "printf 'V\\t%s\\t\\t3001\\tunknown\\t/CN=deep\\n' $exp > index-ica.txt\n"
    /* responses made once, served by the fixed-bytes server */
    "for c in good other-leaf; do\n"
    "  openssl ocsp -issuer ca.pem -cert $c.pem -no_nonce -reqout $c.req >/dev/null 2>&1\n"
    "  openssl ocsp -index index.txt -rsigner rsp.pem -rkey rsp.key -CA ca.pem -ndays 1 "
    "-reqin $c.req -respout $c.resp >/dev/null 2>&1\n"
    "done\n";

/* Makes the PKI in dir with AIA ports aia_port and ica_port. */
static __attribute__((unused)) void ou_make_pki(const char *dir, int aia_port, int ica_port)
{
    char *script = tu_strf("%s/mkpki.sh", dir), *out = NULL;
    tu_write_file(script, ou_mkpki);
    char *cmd = tu_strf("sh '%s' '%s' %d %d", script, dir, aia_port, ica_port);
    int st = tu_run(cmd, &out);
    if (st != 0) {
        fprintf(stderr, "%s: %s\n", cmd, out ? out : "");
        exit(1);
    }
    free(out);
    free(cmd);
    free(script);
}

/* An 'openssl ocsp' responder on port for ca, signed by signer (rsp or
 * orsp), answers valid for a day, its output in dir/rsp-PORT.log. */
#define ou_responder(dir, port, signer) ou_responder_for(dir, port, signer, "ca", "index.txt")

/* The same for issuer ca with index (file names in dir). */
static __attribute__((unused)) pid_t ou_responder_for(const char *dir, int port, const char *signer,
                                                      const char *issuer, const char *index)
{
    char sport[16], *idx = tu_strf("%s/%s", dir, index), *ca = tu_strf("%s/%s.pem", dir, issuer);
    char *rs = tu_strf("%s/%s.pem", dir, signer), *rk = tu_strf("%s/%s.key", dir, signer);
    char *log = tu_strf("%s/rsp-%d.log", dir, port);
    snprintf(sport, sizeof sport, "%d", port);
    char *argv[] = { (char *)tu_env("OPENSSL", "openssl"), "ocsp", "-index", idx, "-port", sport,
                     "-rsigner", rs, "-rkey", rk, "-CA", ca, "-ndays", "1", "-text", NULL };
    pid_t pid = tu_spawn(argv, log);
    /* Not tu_wait_port: 'openssl ocsp' serves one connection at a time and
     * waits for ever on a probe that sends nothing. It logs once it listens. */
    int up = 0;
    for (int i = 0; i < 200 && !up; i++) {
        char *text = tu_read_file(log, NULL);
        up = text && strstr(text, "waiting for OCSP client connections");
        free(text);
        if (!up)
            usleep(50000);
    }
    ck_assert_msg(up, "openssl ocsp did not listen on %d", port);
    free(idx); free(ca); free(rs); free(rk); free(log);
    return pid;
}

/* ----- the fixed-bytes server ---------------------------------------------- */

struct ou_server {
    int fd, port;
    pthread_t th;
    pthread_mutex_t mu;
    unsigned char *body;       /* DER of the response served */
    size_t len;
    int requests, delay_ms;
};

/* Reads one request: headers, then Content-Length bytes of body. */
static __attribute__((unused)) void ou_read_request(int c)
{
    char buf[8192];
    size_t got = 0;
    long want = -1;
    while (got < sizeof buf - 1) {
        ssize_t n = read(c, buf + got, sizeof buf - 1 - got);
        if (n <= 0)
            return;
        got += (size_t)n;
        buf[got] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end && want < 0) {
            char *cl = strcasestr(buf, "content-length:");
            want = (long)(end + 4 - buf) + (cl ? strtol(cl + 15, NULL, 10) : 0);
        }
        if (want >= 0 && (long)got >= want)
            return;
    }
}

static __attribute__((unused)) void *ou_serve(void *arg)
{
    struct ou_server *s = arg;
    int c;
    while ((c = accept(s->fd, NULL, NULL)) >= 0) {
        ou_read_request(c);
        pthread_mutex_lock(&s->mu);
        s->requests++;
        int delay = s->delay_ms;
        char *head = tu_strf("HTTP/1.0 200 OK\r\nContent-Type: application/ocsp-response\r\n"
                             "Content-Length: %zu\r\n\r\n", s->len);
        size_t hl = strlen(head), bl = s->len;
        unsigned char *msg = malloc(hl + bl);
        memcpy(msg, head, hl);
        memcpy(msg + hl, s->body, bl);
        pthread_mutex_unlock(&s->mu);
        if (delay)
            usleep((useconds_t)delay * 1000);
        ssize_t w = write(c, msg, hl + bl);
        (void)w;
        free(msg);
        free(head);
        close(c);
    }
    return NULL;
}

/* A listening socket on a free loopback port; serve: start answering. */
static __attribute__((unused)) void ou_listen(struct ou_server *s, int serve)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t al = sizeof a;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    pthread_mutex_init(&s->mu, NULL);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(s->fd, 0);
    ck_assert_int_eq(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(s->fd, 64), 0);
    ck_assert_int_eq(getsockname(s->fd, (struct sockaddr *)&a, &al), 0);
    s->port = ntohs(a.sin_port);
    if (serve)
        ck_assert_int_eq(pthread_create(&s->th, NULL, ou_serve, s), 0);
}

/* Replaces the bytes served (takes der). */
static __attribute__((unused)) void ou_set_body(struct ou_server *s, unsigned char *der, size_t len)
{
    pthread_mutex_lock(&s->mu);
    free(s->body);
    s->body = der;
    s->len = len;
    pthread_mutex_unlock(&s->mu);
}

static __attribute__((unused)) void ou_close(struct ou_server *s, int served)
{
    shutdown(s->fd, SHUT_RDWR);
    close(s->fd);
    if (served)
        pthread_join(s->th, NULL);
    free(s->body);
    s->body = NULL;
}

/* ----- responses and CRLs signed with the fixture's keys ----------------- */

static __attribute__((unused)) X509 *ou_cert(const char *dir, const char *name)
{
    char *p = tu_strf("%s/%s.pem", dir, name);
    FILE *f = fopen(p, "r");
    ck_assert_msg(f != NULL, "%s", p);
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    free(p);
    ck_assert_ptr_nonnull(x);
    return x;
}

static __attribute__((unused)) EVP_PKEY *ou_key(const char *dir, const char *name)
{
    char *p = tu_strf("%s/%s.key", dir, name);
    FILE *f = fopen(p, "r");
    ck_assert_msg(f != NULL, "%s", p);
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    free(p);
    ck_assert_ptr_nonnull(k);
    return k;
}

/* DER of a response about cert 'name' with the given status, thisUpdate
 * and nextUpdate relative to now (seconds), signed by rsp. */
static __attribute__((unused)) unsigned char *ou_response(const char *dir, const char *name,
                                                          int status, long this_off,
                                                          long next_off, size_t *len)
{
    X509 *cert = ou_cert(dir, name), *ca = ou_cert(dir, "ca"), *rsp = ou_cert(dir, "rsp");
    EVP_PKEY *key = ou_key(dir, "rsp");
    OCSP_CERTID *id = OCSP_cert_to_id(NULL, cert, ca);
    OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
    ASN1_TIME *tu = X509_gmtime_adj(NULL, this_off), *nu = X509_gmtime_adj(NULL, next_off);
    ASN1_TIME *rev = X509_gmtime_adj(NULL, -3600);
    ck_assert(id && bs && tu && nu && rev);
    ck_assert_ptr_nonnull(OCSP_basic_add1_status(bs, id, status, OCSP_REVOKED_STATUS_KEYCOMPROMISE,
                                                 status == V_OCSP_CERTSTATUS_REVOKED ? rev : NULL,
                                                 tu, nu));
    ck_assert_int_eq(OCSP_basic_sign(bs, rsp, key, EVP_sha256(), NULL, 0), 1);
    OCSP_RESPONSE *r = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
    unsigned char *der = NULL;
    int n = i2d_OCSP_RESPONSE(r, &der);
    ck_assert_int_gt(n, 0);
    *len = (size_t)n;
    unsigned char *copy = malloc(*len);   /* freed with free() by the server */
    memcpy(copy, der, *len);
    OPENSSL_free(der);
    OCSP_RESPONSE_free(r);
    OCSP_BASICRESP_free(bs);
    OCSP_CERTID_free(id);
    ASN1_TIME_free(tu); ASN1_TIME_free(nu); ASN1_TIME_free(rev);
    EVP_PKEY_free(key);
    X509_free(cert); X509_free(ca); X509_free(rsp);
    return copy;
}

/* Writes dir/ca.crl: ca's CRL listing the certificate 'victim'. */
static __attribute__((unused)) void ou_crl(const char *dir, const char *victim)
{
    X509 *ca = ou_cert(dir, "ca"), *v = ou_cert(dir, victim);
    EVP_PKEY *key = ou_key(dir, "ca");
    X509_CRL *crl = X509_CRL_new();
    X509_REVOKED *r = X509_REVOKED_new();
    ASN1_TIME *t = X509_gmtime_adj(NULL, -3600), *nu = X509_gmtime_adj(NULL, 86400);
    ck_assert(crl && r && t && nu);
    ck_assert(X509_CRL_set_version(crl, 1) && X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)) &&
              X509_CRL_set1_lastUpdate(crl, t) && X509_CRL_set1_nextUpdate(crl, nu) &&
              X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(v)) &&
              X509_REVOKED_set_revocationDate(r, t) && X509_CRL_add0_revoked(crl, r));
    ck_assert_int_gt(X509_CRL_sign(crl, key, EVP_sha256()), 0);
    char *p = tu_strf("%s/ca.crl", dir);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(PEM_write_X509_CRL(f, crl), 1);
    fclose(f);
    free(p);
    X509_CRL_free(crl);
    ASN1_TIME_free(t); ASN1_TIME_free(nu);
    EVP_PKEY_free(key);
    X509_free(ca); X509_free(v);
}
#endif
