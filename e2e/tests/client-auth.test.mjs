// Connect, restart, refresh for each token endpoint authentication method the server advertises,
// and for Cursor's three redirect URIs registered at once (the flow completes on the loopback one).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient } from '../lib/mcp-client.mjs';
import { testServer, providerFor, recordingFetch, callJson } from '../lib/harness.mjs';

/** What the token request shows about client authentication (names only, never values). */
function clientAuthOf(entry) {
  return {
    basic: entry.auth === 'basic',
    secretInBody: entry.form.includes('client_secret'),
    idInBody: entry.form.includes('client_id'),
  };
}

const EXPECTED = {
  client_secret_basic: { basic: true, secretInBody: false, idInBody: false },
  client_secret_post: { basic: false, secretInBody: true, idInBody: true },
  none: { basic: false, secretInBody: false, idInBody: true },
};

/**
 * Connects `p` (registration, sign-in, consent), restarts the server with SIGTERM, then checks the
 * next call refreshes silently. Returns the recorded requests of both phases.
 */
async function connectRestartRefresh(t, h, p, rec) {
  const c = await connectClient(h.mcpUrl, p, { fetch: rec.fetch });
  t.after(() => c.client.close().catch(() => {}));
  assert.equal(c.authorized, true);
  assert.equal(p.counters.loginPages, 1);
  assert.equal(p.counters.consentPages, 1);
  const me = await callJson(c.client, 'whoami');
  assert.equal(me.username, 'alice');
  assert.equal(me.client_id, p.clientInformation().client_id);
  const before = rec.log.slice();
  const redirect = p.lastRedirect;

  await h.restart();
  p.resetCounters();
  rec.clear();
  const again = await callJson(c.client, 'whoami');
  assert.equal(again.subject, me.subject);
  assert.equal(p.counters.authorizations, 0, 'no authorization after the restart');
  assert.equal(p.counters.loginPages, 0, 'no sign-in after the restart');
  assert.equal(p.counters.consentPages, 0, 'no consent after the restart');
  assert.equal(p.counters.registrations, 0, 'no new registration after the restart');
  assert.deepEqual(p.counters.invalidations, []);
  const s = rec.summary();
  assert.deepEqual(rec.calls('/mcp').map((e) => e.status), [401, 200], s);
  const refresh = rec.calls('/token');
  assert.equal(refresh.length, 1, s);
  assert.equal(refresh[0].grantType, 'refresh_token');
  assert.equal(refresh[0].status, 200, s);
  return { before, after: rec.log.slice(), redirect };
}

for (const method of ['client_secret_post', 'client_secret_basic', 'none']) {
  test(`token_endpoint_auth_method ${method}: connect, SIGTERM restart, refresh with the same authentication`, async (t) => {
    const h = await testServer(t);
    const meta = await (await fetch(`${h.url}/.well-known/oauth-authorization-server`)).json();
    assert.ok(meta.token_endpoint_auth_methods_supported.includes(method), `advertised: ${meta.token_endpoint_auth_methods_supported}`);
    const rec = recordingFetch();
    const p = providerFor(h, 'alice', { clientMetadata: { token_endpoint_auth_method: method } });
    const { before, after } = await connectRestartRefresh(t, h, p, rec);

    const info = p.clientInformation();
    assert.equal(info.token_endpoint_auth_method, method, 'registration echoes the method');
    assert.deepEqual(info.grant_types, ['authorization_code', 'refresh_token'], 'registration echoes the grant types');
    if (method === 'none') {
      assert.equal(info.client_secret, undefined, 'a public client gets no secret');
    } else {
      assert.equal(typeof info.client_secret, 'string');
      assert.ok(info.client_secret.length >= 32, 'a long client secret');
      assert.equal(info.client_secret_expires_at, 0, 'the secret does not expire');
    }
    const code = before.filter((e) => e.path === '/token' && e.grantType === 'authorization_code');
    assert.equal(code.length, 1);
    assert.deepEqual(clientAuthOf(code[0]), EXPECTED[method], 'code exchange used the registered method');
    const refresh = after.find((e) => e.path === '/token');
    assert.deepEqual(clientAuthOf(refresh), EXPECTED[method], 'refresh used the registered method');
  });
}

test("Cursor's three redirect URIs at once: flow completes on the loopback one, then restart and refresh", async (t) => {
  const h = await testServer(t);
  const cursorUris = [
    'cursor://anysphere.cursor-mcp/oauth/callback',
    'https://www.cursor.com/agents/mcp/oauth/callback',
    'http://localhost:8787/callback',
  ];
  const rec = recordingFetch();
  const p = providerFor(h, 'alice', {
    redirectUrl: 'http://localhost:8787/callback',
    clientMetadata: { client_name: 'Cursor', redirect_uris: cursorUris },
  });
  const { before, redirect } = await connectRestartRefresh(t, h, p, rec);
  assert.ok(redirect.code, 'the code came back on http://localhost:8787/callback');
  const info = p.clientInformation();
  assert.deepEqual(info.redirect_uris, cursorUris, 'all three redirect URIs registered and echoed');
  const reg = before.find((e) => e.path === '/register');
  assert.equal(reg.status, 201);
});
