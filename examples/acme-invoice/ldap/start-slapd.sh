#!/usr/bin/env bash
# Starts a throwaway OpenLDAP slapd holding acme-directory.ldif.
#
#   start-slapd.sh WORKDIR PORT
#
# Writes WORKDIR/slapd.conf and an mdb database in WORKDIR/db, loads the
# LDIF with slapadd and starts slapd on ldap://127.0.0.1:PORT/ in the
# background; its pid is in WORKDIR/slapd.pid (stop it with
# kill "$(cat WORKDIR/slapd.pid)"). SLAPD / SLAPADD override the binaries.
set -eu
work=$1 port=$2
here=$(cd "$(dirname "$0")" && pwd)
slapd=${SLAPD:-/usr/sbin/slapd}
slapadd=${SLAPADD:-/usr/sbin/slapadd}
schema=${LDAP_SCHEMA_DIR:-/etc/ldap/schema}
modules=${LDAP_MODULE_DIR:-/usr/lib/ldap}
mkdir -p "$work/db"
cat > "$work/slapd.conf" <<CONF
include $schema/core.schema
include $schema/cosine.schema
include $schema/inetorgperson.schema
modulepath $modules
moduleload back_mdb
pidfile $work/slapd.pid
argsfile $work/slapd.args
database mdb
suffix "dc=acme,dc=example"
directory $work/db
maxsize 16777216
access to * by * read
CONF
"$slapadd" -q -f "$work/slapd.conf" -l "$here/acme-directory.ldif"
"$slapd" -f "$work/slapd.conf" -h "ldap://127.0.0.1:$port/"
# slapd forks; wait until it answers
i=0
while [ ! -s "$work/slapd.pid" ] || ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    i=$((i + 1))
    [ "$i" -lt 100 ] || { echo "start-slapd: slapd did not start" >&2; exit 1; }
    sleep 0.05
done
