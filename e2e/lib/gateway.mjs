// Shared by the gateway tests: server-everything as a Streamable HTTP child, the servers file, a gateway (our server)
// with it, sign-in for one endpoint, and the processes under a pid.
import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { connectClient } from './mcp-client.mjs';
import { testServer, providerFor } from './harness.mjs';
import { freePort, makeTempDir, waitFor, DEFAULT_JAR } from './server.mjs';

export const E2E = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const EVERYTHING = path.join(E2E, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
export const FILESYSTEM = path.join(E2E, 'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');
export const NODE = process.execPath;
export const LEGACY = '2025-11-25';
export const MODERN = '2026-07-28';
/** A jar built without the gateway (its classes are named in the zip directory) cannot run these tests: they are skipped, saying so. */
export const NO_GATEWAY = existsSync(DEFAULT_JAR) && !readFileSync(DEFAULT_JAR).includes('io/mcpoauth/resource/gateway/Gateway')
  ? `the jar under test (${DEFAULT_JAR}) has no gateway` : false;
export const gw = { skip: NO_GATEWAY };
export const digest = (s) => createHash('sha256').update(String(s)).digest('hex').slice(0, 12); // never print a token

// ---- upstreams and the servers file ----

/** server-everything over Streamable HTTP on `port` (a child process); restart() brings it back on the same port. */
export async function everythingHttp(t, port) {
  port ??= await freePort();
  let child;
  const up = {
    port,
    url: `http://127.0.0.1:${port}/mcp`,
    async start() {
      child = spawn(NODE, [EVERYTHING, 'streamableHttp'], { env: { PATH: process.env.PATH, PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d) => { err += d; });
      await waitFor(async () => {
        if (child.exitCode !== null) throw new Error(`server-everything exited: ${err}`);
        try { const r = await fetch(up.url, { method: 'GET' }); await r.arrayBuffer(); return true; } catch { return false; }
      }, { timeoutMs: 15_000, what: 'server-everything to listen' });
    },
    async stop() {
      if (!child || child.exitCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null) { child.kill('SIGKILL'); await gone; }
    },
    async restart() { await up.stop(); await up.start(); },
  };
  t.after(() => up.stop());
  await up.start();
  return up;
}

/** Writes {"servers": servers, "connections": connections (when given)} to a fresh file; returns its path (MCP_SERVERS_FILE). */
export async function serversFile(servers, connections) {
  const dir = await makeTempDir('mcp-e2e-servers-');
  const file = path.join(dir, 'mcp-servers.json');
  await writeFile(file, JSON.stringify({ servers, ...(connections ? { connections } : {}) }, null, 2));
  return file;
}

/** A gateway (our server) with the given servers file entries (and `connections`) and users; other options as for testServer. */
export async function gateway(t, servers, { users = ['alice'], env = {}, connections, ...options } = {}) {
  return testServer(t, { users, ...options, env: { MCP_SERVERS_FILE: await serversFile(servers, connections), ...env } });
}

export const everythingStdio = (extra = {}) => ({ command: NODE, args: [EVERYTHING, 'stdio'], ...extra });

/** Signs `user` in for the resource `/mcp/NAME` (or `/mcp`) with the v1 SDK; returns { provider, client, token }. */
export async function signIn(t, h, user, endpoint, options = {}) {
  const provider = providerFor(h, user, { fileName: `${user}-${endpoint.replace(/\W+/g, '_')}` });
  const c = await connectClient(`${h.url}${endpoint}`, provider, options);
  t.after(() => c.client.close().catch(() => {}));
  return { provider, ...c, token: provider.tokens().access_token };
}

export const text = (r) => r.content?.filter((c) => c.type === 'text').map((c) => c.text).join('\n') ?? '';

/** The pids of every process descending from `pid`, with their command lines (from /proc). */
export async function descendants(pid) {
  const children = new Map();
  for (const d of await readdir('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = await readFile(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(d));
    } catch { /* gone */ }
  }
  const out = [];
  const walk = async (p) => {
    for (const c of children.get(p) ?? []) {
      let cmd = '';
      try { cmd = (await readFile(`/proc/${c}/cmdline`, 'utf8')).replace(/\0/g, ' ').trim(); } catch {}
      out.push({ pid: c, cmd });
      await walk(c);
    }
  };
  await walk(pid);
  return out;
}
