# cluster.sh: start and stop a private PostgreSQL cluster (sourced, not run).
#
# A cluster is a folder: data/ (PGDATA), sock/ (its Unix socket) or a short
# socket folder under /tmp when the path would be too long, server.log, and
# env (the PG* variables to reach it).  PostgreSQL refuses to run as root, so
# as root the server runs as the postgres user.

PG_CONFIG=${PG_CONFIG:-$( [[ -x /usr/lib/postgresql/15/bin/pg_config ]] && echo /usr/lib/postgresql/15/bin/pg_config || echo pg_config)}
PGBIN=$("$PG_CONFIG" --bindir)

# Run a command as the server's owner.
as_pg() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Print a TCP port on 127.0.0.1 that nothing listens on, starting at $1.
free_port() {
  local p=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}

# Export free ports for http/stack.sh's PostgREST, its admin server and mtail,
# from a random base away from the defaults (a demo or a bench may hold
# those); nginx's port is left to stack.sh, which retries on a clash.
stack_ports_away() {
  local base=$((20000 + RANDOM % 20000))
  export PGRST_PORT=$(free_port "$base")
  export PGRST_ADMIN_PORT=$(free_port $((PGRST_PORT + 1)))
  export MTAIL_PORT=$(free_port $((PGRST_ADMIN_PORT + 1)))
}

# cluster_start DIR PORT CRON_DB: initialise (once) and start a cluster.
cluster_start() {
  local dir=$1 port=$2 crondb=$3 sock
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  sock="$dir/sock"
  if (( ${#sock} > 80 )); then
    sock=$(mktemp -d /tmp/analytics-sock.XXXXXX)
  fi
  mkdir -p "$sock"
  if [[ $(id -u) -eq 0 ]]; then chown postgres: "$dir" "$sock"; fi
  if [[ ! -f "$dir/data/PG_VERSION" ]]; then
    as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; return 1; }
  fi
  cat >"$dir/data/postgresql.auto.conf" <<CONF
# written by tools/cluster.sh at each start
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$sock'
shared_preload_libraries = 'pg_cron,analytics'
cron.database_name = '$crondb'
analytics.worker_database = '$crondb'
cron.use_background_workers = on
timezone = 'UTC'
log_timezone = 'UTC'
max_worker_processes = 16
max_parallel_workers_per_gather = 2
${CLUSTER_EXTRA_CONF:-}
CONF
  if [[ $(id -u) -eq 0 ]]; then chown postgres: "$dir/data/postgresql.auto.conf"; fi
  touch "$dir/server.log"; [[ $(id -u) -eq 0 ]] && chown postgres: "$dir/server.log"
  # (fd 9 is closed: the server must not inherit a caller's lock file)
  if [[ -n "${CLUSTER_SERVER_WRAPPER:-}" ]]; then
    # A command the server alone runs under (e.g. valgrind, which pg_ctl
    # must not run under): start postgres directly and wait until it is up.
    as_pg $CLUSTER_SERVER_WRAPPER "$PGBIN/postgres" -D "$dir/data" >>"$dir/server.log" 2>&1 9>&- &
    local i
    for ((i = 0; i < 240; i++)); do
      "$PGBIN/pg_isready" -q -h "$sock" -p "$port" && break
      sleep 0.5
    done
    "$PGBIN/pg_isready" -q -h "$sock" -p "$port" || { tail -30 "$dir/server.log" >&2; return 1; }
  else
    as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null 9>&- \
      || { tail -30 "$dir/server.log" >&2; return 1; }
  fi
  cat >"$dir/env" <<ENV
export PGHOST='$sock' PGPORT='$port' PGUSER=postgres
ENV
  export PGHOST="$sock" PGPORT="$port" PGUSER=postgres
}

# cluster_stop DIR: stop the cluster if it runs.
cluster_stop() {
  local dir=$1
  [[ -f "$dir/data/postmaster.pid" ]] || return 0
  as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null || true
}
