// The gateway's stdio processes and sessions: @modelcontextprotocol/server-filesystem per user (each user's own
// directory, processes stopped when idle), and the SDK clients (v1 legacy, v2 modern) across a gateway restart, a
// kill -9 and an upstream restart with no sign-in and no error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { connectModernClient } from '../lib/mcp-client-v2.mjs';
import { providerFor, recordingFetch } from '../lib/harness.mjs';
import { makeTempDir, waitFor } from '../lib/server.mjs';
import { E2E, EVERYTHING, FILESYSTEM, NODE, LEGACY, MODERN, gw, digest, everythingHttp, serversFile, gateway, everythingStdio, signIn, text, descendants } from '../lib/gateway.mjs';

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
