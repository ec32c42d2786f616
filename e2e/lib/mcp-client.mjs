// Connect the official SDK client to our /mcp endpoint with a FileOAuthProvider,
// doing the interactive authorization when the SDK asks for it.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';

/**
 * Returns { client, transport, authorized } where `authorized` tells whether an interactive
 * authorization (login/consent pages, or a remembered session) was needed.
 * `fetch` (optional) is passed to the transport, e.g. to count or tamper with requests; `capabilities` (optional) are
 * the client capabilities declared in initialize (e.g. { elicitation: { url: {} } }).
 */
export async function connectClient(mcpUrl, provider, { name = 'mcp-oauth-server-e2e', fetch, capabilities } = {}) {
  const make = () => ({
    client: new Client({ name, version: '0.0.0' }, capabilities ? { capabilities } : undefined),
    transport: new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider, ...(fetch ? { fetch } : {}) }),
  });
  let c = make();
  try {
    await c.client.connect(c.transport);
    return { ...c, authorized: false };
  } catch (e) {
    if (!(e instanceof UnauthorizedError)) throw e;
    const code = provider.authorizationCode;
    await c.client.close().catch(() => {});
    if (!code) {
      const r = provider.lastRedirect;
      throw new Error(`authorization ended without a code${r?.error ? `: ${r.error} ${r.error_description ?? ''}` : ''}`);
    }
    await c.transport.finishAuth(code);
    c = make();
    await c.client.connect(c.transport);
    return { ...c, authorized: true };
  }
}
