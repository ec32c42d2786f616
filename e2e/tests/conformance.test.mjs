// The official MCP conformance suite (@modelcontextprotocol/conformance 0.2.0-alpha.12, under Node 22) against /mcp,
// through a loopback proxy that adds a bearer token obtained by a real OAuth flow, on both wires: MCP 2026-07-28 (the
// suite's stateless client, per-request _meta) and 2025-11-25 (the SDK client with initialize). Every server
// scenario the suite lists for these versions is either run and must pass, or listed below as not applicable with
// the reason: none is skipped silently. Plus the suite's two authorization-server scenarios.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { connectClient } from '../lib/mcp-client.mjs';
import { startBearerProxy } from '../lib/bearer-proxy.mjs';
import { runConformance, runAuthorizationConformance, NODE22, CONFORMANCE } from '../lib/conformance.mjs';
import { testServer, providerFor } from '../lib/harness.mjs';
import { FileOAuthProvider } from '../lib/oauth-provider.mjs';
import { freePort } from '../lib/server.mjs';

const MODERN = '2026-07-28';
const LEGACY = '2025-11-25';

/** Scenarios that exercise what /mcp serves: run, and every check must pass (but those in NOT_TESTABLE_CHECKS). */
const RUN = {
  [MODERN]: ['server-stateless', 'tools-list', 'caching', 'server-sse-multiple-streams', 'dns-rebinding-protection', 'http-header-validation',
    'input-required-result-unsupported-methods', 'input-required-result-validate-input'],
  [LEGACY]: ['server-initialize', 'ping', 'tools-list', 'server-sse-multiple-streams', 'dns-rebinding-protection', 'server-session-lifecycle'],
};

/** Checks inside a scenario we run that need something we do not serve: each must fail with "Not testable"/-32601, nothing else. */
const NOT_TESTABLE_CHECKS = {
  [MODERN]: {
    'server-stateless': {
      'sep-2575-server-rejects-undeclared-capability': "needs the suite's diagnostic tool test_missing_capability (our -32021 for notes_clear without the elicitation capability is covered by McpToolInputTest)",
      'sep-2575-missing-capability-http-400': 'needs test_missing_capability (see above)',
      'sep-2575-http-server-no-independent-requests-on-stream': "needs the diagnostic tool test_streaming_elicitation; we never answer with an SSE stream, so we send no requests on one",
      'sep-2575-server-no-log-without-loglevel': 'needs the diagnostic tool test_logging_tool; we send no notifications/message at all',
    },
    caching: {
      'sep-2549-prompts-list-caching-hints': 'we serve no prompts (prompts/list is -32601, as discover says)',
      'sep-2549-resources-list-caching-hints': 'we serve no resources',
      'sep-2549-resources-templates-list-caching-hints': 'we serve no resources',
    },
  },
  [LEGACY]: {},
};

const FIXTURE_TOOLS = "needs the suite's fixture tools (test_simple_text, test_image_content, ...): /mcp serves its own tools only (whoami, notes_add, notes_list, notes_clear)";
const MRTR_FIXTURES = "needs the suite's fixture tools test_input_required_result_*: our input-required results (notes_clear, a URL-question test tool) are covered by McpToolInputTest and sdk-client-eras.test.mjs";
const NO_RESOURCES = 'we serve no resources (no resources capability)';
const NO_PROMPTS = 'we serve no prompts (no prompts capability)';
const EXTENSION = 'an extension we do not implement (never scored for a protocol version)';

