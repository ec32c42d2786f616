// AUTH_PROVIDER=oidc end to end: the official SDK client connects through our consent page and a
// fake OpenID Connect provider (lib/fake-idp.mjs), the server restarts, the client refreshes with
// no new sign-in, and upstream_profile still answers with each user's own upstream identity.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { rm, readdir, readFile } from 'node:fs/promises';
import { connectClient } from '../lib/mcp-client.mjs';
import { FileOAuthProvider } from '../lib/oauth-provider.mjs';
import { startServer, makeTempDir, freePort } from '../lib/server.mjs';
import { startFakeIdp } from '../lib/fake-idp.mjs';

async function toolJson(client, name) {
  const r = await client.callTool({ name, arguments: {} });
  assert.notEqual(r.isError, true, `${name} failed: ${r.content?.[0]?.text}`);
  return JSON.parse(r.content[0].text);
}

test('oidc: SDK client via consent + provider, restart, refresh without sign-in, upstream_profile per user', async (t) => {
  // Upstream access tokens live 30 s, inside the server's 60 s refresh margin: every upstream use
  // after the restart goes through a refresh with the stored, encrypted upstream refresh token.
  const idp = await startFakeIdp({ expiresIn: 30 });
  const dataDir = await makeTempDir('mcp-e2e-oidc-');
  const tmp = await makeTempDir('mcp-e2e-oidc-client-');
  const port = await freePort();
  const env = {
    AUTH_PROVIDER: 'oidc',
    OIDC_ISSUER: idp.url,
    OIDC_CLIENT_ID: idp.clientId,
    OIDC_CLIENT_SECRET: idp.clientSecret,
    UPSTREAM_TIMEOUT: '5',
  };
  let server = await startServer({ dataDir, port, env });
  const open = [];
  t.after(async () => {
    for (const c of open) await c.client.close().catch(() => {});
    await server.stop('SIGTERM').catch(() => {});
    await idp.stop();
    await rm(dataDir, { recursive: true, force: true });
    await rm(tmp, { recursive: true, force: true });
  });
  const mcpUrl = `${server.url}/mcp`;
  const alice = new FileOAuthProvider({ file: path.join(tmp, 'alice.json') });
  const bob = new FileOAuthProvider({ file: path.join(tmp, 'bob.json') }); // its own cookie jar: another browser
  const connect = async (p) => { const c = await connectClient(mcpUrl, p); open.push(c); return c; };

  await t.test('first connect: our consent, then the provider, then back to the client', async () => {
    idp.user = { sub: 'alice-sub', email: 'alice@example.com', name: 'Alice' };
    const a = await connect(alice);
    assert.equal(a.authorized, true);
    assert.equal(alice.counters.consentPages, 1, 'our consent page first');
    assert.equal(alice.counters.loginPages, 0, 'no local login page');
    // POST allow -> 303 to the provider -> 302 back to /oauth/callback -> 302 to the client
    assert.deepEqual(alice.redirects.map((r) => `${r.method} ${r.status}`), ['POST 303', 'GET 302', 'GET 302']);
    assert.equal(alice.redirects[1].from, `${idp.url}/authorize`);
    assert.equal(alice.redirects[2].from, `${server.url}/oauth/callback`);
    const authz = idp.seen.find((r) => r.path === '/authorize');
    assert.equal(authz.query.redirect_uri, `${server.url}/oauth/callback`);
    assert.equal(authz.query.code_challenge_method, 'S256');
    assert.equal(authz.query.resource, undefined, 'resource is not forwarded upstream');

    const who = await toolJson(a.client, 'whoami');
    assert.equal(who.subject, 'oidc:alice-sub');
    assert.equal(who.provider, 'oidc');
    const prof = await toolJson(a.client, 'upstream_profile');
    assert.equal(prof.provider, 'oidc');
    assert.equal(prof.profile.sub, 'alice-sub');
    assert.equal(prof.profile.email, 'alice@example.com');

    idp.user = { sub: 'bob-sub', email: 'bob@example.com', name: 'Bob' };
    const b = await connect(bob);
    assert.equal(b.authorized, true);
    assert.equal((await toolJson(b.client, 'upstream_profile')).profile.sub, 'bob-sub');
    for (const c of open.splice(0)) await c.client.close();
  });

  await t.test('after a restart: a refresh, no new sign-in, each user still gets their own profile', async () => {
    await server.stop('SIGTERM');
    server = await startServer({ dataDir, port, env });
    idp.user = { sub: 'mallory-sub', email: 'mallory@example.com', name: 'Mallory' }; // a sign-in now would show up
    const refreshesBefore = idp.refreshCalls;
    for (const [p, sub] of [[alice, 'alice-sub'], [bob, 'bob-sub']]) {
      p.resetCounters();
      const c = await connect(p);
      assert.equal(c.authorized, false, 'no interactive authorization');
      assert.equal(p.counters.authorizations, 0);
      assert.equal(p.counters.consentPages, 0);
      assert.equal(p.counters.registrations, 0);
      assert.ok(p.counters.tokenSaves >= 1, 'the client refreshed its tokens');
      assert.equal((await toolJson(c.client, 'whoami')).subject, `oidc:${sub}`);
      const prof = await toolJson(c.client, 'upstream_profile');
      assert.equal(prof.profile.sub, sub, 'the right user upstream');
    }
    assert.ok(idp.refreshCalls > refreshesBefore, 'the server refreshed upstream with the stored refresh tokens');
    assert.equal(idp.seen.filter((r) => r.path === '/authorize').length, 2, 'no new upstream sign-in');
  });

  await t.test('no token of ours reached the provider; no upstream token on disk in clear', async () => {
    const ours = [alice, bob].flatMap((p) => [p.tokens()?.access_token, p.tokens()?.refresh_token]).filter(Boolean);
    assert.ok(ours.length >= 4);
    for (const r of idp.seen) {
      const values = [r.authorization ?? '', ...Object.values(r.query), ...Object.values(r.form)];
      for (const v of values) {
        assert.ok(!/mcpat_|mcprt_/.test(v), `a token of ours reached the provider at ${r.path}`);
        for (const mine of ours) assert.ok(!v.includes(mine), `a token of ours reached the provider at ${r.path}`);
      }
    }
    let all = '';
    for (const f of await readdir(dataDir)) {
      if (f.endsWith('.json') || f.endsWith('.prev')) all += await readFile(path.join(dataDir, f), 'latin1');
    }
    assert.ok(all.includes('oidc:alice-sub'), 'the stores were read');
    for (const tok of idp.issued) assert.ok(!all.includes(tok), 'an upstream token is stored in clear');
    assert.ok(!all.includes(idp.clientSecret), 'the upstream client secret is not stored');
  });
});
