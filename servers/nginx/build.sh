#!/bin/sh
# Builds ngx_http_certrole_module.so against the nginx installed from the
# distribution, using the configured sources Debian's nginx-dev ships in
# /usr/share/nginx/src (only headers and the configure machinery: the
# module is compiled with exactly the flags the packaged nginx was, so the
# binary-compatibility signature matches).
#
#   build.sh --include DIR --libdir DIR --out FILE [--builddir DIR]
#            [--nginx-src DIR] [--rpath | --runpath DIR] [--optional]
#
#   --include    where certrole.h is (e.g. /usr/local/include); may be given
#                again for a second directory (a build tree's generated
#                certrole_version.h)
#   --libdir     where libcertrole.so is (e.g. /usr/local/lib)
#   --out        where to put the finished .so
#   --builddir   scratch dir; kept, so a rebuild only recompiles the module
#   --nginx-src  configured nginx sources (default /usr/share/nginx/src)
#   --rpath      record --libdir as the module's run path (build trees)
#   --runpath    record DIR as the run path instead (an installed module
#                linked against a build tree, for a libdir ld.so does not
#                search)
#   --optional   without nginx sources, print the reason to stderr, write it
#                to FILE.skip and succeed (so `make check` can skip)
#
# For an nginx built from source instead, see README.md.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
nginx_src=/usr/share/nginx/src
inc= libdir= out= builddir= rpath= runpath= optional=

while [ $# -gt 0 ]; do
    case $1 in
    --include) inc="$inc${inc:+ }$2"; shift ;;
    --libdir) libdir=$2; shift ;;
    --out) out=$2; shift ;;
    --builddir) builddir=$2; shift ;;
    --nginx-src) nginx_src=$2; shift ;;
    --rpath) rpath=1 ;;
    --runpath) runpath=$2; shift ;;
    --optional) optional=1 ;;
    *) echo "build.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

[ -n "$inc" ] && [ -n "$libdir" ] && [ -n "$out" ] || {
    echo "usage: build.sh --include DIR --libdir DIR --out FILE [--builddir DIR] [--nginx-src DIR] [--rpath] [--optional]" >&2
    exit 2
}
[ -n "$builddir" ] || builddir=$(dirname "$out")/nginx-build

skip() {
    if [ -n "$optional" ]; then
        echo "nginx module not built: $1" >&2
        mkdir -p "$(dirname "$out")"
        echo "$1" > "$out.skip"
        rm -f "$out"
        exit 0
    fi
    echo "build.sh: $1" >&2
    exit 1
}

[ -f "$nginx_src/configure" ] && [ -f "$nginx_src/conf_flags" ] ||
    skip "no configured nginx sources in $nginx_src (Debian: apt-get install nginx-dev)"
found=
for d in $inc; do [ -f "$d/certrole.h" ] && found=1; done
[ -n "$found" ] || skip "certrole.h not found in $inc"

# conf_flags is a bash array assignment: NGX_CONF_FLAGS=( --a --b=c ... ).
# Take the words between the parentheses; none of them contain spaces.
flags=$(sed -n 's/^NGX_CONF_FLAGS=(\(.*\))[[:space:]]*$/\1/p' "$nginx_src/conf_flags")
[ -n "$flags" ] || skip "cannot read the flags in $nginx_src/conf_flags"

ld_opt="-L$libdir"
[ -n "$rpath" ] && runpath=$libdir
[ -n "$runpath" ] && ld_opt="$ld_opt -Wl,-rpath,$runpath"
cc_opt="$(for d in $inc; do printf -- '-I%s ' "$d"; done)-g -O2 -fPIC"

# Reconfigure only when the inputs changed: configure takes a while and
# `make modules` alone recompiles just our files.
sig="$flags|$here|$(cksum < "$here/config")|$cc_opt|$ld_opt|$(grep NGINX_VERSION "$nginx_src/src/core/nginx.h" | head -1)"
if [ ! -f "$builddir/objs/Makefile" ] || [ "$(cat "$builddir/.certrole-sig" 2>/dev/null)" != "$sig" ]; then
    rm -rf "$builddir"
    mkdir -p "$builddir"
    cp -R "$nginx_src/." "$builddir/"
    (
        cd "$builddir"
        # shellcheck disable=SC2086  # word splitting of $flags is intended
        CERTROLE_NO_PKGCONFIG=1 ./configure $flags \
            --add-dynamic-module="$here" \
            --with-cc-opt="$cc_opt" \
            --with-ld-opt="$ld_opt" > configure.log 2>&1
    ) || { tail -20 "$builddir/configure.log" >&2; echo "build.sh: nginx configure failed (log: $builddir/configure.log)" >&2; exit 1; }
    echo "$sig" > "$builddir/.certrole-sig"
fi

make -C "$builddir" -f objs/Makefile modules >&2
mkdir -p "$(dirname "$out")"
cp "$builddir/objs/ngx_http_certrole_module.so" "$out.tmp"
mv "$out.tmp" "$out"
rm -f "$out.skip"
echo "built $out" >&2
