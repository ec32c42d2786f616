// Both eras on the same /mcp at once: the TypeScript SDK v2 client (@modelcontextprotocol/client 2.x) pinned to MCP
// 2026-07-28 (no initialize, every call one POST with _meta and the mirrored headers) for alice, the v1 client
// (@modelcontextprotocol/sdk 1.32, legacy 2025-11-25) for bob; whoami, notes_add, notes_list, the confirmation tool
// notes_clear on both eras, and no sign-in across a graceful restart and kill -9.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connectClient } from '../lib/mcp-client.mjs';
import { connectModernClient, callJsonV2, MODERN } from '../lib/mcp-client-v2.mjs';
import { testServer, providerFor, recordingFetch, callJson, noteTexts } from '../lib/harness.mjs';

/** A fetch that records, for every POST to /mcp, its JSON-RPC method, the era headers and the status. */
function wireLog(inner) {
  const posts = [];
  const f = async (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
    let entry;
    if (url.pathname === '/mcp' && (init.method ?? 'GET').toUpperCase() === 'POST') {
      let body = {};
      try { body = JSON.parse(String(init.body)); } catch {}
      entry = {
        method: body.method, id: body.id, meta: body.params?._meta,
        version: headers.get('mcp-protocol-version') ?? undefined, mcpMethod: headers.get('mcp-method') ?? undefined,
        mcpName: headers.get('mcp-name') ?? undefined, inputResponses: body.params?.inputResponses !== undefined,
      };
      posts.push(entry);
    }
    const res = await inner(input, init);
    if (entry) entry.status = res.status;
    return res;
  };
  return { fetch: f, posts, clear() { posts.length = 0; } };
}

function assertSilent(p, who) {
  assert.equal(p.counters.authorizations, 0, `${who}: no authorization redirect`);
  assert.equal(p.counters.loginPages, 0, `${who}: no sign-in page`);
  assert.equal(p.counters.consentPages, 0, `${who}: no consent page`);
  assert.equal(p.counters.registrations, 0, `${who}: no new registration`);
}

/** After a restart: the old token refused once (401), one refresh_token grant, the retried call succeeds. */
function assertRefreshedOnce(rec, who) {
  const s = rec.summary();
  const mcp = rec.calls('/mcp');
  assert.equal(mcp.length, 2, `${who}: one refused call and one retry\n${s}`);
  assert.equal(mcp[0].status, 401, `${who}: old access token refused\n${s}`);
  assert.match(mcp[0].wwwAuthenticate ?? '', /error="invalid_token"/);
  assert.equal(mcp[1].status, 200, `${who}: retry after the refresh succeeds\n${s}`);
  const token = rec.calls('/token');
  assert.equal(token.length, 1, `${who}: exactly one token request\n${s}`);
  assert.equal(token[0].grantType, 'refresh_token');
  assert.equal(rec.calls('/register').length + rec.calls('/authorize').length, 0, `${who}: no registration, no authorization\n${s}`);
}

/** Every POST of the modern client: modern _meta, the version header equal to it, Mcp-Method, never initialize. */
function assertModernWire(posts) {
  assert.ok(posts.length > 0);
  for (const p of posts) {
    assert.notEqual(p.method, 'initialize', 'no initialize handshake in the modern era');
    if (p.id === undefined) continue;
    assert.equal(p.meta?.['io.modelcontextprotocol/protocolVersion'], MODERN, `_meta version on ${p.method}`);
    assert.ok(p.meta?.['io.modelcontextprotocol/clientCapabilities'], `_meta capabilities on ${p.method}`);
    assert.equal(p.version, MODERN, `MCP-Protocol-Version on ${p.method}`);
    assert.equal(p.mcpMethod, p.method, `Mcp-Method on ${p.method}`);
  }
}

