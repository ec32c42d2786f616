// The official TypeScript SDK client (@modelcontextprotocol/sdk) against our server, with the
// file-persisting OAuthClientProvider: sign in once, then never again across a reconnect, a
// graceful restart and kill -9; notes stay per user and survive both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { connectClient } from '../lib/mcp-client.mjs';
import { waitFor } from '../lib/server.mjs';
import { testServer, providerFor, recordingFetch, callJson, noteTexts } from '../lib/harness.mjs';

const digest = (s) => createHash('sha256').update(String(s)).digest('hex'); // compare secrets without showing them

/** Asserts the provider saw no authorization at all (no login page, no consent page, no registration). */
function assertSilent(p, who) {
  assert.equal(p.counters.authorizations, 0, `${who}: no authorization redirect`);
  assert.equal(p.counters.loginPages, 0, `${who}: no sign-in page`);
  assert.equal(p.counters.consentPages, 0, `${who}: no consent page`);
  assert.equal(p.counters.registrations, 0, `${who}: no new registration`);
  assert.deepEqual(p.counters.invalidations, [], `${who}: no credentials thrown away`);
}

/**
 * The requests of one tool call after a restart: the old access token is refused with 401
 * invalid_token, one refresh_token grant succeeds, the retried call succeeds; nothing else.
 */
function assertRefreshedOnce(rec, who) {
  const s = rec.summary();
  const mcp = rec.calls('/mcp');
  assert.equal(mcp.length, 2, `${who}: one refused call and one retry\n${s}`);
  assert.equal(mcp[0].status, 401, `${who}: old access token refused\n${s}`);
  assert.match(mcp[0].wwwAuthenticate ?? '', /^Bearer /i);
  assert.match(mcp[0].wwwAuthenticate, /error="invalid_token"/);
  assert.match(mcp[0].wwwAuthenticate, /resource_metadata="[^"]+\/\.well-known\/oauth-protected-resource\/mcp"/);
  assert.equal(mcp[1].status, 200, `${who}: retry after the refresh succeeds\n${s}`);
  const token = rec.calls('/token');
  assert.equal(token.length, 1, `${who}: exactly one token request\n${s}`);
  assert.equal(token[0].grantType, 'refresh_token');
  assert.equal(token[0].status, 200, `${who}: refresh accepted\n${s}`);
  assert.equal(rec.calls('/register').length, 0, `${who}: no registration\n${s}`);
  assert.equal(rec.calls('/authorize').length, 0, `${who}: no authorization\n${s}`);
}

