#!/usr/bin/env bash
# Does quickstart install everything the tests run?
#
#   check-packages.sh [--list-only] [SRCDIR]
#
# 1. The list: every module a test or example configuration loads
#    (lighttpd server.modules, nginx load_module, Apache LoadModule, slapd
#    moduleload), every schema slapd includes and every program configure
#    looks for (AC_PATH_PROG) must have an entry in
#    tests/external-programs.txt. Fails naming what is missing there.
# 2. The packages (not with --list-only; needs dpkg): every entry must
#    exist and each file (a symlink and what it points to) must belong to
#    a package in quickstart's PKGS, in their Depends/PreDepends closure,
#    or an Essential one. Fails naming the program, its package and the fix.
set -euo pipefail

list_only=no
if [ "${1:-}" = --list-only ]; then list_only=yes; shift; fi
src=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
list="$src/tests/external-programs.txt"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

[ -f "$list" ] || { echo "check-packages: $list not found" >&2; exit 2; }

# ---- 1. the list covers what the configurations load ------------------
declare -A listed=()
while read -r kind name _; do
    case "$kind" in ''|'#'*) continue ;; esac
    listed["$kind $name"]=1
done < "$list"

# Source files that configure or start servers: test configurations and
# the C and shell code that writes them, examples included.
mapfile -t sources < <(
    for d in tests examples servers; do
        [ -d "$src/$d" ] || continue
        find "$src/$d" -path "$src/tests/conformance/data" -prune -o \
             -path "$src/tests/fuzz/corpus" -prune -o -path "$src/tests/tools" -prune -o \
             -type f \( -name '*.c' -o -name '*.h' -o -name '*.in' -o -name '*.sh' \
                        -o -name '*.conf' -o -name 'config' \) -print
    done | sort)

