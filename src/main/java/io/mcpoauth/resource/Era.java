package io.mcpoauth.resource;

/**
 * The two generations of MCP that {@code /mcp} speaks on one endpoint (terms of MCP 2026-07-28, basic/versioning):
 * <ul>
 *   <li>{@link #MODERN}: 2026-07-28 and later. No handshake: every request carries its protocol version, the client's
 *       capabilities and identity in {@code params._meta}, and is served on its own.</li>
 *   <li>{@link #LEGACY}: 2025-11-25, 2025-06-18 and 2025-03-26, opened with an {@code initialize} handshake. We serve
 *       them statelessly too (no {@code Mcp-Session-Id}), as before the modern era existed.</li>
 * </ul>
 * {@link EraRouter} decides the era of each message.
 */
public enum Era {
    MODERN,
    LEGACY
}