/** Every other server scenario of the suite, with why it does not apply to /mcp. */
const NOT_APPLICABLE = {
  [MODERN]: {
    'completion-complete': 'we serve no completions (no completions capability)',
    'tools-call-simple-text': FIXTURE_TOOLS, 'tools-call-image': FIXTURE_TOOLS, 'tools-call-audio': FIXTURE_TOOLS,
    'tools-call-embedded-resource': FIXTURE_TOOLS, 'tools-call-mixed-content': FIXTURE_TOOLS, 'tools-call-error': FIXTURE_TOOLS,
    'tools-call-with-progress': `${FIXTURE_TOOLS}; no tool of ours reports progress`,
    'json-schema-2020-12': FIXTURE_TOOLS,
    'resources-list': NO_RESOURCES, 'resources-read-text': NO_RESOURCES, 'resources-read-binary': NO_RESOURCES,
    'resources-templates-read': NO_RESOURCES, 'sep-2164-resource-not-found': NO_RESOURCES,
    'prompts-list': NO_PROMPTS, 'prompts-get-simple': NO_PROMPTS, 'prompts-get-with-args': NO_PROMPTS,
    'prompts-get-embedded-resource': NO_PROMPTS, 'prompts-get-with-image': NO_PROMPTS,
    'http-custom-header-server-validation': 'no tool of ours declares x-mcp-header, so there is no Mcp-Param-* header to validate',
    'input-required-result-basic-elicitation': MRTR_FIXTURES, 'input-required-result-request-state': MRTR_FIXTURES,
    'input-required-result-multiple-input-requests': MRTR_FIXTURES, 'input-required-result-multi-round': MRTR_FIXTURES,
    'input-required-result-missing-input-response': MRTR_FIXTURES, 'input-required-result-result-type': MRTR_FIXTURES,
    'input-required-result-tampered-state': MRTR_FIXTURES, 'input-required-result-capability-check': MRTR_FIXTURES,
    'input-required-result-ignore-extra-params': MRTR_FIXTURES,
    'input-required-result-basic-sampling': 'our tool API asks the user (elicitation) only: no sampling input requests',
    'input-required-result-basic-list-roots': 'our tool API asks the user (elicitation) only: no roots input requests',
    'input-required-result-non-tool-request': 'input-required on prompts/get or resources/read: we serve neither',
  },
  [LEGACY]: {
    'logging-set-level': 'we emit no log messages and declare no logging capability (logging/setLevel is -32601)',
    'completion-complete': 'we serve no completions',
    'tools-call-simple-text': FIXTURE_TOOLS, 'tools-call-image': FIXTURE_TOOLS, 'tools-call-audio': FIXTURE_TOOLS,
    'tools-call-embedded-resource': FIXTURE_TOOLS, 'tools-call-mixed-content': FIXTURE_TOOLS, 'tools-call-error': FIXTURE_TOOLS,
    'tools-call-with-progress': FIXTURE_TOOLS, 'tools-call-with-logging': FIXTURE_TOOLS, 'json-schema-2020-12': FIXTURE_TOOLS,
    'tools-call-sampling': `${FIXTURE_TOOLS}; a stateless legacy server cannot send sampling/createMessage`,
    'tools-call-elicitation': `${FIXTURE_TOOLS}; a stateless legacy server cannot send elicitation/create (our legacy answer to a question is a tool error or -32042)`,
    'elicitation-sep1034-defaults': `${FIXTURE_TOOLS}; legacy elicitation needs a server-to-client request`,
    'elicitation-sep1330-enums': `${FIXTURE_TOOLS}; legacy elicitation needs a server-to-client request`,
    'server-sse-polling': "needs the fixture tool test_reconnection and SSE responses with event ids: we answer JSON, no resumable streams",
    'resources-list': NO_RESOURCES, 'resources-read-text': NO_RESOURCES, 'resources-read-binary': NO_RESOURCES,
    'resources-templates-read': NO_RESOURCES, 'resources-subscribe': NO_RESOURCES, 'resources-unsubscribe': NO_RESOURCES,
    'prompts-list': NO_PROMPTS, 'prompts-get-simple': NO_PROMPTS, 'prompts-get-with-args': NO_PROMPTS,
    'prompts-get-embedded-resource': NO_PROMPTS, 'prompts-get-with-image': NO_PROMPTS,
  },
};

