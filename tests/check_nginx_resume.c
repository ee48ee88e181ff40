/* The nginx module and TLS session resumption: the client certificate is
 * verified by certrole once, in the handshake; a resumed session (session
 * ticket, or nginx's shared session cache) is judged again under the
 * policy in force, from the leaf and the intermediates kept with the
 * session, so it gets what a full handshake would get: the same answer
 * while nothing changed, the new one after `nginx -s reload` or after the
 * library applied a changed realm file by itself.
 * Configuration: tests/web/nginx-resume.conf.in. */
#define _GNU_SOURCE
#include "testutil.h"
#include "web/nginxtest.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Every certrole verification the module runs writes one of these. */
#define VERIFIED "certrole: verified the connection's client certificate"
#define IN_HANDSHAKE VERIFIED " in the TLS handshake: code="
#define ON_RESUME VERIFIED " of a resumed TLS session: code="
#define AT_ACCESS VERIFIED ": code="
#define CACHE_HIT "(verification cache hit)"

/* Extra s_client options (e.g. a protocol version), the Host header. */
static const char *sclient_extra = "";
static const char *sclient_host = "localhost";

static int port_tickets(struct ngx *n) { return n->port; }
static int port_cache(struct ngx *n) { return n->more[0]; }
static int port_on(struct ngx *n) { return n->more[1]; }
static int port_optional(struct ngx *n) { return n->more[2]; }

/* One request over `openssl s_client`, leaf + intermediate sent by the
 * client (the policy has the root only). sess_in resumes the session
 * saved there, sess_out saves the new one. *reused tells whether the
 * session was resumed. Returns the HTTP status (0 without a response). */
static int sclient(struct ngx *n, int port, const char *leaf, const char *key,
                   const char *sess_in, const char *sess_out, const char *path,
                   int *reused)
{
    char *in = sess_in ? tu_strf("-sess_in '%s/%s'", n->dir, sess_in) : tu_strf("%s", "");
    char *out_arg = sess_out ? tu_strf("-sess_out '%s/%s'", n->dir, sess_out) : tu_strf("%s", "");
    char *cmd = tu_strf("printf 'GET %s HTTP/1.1\\r\\nHost: %s\\r\\n"
                        "Connection: close\\r\\n\\r\\n' | '%s' s_client -connect 127.0.0.1:%d "
                        "-CAfile '%s' -cert '%s' -key '%s' -cert_chain '%s' %s %s %s -ign_eof 2>&1",
                        path, sclient_host, tu_env("OPENSSL", "openssl"), port,
                        tu_pki("ca-file.pem"),
                        tu_pki(leaf), tu_pki(key), tu_pki("int-ca.pem"), in, out_arg,
                        sclient_extra);
    char *out = NULL;
    n->requests++;
    tu_run(cmd, &out);
    int status = 0;
    const char *h = out ? strstr(out, "HTTP/1.1 ") : NULL;
    if (h)
        status = atoi(h + 9);
    *reused = out && strstr(out, "\nReused, ") != NULL;
    if (status == 0)
        fprintf(stderr, "no response:\n%s\n", out ? out : "");
    free(cmd); free(in); free(out_arg); free(out);
    return status;
}

static int count_in(struct ngx *n, const char *file, const char *needle)
{
    char *t = nt_file(n, file);
    int c = nt_count(t, needle);
    free(t);
    return c;
}

/* Lines of the error log holding both a and b. */
static int count_lines(struct ngx *n, const char *a, const char *b)
{
    char *t = nt_file(n, "error.log");
    int c = 0;
    for (char *l = strtok(t, "\n"); l; l = strtok(NULL, "\n"))
        c += strstr(l, a) && strstr(l, b);
    free(t);
    return c;
}

