// Self-test of the e2e toolkit; needs neither our server nor the network.
//   cd e2e && node --test selftest.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { launchBrowser, screenshot } from './lib/browser.mjs';
import { FileOAuthProvider } from './lib/oauth-provider.mjs';
import { CookieJar } from './lib/http.mjs';
import { startBearerProxy } from './lib/bearer-proxy.mjs';
import { startServer, addUser, freePort, makeTempDir } from './lib/server.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Starts a node:http server on 127.0.0.1; returns { url, close }. */
async function serve(handler) {
  const srv = http.createServer(handler);
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${srv.address().port}`,
    close: () => new Promise((r) => { srv.closeAllConnections(); srv.close(r); }),
  };
}

function readBody(req) {
  return new Promise((resolve) => { let b = ''; req.on('data', (d) => { b += d; }); req.on('end', () => resolve(b)); });
}

test('chromium via playwright-core fills a form, clicks, takes a screenshot', async (t) => {
  const site = await serve(async (req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    if (req.method === 'POST') {
      const name = new URLSearchParams(await readBody(req)).get('name');
      return res.end(`<h1 id="result">Hello, ${name.replace(/[<&]/g, '')}!</h1>`);
    }
    res.end('<form method="post" action="/hello"><input name="name"><button type="submit">Go</button></form>');
  });
  const browser = await launchBrowser();
  t.after(async () => { await browser.close(); await site.close(); });
  const { page } = browser;
  await page.goto(site.url);
  await page.fill('input[name=name]', 'e2e');
  await page.click('button[type=submit]');
  await page.waitForSelector('#result');
  assert.equal(await page.textContent('#result'), 'Hello, e2e!');
  const png = await screenshot(page, 'selftest-form');
  assert.ok(statSync(png).size > 1000);
});

// A fake authorization server with the page contract FileOAuthProvider expects.
function fakeAuthServer() {
  const sessions = new Map(); // sid -> user
  const consented = new Set();
  const txns = new Map();     // txn -> authorization params
  const hidden = (o) => Object.entries(o).map(([k, v]) => `<input type="hidden" name="${k}" value="${v}">`).join('');
  return serve(async (req, res) => {
    const u = new URL(req.url, 'http://x');
    const sid = /sid=(\w+)/.exec(req.headers.cookie ?? '')?.[1];
    const user = sessions.get(sid);
    const html = (s) => { res.setHeader('content-type', 'text/html'); res.end(s); };
    const go = (loc) => { res.writeHead(303, { location: loc }); res.end(); };
    const finish = (txn, decision) => {
      const p = txns.get(txn); txns.delete(txn);
      const r = new URL(p.redirect_uri);
      if (decision === 'allow') r.searchParams.set('code', 'code-' + txn); else r.searchParams.set('error', 'access_denied');
      r.searchParams.set('state', p.state); r.searchParams.set('iss', 'http://issuer.test');
      return go(r.href);
    };
    if (req.method === 'POST' && req.headers.origin !== `http://${req.headers.host}`) { res.statusCode = 403; return res.end('origin'); }
    if (u.pathname === '/authorize') {
      const txn = randomBytes(6).toString('hex');
      txns.set(txn, Object.fromEntries(u.searchParams));
      return go(user ? (consented.has(user) ? `/done?txn=${txn}` : `/consent?txn=${txn}`) : `/login?txn=${txn}`);
    }
    const loginPage = (txn, error = '') => html(`<p class="error">${error}</p><form method='post' action="/login">
      ${hidden({ csrf: 'c1', txn })}<input name="username" required autofocus><input type="password" name="password">
      <button>Sign in</button></form>`);
    if (u.pathname === '/login' && req.method === 'GET') return loginPage(u.searchParams.get('txn'));
    if (u.pathname === '/login') {
      const f = new URLSearchParams(await readBody(req));
      if (f.get('csrf') !== 'c1') { res.statusCode = 403; return res.end('bad'); }
      if (f.get('password') !== 'pw') return loginPage(f.get('txn'), 'Wrong username or password');
      const s = randomBytes(6).toString('hex'); sessions.set(s, f.get('username'));
      res.setHeader('set-cookie', `sid=${s}; Path=/; HttpOnly`);
      return go(`/consent?txn=${f.get('txn')}`);
    }
    if (u.pathname === '/consent' && req.method === 'GET') {
      return html(`<p>Allow &quot;client&quot;?</p><form method="post" action="/consent">${hidden({ csrf: 'c2', txn: u.searchParams.get('txn') })}
        <input type="checkbox" name="remember" value="yes" checked>
        <button type="submit" name="decision" value="allow">Allow</button>
        <button type="submit" name="decision" value="deny">Deny</button></form>`);
    }
    if (u.pathname === '/consent') {
      const f = new URLSearchParams(await readBody(req));
      if (!user || f.get('csrf') !== 'c2') { res.statusCode = 403; return res.end('bad'); }
      if (f.get('decision') === 'allow' && f.get('remember') === 'yes') consented.add(user);
      return finish(f.get('txn'), f.get('decision'));
    }
    if (u.pathname === '/done') return finish(u.searchParams.get('txn'), 'allow');
    res.statusCode = 404; res.end();
  });
}

