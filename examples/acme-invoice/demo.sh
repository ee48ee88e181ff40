#!/usr/bin/env bash
# The Acme invoice demo: Tomcat's classic CLIENT-CERT scenario on certrole.
#
#   demo.sh [--ldap] BUILD_DIR
#
# Makes a throwaway Acme Corp PKI with openssl, installs the shipped default
# policy (policy/acme-invoice.policy + policy/acme-users.realm) next to it,
# starts the small C server (examples/server) on 127.0.0.1 serving
# /InvoiceService/list, and calls it with curl: allowed with the right
# certificate, refused — with the reason — otherwise. Exits non-zero if any
# outcome differs from the expected one. Everything it starts is stopped.
#
# --ldap: the same six calls, but the people and groups live in a directory
# (examples/acme-invoice/ldap): a throwaway OpenLDAP slapd on 127.0.0.1,
# loaded with acme-directory.ldif, and the policy acme-invoice-ldap.policy.
# At the end the directory is stopped and the certrole command shows that
# the library then fails closed (realm_unavailable, naming the URI).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
ldap=no
args=()
for a in "$@"; do
    case "$a" in
        --ldap) ldap=yes ;;
        *) args+=("$a") ;;
    esac
done
build=$(cd "${args[0]:-$top/_build}" && pwd)
certrole="$build/certrole"
server="$build/examples/server/certrole-server"
for b in "$certrole" "$server"; do
    [ -x "$b" ] || { echo "demo: $b is not built (run ./quickstart demo)" >&2; exit 2; }
done

# The realm plugins of this build (realm_file.so, realm_ldap.so), not
# installed ones.
if [ -z "${CERTROLE_REALM_DIR:-}" ] && [ -d "$build/.libs" ]; then
    export CERTROLE_REALM_DIR="$build/.libs"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/certrole-demo-XXXXXX")
server_pid=""
slapd_dir=""
stop_slapd() {  # slapd runs as a daemon: stop it by its pidfile, wait for it
    local pid
    [ -n "$slapd_dir" ] && [ -s "$slapd_dir/slapd.pid" ] || return 0
    pid=$(cat "$slapd_dir/slapd.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$slapd_dir/slapd.pid"
}
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    stop_slapd
    rm -rf "$work"
}
trap cleanup EXIT

bold() { printf '\033[1m%s\033[0m\n' "$*"; }

bold "1. A throwaway Acme Corp PKI, made with openssl"
"$top/tests/pki/mkpki.sh" "$work/pki" >/dev/null
pki="$work/pki"
for f in root-ca int-ca client expired other-client norole revoked; do
    printf '   %-14s %s\n' "$f.pem" "$(openssl x509 -in "$pki/$f.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')"
done

etc="$work/etc"
mkdir -p "$etc"
cp "$pki/ca-file.pem" "$etc/acme-ca.pem"
cp "$pki/crl.pem" "$etc/acme.crl"
if [ "$ldap" = yes ]; then
    bold "2. The Acme directory: a throwaway OpenLDAP slapd on 127.0.0.1"
    slapd=${SLAPD:-/usr/sbin/slapd}
    [ -x "$slapd" ] || { echo "demo: no slapd at $slapd (Debian package slapd; or set SLAPD)" >&2; exit 2; }
    for try in 1 2 3 4 5; do    # a random port; another one if it is taken
        ldap_port=$((20000 + RANDOM % 20000))
        slapd_dir="$work/slapd-$try"
        if "$here/ldap/start-slapd.sh" "$slapd_dir" "$ldap_port" >"$work/slapd.log" 2>&1; then break; fi
        stop_slapd; slapd_dir=""
    done
    [ -n "$slapd_dir" ] || { cat "$work/slapd.log" >&2; echo "demo: slapd did not start" >&2; exit 1; }
    echo "   listening on ldap://127.0.0.1:$ldap_port/ (examples/acme-invoice/ldap/acme-directory.ldif)"
    grep -E '^(dn|seeAlso|member):' "$here/ldap/acme-directory.ldif" | grep -v 'dn: \(dc\|ou\)=' | sed 's/^/   /'
    policy="$etc/acme-invoice-ldap.policy"
    sed "s/@LDAP_PORT@/$ldap_port/" "$here/ldap/acme-invoice-ldap.policy" >"$policy"
    bold "   The policy (examples/acme-invoice/ldap/acme-invoice-ldap.policy)"
else
    bold "2. The shipped default policy"
    policy="$etc/acme-invoice.policy"
    cp "$top/policy/acme-invoice.policy" "$top/policy/acme-users.realm" "$etc/"
