/* 'certrole realm add|remove|list|show', run as an administrator would:
 * what add writes (pin, DN, and the text of the other kinds), that a
 * server loading the realm then grants the roles, refusals that change
 * nothing (untrusted, damaged, duplicate, hostile names), remove, list
 * and show. The atomicity and locking cases are check_cli_realm_write. */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "cli_realm_util.h"
#include "file_parse.h"

#define ORIG "# Acme users\n\n   # indented comment\n" \
             "\"CN=Someone,O=X\" reader user=someone   # trailing\n"
#define GUEST_DN "CN=Guest User,OU=Marketing,O=Acme Corp,L=San Francisco,ST=CA,C=US"

START_TEST(add_pin_and_dn_then_server_grants)
{
    char *out = NULL, *fp = fingerprint(tu_pki("client.pem"));
    int st = crun(&out, "realm add --realm '%s' --policy '%s' --user crm --roles"
                  " invoice-readonly,audit '%s'", realm_path, policy_path, tu_pki("client-chain.pem"));
    ck_assert_msg(st == 0, "%s", out);
    char *pin_line = tu_strf("sha256:%s invoice-readonly,audit user=crm\n", fp);
    HAS(out, pin_line);
    free(out);
    st = crun(&out, "realm add --realm '%s' --policy '%s' --by dn --user guest --roles guest-read"
              " '%s'", realm_path, policy_path, tu_pki("norole-chain.pem"));
    ck_assert_msg(st == 0, "%s", out);
    free(out);
    /* Comments and the old entry are kept byte for byte; the new lines
     * are exactly the agreed syntax. */
    char *want = tu_strf(ORIG "%s\"" GUEST_DN "\" guest-read user=guest\n", pin_line);
    realm_is(want);
    /* A server opening the policy grants exactly these roles. */
    expect_allowed(tu_pki("client-chain.pem"), "crm", "invoice-readonly,audit");
    expect_allowed(tu_pki("norole-chain.pem"), "guest", "guest-read");
    free(want);
    free(pin_line);
    free(fp);
}
END_TEST

START_TEST(untrusted_expired_revoked_refused_unchanged)
{
    static const struct { const char *file, *code; } t[] = {
        { "other-client.pem", "untrusted_issuer" },
        { "expired-chain.pem", "expired" },
        { "revoked-chain.pem", "revoked" },
        { "selfsigned.pem", "self_signed_untrusted" },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char *out = NULL;
        int st = crun(&out, "realm add --realm '%s' --policy '%s' --user x --roles r '%s'",
                      realm_path, policy_path, tu_pki(t[i].file));
        ck_assert_msg(st == 1, "%s: status %d: %s", t[i].file, st, out);
        char *code = tu_strf(": %s: ", t[i].code);
        HAS(out, code);
        HAS(out, "hint: ");
        free(code);
        free(out);
        realm_is(ORIG);
    }
    /* --force adds it, and still says why it is not valid. */
    char *out = NULL;
    int st = crun(&out, "realm add --realm '%s' --policy '%s' --force --by dn --user rev"
                  " --roles r '%s'", realm_path, policy_path, tu_pki("revoked-chain.pem"));
    ck_assert_msg(st == 0, "%s", out);
    HAS(out, "warning: ");
    HAS(out, ": revoked: ");
    HAS(out, "--force");
    realm_is(ORIG "\"CN=Revoked User,OU=Sales,O=Acme Corp,C=US\" r user=rev\n");
    free(out);
}
END_TEST

