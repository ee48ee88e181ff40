/* The file realm's identity kinds beside the DN: email:, upn:, dns:,
 * uri:, spiffe: (exact and prefix) and issuer-serial: entries, end to end
 * through a policy. Each certificate is issued at test time by
 * `openssl x509 -req` from the test PKI's issuing CA with the
 * subjectAltName under test, and verified with its chain. */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include "certrole.h"
#include "realm_file_util.h"

#define LEAF_DN "CN=kinds test,O=Acme Corp"

static char *csr_dir;
static const char *ext_extra = "";   /* more extension lines for the next leaves */

static void setup(void)
{
    e2e_setup();
    csr_dir = rf_dir;
    ext_extra = "";
    char *cmd = tu_strf("cd '%s' && '%s' req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
                        "-nodes -keyout k.pem -subj '/O=Acme Corp/CN=kinds test' -out r.csr 2>&1",
                        csr_dir, tu_env("OPENSSL", "openssl"));
    char *out = NULL;
    ck_assert_msg(tu_run(cmd, &out) == 0, "%s", out ? out : "");
    free(out);
    free(cmd);
}

static void teardown(void)
{
    e2e_teardown();
}

/* Issues a leaf with these subjectAltName lines ("email.1 = a@b\n...",
 * openssl's section form, so values keep commas and quotes) and serial,
 * and verifies it with its chain. */
static certrole_result *run(certrole_ctx *ctx, const char *alt, const char *serial)
{
    char *ext = tu_strf("%s/ext.cnf", csr_dir), *text = tu_strf(
        "extendedKeyUsage=clientAuth\n%ssubjectAltName=@alt\n[alt]\n%s\n", ext_extra, alt);
    tu_write_file(ext, text);
    char *cmd = tu_strf("cd '%s' && '%s' x509 -req -in r.csr -CA '%s' -CAkey '%s' "
                        "-set_serial %s -days 30 -extfile ext.cnf -out leaf.pem 2>&1",
                        csr_dir, tu_env("OPENSSL", "openssl"), tu_pki("int-ca.pem"),
                        tu_pki("int-ca.key"), serial ? serial : "4242");
    char *out = NULL;
    ck_assert_msg(tu_run(cmd, &out) == 0, "openssl x509 -req with %s: %s", alt, out ? out : "");
    char *leaf_path = tu_strf("%s/leaf.pem", csr_dir);
    char *leaf = tu_read_file(leaf_path, NULL), *inter = tu_read_file(tu_pki("int-ca.pem"), NULL);
    char *chain = tu_strf("%s%s", leaf, inter);
    certrole_result *res = NULL;
    certrole_verify_pem(ctx, chain, strlen(chain), &res);
    ck_assert_ptr_nonnull(res);
    free(chain); free(inter); free(leaf); free(leaf_path);
    free(out); free(cmd); free(text); free(ext);
    return res;
}

/* Asserts the outcome for a leaf with subjectAltName lines alt: the code
 * and, when allowed, exactly the one role. */
static void want_serial(certrole_ctx *ctx, const char *alt, const char *serial,
                        certrole_code code, const char *role)
{
    certrole_result *res = run(ctx, alt, serial);
    ck_assert_msg(certrole_result_code(res) == code, "[%s]: %s (%s), want %s", alt,
                  certrole_code_name(certrole_result_code(res)), certrole_result_message(res),
                  certrole_code_name(code));
    if (code == CERTROLE_OK) {
        ck_assert_uint_eq(certrole_result_role_count(res), 1);
        ck_assert_msg(certrole_result_has_role(res, role), "[%s]: role %s, want %s", alt,
                      certrole_result_role(res, 0), role);
    }
    certrole_result_free(res);
}

static void want(certrole_ctx *ctx, const char *alt, certrole_code code, const char *role)
{
    want_serial(ctx, alt, NULL, code, role);
}

/* Message of a refused peer contains this. */
static void want_refused(certrole_ctx *ctx, const char *alt, const char *msg)
{
    certrole_result *res = run(ctx, alt, NULL);
    ck_assert_msg(certrole_result_code(res) == CERTROLE_E_REALM_REFUSED, "[%s]: %s (%s)", alt,
                  certrole_code_name(certrole_result_code(res)), certrole_result_message(res));
    ck_assert_msg(strstr(certrole_result_message(res), msg), "[%s]: %s", alt,
                  certrole_result_message(res));
    certrole_result_free(res);
}

