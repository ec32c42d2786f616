// Building blocks shared by the e2e tests: a server per test (own data dir, own port) that can be
// restarted in place, a fetch that records what the SDK sent, tool-call helpers and a loopback
// callback server. Nothing here prints a token or a secret.
import http from 'node:http';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { startServer, addUser, makeTempDir, waitFor, DEFAULT_JAR } from './server.mjs';
import { FileOAuthProvider } from './oauth-provider.mjs';

/** Passwords used by the tests (long enough for the server's password policy). */
export const PASSWORDS = {
  alice: 'alice-e2e-correct-horse-battery',
  bob: 'bob-e2e-staple-orbit-lantern-42',
};

/**
 * A server for one test: a temp data dir with `users` added, started on a free port.
 * Stopped (and its data dir removed) when the test ends. `port`: a port chosen beforehand (default: a free one);
 * `javaArgs` (JVM options) and `fetch` (what polls it until it is ready) as for startServer.
 * Returns { server, url, mcpUrl, dataDir, port, tmp, file(name), stop({ kill9 }), start(),
 * restart({ kill9 }) }; `server` is replaced by start()/restart(), which start the process again
 * on the same data dir and port.
 */
export async function testServer(t, { users = ['alice'], env = {}, publicHost, port, javaArgs, fetch } = {}) {
  const dataDir = await makeTempDir('mcp-e2e-data-');
  const tmp = await makeTempDir('mcp-e2e-client-'); // client-side files (provider state)
  let h;
  // Registered first, so that the directories go away even when a user or the server fails to start.
  t.after(async () => {
    try { await h?.server.stop('SIGTERM'); } catch {}
    await rm(dataDir, { recursive: true, force: true });
    await rm(tmp, { recursive: true, force: true });
  });
  for (const u of users) await addUser(DEFAULT_JAR, dataDir, u, PASSWORDS[u] ?? `${u}-e2e-password-12345`);
  h = {
    dataDir, tmp, env, publicHost,
    server: await startServer({ dataDir, env, publicHost, port, javaArgs, fetch }),
    get url() { return this.server.url; },
    get port() { return this.server.port; },
    get mcpUrl() { return `${this.server.url}/mcp`; },
    /** Stops the server: SIGTERM (must exit cleanly) or, with kill9, SIGKILL. */
    async stop({ kill9 = false } = {}) {
      const r = kill9 ? await this.server.kill9() : await this.server.stop('SIGTERM');
      if (!kill9 && r.code !== 0 && r.code !== 143) {
        throw new Error(`server exited with ${JSON.stringify(r)} on SIGTERM\n${this.server.logs()}`);
      }
      return r;
    },
    /** Starts the server again on the same data dir and port (after stop()). */
    async start() {
      this.server = await startServer({ dataDir, port: this.port, env, publicHost, javaArgs, fetch });
      return this.server;
    },
    /** stop() then start(). */
    async restart({ kill9 = false } = {}) {
      await this.stop({ kill9 });
      return this.start();
    },
    file(name) { return path.join(tmp, name); },
  };
  return h;
}

/** A FileOAuthProvider for `user` whose state file lives in the test's temp dir. */
export function providerFor(h, user, options = {}) {
  return new FileOAuthProvider({
    file: h.file(`${options.fileName ?? user}-oauth.json`),
    username: user,
    password: PASSWORDS[user] ?? `${user}-e2e-password-12345`,
    ...options,
  });
}

/**
 * A fetch for the SDK transport that records every request: { method, path, status,
 * wwwAuthenticate, auth: 'bearer'|'basic'|undefined, form } where `form` lists the *names* of
 * the form fields sent to /token and /register (plus grant_type's value), never their values.
 */