START_TEST(damaged_certificate_changes_nothing)
{
    char *garbage = tu_strf("%s/garbage.pem", cr_dir), *cut = tu_strf("%s/cut.der", cr_dir);
    tu_write_file(garbage, "-----BEGIN CERTIFICATE-----\nMIIBzzzzzzzz\n-----END CERTIFICATE-----\n");
    size_t len = 0;
    char *der = tu_read_file(tu_pki("client.der"), &len);
    ck_assert_ptr_nonnull(der);
    FILE *f = fopen(cut, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(der, 1, len / 2, f), len / 2);
    fclose(f);
    const char *files[] = { garbage, cut };
    for (int i = 0; i < 2; i++)
        for (int pol = 0; pol < 2; pol++) {
            char *out = NULL, *p = pol ? tu_strf("--policy '%s'", policy_path) : strdup("");
            int st = crun(&out, "realm add --realm '%s' %s --user x --roles r '%s'", realm_path,
                          p, files[i]);
            ck_assert_msg(st == 1, "status %d: %s", st, out);
            HAS(out, pol ? "bad_encoding" : "no certificate decodes");
            realm_is(ORIG);
            free(out);
            free(p);
        }
    /* DER works like PEM. */
    char *out = NULL;
    ck_assert_int_eq(crun(&out, "realm add --realm '%s' --user crm --roles r '%s'", realm_path,
                          tu_pki("client.der")), 0);
    free(out);
    free(der);
    free(garbage);
    free(cut);
}
END_TEST

START_TEST(duplicates_refused)
{
    char *out = NULL;
    tu_write_file(realm_path, ORIG "\"CN=CRMApplication, OU=Sales, O=Acme Corp, L=San Francisco,"
                              " ST=CA, C=US\" r1 user=crm\n");
    /* The same DN in another spelling, for the same user, another user,
     * and a pin beside it (a certificate two entries match is refused). */
    ck_assert_int_eq(crun(&out, "realm add --realm '%s' --by dn --user crm --roles r2 '%s'",
                          realm_path, tu_pki("client.pem")), 1);
    HAS(out, "user crm already has this identity");
    HAS(out, "line 5");
    free(out);
    ck_assert_int_eq(crun(&out, "realm add --realm '%s' --by dn --user other --roles r2 '%s'",
                          realm_path, tu_pki("client.pem")), 1);
    HAS(out, "an entry for this identity already exists");
    HAS(out, "line 5");
    free(out);
    ck_assert_int_eq(crun(&out, "realm add --realm '%s' --user crm --roles r2 '%s'",
                          realm_path, tu_pki("client.pem")), 1);
    HAS(out, "already matches");
    HAS(out, "line 5 by dn");
    free(out);
    realm_is(ORIG "\"CN=CRMApplication, OU=Sales, O=Acme Corp, L=San Francisco, ST=CA, C=US\""
                  " r1 user=crm\n");
}
END_TEST

START_TEST(hostile_names_refused)
{
    static const char *const users[] = {
        "", " lead", "trail ", "a\nb", "a\tb", "a\rb", "x\x7f", "\xc2\x85nel",
        "zero\xe2\x80\x8bwidth", "bidi\xe2\x80\xaeoverride", "bom\xef\xbb\xbf", "\xff\xfe",
        "\xc0\xaf", "over\xed\xa0\x80",
    };
    static const char *const roles[] = {
        "", "a,", ",a", "a,,b", "a b", "a, b", "x\"y", "r\xc3\xb6le", "a,a", "a;b", "a\nb",
    };
    char *out = NULL;
    for (size_t i = 0; i < sizeof users / sizeof users[0]; i++) {
        char *q = tu_strf("%s/user.txt", cr_dir);
        tu_write_file(q, users[i]);
        int st = crun(&out, "realm add --realm '%s' --user \"$(cat '%s')\" --roles r '%s'", realm_path,
                  q, tu_pki("client.pem"));
        ck_assert_msg(st == 2, "user #%zu accepted: %s", i, out);
        free(out);
        realm_is(ORIG);
        free(q);
    }
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
        char *q = tu_strf("%s/roles.txt", cr_dir);
        tu_write_file(q, roles[i]);
        int st = crun(&out, "realm add --realm '%s' --user u --roles \"$(cat '%s')\" '%s'",
                      realm_path, q, tu_pki("client.pem"));
        ck_assert_msg(st == 2, "roles #%zu accepted: %s", i, out);
        free(out);
        realm_is(ORIG);
        free(q);
    }
    /* Quotes, backslashes, blanks inside and UTF-8 are names, written
     * quoted, and the server reports them exactly. */
    int st = crun(&out, "realm add --realm '%s' --policy '%s' --user 'J\xc3\xb6rg \"the\" \\boss'"
                  " --roles r '%s'", realm_path, policy_path, tu_pki("client-chain.pem"));
    ck_assert_msg(st == 0, "%s", out);
    free(out);
    char *fp = fingerprint(tu_pki("client.pem"));
    char *want = tu_strf(ORIG "sha256:%s r user=\"J\xc3\xb6rg \\\"the\\\" \\\\boss\"\n", fp);
    realm_is(want);
    expect_allowed(tu_pki("client-chain.pem"), "J\xc3\xb6rg \"the\" \\boss", "r");
    free(want);
    free(fp);
}
END_TEST