#define NOPE CERTROLE_E_UNKNOWN_IDENTITY

START_TEST(each_kind_matches)
{
    certrole_ctx *ctx = open_realm(
        "email:alice@Acme.Example      r-email\n"
        "UPN:bob@CORP.example          r-upn\n"
        "dns:Host.Acme.Example         r-dns\n"
        "uri:HTTPS://Api.Acme.Example:8443/Path?q=A   r-uri\n"
        "spiffe:spiffe://acme.example/ns/billing/sa/api  r-spiffe\n"
        "issuer-serial:\"cn=acme issuing ca, o=ACME corp, c=us\":00:0A:1B:2C  r-is\n", NULL);
    want(ctx, "email.1 = alice@acme.example", CERTROLE_OK, "r-email");
    want(ctx, "otherName.1 = 1.3.6.1.4.1.311.20.2.3;UTF8:bob@corp.EXAMPLE", CERTROLE_OK, "r-upn");
    want(ctx, "DNS.1 = host.acme.example", CERTROLE_OK, "r-dns");
    want(ctx, "URI.1 = https://API.acme.example:8443/Path?q=A", CERTROLE_OK, "r-uri");
    want(ctx, "URI.1 = spiffe://acme.example/ns/billing/sa/api", CERTROLE_OK, "r-spiffe");
    want_serial(ctx, "DNS.1 = unrelated.example", "0x0A1B2C", CERTROLE_OK, "r-is");
    want_serial(ctx, "DNS.1 = unrelated.example", "0x0A1B2D", NOPE, NULL);
    certrole_close(ctx);
}
END_TEST

/* What is exact stays exact: local parts, URI paths and queries, the
 * whole UPN before the '@'. */
START_TEST(case_variants)
{
    certrole_ctx *ctx = open_realm(
        "email:Alice@acme.example   r-email\n"
        "upn:Bob@corp.example       r-upn\n"
        "uri:https://api.acme.example/Path?q=A  r-uri\n", NULL);
    want(ctx, "email.1 = Alice@ACME.EXAMPLE", CERTROLE_OK, "r-email");
    want(ctx, "email.1 = alice@acme.example", NOPE, NULL);
    want(ctx, "otherName.1 = 1.3.6.1.4.1.311.20.2.3;UTF8:bob@corp.example", NOPE, NULL);
    want(ctx, "otherName.1 = 1.3.6.1.4.1.311.20.2.3;UTF8:Bob@Corp.Example", CERTROLE_OK, "r-upn");
    want(ctx, "URI.1 = https://api.acme.example/path?q=A", NOPE, NULL);
    want(ctx, "URI.1 = https://api.acme.example/Path?q=a", NOPE, NULL);
    /* '*' is a character, not a wildcard */
    certrole_close(ctx);
    ctx = open_realm("email:*@acme.example r-star\n", NULL);
    want(ctx, "email.1 = alice@acme.example", NOPE, NULL);
    want(ctx, "email.1 = *@acme.example", CERTROLE_OK, "r-star");
    certrole_close(ctx);
}
END_TEST

/* Every SAN is looked up, not only the first of its type. */
START_TEST(every_san_is_considered)
{
    certrole_ctx *ctx = open_realm("email:b@acme.example r-b\ndns:two.example r-dns\n", NULL);
    want(ctx, "email.1 = a@acme.example\nemail.2 = b@acme.example", CERTROLE_OK, "r-b");
    want(ctx, "DNS.1 = one.example\nDNS.2 = two.example", CERTROLE_OK, "r-dns");
    certrole_close(ctx);
    /* default-user=email names the peer by an address only when it has
     * one: with several, the first need not be the one that matched */
    ctx = open_realm("email:b@acme.example r-b\n", "default-user=email");
    certrole_result *res = run(ctx, "email.1 = b@acme.example", NULL);
    ck_assert_int_eq(certrole_result_code(res), CERTROLE_OK);
    ck_assert_str_eq(certrole_result_user(res), "b@acme.example");
    certrole_result_free(res);
    want_refused(ctx, "email.1 = ceo@acme.example\nemail.2 = b@acme.example",
                 "default-user=email cannot tell which one names the peer");
    certrole_close(ctx);
}
END_TEST

