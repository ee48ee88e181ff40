#!/bin/sh
# Builds and runs the libFuzzer targets (called by 'make fuzz' and
# 'make check-fuzz', see tests/fuzz/fuzz.am):
#   fuzz.sh build          compile the library with clang into
#                          tests/fuzz/libfuzzcore.a and link each target
#   fuzz.sh run SECONDS    build, then run each target SECONDS seconds,
#                          as many at once as there are CPUs; print execs, exec/s,
#                          coverage and crashes per target
#   fuzz.sh check SECONDS  the same, and fail on any crash, leak, UB or
#                          timeout; writes tests/check-fuzz.log/.trs
#                          (automake test-driver style) for the summary
# Environment (set by the makefile): FUZZ_CC, SRCDIR (source tree),
# FUZZ_LIB_SRCS (library sources, relative to SRCDIR), FUZZ_CPPFLAGS,
# FUZZ_LIBS, FUZZ_TARGETS, CERTROLE_PKI, OPENSSL. Runs in the build tree.
# Objects live in tests/fuzz/obj/, never beside the gcc build's.
set -u
mode=${1:?usage: fuzz.sh build|run|check [SECONDS]}
secs=${2:-60}
cc=${FUZZ_CC:-clang}
src=${SRCDIR:?}
out=tests/fuzz
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
cflags="-g -O1 -fno-omit-frame-pointer $san -std=gnu11 -Wall -Wextra -Wno-unused-parameter"
log=tests/check-fuzz.log
trs=tests/check-fuzz.trs

note() { echo "fuzz: $*"; }

# In check mode, a missing compiler is a skip, recorded as one.
skip() {
    msg="SKIP: fuzz: $1, not run (Debian: apt-get install clang libclang-rt-14-dev)"
    echo "$msg"
    if [ "$mode" = check ]; then
        mkdir -p tests
        echo "$msg" > "$log"
        printf ':test-result: SKIP\n:global-test-result: SKIP\n:recheck: no\n:copy-in-global-log: yes\n' > "$trs"
    fi
    exit 0
}

have_fuzzer() {
    command -v "$cc" > /dev/null 2>&1 || return 1
    tmp=$(mktemp -d) || return 1
    printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' > "$tmp/t.c"
    "$cc" -fsanitize=fuzzer,address,undefined "$tmp/t.c" -o "$tmp/t" > /dev/null 2>&1
    rc=$?
    rm -rf "$tmp"
    return $rc
}

build() {
    command -v "$cc" > /dev/null 2>&1 || skip "$cc not found"
    have_fuzzer || skip "$cc cannot link -fsanitize=fuzzer"
    mkdir -p "$out/obj"
    # An object is stale when its source or any header is newer.
    newest_h=$(ls -t "$src"/include/*.h "$src"/module/*/*.h "$src"/module/realms/file/*.h | head -n 1)
    stale=""
    for s in $FUZZ_LIB_SRCS; do
        o="$out/obj/$(echo "$s" | tr / _ | sed 's/\.c$/.o/')"
        if [ ! -f "$o" ] || [ "$src/$s" -nt "$o" ] || [ "$newest_h" -nt "$o" ]; then
            stale="$stale $s"
        fi
    done
    if [ -n "$stale" ]; then
        note "compiling $(echo $stale | wc -w) library sources with $cc"
        # Two at a time: the machine is shared.
        printf '%s\n' $stale | xargs -P 2 -I {} sh -c '
            o="$0/obj/$(echo "$1" | tr / _ | sed "s/\.c\$/.o/")"
            exec $2 $3 -fsanitize=fuzzer-no-link $4 -c "$5/$1" -o "$o"' \
            "$out" {} "$cc" "$cflags" "$FUZZ_CPPFLAGS" "$src" || exit 1
        rm -f "$out/libfuzzcore.a"
    fi
    if [ ! -f "$out/libfuzzcore.a" ]; then
        objs=""
        for s in $FUZZ_LIB_SRCS; do
            objs="$objs $out/obj/$(echo "$s" | tr / _ | sed 's/\.c$/.o/')"
        done
        ar rcs "$out/libfuzzcore.a" $objs || exit 1
    fi
    for t in $FUZZ_TARGETS; do
        f="$out/fuzz_$t"
        if [ ! -x "$f" ] || [ "$src/tests/fuzz/fuzz_$t.c" -nt "$f" ] ||
           [ "$src/tests/fuzz/fuzz_common.h" -nt "$f" ] || [ "$out/libfuzzcore.a" -nt "$f" ]; then
            note "linking $f"
            $cc $cflags -Werror -fsanitize=fuzzer -I"$src/tests/fuzz" $FUZZ_CPPFLAGS \
                "$src/tests/fuzz/fuzz_$t.c" "$out/libfuzzcore.a" $FUZZ_LIBS -o "$f" || exit 1
        fi
    done
}

# stat NAME LOG: a libFuzzer final statistic.
stat() { sed -n "s/^stat::$1: *//p" "$2" | tail -n 1; }

# run_one TARGET: fuzzes it for $secs, then writes its summary line to
# $out/fuzz_TARGET.line and 0 or 1 (a crash) to $out/fuzz_TARGET.rc.
run_one() {
    t=$1
    mkdir -p "$out/corpus-run/$t"
    set -- "$out/corpus-run/$t" "$src/tests/fuzz/corpus/$t"
    [ -d "$out/gen/$t" ] && set -- "$@" "$out/gen/$t"
    dict=""
    [ -f "$src/tests/fuzz/$t.dict" ] && dict="-dict=$src/tests/fuzz/$t.dict"
    tlog="$out/fuzz_$t.log"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
    "./$out/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$out/artifacts/$t-" $dict "$@" \
        > "$tlog" 2>&1
    rc=$?
    execs=$(stat number_of_executed_units "$tlog")
    eps=$(stat average_exec_per_sec "$tlog")
    last=$(grep -E '^#[0-9]+' "$tlog" | tail -n 1)
    cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
    crashes=0
    what=""
    if [ $rc -ne 0 ]; then
        crashes=1
        art=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$tlog" | tail -n 1)
        what=" ($(grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error' "$tlog" |
                sed 's/^.*ERROR: //') -> ${art:-see $tlog})"
    fi
    printf '%-12s %10s %8s %7s %7s %7s %s%s\n' "$t" "${execs:-?}" "${eps:-?}" \
           "${cov:-?}" "${ft:-?}" "${corp:-?}" "$crashes" "$what" > "$out/fuzz_$t.line"
    echo "$crashes" > "$out/fuzz_$t.rc"
}

