#!/usr/bin/env bash
# Prints every suite's summary line from a build tree's test logs
# (automake hides them in .log files), names every suite that was skipped
# and every test a suite left out with a "SKIP: reason" line, and closes
# with "N passed, N failed, N skipped" over all of them.
#
# Exit 1 on any failure, when no test ran at all, or when anything was
# skipped: on Debian 12, after './quickstart install', every suite can run
# (nginx, lighttpd, slapd, Apache, conformance data, fuzzing), so a skip
# means something is missing. On other systems, CERTROLE_ALLOW_SKIP lists
# the skips to accept: suite names as printed here (tests/check_nginx) or
# their last part (check_nginx, matching every build tree), shell patterns
# allowed, separated by spaces or commas; e.g.
#   CERTROLE_ALLOW_SKIP='check_nginx* check_lighttpd' ./quickstart check
set -euo pipefail
build=${1:-.}
passed=0 failed=0 skipped=0 suites=0
skips=() fails=()
shopt -s nullglob

# allowed NAME: does CERTROLE_ALLOW_SKIP accept a skip of NAME?
IFS=', ' read -r -a allow <<<"${CERTROLE_ALLOW_SKIP:-}"
allowed() {
    local pat
    for pat in "${allow[@]}"; do
        [ -n "$pat" ] || continue
        # shellcheck disable=SC2254 # the entries are patterns
        case "$1" in $pat) return 0 ;; esac
        # shellcheck disable=SC2254
        case "${1##*/}" in $pat) return 0 ;; esac
    done
    return 1
}

for log in "$build"/tests/*.log "$build"/tests/conformance/*.log "$build"/tests/tools/*.log \
           "$build"/_sanitize/tests/*.log "$build"/_sanitize/tests/conformance/*.log \
           "$build"/_sanitize/tests/tools/*.log "$build"/_tsan/tests/*.log \
           "$build"/_intree/_tsan/tests/*.log; do
    case "$log" in */test-suite.log) continue ;; esac
    trs="${log%.log}.trs"
    [ -f "$trs" ] || continue
    name=${log#"$build"/}
    name=${name%.log}
    result=$(sed -n 's/^:test-result: //p' "$trs" | head -n1)
    line=$(grep -E '^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$log" | tail -n1) || true
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
        [ $((f + e)) -eq 0 ] && [ "$result" = PASS ] || fails+=("$log")
        # Tests the suite left out, each saying why on a "SKIP:" line.
        while IFS= read -r reason; do
            skipped=$((skipped + 1))
            skips+=("$name|part: $reason")
        done < <(grep -E '^SKIP: ' "$log" | sed 's/^SKIP: //' | sort -u)
    elif [ "$result" = SKIP ]; then
        skipped=$((skipped + 1))
        reason=$(grep -m1 -i 'skip' "$log" | sed 's/^SKIP: //' || true)
        printf '%-40s SKIPPED %s\n' "$name" "$reason"
        skips+=("$name|${reason:-no reason given}")
    else
        failed=$((failed + 1))
        printf '%-40s %s (no Check summary: crashed or did not start)\n' "$name" "$result"
        fails+=("$log")
    fi
done

# Where the time went: the slowest suites by their own wall-clock time
# (each Check suite prints "suite time: N s").
slow=$(for log in "$build"/tests/*.log "$build"/_sanitize/tests/*.log "$build"/_tsan/tests/*.log; do
           t=$(sed -n 's/^suite time: \([0-9.]*\) s$/\1/p' "$log" | tail -n1)
           [ -z "$t" ] || printf '%s %s\n' "$t" "${log#"$build"/}"
       done | sort -rn | head -n 8)
if [ -n "$slow" ]; then
    echo
    echo "slowest suites (seconds):"
    while read -r t n; do printf '  %6s  %s\n' "$t" "${n%.log}"; done <<<"$slow"
fi

# Why each failed suite failed, here at the end where a CI log's tail
# shows it: Check's failure lines (file:line:F|E:case:test:...), or the
# log's last lines when the suite died without any.
if [ ${#fails[@]} -gt 0 ]; then
    echo
    echo "failures:"
    for log in "${fails[@]}"; do
        echo "  ${log#"$build"/}:"
        why=$(grep -E '^[^ :]+:[0-9]+:[EF]:' "$log" | head -n 8 | cut -c1-400) || true
        [ -n "$why" ] || why=$(tail -n 8 "$log" | cut -c1-400)
        sed 's/^/    /' <<<"$why"
    done
fi

refused=0
if [ ${#skips[@]} -gt 0 ]; then
    echo
    echo "skipped:"
    for s in "${skips[@]}"; do
        name=${s%%|*}
        if allowed "$name"; then
            printf '  %-38s %s (accepted: CERTROLE_ALLOW_SKIP)\n' "$name" "${s#*|}"
        else
            printf '  %-38s %s\n' "$name" "${s#*|}"
            refused=$((refused + 1))
        fi
    done
fi
echo
echo "$suites suites"
echo "$passed passed, $failed failed, $skipped skipped"
if [ "$refused" -gt 0 ]; then
    echo "FAIL: $refused skipped where every suite should run (Debian 12 after ./quickstart install);"
    echo "      install what the reason names, or accept the skip with CERTROLE_ALLOW_SKIP=NAME"
fi
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ] && [ "$refused" -eq 0 ]