/* Two different entries matching one peer are refused, across kinds;
 * the same entry reached twice is one match. */
START_TEST(ambiguity_across_kinds_is_refused)
{
    certrole_ctx *ctx = open_realm(
        "\"" LEAF_DN "\"          r-dn\n"
        "email:alice@acme.example r-email\n"
        "email:bob@acme.example   r-bob\n"
        "dns:host.acme.example    r-dns\n", NULL);
    want_refused(ctx, "email.1 = alice@acme.example", "lines 1 (DN) and 2 (email:) both match");
    certrole_close(ctx);

    ctx = open_realm("email:alice@acme.example r-email\nemail:bob@acme.example r-bob\n"
                     "dns:host.acme.example r-dns\n", NULL);
    want_refused(ctx, "email.1 = alice@acme.example\nemail.2 = bob@acme.example",
                 "lines 1 (email:) and 2 (email:)");
    want_refused(ctx, "DNS.1 = host.acme.example\nemail.1 = bob@acme.example",
                 "both match the peer");
    /* two spellings of one address reach line 1 twice: one match */
    want(ctx, "email.1 = alice@acme.example\nemail.2 = alice@ACME.example", CERTROLE_OK,
         "r-email");
    certrole_close(ctx);

    /* an exact SPIFFE entry and a prefix above it: both match */
    ctx = open_realm("spiffe:spiffe://acme.example/ns/a r-exact\n"
                     "spiffe:spiffe://acme.example/ns/* r-prefix\n", NULL);
    want_refused(ctx, "URI.1 = spiffe://acme.example/ns/a", "lines 1 (spiffe:) and 2");
    want(ctx, "URI.1 = spiffe://acme.example/ns/b", CERTROLE_OK, "r-prefix");
    certrole_close(ctx);
}
END_TEST

START_TEST(spiffe_prefixes_stop_at_slashes)
{
    certrole_ctx *ctx = open_realm(
        "spiffe:spiffe://acme.example/ns/bill/*  r-bill\n"
        "spiffe:\"spiffe://other.example/*\"       r-td\n", NULL);
    want(ctx, "URI.1 = spiffe://acme.example/ns/billing/x", NOPE, NULL);
    want(ctx, "URI.1 = spiffe://acme.example/ns/bill", NOPE, NULL);
    want(ctx, "URI.1 = spiffe://acme.example/ns/bill/x", CERTROLE_OK, "r-bill");
    want(ctx, "URI.1 = spiffe://acme.example/ns/bill/x/y/z", CERTROLE_OK, "r-bill");
    want(ctx, "URI.1 = spiffe://other.example/a/b", CERTROLE_OK, "r-td");
    want(ctx, "URI.1 = spiffe://other.example.evil/a", NOPE, NULL);
    want(ctx, "URI.1 = spiffe://acme.example/ns/bill/..", NOPE, NULL);
    certrole_close(ctx);
}
END_TEST

/* spiffe: entries match the validated SPIFFE ID only: a certificate with
 * two URI SANs, or a spiffe URI with a query, has none. */
START_TEST(hostile_svids_match_no_spiffe_entry)
{
    static const char *const realms[] = { "spiffe:spiffe://acme.example/a r-a\n",
                                          "spiffe:spiffe://acme.example/* r-a\n" };
    for (size_t i = 0; i < 2; i++) {
        certrole_ctx *ctx = open_realm(realms[i], NULL);
        want(ctx, "URI.1 = spiffe://acme.example/a\nURI.2 = spiffe://acme.example/b", NOPE, NULL);
        want(ctx, "URI.1 = spiffe://acme.example/a\nURI.2 = https://acme.example/", NOPE, NULL);
        want(ctx, "URI.1 = spiffe://acme.example/a?x=1", NOPE, NULL);
        want(ctx, "URI.1 = spiffe://ACME.example/a", NOPE, NULL);
        want(ctx, "URI.1 = spiffe://acme.example/a%2Fb", NOPE, NULL);
        want(ctx, "URI.1 = spiffe://acme.example/a", CERTROLE_OK, "r-a");
        certrole_close(ctx);
    }
    /* a uri: entry is a URI entry: it never stands for a SPIFFE ID */
    certrole_ctx *ctx = open_realm("uri:spiffe://acme.example/a r-uri\n", NULL);
    want(ctx, "URI.1 = spiffe://acme.example/a\nURI.2 = https://x.example/", CERTROLE_OK,
         "r-uri");
    certrole_close(ctx);
}
END_TEST