export function recordingFetch() {
  const log = [];
  const f = async (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = (init.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
    const authz = headers.get('authorization') ?? '';
    const entry = { method, path: url.pathname, auth: authz ? authz.split(' ')[0].toLowerCase() : undefined };
    if (typeof init.body === 'string' || init.body instanceof URLSearchParams) {
      const body = String(init.body);
      if ((headers.get('content-type') ?? '').includes('application/x-www-form-urlencoded')) {
        const p = new URLSearchParams(body);
        entry.form = [...p.keys()];
        entry.grantType = p.get('grant_type') ?? undefined;
      }
    }
    log.push(entry);
    try {
      const res = await fetch(input, init);
      entry.status = res.status;
      entry.wwwAuthenticate = res.headers.get('www-authenticate') ?? undefined;
      return res;
    } catch (e) {
      entry.error = e.message;
      throw e;
    }
  };
  return {
    fetch: f,
    log,
    clear() { log.length = 0; },
    /** Requests to a path, e.g. calls('/token'). */
    calls(p) { return log.filter((e) => e.path === p); },
    /** "METHOD /path status" lines, for readable assertion messages. */
    summary() { return log.map((e) => `${e.method} ${e.path} ${e.status ?? e.error}`).join('\n'); },
  };
}

/** Calls a tool whose result is JSON text; throws on isError. */
export async function callJson(client, name, args = {}, { timeoutMs = 15_000 } = {}) {
  const r = await client.callTool({ name, arguments: args }, undefined, { timeout: timeoutMs });
  const text = r.content?.find((c) => c.type === 'text')?.text;
  if (r.isError) throw new Error(`tool ${name} failed: ${text}`);
  return JSON.parse(text);
}

/** Texts of the caller's notes, via notes_list. */
export async function noteTexts(client) {
  const r = await callJson(client, 'notes_list');
  return r.notes.map((n) => n.text);
}

/**
 * A loopback HTTP server standing in for a client's redirect URI: records every request's
 * { method, path, query } and answers a small HTML page. Closed at the end of the test.
 */
export async function callbackServer(t, { host = '127.0.0.1', path: cbPath = '/callback' } = {}) {
  const hits = [];
  const srv = http.createServer((req, res) => {
    const u = new URL(req.url, `http://${req.headers.host}`);
    hits.push({ method: req.method, path: u.pathname, query: Object.fromEntries(u.searchParams) });
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>Callback</title><h1 id="done">Callback received</h1>');
  });
  await new Promise((r) => srv.listen(0, host, r));
  const port = srv.address().port;
  const cb = {
    hits, port,
    /** Requests to the callback path itself (a browser also asks for /favicon.ico). */
    get redirects() { return hits.filter((h) => h.path === cbPath); },
    url: `http://${host}:${port}${cbPath}`,
    /** Resolves with the first request to the callback path (bounded). */
    next: (timeoutMs = 10_000) => waitFor(() => hits.find((h) => h.path === cbPath), { timeoutMs, what: 'the redirect to the callback' }),
    close: () => new Promise((r) => { srv.closeAllConnections(); srv.close(() => r()); }),
  };
  t.after(() => cb.close());
  return cb;
}

/** A node:http server answering `handler(req, res, body)` on 127.0.0.1 (or `host`); closed after the test. */
export async function smallSite(t, handler, { host = '127.0.0.1' } = {}) {
  const srv = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => handler(req, res, body));
  });
  await new Promise((r) => srv.listen(0, host, r));
  const port = srv.address().port;
  t.after(() => new Promise((r) => { srv.closeAllConnections(); srv.close(() => r()); }));
  return { url: `http://${host === '::1' ? '[::1]' : host}:${port}`, port };
}

/**
 * A FileOAuthProvider that does not play the user: redirectToAuthorization() only records the
 * authorization URL the SDK built (for a real browser to open).
 */
export class CapturingProvider extends FileOAuthProvider {
  async redirectToAuthorization(authorizationUrl) {
    this.counters.authorizations++;
    this.authorizationUrl = new URL(authorizationUrl);
  }
  /** The state the SDK put in the authorization URL. */
  get sentState() { return this.authorizationUrl?.searchParams.get('state') ?? undefined; }
}

