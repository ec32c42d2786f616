// The gateway in front of real MCP servers none of which we wrote: @modelcontextprotocol/server-everything as a stdio
// and as a Streamable HTTP upstream (the conformance suite's server scenarios through /mcp/NAME pass as they pass
// directly against the upstream), @modelcontextprotocol/server-filesystem as a per-user stdio server (each user's own
// directory, processes stopped when idle), an upstream built with the TypeScript SDK that verifies our identity
// assertions with jose against /.well-known/jwks.json, the SDK clients (v1 legacy, v2 modern) across a gateway
// restart, a kill -9 and an upstream restart, and the aggregated /mcp with prefixed names and allow/deny lists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { connectClient } from '../lib/mcp-client.mjs';
import { connectModernClient } from '../lib/mcp-client-v2.mjs';
import { startBearerProxy } from '../lib/bearer-proxy.mjs';
import { runConformance } from '../lib/conformance.mjs';
import { testServer, providerFor, recordingFetch } from '../lib/harness.mjs';
import { freePort, makeTempDir, waitFor, DEFAULT_JAR } from '../lib/server.mjs';
import { existsSync, readFileSync } from 'node:fs';
import { startIdentityUpstream } from '../fixtures/identity-upstream.mjs';

const E2E = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const EVERYTHING = path.join(E2E, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const FILESYSTEM = path.join(E2E, 'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');
const NODE = process.execPath;
const LEGACY = '2025-11-25';
const MODERN = '2026-07-28';
/** A jar built without the gateway (its classes are named in the zip directory) cannot run these tests: they are skipped, saying so. */
const NO_GATEWAY = existsSync(DEFAULT_JAR) && !readFileSync(DEFAULT_JAR).includes('io/mcpoauth/resource/gateway/Gateway')
  ? `the jar under test (${DEFAULT_JAR}) has no gateway` : false;
const gw = { skip: NO_GATEWAY };
const digest = (s) => createHash('sha256').update(String(s)).digest('hex').slice(0, 12); // never print a token

// ---- upstreams and the servers file ----

/** server-everything over Streamable HTTP on `port` (a child process); restart() brings it back on the same port. */
async function everythingHttp(t, port) {
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

/** Writes {"servers": servers} to a fresh file; returns its path (MCP_SERVERS_FILE). */
async function serversFile(servers) {
  const dir = await makeTempDir('mcp-e2e-servers-');
  const file = path.join(dir, 'mcp-servers.json');
  await writeFile(file, JSON.stringify({ servers }, null, 2));
  return file;
}

/** A gateway (our server) with the given servers file entries and users. */
async function gateway(t, servers, { users = ['alice'], env = {} } = {}) {
  return testServer(t, { users, env: { MCP_SERVERS_FILE: await serversFile(servers), ...env } });
}

const everythingStdio = (extra = {}) => ({ command: NODE, args: [EVERYTHING, 'stdio'], ...extra });

/** Signs `user` in for the resource `/mcp/NAME` (or `/mcp`) with the v1 SDK; returns { provider, client, token }. */
async function signIn(t, h, user, endpoint, options = {}) {
  const provider = providerFor(h, user, { fileName: `${user}-${endpoint.replace(/\W+/g, '_')}` });
  const c = await connectClient(`${h.url}${endpoint}`, provider, options);
  t.after(() => c.client.close().catch(() => {}));
  return { provider, ...c, token: provider.tokens().access_token };
}

const text = (r) => r.content?.filter((c) => c.type === 'text').map((c) => c.text).join('\n') ?? '';

/** The pids of every process descending from `pid`, with their command lines (from /proc). */
async function descendants(pid) {
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

// ---- the identity upstream fixture on its own ----

test('the identity upstream fixture accepts only an RS256 JWT from the configured issuer for its own URL', async (t) => {
  // A stand-in issuer with its own key, so the fixture's checks are tested apart from the gateway.
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const issuerSrv = http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify({ keys: [jwk] })); });
  await new Promise((r) => issuerSrv.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => { issuerSrv.closeAllConnections(); issuerSrv.close(r); }));
  const issuer = `http://127.0.0.1:${issuerSrv.address().port}`;
  const up = await startIdentityUpstream({ issuer });
  t.after(() => up.close());
  const sign = (claims) => new SignJWT({ username: 'alice', ...claims }).setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'JWT' })
    .setIssuedAt().setExpirationTime('5m').sign(privateKey);
  const call = (target, token) => fetch(target, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } }),
  });

  const good = await sign({ iss: issuer, aud: up.endpoint('/mcp'), sub: 'local:alice' });
  const ok = await call(up.endpoint('/mcp'), good);
  assert.equal(ok.status, 200);
  assert.equal(JSON.parse((await ok.json()).result.content[0].text).sub, 'local:alice');
  assert.equal((await call(up.endpoint('/other'), good)).status, 401, 'a token for /mcp is refused at /other (audience)');
  assert.match(up.refused.at(-1).reason, /aud/);
  assert.equal((await call(up.endpoint('/mcp'), await sign({ iss: 'https://evil.example', aud: up.endpoint('/mcp'), sub: 'x' }))).status, 401);
  assert.equal((await call(up.endpoint('/mcp'))).status, 401, 'no token, no call');
  assert.equal(up.seen.length, 4);
});

