#!/usr/bin/env bash
# Differential test: for the same certificates (made here by openssl) and
# the same SSSD rules, certrole and SSSD's own sssctl cert-eval-rule agree
# on match / no match and on the LDAP search filter.
#   certrole's side: match through the certmap realm (`certrole check`
#   under a policy whose realm is that rule); the filter through the code
#   the LDAP realm uses for certmap-map= (tests/certmap_eval). The policy
#   says purpose=any, so that certificates without clientAuth (the EKU and
#   KU cases) reach the realm at all.
#   SSSD's side: sssctl, which refuses to run until an sssd.conf names a
#   domain; it gets a minimal one on a tmpfs over /etc/sssd in a private
#   mount namespace (unshare -m), so the machine's /etc/sssd is never
#   touched. That needs root: without it the test fails, it does not skip.
set -uo pipefail

build=${CERTROLE_BUILDDIR:-$(pwd)}
openssl=${OPENSSL:-openssl}
certrole="$build/certrole"
evalp="$build/tests/certmap_eval"
export CERTROLE_REALM_DIR=${CERTROLE_REALM_DIR:-$build/.libs}
passed=0 failed=0 errors=0
pass() { passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
error() { echo "ERROR: $*"; errors=$((errors + 1)); }
summary() {
    local total=$((passed + failed + errors))
    echo "$(( total ? passed * 100 / total : 0 ))%: Checks: $total, Failures: $failed, Errors: $errors"
    [ "$failed" -eq 0 ] && [ "$errors" -eq 0 ] && [ "$total" -gt 0 ]
}

# Missing prerequisites are errors: this test is part of the suite.
[ "$(id -u)" -eq 0 ] || { error "must run as root (unshare -m and a tmpfs over /etc/sssd for sssctl)"; summary; exit 1; }
sssctl=$(PATH="$PATH:/usr/sbin:/sbin" command -v sssctl) || { error "sssctl not found (Debian: sssd-tools)"; summary; exit 1; }
command -v unshare >/dev/null || { error "unshare not found"; summary; exit 1; }
[ -d /etc/sssd ] || { error "/etc/sssd is missing (it comes with sssd-common); nothing to mount over"; summary; exit 1; }
for p in "$certrole" "$evalp"; do
    [ -x "$p" ] || { error "$p is not built"; summary; exit 1; }
done

etc_before=$(ls -la --time-style=full-iso /etc/sssd 2>&1)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/certmap-diff.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
printf '[sssd]\nservices = nss\ndomains = test\n\n[domain/test]\nid_provider = files\n' > sssd.conf
chmod 0600 sssd.conf
printf '[req]\ndistinguished_name=dn\n[dn]\n' > min.cnf

ca() { "$openssl" req -config min.cnf -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
           -keyout "$1.key" -out "$1.pem" -subj "$2" -days 2 2>/dev/null; }
# issue NAME CA SUBJECT [-addext ...]
issue() {
    local name=$1 by=$2 subj=$3; shift 3
    "$openssl" req -config min.cnf -x509 -CA "$by.pem" -CAkey "$by.key" -newkey ec \
        -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$name.key" -out "$name.pem" \
        -subj "$subj" -days 2 -addext basicConstraints=critical,CA:FALSE "$@" 2>"$name.err" ||
        { error "openssl cannot make $name: $(cat "$name.err")"; summary; exit 1; }
}
ca acme-ca '/O=Acme/CN=Acme CA' && ca other-ca '/O=Other/CN=Other CA' || { error "openssl cannot make the CAs"; summary; exit 1; }
issue alice acme-ca '/O=Acme/CN=alice' -addext keyUsage=critical,digitalSignature \
    -addext extendedKeyUsage=clientAuth \
    -addext 'subjectAltName=email:alice@acme.example,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:alice@corp.example'
issue bob acme-ca '/O=Acme/CN=bob' -addext keyUsage=critical,keyEncipherment \
    -addext extendedKeyUsage=serverAuth -addext subjectAltName=email:bob@acme.example
issue other other-ca '/O=Acme/CN=alice' -addext extendedKeyUsage=clientAuth
# LDAP filter metacharacters ( ) * \ in the subject, the email and the UPN
issue meta acme-ca '/O=Acme/CN=*)(uid=*)\\x' -addext extendedKeyUsage=clientAuth \
    -addext 'subjectAltName=email:x*)(mail=*@acme.example,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:*)(uid=*'
"$evalp" nul-upn acme-ca.pem acme-ca.key nul.pem || { error "cannot make the NUL-UPN certificate"; summary; exit 1; }
cat acme-ca.pem other-ca.pem > anchors.pem

# SSSD's verdict: "match FILTER" or "nomatch"; anything else is an error.
sss() {
    local b64 out
    b64=$("$openssl" x509 -in "$3.pem" -outform DER | base64 -w0)
    out=$(unshare -m --propagation private sh -c \
        'mount -t tmpfs -o mode=0700 tmpfs /etc/sssd && install -m 0600 "$1" /etc/sssd/sssd.conf &&
         shift && exec "$@"' sh "$tmp/sssd.conf" "$sssctl" cert-eval-rule "$b64" --match="$1" --map="$2" 2>&1)
    case "$out" in
        *"Certificate matches rule."*) echo "match $(printf '%s\n' "$out" | sed -n 's/^    //p' | head -n 1)" ;;
        *"Certificate does not match rule."*) echo nomatch ;;
        *) echo "error: $out" ;;
    esac
}