START_TEST(idna_domains)
{
    certrole_ctx *ctx = open_realm(
        "email:\"alice@bücher.example\"  r-email\n"
        "dns:\"BÜCHER.example\"          r-dns\n", NULL);
    want(ctx, "email.1 = alice@xn--bcher-kva.example", CERTROLE_OK, "r-email");
    want(ctx, "email.1 = alice@XN--BCHER-KVA.example", CERTROLE_OK, "r-email");
    want(ctx, "DNS.1 = xn--bcher-kva.example", CERTROLE_OK, "r-dns");
    /* not a valid A-label: normalises to nothing, matches nothing */
    want(ctx, "DNS.1 = xn--zz.example", NOPE, NULL);
    /* wildcard SANs and trailing dots match no dns: entry */
    want(ctx, "DNS.1 = *.example", NOPE, NULL);
    want(ctx, "DNS.1 = xn--bcher-kva.example.", NOPE, NULL);
    /* a certificate's name is never mapped: a U-label, capitals outside
     * ASCII or fullwidth letters in a SAN match nothing, even where UTS #46
     * would map them onto an entry */
    want(ctx, "DNS.1 = bücher.example", NOPE, NULL);
    want(ctx, "DNS.1 = BÜCHER.example", NOPE, NULL);
    want(ctx, "email.1 = alice@bücher.example", NOPE, NULL);
    certrole_close(ctx);
    ctx = open_realm("dns:bank.example r-dns\nemail:bob@bank.example r-email\n", NULL);
    want(ctx, "DNS.1 = bank.example", CERTROLE_OK, "r-dns");
    want(ctx, "DNS.1 = \xef\xbd\x82\xef\xbd\x81\xef\xbd\x8e\xef\xbd\x8b.example", NOPE, NULL);
    want(ctx, "DNS.1 = bank\xe3\x80\x82" "example", NOPE, NULL);
    want(ctx, "email.1 = bob@\xef\xbd\x82" "ank.example", NOPE, NULL);
    certrole_close(ctx);
    /* both spellings in one file are one identity */
    realm_error("email:\"alice@bücher.example\" a\nemail:alice@XN--BCHER-KVA.example b\n", NULL,
                "users.realm:2: duplicate entry: the same identity is already on line 1");
    realm_error("dns:xn--bcher-kva.example a\ndns:\"bücher.example\" b\n", NULL,
                "users.realm:2: duplicate entry");
    realm_error("issuer-serial:\"CN=Acme Issuing CA,O=Acme Corp,C=US\":0a1b2c a\n"
                "issuer-serial:\"cn=acme issuing ca,o=acme corp,c=us\":00:0A:1B:2C b\n", NULL,
                "users.realm:2: duplicate entry");
}
END_TEST

/* Metacharacters and quotes are characters; quoted values keep spaces. */
START_TEST(metacharacters_quotes_and_spaces)
{
    certrole_ctx *ctx = open_realm(
        "email:a*(b)@acme.example            r-meta\n"
        "email:\"q\\\"x@acme.example\"          r-quote\n"
        "upn:\"john smith@corp.example\"      r-space\n"
        "uri:ldap:///o=x??sub?(uid=*)        r-ldap\n", NULL);
    want(ctx, "email.1 = a*(b)@acme.example", CERTROLE_OK, "r-meta");
    want(ctx, "email.1 = ab@acme.example", NOPE, NULL);
    want(ctx, "email.1 = q\\\"x@acme.example", CERTROLE_OK, "r-quote");
    want(ctx, "otherName.1 = 1.3.6.1.4.1.311.20.2.3;UTF8:john smith@corp.example", CERTROLE_OK,
         "r-space");
    want(ctx, "otherName.1 = 1.3.6.1.4.1.311.20.2.3;UTF8:john@corp.example", NOPE, NULL);
    want(ctx, "URI.1 = ldap:///o=x??sub?(uid=*)", CERTROLE_OK, "r-ldap");
    want(ctx, "URI.1 = ldap:///o=x??sub?(uid=bob)", NOPE, NULL);
    certrole_close(ctx);
}
END_TEST