run_all() {
    # Generated seeds: the test PKI in every format, DER names.
    if [ -n "${CERTROLE_PKI:-}" ] && [ -d "$CERTROLE_PKI" ]; then
        OPENSSL=${OPENSSL:-openssl} sh "$src/tests/fuzz/gen-seeds.sh" "$src/tests/fuzz" \
            "$CERTROLE_PKI" "$out/gen" || note "could not generate certificate seeds"
    fi
    mkdir -p "$out/artifacts"
    # As many targets at once as there are CPUs (each fuzzer is one
    # process), in batches: the same time per target, less in all.
    ncpu=$(nproc 2>/dev/null || echo 1)
    batch=0
    for t in $FUZZ_TARGETS; do
        rm -f "$out/fuzz_$t.line" "$out/fuzz_$t.rc"
        run_one "$t" &
        batch=$((batch + 1))
        if [ "$batch" -ge "$ncpu" ]; then
            wait
            batch=0
        fi
    done
    wait
    failed=0 total=0 nfail=0
    summary=""
    printf '%-12s %10s %8s %7s %7s %7s %s\n' target execs exec/s cov ft corpus crashes
    for t in $FUZZ_TARGETS; do
        total=$((total + 1))
        line=$(cat "$out/fuzz_$t.line" 2>/dev/null) ||
            line=$(printf '%-12s (no result: the run did not finish)' "$t")
        if [ "$(cat "$out/fuzz_$t.rc" 2>/dev/null)" != 0 ]; then
            failed=1
            nfail=$((nfail + 1))
        fi
        echo "$line"
        summary="$summary$line
"
    done
    if [ "$mode" = check ]; then
        {
            printf '%-12s %10s %8s %7s %7s %7s %s\n' target execs exec/s cov ft corpus crashes
            printf '%s' "$summary"
            # The line tests/summarize.sh counts (one check per target).
            echo "$(( (total - nfail) * 100 / total ))%: Checks: $total, Failures: $nfail, Errors: 0"
        } > "$log"
        r=PASS
        [ $failed -ne 0 ] && r=FAIL
        printf ':test-result: %s\n:global-test-result: %s\n:recheck: no\n:copy-in-global-log: yes\n' \
            "$r" "$r" > "$trs"
    fi
    [ $failed -eq 0 ] || { note "a target failed; logs in $out/fuzz_TARGET.log"; exit 1; }
}

case "$mode" in
    build) build ;;
    run|check) build; run_all ;;
    *) echo "usage: fuzz.sh build|run|check [SECONDS]" >&2; exit 2 ;;
esac
