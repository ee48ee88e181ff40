/* The troubleshooting cases people bring, and that a diagnosis must not
 * mislead on: a chain listed leaf-last in a file, a file with no single
 * leaf, a missing issuer that is a root rather than an intermediate, a
 * rogue root that copies a trusted root's name, and which CAs the trust
 * profile holds. Through the library and through the certrole command.
 * Certificates beyond tests/pki are made by diagnostics_pki.c. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/x509.h>
#include "verify_util.h"
#include "diagnostics_pki.h"

#define HAS(s, part) ck_assert_msg(strstr((s), (part)) != NULL, "'%s' lacks '%s'", (s), (part))
#define LACKS(s, part) ck_assert_msg(strstr((s), (part)) == NULL, "'%s' has '%s'", (s), (part))
#define NOTE_2_OF_2 "the file lists the chain out of order (leaf is certificate 2 of 2); " \
    "it was verified in the right order"

/* Verifies PEM text under ctx; returns the result (caller frees). */
static certrole_result *verify_text(certrole_ctx *ctx, const char *text, certrole_code want)
{
    certrole_result *res = NULL;
    certrole_code rc = certrole_verify_data(ctx, text, strlen(text), CERTROLE_FORMAT_AUTO,
                                            NULL, &res);
    ck_assert_ptr_nonnull(res);
    ck_assert_msg(rc == want, "got %s (%s), want %s", certrole_code_name(rc),
                  certrole_result_message(res), certrole_code_name(want));
    return res;
}

static certrole_ctx *open_ca_file(const char *path, const char *extra)
{
    char *p = tu_strf("trust ca-file=\"%s\"\n%s", path, extra ? extra : "");
    certrole_ctx *ctx = open_policy(p);
    free(p);
    return ctx;
}


/* Runs "certrole ARGS" (ARGS shell-quoted); output in *out. */
static int run_cli(char **out, const char *args)
{
    char *cmd = tu_strf("'%s' %s 2>&1", tu_build("certrole"), args);
    int st = tu_run(cmd, out);
    free(cmd);
    ck_assert_ptr_nonnull(*out);
    return st;
}

/* ----- 1. the leaf of a file, wherever it is listed ------------------- */

/* Intermediate first, leaf last: was wrong_purpose on the intermediate. */
START_TEST(reversed_pem_is_verified_with_a_note)
{
    certrole_ctx *ctx = open_ca_file(tu_pki("ca-file.pem"), NULL);
    char *text = diag_cat(tu_pki("int-ca.pem"), tu_pki("client.pem"), NULL);
    certrole_result *res = verify_text(ctx, text, CERTROLE_OK);
    ck_assert_str_eq(certrole_result_subject(res), CLIENT_DN);
    ck_assert_int_eq(certrole_result_depth(res), 3);
    HAS(certrole_result_message(res), NOTE_2_OF_2);
    certrole_result_free(res);
    free(text);
    /* leaf first: no note */
    text = diag_cat(tu_pki("client-chain.pem"), NULL, NULL);
    res = verify_text(ctx, text, CERTROLE_OK);
    LACKS(certrole_result_message(res), "out of order");
    certrole_result_free(res);
    free(text);
    certrole_close(ctx);
}
END_TEST

START_TEST(three_reversed_and_a_denial_keep_their_decision)
{
    certrole_ctx *ctx = open_ca_file(tu_pki("ca-file.pem"), NULL);
    char *text = diag_cat(tu_pki("int-ca.pem"), tu_pki("int2-ca.pem"), tu_pki("deep.pem"));
    certrole_result *res = verify_text(ctx, text, CERTROLE_OK);
    ck_assert_int_eq(certrole_result_depth(res), 4);
    HAS(certrole_result_message(res), "(leaf is certificate 3 of 3)");
    certrole_result_free(res);
    free(text);
    /* the normal decision about the real leaf, plus the note */
    text = diag_cat(tu_pki("int-ca.pem"), tu_pki("expired.pem"), NULL);
    res = verify_text(ctx, text, CERTROLE_E_EXPIRED);
    HAS(certrole_result_message(res), "Expired User");
    HAS(certrole_result_message(res), NOTE_2_OF_2);
    certrole_result_free(res);
    free(text);
    certrole_close(ctx);
}
END_TEST

