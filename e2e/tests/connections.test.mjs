// Connections end to end: a real third-party authorization server we did not write (oidc-provider, rotating refresh
// tokens), two users who each connect their own account there through Chromium, and the official SDK clients calling
// our tools, which reach the provider's protected API (its userinfo) with the calling user's own connection token.
// Refresh ahead of expiry; restart and kill -9; a kill -9 while a refresh answer is in flight (the provider rotated
// the token, we never got the answer) never makes us send the spent token again; a connect link cannot be completed
// by another user; disconnect revokes at the provider; URL elicitation on 2025-11-25 (-32042) and 2026-07-28
// (input_required), each completed in the browser, then the retried call succeeds; the 2025-11-25 client, which declared
// elicitation.url in its session, receives notifications/elicitation/complete on its GET stream when the flow ends. A kill -9 while a refresh request
// has not been carried out resumes after the restart (the provider's introspection says the token is unused).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { testServer, providerFor, callJson, PASSWORDS } from '../lib/harness.mjs';
import { connectClient } from '../lib/mcp-client.mjs';
import { connectModernClient, callJsonV2 } from '../lib/mcp-client-v2.mjs';
import { freePort, makeTempDir, waitFor } from '../lib/server.mjs';
import { launchBrowser } from '../lib/browser.mjs';
import { CookieJar, jarFetch, parseForms } from '../lib/http.mjs';
import { startConnectProvider } from '../lib/connect-provider.mjs';
import { ElicitationCompleteNotificationSchema } from '@modelcontextprotocol/sdk/types.js';

const RESULTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'test-results');

async function shot(page, name) {
  await mkdir(RESULTS, { recursive: true });
  await page.screenshot({ path: path.join(RESULTS, `connections-${name}.png`), fullPage: true });
}