/* The other kinds' exact text: add writes the line, the realm's parser
 * accepts it, and remove takes it out again. */
static void kind_case(const char *cert, const char *by, const char *want)
{
    char *out = NULL;
    int st = crun(&out, "realm add --realm '%s' --by %s --user k --roles r '%s'", realm_path, by,
                  cert);
    cr_fline f;
    size_t col;
    const char *msg;
    ck_assert_msg(cr_fline_parse(want, strlen(want), &f, &col, &msg) == 0, "%s: %s", want, msg);
    ck_assert_msg(st == 0, "--by %s: %s", by, out);
    char *file = tu_strf(ORIG "%s\n", want);
    realm_is(file);
    free(file);
    free(out);
    const char *roles = strstr(want, " r user=k");   /* the token may hold blanks */
    ck_assert_ptr_nonnull(roles);
    char *tok = strndup(want, (size_t)(roles - want));
    ck_assert_int_eq(crun(&out, "realm remove --realm '%s' --entry '%s'", realm_path, tok), 0);
    free(tok);
    free(out);
    realm_is(ORIG);
}

START_TEST(other_kinds_exact_text)
{
    char *c = make_cert("kinds.pem", "/O=Acme Corp/CN=Kinds User",
                        "email:kinds@acme.example,email:second@acme.example,"
                        "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:j doe@corp.example,"
                        "DNS:kinds.acme.example,URI:spiffe://acme.example/ns/billing/sa/kinds",
                        "0x1A2B3C");
    kind_case(c, "email", "email:kinds@acme.example r user=k");
    kind_case(c, "upn", "upn:\"j doe@corp.example\" r user=k");
    kind_case(c, "spiffe", "spiffe:spiffe://acme.example/ns/billing/sa/kinds r user=k");
    kind_case(c, "dns", "dns:kinds.acme.example r user=k");
    kind_case(c, "uri", "uri:spiffe://acme.example/ns/billing/sa/kinds r user=k");
    kind_case(c, "issuer-serial", "issuer-serial:\"CN=Kinds User,O=Acme Corp\":1A2B3C r user=k");
    /* Several e-mail SANs: the first is written, and add says so. */
    char *out = NULL;
    crun(&out, "realm add --realm '%s' --by email --user k --roles r '%s'", realm_path, c);
    HAS(out, "the certificate has 2 e-mail address (rfc822Name) subjectAltNames");
    free(out);
    free(c);
}
END_TEST

/* The realm looks up every subjectAltName of a kind, with ASCII case
 * folded where it folds it: an entry for the second address, its domain
 * in capitals, already matches the certificate. */
START_TEST(every_san_and_case_considered)
{
    char *c = make_cert("two-mails.pem", "/CN=Two Mails",
                        "email:first@acme.example,email:second@acme.example", "0x99");
    const char *entry = "email:second@ACME.example other user=o";
    char *text = tu_strf(ORIG "%s\n", entry), *out = NULL;
    tu_write_file(realm_path, text);
    int st = crun(&out, "realm add --realm '%s' --user t --roles r '%s'", realm_path, c);
    ck_assert_msg(st == 1, "status %d: %s", st, out);
    HAS(out, "already matches");
    HAS(out, "line 5 by email");
    free(out);
    ck_assert_int_eq(crun(&out, "realm show --realm '%s' '%s'", realm_path, c), 0);
    HAS(out, "\tby=email\n");
    free(out);
    ck_assert_int_eq(crun(&out, "realm remove --realm '%s' --entry EMAIL:second@acme.EXAMPLE",
                          realm_path), 0);
    realm_is(ORIG);
    free(out);
    free(text);
    free(c);
}
END_TEST

