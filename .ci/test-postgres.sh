#!/usr/bin/env bash
# .ci/test-postgres.sh: find or start a PostgreSQL for the tests (./run.sh test uses it; the Java tests read PG_TEST_URL).
#
#   eval "$(.ci/test-postgres.sh)"      # sets PG_TEST_URL, PG_TEST_DIR (empty unless a cluster was started), PG_TEST_MODE
#   .ci/test-postgres.sh url            # the URL alone on stdout (a started cluster's directory goes to stderr)
#   .ci/test-postgres.sh stop DIR       # stops a throwaway cluster started by this script and removes DIR
#
# How a server is found, in this order:
#   1. PG_TEST_URL is set: it is used as it is (mode env).
#   2. A PostgreSQL on 127.0.0.1:5432 lets psql in without a password, on database `test`, as one of
#      $PG_TEST_USER, postgres, root, the current user (mode local).
#   3. Otherwise a throwaway cluster (mode throwaway): Debian's postgresql package is installed if initdb is missing,
#      initdb runs as the `postgres` system user (created as `pgtest` when there is none) into a new directory under
#      ${PG_TEST_TMP:-/tmp}, the server listens on a free TCP port of 127.0.0.1 only, its unix socket is inside that
#      directory, authentication is trust, and fsync/synchronous_commit/full_page_writes are on (durability tests).
#      A database `test` is created; the superuser is `postgres`.
#   PG_TEST_FORCE_THROWAWAY=1 skips 1 and 2. PG_TEST_OS_USER=NAME picks the server's OS user (created if missing).
#   PG_TEST_TMP=DIR puts the cluster under DIR (default /tmp; it must be reachable by that user). PG_BIN=DIR picks the binaries.
#
# Only the KEY=VALUE lines (or the URL) go to stdout; everything else goes to stderr.
# Example, in a test script:
#   eval "$(bash .ci/test-postgres.sh)"
#   trap '[[ -z $PG_TEST_DIR ]] || bash .ci/test-postgres.sh stop "$PG_TEST_DIR"' EXIT
# The tests make a schema of their own per test class (t_<random>) and drop it: a shared server's `test` database
# is never cleaned or reused.
set -euo pipefail

MARKER=.pg-test-throwaway
log() { echo "test-postgres: $*" >&2; }
die() { log "$*"; exit 1; }

emit() { # url dir mode
  printf 'PG_TEST_URL=%q\n' "$1"
  printf 'PG_TEST_DIR=%q\n' "$2"
  printf 'PG_TEST_MODE=%q\n' "$3"
  printf 'export PG_TEST_URL PG_TEST_DIR PG_TEST_MODE\n'
}

pg_bin() { # the newest /usr/lib/postgresql/N/bin that has initdb, pg_ctl and postgres; or $PG_BIN
  if [[ -n ${PG_BIN:-} ]]; then echo "$PG_BIN"; return 0; fi
  local d best=""
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V); do
    [[ -x $d/initdb && -x $d/pg_ctl && -x $d/postgres ]] && best=$d
  done
  [[ -n $best ]] && echo "$best"
}

# The OS user the throwaway server runs as (PostgreSQL refuses to run as root).
os_user() {
  if [[ $(id -u) -ne 0 ]]; then id -un; return; fi
  local u=${PG_TEST_OS_USER:-}
  if [[ -z $u ]]; then
    if getent passwd postgres >/dev/null; then echo postgres; return; fi
    u=pgtest
  fi
  if ! getent passwd "$u" >/dev/null; then
    log "creating system user $u to run the throwaway server"
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$u" >&2 \
      || die "useradd $u failed"
  fi
  echo "$u"
}

as_user() { # user cmd...: run without a login shell (works with a nologin shell too)
  local u=$1; shift
  if [[ $(id -un) == "$u" ]]; then "$@"
  elif command -v runuser >/dev/null; then runuser -u "$u" -- "$@"
  else setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups -- "$@"
  fi
}

