// The gateway as an MCP OAuth client of a real OAuth-protected MCP server: the upstream U is this server on its own
// port and data dir with its own local users, the gateway G another one whose servers file names U's /mcp with a
// connection {"mcp_server": ...} and "as": "bearer". Each user signs in to G with the official SDK client through
// Chromium, calls U's whoami through G, is told to connect (v1: -32042 URL elicitation; v2 on 2026-07-28:
// input_required), connects in the same browser (G sends it to U's own sign-in and consent pages, U sends it back to
// G's callback), and the retried call reaches U as that user. U only ever sees tokens it issued to G's registration.
// Then the same with G on https: U fetches G's Client ID Metadata Document (MCP 2026-07-28) instead of a registration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { testServer, PASSWORDS, callbackServer, BrowserProvider, callJson } from '../lib/harness.mjs';
import { connectClient } from '../lib/mcp-client.mjs';
import { connectModernClient, callJsonV2 } from '../lib/mcp-client-v2.mjs';
import { gw, gateway } from '../lib/gateway.mjs';
import { launchBrowser, screenshot, signInAndConsent } from '../lib/browser.mjs';
import { makeTempDir, selfSignedTls, fetchTrusting } from '../lib/server.mjs';

/**
 * U (our server, `users` (alice and bob), an admin token and an audit log) and G (our server as a gateway naming U's
 * /mcp as the upstream "up" with the connection {"mcp_server": "up"}, the same users). G is on "localhost" and U on
 * "127.0.0.1", so that one browser holds a session cookie at each (cookies ignore the port). `uOptions` and
 * `gOptions` go to testServer. Returns { U, G, admin(path), audit(), userAt(user), connectAtUpstream(page, user) }.
 */
async function upstreamAndGateway(t, { users = ['alice', 'bob'], uEnv = {}, uOptions = {}, gEnv = {}, gOptions = {}, browserOptions = {}, shots = 'gateway-oauth-upstream' } = {}) {
  const adminToken = randomBytes(24).toString('hex');
  const auditDir = await makeTempDir('mcp-e2e-audit-');
  t.after(() => rm(auditDir, { recursive: true, force: true }));
  const auditLog = path.join(auditDir, 'upstream-audit.log');
  const U = await testServer(t, { users, ...uOptions, env: { ADMIN_TOKEN: adminToken, AUDIT_LOG: auditLog, ...uEnv } });
  const G = await gateway(t, { up: { url: U.mcpUrl, connection: { name: 'up', as: 'bearer' } } }, {
    users, publicHost: 'localhost', connections: { up: { mcp_server: 'up', display_name: 'Upstream' } }, env: gEnv, ...gOptions,
  });
  const cb = await callbackServer(t);
  const admin = async (p, init = {}) => {
    const r = await fetch(`${U.url}${p}`, { ...init, headers: { authorization: `Bearer ${adminToken}`, ...init.headers } });
    assert.equal(r.status, 200, `${init.method ?? 'GET'} ${p}`);
    return r.json();
  };
  const audit = async () => (await readFile(auditLog, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));

  /** A Chromium for `user`, and the SDK's OAuth provider that signs in to G in it. */
  async function userAt(user) {
    const b = await launchBrowser(browserOptions);
    t.after(() => b.close());
    const provider = new BrowserProvider({
      file: G.file(`${user}-oauth.json`), page: b.page, callback: cb, username: user, password: PASSWORDS[user],
      clientMetadata: { client_name: `E2E SDK client of ${user}` },
      onPage: (kind, page) => screenshot(page, `${shots}-${user}-1-gateway-${kind}`),
    });
    return { page: b.page, provider };
  }

  /**
   * The page is at G's connect link: on to U's pages, sign in to U as `user`, consent, back to G's account page.
   * Returns the authorization request's parameters.
   */
  async function connectAtUpstream(page, user) {
    await page.waitForLoadState('domcontentloaded');
    assert.ok(page.url().startsWith(`${U.url}/authorize`), `G sent the browser to U's authorization endpoint: ${page.url()}`);
    const authorize = new URL(page.url()).searchParams;
    assert.equal(authorize.get('resource'), U.mcpUrl, 'RFC 8707 resource = the upstream');
    assert.equal(authorize.get('redirect_uri'), `${G.url}/connect/callback`);
    assert.equal(authorize.get('code_challenge_method'), 'S256');
    await signInAndConsent(page, {
      username: user, password: PASSWORDS[user], until: (u) => u.startsWith(`${G.url}/account`),
      onPage: async (kind, p) => {
        assert.ok(p.url().startsWith(`${U.url}/`), `U's own ${kind} page: ${p.url()}`);
        if (kind === 'consent') assert.match(await p.textContent('body'), new RegExp(`mcp-oauth-server gateway[\\s\\S]*${user}`));
        await screenshot(p, `${shots}-${user}-2-upstream-${kind}`);
      },
    });
    await page.waitForSelector('#connection-up');
    assert.equal(await page.locator('#connection-up').getAttribute('data-status'), 'connected');
    await screenshot(page, `${shots}-${user}-3-gateway-account-connected`);
    return authorize;
  }

  return { U, G, admin, audit, userAt, connectAtUpstream };
}

