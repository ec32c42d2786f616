// The gateway in front of MCP servers none of which we wrote: an upstream built with the TypeScript SDK that verifies
// our identity assertions with jose against /.well-known/jwks.json, and the aggregated /mcp with two upstreams
// (server-everything over HTTP and stdio) plus the built-ins, prefixed names and allow/deny lists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { startIdentityUpstream } from '../fixtures/identity-upstream.mjs';
import { E2E, EVERYTHING, FILESYSTEM, NODE, LEGACY, MODERN, gw, digest, everythingHttp, serversFile, gateway, everythingStdio, signIn, text, descendants } from '../lib/gateway.mjs';

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