fi
sed 's/^/   /' "$policy" | grep -v '^   *#' | grep -v '^ *$'
if [ "$ldap" = no ]; then
    echo "   -- acme-users.realm:"
    grep -v '^#' "$etc/acme-users.realm" | grep -v '^ *$' | sed 's/^/   /'
fi
"$certrole" policy-check "$policy" | sed 's/^/   /'

bold "3. The invoice service (examples/server, C on libcertrole) on 127.0.0.1"
"$server" --policy "$policy" --cert "$pki/server-chain.pem" --key "$pki/server.key" \
    --port 0 --port-file "$work/port" \
    --serve "/InvoiceService/list=$here/invoices.xml:application/xml" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 1 100); do [ -s "$work/port" ] && break; sleep 0.05; done
[ -s "$work/port" ] || { cat "$work/server.log" >&2; echo "demo: server did not start" >&2; exit 1; }
port=$(cat "$work/port")
url="https://localhost:$port/InvoiceService/list"
echo "   listening on https://localhost:$port/"

bold "4. Calls"
failures=0
call() {  # call LABEL EXPECTED_STATUS EXPECTED_CODE [curl args...]
    local label=$1 want=$2 want_code=$3; shift 3
    local out status code
    out=$(curl -sS --cacert "$pki/root-ca.pem" -D "$work/headers" "$@" "$url" 2>&1) || true
    status=$(sed -n '1s/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p' "$work/headers" 2>/dev/null || true)
    code=$(sed -n 's/^X-Certrole-Code: *\([a-z_]*\).*/\1/Ip' "$work/headers" 2>/dev/null | tr -d '\r' || true)
    [ -n "$code" ] || code=ok
    local verdict=PASS
    if [ "$status" != "$want" ] || [ "$code" != "$want_code" ]; then verdict=FAIL; failures=$((failures + 1)); fi
    printf '\n   %-44s -> HTTP %s %-18s [%s]\n' "$label" "${status:-none}" "$code" "$verdict"
    if [ "$status" = 200 ]; then
        grep -o '<invoice id="[^"]*"[^>]*>' <<<"$out" | sed 's/^/      /'
    else
        grep -E '^(message|hint):' <<<"$out" | sed 's/^/      /' || sed 's/^/      /' <<<"$out"
    fi
}
call "CRMApplication (Acme CA, role invoice-readonly)" 200 ok \
    --cert "$pki/client-chain.pem" --key "$pki/client.key"
call "no client certificate" 401 no_certificate
call "same DN, issued by another CA" 403 untrusted_issuer \
    --cert "$pki/other-client.pem" --key "$pki/other-client.key"
call "expired certificate" 403 expired \
    --cert "$pki/expired-chain.pem" --key "$pki/expired.key"
call "revoked certificate (listed in the CRL)" 403 revoked \
    --cert "$pki/revoked-chain.pem" --key "$pki/revoked.key"
call "valid certificate, DN without the role" 403 forbidden \
    --cert "$pki/norole-chain.pem" --key "$pki/norole.key"

bold "5. The same decisions, explained by the certrole command"
for c in client expired norole; do
    echo "   \$ certrole check --policy $(basename "$policy") --method GET --path /InvoiceService/list $c-chain.pem"
    chain="$pki/$c-chain.pem"; [ -f "$chain" ] || chain="$pki/$c.pem"
    "$certrole" check --policy "$policy" --method GET --path /InvoiceService/list "$chain" \
        | sed 's/^/     /' || true
done

if [ "$ldap" = yes ]; then
    bold "6. The directory goes down: fail closed"
    stop_slapd
    echo "   slapd stopped; a fresh process has no cached answer:"
    out=$("$certrole" check --policy "$policy" --method GET --path /InvoiceService/list \
          "$pki/client-chain.pem" 2>&1 || true)
    sed 's/^/     /' <<<"$out"
    verdict=PASS
    if ! grep -q 'realm_unavailable' <<<"$out" || ! grep -q "ldap://127.0.0.1:$ldap_port" <<<"$out" \
       || grep -q 'decision: allow' <<<"$out"; then
        verdict=FAIL; failures=$((failures + 1))
    fi
    printf '\n   %-44s -> %-22s [%s]\n' "directory down, CRMApplication" "realm_unavailable" "$verdict"
fi

echo
if [ "$failures" -eq 0 ]; then
    bold "demo: all 6 outcomes as expected$([ "$ldap" = yes ] && echo ', and fail closed without the directory')"
else
    bold "demo: $failures outcome(s) differ from the expected ones"
    echo "--- server log ---"; cat "$work/server.log"
    exit 1
fi
