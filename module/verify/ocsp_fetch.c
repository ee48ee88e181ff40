/* One OCSP exchange (ocsp.h): request for one certificate, sent with
 * OpenSSL's HTTP client under a deadline, and every check a response must
 * pass before its status is believed: the responder's signature and
 * authority, an answer for exactly our certificate, its validity window,
 * and the nonce when the responder echoes one. */
#define _GNU_SOURCE
#include "ocsp.h"
#include "diagnose.h"
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/http.h>
#include <openssl/ocsp.h>

/* Largest response read, bytes. */
#define CR_OCSP_MAX_RESPONSE (100 * 1024)

static void fail(struct cr_ocsp_answer *a, enum cr_ocsp_why why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(struct cr_ocsp_answer *a, enum cr_ocsp_why why, const char *fmt, ...)
{
    va_list ap;
    a->why = why;
    va_start(ap, fmt);
    vsnprintf(a->msg, sizeof a->msg, fmt, ap);
    va_end(ap);
    a->status = -1;
}

/* OpenSSL's reasons on the error queue, oldest first, "; "-joined (a
 * system call's errno text included), then the queue is cleared. */
static void ossl_reasons(char *buf, size_t len)
{
    size_t used = 0;
    unsigned long e;
    buf[0] = '\0';
    while ((e = ERR_get_error()) != 0) {
        const char *r = ERR_reason_error_string(e);   /* errno text for system errors */
        char tmp[64];
        if (!r) {
            snprintf(tmp, sizeof tmp, "error %d", ERR_GET_REASON(e));
            r = tmp;
        }
        if (strstr(buf, r))
            continue;
        int n = snprintf(buf + used, len - used, "%s%s", used ? "; " : "", r);
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
    if (!buf[0])
        snprintf(buf, len, "no detail");
}

static double elapsed(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* One non-blocking connect to ai, waited for at most wait_ms. The
 * connected socket (still non-blocking, as OpenSSL's
 * HTTP client wants it under a timeout), or -1 with errno set. */
static int connect_one(const struct addrinfo *ai, int wait_ms)
{
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        return fd;
    int err = errno;
    if (err == EINPROGRESS) {
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int n, left = wait_ms;
        /* a signal is not the connection's answer: wait out the rest */
        while ((n = poll(&p, 1, left > 0 ? left : 0)) < 0 && errno == EINTR)
            left = wait_ms - (int)(elapsed(&t0) * 1000);
        socklen_t len = sizeof err;
        if (n == 0)
            err = ETIMEDOUT;
        else if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            err = n < 0 ? errno : EIO;
        if (n > 0 && err == 0)
            return fd;
    }
    close(fd);
    errno = err;
    return -1;
}

/* Connects to host:port within timeout seconds, trying each address.
 * OpenSSL's own client retries a refused connection until its deadline,
 * which would make every verification wait the whole ocsp-timeout while
 * a responder is down; a refusal is an answer, taken at once. A socket
 * BIO, or NULL with a's message. */
static BIO *connect_bounded(const struct cr_ocsp_query *q, const char *host, const char *port,
                            const struct timespec *t0, struct cr_ocsp_answer *a)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res), fd = -1, err = 0, refused = 0, tried = 0;
    if (rc != 0) {
        fail(a, CR_OCSP_WHY_CONNECT, "OCSP responder %s: cannot resolve %s (%s)", q->url, host,
             gai_strerror(rc));
        return NULL;
    }
    for (const struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        int left_ms = (int)((q->timeout - elapsed(t0)) * 1000);
        if (left_ms <= 0)
            break;
        tried++;
        if ((fd = connect_one(ai, left_ms)) < 0) {
            err = errno;
            refused += err == ECONNREFUSED;
        }
    }
    freeaddrinfo(res);
    BIO *b = fd >= 0 ? BIO_new_socket(fd, BIO_CLOSE) : NULL;
    if (fd >= 0 && !b)
        close(fd);
    if (b)
        return b;
    if (fd >= 0)
        fail(a, CR_OCSP_WHY_INTERNAL, "OCSP request to %s: no memory for the connection", q->url);
    else if (tried && refused == tried)
        fail(a, CR_OCSP_WHY_CONNECT, "OCSP responder %s: connection refused (nothing listens "
             "there)", q->url);
    else
        fail(a, CR_OCSP_WHY_CONNECT, "OCSP responder %s: cannot connect within the timeout of "
             "%d s (%s)", q->url, q->timeout, tried ? strerror(err) : "no time left");
    return NULL;
}

/* POSTs req to the responder; the response, or NULL with a's message. */
static OCSP_RESPONSE *exchange(const struct cr_ocsp_query *q, OCSP_REQUEST *req,
                               struct cr_ocsp_answer *a)
{
    char *host = NULL, *port = NULL, *path = NULL, why[256];
    int ssl = 0;
    OCSP_RESPONSE *resp = NULL;
    BIO *body = NULL, *in = NULL, *conn = NULL;
    if (!OSSL_HTTP_parse_url(q->url, &ssl, NULL, &host, &port, NULL, &path, NULL, NULL) || ssl) {
        ERR_clear_error();
        fail(a, CR_OCSP_WHY_NO_URL, "OCSP responder %s: not an http:// URL (only http:// "
             "responders are used)", q->url);
        goto done;
    }
    if (!(body = ASN1_item_i2d_mem_bio(ASN1_ITEM_rptr(OCSP_REQUEST), (const ASN1_VALUE *)req))) {
        fail(a, CR_OCSP_WHY_INTERNAL, "OCSP request for %s could not be encoded", q->url);
        goto done;
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (!(conn = connect_bounded(q, host, port, &t0, a)))
        goto done;
    /* What is left of the deadline, rounded up to whole seconds (OpenSSL's
     * client keeps its deadline in seconds); none left is a timeout. */
    int left = q->timeout - (int)elapsed(&t0);
    if (elapsed(&t0) >= q->timeout || left <= 0) {
        fail(a, CR_OCSP_WHY_TIMEOUT, "OCSP responder %s: no answer within the timeout of %d s "
             "(connecting took all of it)", q->url, q->timeout);
        goto done;
    }
    ERR_clear_error();
    /* The connection given as both ends: OpenSSL's client then sends and
     * reads on it under the deadline, connecting nothing itself (so no
     * proxy from the process environment either). */
    in = OSSL_HTTP_transfer(NULL, host, port, path, 0, NULL, NULL, conn, conn, NULL, NULL, 0,
                            NULL, "application/ocsp-request", body, "application/ocsp-response",
                            1, CR_OCSP_MAX_RESPONSE, left, 0);
    if (!in) {
        double t = elapsed(&t0);
        ossl_reasons(why, sizeof why);
        if (t >= q->timeout - 0.05)
            fail(a, CR_OCSP_WHY_TIMEOUT, "OCSP responder %s: no answer within the timeout of "
                 "%d s (%s)", q->url, q->timeout, why);
        else
            fail(a, CR_OCSP_WHY_CONNECT, "OCSP responder %s: request failed after %.1f s (%s)",
                 q->url, t, why);
        goto done;
    }
    if (!(resp = d2i_OCSP_RESPONSE_bio(in, NULL))) {
        ossl_reasons(why, sizeof why);
        fail(a, CR_OCSP_WHY_NOT_OCSP, "OCSP responder %s: the answer is not an OCSP response "
             "(%s)", q->url, why);
    }
done:
    BIO_free(body);
    BIO_free(in);
    BIO_free_all(conn);   /* ours: OpenSSL's client frees only what it made */
    OPENSSL_free(host);
    OPENSSL_free(port);
    OPENSSL_free(path);
    return resp;
}

/* The signer must chain to a trust anchor and be the certificate's issuer,
 * or hold id-kp-OCSPSigning and be issued by that issuer (OpenSSL's
 * OCSP_basic_verify enforces both). */
static int signed_by_issuer(const struct cr_ocsp_query *q, OCSP_BASICRESP *bs,
                            struct cr_ocsp_answer *a)
{
    STACK_OF(X509) *extra = sk_X509_dup(q->chain);
    ERR_clear_error();
    int ok = extra && OCSP_basic_verify(bs, extra, q->store, 0) == 1;
    sk_X509_free(extra);
    if (!ok) {
        char why[256], *dn = cr_diag_dn(X509_get_subject_name(q->issuer));
        ossl_reasons(why, sizeof why);
        fail(a, CR_OCSP_WHY_SIGNER, "OCSP response from %s is not signed by the issuer (%s) "
             "or by a responder it delegated with id-kp-OCSPSigning (%s)", q->url, dn ? dn : "?", why);
        free(dn);
    }
    return ok;
}

static void fmt_time(const ASN1_GENERALIZEDTIME *t, char *buf, size_t len)
{
    time_t tt = t ? cr_asn1_time_to_time_t(t) : 0;
    struct tm tm;
    if (!tt || !gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, len, "%s", t ? "?" : "none");
}

/* Status, validity window and lifetime of our certificate's answer. */
static void read_status(const struct cr_ocsp_query *q, OCSP_BASICRESP *bs, OCSP_CERTID *id,
                        struct cr_ocsp_answer *a)
{
    int status = -1, reason = -1;
    ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
    if (!OCSP_resp_find_status(bs, id, &status, &reason, &rev, &thisupd, &nextupd)) {
        char *dn = cr_diag_dn(X509_get_subject_name(q->cert));
        fail(a, CR_OCSP_WHY_OTHER_CERT, "OCSP response from %s holds no answer for this "
             "certificate (%s): it is a response for another certificate", q->url, dn ? dn : "?");
        free(dn);
        return;
    }
    ERR_clear_error();
    if (!OCSP_check_validity(thisupd, nextupd, q->skew,
                             nextupd ? -1 : CR_OCSP_NO_NEXT_UPDATE_MAX_AGE)) {
        char tu[32], nu[32];
        fmt_time(thisupd, tu, sizeof tu);
        fmt_time(nextupd, nu, sizeof nu);
        unsigned long e = ERR_peek_last_error();
        int future = ERR_GET_REASON(e) == OCSP_R_STATUS_NOT_YET_VALID;
        ERR_clear_error();
        fail(a, CR_OCSP_WHY_STALE, "OCSP response from %s is %s (thisUpdate %s, nextUpdate %s, "
             "clock skew allowed %ld s%s)", q->url, future ? "not yet valid" : "too old", tu, nu, q->skew,
             nextupd ? "" : ", at most 3600 s old without nextUpdate");
        return;
    }
    time_t now = time(NULL);
    time_t nu = nextupd ? cr_asn1_time_to_time_t(nextupd) : 0;
    a->until = nu ? nu : now + CR_OCSP_NO_NEXT_UPDATE_TTL;
    if (nu && nu > now + 7 * 86400)
        a->until = now + 7 * 86400;   /* re-ask at least weekly */
    a->status = status;
    a->reason = reason;
    a->revoked_at = rev ? cr_asn1_time_to_time_t(rev) : 0;
}

static void check_response(const struct cr_ocsp_query *q, OCSP_RESPONSE *resp,
                           OCSP_REQUEST *req, OCSP_CERTID *id, struct cr_ocsp_answer *a)
{
    int rs = OCSP_response_status(resp);
    if (rs != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
        fail(a, CR_OCSP_WHY_STATUS, "OCSP responder %s answered '%s' instead of a status", q->url,
             OCSP_response_status_str(rs));
        return;
    }
    OCSP_BASICRESP *bs = OCSP_response_get1_basic(resp);
    if (!bs) {
        ERR_clear_error();
        fail(a, CR_OCSP_WHY_NOT_OCSP, "OCSP responder %s sent no basic response", q->url);
        return;
    }
    /* A responder that does not echo the nonce (one serving precomputed
     * answers) is accepted: the validity window still bounds the answer's
     * age. One that echoes a different nonce is replaying. */
    if (q->nonce && OCSP_check_nonce(req, bs) == 0)
        fail(a, CR_OCSP_WHY_NONCE, "OCSP response from %s carries a nonce other than the "
             "request's", q->url);
    else if (signed_by_issuer(q, bs, a))
        read_status(q, bs, id, a);
    OCSP_BASICRESP_free(bs);
}

void cr_ocsp_fetch(const struct cr_ocsp_query *q, struct cr_ocsp_answer *a)
{
    memset(a, 0, sizeof *a);
    a->status = -1;
    a->reason = -1;
    snprintf(a->url, sizeof a->url, "%s", q->url);
    OCSP_CERTID *id = OCSP_cert_to_id(NULL, q->cert, q->issuer);
    OCSP_CERTID *rid = id ? OCSP_CERTID_dup(id) : NULL;
    OCSP_REQUEST *req = OCSP_REQUEST_new();
    if (!id || !rid || !req || !OCSP_request_add0_id(req, rid) ||
        (q->nonce && !OCSP_request_add1_nonce(req, NULL, -1))) {
        if (!req || !OCSP_request_onereq_count(req))
            OCSP_CERTID_free(rid);
        fail(a, CR_OCSP_WHY_INTERNAL, "OCSP request for %s could not be built (out of memory)",
             q->url);
        goto done;
    }
    OCSP_RESPONSE *resp = exchange(q, req, a);
    if (resp)
        check_response(q, resp, req, id, a);
    OCSP_RESPONSE_free(resp);
done:
    OCSP_CERTID_free(id);
    OCSP_REQUEST_free(req);
    ERR_clear_error();
}