/* Each kind end to end: added under the policy, then a server opening
 * that policy grants the roles by it. */
START_TEST(other_kinds_granted_when_loaded)
{
    static const struct { const char *by, *token; } t[] = {
        { "spiffe", "spiffe:spiffe://acme.example/crm" }, { "email", "email:crm@acme.example" },
        { "dns", "dns:crm.acme.example" }, { "uri", "uri:spiffe://acme.example/crm" },
        { "issuer-serial", "issuer-serial:\"CN=Acme Issuing CA,O=Acme Corp,C=US\":0" },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char *out = NULL;
        int st = crun(&out, "realm add --realm '%s' --policy '%s' --by %s --user crm --roles r-%s"
                      " '%s'", realm_path, policy_path, t[i].by, t[i].by, tu_pki("client-chain.pem"));
        ck_assert_msg(st == 0, "--by %s: %s", t[i].by, out);
        free(out);
        char *roles = tu_strf("r-%s", t[i].by);
        expect_allowed(tu_pki("client-chain.pem"), "crm", roles);
        free(roles);
        ck_assert_int_eq(crun(&out, "realm remove --realm '%s' --user crm", realm_path), 0);
        free(out);
        realm_is(ORIG);
    }
}
END_TEST

START_TEST(missing_fields_refused)
{
    char *plain = make_cert("plain.pem", "/CN=Plain", "DNS:plain.example", "7");
    char *two = make_cert("two.pem", "/CN=Two", "URI:spiffe://acme.example/a,URI:https://x.example/",
                          "8");
    char *out = NULL;
    static const char *const kinds[][2] = {
        { "email", "has no e-mail address" }, { "upn", "has no UPN" },
        { "uri", "has no URI" }, { "spiffe", "has no SPIFFE ID: it names no spiffe:// URI" },
    };
    for (size_t i = 0; i < 4; i++) {
        ck_assert_int_eq(crun(&out, "realm add --realm '%s' --by %s --user u --roles r '%s'",
                              realm_path, kinds[i][0], plain), 1);
        HAS(out, kinds[i][1]);
        free(out);
    }
    ck_assert_int_eq(crun(&out, "realm add --realm '%s' --by spiffe --user u --roles r '%s'",
                          realm_path, two), 1);
    HAS(out, "has no SPIFFE ID: not a SPIFFE ID: an X.509-SVID has exactly one URI SAN");
    free(out);
    /* a DNS name that is not ASCII: the realm would IDNA-map the entry
     * onto another, ASCII host and never match this certificate */
    char *u = make_cert("ulabel.pem", "/CN=ULabel", "DNS:b\xc3\xbc" "cher.example", "9");
    ck_assert_int_eq(crun(&out, "realm add --realm '%s' --by dns --user u --roles r '%s'",
                          realm_path, u), 1);
    HAS(out, "is not ASCII: the realm never matches it");
    free(out);
    /* --force only overrides the --policy check */
    ck_assert_int_eq(crun(&out, "realm add --realm '%s' --force --user u --roles r '%s'",
                          realm_path, plain), 2);
    HAS(out, "without --policy there is nothing to force");
    free(out);
    realm_is(ORIG);
    /* a second hard link would keep the old entries: refused */
    char *hl = tu_strf("%s.hard", realm_path), *dl = tu_strf("%s.dangling", realm_path);
    ck_assert_int_eq(link(realm_path, hl), 0);
    ck_assert_int_eq(crun(&out, "realm add --realm '%s' --user u --roles r '%s'", realm_path,
                          plain), 2);
    HAS(out, "hard links");
    free(out);
    unlink(hl);
    /* a dangling symbolic link is not turned into a file */
    ck_assert_int_eq(symlink("no-such-target.realm", dl), 0);
    ck_assert_int_eq(crun(&out, "realm add --realm '%s' --user u --roles r '%s'", dl, plain), 2);
    HAS(out, "a symbolic link to a file that does not exist");
    free(out);
    struct stat sb;
    ck_assert_int_eq(lstat(dl, &sb), 0);
    ck_assert(S_ISLNK(sb.st_mode));
    unlink(dl);
    realm_is(ORIG);
    free(hl); free(dl); free(u);
    free(plain);
    free(two);
}
END_TEST

