#!/bin/sh
# ld-searched.sh DIR: succeeds when the dynamic loader finds libraries in
# DIR without a run path (its built-in directories or /etc/ld.so.conf),
# i.e. when an ldconfig after installing there is all a program needs.
set -eu
[ $# -eq 1 ] || { echo "usage: ld-searched.sh DIR" >&2; exit 2; }
want=$(readlink -m "$1")
ldconfig=$(command -v ldconfig || echo /sbin/ldconfig)
for d in /lib /usr/lib \
    $("$ldconfig" -v -N -X 2>/dev/null | sed -n 's/^\(\/[^:]*\):.*/\1/p'); do
    [ "$(readlink -m "$d")" = "$want" ] && exit 0
done
exit 1
