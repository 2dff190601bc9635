#!/usr/bin/env bash
# Makes PostgreSQL 15 with the pgvector extension available on this machine, for `embeddings sync` / `similar
# --postgres` and for the PostgreSQL tests (their fixture starts a throw-away cluster with initdb + pg_ctl).
# Installs the Debian packages it needs (postgresql-15, its contrib modules for postgres_fdw, and
# postgresql-server-dev-15 to build extensions), then builds pgvector from ../shared/vendor and installs it.
# Never fails the caller: when something cannot be installed it says what and why, and the PostgreSQL tests are
# then skipped with that reason. Idempotent: a second run with pgvector installed does nothing.
set -uo pipefail
cd "$(dirname "$0")/.."

version=15
pgvector_tarball=../shared/vendor/pgvector-0.8.6.tar.gz
bin=/usr/lib/postgresql/$version/bin

say() { echo "setup-postgres: $*"; }
give_up() { say "$* - the PostgreSQL tests will be skipped"; exit 0; }

vector_installed() {
  [ -x "$bin/pg_config" ] || return 1
  [ -f "$("$bin/pg_config" --sharedir)/extension/vector.control" ] && [ -f "$("$bin/pg_config" --pkglibdir)/vector.so" ]
}

if [ -x "$bin/initdb" ] && vector_installed && [ -f "$("$bin/pg_config" --pkglibdir)/postgres_fdw.so" ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  give_up "not root and no password-less sudo, so postgresql-$version and pgvector cannot be installed"
fi

packages=()
[ -x "$bin/initdb" ] || packages+=("postgresql-$version")
[ -f "$bin/../lib/postgres_fdw.so" ] || packages+=("postgresql-contrib")
[ -f "/usr/include/postgresql/$version/server/postgres.h" ] || packages+=("postgresql-server-dev-$version")
command -v make >/dev/null || packages+=(make)
command -v gcc >/dev/null || packages+=(gcc)
if [ ${#packages[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || give_up "no apt-get to install ${packages[*]}"
  say "installing ${packages[*]}"
  apt=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -qq)
  "${apt[@]}" update >/dev/null || give_up "apt-get update failed"
  "${apt[@]}" install -y --no-install-recommends "${packages[@]}" >/dev/null || give_up "apt-get install ${packages[*]} failed"
fi

if ! vector_installed; then
  [ -f "$pgvector_tarball" ] || give_up "$pgvector_tarball is missing"
  build=$(mktemp -d)
  trap 'rm -rf "$build"' EXIT
  tar -xzf "$pgvector_tarball" -C "$build" || give_up "cannot unpack $pgvector_tarball"
  source_dir=$(find "$build" -mindepth 1 -maxdepth 1 -type d | head -n 1)
  say "building pgvector in $source_dir"
  make -s -C "$source_dir" PG_CONFIG="$bin/pg_config" >/dev/null 2>"$build/make.log" \
    || { tail -n 20 "$build/make.log"; give_up "building pgvector failed"; }
  "${as_root[@]}" make -s -C "$source_dir" PG_CONFIG="$bin/pg_config" install >/dev/null 2>>"$build/make.log" \
    || { tail -n 20 "$build/make.log"; give_up "installing pgvector failed"; }
fi
vector_installed || give_up "pgvector is still not installed after the build"
say "PostgreSQL $version with pgvector ready ($bin)"