// ---- conformance through the gateway ----

/** The suite's 2025-11-25 server scenarios (its SDK client with initialize). */
const LEGACY_SCENARIOS = ['server-initialize', 'server-session-lifecycle', 'logging-set-level', 'ping', 'completion-complete', 'tools-list',
  'tools-call-simple-text', 'tools-call-error', 'tools-call-with-progress', 'server-sse-multiple-streams', 'resources-list',
  'resources-read-text', 'resources-subscribe', 'resources-unsubscribe', 'prompts-list', 'prompts-get-simple', 'prompts-get-with-args'];

/** Those of them the suite also has for 2026-07-28 (its stateless client with per-request _meta). */
const MODERN_SCENARIOS = ['completion-complete', 'tools-list', 'tools-call-simple-text', 'tools-call-error', 'tools-call-with-progress',
  'server-sse-multiple-streams', 'resources-list', 'resources-read-text', 'prompts-list', 'prompts-get-simple', 'prompts-get-with-args'];

/** Runs `scenarios` against `url` two at a time; { scenario: { passed, failed: [ids], output } }. */
async function runAll(url, scenarios, specVersion) {
  const out = {};
  const queue = [...scenarios];
  await Promise.all([0, 1].map(async () => {
    for (let s; (s = queue.shift());) {
      const r = await runConformance({ url, scenario: s, specVersion, timeoutMs: 90_000 });
      const failed = r.checks.filter((c) => c.status === 'FAILURE').map((c) => `${c.id}: ${c.errorMessage ?? ''}`);
      out[s] = { passed: r.exitCode === 0 && r.checks.length > 0 && failed.length === 0, failed, output: r.output };
    }
  }));
  return out;
}

test('conformance: the scenarios that pass directly against server-everything pass through /mcp/NAME, over HTTP and over stdio', gw, async (t) => {
  const upstream = await everythingHttp(t);
  const h = await gateway(t, { 'everything-http': { url: upstream.url }, 'everything-stdio': everythingStdio() });
  // The baseline: the same server code, spoken to directly (the suite speaks HTTP only, so the stdio entry is compared
  // with server-everything's own Streamable HTTP transport).
  const direct = await runAll(upstream.url, LEGACY_SCENARIOS, LEGACY);
  const baseline = LEGACY_SCENARIOS.filter((s) => direct[s].passed);
  assert.ok(baseline.includes('tools-list') && baseline.includes('server-initialize') && baseline.length >= 6,
    `the baseline passes the core scenarios directly: ${baseline}`);
  const summary = [`direct: ${baseline.length}/${LEGACY_SCENARIOS.length} pass (${baseline.join(', ')})`];

  for (const name of ['everything-http', 'everything-stdio']) {
    const { token } = await signIn(t, h, 'alice', `/mcp/${name}`);
    assert.ok(token, 'a real access token from sign-in and consent');
    const proxy = await startBearerProxy({ target: h.url, token });
    t.after(() => proxy.close());
    const through = await runAll(`${proxy.url}/mcp/${name}`, baseline, LEGACY);
    const broken = baseline.filter((s) => !through[s].passed).map((s) => `${s}: ${through[s].failed.join('; ') || through[s].output.slice(-400)}`);
    assert.deepEqual(broken, [], `${name}: every scenario that passes directly passes through the gateway`);
    // A 2026-07-28 client in front of this 2025-11-25 upstream: the gateway translates (the upstream cannot pass these directly).
    const modernSet = baseline.filter((s) => MODERN_SCENARIOS.includes(s));
    const modern = await runAll(`${proxy.url}/mcp/${name}`, modernSet, MODERN);
    const modernBroken = modernSet.filter((s) => !modern[s].passed).map((s) => `${s}: ${modern[s].failed.join('; ') || modern[s].output.slice(-400)}`);
    summary.push(`${name}: ${baseline.length}/${baseline.length} on ${LEGACY}; on ${MODERN}: ${modernSet.length - modernBroken.length}/${modernSet.length}`);
    assert.deepEqual(modernBroken, [], `${name}: the same scenarios pass for a ${MODERN} client through the gateway`);
  }
  for (const line of summary) t.diagnostic(line);
});