test('FileOAuthProvider drives login and consent, then skips both', async (t) => {
  const as = await fakeAuthServer();
  const dir = await makeTempDir();
  t.after(async () => { await as.close(); await rm(dir, { recursive: true, force: true }); });
  const jar = new CookieJar();
  const p = new FileOAuthProvider({ file: path.join(dir, 'client.json'), username: 'alice', password: 'pw', cookieJar: jar });
  const authUrl = () => {
    const u = new URL('/authorize', as.url);
    u.searchParams.set('redirect_uri', p.redirectUrl); u.searchParams.set('state', p.state());
    return u;
  };
  await p.redirectToAuthorization(authUrl());
  assert.match(p.authorizationCode, /^code-/);
  assert.equal(p.lastRedirect.iss, 'http://issuer.test');
  assert.deepEqual([p.counters.loginPages, p.counters.consentPages], [1, 1]);
  assert.match(p.lastHtml, /Allow/);

  // Persistence round trip through a second provider on the same file.
  p.saveClientInformation({ client_id: 'c', redirect_uris: [p.redirectUrl] });
  p.saveTokens({ access_token: 'a', token_type: 'Bearer', refresh_token: 'r' });
  const p2 = new FileOAuthProvider({ file: p.file, cookieJar: jar });
  assert.equal(p2.clientInformation().client_id, 'c');
  assert.equal(p2.tokens().refresh_token, 'r');
  p2.invalidateCredentials('tokens');
  assert.equal(p.tokens(), undefined);

  // Same browser session, consent remembered: neither page is shown.
  p.resetCounters();
  await p.redirectToAuthorization(authUrl());
  assert.match(p.authorizationCode, /^code-/);
  assert.deepEqual([p.counters.loginPages, p.counters.consentPages], [0, 0]);

  // New browser, decision=deny: login and consent shown, error captured, no code.
  const denier = new FileOAuthProvider({ file: path.join(dir, 'b.json'), username: 'bob', password: 'pw', decision: 'deny' });
  const u = new URL('/authorize', as.url);
  u.searchParams.set('redirect_uri', denier.redirectUrl); u.searchParams.set('state', denier.state());
  await denier.redirectToAuthorization(u);
  assert.equal(denier.authorizationCode, undefined);
  assert.equal(denier.lastRedirect.error, 'access_denied');
  assert.ok(denier.redirects.every((r) => r.method === 'GET' || r.status === 303));

  // Wrong password: the login page comes back, and the provider stops with its text.
  const wrong = new FileOAuthProvider({ file: path.join(dir, 'w.json'), username: 'eve', password: 'nope' });
  u.searchParams.set('state', wrong.state());
  await assert.rejects(wrong.redirectToAuthorization(u), /login form shown again.*Wrong username or password/);
  assert.equal(wrong.counters.loginPages, 2);
});

