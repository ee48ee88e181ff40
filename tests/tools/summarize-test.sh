#!/usr/bin/env bash
# tests/summarize.sh names every skip and fails on one unless
# CERTROLE_ALLOW_SKIP accepts it. Runs it on a scratch build tree holding
# automake-style logs: a skipped suite (in the main and the sanitizer
# tree), a suite that left a test out with a "SKIP:" line, a passing one.
set -euo pipefail

src=${CERTROLE_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d "${TMPDIR:-/tmp}/certrole-sum-XXXXXX")
trap 'rm -rf "$work"' EXIT
b="$work/build"
mkdir -p "$b/tests/conformance" "$b/_sanitize/tests"
printf 'SKIP: nginx is not installed\n' > "$b/tests/check_nginx.log"
printf ':test-result: SKIP\n' > "$b/tests/check_nginx.trs"
cp "$b/tests/check_nginx.log" "$b/tests/check_nginx.trs" "$b/_sanitize/tests/"
printf 'SKIP: demo --ldap: no slapd\n100%%: Checks: 7, Failures: 0, Errors: 0\n' > "$b/tests/check_demo.log"
printf ':test-result: PASS\n' > "$b/tests/check_demo.trs"
printf '100%%: Checks: 5, Failures: 0, Errors: 0\n' > "$b/tests/conformance/check_pkits.log"
printf ':test-result: PASS\n' > "$b/tests/conformance/check_pkits.trs"

checks=0 failures=0
# expect WANT_RC ALLOW PATTERN...: summarize's exit status and output.
expect() {
    local want=$1 allow=$2 rc=0 p
    shift 2
    checks=$((checks + 1))
    CERTROLE_ALLOW_SKIP=$allow "$src/tests/summarize.sh" "$b" > "$work/out" 2>&1 || rc=$?
    local ok=yes
    { [ "$want" -eq 0 ] && [ "$rc" -eq 0 ]; } || { [ "$want" -ne 0 ] && [ "$rc" -ne 0 ]; } || ok=no
    for p in "$@"; do grep -qE -- "$p" "$work/out" || ok=no; done
    if [ "$ok" = yes ]; then
        echo "ok:   CERTROLE_ALLOW_SKIP='$allow': exit $rc"
    else
        echo "FAIL: CERTROLE_ALLOW_SKIP='$allow': exit $rc (wanted $([ "$want" -eq 0 ] && echo 0 || echo non-zero)), or missing one of: $*"
        sed 's/^/      /' "$work/out"
        failures=$((failures + 1))
    fi
}

expect 1 "" '^  tests/check_nginx +nginx is not installed$' \
    '^  _sanitize/tests/check_nginx +nginx is not installed$' \
    '^  tests/check_demo +part: demo --ldap: no slapd$' \
    '^12 passed, 0 failed, 3 skipped$' '^FAIL: 3 skipped'
expect 1 "check_nginx" 'check_nginx +nginx is not installed \(accepted' '^FAIL: 1 skipped'
expect 0 "check_nginx, tests/check_demo" '^12 passed, 0 failed, 3 skipped$'
expect 0 "check_*" 'check_demo +part: demo --ldap: no slapd \(accepted'
expect 1 "_sanitize/tests/check_nginx check_demo" '^FAIL: 1 skipped'

# A failed suite: its Check failure line is repeated under "failures:".
b="$work/failed"
mkdir -p "$b/tests"
printf 'check_x.c:12:F:core:a_test:0: Assertion st == 403 failed: st == 200\n50%%: Checks: 2, Failures: 1, Errors: 0\n' > "$b/tests/check_x.log"
printf ':test-result: FAIL\n' > "$b/tests/check_x.trs"
expect 1 "" '^failures:$' '^    check_x.c:12:F:core:a_test:0: Assertion st == 403' '^1 passed, 1 failed, 0 skipped$'

echo "$(( (checks - failures) * 100 / checks ))%: Checks: $checks, Failures: $failures, Errors: 0"
[ "$failures" -eq 0 ]