static void *read_pem(const char *path, int key)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "%s", path);
    void *v = key ? (void *)PEM_read_PrivateKey(f, NULL, NULL, NULL)
                  : (void *)PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    ck_assert_msg(v != NULL, "%s", path);
    return v;
}

/* Issues (with the OpenSSL API: openssl's configuration syntax cannot
 * write a NUL into a UTF8String) a leaf whose UPN otherName holds the len
 * bytes of upn, and verifies it with its chain. */
static certrole_result *run_upn_bytes(certrole_ctx *ctx, const char *upn, size_t len)
{
    X509 *ca = read_pem(tu_pki("int-ca.pem"), 0), *x = X509_new();
    EVP_PKEY *ca_key = read_pem(tu_pki("int-ca.key"), 1);
    char *kp = tu_strf("%s/k.pem", csr_dir);
    EVP_PKEY *key = read_pem(kp, 1);
    X509_NAME *n = X509_NAME_new();
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    GENERAL_NAME *g = GENERAL_NAME_new();
    ASN1_TYPE *val = ASN1_TYPE_new();
    ASN1_UTF8STRING *s = ASN1_UTF8STRING_new();
    ck_assert(x && n && gens && g && val && s && ASN1_STRING_set(s, upn, (int)len));
    ASN1_TYPE_set(val, V_ASN1_UTF8STRING, s);
    ck_assert(GENERAL_NAME_set0_othername(g, OBJ_txt2obj("1.3.6.1.4.1.311.20.2.3", 1), val));
    ck_assert(sk_GENERAL_NAME_push(gens, g));
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, ca, x, NULL, NULL, 0);
    X509_EXTENSION *eku = X509V3_EXT_conf_nid(NULL, &v3, NID_ext_key_usage, "clientAuth");
    ck_assert(X509_set_version(x, 2) && ASN1_INTEGER_set(X509_get_serialNumber(x), 4243) &&
              X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
              X509_gmtime_adj(X509_getm_notAfter(x), 86400) &&
              X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
                                         (const unsigned char *)"kinds test", -1, -1, 0) &&
              X509_set_subject_name(x, n) && X509_set_issuer_name(x, X509_get_subject_name(ca)) &&
              X509_set_pubkey(x, key) && eku && X509_add_ext(x, eku, -1) &&
              X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, 0) == 1 &&
              X509_sign(x, ca_key, EVP_sha256()) > 0);
    BIO *b = BIO_new(BIO_s_mem());
    ck_assert(b && PEM_write_bio_X509(b, x) && PEM_write_bio_X509(b, ca));
    char *pem = NULL;
    long pl = BIO_get_mem_data(b, &pem);
    certrole_result *res = NULL;
    certrole_verify_pem(ctx, pem, (size_t)pl, &res);
    ck_assert_ptr_nonnull(res);
    BIO_free(b);
    X509_EXTENSION_free(eku);
    GENERAL_NAMES_free(gens);
    X509_NAME_free(n);
    X509_free(x);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(key);
    free(kp);
    return res;
}

/* A UPN with a NUL inside could be read as its first part: the
 * certificate is bad_name, and no upn: entry is asked. */
START_TEST(upn_with_a_nul_is_never_matched)
{
    certrole_ctx *ctx = open_realm("upn:alice@corp.example r-upn\n", NULL);
    static const char nul[] = "alice@corp.example\0.evil.example";
    certrole_result *res = run_upn_bytes(ctx, nul, sizeof nul - 1);
    ck_assert_msg(certrole_result_code(res) == CERTROLE_E_BAD_NAME, "%s",
                  certrole_result_message(res));
    ck_assert_uint_eq(certrole_result_role_count(res), 0);
    certrole_result_free(res);
    /* the same certificate without the NUL tail is the entry's */
    res = run_upn_bytes(ctx, nul, strlen(nul));
    ck_assert_msg(certrole_result_code(res) == CERTROLE_OK, "%s", certrole_result_message(res));
    ck_assert(certrole_result_has_role(res, "r-upn"));
    certrole_result_free(res);
    certrole_close(ctx);
}
END_TEST