/**
 * A FileOAuthProvider whose user signs in in a real browser: redirectToAuthorization() opens the authorization URL
 * in `page` (Playwright), signs in as `username` and consents there (signInAndConsent), and reads the answer at the
 * loopback redirect URI of `callback` (a callbackServer). It sets `authorizationCode` and `lastRedirect` as
 * FileOAuthProvider does, so connectClient (v1) and connectModernClient (v2) finish the sign-in. The browser stays
 * signed in (its session cookie) for what comes next, e.g. a connect link. `onPage` as for signInAndConsent.
 */
export class BrowserProvider extends FileOAuthProvider {
  constructor({ page, callback, onPage, ...options }) {
    super({ redirectUrl: callback.url, ...options });
    Object.assign(this, { page, callback, onPage });
  }
  async redirectToAuthorization(authorizationUrl) {
    const { signInAndConsent } = await import('./browser.mjs');
    this.counters.authorizations++;
    this.authorizationCode = undefined;
    this.lastRedirect = undefined;
    const before = this.callback.redirects.length;
    await this.page.goto(new URL(authorizationUrl).href);
    await signInAndConsent(this.page, {
      username: this.username, password: this.password, onPage: this.onPage, until: (u) => u.startsWith(this.callback.url),
    });
    const hit = await waitFor(() => this.callback.redirects[before], { what: 'the redirect to the callback' });
    const q = hit.query;
    this.lastRedirect = { code: q.code, state: q.state, iss: q.iss, error: q.error, error_description: q.error_description, expectedState: this._state };
    if (this._state !== undefined && q.state !== this._state) throw new Error('authorization: state in the redirect does not match the one sent');
    this.authorizationCode = q.code;
  }
}

/**
 * Lets the official SDK client discover, register and build the authorization URL without
 * completing it. Returns { authorizationUrl, finish(code) }; finish() exchanges the code through
 * the SDK and returns a connected { client, transport }.
 */
export async function beginSdkAuthorization(mcpUrl, provider, { fetch } = {}) {
  const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
  const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
  const { UnauthorizedError } = await import('@modelcontextprotocol/sdk/client/auth.js');
  const make = () => ({
    client: new Client({ name: 'mcp-oauth-server-e2e-browser', version: '0.0.0' }),
    transport: new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider, ...(fetch ? { fetch } : {}) }),
  });
  const first = make();
  try {
    await first.client.connect(first.transport);
    throw new Error('connected without authorization: expected a 401 first');
  } catch (e) {
    if (!(e instanceof UnauthorizedError)) throw e;
  }
  await first.client.close().catch(() => {});
  if (!provider.authorizationUrl) throw new Error('the SDK did not produce an authorization URL');
  return {
    authorizationUrl: provider.authorizationUrl,
    async finish(code) {
      await first.transport.finishAuth(code);
      const c = make();
      await c.client.connect(c.transport);
      return c;
    },
  };
}

/**
 * Registers a public client (POST /register) with `redirectUri` and builds an authorization URL
 * with PKCE S256, a random state, resource = the MCP URL and scope mcp.
 * Returns { url, clientId, state, verifier, redirectUri }.
 */
export async function pkceAuthorizationUrl(h, { redirectUri, clientName = 'E2E hand-built client', scope = 'mcp' }) {
  const { createHash, randomBytes } = await import('node:crypto');
  const meta = await (await fetch(`${h.url}/.well-known/oauth-authorization-server`)).json();
  const res = await fetch(meta.registration_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: clientName, redirect_uris: [redirectUri], grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'], token_endpoint_auth_method: 'none',
    }),
  });
  if (res.status !== 201) throw new Error(`registration: HTTP ${res.status} ${await res.text()}`);
  const { client_id: clientId } = await res.json();
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const url = new URL(meta.authorization_endpoint);
  for (const [k, v] of Object.entries({
    response_type: 'code', client_id: clientId, redirect_uri: redirectUri, state, scope,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
    resource: `${h.url}/mcp`,
  })) url.searchParams.set(k, v);
  return { url, clientId, state, verifier, redirectUri, meta };
}
