// Start/stop the Java server (java -jar <jar> serve) for one test, and run its CLI.
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import tls from 'node:tls';
import { existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const E2E_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Jar under test: $MCP_JAR, default ../target/mcp-oauth-server.jar relative to e2e/. */
export const DEFAULT_JAR = path.resolve(E2E_DIR, process.env.MCP_JAR ?? '../target/mcp-oauth-server.jar');
const JAVA = process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
const MAX_LOG = 2 * 1024 * 1024;

// Servers still running when this process exits are killed (a failed test must not leak them).
const live = new Set();
process.on('exit', () => { for (const c of live) { try { c.kill('SIGKILL'); } catch {} } });

/** Polls `check` (async, returns truthy when done) every `interval` ms until `timeoutMs`. */
export async function waitFor(check, { timeoutMs = 10_000, interval = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** A new empty directory under the OS temp dir. */
export function makeTempDir(prefix = 'mcp-e2e-') {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

function checkJar(jar) {
  if (!existsSync(jar)) throw new Error(`server jar not found: ${jar} (build it with mvn package, or set MCP_JAR)`);
}

/**
 * Runs `java -jar <jar> ...args` to completion (bounded); resolves { code, stdout, stderr }.
 * Rejects on timeout; a non-zero exit is returned, not thrown.
 */
export function runJar(jar, args, { env = {}, input, timeoutMs = 30_000 } = {}) {
  checkJar(jar);
  return new Promise((resolve, reject) => {
    const child = spawn(JAVA, ['-jar', jar, ...args], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`java -jar ${args.join(' ')} timed out after ${timeoutMs} ms\n${stdout}${stderr}`));
    }, timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    child.stdin.on('error', () => {}); // the CLI may exit before reading stdin
    child.stdin.end(input ?? '');
  });
}

/** `java -jar <jar> users add NAME --password-stdin` with OAUTH_DATA_DIR=dataDir; throws on failure. */
export async function addUser(jar, dataDir, name, password, { env = {} } = {}) {
  const r = await runJar(jar, ['users', 'add', name, '--password-stdin'], {
    env: { OAUTH_DATA_DIR: dataDir, ...env },
    input: `${password}\n`,
  });
  if (r.code !== 0) throw new Error(`users add ${name} exited ${r.code}\n${r.stdout}${r.stderr}`);
  return r;
}

/**
 * Spawns `java -jar <jar> serve` and waits until GET /.well-known/oauth-authorization-server
 * answers 200 (polled every 100 ms, at most readyTimeoutMs). With `env.TLS_KEYSTORE` the server serves https and
 * its PUBLIC_URL is https; `fetch` (default: the global one) is what polls it, e.g. one that trusts its certificate.
 * Returns { url, port, dataDir, pid, child, stop(signal), kill9(), logs(), waitForLog(re) }.
 */
export async function startServer({
  jar = DEFAULT_JAR,
  dataDir,
  port,
  host = '127.0.0.1',        // HOST: bind address
  publicHost = '127.0.0.1',  // host name in PUBLIC_URL (e.g. 'localhost')
  env = {},
  javaArgs = [],             // JVM options, e.g. ['-Xmx256m']
  readyTimeoutMs = 20_000,
  fetch: probe = fetch,
} = {}) {
  checkJar(jar);
  dataDir ??= await makeTempDir();
  port ??= await freePort();
  const scheme = env.TLS_KEYSTORE ? 'https' : 'http';
  const url = `${scheme}://${publicHost}:${port}`;
  const child = spawn(JAVA, [...javaArgs, '-jar', jar, 'serve'], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: host,
      PUBLIC_URL: url,
      OAUTH_DATA_DIR: dataDir,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);

  let log = '';
  const append = (d) => { log += d; if (log.length > MAX_LOG) log = log.slice(-MAX_LOG); };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  let exitInfo = null;
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => { exitInfo = { code, signal }; live.delete(child); resolve(exitInfo); });
    child.on('error', (e) => { append(`\n[spawn error] ${e.message}\n`); exitInfo ??= { code: -1, signal: null }; live.delete(child); resolve(exitInfo); });
  });

  const logs = () => log;
  const waitExit = async (timeoutMs) => {
    let t;
    const timeout = new Promise((r) => { t = setTimeout(() => r(null), timeoutMs); });
    const r = await Promise.race([exited, timeout]);
    clearTimeout(t);
    return r;
  };
  /** Sends `signal` and waits for exit (bounded); SIGKILLs and throws if it does not exit. */
  const stop = async (signal = 'SIGTERM', { timeoutMs = 15_000 } = {}) => {
    if (exitInfo) return exitInfo;
    child.kill(signal);
    const r = await waitExit(timeoutMs);
    if (r) return r;
    child.kill('SIGKILL');
    await waitExit(5_000);
    throw new Error(`server did not exit within ${timeoutMs} ms after ${signal}\n--- server log ---\n${log}`);
  };
  const kill9 = () => stop('SIGKILL', { timeoutMs: 10_000 });
  const waitForLog = (re, opts = {}) =>
    waitFor(() => (typeof re === 'string' ? log.includes(re) : re.test(log)), { what: `log ${re}`, ...opts });

  // Ready when the metadata endpoint answers 200.
  const metaUrl = `${scheme}://127.0.0.1:${port}/.well-known/oauth-authorization-server`;
  try {
    await waitFor(async () => {
      if (exitInfo) throw new Error(`server exited early (code ${exitInfo.code}, signal ${exitInfo.signal})`);
      try {
        const res = await probe(metaUrl, { signal: AbortSignal.timeout(2_000) });
        await res.arrayBuffer();
        return res.status === 200;
      } catch { return false; }
    }, { timeoutMs: readyTimeoutMs, interval: 100, what: `${metaUrl} to answer 200` });
  } catch (e) {
    if (!exitInfo) { child.kill('SIGKILL'); await waitExit(5_000); }
    throw new Error(`${e.message}\n--- server log ---\n${log}`);
  }
  return { url, port, dataDir, jar, pid: child.pid, child, stop, kill9, logs, waitForLog, exited: () => exitInfo };
}