/* A UPN that is not a UTF8String makes the certificate bad_name: a upn:
 * entry never sees it. */
START_TEST(upn_of_another_type_is_never_matched)
{
    certrole_ctx *ctx = open_realm("upn:alice@corp.example r-upn\n", NULL);
    want(ctx, "otherName.1 = 1.3.6.1.4.1.311.20.2.3;IA5STRING:alice@corp.example",
         CERTROLE_E_BAD_NAME, NULL);
    want(ctx, "otherName.1 = 1.3.6.1.4.1.311.20.2.3;UTF8:alice@corp.example", CERTROLE_OK,
         "r-upn");
    certrole_close(ctx);
}
END_TEST

START_TEST(parse_errors_point_at_the_column)
{
    realm_error("# x\nemail: r\n", NULL, "users.realm:2:7: empty value");
    realm_error("dns:*.acme.example r\n", NULL, "users.realm:1:5: bad dns: value: wildcards");
    realm_error("dns:a.example. r\n", NULL, "users.realm:1:5: bad dns: value: the host name ends");
    realm_error("\n\n  spiffe:spiffe://Acme.example/a r\n", NULL,
                "users.realm:3:10: bad spiffe: value: the trust domain is not lower-case");
    realm_error("spiffe:spiffe://acme.example/a?x=1 r\n", NULL,
                "users.realm:1:8: bad spiffe: value: it has a query");
    realm_error("spiffe:spiffe://acme.example/a* r\n", NULL,
                "users.realm:1:8: bad spiffe: value: the path has a character");
    realm_error("issuer-serial:\"CN=x\":0g r\n", NULL,
                "users.realm:1:23: bad hex digit in the serial");
    realm_error("issuer-serial:\"CN=x\":0:1 r\n", NULL, "users.realm:1:23: misplaced ':'");
    realm_error("issuer-serial:CN=x:01 r\n", NULL, "users.realm:1:15: issuer-serial: takes");
    realm_error("email:\"alice@xn--zz.example\" r\n", NULL,
                "users.realm:1:7: bad email: value: the host name is not a valid IDNA2008 name");
    realm_error("email:alice r\n", NULL, "users.realm:1:7: bad email: value: expected LOCAL@DOMAIN");
    realm_error("email:\"al ice@x.example\" r\n", NULL,
                "users.realm:1:7: bad email: value: the local part must be printable ASCII");
    realm_error("uri:\"https://x/ä\" r\n", NULL, "users.realm:1:5: bad uri: value:");
    realm_error("uri:nocolon r\n", NULL, "users.realm:1:5: bad uri: value: expected SCHEME:");
    realm_error("upn:\"a\\x@b\" r\n", NULL, "users.realm:1:7: in a quoted value only");
    realm_error("upn:a\"b@c r\n", NULL, "users.realm:1:6: quote or backslash in an unquoted");
    realm_error("upn:bö@c r\n", NULL, "users.realm:1:6: non-ASCII character in an unquoted");
    realm_error("upn:\"bo\xcc\x88@c\" r\n", NULL,
                "users.realm:1:5: bad upn: value: the part before '@' must be UTF-8 text in"
                " Unicode NFC");
    realm_error("mail:a@b r\n", NULL, "users.realm:1:1: expected a DN in double quotes");
    realm_error("email:\"a@b.example r\n", NULL, "users.realm:1:7: unterminated quoted value");
    realm_error("email:a@b.example\n", NULL, "users.realm:1:18: no roles after the identity");
}
END_TEST

/* eku=, ku= and leaf-policy=: an entry whose conditions do not hold does not
 * match (and so is not half of an ambiguity either). */