START_TEST(reversed_der_is_verified_with_a_note)
{
    certrole_ctx *ctx = open_ca_file(tu_pki("ca-file.pem"), NULL);
    char *cmd = tu_strf("'%s' x509 -in '%s' -outform DER > '%s' && cat '%s' >> '%s'",
                        tu_env("OPENSSL", "openssl"), tu_pki("int-ca.pem"), diag_pki("rev.der"),
                        tu_pki("client.der"), diag_pki("rev.der"));
    ck_assert_int_eq(tu_run(cmd, NULL), 0);
    size_t len;
    char *d = tu_read_file(diag_pki("rev.der"), &len);
    certrole_result *res = NULL;
    ck_assert_int_eq(certrole_verify_data(ctx, d, len, CERTROLE_FORMAT_DER, NULL, &res),
                     CERTROLE_OK);
    HAS(certrole_result_message(res), NOTE_2_OF_2);
    certrole_result_free(res);
    free(d);
    free(cmd);
    certrole_close(ctx);
}
END_TEST

/* The cache is keyed by the chain, not by how the file listed it: a
 * note must neither be served to a well-ordered file nor be lost. */
START_TEST(note_and_cache)
{
    certrole_ctx *ctx = open_ca_file(tu_pki("ca-file.pem"), "option cache-ttl=300\n");
    char *fwd = diag_cat(tu_pki("client-chain.pem"), NULL, NULL);
    char *rev = diag_cat(tu_pki("int-ca.pem"), tu_pki("client.pem"), NULL);
    certrole_result_free(verify_text(ctx, fwd, CERTROLE_OK));
    for (int i = 0; i < 2; i++) {
        certrole_result *res = verify_text(ctx, rev, CERTROLE_OK);
        HAS(certrole_result_message(res), NOTE_2_OF_2);
        certrole_result_free(res);
    }
    certrole_result *res = verify_text(ctx, fwd, CERTROLE_OK);
    ck_assert_int_eq(certrole_result_cached(res), 1);
    LACKS(certrole_result_message(res), "out of order");
    certrole_result_free(res);
    free(fwd);
    free(rev);
    certrole_close(ctx);
}
END_TEST

START_TEST(two_leaves_refused_with_chain_order)
{
    certrole_ctx *ctx = open_ca_file(tu_pki("ca-file.pem"), NULL);
    /* leaf first: this was allowed, the second leaf silently ignored */
    char *text = diag_cat(tu_pki("client.pem"), tu_pki("norole.pem"), tu_pki("int-ca.pem"));
    certrole_result *res = verify_text(ctx, text, CERTROLE_E_CHAIN_ORDER);
    HAS(certrole_result_message(res), "2 certificates that issued none of the others");
    HAS(certrole_result_message(res), "CN=CRMApplication");
    HAS(certrole_result_message(res), "CN=Guest User");
    HAS(certrole_result_hint(res), "more than one end-entity certificate");
    HAS(certrole_result_hint(res), "put exactly one client certificate, followed by its "
                                   "intermediates");
    ck_assert_int_eq(certrole_result_allowed(res), 0);
    certrole_result_free(res);
    free(text);
    certrole_close(ctx);
}
END_TEST

START_TEST(cycle_refused_with_chain_order)
{
    char *ca = tu_strf("%s", diag_pki("cyc-a0.pem"));
    certrole_ctx *ctx = open_ca_file(ca, NULL);
    char *text = diag_cat(diag_pki("cycle.pem"), NULL, NULL);
    certrole_result *res = verify_text(ctx, text, CERTROLE_E_CHAIN_ORDER);
    HAS(certrole_result_message(res), "(a cycle)");
    certrole_result_free(res);
    free(text);
    free(ca);
    certrole_close(ctx);
}
END_TEST

/* A certificate with the issuer's name (and no key identifier to tell it
 * apart) did not sign the leaf: it is no issuer, so the file holds two
 * certificates that issue nothing. */
START_TEST(same_name_without_signature_is_no_issuer)
{
    certrole_ctx *ctx = open_ca_file(tu_pki("ca-file.pem"), NULL);
    char *text = diag_cat(diag_pki("fake-int.pem"), tu_pki("client.pem"), NULL);
    certrole_result *res = verify_text(ctx, text, CERTROLE_E_CHAIN_ORDER);
    HAS(certrole_result_message(res), "2 certificates");
    certrole_result_free(res);
    free(text);
    certrole_close(ctx);
}
END_TEST

/* Every certificate could be every other's issuer by name: sorting them
 * out would take n*(n-1) signature checks, so it is refused early. */
