package io.mcpoauth.resource;

import java.util.List;

/** The MCP protocol versions {@code /mcp} serves, per {@link Era}. */
public final class ProtocolVersions {
    private ProtocolVersions() {}

    public static final String V2026_07_28 = "2026-07-28";
    public static final String V2025_11_25 = "2025-11-25";
    public static final String V2025_06_18 = "2025-06-18";
    public static final String V2025_03_26 = "2025-03-26";

    /** Versions served per request with modern {@code _meta}. */
    public static final List<String> MODERN = List.of(V2026_07_28);
    /**
     * Versions negotiated by {@code initialize}, oldest first: the legacy SDK server echoes a listed version and
     * answers any other with the last (newest) one. Never a modern version: {@code initialize} must not "negotiate" it.
     */
    public static final List<String> LEGACY = List.of(V2025_03_26, V2025_06_18, V2025_11_25);
    /**
     * Every version served, newest first: {@code server/discover}'s {@code supportedVersions} and the
     * {@code supported} list of every UnsupportedProtocolVersionError (-32022).
     */
    public static final List<String> SUPPORTED = List.of(V2026_07_28, V2025_11_25, V2025_06_18, V2025_03_26);
    /**
     * What a request without {@code MCP-Protocol-Version} header (and without modern {@code _meta}) speaks: 2025-06-18
     * introduced the header, so its absence means 2025-03-26 (2025-11-25 basic/transports, "Protocol Version Header").
     */
    public static final String LEGACY_WITHOUT_HEADER = V2025_03_26;

    public static boolean isModern(String version) {
        return MODERN.contains(version);
    }

    public static boolean isLegacy(String version) {
        return LEGACY.contains(version);
    }
}