START_TEST(conditions_on_entries)
{
    certrole_ctx *ctx = open_realm(
        "email:a@acme.example r-a eku=1.3.6.1.5.5.7.3.2 ku=digitalSignature,keyAgreement"
        " leaf-policy=1.2.3.4\n"
        "email:b@acme.example r-b eku=1.3.6.1.5.5.7.3.2,1.3.6.1.5.5.7.3.4\n"
        "email:c@acme.example r-c ku=keyEncipherment\n"
        "email:d@acme.example r-d leaf-policy=1.2.3.4,1.2.3.5\n"
        "email:e@acme.example r-e ku=digitalSignature\n"
        "\"" LEAF_DN "\" r-dn\n", NULL);
    ext_extra = "keyUsage=critical,digitalSignature,keyAgreement\ncertificatePolicies=1.2.3.4\n";
    /* a's conditions hold: it and the DN entry both match */
    want_refused(ctx, "email.1 = a@acme.example", "lines 6 (DN) and 1 (email:)");
    /* the others' do not: only the DN entry is left */
    want(ctx, "email.1 = b@acme.example", CERTROLE_OK, "r-dn");
    want(ctx, "email.1 = c@acme.example", CERTROLE_OK, "r-dn");
    want(ctx, "email.1 = d@acme.example", CERTROLE_OK, "r-dn");
    certrole_close(ctx);

    ctx = open_realm("email:a@acme.example r-a eku=1.3.6.1.5.5.7.3.2 ku=digitalSignature,"
                     "keyAgreement leaf-policy=1.2.3.4\n"
                     "email:e@acme.example r-e ku=digitalSignature\n", NULL);
    want(ctx, "email.1 = a@acme.example", CERTROLE_OK, "r-a");
    want(ctx, "email.1 = e@acme.example", CERTROLE_OK, "r-e");
    /* no keyUsage extension: no key usage is carried */
    ext_extra = "certificatePolicies=1.2.3.4\n";
    want(ctx, "email.1 = e@acme.example", NOPE, NULL);
    /* anyPolicy does not stand for 1.2.3.4 */
    ext_extra = "keyUsage=digitalSignature,keyAgreement\ncertificatePolicies=2.5.29.32.0\n";
    certrole_result *res = run(ctx, "email.1 = a@acme.example", NULL);
    ck_assert_int_eq(certrole_result_code(res), NOPE);
    ck_assert_msg(strstr(certrole_result_message(res), "users.realm:1: the certificate does not"
                         " carry the key usages or policies the entry requires"), "%s",
                  certrole_result_message(res));
    certrole_result_free(res);
    certrole_close(ctx);

    realm_error("email:a@b.example r ku=digitalSignature,bogus\n", NULL,
                "users.realm:1:41: unknown key usage");
    realm_error("email:a@b.example r eku=1.3.6.01\n", NULL,
                "users.realm:1:25: expected a dotted OID");
    realm_error("email:a@b.example r leaf-policy=\n", NULL, "users.realm:1:33: expected a dotted OID");
    realm_error("email:a@b.example r eku=1.2,,3\n", NULL, "users.realm:1:29: expected a dotted");
    realm_error("email:a@b.example r ku=cRLSign ku=keyCertSign\n", NULL,
                "users.realm:1:32: condition given twice");
}
END_TEST

static Suite *kinds_suite(void)
{
    Suite *s = suite_create("realm_file_kinds");
    TCase *tc = tcase_create("kinds");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, each_kind_matches);
    tcase_add_test(tc, case_variants);
    tcase_add_test(tc, every_san_is_considered);
    tcase_add_test(tc, ambiguity_across_kinds_is_refused);
    tcase_add_test(tc, spiffe_prefixes_stop_at_slashes);
    tcase_add_test(tc, hostile_svids_match_no_spiffe_entry);
    tcase_add_test(tc, idna_domains);
    tcase_add_test(tc, metacharacters_quotes_and_spaces);
    tcase_add_test(tc, upn_of_another_type_is_never_matched);
    tcase_add_test(tc, upn_with_a_nul_is_never_matched);
    tcase_add_test(tc, parse_errors_point_at_the_column);
    tcase_add_test(tc, conditions_on_entries);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run_suite(kinds_suite()); }