/**
 * A self-signed certificate for localhost and 127.0.0.1, made with the JDK's keytool in `dir`: { keystore (PKCS12
 * with the key, for TLS_KEYSTORE), truststore (PKCS12 with the certificate only, for javax.net.ssl.trustStore),
 * password, pem (the certificate, e.g. for a Node TLS `ca`) }.
 */
export async function selfSignedTls(dir) {
  const keytool = process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'keytool') : 'keytool';
  const run = (args) => new Promise((resolve, reject) => {
    execFile(keytool, args, { timeout: 30_000 }, (e, stdout, stderr) => (e ? reject(new Error(`keytool ${args[0]}: ${e.message}\n${stderr}`)) : resolve(stdout)));
  });
  const password = randomBytes(12).toString('hex');
  const keystore = path.join(dir, 'server.p12');
  const truststore = path.join(dir, 'trust.p12');
  const cert = path.join(dir, 'server.pem');
  await run(['-genkeypair', '-alias', 'server', '-keyalg', 'EC', '-groupname', 'secp256r1', '-validity', '2', '-dname', 'CN=localhost',
    '-ext', 'SAN=dns:localhost,ip:127.0.0.1', '-storetype', 'PKCS12', '-keystore', keystore, '-storepass', password]);
  await run(['-exportcert', '-rfc', '-alias', 'server', '-keystore', keystore, '-storepass', password, '-file', cert]);
  await run(['-importcert', '-noprompt', '-alias', 'server', '-file', cert, '-storetype', 'PKCS12', '-keystore', truststore, '-storepass', password]);
  return { keystore, truststore, password, pem: await readFile(cert, 'utf8') };
}

/** A fetch (undici's, with its own connection pool) that trusts the certificate `ca` (PEM) besides the usual ones. */
export async function fetchTrusting(ca) {
  const { Agent, fetch: undiciFetch } = await import('undici');
  const dispatcher = new Agent({ connect: { ca: [...tls.rootCertificates, ca] } });
  return (input, init = {}) => undiciFetch(input, { ...init, dispatcher });
}