/* Same session ticket keys across `nginx -s reload`. */
static void start(struct ngx *n, const char *policy_extra)
{
    nt_prepare(n, "nginx-resume.conf.in");
    if (policy_extra) {
        char *pol = tu_strf("%s/acme.policy", n->dir);
        char *text = tu_read_file(pol, NULL);
        char *more = tu_strf("%s%s", text, policy_extra);
        tu_write_file(pol, more);
        free(pol); free(text); free(more);
        /* the worker re-reads the files as the user it runs as */
        ck_assert_int_eq(chmod(n->dir, 0755), 0);
    }
    char *cmd = tu_strf("'%s' rand -out '%s/ticket.key' 80", tu_env("OPENSSL", "openssl"), n->dir);
    ck_assert_int_eq(tu_run(cmd, NULL), 0);
    free(cmd);
    nt_launch(n);
}

static void resume_keeps_the_decision(int (*port)(struct ngx *))
{
    struct ngx n;
    start(&n, NULL);
    int p = port(&n), reused = -1;
    ck_assert_int_eq(sclient(&n, p, "client.pem", "client.key", NULL, "s1", "/InvoiceService/list",
                             &reused), 200);
    ck_assert_int_eq(reused, 0);
    /* the resumed session carries no certificate message: the decision
     * must not change for it */
    ck_assert_int_eq(sclient(&n, p, "client.pem", "client.key", "s1", NULL, "/InvoiceService/list",
                             &reused), 200);
    ck_assert_msg(reused == 1, "the session was not resumed");
    char *acc = nt_access(&n);
    char *w1 = tu_strf("%d 200 code=ok user=crm roles=invoice-readonly verify=SUCCESS reused=.", p);
    char *w2 = tu_strf("%d 200 code=ok user=crm roles=invoice-readonly verify=SUCCESS reused=r", p);
    ck_assert_msg(strstr(acc, w1) && strstr(acc, w2), "%s", acc);
    free(w1); free(w2); free(acc);
    nt_stop(&n);
}

START_TEST(tickets_resumed_session_keeps_the_decision)
{
    resume_keeps_the_decision(port_tickets);
}
END_TEST

START_TEST(session_cache_resumed_session_keeps_the_decision)
{
    resume_keeps_the_decision(port_cache);
}
END_TEST

/* TLS 1.2 resumes differently (session ID or ticket in the ClientHello,
 * no PSK): the same answers. */
START_TEST(tls12_resumed_session_keeps_the_decision)
{
    sclient_extra = "-tls1_2";
    resume_keeps_the_decision(port_tickets);
    resume_keeps_the_decision(port_cache);
    sclient_extra = "";
}
END_TEST

/* One verification per new client, in the handshake; a returning
 * client's connections are verification cache hits; the access phase
 * verifies nothing. */
START_TEST(one_verification_per_client)
{
    struct ngx n;
    start(&n, NULL);
    int p = port_tickets(&n), reused;
    ck_assert_int_eq(sclient(&n, p, "client.pem", "client.key", NULL, "s1", "/InvoiceService/list",
                             &reused), 200);
    ck_assert_int_eq(count_in(&n, "error.log", IN_HANDSHAKE "ok"), 1);
    ck_assert_int_eq(count_in(&n, "error.log", CACHE_HIT), 0);
    /* the same client again, a full handshake */
    ck_assert_int_eq(sclient(&n, p, "client.pem", "client.key", NULL, NULL, "/InvoiceService/list",
                             &reused), 200);
    ck_assert_int_eq(count_lines(&n, IN_HANDSHAKE "ok", CACHE_HIT), 1);
    /* and resumed */
    ck_assert_int_eq(sclient(&n, p, "client.pem", "client.key", "s1", NULL, "/InvoiceService/list",
                             &reused), 200);
    ck_assert(reused == 1);
    ck_assert_int_eq(count_lines(&n, ON_RESUME "ok", CACHE_HIT), 1);
    ck_assert_int_eq(count_in(&n, "error.log", VERIFIED), 3);
    ck_assert_int_eq(count_in(&n, "error.log", AT_ACCESS), 0);
    ck_assert_int_eq(count_in(&n, "error.log", "certrole: allowed \""), 3);
    /* the library's own counters agree: one chain judged, two hits */
    char *body = NULL;
    ck_assert_int_eq(nt_get_port(&n, p, NULL, NULL, NULL, "/certrole-status", &body), 200);
    ck_assert_msg(body && wt_metric(body, "certrole_cache_lookups_total{result=\"miss\"}") == 1
                  && wt_metric(body, "certrole_cache_lookups_total{result=\"hit\"}") == 2,
                  "%s", body ? body : "");
    free(body);
    nt_stop(&n);
}
END_TEST