/** G's own access tokens are nothing at U: U's introspection (with U's admin token, which sees every token) says inactive. */
async function assertUnknownAtUpstream(admin, tokens) {
  for (const token of tokens) {
    const r = await admin('/introspect', {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }),
    });
    assert.deepEqual(r, { active: false }, "G's own access token means nothing at U");
  }
}

test('gateway as MCP OAuth client: each user connects our own OAuth-protected server through the connect flow and reaches it as themselves', gw, async (t) => {
  const { U, G, admin, audit: auditLines, userAt, connectAtUpstream } = await upstreamAndGateway(t);
  const open = [];
  t.after(async () => { for (const c of open) await c.client.close().catch(() => {}); });

  // ---- alice: the v1 SDK (2025-11-25) declaring elicitation.url, on G's aggregated /mcp (the tool up_whoami) ----
  const aliceAt = await userAt('alice');
  const alice = await connectClient(G.mcpUrl, aliceAt.provider, { capabilities: { elicitation: { url: {} } } });
  open.push(alice);
  assert.equal(alice.authorized, true, 'alice signed in to G in Chromium');
  const gAlice = await callJson(alice.client, 'whoami');
  assert.equal(gAlice.subject, 'local:alice', "G's own whoami");
  const err = await alice.client.callTool({ name: 'up_whoami', arguments: {} }).then(() => null, (e) => e);
  assert.ok(err, 'not connected yet: the call asks for the connection');
  assert.equal(err.code, -32042, String(err));
  const elicitation = err.data.elicitations[0];
  assert.equal(elicitation.mode, 'url');
  assert.equal(elicitation.url, `${G.url}/connect/up`);
  await aliceAt.page.goto(elicitation.url);
  await connectAtUpstream(aliceAt.page, 'alice');
  const a = await callJson(alice.client, 'up_whoami');
  assert.equal(a.subject, 'local:alice', `U sees alice: ${JSON.stringify(a)}`);
  assert.equal(a.username, 'alice');

  // ---- bob: the v2 SDK pinned to 2026-07-28, on G's /mcp/up (U's own tool name) ----
  const bobAt = await userAt('bob');
  const asked = [];
  const bob = await connectModernClient(`${G.url}/mcp/up`, bobAt.provider, {
    capabilities: { elicitation: { url: {} } },
    elicit: async (params) => {
      asked.push(params);
      await bobAt.page.goto(params.url);
      await connectAtUpstream(bobAt.page, 'bob');
      return { action: 'accept' };
    },
  });
  open.push(bob);
  assert.equal(bob.authorized, true, 'bob signed in to G in Chromium');
  const b = await callJsonV2(bob.client, 'whoami', {}, { timeoutMs: 60_000 });
  assert.equal(asked.length, 1, 'one input request: the connect link');
  assert.equal(asked[0].mode, 'url');
  assert.equal(asked[0].url, `${G.url}/connect/up`);
  assert.equal(b.subject, 'local:bob', `U sees bob: ${JSON.stringify(b)}`);
  assert.equal(b.username, 'bob');

  // ---- each only as themselves, whoever called last ----
  assert.equal((await callJson(alice.client, 'up_whoami')).subject, 'local:alice');
  assert.equal((await callJsonV2(bob.client, 'whoami')).subject, 'local:bob');
  assert.equal((await callJson(alice.client, 'up_whoami')).subject, 'local:alice');

  // ---- what U received: tokens U issued to G's one registration at U, never G's own tokens ----
  const upstreamClient = a.client_id;
  assert.equal(b.client_id, upstreamClient, 'both users through the one registration of G at U');
  const gClients = [aliceAt.provider.clientInformation().client_id, bobAt.provider.clientInformation().client_id];
  assert.equal(gAlice.client_id, gClients[0]);
  assert.ok(!gClients.includes(upstreamClient), "U's caller is not an SDK client of G");
  const registered = (await admin('/admin/api/clients')).clients;
  assert.deepEqual(registered.map((c) => c.client_id), [upstreamClient], "U knows one client: G's registration");
  assert.deepEqual(registered[0].redirect_uris, [`${G.url}/connect/callback`]);
  const grants = (await admin(`/admin/api/tokens?client_id=${encodeURIComponent(upstreamClient)}`)).grants;
  assert.deepEqual(grants.map((g) => g.user_id).sort(), ['local:alice', 'local:bob'], JSON.stringify(grants));
  await assertUnknownAtUpstream(admin, [aliceAt.provider.tokens().access_token, bobAt.provider.tokens().access_token]);
  const audit = await auditLines();
  const issued = audit.filter((e) => e.event === 'tokens_issued');
  assert.deepEqual(issued.map((e) => e.user).sort(), ['local:alice', 'local:bob'], 'U issued one token response per user');
  assert.ok(issued.every((e) => e.client_id === upstreamClient && e.outcome === 'success'), JSON.stringify(issued));
  assert.ok(audit.every((e) => !gClients.includes(e.client_id)), "no event at U names an SDK client of G");
});

