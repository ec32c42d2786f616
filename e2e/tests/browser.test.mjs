// A real browser (Debian's chromium via playwright-core) on our sign-in and consent pages:
// the SDK's authorization URL completes with a click-through, the pages cannot be framed by
// another origin, and a cross-origin form cannot consent for the user.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, screenshot } from '../lib/browser.mjs';
import { waitFor } from '../lib/server.mjs';
import {
  testServer, PASSWORDS, callbackServer, smallSite, CapturingProvider, beginSdkAuthorization,
  pkceAuthorizationUrl, callJson,
} from '../lib/harness.mjs';

/** The anti-framing headers every sign-in, consent and error page must carry. */
function assertNoFraming(headers, what) {
  assert.equal(headers['x-frame-options'], 'DENY', `${what}: X-Frame-Options`);
  assert.match(headers['content-security-policy'] ?? '', /frame-ancestors 'none'/, `${what}: CSP frame-ancestors`);
  assert.match(headers['cache-control'] ?? '', /no-store/, `${what}: Cache-Control`);
}

async function browserFor(t) {
  const b = await launchBrowser();
  t.after(() => b.close());
  return b;
}

/**
 * Signs in on the login page shown in `page` and waits for the consent form. Resolves with
 * { login, consent }: the POST /login response and the (navigation) response that showed the
 * consent form.
 */
async function signIn(page, serverUrl, user = 'alice') {
  await page.fill('input[name=username]', user);
  await page.fill('input[name=password]', PASSWORDS[user]);
  const consentShown = page.waitForResponse((r) => r.request().isNavigationRequest() && r.status() === 200 && r.url().startsWith(serverUrl));
  const [login] = await Promise.all([
    page.waitForResponse((r) => r.url() === `${serverUrl}/login` && r.request().method() === 'POST'),
    page.click('button[type=submit]'),
  ]);
  const consent = await consentShown;
  await page.waitForSelector('button[name=decision][value=allow]');
  return { login, consent };
}

test('chromium signs in and consents for the authorization URL the SDK built; the SDK then connects', async (t) => {
  const h = await testServer(t);
  const meta = await (await fetch(`${h.url}/.well-known/oauth-authorization-server`)).json();
  const cb = await callbackServer(t);
  const provider = new CapturingProvider({
    file: h.file('browser-oauth.json'), redirectUrl: cb.url,
    clientMetadata: { client_name: 'E2E Browser Client' },
  });
  const flow = await beginSdkAuthorization(h.mcpUrl, provider);
  const authUrl = flow.authorizationUrl;
  assert.equal(authUrl.origin + authUrl.pathname, meta.authorization_endpoint);
  const q = authUrl.searchParams;
  assert.equal(q.get('response_type'), 'code');
  assert.equal(q.get('code_challenge_method'), 'S256');
  assert.equal(q.get('redirect_uri'), cb.url);
  assert.equal(q.get('resource'), h.mcpUrl);
  assert.ok(provider.sentState, 'the SDK sent a state');

  const { page } = await browserFor(t);
  const loginRes = await page.goto(authUrl.href);
  assert.equal(loginRes.status(), 200);
  assertNoFraming(await loginRes.allHeaders(), 'login page');
  await page.waitForSelector('input[name=password]');
  assert.match(await page.textContent('body'), /E2E Browser Client/);
  await screenshot(page, 'login-page');

  const { login, consent: consentRes } = await signIn(page, h.url);
  assert.equal(login.status(), 303, 'POST /login answers 303 (no form re-submission on reload)');
  assert.equal(consentRes.status(), 200);
  assertNoFraming(await consentRes.allHeaders(), 'consent page');
  const consentText = await page.textContent('body');
  assert.match(consentText, /E2E Browser Client/);
  assert.match(consentText, /127\.0\.0\.1/, 'the consent page shows where the browser goes next');
  assert.match(consentText, /alice/, 'the consent page says who is signed in');
  await screenshot(page, 'consent-page');

  const [decision] = await Promise.all([
    page.waitForResponse((r) => r.url() === `${h.url}/consent` && r.request().method() === 'POST'),
    page.click('button[name=decision][value=allow]'),
  ]);
  assert.equal(decision.status(), 303, 'consent POST answers 303');
  const hit = await cb.next();
  await page.waitForSelector('#done');
  assert.ok(page.url().startsWith(cb.url), `the browser reached the redirect URI (${page.url()})`);
  assert.equal(hit.method, 'GET');
  assert.ok(hit.query.code, 'code');
  assert.equal(hit.query.state, provider.sentState, 'state echoed exactly');
  assert.equal(hit.query.iss, meta.issuer, 'iss = issuer');
  assert.equal(hit.query.error, undefined);

  const c = await flow.finish(hit.query.code);
  t.after(() => c.client.close().catch(() => {}));
  const me = await callJson(c.client, 'whoami');
  assert.equal(me.username, 'alice');
  assert.equal(me.client_id, provider.clientInformation().client_id);
});