static const char *const realm_v2 =
    "\"" NT_CLIENT_DN "\" guest user=crm\n"
    "\"" NT_GUEST_DN "\" guest user=guest\n";

/* The realm loses crm's role between the first connection and the
 * resumed one: `nginx -s reload`, the shared cache and the ticket keys
 * survive it, the resumed session is judged by the new policy. */
START_TEST(nginx_reload_applies_to_the_resumed_session)
{
    struct ngx n;
    start(&n, NULL);
    int ports[] = { port_tickets(&n), port_cache(&n) }, reused;
    for (int i = 0; i < 2; i++) {
        char *s = tu_strf("s%d", i);
        ck_assert_int_eq(sclient(&n, ports[i], "client.pem", "client.key", NULL, s,
                                 "/InvoiceService/list", &reused), 200);
        free(s);
    }
    char *realm = tu_strf("%s/users.realm", n.dir);
    tu_write_file(realm, realm_v2);
    free(realm);
    char *out = NULL;
    ck_assert_msg(nt_reload(&n, &out) == 0, "%s", out ? out : "");
    free(out);
    for (int i = 0; i < 2; i++) {
        char *s = tu_strf("s%d", i);
        int st = sclient(&n, ports[i], "client.pem", "client.key", s, NULL,
                         "/InvoiceService/list", &reused);
        free(s);
        ck_assert_msg(reused == 1, "port %d: the session was not resumed", ports[i]);
        ck_assert_int_eq(st, 403);
        char *acc = nt_access(&n);
        char *w = tu_strf("%d 403 code=forbidden user=crm roles=guest ", ports[i]);
        ck_assert_msg(strstr(acc, w), "%s\n%s", w, acc);
        free(w); free(acc);
    }
    nt_stop(&n);
}
END_TEST

/* The same, with the library applying the changed realm file by itself
 * (option refresh), nginx untouched. */
START_TEST(library_refresh_applies_to_the_resumed_session)
{
    struct ngx n;
    start(&n, "option refresh=1\n");
    int p = port_tickets(&n), reused, st = 0;
    ck_assert_int_eq(sclient(&n, p, "client.pem", "client.key", NULL, "s1",
                             "/InvoiceService/list", &reused), 200);
    /* a file younger than a second is left for the next check */
    wt_sleep_ms(1100);
    char *realm = tu_strf("%s/users.realm", n.dir);
    tu_write_file(realm, realm_v2);
    free(realm);
    for (int i = 0; i < 40 && st != 403; i++) {
        wt_sleep_ms(250);
        st = sclient(&n, p, "client.pem", "client.key", "s1", NULL, "/InvoiceService/list",
                     &reused);
        ck_assert_msg(reused == 1, "the session was not resumed");
    }
    char *el = nt_file(&n, "error.log");
    size_t l = strlen(el);
    ck_assert_msg(st == 403, "status %d, error.log ends:\n%s", st, el + (l > 3000 ? l - 3000 : 0));
    free(el);
    char *acc = nt_access(&n);
    char *w = tu_strf("%d 403 code=forbidden user=crm roles=guest ", p);
    ck_assert_msg(strstr(acc, w), "%s\n%s", w, acc);
    free(w); free(acc);
    nt_stop(&n);
}
END_TEST

/* ssl_verify_client on / optional: certrole's verdict is the handshake's,
 * so nginx refuses with its own 400 what the policy does not trust (a
 * revoked certificate, which nginx's CA file alone would pass), in every
 * location; a resumed session gets the same. */