# "KIND NAME FILE" for each thing a configuration loads: lighttpd
# server.modules = ( "mod_a", ... ), Apache LoadModule NAME .../mod_x.so,
# nginx load_module .../x_module.so, slapd moduleload NAME and include
# .../schema/NAME.schema. The project's own modules are left aside.
# shellcheck disable=SC2016 # an awk program
scan='
function each(re, kind, cut,    s, t) {
    s = $0
    while (match(s, re)) {
        t = substr(s, RSTART, RLENGTH)
        s = substr(s, RSTART + RLENGTH)
        gsub(cut, "", t)
        if (t !~ /certrole/) print kind, t, FILENAME
    }
}
/server\.modules[ \t]*\+?=/ { each("mod_[a-z0-9_]+", "lighttpd-module", "") }
/LoadModule[ \t]/ { each("mod_[A-Za-z0-9_]+\\.so", "apache-module", "\\.so$") }
/load_module[ \t]/ { each("[A-Za-z0-9_]+_module\\.so", "nginx-module", "\\.so$") }
{ each("moduleload[ \t]+[A-Za-z0-9_]+", "slapd-module", "^moduleload[ \t]+") }
{ each("include[ \t]+[^ \t\"]*schema/[a-z0-9_-]+\\.schema", "slapd-schema", "^.*/") }
'
uses=()
[ ${#sources[@]} -eq 0 ] || mapfile -t uses < <(awk "$scan" "${sources[@]}")
# configure: AC_PATH_PROG([VAR], [program], ...) and AC_PATH_PROGS([VAR],
# [program other-name], ...): the first name, the Debian one.
while IFS= read -r p; do uses+=("program $p configure.ac"); done < <(
    sed -n 's/.*AC_PATH_PROGS*(\[[A-Z_0-9]*\], *\[\([^] ]*\).*/\1/p' "$src/configure.ac")

for u in "${uses[@]}"; do
    read -r kind name where <<<"$u"
    [ -n "${listed["$kind $name"]:-}" ] ||
        fail "${where#"$src"/} loads $kind '$name', which tests/external-programs.txt does not list: add it there with its package"
done
echo "check-packages: ${#sources[@]} files load external programs and modules ${#uses[@]} times; $failures missing from the list"

# summary LINE CHECKS: the closing line tests/summarize.sh reads.
summary() {
    echo "$(( $1 > 0 ? ($1 - failures) * 100 / $1 : 0 ))%: Checks: $1, Failures: $failures, Errors: 0"
    [ "$failures" -eq 0 ]
}

if [ "$list_only" = yes ]; then
    summary "${#uses[@]}"
    exit
fi

# ---- 2. every entry comes from a package quickstart installs ----------
command -v dpkg-query >/dev/null 2>&1 || { echo "check-packages: dpkg-query not found (Debian only)" >&2; exit 2; }
mapfile -t pkgs < <("$src/quickstart" packages)
# The packages quickstart installs and everything they depend on, as
# installed (apt-get install --no-install-recommends pulls in no more).
declare -A have=()
while IFS= read -r p; do have[$p]=1; done < <(
    apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
        --no-breaks --no-replaces --no-enhances --installed "${pkgs[@]}" 2>/dev/null |
        grep -v '^ ' | tr -d '<>' | sed 's/:.*//')
while IFS= read -r p; do have[$p]=1; done < <(
    dpkg-query -W -f='${Package} ${Essential}\n' | awk '$2 == "yes" { print $1 }')
declare -A in_pkgs=()
for p in "${pkgs[@]}"; do in_pkgs[$p]=1; done

# fix PACKAGE: what to do about it.
fix() {
    if [ -n "${in_pkgs[$1]:-}" ]; then
        echo "$1 is in PKGS but not installed: run ./quickstart install"
    else
        echo "add $1 to PKGS in quickstart"
    fi
}

# resolve WHERE: the path an entry names, or nothing.
resolve() {
    local w=$1 m
    case "$w" in
        builtin:*) w=${w#builtin:} ;;
    esac
    case "$w" in
        /*) for m in $w; do [ -e "$m" ] && { echo "$m"; return 0; }; done; return 1 ;;
        *) PATH="$PATH:/usr/sbin:/sbin" command -v "$w" 2>/dev/null ;;
    esac
}

# builtin KIND NAME BINARY: is the module compiled into the server?
builtin() {
    case "$1" in
        lighttpd-module) grep -qa "${2}_plugin_init" "$3" ;;
        apache-module) "$3" -l 2>/dev/null | grep -qx "[[:space:]]*${2}\.c" ;;
        *) return 1 ;;
    esac
}

# Pass 1: resolve every entry; the files to ask dpkg about are each path,
# the file it finally points to, and their other spelling on a usr-merged
# system (dpkg may know /bin/x as such while the path is /usr/bin/x).
entries=()
declare -A queries=()
while read -r kind name where pkg rest; do
    case "$kind" in ''|'#'*) continue ;; esac
    if [ -z "$pkg" ] || [ -n "$rest" ]; then
        fail "tests/external-programs.txt: malformed line for $name"; continue
    fi
    if ! path=$(resolve "$where"); then
        fail "$kind $name ($where) is not installed; it comes with $pkg: $(fix "$pkg")"
        continue
    fi
    case "$where" in
        builtin:*)
            builtin "$kind" "$name" "$path" ||
                fail "$kind $name is not compiled into $path and has no file: $(fix "$pkg")" ;;
    esac
    real=$(readlink -f "$path")
    entries+=("$kind $name $pkg $path $real")
    for f in "$path" "$real" "${path#/usr}" "${real#/usr}" "/usr$path" "/usr$real"; do
        queries[$f]=1
    done
done < <(grep -v -E '^[[:space:]]*(#|$)' "$list")

# One dpkg query for all of them (each takes seconds on its own).
declare -A owners=()
while IFS= read -r line; do
    case "$line" in diversion*) continue ;; esac
    f=${line#*: }
    o=$(sed 's/: .*//; s/:[a-z0-9_-]*//g; s/,//g' <<<"$line")
    owners[$f]="${owners[$f]:+${owners[$f]} }$o"
done < <(dpkg-query -S "${!queries[@]}" 2>/dev/null | sort -u || true)

# owner PATH: the package(s) holding PATH, under either spelling.
owner() {
    local q
    for q in "$1" "${1#/usr}" "/usr$1"; do
        [ -n "${owners[$q]:-}" ] && { echo "${owners[$q]}"; return 0; }
    done
    return 1
}

# Pass 2: every file belongs to a package quickstart installs.
for e in "${entries[@]}"; do
    read -r kind name pkg path real <<<"$e"
    bad=""
    for f in "$path" "$real"; do
        if ! o=$(owner "$f"); then
            bad="$f belongs to no Debian package (installed by hand?); it should come with $pkg: $(fix "$pkg")"
            break
        fi
        ok=no
        for p in $o; do [ -n "${have[$p]:-}" ] && ok=yes; done
        if [ "$ok" = no ]; then
            bad="$f comes from $o, which quickstart does not install: $(fix "$pkg")"
            break
        fi
    done
    if [ -n "$bad" ]; then
        fail "$kind $name: $bad"
    else
        printf 'ok    %-16s %-22s %s (%s)\n' "$kind" "$name" "$real" "$(owner "$real")"
    fi
done

echo "check-packages: ${#entries[@]} programs and modules checked, $failures failures"
summary "$(( ${#uses[@]} + $(grep -c -v -E '^[[:space:]]*(#|$)' "$list") ))"
