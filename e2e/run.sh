#!/usr/bin/env bash
# Entry point for the end-to-end tests.
#   e2e/run.sh                      -> self-test + every e2e/tests/*.test.mjs
#   e2e/run.sh tests/foo.test.mjs   -> only the given files (relative to e2e/ or to the caller's cwd)
# Env: MCP_JAR (default ../target/mcp-oauth-server.jar relative to e2e/),
#      E2E_TEST_TIMEOUT (ms per test, default 180000).
# A JUnit report is written to e2e/test-results/e2e-junit.xml.
set -euo pipefail
caller_pwd=$PWD
cd "$(dirname "$0")"
e2e_dir=$PWD

./setup.sh

# Absolute jar path for the tests.
jar=${MCP_JAR:-../target/mcp-oauth-server.jar}
case $jar in /*) ;; *) if [[ -e $caller_pwd/$jar && -n ${MCP_JAR:-} ]]; then jar=$caller_pwd/$jar; else jar=$e2e_dir/$jar; fi ;; esac
export MCP_JAR=$(realpath -m "$jar")
echo "[e2e] jar: $MCP_JAR$([[ -f $MCP_JAR ]] || echo ' (MISSING: tests that need the server will fail)')"

files=()
if (($#)); then
  for f in "$@"; do
    if [[ -e $f ]]; then files+=("$f"); elif [[ -e $caller_pwd/$f ]]; then files+=("$caller_pwd/$f");
    else echo "[e2e] no such test file: $f" >&2; exit 2; fi
  done
else
  shopt -s nullglob
  files=(selftest.test.mjs tests/*.test.mjs)
fi
echo "[e2e] running ${#files[@]} file(s): ${files[*]}"

mkdir -p test-results
exec node --test --test-concurrency=1 --test-force-exit \
  --test-timeout="${E2E_TEST_TIMEOUT:-180000}" \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=junit --test-reporter-destination=test-results/e2e-junit.xml \
  "${files[@]}"