START_TEST(verify_on_and_optional_take_certrole_verdict)
{
    struct ngx n;
    start(&n, NULL);
    int on = port_on(&n), opt = port_optional(&n), reused;
    ck_assert_int_eq(sclient(&n, on, "revoked.pem", "revoked.key", NULL, "r1",
                             "/InvoiceService/list", &reused), 400);
    /* the refused client's session, resumed: refused again, by the
     * session's verdict judged anew */
    ck_assert_int_eq(sclient(&n, on, "revoked.pem", "revoked.key", "r1", NULL,
                             "/open/x", &reused), 400);
    ck_assert_msg(reused == 1, "the refused client's session was not resumed");
    ck_assert_int_eq(sclient(&n, on, "revoked.pem", "revoked.key", NULL, NULL, "/open/x",
                             &reused), 400);
    ck_assert_int_eq(sclient(&n, opt, "revoked.pem", "revoked.key", NULL, NULL, "/InvoiceService/list",
                             &reused), 400);
    ck_assert_int_eq(sclient(&n, on, "client.pem", "client.key", NULL, "s1", "/open/x",
                             &reused), 200);
    ck_assert_int_eq(sclient(&n, on, "client.pem", "client.key", "s1", NULL,
                             "/InvoiceService/list", &reused), 200);
    ck_assert(reused == 1);
    ck_assert_int_eq(sclient(&n, opt, "client.pem", "client.key", NULL, "s2",
                             "/InvoiceService/list", &reused), 200);
    ck_assert_int_eq(sclient(&n, opt, "client.pem", "client.key", "s2", NULL,
                             "/InvoiceService/list", &reused), 200);
    ck_assert(reused == 1);
    char *acc = nt_access(&n);
    char *w = tu_strf("%d 400 code=revoked user=- roles= verify=FAILED:certificate revoked ", on);
    ck_assert_msg(nt_count(acc, w) == 3, "%s\n%s", w, acc);
    free(w);
    w = tu_strf("%d 400 code=revoked user=- roles= verify=FAILED:certificate revoked reused=r", on);
    ck_assert_msg(nt_count(acc, w) == 1, "%s\n%s", w, acc);
    free(w);
    w = tu_strf("%d 400 code=revoked ", opt);
    ck_assert_msg(strstr(acc, w), "%s\n%s", w, acc);
    free(w);
    free(acc);
    nt_stop(&n);
}
END_TEST

/* ssl_verify_client on: the policy stops trusting the client's CA between
 * the first connection and the resumed one. The session's stored verdict
 * (success) is replaced by today's, so nginx refuses the resumed
 * connection also where certrole is off. */
START_TEST(verify_on_resumed_session_gets_the_new_trust_verdict)
{
    struct ngx n;
    start(&n, NULL);
    int p = port_on(&n), reused;
    ck_assert_int_eq(sclient(&n, p, "client.pem", "client.key", NULL, "s1", "/open/x",
                             &reused), 200);
    char *pol = tu_strf("%s/acme.policy", n.dir);
    char *text = tu_strf("trust ca-file=%s\n"
                         "realm required file path=users.realm\n"
                         "require GET /InvoiceService/list invoice-readonly\n",
                         tu_pki("other-root-ca.pem"));
    tu_write_file(pol, text);
    free(pol); free(text);
    char *out = NULL;
    ck_assert_msg(nt_reload(&n, &out) == 0, "%s", out ? out : "");
    free(out);
    ck_assert_int_eq(sclient(&n, p, "client.pem", "client.key", "s1", NULL, "/open/x",
                             &reused), 400);
    ck_assert_msg(reused == 1, "the session was not resumed");
    char *acc = nt_access(&n);
    char *w = tu_strf("%d 400 code=untrusted_issuer ", p);
    ck_assert_msg(strstr(acc, w) && strstr(acc, "verify=FAILED:unable to get local issuer "
                                                "certificate reused=r"), "%s", acc);
    free(w); free(acc);
    nt_stop(&n);
}
END_TEST

/* A server that never turns certrole on keeps nginx's verification with
 * its own CA file, although a policy (trusting another CA) is in scope. */
