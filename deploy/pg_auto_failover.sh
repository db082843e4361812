#!/bin/sh
# A PostgreSQL cluster with automatic failover for Resguardo: a pg_auto_failover
# monitor, a primary and a synchronous standby (Debian packages
# postgresql-15-auto-failover and pg-auto-failover-cli).
#
#   deploy/pg_auto_failover.sh up DIR [BASEPORT]  start monitor (BASEPORT), node 1
#                                                  (BASEPORT+1) and node 2 (BASEPORT+2)
#                                                  under DIR; prints the URL to use
#   deploy/pg_auto_failover.sh url DIR             the multi-host URL for RESGUARDO_DATABASE_URL
#   deploy/pg_auto_failover.sh state DIR           which node is primary, which standby
#   deploy/pg_auto_failover.sh primary DIR         port of the node that takes writes
#   deploy/pg_auto_failover.sh switchover DIR      planned failover (maintenance)
#   deploy/pg_auto_failover.sh kill NODE DIR       kill -9 a node's keeper and server (a test
#                                                  of the loss of a machine); NODE is 1 or 2
#   deploy/pg_auto_failover.sh down DIR            stop everything
#
# All three run on this host, on loopback: the layout for a trial or a test. In
# production each runs on its own machine with the same `pg_autoctl create`
# commands, --hostname set to the machine's name and --ssl-self-signed or real
# certificates instead of --no-ssl (README, "High availability").
#
# HA_FAST=1 shortens the monitor's health checks and the demotion wait, once both
# nodes are up, so that a lost primary is replaced in seconds instead of about a
# minute; the tests use it. Leave it unset in production: the defaults give a
# primary cut off from the monitor time to stop taking writes before its standby
# is promoted.
#
# As root, the servers run as the postgres user (PostgreSQL refuses root).
set -eu

PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -x "$PGBIN/postgres" ] || { echo "PostgreSQL binaries not found (set PGBIN)" >&2; exit 2; }
command -v pg_autoctl >/dev/null || {
  echo "pg_autoctl not found: apt-get install postgresql-15-auto-failover pg-auto-failover-cli" >&2
  exit 2; }

usage() { sed -n '6,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 2 ] || usage
cmd=$1; shift
if [ "$cmd" = kill ]; then node=$1; shift; fi
dir=$1; base=${2:-}

as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- env PATH="$PGBIN:$PATH" XDG_CONFIG_HOME="$dir/cfg" \
      XDG_DATA_HOME="$dir/data" "$@"
  else
    env PATH="$PGBIN:$PATH" XDG_CONFIG_HOME="$dir/cfg" XDG_DATA_HOME="$dir/data" "$@"
  fi
}