# certrole's verdict, the same way.
cr() {
    local rule out f
    rule=$(printf '%s' "$1" | sed 's/[\\"]/\\&/g')
    printf 'match="%s" roles=t\n' "$rule" > r.rules
    printf 'trust ca-file=anchors.pem purpose=any\nrealm required certmap rules=r.rules\n' > p.policy
    out=$("$certrole" check --policy p.policy --json "$3.pem" 2>&1)
    f=$("$evalp" filter "$1" "$2" "$3.pem" 2>&1)
    case "$out" in
        *'"decision":"allow"'*'"realm":"certmap"'*)
            case "$f" in "filter: "*) echo "match ${f#filter: }" ;; *) echo "error: realm matched, filter: $f" ;; esac ;;
        *'"decision":"deny"'*'no rule matches the certificate'*)
            [ "$f" = "no match" ] && echo nomatch || echo "error: realm did not match, filter: $f" ;;
        *) echo "error: $out" ;;
    esac
}

# agree MATCH MAP CERT EXPECTED: both sides give the same verdict, which
# is the EXPECTED one (match or nomatch), so agreement is never vacuous.
agree() {
    local s c
    s=$(sss "$1" "$2" "$3")
    c=$(cr "$1" "$2" "$3")
    case "$s$c" in *error:*) error "$3 '$1' '$2': sssctl: $s | certrole: $c"; return ;; esac
    if [ "${s%% *}" != "$4" ]; then
        fail "$3 '$1': expected $4, sssctl says '$s' (certrole: '$c')"
    elif [ "$s" = "$c" ]; then
        pass
        echo "ok: $3 '$1' '$2': ${s:0:100}"
    else
        fail "$3 '$1' '$2': sssctl says '$s', certrole says '$c'"
    fi
}

dn='LDAP:(seeAlso={subject_dn})'
bin='LDAP:(userCertificate;binary={cert!bin})'
agree '<SUBJECT>^CN=alice,O=Acme$' "$dn" alice match
agree '<SUBJECT>^CN=alice,O=Acme$' "$dn" bob nomatch
agree '<ISSUER>^CN=Acme CA,O=Acme$' 'LDAP:(x={issuer_dn})' alice match
agree '<ISSUER>^CN=Acme CA,O=Acme$' 'LDAP:(x={issuer_dn})' other nomatch
agree '<SAN:rfc822Name>^alice@acme\.example$' 'LDAP:(mail={subject_rfc822_name})' alice match
agree '<SAN:rfc822Name>^alice@acme\.example$' 'LDAP:(mail={subject_rfc822_name})' bob nomatch
agree '<SAN:ntPrincipalName>^alice@corp\.example$' 'LDAP:(uid={subject_nt_principal})' alice match
agree '<SAN:ntPrincipalName>^alice@corp\.example$' 'LDAP:(uid={subject_nt_principal})' bob nomatch
agree '<KU>digitalSignature' "$bin" alice match
agree '<KU>digitalSignature' "$bin" bob nomatch
agree '<EKU>clientAuth' "$bin" alice match
agree '<EKU>clientAuth' "$bin" bob nomatch
agree '<EKU>serverAuth' "$dn" bob match
agree '&&<SUBJECT>alice<EKU>serverAuth' "$dn" alice nomatch
agree '&&<SUBJECT>alice<EKU>serverAuth' "$dn" bob nomatch
agree '||<SUBJECT>alice<EKU>serverAuth' "$dn" alice match
agree '||<SUBJECT>alice<EKU>serverAuth' "$dn" bob match
agree '&&<ISSUER>Acme CA<KU>keyEncipherment' "$bin" bob match
agree '&&<ISSUER>Acme CA<KU>keyEncipherment' "$bin" alice nomatch
# hostile values: both escape them the same way; certrole's filter also
# passed its shape check (certmap_eval refuses otherwise)
agree '<SUBJECT>uid=' "$dn" meta match
agree '<SAN:rfc822Name>mail=' 'LDAP:(mail={subject_rfc822_name})' meta match
agree '<SAN:ntPrincipalName>uid=' 'LDAP:(uid={subject_nt_principal})' meta match
agree '<SUBJECT>.' 'LDAPU1:(cn={subject_dn_component.cn})' meta match
f=$("$evalp" filter '<SUBJECT>.' 'LDAP:(mail={subject_rfc822_name})' meta.pem)
if [ "$f" = 'filter: (mail=x\2a\29\28mail=\2a@acme.example)' ]; then pass; else fail "meta's email filter: $f"; fi

# A UPN with a NUL inside ("alice\0@evil.example"): certrole refuses the
# certificate (bad_name) before any realm runs. libsss_certmap, in sssctl
# and under certrole alike, reads the UPN up to the NUL, as "alice".
upn='<SAN:ntPrincipalName>^alice$'
printf 'match="%s" roles=t\n' "$upn" > r.rules
out=$("$certrole" check --policy p.policy --json nul.pem 2>&1)
case "$out" in
    *'"decision":"deny"'*'"code":"bad_name"'*) pass; echo "ok: certrole refuses the NUL UPN (bad_name)" ;;
    *) fail "certrole on the NUL UPN: $out" ;;
esac
s=$(sss "$upn" 'LDAP:(uid={subject_nt_principal})' nul)
echo "sssctl on the NUL UPN: $s"
if [ "$s" = "match (uid=alice)" ]; then pass; else fail "sssctl on the NUL UPN changed: $s"; fi

# The machine's /etc/sssd saw none of it.
if [ "$(ls -la --time-style=full-iso /etc/sssd 2>&1)" = "$etc_before" ]; then pass; else fail "/etc/sssd changed"; fi

summary