START_TEST(a_server_without_certrole_keeps_nginx_verification)
{
    struct ngx n;
    start(&n, NULL);
    int p = port_optional(&n), reused;
    sclient_extra = "-servername nocertrole.test";
    sclient_host = "nocertrole.test";
    /* the Acme chain the policy trusts: not this server's CA */
    ck_assert_int_eq(sclient(&n, p, "client.pem", "client.key", NULL, NULL, "/x", &reused), 400);
    ck_assert_int_eq(sclient(&n, p, "other-client.pem", "other-client.key", NULL, NULL, "/x",
                             &reused), 200);
    sclient_extra = "";
    sclient_host = "localhost";
    ck_assert_int_eq(count_in(&n, "error.log", VERIFIED), 0);
    nt_stop(&n);
}
END_TEST

/* tests/web/nginx-sessions.conf.in, with ticket keys. */
static void start_sessions(struct ngx *n)
{
    nt_prepare(n, "nginx-sessions.conf.in");
    char *cmd = tu_strf("'%s' rand -out '%s/ticket.key' 80", tu_env("OPENSSL", "openssl"), n->dir);
    ck_assert_int_eq(tu_run(cmd, NULL), 0);
    free(cmd);
    nt_launch(n);
}

static int port_ac(struct ngx *n) { return n->port; }
static int port_early(struct ngx *n) { return n->more[0]; }
static int port_early_sni(struct ngx *n) { return n->more[1]; }

static const char *proto = "";

/* sclient() for the Acme client with this SNI (NULL: none) and Host. */
static int sclient_as(struct ngx *n, int port, const char *servername, const char *host,
                      const char *sess_in, const char *sess_out, const char *path, int *reused)
{
    char *extra = servername ? tu_strf("%s -servername %s", proto, servername)
                             : tu_strf("%s -noservername", proto);
    sclient_extra = extra;
    sclient_host = host;
    int st = sclient(n, port, "client.pem", "client.key", sess_in, sess_out, path, reused);
    sclient_extra = "";
    sclient_host = "localhost";
    free(extra);
    return st;
}

/* A session whose client certificate certrole judged for server A (the
 * policy trusts the Acme CA) must not pass in server C, where nginx
 * verifies with a CA file that does not: neither resumed under SNI C nor
 * reached by the Host header without SNI (new or resumed). */
static void verdict_stays_in_its_server(void)
{
    struct ngx n;
    start_sessions(&n);
    int p = port_ac(&n), reused;
    /* controls: A admits the Acme client, C (its own verification) not */
    ck_assert_int_eq(sclient_as(&n, p, "a.test", "a.test", NULL, NULL, "/x", &reused), 200);
    ck_assert_int_eq(sclient_as(&n, p, "c.test", "c.test", NULL, NULL, "/x", &reused), 400);
    /* a session made in A without SNI */
    ck_assert_int_eq(sclient_as(&n, p, NULL, "a.test", NULL, "sn", "/x", &reused), 200);
    /* resumed with SNI C */
    ck_assert_int_eq(sclient_as(&n, p, "c.test", "c.test", "sn", NULL, "/x", &reused), 400);
    ck_assert_msg(reused == 1, "%s: the session was not resumed under SNI C", proto);
    /* no SNI (A's handshake), Host: C; new and resumed */
    ck_assert_int_eq(sclient_as(&n, p, NULL, "c.test", NULL, NULL, "/x", &reused), 400);
    ck_assert_int_eq(sclient_as(&n, p, NULL, "c.test", "sn", NULL, "/x", &reused), 400);
    ck_assert_msg(reused == 1, "%s: the session was not resumed without SNI", proto);
    /* A itself still admits it */
    ck_assert_int_eq(sclient_as(&n, p, NULL, "a.test", "sn", NULL, "/x", &reused), 200);
    ck_assert_msg(reused == 1, "%s: the session was not resumed in A", proto);
    char *acc = nt_access(&n);
    ck_assert_msg(!strstr(acc, "c.test 200"), "%s", acc);
    free(acc);
    ck_assert_int_eq(count_in(&n, "error.log", "was judged for another server"), 3);
    nt_stop(&n);
}

START_TEST(a_verdict_made_for_one_server_is_refused_in_another)
{
    proto = "-tls1_3";
    verdict_stays_in_its_server();
    proto = "-tls1_2";
    verdict_stays_in_its_server();
    proto = "";
}
END_TEST

