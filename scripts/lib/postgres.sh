# Throwaway PostgreSQL servers for tests and benchmarks (source this file).
# pg_start DIR [fsync]: initdb in DIR/data and start a server that listens only on a Unix socket
# in DIR (no TCP port), as an unprivileged user: PostgreSQL refuses root, so as root the
# cluster belongs to Debian's "postgres" user. Superuser "imprint", trust authentication on the
# socket (only the socket's directory lets anyone in). Prints nothing; sets PG_HOST=DIR.
# pg_stop DIR: fast shutdown; pg_restart DIR: stop and start the same cluster.

pg_bin=${PG_BIN:-/usr/lib/postgresql/15/bin}

pg_as_owner() {
  if [[ $(id -u) == 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_start() {
  local dir=$1 fsync=${2:-off}
  mkdir -p "$dir"
  if [[ $(id -u) == 0 ]]; then
    chown postgres: "$dir"
    chmod 0755 "$dir"
  fi
  if [[ ! -d $dir/data ]]; then
    pg_as_owner "$pg_bin/initdb" -D "$dir/data" -U imprint --auth=trust --no-instructions \
      -E UTF8 > "$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
  fi
  pg_as_owner "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c fsync=$fsync \
        -c max_connections=300 -c shared_buffers=64MB" start > /dev/null ||
    { cat "$dir/server.log" >&2; return 1; }
  PG_HOST=$dir
}

pg_stop() {
  local dir=$1
  [[ -f $dir/data/postmaster.pid ]] || return 0
  pg_as_owner "$pg_bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop > /dev/null || true
}

pg_restart() {
  local dir=$1
  pg_as_owner "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -w -t 60 restart \
    > /dev/null
}

# pg_createdb NAME: a fresh database on the server at $PG_HOST.
pg_createdb() {
  "$pg_bin/createdb" -h "$PG_HOST" -U imprint "$1"
}
