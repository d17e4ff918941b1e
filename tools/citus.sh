#!/usr/bin/env bash
# citus.sh: Citus for `make test-citus` and bench/citus.sh.
#
#   tools/citus.sh build          build + install Citus 13.2 from the source in
#                                 $CITUS_SRC (default: ../shared/citus), unless
#                                 the PostgreSQL that $PG_CONFIG names has it
#   tools/citus.sh start DIR      start a coordinator and two workers on
#                                 127.0.0.1, each with its own port, socket
#                                 folder and data folder under DIR, and write
#                                 DIR/env (COORD_PORT, WORKER1_PORT, ...)
#   tools/citus.sh stop DIR       stop them
#
# Sourced (`source tools/citus.sh`), it only defines the functions.  The build
# happens out of the tree, in $CITUS_BUILD_DIR (default .citus-build/, which
# git ignores), and is reused while the source's checksum is the same; nothing
# is downloaded.  As root the servers run as `postgres`, like tools/cluster.sh.

CITUS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CITUS_VERSION=13.2.2
CITUS_EXTVERSION=13.2-1   # default_version in its citus.control
# shellcheck source=tools/cluster.sh
source "$CITUS_ROOT/tools/cluster.sh"

citus_src_dir() {
  local d
  for d in "${CITUS_SRC:-}" "$CITUS_ROOT/../shared/citus" "$CITUS_ROOT/../../shared/citus" /work/shared/citus; do
    [[ -n "$d" && -f "$d/citus-$CITUS_VERSION.tar.gz" ]] && { (cd "$d" && pwd); return 0; }
  done
  echo "citus: no citus-$CITUS_VERSION.tar.gz found; set CITUS_SRC to its folder" >&2
  return 1
}

# Is the right Citus installed in the PostgreSQL that PG_CONFIG names?
citus_installed() {
  local share lib
  share=$("$PG_CONFIG" --sharedir); lib=$("$PG_CONFIG" --pkglibdir)
  [[ -f "$lib/citus.so" && -f "$share/extension/citus.control" ]] &&
    grep -q "^default_version = '$CITUS_EXTVERSION'" "$share/extension/citus.control"
}

citus_build() {
  if citus_installed; then echo "citus: $CITUS_EXTVERSION already installed"; return 0; fi
  local src build tree sum
  src=$(citus_src_dir) || return 1
  build=${CITUS_BUILD_DIR:-$CITUS_ROOT/.citus-build}
  mkdir -p "$build"
  build=$(cd "$build" && pwd)
  tree="$build/citus-$CITUS_VERSION"
  sum=$(cat "$src/citus-$CITUS_VERSION.tar.gz" "$src/pg15.20-compat.patch" | sha256sum | cut -c1-16)
  if [[ ! -f "$tree/.built-$sum" ]]; then
    echo "citus: building $CITUS_VERSION in $tree (about 1.5 minutes on 2 cores)"
    rm -rf "$tree"
    tar xzf "$src/citus-$CITUS_VERSION.tar.gz" -C "$build" || return 1
    (cd "$tree" && patch -s -p1 <"$src/pg15.20-compat.patch") || return 1
    (cd "$tree" && ./configure -q PG_CONFIG="$PG_CONFIG" >"$build/configure.log" 2>&1) \
      || { tail -30 "$build/configure.log" >&2; return 1; }
    (cd "$tree" && make -s -j"$(nproc)" >"$build/make.log" 2>&1) \
      || { tail -40 "$build/make.log" >&2; return 1; }
    touch "$tree/.built-$sum"
  fi
  local sudo=()
  [[ $(id -u) -ne 0 ]] && sudo=(sudo -n)
  (cd "$tree" && "${sudo[@]}" make -s install >"$build/install.log" 2>&1) \
    || { tail -20 "$build/install.log" >&2; return 1; }
  citus_installed || { echo "citus: installed, but $CITUS_EXTVERSION not found under $PG_CONFIG's paths" >&2; return 1; }
  echo "citus: $CITUS_EXTVERSION installed"
}

# citus_node_start DIR NAME PORT DB: one node (its own data folder, socket
# folder and port) with citus preloaded first.  pg_cron is preloaded on the
# coordinator only: the nightly job runs there.
citus_node_start() {
  local dir=$1 name=$2 port=$3 db=$4 preload
  if [[ $name == coord ]]; then
    preload="shared_preload_libraries = 'citus,pg_cron,analytics'"
  else
    preload="shared_preload_libraries = 'citus,analytics'"
  fi
  CLUSTER_EXTRA_CONF="$preload
max_connections = 100
max_parallel_workers_per_gather = 2
${CITUS_EXTRA_CONF:-}" cluster_start "$dir/$name" "$port" "$db" >/dev/null || return 1
}

# citus_start DIR: coordinator + 2 workers; DB is the database to create on
# each (citus is created in it and the workers are registered).
citus_start() {
  local dir=$1 db=${2:-analytics} base p n
  mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
  base=$((56000 + RANDOM % 8000))
  : >"$dir/env"
  p=$base
  for n in coord worker1 worker2; do
    p=$(free_port "$p")
    citus_node_start "$dir" "$n" "$p" "$db" || return 1
    echo "${n^^}_PORT=$p" >>"$dir/env"
    echo "${n^^}_HOST=$PGHOST" >>"$dir/env"
    p=$((p + 1))
  done
  echo "CITUS_DB=$db" >>"$dir/env"
  # shellcheck disable=SC1091
  source "$dir/env"
  for n in COORD WORKER1 WORKER2; do
    local h="${n}_HOST" pt="${n}_PORT"
    psql -X -q -h "${!h}" -p "${!pt}" -U postgres -d postgres -v ON_ERROR_STOP=1 \
      -c "CREATE DATABASE $db" -c "\\c $db" -c "CREATE EXTENSION citus" >/dev/null || return 1
  done
  # The coordinator reaches the workers (and itself) over 127.0.0.1 with
  # trust auth: a throwaway test cluster. docs/scaling.md says what to use
  # for real (a password in .pgpass, or certificates).
  psql -X -q -h "$COORD_HOST" -p "$COORD_PORT" -U postgres -d "$db" -v ON_ERROR_STOP=1 >/dev/null <<SQL || return 1
SELECT citus_set_coordinator_host('127.0.0.1', $COORD_PORT);
SELECT citus_add_node('127.0.0.1', $WORKER1_PORT);
SELECT citus_add_node('127.0.0.1', $WORKER2_PORT);
SQL
}

citus_stop() {
  local dir=$1 n
  for n in coord worker1 worker2; do cluster_stop "$dir/$n"; done
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -uo pipefail
  case "${1:-}" in
    build) citus_build ;;
    start) citus_start "${2:?DIR}" "${3:-analytics}" ;;
    stop) citus_stop "${2:?DIR}" ;;
    *) echo "usage: tools/citus.sh build | start DIR [DB] | stop DIR" >&2; exit 2 ;;
  esac
fi
