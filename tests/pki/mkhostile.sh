#!/bin/sh
# Hostile certificates for tests/check_hostile*, made with openssl from the
# test PKI's issuing CA:   mkhostile.sh PKIDIR OUTDIR
# and revocation at test time (a new CRL from the same CA database):
#                          mkhostile.sh --revoke OUTDIR NAME
#
# Every certificate here is correctly signed by "Acme Issuing CA" (so the
# chain itself is trusted) and hostile only in its content:
#   dninject      CN="x,O=Acme Corp" (one RDN that reads like two)
#   twocn         two CN attributes
#   nulcn         a NUL byte inside the CN
#   nulsan        a NUL byte inside an rfc822Name SAN
#   lookalike-o   the CRMApplication DN with a Cyrillic 'А' in "Acme"
#   lookalike-cn  the CRMApplication DN with a Cyrillic 'А' in the CN
#   dotted-i      the CRMApplication DN with CN "CRMApplİcation" (U+0130)
#   zwsp-cn       the CRMApplication DN with U+200B (zero-width space) in the CN
#   shy-cn        the CRMApplication DN with U+00AD (soft hyphen) in the CN
#   zwsp-san      CN "ZW SAN", email SAN "crm<U+200B>@acme.example"
#   zwsp-ca       intermediate with U+200B in its CN, and its leaf zwsp-issued
#                 (the CRMApplication DN)
#   sharp-s       CN "Straße"; ligature CN "Oﬃce Admin" (U+FB03);
#   kelvin        CN "<U+212A>iosk" (Kelvin sign); greek CN "ΟΔΥΣΣΕΥΣ"
#   emptysubj     empty subject, identity only in a critical SAN
#   deep13        a leaf under 12 stacked intermediates (hdeep-chain.pem)
#   many-chain    40 certificates in one PEM
#   bigext        a 1.5 MB non-critical extension
#   critext       an unknown critical extension
#   manysan       4000 DNS SANs
#   ldap-email    email SAN "*"          (LDAP filter metacharacters)
#   ldap-email2   email SAN "*)(uid=crm"
#   ldap-subjmail no SAN, subject emailAddress "*"
#   evilca        intermediate with CN "x)(uid=crm" and its leaf ldap-issuer
#   victim        a plain client ("CN=Victim User") revoked later with --revoke
# crl-int-0.pem and crl-int-0b.pem are the issuing CA's CRLs before any
# --revoke (revoked.pem listed, as in the base PKI; two CRL numbers); --revoke writes crl-int-N.pem, N counting up,
# and prints its path.
#
# NUL bytes cannot be typed into openssl's -subj: the value is written with
# a marker into a self-signed certificate, its DER is patched, it is
# re-signed by itself, then issued by the CA (openssl x509 -CA keeps the
# subject and extensions). Everything else: a request and openssl x509 -req.
set -eu
OPENSSL=${OPENSSL:-openssl}

CNF_TEXT='
[ ca ]
default_ca = h_ca
[ h_ca ]
dir              = $ENV::H_DB
database         = $dir/index.txt
new_certs_dir    = $dir/new
crlnumber        = $dir/crlnumber
serial           = $dir/serial
default_md       = sha256
default_crl_days = 3650
policy           = h_any
preserve         = yes
unique_subject   = no
copy_extensions  = none
[ h_any ]
countryName            = optional
organizationName       = optional
organizationalUnitName = optional
commonName             = supplied
[ req ]
distinguished_name = h_dn
prompt = no
[ h_dn ]
CN = placeholder
[ ext_leaf ]
basicConstraints = critical, CA:FALSE
extendedKeyUsage = clientAuth
subjectAltName   = $ENV::H_SAN
[ ext_leaf_nosan ]
basicConstraints = critical, CA:FALSE
extendedKeyUsage = clientAuth
[ ext_leaf_critsan ]
basicConstraints = critical, CA:FALSE
extendedKeyUsage = clientAuth
subjectAltName   = critical, $ENV::H_SAN
[ ext_ca ]
basicConstraints = critical, CA:TRUE
keyUsage         = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ ext_crit ]
basicConstraints = critical, CA:FALSE
extendedKeyUsage = clientAuth
1.3.6.1.4.1.55555.1 = critical, ASN1:UTF8String:certrole hostile critical extension
'