START_TEST(too_many_candidate_issuers_refused)
{
    certrole_ctx *ctx = open_ca_file(tu_pki("ca-file.pem"), NULL);
    char *text = diag_cat(diag_pki("same-name.pem"), NULL, NULL);
    certrole_result *res = verify_text(ctx, text, CERTROLE_E_CHAIN_ORDER);
    HAS(certrole_result_message(res), "name one another as issuers more than");
    certrole_result_free(res);
    free(text);
    certrole_close(ctx);
}
END_TEST

/* In a handshake the protocol fixes the leaf: nothing is reordered. */
START_TEST(x509_entry_keeps_the_given_leaf)
{
    certrole_ctx *ctx = open_ca_file(tu_pki("ca-file.pem"), NULL);
    X509 *leaf = load_one(tu_pki("int-ca.pem"));
    STACK_OF(X509) *rest = load_pem(tu_pki("client.pem"));
    certrole_result *res = NULL;
    ck_assert_int_eq(certrole_verify_x509(ctx, leaf, rest, &res), CERTROLE_E_WRONG_PURPOSE);
    LACKS(certrole_result_message(res), "out of order");
    certrole_result_free(res);
    X509_free(leaf);
    sk_X509_pop_free(rest, X509_free);
    certrole_close(ctx);
}
END_TEST

START_TEST(cli_verify_and_check_json)
{
    char *out = NULL;
    char *rev = diag_cat(tu_pki("int-ca.pem"), tu_pki("client.pem"), NULL);
    tu_write_file(diag_pki("rev.pem"), rev);
    char *a = tu_strf("verify --ca-file '%s' --json '%s'", tu_pki("ca-file.pem"), diag_pki("rev.pem"));
    ck_assert_int_eq(run_cli(&out, a), 0);
    HAS(out, "\"code\":\"ok\"");
    HAS(out, NOTE_2_OF_2);
    free(out);
    free(a);
    a = tu_strf("verify --ca-file '%s' '%s'", tu_pki("ca-file.pem"), diag_pki("rev.pem"));
    ck_assert_int_eq(run_cli(&out, a), 0);
    HAS(out, "OK: certificate chain is valid");
    HAS(out, NOTE_2_OF_2);
    free(out);
    free(a);
    char *two = diag_cat(tu_pki("client.pem"), tu_pki("norole.pem"), tu_pki("int-ca.pem"));
    tu_write_file(diag_pki("two.pem"), two);
    a = tu_strf("verify --ca-file '%s' --json '%s'", tu_pki("ca-file.pem"), diag_pki("two.pem"));
    ck_assert_int_eq(run_cli(&out, a), 1);
    HAS(out, "\"code\":\"chain_order\"");
    free(out);
    free(a);
    /* check: the decision on the reordered chain, with the note */
    tu_write_file(diag_pki("users.realm"), "\"" CLIENT_DN "\" invoice-readonly user=crm\n");
    char *pol = tu_strf("trust ca-file=\"%s\"\nrealm required file path=\"%s\"\n"
                        "require GET /InvoiceService/list invoice-readonly\n",
                        tu_pki("ca-file.pem"), diag_pki("users.realm"));
    tu_write_file(diag_pki("acme.policy"), pol);
    a = tu_strf("check --policy '%s' --method GET --path /InvoiceService/list --json '%s'",
                diag_pki("acme.policy"), diag_pki("rev.pem"));
    ck_assert_int_eq(run_cli(&out, a), 0);
    HAS(out, "\"decision\":\"allow\"");
    HAS(out, NOTE_2_OF_2);
    free(out);
    free(a);
    free(pol);
    free(rev);
    free(two);
}
END_TEST
/* ----- 2. a missing issuer: what is known, and no more ----------------- */

static certrole_result *verify_one(certrole_ctx *ctx, const char *a, const char *b,
                                   certrole_code want)
{
    char *text = diag_cat(a, b, NULL);
    certrole_result *res = verify_text(ctx, text, want);
    free(text);
    return res;
}

static void no_intermediate_word(const certrole_result *res)
{
    LACKS(certrole_result_message(res), "intermediate");
    LACKS(certrole_result_hint(res), "intermediate");
}

START_TEST(missing_intermediate_is_named)
{
    certrole_ctx *ctx = open_ca_file(tu_pki("ca-file.pem"), NULL);
    certrole_result *res = verify_one(ctx, tu_pki("client.pem"), NULL,
                                      CERTROLE_E_UNTRUSTED_ISSUER);
    HAS(certrole_result_message(res), "issuer not found: " INT_DN
        ", the issuer of the client certificate");
    HAS(certrole_result_message(res), "the trust profile holds 1 CA certificate: " ROOT_DN);
    HAS(certrole_result_hint(res), "get the certificate of " INT_DN);
    certrole_result_free(res);
    certrole_close(ctx);
}
END_TEST

