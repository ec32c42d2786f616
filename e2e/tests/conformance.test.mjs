// The official MCP conformance suite (@modelcontextprotocol/conformance, server mode, under Node 22)
// against /mcp, through a loopback proxy that adds a bearer token obtained by a real OAuth flow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient } from '../lib/mcp-client.mjs';
import { startBearerProxy } from '../lib/bearer-proxy.mjs';
import { runConformance } from '../lib/conformance.mjs';
import { testServer, providerFor } from '../lib/harness.mjs';

const SCENARIOS = ['server-initialize', 'ping', 'tools-list', 'dns-rebinding-protection'];

test('conformance scenarios pass through the bearer proxy; DNS rebinding is refused by the Host check', async (t) => {
  const h = await testServer(t);
  const p = providerFor(h, 'alice');
  const c = await connectClient(h.mcpUrl, p); // registration, sign-in, consent: a real access token
  await c.client.close();
  const token = p.tokens().access_token;
  assert.ok(token);

  // Sanity: without the proxy the suite would only see 401s.
  const bare = await fetch(h.mcpUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(bare.status, 401);

  const proxy = await startBearerProxy({ target: h.url, token });
  t.after(() => proxy.close());

  const results = await Promise.all(SCENARIOS.map((scenario) => runConformance({ url: `${proxy.url}/mcp`, scenario })));
  for (const [i, scenario] of SCENARIOS.entries()) {
    const r = results[i];
    const failed = r.checks.filter((ch) => ch.status === 'FAILURE');
    assert.ok(r.checks.length > 0, `${scenario}: produced checks\n${r.output}`);
    assert.deepEqual(failed.map((ch) => `${ch.id}: ${ch.errorMessage}`), [], `${scenario}: no failed checks\n${r.output}`);
    assert.equal(r.exitCode, 0, `${scenario}: exit code\n${r.output}`);
  }

  const dns = results[SCENARIOS.indexOf('dns-rebinding-protection')].checks;
  const evil = dns.find((ch) => ch.id === 'localhost-host-rebinding-rejected');
  assert.ok(evil, 'the rebinding check ran');
  assert.equal(evil.details.hostHeader, 'evil.example.com');
  assert.ok([403, 421].includes(evil.details.statusCode),
    `evil Host refused by the Host/Origin check (403/421), not by a missing token (got ${evil.details.statusCode})`);
  const valid = dns.find((ch) => ch.id === 'localhost-host-valid-accepted');
  assert.ok(valid.details.statusCode >= 200 && valid.details.statusCode < 300, `own Host accepted (got ${valid.details.statusCode})`);
  // The proxy saw the evil Host unchanged and the server answered it 403.
  const evilReq = proxy.requests.find((r) => r.host === 'evil.example.com');
  assert.ok(evilReq && [403, 421].includes(evilReq.status), `proxy log: ${JSON.stringify(proxy.requests.filter((r) => r.host === 'evil.example.com'))}`);
  // Every other request through the proxy was authenticated: none got a 401.
  assert.deepEqual(proxy.requests.filter((r) => r.status === 401), [], 'no 401 through the proxy');
});