START_TEST(remove_by_user_and_entry)
{
    char *fp = fingerprint(tu_pki("client.pem")), *out = NULL;
    char *text = tu_strf(ORIG "sha256:%s crm-role user=crm\n# keep me\n\"" GUEST_DN "\" g user=guest\n", fp);
    tu_write_file(realm_path, text);
    /* Nothing matches: status 1, nothing written. */
    ck_assert_int_eq(crun(&out, "realm remove --realm '%s' --user nobody", realm_path), 1);
    free(out);
    realm_is(text);
    /* The DN in another spelling. */
    ck_assert_int_eq(crun(&out, "realm remove --realm '%s' --entry '\"CN=Guest User, OU=Marketing,"
                          " O=Acme Corp, L=San Francisco, ST=CA, C=US\"'", realm_path), 0);
    free(out);
    ck_assert_int_eq(crun(&out, "realm remove --realm '%s' --entry '\"/C=US/ST=CA/L=San Francisco/"
                          "O=Acme Corp/OU=Marketing/CN=Guest User\"'", realm_path), 1);
    free(out);
    char *want = tu_strf(ORIG "sha256:%s crm-role user=crm\n# keep me\n", fp);
    realm_is(want);
    ck_assert_int_eq(crun(&out, "realm remove --realm '%s' --user crm", realm_path), 0);
    HAS(out, "removed from ");
    HAS(out, "line 5: sha256:");
    free(out);
    realm_is(ORIG "# keep me\n");
    /* A pin given upper case with colons. */
    tu_write_file(realm_path, text);
    char *colons = calloc(100, 1);
    for (int i = 0; i < 32; i++)
        sprintf(colons + strlen(colons), "%s%c%c", i ? ":" : "", toupper(fp[2 * i]),
                toupper(fp[2 * i + 1]));
    ck_assert_int_eq(crun(&out, "realm remove --realm '%s' --entry SHA256:%s", realm_path, colons), 0);
    free(out);
    realm_is(ORIG "# keep me\n\"" GUEST_DN "\" g user=guest\n");
    ck_assert_int_eq(crun(&out, "realm remove --realm '%s' --entry 'nonsense'", realm_path), 2);
    free(out);
    free(colons);
    free(want);
    free(text);
    free(fp);
}
END_TEST