/* Was: "the peer must send the intermediate certificate CN=<the root>". */
START_TEST(untrusted_root_is_not_called_intermediate)
{
    certrole_ctx *ctx = open_ca_file(tu_pki("ca-file.pem"), NULL);
    certrole_result *res = verify_one(ctx, tu_pki("other-client.pem"), NULL,
                                      CERTROLE_E_UNTRUSTED_ISSUER);
    HAS(certrole_result_message(res), OTHER_ROOT_DN);
    HAS(certrole_result_hint(res), "if it is a root CA you trust, add it to ca-file");
    no_intermediate_word(res);
    certrole_result_free(res);
    /* the leaf's authority key identifier says its issuer is a root */
    res = verify_one(ctx, diag_pki("alien-client.pem"), NULL, CERTROLE_E_UNTRUSTED_ISSUER);
    HAS(certrole_result_message(res), "CN=Alien Root CA, the issuer of the client "
        "certificate (CN=Alien Client), was neither sent by the peer nor is it a trusted CA "
        "(a root CA: ");
    HAS(certrole_result_hint(res), "if you trust the root CA CN=Alien Root CA");
    no_intermediate_word(res);
    certrole_result_free(res);
    /* ... or that its issuer was issued by another CA */
    res = verify_one(ctx, diag_pki("alien-deep.pem"), NULL, CERTROLE_E_UNTRUSTED_ISSUER);
    HAS(certrole_result_message(res), "(a CA issued by CN=Alien Root CA");
    HAS(certrole_result_hint(res), "the peer must send the certificate of the intermediate "
        "CA CN=Alien Issuing CA");
    certrole_result_free(res);
    certrole_close(ctx);
}
END_TEST

START_TEST(rogue_root_key_does_not_match)
{
    certrole_ctx *ctx = open_ca_file(tu_pki("ca-file.pem"), NULL);
    certrole_result *res = verify_one(ctx, diag_pki("rogue-client.pem"), NULL,
                                      CERTROLE_E_UNTRUSTED_ISSUER);
    HAS(certrole_result_message(res), "names " ROOT_DN " as its issuer; the trust profile "
        "holds a certificate of that name (a self-signed root), but its key does not match");
    HAS(certrole_result_message(res), "signed by key id ");
    HAS(certrole_result_hint(res), "was not signed by the trusted " ROOT_DN);
    no_intermediate_word(res);
    certrole_result_free(res);
    /* the rogue root sent along: it is no more "a root to add to ca-file" */
    res = verify_one(ctx, diag_pki("rogue-client.pem"), diag_pki("rogue-root.pem"),
                     CERTROLE_E_SELF_SIGNED_UNTRUSTED);
    HAS(certrole_result_message(res), "the trust profile holds a certificate of that name, "
        "but its key does not match");
    HAS(certrole_result_hint(res), "is not the trusted one");
    certrole_result_free(res);
    certrole_close(ctx);
    /* through the command, as a person would run it */
    char *out = NULL;
    char *a = tu_strf("verify --ca-file '%s' --json '%s'", tu_pki("ca-file.pem"),
                      diag_pki("rogue-client.pem"));
    ck_assert_int_eq(run_cli(&out, a), 1);
    HAS(out, "\"code\":\"untrusted_issuer\"");
    HAS(out, "but its key does not match");
    free(out);
    free(a);
    a = tu_strf("verify --ca-file '%s' --json '%s'", tu_pki("ca-file.pem"),
                tu_pki("other-client.pem"));
    ck_assert_int_eq(run_cli(&out, a), 1);
    LACKS(out, "intermediate");
    free(out);
    free(a);
}
END_TEST

START_TEST(two_anchors_are_listed)
{
    char *two = diag_cat(tu_pki("root-ca.pem"), tu_pki("other-root-ca.pem"), NULL);
    tu_write_file(diag_pki("two-anchors.pem"), two);
    certrole_ctx *ctx = open_ca_file(diag_pki("two-anchors.pem"), NULL);
    certrole_result *res = verify_one(ctx, tu_pki("client.pem"), NULL,
                                      CERTROLE_E_UNTRUSTED_ISSUER);
    HAS(certrole_result_message(res), "the trust profile holds 2 CA certificates: ");
    HAS(certrole_result_message(res), ROOT_DN);
    HAS(certrole_result_message(res), OTHER_ROOT_DN);
    certrole_result_free(res);
    certrole_close(ctx);
    free(two);
}
END_TEST