test('v2 client (modern era) and v1 client (legacy era) side by side; across restart and kill -9', async (t) => {
  const h = await testServer(t, { users: ['alice', 'bob'] });
  const recA = recordingFetch();
  const recB = recordingFetch();
  const wireA = wireLog(recA.fetch);
  const wireB = wireLog(recB.fetch);
  const alice = providerFor(h, 'alice');
  const bob = providerFor(h, 'bob');
  const asked = [];
  let answer = { action: 'accept', content: { confirm: true } };
  const open = [];
  t.after(async () => { for (const c of open) await c.client.close().catch(() => {}); });
  const tag = randomBytes(4).toString('hex');
  let a, b;

  await t.test('first connects: alice modern (v2 pinned to 2026-07-28), bob legacy (v1)', async () => {
    a = await connectModernClient(h.mcpUrl, alice, { fetch: wireA.fetch, elicit: async (params) => { asked.push(params); return answer; } });
    open.push(a);
    assert.equal(a.authorized, true);
    assert.equal(alice.counters.loginPages, 1);
    assert.equal(a.client.getNegotiatedProtocolVersion(), MODERN);
    b = await connectClient(h.mcpUrl, bob, { fetch: wireB.fetch });
    open.push(b);
    assert.equal(b.authorized, true);
    assert.ok(wireB.posts.some((p) => p.method === 'initialize' && p.status === 200), 'bob opened with initialize');
    assert.ok(wireB.posts.every((p) => p.meta?.['io.modelcontextprotocol/protocolVersion'] === undefined), 'no modern _meta from v1');
    assertModernWire(wireA.posts);
    assert.ok(wireA.posts.some((p) => p.method === 'server/discover' && p.status === 200), 'the pinned client checked server/discover at connect');
  });

  await t.test('modern: whoami, notes_add, notes_list, one POST per call; legacy the same tools', async () => {
    wireA.clear();
    const me = await callJsonV2(a.client, 'whoami');
    assert.equal(me.username, 'alice');
    assert.deepEqual(wireA.posts.map((p) => [p.method, p.mcpName, p.status]), [['tools/call', 'whoami', 200]], 'exactly one request for one call');
    await callJsonV2(a.client, 'notes_add', { text: `alice modern ${tag}` });
    await callJson(b.client, 'notes_add', { text: `bob legacy ${tag}` });
    const list = await callJsonV2(a.client, 'notes_list');
    assert.deepEqual(list.notes.map((n) => n.text), [`alice modern ${tag}`]);
    assert.deepEqual(await noteTexts(b.client), [`bob legacy ${tag}`]);
    assert.equal((await callJson(b.client, 'whoami')).username, 'bob');
    const tools = await a.client.listTools();
    assert.ok(['whoami', 'notes_add', 'notes_list', 'notes_clear'].every((n) => tools.tools.some((x) => x.name === n)));
    assertModernWire(wireA.posts);
  });

  await t.test('graceful restart: each client refreshes once and carries on in its era', async () => {
    await h.restart();
    for (const [p, rec, wire, call, who] of [[alice, recA, wireA, () => callJsonV2(a.client, 'whoami'), 'alice'], [bob, recB, wireB, () => callJson(b.client, 'whoami'), 'bob']]) {
      p.resetCounters();
      rec.clear();
      wire.clear();
      assert.equal((await call()).username, who);
      assertSilent(p, who);
      assertRefreshedOnce(rec, who);
    }
    assertModernWire(wireA.posts);
    assert.deepEqual((await callJsonV2(a.client, 'notes_list')).notes.map((n) => n.text), [`alice modern ${tag}`]);
  });

  await t.test('kill -9: acknowledged notes survive, both clients refresh once', async () => {
    const acked = [];
    for (let i = 0; i < 5; i++) {
      const text = `alice kill9 ${tag} ${i}`;
      await callJsonV2(a.client, 'notes_add', { text });
      acked.push(text);
    }
    await h.restart({ kill9: true });
    for (const [p, rec, call, who] of [[alice, recA, () => callJsonV2(a.client, 'whoami'), 'alice'], [bob, recB, () => callJson(b.client, 'whoami'), 'bob']]) {
      p.resetCounters();
      rec.clear();
      assert.equal((await call()).username, who);
      assertSilent(p, who);
      assertRefreshedOnce(rec, who);
    }
    const texts = (await callJsonV2(a.client, 'notes_list')).notes.map((n) => n.text);
    assert.deepEqual(acked.filter((n) => !texts.includes(n)), [], 'every acknowledged note survived kill -9');
  });

  await t.test('a tool that asks: modern confirms through the client, legacy gets an error and nothing is deleted', async () => {
    // Modern, declined: the question reached the client's handler; nothing deleted.
    answer = { action: 'decline' };
    wireA.clear();
    const declined = await callJsonV2(a.client, 'notes_clear');
    assert.equal(declined.deleted, 0);
    assert.equal(asked.length, 1);
    assert.equal(asked[0].mode ?? 'form', 'form');
    assert.match(asked[0].message, /^Delete all 6 of your notes\?/);
    assert.deepEqual(wireA.posts.map((p) => [p.method, p.inputResponses, p.status]), [['tools/call', false, 200], ['tools/call', true, 200]],
      'the call and its retry with the answer');
    assert.equal((await callJsonV2(a.client, 'notes_list')).notes.length, 6);

    // Modern, confirmed: deleted.
    answer = { action: 'accept', content: { confirm: true } };
    const done = await callJsonV2(a.client, 'notes_clear');
    assert.equal(done.deleted, 6);
    assert.deepEqual((await callJsonV2(a.client, 'notes_list')).notes, []);
    assertModernWire(wireA.posts);

    // Legacy: the stateless legacy server cannot ask; a tool error says so, and bob's note stays.
    const r = await b.client.callTool({ name: 'notes_clear', arguments: {} });
    assert.equal(r.isError, true);
    assert.match(r.content[0].text, /cannot ask for.*Nothing was done.*2026-07-28/s);
    assert.deepEqual(await noteTexts(b.client), [`bob legacy ${tag}`]);
  });

  await t.test('the requestState survives a restart (its key is in the data directory)', async () => {
    await callJsonV2(a.client, 'notes_add', { text: `alice after ${tag}` });
    let restarted = false;
    // Answer the question only after the server restarted: the retry carries a requestState sealed before it.
    const a2 = await connectModernClient(h.mcpUrl, alice, {
      fetch: recA.fetch,
      elicit: async () => { await h.restart(); restarted = true; return { action: 'accept', content: { confirm: true } }; },
    });
    open.push(a2);
    const r = await callJsonV2(a2.client, 'notes_clear', {}, { timeoutMs: 60_000 });
    assert.ok(restarted);
    assert.equal(r.deleted, 1);
  });
});