test('another origin cannot frame the sign-in page (X-Frame-Options and CSP frame-ancestors)', async (t) => {
  const h = await testServer(t);
  const cb = await callbackServer(t);
  const auth = await pkceAuthorizationUrl(h, { redirectUri: cb.url });
  // The attacker's page frames our /authorize login page, and (control) a look-alike form of its own.
  const site = await smallSite(t, (req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    if (req.url === '/own-form') {
      return res.end('<form method="post"><input name="username"><input type="password" name="password"></form>');
    }
    res.end(`<!doctype html><title>Totally not phishing</title>
      <iframe name="victim" src="${auth.url.href.replace(/&/g, '&amp;')}" width="600" height="500"></iframe>
      <iframe name="control" src="/own-form" width="300" height="200"></iframe>`);
  });

  const { page } = await browserFor(t);
  const consoleLines = [];
  page.on('console', (m) => consoleLines.push(m.text()));
  const framed = page.waitForResponse((r) => r.url().startsWith(`${h.url}/authorize`));
  await page.goto(`${site.url}/`); // waits for "load", which includes both frames
  const res = await framed;
  assert.equal(res.status(), 200, 'the server did answer the framed request with its login page');

  const control = page.frame({ name: 'control' });
  await control.waitForSelector('input[name=password]', { timeout: 5_000 }); // the detection works on a frameable page
  const victim = page.frame({ name: 'victim' });
  assert.ok(victim, 'the victim frame exists');
  // The browser refused to render our page in the frame: no form, and the frame is not our origin.
  const passwordInputs = await victim.locator('input[name=password]').count().catch(() => 0);
  assert.equal(passwordInputs, 0, 'our login form must not render inside the frame');
  assert.ok(!victim.url().startsWith(h.url), `frame did not commit our page (url ${victim.url()})`);
  await waitFor(() => consoleLines.some((m) => /frame-ancestors|X-Frame-Options/i.test(m)), {
    timeoutMs: 5_000, what: 'chromium to report the blocked frame',
  });
  await screenshot(page, 'framing-blocked');
  assertNoFraming(await res.allHeaders(), 'framed login page');

  // Error pages carry the same headers (a bad client_id is answered with a page, not a redirect).
  const err = await fetch(`${h.url}/authorize?client_id=nope&response_type=code`, { redirect: 'manual' });
  assert.equal(err.status, 400);
  assert.equal(err.headers.get('location'), null);
  assertNoFraming(Object.fromEntries(err.headers), 'error page');
});

test('a form on another origin that posts to /consent without the CSRF token gets 403 and no code', async (t) => {
  const h = await testServer(t);
  const cb = await callbackServer(t);
  const auth = await pkceAuthorizationUrl(h, { redirectUri: cb.url, clientName: 'CSRF victim client' });
  const { context, page } = await browserFor(t);

  // The user opens the sign-in link and signs in; the consent page stays open in this tab.
  await page.goto(auth.url.href);
  await signIn(page, h.url);
  const txn = await page.getAttribute('input[name=txn]', 'value');
  assert.ok(txn);

  // In another tab, a page on another origin (same site, so the SameSite=Lax session cookie IS sent)
  // auto-submits a consent form with the transaction id but no (or a forged) CSRF token.
  const site = await smallSite(t, (req, res) => {
    const forged = req.url.includes('forged');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><body onload="document.forms[0].submit()">
      <form method="post" action="${h.url}/consent">
        <input type="hidden" name="txn" value="${txn}">
        ${forged ? '<input type="hidden" name="csrf" value="forged-token-0123456789abcdefghijklmnop">' : ''}
        <input type="hidden" name="decision" value="allow">
      </form></body>`);
  });
  const evil = await context.newPage();
  for (const variant of ['/no-token', '/forged']) {
    const [res] = await Promise.all([
      evil.waitForResponse((r) => r.url() === `${h.url}/consent` && r.request().method() === 'POST'),
      evil.goto(`${site.url}${variant}`),
    ]);
    assert.equal(res.status(), 403, `${variant}: refused`);
    const headers = await res.allHeaders();
    assert.equal(headers.location, undefined, `${variant}: no redirect`);
    assertNoFraming(headers, `${variant}: refusal page`);
    const sent = await res.request().allHeaders();
    assert.match(sent.cookie ?? '', /mcp_session=/, `${variant}: the session cookie was sent, so only the CSRF token stopped it`);
    // The browser ends on our refusal page, not on the client's redirect URI.
    await evil.waitForURL(`${h.url}/consent`, { timeout: 5_000 });
    assert.match(await evil.textContent('body'), /Request refused/);
  }
  assert.equal(cb.redirects.length, 0, 'no redirect to the client happened');

  // The user's own form still works afterwards: the refused posts did not consume the transaction.
  await page.bringToFront();
  await page.click('button[name=decision][value=allow]');
  const hit = await cb.next();
  assert.ok(hit.query.code);
  assert.equal(hit.query.state, auth.state);
  assert.equal(cb.redirects.length, 1, 'exactly one redirect to the client');
});
