/* strict=yes: the RFC 5280 rules certrole adds to OpenSSL's strict
 * checks. Each certificate made here breaks one rule: the default
 * profile accepts it (OpenSSL 3.0 does not look), strict=yes refuses it
 * with chain_invalid and a message naming the rule and the certificate's
 * depth. Well-formed chains, a 20-octet serial and a wildcard no excluded
 * subtree reaches pass both profiles. Made with openssl at test time. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/x509.h>
#include "verify_util.h"

#define HAS(s, part) ck_assert_msg(strstr((s), (part)) != NULL, "'%s' lacks '%s'", (s), (part))

static char *gen;   /* scratch directory with the certificates */

/* root -> ica (critical nameConstraints: DNS and e-mail under
 * corp.example, secret.corp.example excluded) -> leaves; one CA per
 * other defect, each with a well-formed leaf below it. */
static const char MKCERTS[] =
    "set -e\n"
    "O=\"$OPENSSL\"\n"
    "printf '[req]\\ndistinguished_name=dn\\n[dn]\\n[ca]\\nbasicConstraints=critical,CA:TRUE\\n"
    "keyUsage=critical,keyCertSign,cRLSign\\nsubjectKeyIdentifier=hash\\n' > req.cnf\n"
    "printf 'basicConstraints=critical,CA:TRUE\\nkeyUsage=critical,keyCertSign,cRLSign\\n"
    "subjectKeyIdentifier=hash\\nauthorityKeyIdentifier=keyid:always\\n' > ca.ext\n"
    "printf 'basicConstraints=critical,CA:FALSE\\nkeyUsage=critical,digitalSignature\\n"
    "extendedKeyUsage=clientAuth\\nsubjectKeyIdentifier=hash\\n"
    "authorityKeyIdentifier=keyid:always\\n' > leaf.ext\n"
    "NC='permitted;DNS:corp.example,permitted;email:corp.example,"
    "excluded;DNS:secret.corp.example'\n"
    "{ cat ca.ext; echo \"nameConstraints=critical,$NC\"; } > ca-nc.ext\n"
    "{ cat ca.ext; echo \"nameConstraints=$NC\"; } > ca-nc-noncrit.ext\n"
    "{ cat ca.ext; echo 'nameConstraints=critical,permitted;DNS:corp.example,"
    "excluded;DNS:a.secret.corp.example'; } > ca-deep.ext\n"
    "{ cat ca.ext; echo 'policyConstraints=requireExplicitPolicy:3'; } > ca-pc.ext\n"
    "{ cat ca.ext; echo 'inhibitAnyPolicy=2'; } > ca-iap.ext\n"
    "{ cat ca.ext; echo 'nameConstraints=critical,permitted;DNS:.corp.example'; } > ca-dot.ext\n"
    "{ cat leaf.ext; echo 'subjectAltName=DNS:host.corp.example,email:alice@corp.example'; }"
    " > good.ext\n"
    "{ cat good.ext; echo 'nameConstraints=critical,permitted;DNS:corp.example'; } > leaf-nc.ext\n"
    "{ cat leaf.ext; echo 'subjectAltName=DNS:host_1.corp.example'; } > baddns.ext\n"
    "{ cat leaf.ext; echo 'subjectAltName=DNS:.corp.example'; } > dotdns.ext\n"
    "{ cat leaf.ext; echo 'subjectAltName=email:alice@home@corp.example'; } > badmail.ext\n"
    "{ cat leaf.ext; echo 'subjectAltName=DNS:*.corp.example'; } > wild.ext\n"
    "key() { \"$O\" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $1.key; }\n"
    /* sign NAME SUBJECT ISSUER EXTFILE SERIAL */
    "sign() { key $1; \"$O\" req -new -config req.cnf -key $1.key -subj \"$2\" -out $1.csr; "
    "\"$O\" x509 -req -in $1.csr -CA $3.pem -CAkey $3.key -set_serial $5 -days 3650 "
    "-extfile $4 -out $1.pem; }\n"
    "key root\n"
    "\"$O\" req -x509 -new -config req.cnf -extensions ca -key root.key -subj '/CN=Strict Root'"
    " -days 3650 -set_serial 1 -out root.pem\n"
    "S20=0x7f0102030405060708090a0b0c0d0e0f10111213\n"
    "S20H=0x800102030405060708090a0b0c0d0e0f10111213\n"
    "S21=0x0102030405060708090a0b0c0d0e0f101112131415\n"
    "sign ica '/CN=Constrained CA' root ca-nc.ext 2\n"
    "sign ica-noncrit '/CN=Loose CA' root ca-nc-noncrit.ext 3\n"
    "sign ica-pc '/CN=Policy CA' root ca-pc.ext 4\n"
    "sign ica-long '/CN=Long Serial CA' root ca.ext $S21\n"
    "sign ica-deep '/CN=Deep Exclusion CA' root ca-deep.ext 5\n"
    "sign ica-iap '/CN=Inhibit CA' root ca-iap.ext 6\n"
    "sign ica-dot '/CN=Dotted CA' root ca-dot.ext 7\n"
    "sign good '/CN=Good Client' ica good.ext $S20\n"
    "sign long '/CN=Long Serial Client' ica good.ext $S21\n"
    "sign long-sign '/CN=Sign Octet Client' ica good.ext $S20H\n"
    "sign under-noncrit '/CN=Loose Client' ica-noncrit good.ext 10\n"
    "sign under-pc '/CN=Policy Client' ica-pc good.ext 11\n"
    "sign under-long '/CN=Under Long CA' ica-long good.ext 12\n"
    "sign leaf-nc '/CN=Constraining Client' ica leaf-nc.ext 13\n"
    "sign baddns '/CN=Bad DNS Client' ica baddns.ext 14\n"
    "sign dotdns '/CN=Dot DNS Client' ica dotdns.ext 15\n"
    "sign badmail '/CN=Bad Mail Client' ica badmail.ext 16\n"
    "sign wild '/CN=Wildcard Client' ica wild.ext 17\n"
    "sign wild-deep '/CN=Wildcard Deep Client' ica-deep wild.ext 18\n"
    "sign under-iap '/CN=Inhibit Client' ica-iap good.ext 19\n"
    "sign under-dot '/CN=Dotted Client' ica-dot good.ext 20\n";