test('SDK client: one sign-in, then reconnect, SIGTERM restart and kill -9 with no sign-in; notes per user', async (t) => {
  const h = await testServer(t, { users: ['alice', 'bob'] });
  const meta = await (await fetch(`${h.url}/.well-known/oauth-authorization-server`)).json();
  const recA = recordingFetch();
  const recB = recordingFetch();
  const alice = providerFor(h, 'alice');
  const bob = providerFor(h, 'bob'); // its own cookie jar: another browser
  const open = [];
  t.after(async () => { for (const c of open) await c.client.close().catch(() => {}); });
  const connect = async (p, rec) => { const c = await connectClient(h.mcpUrl, p, { fetch: rec.fetch }); open.push(c); return c; };
  const tag = randomBytes(4).toString('hex');
  const aliceNote = `alice private note ${tag}`;
  const bobNote = `bob private note ${tag}`;
  let a, b, aliceSubject, aliceClientId, lastRefresh;

  await t.test('first connect: registration, sign-in, consent; whoami names alice', async () => {
    a = await connect(alice, recA);
    assert.equal(a.authorized, true);
    assert.equal(alice.counters.registrations, 1);
    assert.equal(alice.counters.authorizations, 1);
    assert.equal(alice.counters.loginPages, 1);
    assert.equal(alice.counters.consentPages, 1);
    assert.equal(alice.counters.tokenSaves, 1);
    // The unauthenticated first request got the discovery challenge.
    const first = recA.calls('/mcp')[0];
    assert.equal(first.status, 401);
    assert.match(first.wwwAuthenticate, /resource_metadata="[^"]+\/\.well-known\/oauth-protected-resource\/mcp"/);
    // The redirect back to the client: code, our state, and iss = issuer; consent POST answered 303.
    assert.ok(alice.lastRedirect.code);
    assert.equal(alice.lastRedirect.state, alice.lastRedirect.expectedState);
    assert.equal(alice.lastRedirect.iss, meta.issuer);
    const posts = alice.redirects.filter((r) => r.method === 'POST');
    assert.ok(posts.length >= 1 && posts.every((r) => r.status === 303), `every redirect after a form POST is a 303: ${JSON.stringify(posts)}`);
    const tokens = alice.tokens();
    assert.ok(tokens.access_token && tokens.refresh_token, 'access and refresh token stored');
    assert.equal(typeof tokens.expires_in, 'number');
    lastRefresh = digest(tokens.refresh_token);

    const me = await callJson(a.client, 'whoami');
    assert.equal(me.username, 'alice');
    assert.equal(me.provider, 'local');
    assert.equal(me.client_id, alice.clientInformation().client_id);
    assert.ok(me.scopes.includes('mcp'), `scopes ${me.scopes}`);
    assert.ok(me.subject);
    aliceSubject = me.subject;
    aliceClientId = me.client_id;
  });

  await t.test('reconnect in the same process: stored tokens, no sign-in, no token request', async () => {
    alice.resetCounters();
    recA.clear();
    await a.client.close();
    a = await connect(alice, recA);
    assert.equal(a.authorized, false);
    assertSilent(alice, 'alice');
    assert.equal(alice.counters.tokenSaves, 0);
    assert.equal(recA.calls('/token').length, 0, recA.summary());
    assert.ok(recA.calls('/mcp').every((e) => e.status !== 401), recA.summary());
    const me = await callJson(a.client, 'whoami');
    assert.equal(me.subject, aliceSubject);
    assert.equal(me.client_id, aliceClientId);
  });

  await t.test('a second user signs in separately and sees only their own notes', async () => {
    b = await connect(bob, recB);
    assert.equal(b.authorized, true);
    assert.equal(bob.counters.loginPages, 1);
    assert.equal(bob.counters.consentPages, 1);
    const me = await callJson(b.client, 'whoami');
    assert.equal(me.username, 'bob');
    assert.notEqual(me.subject, aliceSubject);
    assert.notEqual(me.client_id, aliceClientId);

    await callJson(a.client, 'notes_add', { text: aliceNote });
    await callJson(b.client, 'notes_add', { text: bobNote });
    const aliceNotes = await noteTexts(a.client);
    const bobNotes = await noteTexts(b.client);
    assert.ok(aliceNotes.includes(aliceNote), 'alice sees her note');
    assert.ok(!aliceNotes.includes(bobNote), "alice does not see bob's note");
    assert.ok(bobNotes.includes(bobNote), 'bob sees his note');
    assert.ok(!bobNotes.includes(aliceNote), "bob does not see alice's note");
  });

  await t.test('graceful restart (SIGTERM): 401, one refresh, success; no sign-in, no consent', async () => {
    await h.restart();
    for (const [p, rec, c, who] of [[alice, recA, a, 'alice'], [bob, recB, b, 'bob']]) {
      p.resetCounters();
      rec.clear();
      const me = await callJson(c.client, 'whoami');
      assert.equal(me.username, who);
      assertSilent(p, who);
      assert.equal(p.counters.tokenSaves, 1, `${who}: the refreshed tokens were saved`);
      assertRefreshedOnce(rec, who);
    }
    const rotated = digest(alice.tokens().refresh_token);
    assert.notEqual(rotated, lastRefresh, 'the refresh token was rotated');
    lastRefresh = rotated;
    const aliceNotes = await noteTexts(a.client);
    const bobNotes = await noteTexts(b.client);
    assert.ok(aliceNotes.includes(aliceNote) && !aliceNotes.includes(bobNote), `alice after restart: ${aliceNotes}`);
    assert.ok(bobNotes.includes(bobNote) && !bobNotes.includes(aliceNote), `bob after restart: ${bobNotes}`);
  });

  await t.test('kill -9 while alice is adding notes: acknowledged notes and rotated tokens survive', async () => {
    // Alice adds notes one after another; bob calls whoami; the server is killed mid-stream.
    const acked = [];
    let stop = false;
    const failures = [];
    const loop = async (fn) => {
      for (let i = 0; !stop; i++) {
        try { await fn(i); } catch (e) { failures.push(e.message); return; }
      }
    };
    const loops = [
      loop(async (i) => { const text = `alice kill9 ${tag} ${i}`; await callJson(a.client, 'notes_add', { text }, { timeoutMs: 5_000 }); acked.push(text); }),
      loop(async () => { await callJson(b.client, 'whoami', {}, { timeoutMs: 5_000 }); }),
    ];
    await waitFor(() => acked.length >= 10, { timeoutMs: 20_000, what: '10 acknowledged notes' });
    await h.stop({ kill9: true });
    stop = true;
    await Promise.all(loops); // each loop ends at its first failed call (the server is gone)
    assert.equal(failures.length, 2, `both loops saw the server go away: ${failures}`);

    await h.start();
    for (const [p, rec, c, who] of [[alice, recA, a, 'alice'], [bob, recB, b, 'bob']]) {
      p.resetCounters();
      rec.clear();
      const me = await callJson(c.client, 'whoami');
      assert.equal(me.username, who);
      assertSilent(p, who);
      assertRefreshedOnce(rec, who);
    }
    const aliceNotes = await noteTexts(a.client);
    const missing = acked.filter((n) => !aliceNotes.includes(n));
    assert.deepEqual(missing, [], `every acknowledged note survived kill -9 (${acked.length} acknowledged)`);
    assert.ok(aliceNotes.includes(aliceNote) && !aliceNotes.includes(bobNote));
    const bobNotes = await noteTexts(b.client);
    assert.ok(bobNotes.includes(bobNote), 'bob still has his note');
    assert.ok(bobNotes.every((n) => !n.startsWith('alice ')), `bob sees none of alice's notes: ${bobNotes}`);
  });

  await t.test('kill -9 again (no traffic in flight): the rotated refresh token still works', async () => {
    assert.notEqual(digest(alice.tokens().refresh_token), lastRefresh, 'rotated again after the kill');
    await h.restart({ kill9: true });
    for (const [p, rec, c, who] of [[alice, recA, a, 'alice'], [bob, recB, b, 'bob']]) {
      p.resetCounters();
      rec.clear();
      assert.equal((await callJson(c.client, 'whoami')).username, who);
      assertSilent(p, who);
      assertRefreshedOnce(rec, who);
    }
    const fresh = await connect(alice, recA); // a brand-new connection in the same process: still no sign-in
    assert.equal(fresh.authorized, false);
    assert.equal((await callJson(fresh.client, 'whoami')).subject, aliceSubject);
  });
});
