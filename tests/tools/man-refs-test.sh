#!/usr/bin/env bash
# Every manual page of certrole's that a page or README names, as
# name(section), exists in doc/ and is installed (listed in doc/doc.am).
set -euo pipefail

src=${CERTROLE_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$src"
passed=0 failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

sources=(doc/*.[0-9] README.md doc/*.md servers/*/README.md module/realms/*/README)
# "\fBname\fR(3)" in roff, "name(3)" in text; only the project's own pages.
refs=$(grep -ohE '(\\fB)?(lib)?certrole[a-z0-9_-]*(\\fR)?\([0-9]\)' "${sources[@]}" |
       sed -e 's/\\fB//g' -e 's/\\fR//g' | sort -u)
for r in $refs; do
    name=${r%(*} sec=${r#*(}; sec=${sec%)}
    page="doc/$name.$sec"
    if [ ! -f "$page" ]; then
        fail "$r is referenced but $page does not exist"
    elif ! grep -qE "(^|[[:space:]])$page([[:space:]]|\\\\|$)" doc/doc.am; then
        fail "$page exists but doc/doc.am does not install it"
    else
        passed=$((passed + 1))
    fi
done
# A page that only points at another (.so) must point at one that exists.
for p in doc/*.[0-9]; do
    target=$(sed -n 's/^\.so man[0-9]\///p' "$p")
    [ -z "$target" ] && continue
    if [ -f "doc/$target" ]; then passed=$((passed + 1)); else fail "$p points at missing $target"; fi
done
total=$((passed + failed))
echo "$(( total ? passed * 100 / total : 100 ))%: Checks: $total, Failures: $failed, Errors: 0"
[ "$failed" -eq 0 ]