/* Outside any test: no ck_assert here. Exits on failure. */
static void make_certs(void)
{
    char *cmd = NULL;
    FILE *f = NULL;
    if (asprintf(&gen, "%s/certrole-strict-XXXXXX", tu_env("TMPDIR", "/tmp")) < 0 ||
        !mkdtemp(gen) || asprintf(&cmd, "%s/mk.sh", gen) < 0 || !(f = fopen(cmd, "w"))) {
        fprintf(stderr, "cannot create a scratch directory\n");
        exit(EXIT_FAILURE);
    }
    fputs(MKCERTS, f);
    fclose(f);
    free(cmd);
    if (asprintf(&cmd, "cd '%s' && OPENSSL='%s' sh ./mk.sh > mk.log 2>&1 || "
                 "{ cat mk.log; exit 1; }", gen, tu_env("OPENSSL", "openssl")) < 0 ||
        system(cmd) != 0) {
        fprintf(stderr, "cannot make the test certificates in %s\n", gen);
        exit(EXIT_FAILURE);
    }
    free(cmd);
}

static void remove_certs(void)
{
    char *cmd = NULL;
    if (gen && strstr(gen, "/certrole-strict-") && asprintf(&cmd, "rm -rf '%s'", gen) >= 0 &&
        system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", gen);
    free(cmd);
    free(gen);
}

/* Verifies NAME.pem sent with ICA.pem, trusting root.pem only. */
static certrole_result *verify(const char *name, const char *ica, int strict)
{
    char *p = tu_strf("trust ca-file=\"%s/root.pem\" strict=%s\n", gen, strict ? "yes" : "no");
    char *lp = tu_strf("%s/%s.pem", gen, name), *ip = tu_strf("%s/%s.pem", gen, ica);
    certrole_ctx *ctx = open_policy(p);
    X509 *leaf = load_one(lp);
    STACK_OF(X509) *untrusted = load_pem(ip);
    certrole_result *res = NULL;
    certrole_code rc = certrole_verify_x509(ctx, leaf, untrusted, &res);
    ck_assert_ptr_nonnull(res);
    ck_assert_int_eq(certrole_result_code(res), rc);
    X509_free(leaf);
    sk_X509_pop_free(untrusted, X509_free);
    certrole_close(ctx);
    free(p);
    free(lp);
    free(ip);
    return res;
}

static void accepted(const char *name, const char *ica, int strict)
{
    certrole_result *res = verify(name, ica, strict);
    ck_assert_msg(certrole_result_code(res) == CERTROLE_OK, "%s, strict=%s: %s (%s)", name,
                  strict ? "yes" : "no", certrole_code_name(certrole_result_code(res)),
                  certrole_result_message(res));
    certrole_result_free(res);
}

/* Accepted by default; refused by strict=yes, the message naming the
 * rule (section), the certificate (depth) and what is wrong. */
static void strict_refuses(const char *name, const char *ica, const char *rule,
                           const char *who, const char *what)
{
    accepted(name, ica, 0);
    certrole_result *res = verify(name, ica, 1);
    assert_denied(res, CERTROLE_E_CHAIN_INVALID, rule, NULL);
    HAS(certrole_result_message(res), who);
    HAS(certrole_result_message(res), what);
    certrole_result_free(res);
}

#define LEAF "the client certificate at depth 0 (CN="
#define CA1 "the CA certificate at depth 1 (CN="

START_TEST(well_formed_chain_passes_both)
{
    accepted("good", "ica", 0);
    accepted("good", "ica", 1);   /* 20-octet serial, names under the constraints */
}
END_TEST

START_TEST(wildcard_outside_excluded_passes_both)
{
    /* "*.corp.example" stands for one label only: never a.secret.corp.example */
    accepted("wild-deep", "ica-deep", 0);
    accepted("wild-deep", "ica-deep", 1);
}
END_TEST

START_TEST(serial_of_21_octets)
{
    strict_refuses("long", "ica", "RFC 5280 4.1.2.2", LEAF "Long Serial Client)",
                   "serial number is 21 octets long; at most 20 are allowed");
}
END_TEST

START_TEST(serial_of_20_octets_plus_sign_octet)
{
    /* 20 value octets, the first >= 0x80: DER needs a leading zero octet */
    strict_refuses("long-sign", "ica", "RFC 5280 4.1.2.2", LEAF "Sign Octet Client)",
                   "serial number is 21 octets long");
}
END_TEST

START_TEST(serial_of_21_octets_in_a_ca)
{
    strict_refuses("under-long", "ica-long", "RFC 5280 4.1.2.2", CA1 "Long Serial CA)",
                   "serial number is 21 octets long");
}
END_TEST

START_TEST(name_constraints_not_critical)
{
    strict_refuses("under-noncrit", "ica-noncrit", "RFC 5280 4.2.1.10", CA1 "Loose CA)",
                   "nameConstraints extension is not marked critical");
}
END_TEST

START_TEST(policy_constraints_not_critical)
{
    strict_refuses("under-pc", "ica-pc", "RFC 5280 4.2.1.11", CA1 "Policy CA)",
                   "policyConstraints extension is not marked critical");
}
END_TEST

START_TEST(inhibit_any_policy_not_critical)
{
    strict_refuses("under-iap", "ica-iap", "RFC 5280 4.2.1.14", CA1 "Inhibit CA)",
                   "inhibitAnyPolicy extension is not marked critical");
}
END_TEST

START_TEST(dns_constraint_with_leading_dot)
{
    strict_refuses("under-dot", "ica-dot", "RFC 5280 4.2.1.10", CA1 "Dotted CA)",
                   "dNSName constraint \".corp.example\" is not a domain name in preferred "
                   "name syntax (leading dot)");
}
END_TEST

START_TEST(name_constraints_in_end_entity)
{
    strict_refuses("leaf-nc", "ica", "RFC 5280 4.2.1.10", LEAF "Constraining Client)",
                   "nameConstraints extension in an end-entity certificate");
}
END_TEST

START_TEST(malformed_dns_san_under_constraints)
{
    strict_refuses("baddns", "ica", "RFC 5280 4.2.1.6", LEAF "Bad DNS Client)",
                   "dNSName SAN \"host_1.corp.example\" is not a domain name");
    strict_refuses("dotdns", "ica", "RFC 5280 4.2.1.6", LEAF "Dot DNS Client)",
                   "dNSName SAN \".corp.example\" is not a domain name in preferred name "
                   "syntax (leading dot), and the CA at depth 1 constrains DNS names");
}
END_TEST

START_TEST(malformed_email_san_under_constraints)
{
    strict_refuses("badmail", "ica", "RFC 5280 4.2.1.6", LEAF "Bad Mail Client)",
                   "rfc822Name SAN \"alice@home@corp.example\" is not a mailbox "
                   "(more than one '@')");
}
END_TEST

START_TEST(wildcard_san_reaching_excluded_subtree)
{
    strict_refuses("wild", "ica", "RFC 5280 4.2.1.10", LEAF "Wildcard Client)",
                   "wildcard dNSName SAN \"*.corp.example\" stands for names in the subtree "
                   "\"secret.corp.example\" that the CA at depth 1 excludes");
}
END_TEST

int main(void)
{
    make_certs();
    Suite *s = suite_create("strict RFC 5280 checks");
    TCase *tc = tcase_create("strict");
    tcase_add_test(tc, well_formed_chain_passes_both);
    tcase_add_test(tc, wildcard_outside_excluded_passes_both);
    tcase_add_test(tc, serial_of_21_octets);
    tcase_add_test(tc, serial_of_20_octets_plus_sign_octet);
    tcase_add_test(tc, serial_of_21_octets_in_a_ca);
    tcase_add_test(tc, name_constraints_not_critical);
    tcase_add_test(tc, policy_constraints_not_critical);
    tcase_add_test(tc, inhibit_any_policy_not_critical);
    tcase_add_test(tc, dns_constraint_with_leading_dot);
    tcase_add_test(tc, name_constraints_in_end_entity);
    tcase_add_test(tc, malformed_dns_san_under_constraints);
    tcase_add_test(tc, malformed_email_san_under_constraints);
    tcase_add_test(tc, wildcard_san_reaching_excluded_subtree);
    suite_add_tcase(s, tc);
    int rc = tu_run_suite(s);
    remove_certs();
    return rc;
}
