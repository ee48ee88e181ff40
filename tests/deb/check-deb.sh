#!/bin/sh
# check-deb.sh DEBDIR PKIDIR: installs the .debs in DEBDIR on this system,
# runs the Acme scenario through the system nginx with the packaged module,
# purges the packages and checks that nothing they installed is left.
# Needs root. Leaves no package installed and no nginx running.
set -eu
known() {  # dpkg still has the package in any state but not-installed
    case $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) in
    ''|not-installed) return 1 ;;
    esac
}
[ $# -eq 2 ] || { echo "usage: check-deb.sh DEBDIR PKIDIR" >&2; exit 2; }
debdir=$(cd "$1" && pwd) pki=$(cd "$2" && pwd)
[ "$(id -u)" -eq 0 ] || { echo "check-deb: needs root (dpkg -i)" >&2; exit 1; }
pkgs="libcertrole0 libcertrole-dev certrole libnginx-mod-http-certrole certrole-lighttpd libapache2-mod-certrole"
for p in $pkgs; do
    if known "$p"; then
        echo "check-deb: $p is already installed; refusing to touch it" >&2; exit 1
    fi
done
tmp=$(mktemp -d /tmp/certrole-deb.XXXXXX)
chmod 755 "$tmp"
prc=
cleanup() {
    set +e
    [ -f "$tmp/nginx.pid" ] && kill "$(cat "$tmp/nginx.pid")" 2>/dev/null && sleep 0.5
    # shellcheck disable=SC2086  # one dpkg call: it orders the removals
    dpkg --purge $pkgs >/dev/null 2>&1
    [ -n "$prc" ] && rm -f /usr/sbin/policy-rc.d
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
# Packaged daemons must not start or reload during install and purge.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    prc=1
fi

debs=
for p in $pkgs; do
    f=$(ls "$debdir/${p}_"*.deb)
    debs="$debs $f"
done
# shellcheck disable=SC2086
dpkg -i $debs > "$tmp/dpkg-i.log" 2>&1 || { cat "$tmp/dpkg-i.log"; exit 1; }
for p in $pkgs; do dpkg -L "$p"; done | sort -u > "$tmp/files"
link=/etc/nginx/modules-enabled/50-mod-http-certrole.conf
[ -L "$link" ] && [ -e "$link" ] || { echo "check-deb: $link missing or dangling" >&2; exit 1; }
echo "check-deb: installed $(wc -l < "$tmp/files") paths; $link -> $(readlink "$link")"

. "$(dirname "$0")/acme-nginx.sh"
acme_nginx "$tmp" "$pki"

kill "$(cat "$tmp/nginx.pid")"; sleep 0.5; rm -f "$tmp/nginx.pid"
# shellcheck disable=SC2086
dpkg --purge $pkgs > "$tmp/purge.log" 2>&1 || { cat "$tmp/purge.log"; exit 1; }
for p in $pkgs; do
    if known "$p"; then
        echo "check-deb: $p still known to dpkg after purge" >&2; exit 1
    fi
done
left=
while IFS= read -r f; do
    case $f in /.|/etc|/usr|/usr/*/|/usr/bin|/usr/lib|/usr/lib/*-linux-gnu|/usr/include|/usr/share|/usr/share/doc|/usr/share/man|/usr/share/man/man?|/usr/libexec|/usr/lib/nginx|/usr/lib/nginx/modules|/usr/share/nginx|/usr/share/nginx/modules-available|/usr/lib/apache2|/usr/lib/apache2/modules|/etc/apache2|/etc/apache2/mods-available|/usr/lib/*-linux-gnu/pkgconfig) continue ;; esac
    if [ -e "$f" ] || [ -L "$f" ]; then left="$left $f"; fi
done < "$tmp/files"
for l in /etc/nginx/modules-enabled/*certrole* /etc/apache2/mods-enabled/certrole*; do
    if [ -e "$l" ] || [ -L "$l" ]; then left="$left $l"; fi
done
[ -z "$left" ] || { echo "check-deb: left after purge:$left" >&2; exit 1; }
echo "check-deb: purge left nothing behind; OK"
