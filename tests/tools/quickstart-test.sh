#!/usr/bin/env bash
# quickstart's package installation leaves no system-wide file behind.
#
# Runs './quickstart install' with a stand-in apt-get, dpkg-query and sudo
# first on PATH (they stand in for the package manager only, to exercise
# quickstart's own logic) and CERTROLE_QS_ROOT pointing at a scratch
# directory, so the real /usr/sbin is never touched. Checks that the
# policy-rc.d refusing service starts is in place while apt-get installs
# and gone afterwards: after success, after a failing apt-get, after
# Ctrl-C (SIGINT to the whole process group) and after SIGTERM to
# quickstart alone; that an administrator's own policy-rc.d is left alone;
# and that no trap trips 'set -u'.
#
# Prints one line per check and the summary line tests/summarize.sh reads.
set -euo pipefail

src=${CERTROLE_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
qs="$src/quickstart"
work=$(mktemp -d "${TMPDIR:-/tmp}/certrole-qs-XXXXXX")
bg=""
cleanup() {
    if [ -n "$bg" ]; then kill -KILL -- "-$bg" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

stubs="$work/bin"
mkdir -p "$stubs"
# dpkg-query: nothing is installed, so quickstart installs every package.
printf '#!/bin/sh\nexit 1\n' > "$stubs/dpkg-query"
# sudo: runs the command as the current user (the scratch root is ours).
printf '#!/bin/sh\nexec "$@"\n' > "$stubs/sudo"
# apt-get: records whether policy-rc.d refused starts during 'install',
# then succeeds, fails or waits for $STUB_DIR/release, as STUB_APT says.
cat > "$stubs/apt-get" <<'EOF'
#!/bin/sh
[ "$1" = install ] || exit 0
p="$CERTROLE_QS_ROOT/usr/sbin/policy-rc.d"
if [ -x "$p" ]; then "$p" nginx start; echo "policy-rc.d exit $?" > "$STUB_DIR/seen"; fi
case "$STUB_APT" in
    ok) exit 0 ;;
    fail) exit 100 ;;
    wait)
        : > "$STUB_DIR/started"
        i=0
        while [ ! -e "$STUB_DIR/release" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
        exit 0 ;;
esac
exit 2
EOF
chmod +x "$stubs"/*

checks=0 failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok:   $*"; }

# new_case NAME: a fresh scratch root and stub directory.
new_case() {
    case_dir="$work/$1"
    mkdir -p "$case_dir/root/usr/sbin" "$case_dir/stub"
}

# run_qs MODE: runs quickstart install in the current case; sets rc.
run_qs() {
    rc=0
    PATH="$stubs:$PATH" CERTROLE_QS_ROOT="$case_dir/root" STUB_DIR="$case_dir/stub" \
        STUB_APT="$1" "$qs" install > "$case_dir/out" 2>&1 || rc=$?
}

# wait_for FILE: up to 10 s.
wait_for() {
    local i=0
    while [ ! -e "$1" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    [ -e "$1" ]
}

# verdict NAME EXPECTED_RC: the common checks for one case.
verdict() {
    local name=$1 want=$2 ok=yes
    checks=$((checks + 1))
    if [ "$rc" -ne "$want" ]; then fail "$name: exit status $rc, expected $want"; ok=no; fi
    if [ -e "$case_dir/root/usr/sbin/policy-rc.d" ]; then
        fail "$name: policy-rc.d left behind"; ok=no
    fi
    if ! grep -q 'policy-rc.d exit 101' "$case_dir/stub/seen" 2>/dev/null; then
        fail "$name: no policy-rc.d refusing starts while apt-get installed"; ok=no
    fi
    if grep -q 'unbound variable' "$case_dir/out"; then
        fail "$name: a trap tripped set -u: $(grep 'unbound variable' "$case_dir/out")"; ok=no
    fi
    if [ "$ok" = yes ]; then pass "$name"; else sed 's/^/      /' "$case_dir/out"; fi
}

new_case success
run_qs ok
verdict "apt-get succeeds: exit 0, policy-rc.d removed" 0

new_case failure
run_qs fail
verdict "apt-get fails: its status, policy-rc.d removed" 100

# Ctrl-C: the terminal signals the whole foreground process group.
# Job control gives the background quickstart its own group. A shell that
# was itself started in the background without job control (a CI runner's
# script, 'make check &') inherits SIGINT ignored, and an ignored signal
# stays ignored across exec and cannot be trapped: perl (Essential)
# restores the default first, as a terminal's foreground job has it.
new_case sigint
set -m
PATH="$stubs:$PATH" CERTROLE_QS_ROOT="$case_dir/root" STUB_DIR="$case_dir/stub" \
    STUB_APT=wait perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV or die "exec: $!\n"' \
    "$qs" install > "$case_dir/out" 2>&1 &
bg=$!
set +m
if wait_for "$case_dir/stub/started"; then
    kill -INT -- "-$bg"
else
    echo "apt-get stand-in did not start" >> "$case_dir/out"
fi
rc=0; wait "$bg" || rc=$?
bg=""
verdict "Ctrl-C during apt-get: killed by SIGINT, policy-rc.d removed" 130

# SIGTERM to quickstart alone: it finishes waiting for apt-get, then cleans up.
new_case sigterm
set -m
PATH="$stubs:$PATH" CERTROLE_QS_ROOT="$case_dir/root" STUB_DIR="$case_dir/stub" \
    STUB_APT=wait "$qs" install > "$case_dir/out" 2>&1 &
bg=$!
set +m
if wait_for "$case_dir/stub/started"; then
    kill -TERM "$bg"
    sleep 0.3
    : > "$case_dir/stub/release"
else
    echo "apt-get stand-in did not start" >> "$case_dir/out"
fi
rc=0; wait "$bg" || rc=$?
bg=""
verdict "SIGTERM during apt-get: killed by SIGTERM, policy-rc.d removed" 143

# An administrator's own policy-rc.d is neither replaced nor removed.
new_case own-policy
printf '#!/bin/sh\n# site policy\nexit 0\n' > "$case_dir/root/usr/sbin/policy-rc.d"
chmod +x "$case_dir/root/usr/sbin/policy-rc.d"
cp "$case_dir/root/usr/sbin/policy-rc.d" "$case_dir/site-policy"
run_qs ok
checks=$((checks + 1))
if [ "$rc" -eq 0 ] && cmp -s "$case_dir/site-policy" "$case_dir/root/usr/sbin/policy-rc.d" &&
   ! grep -q 'unbound variable' "$case_dir/out"; then
    pass "an existing policy-rc.d is kept as it was"
else
    fail "existing policy-rc.d: exit $rc, file changed or removed"
    sed 's/^/      /' "$case_dir/out"
fi

echo "$(( (checks - failures) * 100 / checks ))%: Checks: $checks, Failures: $failures, Errors: 0"
[ "$failures" -eq 0 ]