START_TEST(list_and_show)
{
    char *fp = fingerprint(tu_pki("client.pem")), *out = NULL;
    char *text = tu_strf(ORIG "sha256:%s crm-role, audit user=crm\n\"" GUEST_DN "\" g user=guest\n"
                         "\"" "CN=CRMApplication,OU=Sales,O=Acme Corp,L=San Francisco,ST=CA,C=US\""
                         " dn-role user=crm2\n", fp);
    tu_write_file(realm_path, text);
    ck_assert_int_eq(crun(&out, "realm list --realm '%s'", realm_path), 0);
    char *l5 = tu_strf("5\tsha256:%s\tcrm\tcrm-role,audit\n", fp);
    HAS(out, "4\t\"CN=Someone,O=X\"\tsomeone\treader\n");
    HAS(out, l5);
    HAS(out, "6\t\"" GUEST_DN "\"\tguest\tg\n");
    free(out);
    ck_assert_int_eq(crun(&out, "realm list --json --realm '%s'", realm_path), 0);
    HAS(out, "{\"ok\":true,");
    HAS(out, "{\"line\":6,\"identity\":\"\\\"" GUEST_DN "\\\"\",\"user\":\"guest\",\"roles\":[\"g\"],"
             "\"issuer\":null}");
    HAS(out, "\"roles\":[\"crm-role\",\"audit\"]");
    free(out);
    ck_assert_int_eq(crun(&out, "realm show --realm '%s' --user guest", realm_path), 0);
    HAS(out, "6\t\"" GUEST_DN "\"\tguest\tg\n");
    ck_assert_ptr_null(strstr(out, "crm"));
    free(out);
    ck_assert_int_eq(crun(&out, "realm show --realm '%s' --user nobody", realm_path), 1);
    free(out);
    /* The certificate is matched by its pin and by its DN: both shown,
     * and the ambiguity named. */
    ck_assert_int_eq(crun(&out, "realm show --realm '%s' '%s'", realm_path, tu_pki("client.pem")), 0);
    HAS(out, "\tby=pin\n");
    HAS(out, "\tdn-role\tby=dn\n");
    HAS(out, "the realm refuses it as ambiguous");
    ck_assert_ptr_null(strstr(out, GUEST_DN));
    free(out);
    ck_assert_int_eq(crun(&out, "realm show --json --realm '%s' '%s'", realm_path,
                          tu_pki("norole.pem")), 0);
    HAS(out, "\"user\":\"guest\"");
    HAS(out, "\"by\":\"dn\"");
    free(out);
    ck_assert_int_eq(crun(&out, "realm show --realm '%s' '%s'", realm_path, tu_pki("expired.pem")), 1);
    free(out);
    /* A realm that does not load is an error, not a listing. */
    tu_write_file(realm_path, ORIG "sha256:12 r\n");
    ck_assert_int_eq(crun(&out, "realm list --json --realm '%s'", realm_path), 2);
    HAS(out, "\"ok\":false");
    HAS(out, "users.realm:5:");
    free(out);
    free(l5);
    free(text);
    free(fp);
}
END_TEST

START_TEST(usage_errors)
{
    static const char *const args[] = {
        "realm", "realm frobnicate --realm R", "realm add --user u --roles r C",
        "realm add --realm R --roles r C", "realm add --realm R --user u --roles r",
        "realm add --realm R --user u --roles r --by cn C", "realm add --realm R --user u --roles r --json C",
        "realm remove --realm R", "realm remove --realm R --user u --entry x",
        "realm list --realm R C", "realm show --realm R", "realm show --realm R --user u C",
        "realm list --realm R --force", "realm add --realm R --user u --roles r C D",
    };
    for (size_t i = 0; i < sizeof args / sizeof args[0]; i++) {
        char *out = NULL;
        ck_assert_msg(crun(&out, "%s", args[i]) == 2, "'%s' not a usage error: %s", args[i], out);
        free(out);
    }
    char *out = NULL;
    ck_assert_int_eq(crun(&out, "realm --help"), 0);
    HAS(out, "certrole realm add");
    free(out);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("cli_realm");
    TCase *t = tcase_create("realm");
    tcase_add_checked_fixture(t, realm_setup, realm_teardown);
    tcase_set_timeout(t, 60);
    tcase_add_test(t, add_pin_and_dn_then_server_grants);
    tcase_add_test(t, untrusted_expired_revoked_refused_unchanged);
    tcase_add_test(t, damaged_certificate_changes_nothing);
    tcase_add_test(t, duplicates_refused);
    tcase_add_test(t, hostile_names_refused);
    tcase_add_test(t, other_kinds_exact_text);
    tcase_add_test(t, every_san_and_case_considered);
    tcase_add_test(t, other_kinds_granted_when_loaded);
    tcase_add_test(t, missing_fields_refused);
    tcase_add_test(t, remove_by_user_and_entry);
    tcase_add_test(t, list_and_show);
    tcase_add_test(t, usage_errors);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return tu_run_suite(suite());
}