/* One TLS 1.3 connection resuming sess_in with early data (a request);
 * returns s_client's output. */
static char *sclient_early(struct ngx *n, int port, const char *servername, const char *sess)
{
    char *req = tu_strf("%s/early.req", n->dir);
    tu_write_file(req, "GET /InvoiceService/list HTTP/1.1\r\nHost: e.test\r\n"
                       "Connection: close\r\n\r\n");
    char *cmd = tu_strf("printf 'GET /InvoiceService/list HTTP/1.1\\r\\nHost: e.test\\r\\n"
                        "Connection: close\\r\\n\\r\\n' | '%s' s_client -connect 127.0.0.1:%d "
                        "-servername %s -CAfile '%s' -cert '%s' -key '%s' -cert_chain '%s' "
                        "-sess_in '%s/%s' -early_data '%s' -ign_eof 2>&1",
                        tu_env("OPENSSL", "openssl"), port, servername, tu_pki("ca-file.pem"),
                        tu_pki("client.pem"), tu_pki("client.key"), tu_pki("int-ca.pem"),
                        n->dir, sess, req);
    char *out = NULL;
    n->requests++;
    tu_run(cmd, &out);
    free(cmd); free(req);
    return out ? out : tu_strf("%s", "");
}

/* ssl_early_data on where certrole judges the handshake: a resumed
 * session's 0-RTT request would be served on the session's old verdict,
 * so no early data is accepted there, also when SNI switches to that
 * server from one that accepts it; nginx is told at startup. */
START_TEST(no_early_data_where_certrole_judges_the_handshake)
{
    struct ngx n;
    start_sessions(&n);
    int ports[] = { port_early(&n), port_early_sni(&n) }, reused;
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(sclient_as(&n, ports[i], "e.test", "e.test", NULL, "se",
                                    "/InvoiceService/list", &reused), 200);
        char *out = sclient_early(&n, ports[i], "e.test", "se");
        const char *ed = strstr(out, "Early data was ");
        int ok = strstr(out, "Reused, ") && ed && !strstr(out, "Early data was accepted")
                 && strstr(out, "HTTP/1.1 200");
        if (!ok)
            fprintf(stderr, "port %d:\n%s\n", ports[i], out);
        else
            fprintf(stderr, "port %d: %.30s\n", ports[i], ed);
        ck_assert_msg(ok, "port %d: %.40s", ports[i], ed ? ed : "no early data status");
        free(out);
    }
    ck_assert_int_eq(count_in(&n, "stderr.log", "\"ssl_early_data\" is ignored")
                     + count_in(&n, "error.log", "\"ssl_early_data\" is ignored"), 2);
    /* both requests reached certrole (and no other server) */
    char *acc = nt_access(&n);
    for (int i = 0; i < 2; i++) {
        char *w = tu_strf("%d e.test 200 code=ok ", ports[i]);
        ck_assert_msg(nt_count(acc, w) == 2, "%s\n%s", w, acc);
        free(w);
    }
    free(acc);
    nt_stop(&n);
}
END_TEST

static Suite *nginx_resume_suite(void)
{
    Suite *s = suite_create("nginx_resume");
    TCase *tc = tcase_create("resume");
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, tickets_resumed_session_keeps_the_decision);
    tcase_add_test(tc, session_cache_resumed_session_keeps_the_decision);
    tcase_add_test(tc, tls12_resumed_session_keeps_the_decision);
    tcase_add_test(tc, one_verification_per_client);
    tcase_add_test(tc, nginx_reload_applies_to_the_resumed_session);
    tcase_add_test(tc, library_refresh_applies_to_the_resumed_session);
    tcase_add_test(tc, verify_on_and_optional_take_certrole_verdict);
    tcase_add_test(tc, verify_on_resumed_session_gets_the_new_trust_verdict);
    tcase_add_test(tc, a_server_without_certrole_keeps_nginx_verification);
    tcase_add_test(tc, a_verdict_made_for_one_server_is_refused_in_another);
    tcase_add_test(tc, no_early_data_where_certrole_judges_the_handshake);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int rc = nt_init();
    return rc ? rc : nt_run(nginx_resume_suite());
}