test('gateway on https as MCP OAuth client by Client ID Metadata Document: U fetches G\'s document, no registration, the flow works', gw, async (t) => {
  // G serves https with a self-signed certificate (TLS_KEYSTORE); U trusts it the way a deployment trusts a private CA
  // (the JVM's trust store), and fetches metadata documents from loopback (CIMD_ALLOW_PRIVATE_ADDRESSES, for tests)
  const dir = await makeTempDir('mcp-e2e-tls-');
  t.after(() => rm(dir, { recursive: true, force: true }));
  const tls = await selfSignedTls(dir);
  const trusting = await fetchTrusting(tls.pem);
  const { U, G, admin, audit, userAt, connectAtUpstream } = await upstreamAndGateway(t, {
    users: ['alice'],
    uEnv: { CIMD_ALLOW_PRIVATE_ADDRESSES: 'true' },
    uOptions: { javaArgs: [`-Djavax.net.ssl.trustStore=${tls.truststore}`, `-Djavax.net.ssl.trustStorePassword=${tls.password}`, '-Djavax.net.ssl.trustStoreType=PKCS12'] },
    gEnv: { TLS_KEYSTORE: tls.keystore, TLS_KEYSTORE_PASSWORD: tls.password },
    gOptions: { fetch: trusting },
    browserOptions: { ignoreHTTPSErrors: true },
    shots: 'gateway-oauth-upstream-cimd',
  });
  assert.match(G.url, /^https:\/\/localhost:/);
  const meta = await (await fetch(`${U.url}/.well-known/oauth-authorization-server`)).json();
  assert.equal(meta.client_id_metadata_document_supported, true, 'U advertises Client ID Metadata Documents');
  const documentUrl = `${G.url}/connect/client-metadata/up.json`;

  const aliceAt = await userAt('alice');
  const alice = await connectClient(G.mcpUrl, aliceAt.provider, { fetch: trusting, capabilities: { elicitation: { url: {} } } });
  t.after(() => alice.client.close().catch(() => {}));
  const err = await alice.client.callTool({ name: 'up_whoami', arguments: {} }).then(() => null, (e) => e);
  assert.equal(err?.code, -32042, String(err));
  assert.equal(err.data.elicitations[0].url, `${G.url}/connect/up`);
  await aliceAt.page.goto(err.data.elicitations[0].url);
  const authorize = await connectAtUpstream(aliceAt.page, 'alice');
  assert.equal(authorize.get('client_id'), documentUrl, "G's client id at U is the URL of its metadata document");
  const a = await callJson(alice.client, 'up_whoami');
  assert.equal(a.subject, 'local:alice', `U sees alice: ${JSON.stringify(a)}`);
  assert.equal(a.client_id, documentUrl, 'the token U received was issued by U to the client of that document');

  const clients = (await admin('/admin/api/clients')).clients;
  assert.deepEqual(clients.map((c) => [c.client_id, c.auth_method, c.registered]), [[documentUrl, 'metadata_document', false]],
    `U knows G only by its document, never registered: ${JSON.stringify(clients)}`);
  const grants = (await admin(`/admin/api/tokens?client_id=${encodeURIComponent(documentUrl)}`)).grants;
  assert.deepEqual(grants.map((g) => g.user_id), ['local:alice']);
  await assertUnknownAtUpstream(admin, [aliceAt.provider.tokens().access_token]);
  const events = await audit();
  assert.equal(events.filter((e) => e.event === 'client_registered').length, 0, JSON.stringify(events));
  const issued = events.filter((e) => e.event === 'tokens_issued');
  assert.deepEqual(issued.map((e) => [e.user, e.client_id]), [['local:alice', documentUrl]]);
});