port_free() { # nothing accepts a TCP connection on 127.0.0.1:$1
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

install_postgres() {
  command -v apt-get >/dev/null || die "initdb is missing and there is no apt-get to install PostgreSQL"
  [[ $(id -u) -eq 0 ]] || die "initdb is missing; installing Debian's postgresql needs root"
  log "initdb not found: installing Debian's postgresql package"
  # No main cluster on 5432 from the package's postinst: this script starts its own.
  mkdir -p /etc/postgresql-common/createcluster.d
  [[ -e /etc/postgresql-common/createcluster.d/no-main-cluster.conf ]] \
    || echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/no-main-cluster.conf
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || log "apt-get update failed; trying the install anyway"
  apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold postgresql >&2 \
    || die "apt-get install postgresql failed"
}

try_local() { # prints the URL of a reachable local server, or fails
  command -v psql >/dev/null || return 1
  local u seen=" "
  for u in ${PG_TEST_USER:-} postgres root "$(id -un)"; do
    [[ $seen == *" $u "* ]] && continue
    seen+="$u "
    if PGCONNECT_TIMEOUT=3 PGPASSWORD= psql -w -X -q -At -h 127.0.0.1 -p 5432 -U "$u" -d test -c 'select 1' \
        </dev/null >/dev/null 2>&1; then
      echo "postgresql://$u@127.0.0.1:5432/test"
      return 0
    fi
  done
  return 1
}

start_throwaway() { # prints "URL DIR"
  local bin user base dir port attempt started=""
  bin=$(pg_bin) || true
  if [[ -z $bin ]]; then install_postgres; bin=$(pg_bin) || die "no initdb under /usr/lib/postgresql/*/bin after the install"; fi
  user=$(os_user)
  base=${PG_TEST_TMP:-/tmp}
  dir=$(mktemp -d "$base/pg-test.XXXXXX")
  # remove the half-made directory if anything below fails
  trap '[[ -n $started ]] || { as_user "$user" "$bin/pg_ctl" -D "$dir/data" stop -m immediate >/dev/null 2>&1 || true; rm -rf "$dir"; }' EXIT
  touch "$dir/$MARKER"
  mkdir "$dir/sock"
  chown -R "$user" "$dir"
  chmod 700 "$dir"
  as_user "$user" test -w "$dir/sock" || die "user $user cannot reach $dir: set PG_TEST_TMP to a directory it can enter"
  cd "$dir" # the server user may not be able to enter the caller's working directory
  as_user "$user" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || as_user "$user" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  cat >>"$dir/data/postgresql.conf" <<EOF

# test-postgres.sh
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir/sock'
fsync = on
synchronous_commit = on
full_page_writes = on
max_connections = 200
shared_buffers = 128MB
logging_collector = off
EOF
  for attempt in 1 2 3 4 5 6 7 8; do
    port=$(( 20000 + RANDOM % 12000 ))  # below the ephemeral range (32768+)
    port_free "$port" || continue
    if as_user "$user" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "-p $port" start >/dev/null 2>&1; then
      started=1
      break
    fi
    log "start on port $port failed (attempt $attempt): $(tail -n 3 "$dir/server.log" 2>/dev/null | tr '\n' ' ')"
  done
  [[ -n $started ]] || die "could not start a throwaway PostgreSQL (see above)"
  echo "$port" >"$dir/port"
  if ! "$bin/psql" -X -q -w -h 127.0.0.1 -p "$port" -U postgres -d postgres -c 'create database test' >/dev/null 2>"$dir/createdb.err"; then
    cat "$dir/createdb.err" >&2
    started=""
    die "create database test failed"
  fi
  trap - EXIT
  echo "postgresql://postgres@127.0.0.1:$port/test $dir"
}

stop_throwaway() {
  local dir=${1:-}
  [[ -n $dir ]] || die "usage: $0 stop DIR"
  [[ -d $dir ]] || { log "$dir does not exist: nothing to stop"; return 0; }
  [[ -e $dir/$MARKER ]] || die "$dir was not made by test-postgres.sh (no $MARKER): refusing to remove it"
  local bin user
  bin=$(pg_bin) || true
  user=$(stat -c %U "$dir/data" 2>/dev/null || echo postgres)
  if [[ -f $dir/data/postmaster.pid && -n $bin ]]; then
    cd "$dir"
    as_user "$user" "$bin/pg_ctl" -D "$dir/data" -w -t 30 -m fast stop >/dev/null 2>&1 \
      || as_user "$user" "$bin/pg_ctl" -D "$dir/data" -w -t 10 -m immediate stop >/dev/null 2>&1 \
      || log "pg_ctl stop failed (already stopped?)"
    cd /
  fi
  rm -rf "$dir"
}

find_or_start() { # prints "URL DIR MODE" (DIR is - when nothing was started)
  if [[ -z ${PG_TEST_FORCE_THROWAWAY:-} ]]; then
    if [[ -n ${PG_TEST_URL:-} ]]; then echo "$PG_TEST_URL - env"; return; fi
    local url
    if url=$(try_local); then echo "$url - local"; return; fi
    log "no PostgreSQL on 127.0.0.1:5432 with database test and trust auth: starting a throwaway one"
  fi
  local r
  r=$(start_throwaway)
  echo "$r throwaway"
}

case "${1:-start}" in
  start)
    read -r url dir mode < <(find_or_start) || true
    [[ -n ${url:-} ]] || exit 1
    [[ $dir == - ]] && dir=""
    emit "$url" "$dir" "$mode"
    ;;
  url)
    read -r url dir mode < <(find_or_start) || true
    [[ -n ${url:-} ]] || exit 1
    [[ $dir != - ]] && log "started a throwaway cluster; stop it with: $0 stop $dir"
    echo "$url"
    ;;
  stop)
    stop_throwaway "${2:-}"
    ;;
  *)
    die "usage: $0 [start|url|stop DIR]"
    ;;
esac
