#!/usr/bin/env bash
# Make sure a PostgreSQL server with PostGIS answers on 127.0.0.1:5432 for the tests that need
# a real one: use a running server; else start the installed cluster; else install Debian's
# and start it. PostGIS (the registers' geometry) is installed for the server's version if the
# server does not offer it yet.
set -euo pipefail
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq postgresql
  fi
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && break
    sleep 1
  done
  pg_isready -q -h 127.0.0.1 -p 5432 || {
    echo "PostgreSQL is not answering on 127.0.0.1:5432" >&2; exit 1; }
fi
query() { psql -h 127.0.0.1 -U postgres -d postgres -tAc "$1"; }
if [ -z "$(query "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")" ]; then
  major=$(query "SHOW server_version_num" | cut -c1-2)
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "postgresql-${major}-postgis-3"
fi
[ -n "$(query "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")" ] || {
  echo "PostGIS is not available on the PostgreSQL server at 127.0.0.1:5432" >&2; exit 1; }
