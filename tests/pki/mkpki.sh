#!/bin/sh
# Makes the test PKI for certrole with openssl: mkpki.sh OUTDIR
#
# Acme Root CA -> Acme Issuing CA -> client, norole, expired, notyet,
# revoked, serveronly, noeku, server; Acme Issuing CA -> Acme Issuing CA 2
# -> deep; Acme Root CA -> noca-int (CA:FALSE) -> noca-client; Other Root
# CA -> other-client (same DN as client); a self-signed client; badsig;
# CRLs (current and expired); DER, PKCS#7 and PKCS#12 encodings; an ECDSA
# P-256 core set under ec/. Nothing made here is ever committed.
#
# `openssl ca` is used (not `x509 -req`) because it gives exact validity
# windows, a revocation database and CRLs from one tool.
set -eu

OPENSSL=${OPENSSL:-openssl}
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
OUT=$1
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
W="$OUT/.work"
rm -rf "$W"
mkdir -p "$W"

# Serial numbers are unique across every CA: one shared serial file.
echo 1000 > "$W/serial"

# Validity windows. CAs cover every leaf window so only the leaf is at fault.
CA_START=20100101000000Z
CA_END=20491231235959Z
LEAF_START=20200101000000Z
LEAF_END=20451231235959Z
EXPIRED_START=20190101000000Z
EXPIRED_END=20200101000000Z
NOTYET_START=20450101000000Z
NOTYET_END=20460101000000Z

CR_SAN="email:nobody@acme.example"
CR_CADB="$W/db-none"
export CR_SAN CR_CADB

cat > "$W/openssl.cnf" <<'EOF'
[ ca ]
default_ca = cr_ca

[ cr_ca ]
dir              = $ENV::CR_CADB
database         = $dir/index.txt
new_certs_dir    = $dir/new
crlnumber        = $dir/crlnumber
serial           = $dir/../serial
default_md       = sha256
default_days     = 3650
default_crl_days = 30
policy           = cr_policy_any
preserve         = yes
unique_subject   = no
email_in_dn      = yes
copy_extensions  = none

[ cr_policy_any ]
countryName            = optional
stateOrProvinceName    = optional
localityName           = optional
organizationName       = optional
organizationalUnitName = optional
commonName             = supplied
emailAddress           = optional

[ req ]
distinguished_name = cr_req_dn
prompt             = no
[ cr_req_dn ]
CN = placeholder

[ ext_ca ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

# An end-entity certificate misused as an issuer: keyCertSign lets the chain
# build, CA:FALSE must then fail it as "invalid CA".
[ ext_noca ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyCertSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ ext_client ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = clientAuth
subjectAltName         = $ENV::CR_SAN
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ ext_server ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = serverAuth
subjectAltName         = $ENV::CR_SAN
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ ext_noeku ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
subjectAltName         = $ENV::CR_SAN
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ ext_selfsigned ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = clientAuth
subjectAltName         = $ENV::CR_SAN
subjectKeyIdentifier   = hash
EOF

CNF="$W/openssl.cnf"

# newdb NAME: a CA database (index, crlnumber, copies of issued certs).
newdb() {
    mkdir -p "$W/db-$1/new"
    : > "$W/db-$1/index.txt"
    echo 01 > "$W/db-$1/crlnumber"
}

# genkey PATH rsa|ec  (stderr kept aside: RSA generation prints progress)
genkey() {
    if [ "$2" = ec ]; then
        set -- "$1" -algorithm EC -pkeyopt ec_paramgen_curve:P-256
    else
        set -- "$1" -algorithm RSA -pkeyopt rsa_keygen_bits:2048
    fi
    _k=$1
    shift
    "$OPENSSL" genpkey "$@" -out "$_k" 2>"$W/genkey.log" \
        || { echo "mkpki: cannot make key $_k:" >&2; cat "$W/genkey.log" >&2; exit 1; }
    chmod 600 "$_k"
}

# issue CA KEY OUT SUBJ EXT START END [SAN]
#   CA is a database name whose cert/key are $OUT/<ca>.pem/.key, or "self:DB".
issue() {
    _ca=$1 _key=$2 _out=$3 _subj=$4 _ext=$5 _start=$6 _end=$7
    CR_SAN=${8:-email:nobody@acme.example}
    "$OPENSSL" req -new -config "$CNF" -key "$_key" -subj "$_subj" -out "$W/req.csr"
    case $_ca in
    self:*)
        CR_CADB="$W/db-${_ca#self:}"
        "$OPENSSL" ca -batch -config "$CNF" -selfsign -keyfile "$_key" \
            -in "$W/req.csr" -out "$_out" -notext -extensions "$_ext" \
            -startdate "$_start" -enddate "$_end" 2>"$W/ca.log" \
            || { cat "$W/ca.log" >&2; exit 1; }
        ;;
    *)
        CR_CADB="$W/db-$(echo "$_ca" | tr / _)"
        "$OPENSSL" ca -batch -config "$CNF" -cert "$OUT/$_ca.pem" -keyfile "$OUT/$_ca.key" \
            -in "$W/req.csr" -out "$_out" -notext -extensions "$_ext" \
            -startdate "$_start" -enddate "$_end" 2>"$W/ca.log" \
            || { cat "$W/ca.log" >&2; exit 1; }
        ;;
    esac
}