# ---- revocation at test time ----------------------------------------------
if [ "${1:-}" = "--revoke" ]; then
    [ $# -eq 3 ] || { echo "usage: $0 --revoke OUTDIR NAME" >&2; exit 2; }
    OUT=$2
    H_DB="$OUT/.db" H_SAN=email:x@x
    export H_DB H_SAN
    "$OPENSSL" ca -batch -config "$OUT/.db/h.cnf" -cert "$OUT/.db/int-ca.pem" \
        -keyfile "$OUT/.db/int-ca.key" -revoke "$OUT/$3.pem" -crl_reason keyCompromise \
        2>"$OUT/.db/ca.log" || { cat "$OUT/.db/ca.log" >&2; exit 1; }
    n=$(cat "$OUT/.db/crl-count")
    n=$((n + 1))
    echo $n > "$OUT/.db/crl-count"
    "$OPENSSL" ca -batch -config "$OUT/.db/h.cnf" -cert "$OUT/.db/int-ca.pem" \
        -keyfile "$OUT/.db/int-ca.key" -gencrl -out "$OUT/crl-int-$n.pem" \
        2>"$OUT/.db/ca.log" || { cat "$OUT/.db/ca.log" >&2; exit 1; }
    echo "$OUT/crl-int-$n.pem"
    exit 0
fi

[ $# -eq 2 ] || { echo "usage: $0 PKIDIR OUTDIR | --revoke OUTDIR NAME" >&2; exit 2; }
PKI=$(cd "$1" && pwd)
mkdir -p "$2"
OUT=$(cd "$2" && pwd)
W="$OUT/.work"
rm -rf "$W" "$OUT/.db"
mkdir -p "$W" "$OUT/.db/new"
CNF="$OUT/.db/h.cnf"
printf '%s\n' "$CNF_TEXT" > "$CNF"
H_DB="$OUT/.db" H_SAN="email:nobody@acme.example"
export H_DB H_SAN
# Serials far from mkpki.sh's (which start at 0x1000).
echo 7000 > "$OUT/.db/serial"
echo 01 > "$OUT/.db/crlnumber"
echo 0 > "$OUT/.db/crl-count"
: > "$OUT/.db/index.txt"
cp "$PKI/int-ca.pem" "$PKI/int-ca.key" "$OUT/.db/"

key() { "$OPENSSL" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

SERIAL=$((0x7100))
# mk NAME ISSUER SUBJ EXT [SAN] [CONFIG]: NAME.pem/.key in OUT, issued by
# ISSUER (a NAME in OUT, or "int" for the PKI's issuing CA). Values
# containing NULMARKX get that marker replaced by a NUL byte.
mk() {
    _n=$1 _iss=$2 _subj=$3 _ext=$4
    H_SAN=${5:-email:nobody@acme.example}
    _cnf=${6:-$CNF}
    key "$OUT/$_n.key"
    if [ "$_iss" = int ]; then _ic="$PKI/int-ca.pem" _ik="$PKI/int-ca.key"
    else _ic="$OUT/$_iss.pem" _ik="$OUT/$_iss.key"; fi
    SERIAL=$((SERIAL + 1))
    case "$_subj$H_SAN" in
    *NULMARKX*)
        "$OPENSSL" req -new -x509 -config "$_cnf" -utf8 -key "$OUT/$_n.key" -subj "$_subj" \
            -extensions "$_ext" -days 1 -out "$W/self.pem" 2>"$W/err.log" \
            || { cat "$W/err.log" >&2; exit 1; }
        "$OPENSSL" x509 -in "$W/self.pem" -outform DER -out "$W/self.der"
        perl -0777 -pe 's/NULMARKX/NULMARK\x00/g' "$W/self.der" > "$W/patched.der"
        cmp -s "$W/self.der" "$W/patched.der" && { echo "mkhostile: $_n: no marker patched" >&2; exit 1; }
        "$OPENSSL" x509 -inform DER -in "$W/patched.der" -key "$OUT/$_n.key" \
            -out "$W/self.pem" 2>"$W/err.log" || { cat "$W/err.log" >&2; exit 1; }
        "$OPENSSL" x509 -in "$W/self.pem" -CA "$_ic" -CAkey "$_ik" -set_serial "$SERIAL" \
            -days 3650 -out "$OUT/$_n.pem" 2>"$W/err.log" || { cat "$W/err.log" >&2; exit 1; }
        ;;
    *)
        "$OPENSSL" req -new -config "$_cnf" -utf8 -key "$OUT/$_n.key" -subj "$_subj" \
            -out "$W/req.csr" 2>"$W/err.log" || { cat "$W/err.log" >&2; exit 1; }
        "$OPENSSL" x509 -req -in "$W/req.csr" -CA "$_ic" -CAkey "$_ik" -set_serial "$SERIAL" \
            -days 3650 -extfile "$_cnf" -extensions "$_ext" -out "$OUT/$_n.pem" \
            2>"$W/err.log" || { cat "$W/err.log" >&2; exit 1; }
        ;;
    esac
    chmod 600 "$OUT/$_n.key"
}
chain() { _n=$1; shift; cat "$OUT/$_n.pem" "$@" "$PKI/int-ca.pem" > "$OUT/$_n-chain.pem"; }

CLIENT_TAIL="/C=US/ST=CA/L=San Francisco"
mk dninject int "/C=US/O=Acme Corp/CN=x,O=Acme Corp" ext_leaf
mk twocn int "/C=US/O=Acme Corp/OU=Sales/CN=CRMApplication/CN=admin" ext_leaf
mk nulcn int "/C=US/O=Acme Corp/OU=Sales/CN=CRMApplicationNULMARKXadmin" ext_leaf
mk nulsan int "/C=US/O=Acme Corp/OU=Sales/CN=NUL SAN" ext_leaf \
    "email:crm@acme.exampleNULMARKX.evil.example"
mk lookalike-o int "$CLIENT_TAIL/O=Аcme Corp/OU=Sales/CN=CRMApplication" ext_leaf
mk lookalike-cn int "$CLIENT_TAIL/O=Acme Corp/OU=Sales/CN=CRMАpplication" ext_leaf
mk emptysubj int "/" ext_leaf_critsan "email:crm@acme.example"
mk critext int "/C=US/O=Acme Corp/OU=Sales/CN=Critical Extension" ext_crit
for x in dninject twocn nulcn nulsan lookalike-o lookalike-cn emptysubj critext; do chain $x; done

# Lookalike names (tests/check_wrong_allow_names.c). Invisible characters
# are written with printf so that the script shows where they are.
ZWSP=$(printf '\342\200\213') SHY=$(printf '\302\255')
mk dotted-i int "$CLIENT_TAIL/O=Acme Corp/OU=Sales/CN=CRMAppl$(printf '\304\260')cation" ext_leaf
mk zwsp-cn int "$CLIENT_TAIL/O=Acme Corp/OU=Sales/CN=CRM${ZWSP}Application" ext_leaf
mk shy-cn int "$CLIENT_TAIL/O=Acme Corp/OU=Sales/CN=CRM${SHY}Application" ext_leaf
mk zwsp-san int "/C=US/O=Acme Corp/OU=Sales/CN=ZW SAN" ext_leaf "email:crm${ZWSP}@acme.example"
mk zwsp-ca int "/C=US/O=Acme Corp/CN=Acme${ZWSP} Issuing CA" ext_ca
mk zwsp-issued zwsp-ca "$CLIENT_TAIL/O=Acme Corp/OU=Sales/CN=CRMApplication" ext_leaf
mk sharp-s int "/C=US/O=Acme Corp/OU=Sales/CN=Straße" ext_leaf
mk ligature int "/C=US/O=Acme Corp/OU=Sales/CN=Oﬃce Admin" ext_leaf
mk kelvin int "/C=US/O=Acme Corp/OU=Sales/CN=$(printf '\342\204\252')iosk" ext_leaf
mk greek int "/C=US/O=Acme Corp/OU=Sales/CN=ΟΔΥΣΣΕΥΣ" ext_leaf
for x in dotted-i zwsp-cn shy-cn zwsp-san sharp-s ligature kelvin greek; do chain $x; done
chain zwsp-issued "$OUT/zwsp-ca.pem"

# Twelve stacked intermediates, then a leaf: depth 13 below the root.
prev=int
rest=""
i=1
while [ $i -le 12 ]; do
    mk h$i $prev "/C=US/O=Acme Corp/CN=Acme Stacked CA $i" ext_ca
    rest="$OUT/h$i.pem $rest"
    prev=h$i
    i=$((i + 1))
done
mk deep13 h12 "/C=US/O=Acme Corp/OU=Sales/CN=Deep Thirteen" ext_leaf
# shellcheck disable=SC2086
cat "$OUT/deep13.pem" $rest "$PKI/int-ca.pem" > "$OUT/deep13-chain.pem"
# 40 certificates: the client, its CA, then the stacked CAs again and again.
{ cat "$PKI/client.pem" "$PKI/int-ca.pem"
  for r in 1 2 3; do for j in 1 2 3 4 5 6 7 8 9 10 11 12; do cat "$OUT/h$j.pem"; done; done
  cat "$OUT/h1.pem" "$OUT/h2.pem"; } > "$OUT/many-chain.pem"

# Enormous extensions: 1.5 MB in one extension; 4000 DNS SANs.
big=$(head -c 1572864 /dev/zero | tr '\0' 'A')
{ cat "$CNF"
  printf '[ ext_big ]\nbasicConstraints = critical, CA:FALSE\nextendedKeyUsage = clientAuth\n'
  printf '1.3.6.1.4.1.55555.2 = ASN1:UTF8String:%s\n' "$big"; } > "$W/big.cnf"
unset big
mk bigext int "/C=US/O=Acme Corp/OU=Sales/CN=Big Extension" ext_big "" "$W/big.cnf"
sans=$(i=0; while [ $i -lt 4000 ]; do printf 'DNS:h%d.acme.example,' $i; i=$((i + 1)); done)
{ cat "$CNF"
  printf '[ ext_many ]\nbasicConstraints = critical, CA:FALSE\nextendedKeyUsage = clientAuth\n'
  printf 'subjectAltName = %s\n' "${sans%,}"; } > "$W/many.cnf"
mk manysan int "/C=US/O=Acme Corp/OU=Sales/CN=Many SANs" ext_many "" "$W/many.cnf"
unset sans
chain bigext
chain manysan

# LDAP filter metacharacters in the email and issuer placeholders.
mk ldap-email int "/C=US/O=Acme Corp/OU=Sales/CN=Mail Star" ext_leaf "email:*"
mk ldap-email2 int "/C=US/O=Acme Corp/OU=Sales/CN=Mail Or" ext_leaf "email:*)(uid=crm"
mk ldap-subjmail int "/C=US/O=Acme Corp/OU=Sales/CN=Subject Mail/emailAddress=*" ext_leaf_nosan
mk evilca int "/CN=x)(uid=crm/O=Evil" ext_ca
mk ldap-issuer evilca "/C=US/O=Acme Corp/OU=Sales/CN=Evil Issued" ext_leaf
for x in ldap-email ldap-email2 ldap-subjmail; do chain $x; done
chain ldap-issuer "$OUT/evilca.pem"

# The victim: issued through `openssl ca` so that --revoke can list it.
key "$OUT/victim.key"
"$OPENSSL" req -new -config "$CNF" -key "$OUT/victim.key" \
    -subj "/C=US/O=Acme Corp/OU=Sales/CN=Victim User" -out "$W/victim.csr"
H_SAN="email:victim@acme.example"
"$OPENSSL" ca -batch -config "$CNF" -cert "$PKI/int-ca.pem" -keyfile "$PKI/int-ca.key" \
    -in "$W/victim.csr" -out "$OUT/victim.pem" -notext -extensions ext_leaf -days 3650 \
    2>"$W/err.log" || { cat "$W/err.log" >&2; exit 1; }
chain victim
# The base PKI's revoked.pem stays revoked in every CRL made here.
"$OPENSSL" ca -batch -config "$CNF" -cert "$PKI/int-ca.pem" -keyfile "$PKI/int-ca.key" \
    -revoke "$PKI/revoked.pem" -crl_reason keyCompromise 2>"$W/err.log" \
    || { cat "$W/err.log" >&2; exit 1; }
"$OPENSSL" ca -batch -config "$CNF" -cert "$PKI/int-ca.pem" -keyfile "$PKI/int-ca.key" \
    -gencrl -out "$OUT/crl-int-0.pem" 2>"$W/err.log" || { cat "$W/err.log" >&2; exit 1; }
"$OPENSSL" ca -batch -config "$CNF" -cert "$PKI/int-ca.pem" -keyfile "$PKI/int-ca.key" \
    -gencrl -out "$OUT/crl-int-0b.pem" 2>"$W/err.log" || { cat "$W/err.log" >&2; exit 1; }

rm -rf "$W"
exit 0