// ---- per-user stdio ----

test('server-filesystem per user: each user sees only their own directory; idle processes stop', gw, async (t) => {
  const root = await makeTempDir('mcp-e2e-files-');
  for (const u of ['alice', 'bob']) {
    await mkdir(path.join(root, u));
    await writeFile(path.join(root, u, `${u}-secret.txt`), `${u}'s private text`);
  }
  const h = await gateway(t, {
    files: {
      // One process per user, started with that user's directory: the gateway puts MCP_USERNAME in the child's environment.
      command: 'sh', args: ['-c', 'exec "$NODE_BIN" "$FS_SERVER" "$FILES_ROOT/$MCP_USERNAME"'],
      env: { NODE_BIN: NODE, FS_SERVER: FILESYSTEM, FILES_ROOT: root },
      per_user: true, idle_timeout_seconds: 3,
    },
  }, { users: ['alice', 'bob'] });
  const alice = await signIn(t, h, 'alice', '/mcp/files');
  const bob = await signIn(t, h, 'bob', '/mcp/files');

  const call = (c, name, args) => c.client.callTool({ name, arguments: args }, undefined, { timeout: 20_000 });
  const aliceDirs = text(await call(alice, 'list_allowed_directories', {}));
  assert.match(aliceDirs, new RegExp(`${root}/alice`));
  assert.doesNotMatch(aliceDirs, /bob/);
  assert.match(text(await call(alice, 'read_text_file', { path: path.join(root, 'alice', 'alice-secret.txt') })), /alice's private text/);
  const peek = await call(alice, 'read_text_file', { path: path.join(root, 'bob', 'bob-secret.txt') });
  assert.equal(peek.isError, true, 'alice cannot read bob\'s file');
  assert.doesNotMatch(text(peek), /bob's private text/);
  const listing = text(await call(alice, 'list_directory', { path: root }));
  assert.doesNotMatch(listing, /bob-secret/);
  assert.match(text(await call(bob, 'read_text_file', { path: path.join(root, 'bob', 'bob-secret.txt') })), /bob's private text/);
  assert.equal((await call(bob, 'read_text_file', { path: path.join(root, 'alice', 'alice-secret.txt') })).isError, true);

  const fsProcesses = async () => (await descendants(h.server.pid)).filter((p) => p.cmd.includes('server-filesystem'));
  const running = await fsProcesses();
  assert.ok(running.length >= 2, `one process per user: ${running.map((p) => p.cmd).join(' | ')}`);
  assert.ok(running.some((p) => p.cmd.includes(`${root}/alice`)) && running.some((p) => p.cmd.includes(`${root}/bob`)));
  await waitFor(async () => (await fsProcesses()).length === 0, { timeoutMs: 30_000, interval: 250, what: 'the idle per-user processes to stop' });
  // The next call starts alice's process again.
  assert.match(text(await call(alice, 'read_text_file', { path: path.join(root, 'alice', 'alice-secret.txt') })), /alice's private text/);
  assert.equal((await fsProcesses()).length, 1);
});

// ---- identity assertions ----

test('identity: the upstream verifies our JWT with jose against our JWKS, sees the right sub per user, never our access token', gw, async (t) => {
  let h;
  const up = await startIdentityUpstream({ issuer: () => h.url });
  t.after(() => up.close());
  h = await gateway(t, {
    who: { url: up.endpoint('/mcp'), identity: 'jwt' },
    'who-other': { url: up.endpoint('/other'), identity: 'jwt' },
    anonymous: { url: up.endpoint('/mcp'), identity: 'none' },
  }, { users: ['alice', 'bob'] });
  const issuer = h.url;
  const jwks = await fetch(`${h.url}/.well-known/jwks.json`);
  assert.equal(jwks.status, 200);
  assert.ok((await jwks.json()).keys.length >= 1);

  const alice = await signIn(t, h, 'alice', '/mcp/who');
  const bob = await signIn(t, h, 'bob', '/mcp/who');
  const who = async (c) => {
    const r = await c.client.callTool({ name: 'whoami', arguments: {} }, undefined, { timeout: 15_000 });
    assert.notEqual(r.isError, true, text(r));
    return JSON.parse(text(r));
  };
  const a = await who(alice);
  assert.equal(a.sub, 'local:alice');
  assert.equal(a.username, 'alice');
  assert.equal(a.iss, issuer);
  assert.equal(a.aud, up.endpoint('/mcp'));
  assert.ok(a.lifetime > 0 && a.lifetime <= 300, `at most five minutes: ${a.lifetime}`);
  assert.ok(a.client_id, 'the client id is named');
  assert.match(a.scope, /\bmcp\b/);
  const b = await who(bob);
  assert.equal(b.sub, 'local:bob');
  assert.equal((await who(alice)).sub, 'local:alice', 'alice again after bob: never the other user');

  const other = await signIn(t, h, 'alice', '/mcp/who-other');
  assert.equal((await who(other)).aud, up.endpoint('/other'), 'each upstream URL is its own audience');

  // Never our access token, in any header the upstream saw.
  const ours = [alice.token, bob.token, other.token];
  for (const s of up.seen) {
    assert.ok(s.authorization, 'every request carried an assertion');
    for (const tok of ours) assert.ok(!s.authorization.includes(tok), `the upstream received a client's access token (${digest(tok)})`);
    assert.match(s.authorization, /^Bearer ey[\w-]+\.[\w-]+\.[\w-]+$/);
  }
  // An assertion for /mcp replayed at /other: refused by the audience check.
  const captured = up.seen.find((s) => s.path === '/mcp').authorization;
  const replay = await fetch(up.endpoint('/other'), {
    method: 'POST', headers: { authorization: captured, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
  assert.equal(replay.status, 401);
  // A server without identity sends none: the upstream refuses, the client gets a tool error, not a 500 or a hang.
  const anon = await signIn(t, h, 'alice', '/mcp/anonymous').catch((e) => ({ error: e }));
  if (!anon.error) {
    const r = await anon.client.callTool({ name: 'whoami', arguments: {} }, undefined, { timeout: 15_000 }).catch((e) => ({ isError: true, thrown: e.message }));
    assert.equal(r.isError, true, 'an upstream that refuses us is an error the user sees');
  }
  assert.ok(up.refused.some((r) => r.reason === 'no bearer token'), 'the identity "none" server sent no Authorization');
});

// ---- SDK clients across restarts ----

test('SDK clients v1 and v2 through the gateway: gateway restart, kill -9 and an upstream restart need no sign-in and show no error', gw, async (t) => {
  const upstream = await everythingHttp(t);
  const h = await gateway(t, { ev: { url: upstream.url }, 'ev-stdio': everythingStdio() }, { users: ['alice', 'bob'] });
  const recA = recordingFetch();
  const recB = recordingFetch();
  const v1 = await signIn(t, h, 'alice', '/mcp/ev', { fetch: recA.fetch });
  const pB = providerFor(h, 'bob', { fileName: 'bob-v2' });
  const v2 = await connectModernClient(`${h.url}/mcp/ev`, pB, { fetch: recB.fetch });
  t.after(() => v2.client.close().catch(() => {}));
  const v1s = await signIn(t, h, 'alice', '/mcp/ev-stdio');
  for (const p of [v1.provider, pB, v1s.provider]) p.resetCounters();

  let n = 0;
  const echo = async (c, label) => {
    const message = `${label} ${++n} ${randomBytes(3).toString('hex')}`;
    const r = await c.client.callTool({ name: 'echo', arguments: { message } }, ...(c === v2 ? [{ timeout: 20_000 }] : [undefined, { timeout: 20_000 }]));
    assert.notEqual(r.isError, true, `${label}: ${text(r)}`);
    assert.match(text(r), new RegExp(message));
  };
  const all = async (label) => { await echo(v1, `v1 ${label}`); await echo(v2, `v2 ${label}`); await echo(v1s, `v1 stdio ${label}`); };

  await all('before');
  await h.restart();
  await all('after a gateway restart');
  await h.restart({ kill9: true });
  await all('after kill -9');
  await upstream.restart();
  await all('after an upstream restart');
  for (const [who, p] of [['alice v1', v1.provider], ['bob v2', pB], ['alice v1 stdio', v1s.provider]]) {
    assert.equal(p.counters.authorizations, 0, `${who}: no sign-in`);
    assert.equal(p.counters.loginPages + p.counters.consentPages, 0, `${who}: no page shown`);
    assert.equal(p.counters.registrations, 0, `${who}: no new registration`);
  }
});

// ---- aggregation ----

test('aggregation at /mcp: two upstreams plus the built-ins, prefixed names, allow and deny lists honoured', gw, async (t) => {
  const upstream = await everythingHttp(t);
  const h = await gateway(t, {
    everything: { url: upstream.url, tools: { deny: ['get-env', 'trigger-long-running-operation'] } },
    local: everythingStdio({ tools: { allow: ['echo', 'get-sum', 'get-env'] } }),
  }, { env: { ADMIN_TOKEN: 'e2e-admin-token-that-must-stay-inside-0123456789' } });
  const c = await signIn(t, h, 'alice', '/mcp');
  const names = (await c.client.listTools()).tools.map((x) => x.name);
  for (const builtin of ['whoami', 'notes_add', 'notes_list']) assert.ok(names.includes(builtin), `built-in ${builtin} keeps its name: ${names}`);
  assert.ok(names.includes('everything_echo') && names.includes('everything_get-sum'), `prefixed: ${names}`);
  assert.ok(!names.includes('everything_get-env') && !names.includes('everything_trigger-long-running-operation'), 'denied tools are hidden');
  assert.deepEqual(names.filter((x) => x.startsWith('local_')).sort(), ['local_echo', 'local_get-env', 'local_get-sum'], 'allow lists only those');
  assert.ok(!names.includes('echo'), 'no unprefixed upstream tool');
  const again = (await c.client.listTools()).tools.map((x) => x.name);
  assert.deepEqual(again, names, 'a deterministic order');

  const sum = await c.client.callTool({ name: 'everything_get-sum', arguments: { a: 2, b: 3 } });
  assert.match(text(sum), /5/);
  assert.match(text(await c.client.callTool({ name: 'local_echo', arguments: { message: 'via stdio' } })), /via stdio/);
  const denied = await c.client.callTool({ name: 'everything_get-env', arguments: {} }).catch((e) => ({ isError: true, thrown: e.message }));
  assert.equal(denied.isError, true, 'a denied tool is refused, not forwarded');
  const notAllowed = await c.client.callTool({ name: 'local_get-tiny-image', arguments: {} }).catch((e) => ({ isError: true, thrown: e.message }));
  assert.equal(notAllowed.isError, true);
  // The stdio child's environment holds nothing of ours.
  const env = text(await c.client.callTool({ name: 'local_get-env', arguments: {} }));
  assert.ok(env.length > 0);
  assert.doesNotMatch(env, /e2e-admin-token|ADMIN_TOKEN|ENCRYPTION_KEY|OAUTH_DATA_DIR|MCP_SERVERS_FILE/);

  // The per-server endpoint honours the same lists, without prefixes.
  const direct = await signIn(t, h, 'alice', '/mcp/everything');
  const own = (await direct.client.listTools()).tools.map((x) => x.name);
  assert.ok(own.includes('echo') && !own.includes('get-env'), `per-server names: ${own}`);
  // A token for one server is refused by another (its own audience).
  const res = await fetch(`${h.url}/mcp/local`, {
    method: 'POST', headers: { authorization: `Bearer ${direct.token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
  assert.equal(res.status, 401);
  assert.match(res.headers.get('www-authenticate') ?? '', /oauth-protected-resource\/mcp\/local/);
});
