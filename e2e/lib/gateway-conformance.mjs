// The MCP conformance suite's server scenarios through the gateway (/mcp/NAME, a bearer token from a real sign-in) in
// front of @modelcontextprotocol/server-everything over Streamable HTTP and over stdio: every scenario that passes
// directly against the upstream passes through the gateway, for a 2025-11-25 client and, where the suite has the
// scenario, for a 2026-07-28 client (the gateway translates: the upstream itself speaks 2025-11-25 only).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBearerProxy } from './bearer-proxy.mjs';
import { runConformance } from './conformance.mjs';
import { LEGACY, MODERN, gw, everythingHttp, gateway, everythingStdio, signIn } from './gateway.mjs';

/** The suite's 2025-11-25 server scenarios (its SDK client with initialize). */
const LEGACY_SCENARIOS = ['server-initialize', 'server-session-lifecycle', 'logging-set-level', 'ping', 'completion-complete', 'tools-list',
  'tools-call-simple-text', 'tools-call-error', 'tools-call-with-progress', 'server-sse-multiple-streams', 'resources-list',
  'resources-read-text', 'resources-subscribe', 'resources-unsubscribe', 'prompts-list', 'prompts-get-simple', 'prompts-get-with-args'];

/** Those of them the suite also has for 2026-07-28 (its stateless client with per-request _meta). */
const MODERN_SCENARIOS = ['completion-complete', 'tools-list', 'tools-call-simple-text', 'tools-call-error', 'tools-call-with-progress',
  'server-sse-multiple-streams', 'resources-list', 'resources-read-text', 'prompts-list', 'prompts-get-simple', 'prompts-get-with-args'];

/** Runs `scenarios` against `url` two at a time; { scenario: { passed, failed: [ids], output } }. */
async function runAll(url, scenarios, specVersion) {
  const out = {};
  const queue = [...scenarios];
  await Promise.all([0, 1].map(async () => {
    for (let s; (s = queue.shift());) {
      const r = await runConformance({ url, scenario: s, specVersion, timeoutMs: 90_000 });
      const failed = r.checks.filter((c) => c.status === 'FAILURE').map((c) => `${c.id}: ${c.errorMessage ?? ''}`);
      out[s] = { passed: r.exitCode === 0 && r.checks.length > 0 && failed.length === 0, failed, output: r.output };
    }
  }));
  return out;
}

// One test file per transport (tests/gateway-conformance-{http,stdio}.test.mjs): each run of the suite takes a second or two, and a test file has 180 s.
export function conformanceThroughTheGateway(transport) {
test(`conformance: the scenarios that pass directly against server-everything pass through /mcp/NAME over ${transport}`, gw, async (t) => {
  const upstream = await everythingHttp(t);
  const h = await gateway(t, { 'everything-http': { url: upstream.url }, 'everything-stdio': everythingStdio() });
  // The baseline: the same server code, spoken to directly (the suite speaks HTTP only, so the stdio entry is compared
  // with server-everything's own Streamable HTTP transport).
  const direct = await runAll(upstream.url, LEGACY_SCENARIOS, LEGACY);
  const baseline = LEGACY_SCENARIOS.filter((s) => direct[s].passed);
  assert.ok(baseline.includes('tools-list') && baseline.includes('server-initialize') && baseline.length >= 6,
    `the baseline passes the core scenarios directly: ${baseline}`);
  const summary = [`direct: ${baseline.length}/${LEGACY_SCENARIOS.length} pass (${baseline.join(', ')})`];

  for (const name of [`everything-${transport}`]) {
    const { token } = await signIn(t, h, 'alice', `/mcp/${name}`);
    assert.ok(token, 'a real access token from sign-in and consent');
    const proxy = await startBearerProxy({ target: h.url, token });
    t.after(() => proxy.close());
    const through = await runAll(`${proxy.url}/mcp/${name}`, baseline, LEGACY);
    const broken = baseline.filter((s) => !through[s].passed).map((s) => `${s}: ${through[s].failed.join('; ') || through[s].output.slice(-400)}`);
    assert.deepEqual(broken, [], `${name}: every scenario that passes directly passes through the gateway`);
    // A 2026-07-28 client in front of this 2025-11-25 upstream: the gateway translates (the upstream cannot pass these directly).
    const modernSet = baseline.filter((s) => MODERN_SCENARIOS.includes(s));
    const modern = await runAll(`${proxy.url}/mcp/${name}`, modernSet, MODERN);
    const modernBroken = modernSet.filter((s) => !modern[s].passed).map((s) => `${s}: ${modern[s].failed.join('; ') || modern[s].output.slice(-400)}`);
    summary.push(`${name}: ${baseline.length}/${baseline.length} on ${LEGACY}; on ${MODERN}: ${modernSet.length - modernBroken.length}/${modernSet.length}`);
    assert.deepEqual(modernBroken, [], `${name}: the same scenarios pass for a ${MODERN} client through the gateway`);
  }
  for (const line of summary) t.diagnostic(line);
});
}
