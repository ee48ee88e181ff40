#!/usr/bin/env bash
# The keys the ldap realm accepts and the keys certrole-realm-ldap(5)
# documents are the same set: every key its argument parser compares
# against is documented, once, and every documented key is one the
# parser compares against (and short enough for its key buffer).
set -euo pipefail

src=${CERTROLE_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$src"
code=module/realms/ldap/ldap_config.c
page=doc/certrole-realm-ldap.5
passed=0 failed=0 errors=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
error() { echo "ERROR: $*"; errors=$((errors + 1)); }
summary() {
    local total=$((passed + failed + errors))
    echo "$(( total ? passed * 100 / total : 100 ))%: Checks: $total, Failures: $failed, Errors: $errors"
    [ "$failed" -eq 0 ] && [ "$errors" -eq 0 ]
}

for f in "$code" "$page"; do
    [ -f "$f" ] || { error "$f is missing"; summary; }
done

# The parser: the simple_args table names the keys that only store a
# value ({ "base", ARG_DN, ... }); parse_one() compares the key against
# each other name in turn (strcmp(key, "uri"), ...). Only those two are
# read, so comparisons of values (strcmp(v, "yes")) or elsewhere in the
# file do not count.
table=$(awk '/simple_args\[\] = \{/ { on = 1 } on { print } on && /^};/ { exit }' "$code")
body=$(awk '/^static int parse_one\(/ { on = 1 } on { print } on && /^}/ { exit }' "$code")
code_keys=$( { printf '%s\n' "$table" |
               grep -oE '^[[:space:]]*\{[[:space:]]*"[^"]*"[[:space:]]*,[[:space:]]*ARG_' |
               sed -E 's/.*"([^"]*)".*/\1/'
               printf '%s\n' "$body" |
               grep -oE 'str(case)?cmp[[:space:]]*\([[:space:]]*key[[:space:]]*,[[:space:]]*"[^"]*"' |
               sed -E 's/.*"([^"]*)"$/\1/'; } | sort || true)
# The key buffer of cr_ldap_config_parse(): a longer key never reaches
# parse_one().
keymax=$(grep -oE 'char key\[[0-9]+\]' "$code" | head -n 1 | grep -oE '[0-9]+' || true)

# The page: a key is documented by a .TP item whose tag line is
# ".B key=...", ".BI key= ..." or ".BR key= ..." (hyphens may be \-).
page_keys=$(awk 'tp { print } { tp = ($0 ~ /^\.TP/) }' "$page" |
            sed -E 's/\\-/-/g' |
            sed -nE 's/^\.B[IR]?[[:space:]]+"?([a-z][a-z0-9-]*)=.*/\1/p' | sort || true)

if [ -z "$body" ] || [ -z "$code_keys" ]; then
    error "no keys found in simple_args[] and parse_one() of $code: has the parser changed shape?"
fi
if [ -z "$page_keys" ]; then
    error "no documented keys (.TP then .B/.BI/.BR key=) found in $page"
fi
if [ -z "$keymax" ]; then
    error "the key buffer (char key[N]) of $code was not found"
fi
# Guard the extraction itself: keys the realm has always had.
for k in uri base filter timeout; do
    grep -qx -- "$k" <<<"$code_keys" || error "extraction from $code missed '$k'"
done

for k in $(uniq -d <<<"$code_keys"); do
    fail "$code compares the key '$k' more than once"
done
for k in $(uniq <<<"$code_keys"); do
    n=$(grep -cx -- "$k" <<<"$page_keys" || true)
    if [ "$n" -eq 0 ]; then
        fail "$k= is accepted by $code but not documented in $page"
    elif [ "$n" -gt 1 ]; then
        fail "$k= is documented $n times in $page"
    else
        passed=$((passed + 1))
    fi
done
for k in $(uniq <<<"$page_keys"); do
    if ! grep -qx -- "$k" <<<"$code_keys"; then
        fail "$k= is documented in $page but $code does not accept it"
    elif [ -n "$keymax" ] && [ "${#k}" -ge "$keymax" ]; then
        fail "$k= is longer than the parser's key buffer (char key[$keymax])"
    else
        passed=$((passed + 1))
    fi
done
summary