test('connections: per-user accounts at a real provider, refresh, restarts, kill -9 mid-refresh, isolation, revoke, URL elicitation', async (t) => {
  const port = await freePort();
  const idp = await startConnectProvider({ port: await freePort(), redirectUri: `http://127.0.0.1:${port}/connect/callback`, accessTokenTtl: 65 });
  const conf = await makeTempDir('mcp-e2e-connect-conf-');
  const serversFile = path.join(conf, 'mcp-servers.json');
  await writeFile(serversFile, JSON.stringify({
    servers: {},
    connections: {
      svc: {
        issuer: idp.issuer, client_id: idp.clientId, client_secret: '${SVC_CLIENT_SECRET}', display_name: 'Provider',
        scopes: ['openid', 'email', 'offline_access'], authorize_params: { prompt: 'consent' },
      },
    },
  }));
  const open = [];
  t.after(async () => {
    for (const c of open) await (c.client ? c.client.close() : c.close()).catch(() => {});
    await idp.stop();
    await rm(conf, { recursive: true, force: true });
  });
  const h = await testServer(t, {
    users: ['alice', 'bob'], port,
    env: { MCP_SERVERS_FILE: serversFile, SVC_CLIENT_SECRET: idp.clientSecret, UPSTREAM_TIMEOUT: '3' },
  });

  const users = new Map(); // page -> our user name
  /** On our sign-in form (a restart forgets browser sessions), signs in as the page's user; returns whether it did. */
  async function signInIfAsked(page) {
    if (!page.url().startsWith(`${h.url}/account`) || !(await page.locator('#password').count())) return false;
    await page.fill('#username', users.get(page));
    await page.fill('#password', PASSWORDS[users.get(page)]);
    await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click('button[type=submit].primary')]);
    return true;
  }

  /** Our account page, signed in. */
  async function accountPage(page) {
    await page.goto(`${h.url}/account`);
    await signInIfAsked(page);
    await page.waitForSelector('h2:has-text("Connections")');
  }

  /** A Chromium signed in to our account page as `user`. */
  async function browserFor(user) {
    const b = await launchBrowser();
    open.push(b);
    users.set(b.page, user);
    await accountPage(b.page);
    return b;
  }

  /** From wherever the page is (our connect link, or the provider), through the provider's pages, back to /account. */
  async function finishAtProvider(page, login) {
    for (let step = 0; step < 8; step++) {
      await page.waitForLoadState('domcontentloaded');
      if (await signInIfAsked(page)) continue; // a connect link opened signed out: sign in first, then on to the provider
      if (page.url().startsWith(`${h.url}/`)) return;
      if (await page.locator('input[name=login]').count()) {
        await page.fill('input[name=login]', login);
        await page.fill('input[name=password]', 'anything');
        await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click('button[type=submit]')]);
      } else {
        await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click('button[type=submit]')]);
      }
    }
    throw new Error(`still at ${page.url()}`);
  }

  async function connectFromAccount(page, login) {
    await accountPage(page);
    await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click('#connection-svc button.primary')]);
    await finishAtProvider(page, login);
    assert.equal(new URL(page.url()).pathname, '/account', await page.content());
  }

  const status = async (page) => page.locator('#connection-svc').getAttribute('data-status');
  const profile = async (client) => (await callJson(client, 'connection_profile', { name: 'svc' })).profile;
  const clientFor = async (user, options = {}) => {
    const c = await connectClient(h.mcpUrl, providerFor(h, user, options), options);
    open.push(c);
    return c;
  };

  let alicePage;
  let bobPage;
  await t.test('each user connects their own account at the provider in a real browser', async () => {
    alicePage = (await browserFor('alice')).page;
    bobPage = (await browserFor('bob')).page;
    assert.equal(await status(alicePage), 'not_connected');
    await shot(alicePage, '1-not-connected');
    await connectFromAccount(alicePage, 'alice-at-provider');
    await connectFromAccount(bobPage, 'bob-at-provider');
    assert.equal(await status(alicePage), 'connected');
    assert.match(await alicePage.locator('#connection-svc').innerText(), /alice-at-provider@provider\.example/);
    assert.match(await bobPage.locator('#connection-svc').innerText(), /bob-at-provider@provider\.example/);
    await shot(alicePage, '2-connected');
  });

  let alice;
  let bob;
  await t.test('tools reach the provider as the calling user, each only as themselves', async () => {
    alice = await clientFor('alice');
    bob = await clientFor('bob');
    assert.equal((await profile(alice.client)).sub, 'alice-at-provider');
    assert.equal((await profile(bob.client)).sub, 'bob-at-provider');
    const st = await callJson(alice.client, 'connections_status');
    assert.equal(st.connections.length, 1);
    assert.equal(st.connections[0].account, 'alice-at-provider@provider.example');
    assert.equal(st.connections[0].status, 'connected');
    assert.ok(!JSON.stringify(st).includes('"access_token"'), 'no token in the status');
  });

  await t.test('the access token is refreshed ahead of its expiry; the provider rotates the refresh token', async () => {
    // it lives 65 s; the server refreshes within the last 60 s, so a use 5 s after it was issued refreshes it
    const before = idp.count('grant.success', 'refresh_token');
    const expiresAt = Date.parse((await callJson(alice.client, 'connections_status')).connections[0].expires_at);
    await waitFor(async () => { await profile(alice.client); return idp.count('grant.success', 'refresh_token') > before; },
      { timeoutMs: 30_000, interval: 1_000, what: 'a refresh' });
    assert.ok(Date.now() < expiresAt, 'refreshed while the old access token was still valid');
    const st = await callJson(alice.client, 'connections_status');
    assert.ok(st.connections[0].refreshed_at, JSON.stringify(st));
    assert.equal((await profile(alice.client)).sub, 'alice-at-provider');
    assert.equal(idp.count('grant.error'), 0, 'no refresh token was ever refused (none used twice)');
  });

  await t.test('a restart and a kill -9 keep every connection', async () => {
    await h.restart();
    alice = await clientFor('alice');
    assert.equal((await profile(alice.client)).sub, 'alice-at-provider');
    await h.restart({ kill9: true });
    alice = await clientFor('alice');
    bob = await clientFor('bob');
    assert.equal((await profile(alice.client)).sub, 'alice-at-provider');
    assert.equal((await profile(bob.client)).sub, 'bob-at-provider');
  });

  await t.test('kill -9 while a refresh request has not been carried out: after the restart the refresh resumes, nothing is lost', async () => {
    idp.holdTokenRequests();
    const pending = [];
    await waitFor(async () => {
      if (idp.heldRequests > 0) return true;
      pending.push(profile(bob.client).catch(() => {}));
      return false;
    }, { timeoutMs: 30_000, interval: 1_000, what: 'a refresh request at the provider' });
    await h.stop({ kill9: true });
    idp.dropHeldTokenRequests();
    await Promise.all(pending);
    await h.start();
    bob = await clientFor('bob');
    // the provider's introspection says the refresh token was never used: the refresh goes ahead
    assert.equal((await profile(bob.client)).sub, 'bob-at-provider');
    assert.equal((await callJson(bob.client, 'connections_status')).connections[0].status, 'connected');
    assert.equal(idp.count('grant.error'), 0);
  });

  await t.test('kill -9 while a refresh answer is lost: the spent refresh token is never sent again; the user reconnects via URL elicitation', async () => {
    idp.holdRefreshAnswers();
    const before = idp.count('grant.success', 'refresh_token');
    const pending = [];
    await waitFor(async () => {
      if (idp.heldRefreshes > 0) return true;
      pending.push(profile(alice.client).catch(() => {}));
      return false;
    }, { timeoutMs: 30_000, interval: 1_000, what: 'a refresh in flight' });
    assert.equal(idp.count('grant.success', 'refresh_token'), before + 1, 'the provider rotated the refresh token');
    await h.stop({ kill9: true });
    idp.releaseRefreshAnswers();
    await Promise.all(pending);
    await h.start();
    // the v1 SDK client declaring URL elicitation (2025-11-25)
    const a = await clientFor('alice', { fileName: 'alice-elicit', capabilities: { elicitation: { url: {} } } });
    assert.ok(a.transport.sessionId?.startsWith('mcs1.'), `a session was issued: ${a.transport.sessionId}`);
    const completed = [];
    a.client.setNotificationHandler(ElicitationCompleteNotificationSchema, (n) => { completed.push(n.params.elicitationId); });
    const err = await a.client.callTool({ name: 'connection_profile', arguments: { name: 'svc' } }).then(() => null, (e) => e);
    assert.ok(err, 'the call needs a reconnect');
    assert.equal(err.code, -32042, String(err));
    const e = err.data.elicitations[0];
    assert.equal(e.mode, 'url');
    assert.equal(e.url, `${h.url}/connect/svc`, 'our connect page, never a pre-authenticated link');
    assert.ok(e.elicitationId);
    assert.equal(idp.count('grant.error'), 0, 'the possibly spent refresh token was not sent again');
    await accountPage(alicePage);
    assert.equal(await status(alicePage), 'needs_reconnect');
    await shot(alicePage, '3-needs-reconnect');
    await bobPage.goto(`${h.url}/account`); // the restart ended the browser sessions too
    await shot(bobPage, '3b-signed-out-after-restart');
    await alicePage.goto(e.url);
    await finishAtProvider(alicePage, 'alice-at-provider');
    assert.equal(await status(alicePage), 'connected');
    // the server announces the end of the connect flow on the session's GET stream (the SDK opened it after initialize)
    await waitFor(async () => completed.includes(e.elicitationId), { timeoutMs: 15_000, interval: 100, what: 'notifications/elicitation/complete' });
    assert.deepEqual(completed, [e.elicitationId], 'exactly one notification, for this elicitation');
    assert.equal((await profile(a.client)).sub, 'alice-at-provider', 'the retry after connecting succeeds');
    bob = await clientFor('bob');
    assert.equal((await profile(bob.client)).sub, 'bob-at-provider', "bob's connection was not touched");
  });

  await t.test("a connect answer started by one user cannot be completed in another user's browser", async () => {
    // bob, as a phisher, connects his own provider account in a browser of his own (a cookie jar over fetch) but
    // stops at the provider's answer, and gets alice to open it: her browser would attach bob's account to alice
    const jar = new CookieJar();
    const form = async (url, fields) => jarFetch(jar, url, {
      method: 'POST', body: new URLSearchParams(fields), headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(url).origin },
    });
    let r = await jarFetch(jar, `${h.url}/account`);
    const signIn = parseForms(await r.text(), `${h.url}/account`)[0];
    r = await form(signIn.action, [...signIn.fields.filter(([n]) => n !== 'username' && n !== 'password'), ['username', 'bob'], ['password', PASSWORDS.bob]]);
    assert.equal(r.status, 303);
    let url = `${h.url}/connect/svc`;
    let captured;
    for (let step = 0; step < 12 && !captured; step++) {
      r = await jarFetch(jar, url);
      while (r.status >= 300 && r.status < 400) {
        url = new URL(r.headers.get('location'), url).href;
        if (url.startsWith(`${h.url}/connect/callback`)) { captured = url; break; }
        r = await jarFetch(jar, url);
      }
      if (captured) break;
      const page = parseForms(await r.text(), url)[0];
      assert.ok(page, `a form at the provider (${r.status} ${url})`);
      const fields = page.fields.map(([n, v]) => [n, n === 'login' ? 'bob-at-provider' : n === 'password' ? 'anything' : v]);
      r = await form(page.action, fields);
      while (r.status >= 300 && r.status < 400) {
        url = new URL(r.headers.get('location'), page.action).href;
        if (url.startsWith(`${h.url}/connect/callback`)) { captured = url; break; }
        r = await jarFetch(jar, url);
      }
    }
    assert.ok(captured, 'the provider answered with a code');
    await accountPage(alicePage);
    const r2 = await alicePage.goto(captured);
    assert.equal(r2.status(), 403);
    assert.match(await alicePage.content(), /started by someone else/);
    await shot(alicePage, '4-foreign-answer-refused');
    alice = await clientFor('alice', { fileName: 'alice-after-restarts' });
    assert.equal((await profile(alice.client)).sub, 'alice-at-provider', 'alice is still connected as herself');
    // and the answer is used up: bob cannot use it afterwards either
    assert.equal((await jarFetch(jar, captured)).status, 400);
  });

  await t.test('disconnect on the account page deletes our copy and revokes at the provider', async () => {
    await accountPage(bobPage);
    const revokedBefore = idp.revocations();
    await Promise.all([bobPage.waitForNavigation(), bobPage.click('#connection-svc button:has-text("Disconnect")')]);
    assert.equal(await status(bobPage), 'not_connected');
    assert.ok(idp.revocations() > revokedBefore, 'revoked at the provider');
    await shot(bobPage, '5-disconnected');
    const r = await bob.client.callTool({ name: 'connections_status', arguments: {} });
    assert.equal(JSON.parse(r.content[0].text).connections[0].status, 'not_connected');
  });

  await t.test('a 2026-07-28 client gets input_required with the connect URL; after connecting in the browser the retry succeeds', async () => {
    const asked = [];
    const c = await connectModernClient(h.mcpUrl, providerFor(h, 'bob', { fileName: 'bob-v2' }), {
      capabilities: { elicitation: { url: {} } },
      elicit: async (params) => {
        asked.push(params);
        await bobPage.goto(params.url);
        await finishAtProvider(bobPage, 'bob-at-provider');
        return { action: 'accept' };
      },
    });
    open.push(c);
    const p = await callJsonV2(c.client, 'connection_profile', { name: 'svc' }, { timeoutMs: 60_000 });
    assert.equal(p.profile.sub, 'bob-at-provider');
    assert.equal(asked.length, 1);
    assert.equal(asked[0].mode, 'url');
    assert.equal(asked[0].url, `${h.url}/connect/svc`);
    assert.equal(await status(bobPage), 'connected');
    await shot(bobPage, '6-reconnected-via-elicitation');
  });
});