# gencrl CA OUT [extra openssl ca args]
gencrl() {
    _ca=$1 _out=$2
    shift 2
    CR_CADB="$W/db-$(echo "$_ca" | tr / _)"
    "$OPENSSL" ca -batch -config "$CNF" -cert "$OUT/$_ca.pem" -keyfile "$OUT/$_ca.key" \
        -gencrl -out "$_out" "$@" 2>"$W/ca.log" || { cat "$W/ca.log" >&2; exit 1; }
}

DN_CLIENT="/C=US/ST=CA/L=San Francisco/O=Acme Corp/OU=Sales/CN=CRMApplication"
DN_GUEST="/C=US/ST=CA/L=San Francisco/O=Acme Corp/OU=Marketing/CN=Guest User"
SAN_CLIENT="email:crm@acme.example,DNS:crm.acme.example,URI:spiffe://acme.example/crm,IP:192.0.2.10"

# ---------------------------------------------------------------- RSA set
for db in root-ca int-ca int2-ca other-root-ca noca-int; do newdb "$db"; done

for k in root-ca int-ca int2-ca other-root-ca noca-int client norole expired \
         notyet revoked serveronly noeku deep selfsigned other-client \
         noca-client server; do
    genkey "$OUT/$k.key" rsa
done

issue self:root-ca "$OUT/root-ca.key" "$OUT/root-ca.pem" \
    "/C=US/O=Acme Corp/CN=Acme Root CA" ext_ca $CA_START $CA_END
issue root-ca "$OUT/int-ca.key" "$OUT/int-ca.pem" \
    "/C=US/O=Acme Corp/CN=Acme Issuing CA" ext_ca $CA_START $CA_END
issue int-ca "$OUT/int2-ca.key" "$OUT/int2-ca.pem" \
    "/C=US/O=Acme Corp/CN=Acme Issuing CA 2" ext_ca $CA_START $CA_END
issue self:other-root-ca "$OUT/other-root-ca.key" "$OUT/other-root-ca.pem" \
    "/C=US/O=Other Corp/CN=Other Root CA" ext_ca $CA_START $CA_END
issue root-ca "$OUT/noca-int.key" "$OUT/noca-int.pem" \
    "/C=US/O=Acme Corp/CN=Acme Not A CA" ext_noca $CA_START $CA_END

issue int-ca "$OUT/client.key" "$OUT/client.pem" "$DN_CLIENT" ext_client \
    $LEAF_START $LEAF_END "$SAN_CLIENT"
issue int-ca "$OUT/norole.key" "$OUT/norole.pem" "$DN_GUEST" ext_client \
    $LEAF_START $LEAF_END "email:guest@acme.example"