START_TEST(many_anchors_are_counted)
{
    char *a = diag_cat(tu_pki("root-ca.pem"), tu_pki("other-root-ca.pem"), tu_pki("ec/root-ca.pem"));
    char *b = diag_cat(diag_pki("alien-root.pem"), diag_pki("cyc-a0.pem"), diag_pki("cyc-b0.pem"));
    char *six = tu_strf("%s%s", a, b);
    tu_write_file(diag_pki("six-anchors.pem"), six);
    certrole_ctx *ctx = open_ca_file(diag_pki("six-anchors.pem"), NULL);
    certrole_result *res = verify_one(ctx, tu_pki("client.pem"), NULL,
                                      CERTROLE_E_UNTRUSTED_ISSUER);
    HAS(certrole_result_message(res), "the trust profile holds 6 CA certificates");
    LACKS(certrole_result_message(res), OTHER_ROOT_DN);
    certrole_result_free(res);
    certrole_close(ctx);
    free(a);
    free(b);
    free(six);
}
END_TEST

/* ca-file holds only the issuing CA: its issuer is what is missing. */
START_TEST(trusted_ca_that_is_not_a_root)
{
    certrole_ctx *ctx = open_ca_file(tu_pki("int-ca.pem"), NULL);
    certrole_result *res = verify_one(ctx, tu_pki("client.pem"), NULL,
                                      CERTROLE_E_UNTRUSTED_ISSUER);
    HAS(certrole_result_message(res), "the trusted CA " INT_DN " is not a self-signed root");
    HAS(certrole_result_hint(res), "add the certificate of " ROOT_DN);
    no_intermediate_word(res);
    certrole_result_free(res);
    certrole_close(ctx);
}
END_TEST

/* A ca-dir is searched by name, never listed: no claim about its size. */
START_TEST(ca_dir_is_searched_not_listed)
{
    char *p = tu_strf("trust ca-dir=\"%s\"\n", tu_pki("ca-dir"));
    certrole_ctx *ctx = open_policy(p);
    certrole_result *res = verify_one(ctx, tu_pki("client.pem"), NULL,
                                      CERTROLE_E_UNTRUSTED_ISSUER);
    LACKS(certrole_result_message(res), "the trust profile holds");
    certrole_result_free(res);
    res = verify_one(ctx, diag_pki("rogue-client.pem"), NULL, CERTROLE_E_UNTRUSTED_ISSUER);
    HAS(certrole_result_message(res), "but its key does not match");
    certrole_result_free(res);
    certrole_close(ctx);
    free(p);
}
END_TEST

static Suite *diagnostics_suite(void)
{
    Suite *s = suite_create("diagnostics");
    TCase *order = tcase_create("chain_order");
    tcase_set_timeout(order, 60);
    tcase_add_test(order, reversed_pem_is_verified_with_a_note);
    tcase_add_test(order, three_reversed_and_a_denial_keep_their_decision);
    tcase_add_test(order, reversed_der_is_verified_with_a_note);
    tcase_add_test(order, note_and_cache);
    tcase_add_test(order, two_leaves_refused_with_chain_order);
    tcase_add_test(order, cycle_refused_with_chain_order);
    tcase_add_test(order, same_name_without_signature_is_no_issuer);
    tcase_add_test(order, too_many_candidate_issuers_refused);
    tcase_add_test(order, x509_entry_keeps_the_given_leaf);
    tcase_add_test(order, cli_verify_and_check_json);
    suite_add_tcase(s, order);
    TCase *issuer = tcase_create("missing_issuer");
    tcase_set_timeout(issuer, 60);
    tcase_add_test(issuer, missing_intermediate_is_named);
    tcase_add_test(issuer, untrusted_root_is_not_called_intermediate);
    tcase_add_test(issuer, rogue_root_key_does_not_match);
    tcase_add_test(issuer, two_anchors_are_listed);
    tcase_add_test(issuer, many_anchors_are_counted);
    tcase_add_test(issuer, trusted_ca_that_is_not_a_root);
    tcase_add_test(issuer, ca_dir_is_searched_not_listed);
    suite_add_tcase(s, issuer);
    return s;
}

int main(void)
{
    diag_pki_make();
    int rc = tu_run_suite(diagnostics_suite());
    diag_pki_remove();
    return rc;
}