ports() { cat "$dir/ports"; }
monitor_port() { cut -d' ' -f1 "$dir/ports"; }
node_port() { cut -d' ' -f$(($1 + 1)) "$dir/ports"; }
monitor_uri() { echo "postgres://autoctl_node@localhost:$(monitor_port)/pg_auto_failover?sslmode=disable"; }
psql_monitor() {
  as_owner "$PGBIN/psql" -X -q -tA -h localhost -p "$(monitor_port)" -U autoctl_node \
    -d pg_auto_failover "$@"
}
# the assigned and reported state of a node, as the monitor sees it
node_state() {
  psql_monitor -c "select reportedstate || ' ' || goalstate from pgautofailover.node
                   where nodeport = $(node_port "$1")" 2>/dev/null || true
}
wait_for() {  # wait_for NODE "STATE STATE" SECONDS
  i=0
  while [ "$(node_state "$1")" != "$2" ]; do
    i=$((i + 1))
    [ $i -le $(($3 * 2)) ] || { echo "node $1 did not reach '$2' (now: '$(node_state "$1")');" \
      "see $dir/node$1.log" >&2; exit 1; }
    sleep 0.5
  done
}
# kill -9 every process of a keeper's session: pg_autoctl, its PostgreSQL and its
# children (each keeper runs in a session of its own, started with setsid)
kill_session() {
  own=$(ps -o sid= -p $$ | tr -d ' ')
  for pid in $(pgrep -f "^pg_autoctl .*--pgdata $dir/$1( |\$)" || true); do
    sid=$(ps -o sid= -p "$pid" | tr -d ' ')
    [ -n "$sid" ] && [ "$sid" != "$own" ] && pkill -9 -s "$sid" 2>/dev/null
  done
  pm="$dir/$1/postmaster.pid"
  [ -f "$pm" ] && kill -9 "$(head -1 "$pm")" 2>/dev/null || true
  return 0
}
start_node() {  # start_node NAME PORT EXTRA...
  name=$1; port=$2; shift 2
  if [ -d "$dir/$name/base" ]; then
    set -- run --pgdata "$dir/$name"
  else
    set -- create "$@" --pgdata "$dir/$name" --pgport "$port" --hostname localhost \
      --auth trust --no-ssl --run
  fi
  if [ "$(id -u)" = 0 ]; then
    setsid runuser -u postgres -- env PATH="$PGBIN:$PATH" XDG_CONFIG_HOME="$dir/cfg" \
      XDG_DATA_HOME="$dir/data" pg_autoctl "$@" >>"$dir/$name.log" 2>&1 </dev/null &
  else
    setsid env PATH="$PGBIN:$PATH" XDG_CONFIG_HOME="$dir/cfg" XDG_DATA_HOME="$dir/data" \
      pg_autoctl "$@" >>"$dir/$name.log" 2>&1 </dev/null &
  fi
}

case $cmd in
up)
  [ -n "$base" ] || base=56001
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  echo "$base $((base + 1)) $((base + 2))" >"$dir/ports"
  start_node monitor "$base" monitor
  i=0
  until psql_monitor -c "select 1" >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -le 120 ] || { echo "the monitor did not start; see $dir/monitor.log" >&2; exit 1; }
    sleep 0.5
  done
  start_node node1 "$((base + 1))" postgres --monitor "$(monitor_uri)"
  wait_for 1 "single single" 120
  start_node node2 "$((base + 2))" postgres --monitor "$(monitor_uri)"
  wait_for 2 "secondary secondary" 180
  wait_for 1 "primary primary" 60
  # The short health checks only once both nodes are up: set before, a standby still
  # copying the primary (several seconds) was marked unhealthy, and on a busy machine
  # a one-second check kept failing, leaving it "catchingup" for minutes.
  if [ "${HA_FAST:-}" = 1 ]; then
    for setting in health_check_period=1000 health_check_timeout=1000 \
        health_check_max_retries=1 health_check_retry_delay=500 \
        node_considered_unhealthy_timeout=3000 primary_demote_timeout=3000; do
      as_owner "$PGBIN/psql" -X -q -h localhost -p "$base" -U postgres -d pg_auto_failover \
        -c "alter system set pgautofailover.${setting%%=*} = ${setting#*=}" >/dev/null
    done
    as_owner "$PGBIN/psql" -X -q -h localhost -p "$base" -U postgres -d pg_auto_failover \
      -c "select pg_reload_conf()" >/dev/null
  fi
  "$0" url "$dir"
  ;;
url)
  echo "postgresql://postgres@localhost:$(node_port 1),localhost:$(node_port 2)/postgres?target_session_attrs=read-write"
  ;;
state)
  as_owner pg_autoctl show state --pgdata "$dir/monitor"
  ;;
primary)
  psql_monitor -c "select nodeport from pgautofailover.node
                   where goalstate in ('primary', 'wait_primary', 'single')
                     and reportedstate = goalstate"
  ;;
switchover)
  as_owner pg_autoctl perform switchover --pgdata "$dir/monitor"
  ;;
kill)
  kill_session "node$node"
  ;;
down)
  for name in node2 node1 monitor; do
    [ -d "$dir/$name" ] && as_owner pg_autoctl stop --pgdata "$dir/$name" >/dev/null 2>&1 &
  done
  wait
  for name in node2 node1 monitor; do kill_session "$name"; done
  ;;
*) usage ;;
esac
