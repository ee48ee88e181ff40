#!/bin/sh
# Generated seeds for the fuzz targets, made at run time because
# certificates are never committed:
#   gen-seeds.sh FUZZ-SRCDIR PKI-DIR OUTDIR
# OUTDIR/cert/  the test PKI's certificates in every input format, and
#               the hostile ones of tests/pki/mkhostile.sh, each behind
#               the format byte fuzz_cert.c reads
# OUTDIR/dn/    DER subject and issuer names of those certificates and
#               the names described in FUZZ-SRCDIR/names/*.cnf, behind a
#               0x00 byte (fuzz_dn.c's DER mode)
# Environment: OPENSSL (default openssl).
set -eu
src=$1 pki=$2 out=$3
ossl=${OPENSSL:-openssl}
rm -rf "$out/cert" "$out/dn"
mkdir -p "$out/cert" "$out/dn"

# seed NAME PREFIX FILE: PREFIX (one character) followed by FILE's bytes.
seed() {
    { printf '%s' "$2"; cat "$3"; } > "$out/cert/$1"
}
if [ -f "$pki/client.pem" ]; then
    seed client-chain.pem L "$pki/client-chain.pem"
    seed client-chain.auto K "$pki/client-chain.pem"
    seed client.der M "$pki/client.der"
    seed client-der.auto K "$pki/client.der"
    seed client-chain.p7b N "$pki/client-chain.p7b"
    seed client.p12 T "$pki/client.p12"
    for x in expired notyet revoked serveronly noeku deep noca-client; do
        [ -f "$pki/$x-chain.pem" ] && seed "$x-chain.pem" L "$pki/$x-chain.pem"
    done
    for x in badsig selfsigned other-client; do
        [ -f "$pki/$x.pem" ] && seed "$x.pem" L "$pki/$x.pem"
    done
    [ -f "$pki/ec/client-chain.pem" ] && seed ec-client-chain.pem L "$pki/ec/client-chain.pem"

    # The hostile certificates (two CNs, NUL bytes, lookalikes, empty
    # subject, deep chains...), made once into OUTDIR/hostile; the big
    # ones are left out (they would raise every input's size limit).
    mkh="$src/../pki/mkhostile.sh"
    if [ -f "$mkh" ] && [ ! -f "$out/hostile/.done" ]; then
        rm -rf "$out/hostile"
        OPENSSL="$ossl" sh "$mkh" "$pki" "$out/hostile" > /dev/null 2>&1 &&
            touch "$out/hostile/.done"
    fi
    if [ -f "$out/hostile/.done" ]; then
        for f in "$out"/hostile/*-chain.pem; do
            [ $(($(wc -c < "$f"))) -le 12288 ] && seed "hostile-$(basename "$f")" L "$f"
        done
    fi

    # Issuer and subject Name of each leaf: the 4th and 6th element of
    # its TBSCertificate (depth 2 in asn1parse's listing).
    for x in client selfsigned other-client ec/client; do
        [ -f "$pki/$x.pem" ] || continue
        der="$out/dn/.tmp.der"
        "$ossl" x509 -in "$pki/$x.pem" -outform DER -out "$der"
        n=0
        "$ossl" asn1parse -inform DER -in "$der" |
        sed -n 's/^ *\([0-9]*\):d=2 *hl= *\([0-9]*\) *l= *\([0-9]*\) .*/\1 \2 \3/p' | head -n 6 |
        while read -r off hl len; do
            n=$((n + 1))
            case $n in 4) what=issuer ;; 6) what=subject ;; *) continue ;; esac
            name=$(echo "$x" | tr / -)
            { printf '\000'; tail -c +$((off + 1)) "$der" | head -c $((hl + len)); } \
                > "$out/dn/$name-$what"
        done
        rm -f "$der"
    done
fi
for cnf in "$src"/names/*.cnf; do
    [ -f "$cnf" ] || continue
    b=$(basename "$cnf" .cnf)
    "$ossl" asn1parse -genconf "$cnf" -out "$out/dn/.tmp.der" > /dev/null
    { printf '\000'; cat "$out/dn/.tmp.der"; } > "$out/dn/name-$b"
    rm -f "$out/dn/.tmp.der"
done
