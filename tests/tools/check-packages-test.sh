#!/usr/bin/env bash
# check-packages.sh catches what it is there to catch, on a scratch copy of
# the files it reads (quickstart, configure.ac, tests/, examples/):
#   - a test configuration loading a module tests/external-programs.txt
#     does not list fails, naming the file and the module;
#   - quickstart's PKGS without lighttpd-mod-openssl fails, naming
#     mod_openssl, its package and the fix;
#   - the unchanged copy passes.
# Needs dpkg (Debian), like check-packages.sh itself.
set -euo pipefail

src=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/certrole-cp-XXXXXX")
trap 'rm -rf "$work"' EXIT
checks=0 failures=0

copy() {
    rm -rf "$work/src"
    mkdir -p "$work/src"
    cp -p "$src/quickstart" "$src/configure.ac" "$work/src/"
    cp -pR "$src/tests" "$work/src/"
    rm -rf "$work/src/tests/conformance/data"
    [ ! -d "$src/examples" ] || cp -pR "$src/examples" "$work/src/"
    [ ! -d "$src/servers" ] || cp -pR "$src/servers" "$work/src/"
}

# expect NAME WANT_RC PATTERN ARGS...: runs the checker on the copy.
expect() {
    local name=$1 want=$2 pattern=$3 rc=0
    shift 3
    checks=$((checks + 1))
    "$src/tests/tools/check-packages.sh" "$@" "$work/src" > "$work/out" 2>&1 || rc=$?
    if { [ "$want" -eq 0 ] && [ "$rc" -ne 0 ]; } || { [ "$want" -ne 0 ] && [ "$rc" -eq 0 ]; } ||
       ! grep -q -- "$pattern" "$work/out"; then
        echo "FAIL: $name: exit $rc, expected output matching: $pattern"
        sed 's/^/      /' "$work/out"
        failures=$((failures + 1))
    else
        echo "ok:   $name: $(grep -m1 -- "$pattern" "$work/out")"
    fi
}

copy
expect "unchanged copy passes" 0 "0 failures"

copy
printf 'LoadModule foo_module /usr/lib/apache2/modules/mod_foo.so\n' >> "$work/src/tests/web/lighttpd.conf.in"
expect "a module missing from the list is named" 1 \
    "tests/web/lighttpd.conf.in loads apache-module 'mod_foo'.*does not list" --list-only

copy
sed -i 's/ lighttpd-mod-openssl//' "$work/src/quickstart"
if "$work/src/quickstart" packages | grep -qx lighttpd-mod-openssl; then
    echo "FAIL: could not take lighttpd-mod-openssl out of the copy's PKGS"
    failures=$((failures + 1))
fi
expect "a package missing from PKGS is named with the fix" 1 \
    "lighttpd-module mod_openssl: .* comes from lighttpd-mod-openssl, which quickstart does not install: add lighttpd-mod-openssl to PKGS in quickstart"

echo "$(( (checks - failures) * 100 / checks ))%: Checks: $checks, Failures: $failures, Errors: 0"
[ "$failures" -eq 0 ]