/** The suite's server scenarios for `version` (from `list --server`); extensions separately. */
function listed(version) {
  const r = spawnSync(NODE22, [CONFORMANCE, 'list', '--server'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  assert.equal(r.status, 0, r.stderr);
  const all = [...r.stdout.matchAll(/^\s+- (\S+) \[([^\]]+)\]/gm)].map((m) => ({ name: m[1], versions: m[2].split(',') }));
  return { scenarios: all.filter((s) => s.versions.includes(version)).map((s) => s.name), extensions: all.filter((s) => s.versions.includes('extension')).map((s) => s.name) };
}

test('every server scenario of the suite for 2026-07-28 and 2025-11-25 is run or listed as not applicable, with a reason', () => {
  for (const version of [MODERN, LEGACY]) {
    const { scenarios } = listed(version);
    const covered = new Set([...RUN[version], ...Object.keys(NOT_APPLICABLE[version])]);
    assert.deepEqual(scenarios.filter((s) => !covered.has(s)), [], `${version}: scenarios neither run nor listed as not applicable`);
    assert.deepEqual([...covered].filter((s) => !scenarios.includes(s)), [], `${version}: entries for scenarios the suite does not list`);
    for (const [s, why] of Object.entries(NOT_APPLICABLE[version])) assert.ok(why.length > 10, `${version} ${s}: a reason`);
  }
  const { extensions } = listed('extension');
  assert.ok(extensions.every((e) => /^(tasks-|sep-2640-skills-)/.test(e)), `extension scenarios (${EXTENSION}): ${extensions}`);
});

test('conformance server scenarios pass on both wires through the bearer proxy; DNS rebinding is refused by the Host check', async (t) => {
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

  const summary = [];
  for (const version of [MODERN, LEGACY]) {
    // Two at a time: the machine has two cores shared with others.
    const results = {};
    const queue = [...RUN[version]];
    await Promise.all([0, 1].map(async () => {
      for (let s; (s = queue.shift());) results[s] = await runConformance({ url: `${proxy.url}/mcp`, scenario: s, specVersion: version, timeoutMs: 90_000 });
    }));
    for (const scenario of RUN[version]) {
      const r = results[scenario];
      assert.ok(r.checks.length > 0, `${version} ${scenario}: produced checks\n${r.output}`);
      const allowed = NOT_TESTABLE_CHECKS[version][scenario] ?? {};
      const failed = r.checks.filter((ch) => ch.status === 'FAILURE');
      const unexpected = failed.filter((ch) => !allowed[ch.id]);
      assert.deepEqual(unexpected.map((ch) => `${ch.id}: ${ch.errorMessage}`), [], `${version} ${scenario}: no failed checks\n${r.output}`);
      for (const ch of failed) assert.match(ch.errorMessage ?? '', /Not testable|-32601/, `${version} ${scenario} ${ch.id} fails only for what we do not serve`);
      for (const id of Object.keys(allowed)) assert.ok(failed.some((ch) => ch.id === id), `${version} ${scenario}: ${id} listed as not testable but did not fail (update the list)`);
      if (Object.keys(allowed).length === 0) assert.equal(r.exitCode, 0, `${version} ${scenario}: exit code\n${r.output}`);
      const count = (st) => r.checks.filter((ch) => ch.status === st).length;
      summary.push(`${version} ${scenario}: ${count('SUCCESS')} passed, ${failed.length} not testable, ${count('WARNING')} warnings, ${count('SKIPPED')} skipped`);
    }
    const dns = results['dns-rebinding-protection'].checks;
    const evil = dns.find((ch) => ch.id === 'localhost-host-rebinding-rejected');
    assert.ok(evil, `${version}: the rebinding check ran`);
    assert.equal(evil.details.hostHeader, 'evil.example.com');
    assert.ok([403, 421].includes(evil.details.statusCode),
      `${version}: evil Host refused by the Host/Origin check (403/421), not by a missing token (got ${evil.details.statusCode})`);
    const valid = dns.find((ch) => ch.id === 'localhost-host-valid-accepted');
    assert.ok(valid.details.statusCode >= 200 && valid.details.statusCode < 300, `${version}: own Host accepted (got ${valid.details.statusCode})`);
  }
  t.diagnostic(summary.join('\n'));
  // The proxy saw the evil Host unchanged and the server answered it 403; every other request was authenticated.
  const evilReq = proxy.requests.filter((r) => r.host === 'evil.example.com');
  assert.ok(evilReq.length >= 2 && evilReq.every((r) => [403, 421].includes(r.status)), `proxy log: ${JSON.stringify(evilReq)}`);
  assert.deepEqual(proxy.requests.filter((r) => r.status === 401), [], 'no 401 through the proxy');
});

test('conformance authorization-server scenarios: metadata and the authorization code grant (PKCE, iss, no-store)', async (t) => {
  const h = await testServer(t);
  const meta = await (await fetch(`${h.url}/.well-known/oauth-authorization-server`)).json();
  // A public client registered for the suite's callback server; the "browser" is our HTTP user (sign-in + consent).
  const port = await freePort();
  const redirectUri = `http://127.0.0.1:${port}/callback`;
  const reg = await fetch(meta.registration_endpoint, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'conformance authorization-code-grant', redirect_uris: [redirectUri], grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'], token_endpoint_auth_method: 'none', application_type: 'native' }),
  });
  assert.equal(reg.status, 201, await reg.clone().text());
  const { client_id: clientId } = await reg.json();
  const user = new FileOAuthProvider({ file: h.file('conformance-user.json'), username: 'alice', password: 'alice-e2e-correct-horse-battery', redirectUrl: redirectUri });
  const r = await runAuthorizationConformance({
    issuer: meta.issuer, clientId, resource: h.mcpUrl, port,
    onAuthorizationUrl: async (url) => {
      await user.redirectToAuthorization(url);
      const back = new URL(redirectUri);
      for (const [k, v] of Object.entries(user.lastRedirect)) if (['code', 'state', 'iss', 'error', 'error_description'].includes(k) && v !== undefined) back.searchParams.set(k, v);
      await (await fetch(back)).text(); // land on the suite's callback, as the browser would
    },
  });
  const failed = r.checks.filter((ch) => ch.status === 'FAILURE');
  assert.deepEqual(failed.map((ch) => `${ch.id}: ${ch.errorMessage}`), [], r.output);
  for (const id of ['authorization-server-metadata-endpoint', 'authorization-code-grant']) {
    assert.ok(r.checks.some((ch) => ch.id.startsWith(id) || ch.name?.toLowerCase().includes(id.split('-')[0])), `${id} ran\n${r.output}`);
  }
  assert.ok(r.checks.filter((ch) => ch.status === 'SUCCESS').length >= 2, r.output);
  assert.equal(r.exitCode, 0, r.output);
  assert.equal(user.counters.loginPages, 1, 'the code grant went through our sign-in page');
  t.diagnostic(`authorization: ${r.checks.map((ch) => `${ch.id} ${ch.status}`).join(', ')}`);
});