issue int-ca "$OUT/expired.key" "$OUT/expired.pem" \
    "/C=US/O=Acme Corp/OU=Sales/CN=Expired User" ext_client \
    $EXPIRED_START $EXPIRED_END "email:expired@acme.example"
issue int-ca "$OUT/notyet.key" "$OUT/notyet.pem" \
    "/C=US/O=Acme Corp/OU=Sales/CN=Future User" ext_client \
    $NOTYET_START $NOTYET_END "email:future@acme.example"
issue int-ca "$OUT/revoked.key" "$OUT/revoked.pem" \
    "/C=US/O=Acme Corp/OU=Sales/CN=Revoked User" ext_client \
    $LEAF_START $LEAF_END "email:revoked@acme.example"
issue int-ca "$OUT/serveronly.key" "$OUT/serveronly.pem" \
    "/C=US/O=Acme Corp/OU=Sales/CN=Server Only" ext_server \
    $LEAF_START $LEAF_END "DNS:serveronly.acme.example"
issue int-ca "$OUT/noeku.key" "$OUT/noeku.pem" \
    "/C=US/O=Acme Corp/OU=Sales/CN=No EKU" ext_noeku \
    $LEAF_START $LEAF_END "email:noeku@acme.example"
issue int2-ca "$OUT/deep.key" "$OUT/deep.pem" \
    "/C=US/O=Acme Corp/OU=Sales/CN=Deep User" ext_client \
    $LEAF_START $LEAF_END "email:deep@acme.example"
issue int-ca "$OUT/server.key" "$OUT/server.pem" "/CN=localhost" ext_server \
    $LEAF_START $LEAF_END "DNS:localhost,IP:127.0.0.1"

newdb selfsigned
issue self:selfsigned "$OUT/selfsigned.key" "$OUT/selfsigned.pem" "$DN_CLIENT" \
    ext_selfsigned $LEAF_START $LEAF_END "$SAN_CLIENT"
issue other-root-ca "$OUT/other-client.key" "$OUT/other-client.pem" "$DN_CLIENT" \
    ext_client $LEAF_START $LEAF_END "$SAN_CLIENT"
issue noca-int "$OUT/noca-client.key" "$OUT/noca-client.pem" \
    "/C=US/O=Acme Corp/OU=Sales/CN=Under Not A CA" ext_client \
    $LEAF_START $LEAF_END "email:noca@acme.example"

# Chains as a peer sends them: leaf first, then intermediates.
cp "$OUT/root-ca.pem" "$OUT/ca-file.pem"
cat "$OUT/client.pem" "$OUT/int-ca.pem" > "$OUT/client-chain.pem"
for x in norole expired notyet revoked serveronly noeku; do
    cat "$OUT/$x.pem" "$OUT/int-ca.pem" > "$OUT/$x-chain.pem"
done
cat "$OUT/deep.pem" "$OUT/int2-ca.pem" "$OUT/int-ca.pem" > "$OUT/deep-chain.pem"
cat "$OUT/server.pem" "$OUT/int-ca.pem" > "$OUT/server-chain.pem"
cat "$OUT/noca-client.pem" "$OUT/noca-int.pem" > "$OUT/noca-client-chain.pem"

# Other encodings of the client.
"$OPENSSL" x509 -in "$OUT/client.pem" -outform DER -out "$OUT/client.der"
"$OPENSSL" crl2pkcs7 -nocrl -certfile "$OUT/client-chain.pem" -outform DER \
    -out "$OUT/client-chain.p7b"
"$OPENSSL" pkcs12 -export -inkey "$OUT/client.key" -in "$OUT/client.pem" \
    -certfile "$OUT/int-ca.pem" -name "CRMApplication" -passout pass:secret \
    -out "$OUT/client.p12"

# Hashed CA directory (root only, like ca-file.pem).
mkdir -p "$OUT/ca-dir"
cp "$OUT/root-ca.pem" "$OUT/ca-dir/root-ca.pem"
"$OPENSSL" rehash "$OUT/ca-dir" 2>/dev/null

