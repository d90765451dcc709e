#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests, on a loopback port, in a
# folder of its own:
#   pg_test_cluster.sh start STATE_DIR   initdb + pg_ctl start; writes
#                                        STATE_DIR/url (a libpq URL) and
#                                        STATE_DIR/port
#   pg_test_cluster.sh stop STATE_DIR    stops it and removes its files
#   pg_test_cluster.sh restart STATE_DIR stops it at once (as a crash
#                                        would) and starts it again
#   pg_test_cluster.sh crash STATE_DIR   only stops it at once
#   pg_test_cluster.sh resume STATE_DIR  starts a stopped cluster again
# initdb refuses to run as root, so as root the cluster belongs to the
# postgres user of Debian's package, in a folder of /tmp that user can
# reach (STATE_DIR/cluster names it).
set -euo pipefail

command=${1:?usage: pg_test_cluster.sh start|stop|restart|crash|resume STATE_DIR}
state=${2:?usage: pg_test_cluster.sh start|stop|restart|crash|resume STATE_DIR}

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "PostgreSQL server binaries are missing: install Debian's postgresql package (make test does)" >&2
  exit 1
fi

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  # Asks the kernel for a port nobody holds, then gives it back.
  python3 - 2>/dev/null <<'PY' || shuf -i 20000-60000 -n 1
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

pg_ctl_run() {
  local cluster
  cluster=$(cat "$state/cluster")
  as_owner "$bindir/pg_ctl" -D "$cluster/data" -l "$cluster/server.log" -w -t 60 "$@" > /dev/null
}

case "$command" in
  start)
    if [ -f "$state/cluster" ]; then "$0" stop "$state"; fi
    mkdir -p "$state"
    cluster=$(mktemp -d /tmp/signoff-pg.XXXXXX)
    echo "$cluster" > "$state/cluster"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$cluster"; fi
    as_owner "$bindir/initdb" -D "$cluster/data" -U signoff -A trust -E UTF8 --no-sync \
      > "$cluster/initdb.log"
    port=$(free_port)
    cat >> "$cluster/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$cluster'
max_connections = 300
shared_buffers = 128MB
log_min_messages = warning
# Deadlocks the tests provoke on purpose are found in a tenth of the
# default second.
deadlock_timeout = 100ms
CONF
    pg_ctl_run start
    echo "$port" > "$state/port"
    echo "postgresql://signoff@127.0.0.1:$port/postgres" > "$state/url"
    ;;
  stop)
    if [ -f "$state/cluster" ]; then
      pg_ctl_run stop -m fast || true
      rm -rf "$(cat "$state/cluster")"
    fi
    rm -rf "$state"
    ;;
  restart)
    pg_ctl_run stop -m immediate
    pg_ctl_run start
    ;;
  crash)
    pg_ctl_run stop -m immediate
    ;;
  resume)
    pg_ctl_run start
    ;;
  *)
    echo "unknown command $command" >&2
    exit 2
    ;;
esac
