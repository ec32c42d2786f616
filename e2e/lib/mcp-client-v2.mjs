// The official TypeScript SDK v2 client (@modelcontextprotocol/client 2.x) against /mcp, pinned to the modern era
// (MCP 2026-07-28): no initialize, every call one POST carrying its own _meta and the mirrored headers.
// (v2's default mode is 'legacy', the plain 2025 handshake: pin the era explicitly.)
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';

export const MODERN = '2026-07-28';

/**
 * connectModernClient(mcpUrl, provider, { fetch, elicit, capabilities }) -> { client, transport, authorized }
 * `provider` is a FileOAuthProvider (v2 passes a context argument to its methods; it is ignored). `elicit(params)`
 * answers elicitation/create (both the input requests of an input_required result and, on the legacy era, requests).
 */
export async function connectModernClient(mcpUrl, provider, { name = 'mcp-oauth-server-e2e-v2', fetch, elicit, capabilities, mode } = {}) {
  const make = () => {
    const client = new Client({ name, version: '0.0.0' }, {
      capabilities: capabilities ?? { elicitation: { form: {} } },
      versionNegotiation: { mode: mode ?? { pin: MODERN } },
    });
    if (elicit) client.setRequestHandler('elicitation/create', async (req) => elicit(req.params));
    const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider, ...(fetch ? { fetch } : {}) });
    return { client, transport };
  };
  let c = make();
  try {
    await c.client.connect(c.transport);
    return { ...c, authorized: false };
  } catch (e) {
    if (!(e instanceof UnauthorizedError)) throw e;
    await c.client.close().catch(() => {});
    const r = provider.lastRedirect;
    if (!r?.code) throw new Error(`authorization ended without a code${r?.error ? `: ${r.error} ${r.error_description ?? ''}` : ''}`);
    // v2 checks the authorization response's iss (RFC 9207) against the issuer: hand it the whole callback.
    const params = new URLSearchParams({ code: r.code, ...(r.state ? { state: r.state } : {}), ...(r.iss ? { iss: r.iss } : {}) });
    await c.transport.finishAuth(params);
    c = make();
    await c.client.connect(c.transport);
    return { ...c, authorized: true };
  }
}

/** Calls a tool whose result is JSON text; throws on isError. */
export async function callJsonV2(client, name, args = {}, { timeoutMs = 15_000 } = {}) {
  const r = await client.callTool({ name, arguments: args }, { timeout: timeoutMs });
  const text = r.content?.find((c) => c.type === 'text')?.text;
  if (r.isError) throw new Error(`tool ${name} failed: ${text}`);
  return JSON.parse(text);
}