# Revocation and CRLs. The expired CRLs were last updated and due long ago.
CR_CADB="$W/db-int-ca"
"$OPENSSL" ca -batch -config "$CNF" -cert "$OUT/int-ca.pem" -keyfile "$OUT/int-ca.key" \
    -revoke "$OUT/revoked.pem" -crl_reason keyCompromise 2>"$W/ca.log" \
    || { cat "$W/ca.log" >&2; exit 1; }
gencrl root-ca "$OUT/crl-root.pem" -crldays 3650
gencrl int-ca "$OUT/crl-int.pem" -crldays 3650
gencrl int2-ca "$OUT/crl-int2.pem" -crldays 3650
cat "$OUT/crl-root.pem" "$OUT/crl-int.pem" > "$OUT/crl.pem"
gencrl root-ca "$W/crl-root-expired.pem" \
    -crl_lastupdate 20200101000000Z -crl_nextupdate 20200201000000Z
gencrl int-ca "$W/crl-int-expired.pem" \
    -crl_lastupdate 20200101000000Z -crl_nextupdate 20200201000000Z
cat "$W/crl-root-expired.pem" "$W/crl-int-expired.pem" > "$OUT/crl-expired.pem"

# badsig: client.pem with the last byte of its signature flipped.
"$OPENSSL" x509 -in "$OUT/client.pem" -outform DER -out "$W/client.der"
n=$(wc -c < "$W/client.der")
last=$(tail -c 1 "$W/client.der" | od -An -tu1 | tr -d ' \n')
flipped=$(( last ^ 1 ))
{ head -c $(( n - 1 )) "$W/client.der"; printf "\\$(printf %03o "$flipped")"; } > "$W/badsig.der"
"$OPENSSL" x509 -inform DER -in "$W/badsig.der" -outform PEM -out "$OUT/badsig.pem"
cmp -s "$W/client.der" "$W/badsig.der" && { echo "badsig: byte not flipped" >&2; exit 1; }

# ---------------------------------------------------------------- EC set
mkdir -p "$OUT/ec"
for db in ec/root-ca ec/int-ca ec/int2-ca; do newdb "$(echo "$db" | tr / _)"; done
for k in root-ca int-ca int2-ca client deep; do genkey "$OUT/ec/$k.key" ec; done
issue self:ec_root-ca "$OUT/ec/root-ca.key" "$OUT/ec/root-ca.pem" \
    "/C=US/O=Acme Corp/CN=Acme EC Root CA" ext_ca $CA_START $CA_END
issue ec/root-ca "$OUT/ec/int-ca.key" "$OUT/ec/int-ca.pem" \
    "/C=US/O=Acme Corp/CN=Acme EC Issuing CA" ext_ca $CA_START $CA_END
issue ec/int-ca "$OUT/ec/int2-ca.key" "$OUT/ec/int2-ca.pem" \
    "/C=US/O=Acme Corp/CN=Acme EC Issuing CA 2" ext_ca $CA_START $CA_END
issue ec/int-ca "$OUT/ec/client.key" "$OUT/ec/client.pem" "$DN_CLIENT" ext_client \
    $LEAF_START $LEAF_END "$SAN_CLIENT"
issue ec/int2-ca "$OUT/ec/deep.key" "$OUT/ec/deep.pem" \
    "/C=US/O=Acme Corp/OU=Sales/CN=Deep User" ext_client \
    $LEAF_START $LEAF_END "email:deep@acme.example"
cat "$OUT/ec/client.pem" "$OUT/ec/int-ca.pem" > "$OUT/ec/client-chain.pem"
cat "$OUT/ec/deep.pem" "$OUT/ec/int2-ca.pem" "$OUT/ec/int-ca.pem" > "$OUT/ec/deep-chain.pem"
cp "$OUT/ec/root-ca.pem" "$OUT/ec/ca-file.pem"

rm -rf "$W"
exit 0
