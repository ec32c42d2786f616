// The MCP conformance suite's server scenarios through the gateway (/mcp/NAME, a bearer token from a real sign-in) in
// front of @modelcontextprotocol/server-everything over stdio: every scenario that passes directly against the
// upstream passes through the gateway, for a 2025-11-25 client and, where the suite has it, for a 2026-07-28 client.
import { conformanceThroughTheGateway } from '../lib/gateway-conformance.mjs';

conformanceThroughTheGateway('stdio');