test('bearer proxy adds the token, keeps foreign Host, streams SSE', async (t) => {
  let releaseStream;
  const upstream = await serve(async (req, res) => {
    if (req.url === '/sse') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: message\ndata: first\n\n');
      releaseStream = () => res.end('event: message\ndata: second\n\n');
      return;
    }
    const body = await readBody(req);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ auth: req.headers.authorization, host: req.headers.host, origin: req.headers.origin, body }));
  });
  const proxy = await startBearerProxy({ target: upstream.url, token: 'tok123' });
  t.after(async () => { await proxy.close(); await upstream.close(); });

  const own = await (await fetch(`${proxy.url}/mcp`, { method: 'POST', body: 'x'.repeat(100_000), headers: { origin: proxy.url } })).json();
  assert.equal(own.auth, 'Bearer tok123');
  assert.equal(own.host, new URL(upstream.url).host);     // proxy's own Host rewritten
  assert.equal(own.origin, upstream.url);
  assert.equal(own.body.length, 100_000);

  // fetch() cannot set Host; use node:http.
  const evil = await new Promise((resolve, reject) => {
    http.request(`${proxy.url}/mcp`, { method: 'POST', headers: { host: 'evil.example.com', origin: 'http://evil.example.com' } }, (r) => {
      let b = ''; r.on('data', (d) => { b += d; }); r.on('end', () => resolve(JSON.parse(b)));
    }).on('error', reject).end('{}');
  });
  assert.equal(evil.host, 'evil.example.com');
  assert.equal(evil.origin, 'http://evil.example.com');

  // The first SSE event arrives while the upstream response is still open.
  const res = await fetch(`${proxy.url}/sse`);
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  const reader = res.body.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  assert.match(first, /data: first/);
  releaseStream();
  let rest = '';
  for (;;) { const { done, value } = await reader.read(); if (done) break; rest += new TextDecoder().decode(value); }
  assert.match(rest, /data: second/);
});

test('server.mjs starts, stops and kill -9s a jar (fake Java server)', { skip: !hasJdk() && 'no javac/jar' }, async (t) => {
  const work = await makeTempDir();
  t.after(() => rm(work, { recursive: true, force: true }));
  execFileSync('javac', ['-d', work, path.join(HERE, 'fixtures/FakeServer.java')]);
  const jarFile = path.join(work, 'fake.jar');
  execFileSync('jar', ['--create', '--file', jarFile, '--main-class', 'FakeServer', '-C', work, 'FakeServer.class']);

  const dataDir = await makeTempDir();
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  await addUser(jarFile, dataDir, 'alice', 's3cret');
  assert.equal(readFileSync(path.join(dataDir, 'users.txt'), 'utf8'), 'alice\n');
  await assert.rejects(addUser(jarFile, dataDir, 'bob', ''), /exited 2/);

  const port = await freePort();
  const s = await startServer({ jar: jarFile, dataDir, port, publicHost: 'localhost' });
  assert.equal(s.url, `http://localhost:${port}`);
  assert.equal((await (await fetch(`${s.url}/.well-known/oauth-authorization-server`)).json()).issuer, s.url);
  await s.waitForLog('fake server listening');
  const r = await s.stop();
  assert.ok(r.code === 143 || r.signal === 'SIGTERM', JSON.stringify(r));
  assert.match(s.logs(), /fake server stopped/);

  const s2 = await startServer({ jar: jarFile, dataDir });
  assert.equal((await s2.kill9()).signal, 'SIGKILL');
  assert.doesNotMatch(s2.logs(), /stopped/); // no shutdown hook after kill -9
  await assert.rejects(fetch(`${s2.url}/`), /fetch failed/);

  // A jar that never becomes ready fails with its log in the message.
  await assert.rejects(startServer({ jar: jarFile, dataDir, port: s.port, env: { HOST: '256.0.0.1' }, readyTimeoutMs: 5_000 }),
    /exited early[\s\S]*server log/);
});

function hasJdk() {
  try { execFileSync('javac', ['-version'], { stdio: 'ignore' }); execFileSync('jar', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; }
}

test('missing jar gives a clear error', async () => {
  const missing = path.join(HERE, 'no-such.jar');
  assert.ok(!existsSync(missing));
  await assert.rejects(startServer({ jar: missing }), /server jar not found/);
});
