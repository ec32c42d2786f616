#!/usr/bin/env bash
# mcp-oauth-server
#   ./run.sh            build the jar if it is missing or older than the sources, then serve
#   ./run.sh test       every test: Java unit and HTTP tests, then the end-to-end tests in e2e/; the PostgreSQL tests use
#                       the server on 127.0.0.1:5432 (trust, database test) or a throwaway cluster (.ci/test-postgres.sh)
#   ./run.sh bench      the benchmarks (about 20 minutes, file store, PostgreSQL and the gateway); results go to bench/results/
#                       ./run.sh bench -Dbench.quick=true: a short run (-D options go to both benchmarks' JVMs)
#   ./run.sh ARGS...    any other arguments go to the jar (users, store, ... see ./run.sh --help)
# Settings come from the environment and from .env in this directory (the server reads it; the environment wins).
# JAVA_OPTS goes to the server's JVM. Unset, it is -XX:TieredStopAtLevel=1: the JIT stops at C1, so a restart with many
# connected clients is absorbed quickly (see README: Performance); JAVA_OPTS= (empty) gives the full JIT.
set -euo pipefail
cd "$(dirname "$0")"
JAR=target/mcp-oauth-server.jar

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "run.sh: '$1' is required but not installed ($2)" >&2; exit 1; }
}

build_if_needed() {
  need java "a Java 17 JDK"
  if [[ ! -f $JAR ]] || [[ -n $(find src pom.xml -newer "$JAR" -print -quit) ]]; then
    need mvn "Apache Maven"
    echo "Building $JAR ..." >&2
    mvn -q -B package -DskipTests
  fi
}

# PG_TEST_URL for the tests and benchmarks: as set, or the local server, or a throwaway cluster removed on exit.
with_postgres() {
  local vars
  vars=$(bash .ci/test-postgres.sh) || { echo "run.sh: no PostgreSQL for the tests (see the lines above)" >&2; exit 1; }
  eval "$vars"
  trap '[[ -z ${PG_TEST_DIR:-} ]] || bash .ci/test-postgres.sh stop "$PG_TEST_DIR"' EXIT
  echo "PostgreSQL for the tests: $PG_TEST_URL ($PG_TEST_MODE)" >&2
}

classpath() {
  mvn -q -B test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt >/dev/null
  echo "target/classes:target/test-classes:$(cat target/cp.txt)"
}

case "${1:-}" in
  test)
    need java "a Java 17 JDK"; need mvn "Apache Maven"
    with_postgres
    e2e/setup.sh   # the Java gateway tests run real npm MCP servers from e2e/node_modules
    mvn -B -ntp package
    MCP_JAR="$PWD/$JAR" e2e/run.sh
    ;;
  bench)
    need java "a Java 17 JDK"; need mvn "Apache Maven"
    shift
    with_postgres
    mvn -q -B package -DskipTests
    cp=$(classpath)
    mkdir -p bench/results
    java "$@" -cp "$cp" io.mcpoauth.bench.StoreBench
    if [[ -f target/test-classes/io/mcpoauth/bench/HttpBench.class ]]; then
      java "$@" -cp "$cp" io.mcpoauth.bench.HttpBench
    fi
    java "$@" -cp "$cp" io.mcpoauth.bench.ClusterBench   # the file store against PostgreSQL, one and two instances
    # the gateway against the same upstream directly (server-everything from e2e/node_modules)
    [[ -d e2e/node_modules/@modelcontextprotocol/server-everything ]] || (cd e2e && npm ci --no-audit --no-fund --loglevel=error)
    java "$@" -cp "$cp" io.mcpoauth.bench.GatewayBench
    ;;
  "")
    build_if_needed
    exec java ${JAVA_OPTS--XX:TieredStopAtLevel=1} -jar "$JAR" serve
    ;;
  *)
    build_if_needed
    exec java -jar "$JAR" "$@"
    ;;
esac
