#!/usr/bin/env bash
# Prints every Check suite's summary line from a build tree's test logs
# (automake hides them in .log files) and one closing line
# "N passed, N failed, N skipped" over all of them. Exit 1 on any failure
# or when no test ran at all.
set -u
build=${1:-.}
passed=0 failed=0 skipped=0 suites=0
shopt -s nullglob
for log in "$build"/tests/*.log "$build"/tests/conformance/*.log \
           "$build"/_sanitize/tests/*.log "$build"/_sanitize/tests/conformance/*.log \
           "$build"/_tsan/tests/*.log; do
    case "$log" in */test-suite.log) continue ;; esac
    trs="${log%.log}.trs"
    [ -f "$trs" ] || continue
    name=${log#"$build"/}
    name=${name%.log}
    result=$(sed -n 's/^:test-result: //p' "$trs" | head -n1)
    line=$(grep -E '^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$log" | tail -n1)
    suites=$((suites + 1))
    if [ -n "$line" ]; then
        n=$(sed -E 's/.*Checks: ([0-9]+).*/\1/' <<<"$line")
        f=$(sed -E 's/.*Failures: ([0-9]+).*/\1/' <<<"$line")
        e=$(sed -E 's/.*Errors: ([0-9]+).*/\1/' <<<"$line")
        passed=$((passed + n - f - e))
        failed=$((failed + f + e))
        # A crash after the summary (sanitizer report at exit) still fails.
        if [ "$result" != PASS ] && [ $((f + e)) -eq 0 ]; then
            failed=$((failed + 1))
            line="$line  [exit status: $result]"
        fi
        printf '%-40s %s\n' "$name" "$line"
    elif [ "$result" = SKIP ]; then
        skipped=$((skipped + 1))
        reason=$(grep -m1 -i 'skip' "$log" || true)
        printf '%-40s SKIPPED %s\n' "$name" "$reason"
    else
        failed=$((failed + 1))
        printf '%-40s %s (no Check summary: crashed or did not start)\n' "$name" "$result"
    fi
done
echo
echo "$suites suites"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
