package io.mcpoauth.oauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.mcpoauth.OAuthClientSim;
import io.mcpoauth.TestServer;
import io.mcpoauth.core.Events;
import io.mcpoauth.http.OAuthError;
import io.mcpoauth.http.Params;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The token endpoint's grant handlers: one per grant_type, advertised in the metadata, reported once by the endpoint. */
class GrantHandlersTest {
    @TempDir
    Path dir;

    /** A grant of its own, for the test: mints a token for user "u" without any refresh token. */
    static final class EchoGrant implements GrantHandler {
        private final TokenIssuer issuer;
        AuthenticatedClient seen;

        EchoGrant(TokenIssuer issuer) {
            this.issuer = issuer;
        }

        @Override
        public String grantType() {
            return "urn:test:echo";
        }

        @Override
        public TokenResponse handle(TokenRequest request, AuthenticatedClient client) {
            seen = client;
            return issuer.issue(new TokenIssuer.Grant(client.clientId(), "u", null, "g-1"), Set.of(request.param("scope")), null, request.now());
        }
    }

    @Test
    void theServerHandlesAuthorizationCodeAndRefreshTokenAndAdvertisesExactlyThose() {
        try (TestServer s = TestServer.start(dir)) {
            TokenEndpoint token = new TokenEndpoint(s.server.oauth, s.server.codes);
            assertEquals(List.of("authorization_code", "refresh_token"), token.grantTypes());
            assertEquals(token.grantTypes(), Metadata.authorizationServer(s.server.settings, false, token.grantTypes()).get("grant_types_supported"));
        }
    }

    @Test
    void aRegisteredHandlerIsAdvertisedCalledAfterClientAuthenticationAndReportedOnce() {
        try (TestServer s = TestServer.start(dir)) {
            OAuthClientSim c = new OAuthClientSim(s);
            c.registerDirect();
            List<String> issued = new ArrayList<>();
            OAuthServices o = s.server.oauth;
            OAuthServices services = new OAuthServices(o.settings(), o.clock(), o.clients(), o.refreshTokens(), o.accessTokens(), o.registry(),
                    o.clientAuthentication(), new Events() {
                        @Override
                        public void tokensIssued(String grantType, String userId, String clientId, String grantId, Collection<String> scopes) {
                            issued.add(grantType + " " + userId + " " + clientId + " " + grantId + " " + scopes);
                        }
                    }, o.lifecycle());
            EchoGrant echo = new EchoGrant(new TokenIssuer(services));
            TokenEndpoint token = new TokenEndpoint(services, List.of(echo));
            assertEquals(List.of("urn:test:echo"), token.grantTypes());

            // unknown here: the other grant types are not served, and the refusal names what is
            OAuthError unsupported = assertThrows(OAuthError.class,
                    () -> token.handle(null, Params.parseUrlEncoded("grant_type=refresh_token&client_id=" + c.clientId)));
            assertEquals(OAuthError.UNSUPPORTED_GRANT_TYPE, unsupported.code());
            assertEquals("Unknown grant_type; use urn:test:echo.", unsupported.description());
            // the client authenticates before the handler runs
            assertThrows(ClientAuthentication.Failure.class, () -> token.handle(null, Params.parseUrlEncoded("grant_type=urn:test:echo&client_id=nobody")));
            assertNull(echo.seen);

            var body = token.handle(null, Params.parseUrlEncoded("grant_type=urn:test:echo&scope=mcp&client_id=" + c.clientId));
            assertEquals(c.clientId, echo.seen.clientId());
            assertNotNull(body.get("access_token"));
            assertEquals("Bearer", body.get("token_type"));
            assertEquals("mcp", body.get("scope"));
            assertNull(body.get("refresh_token"));
            assertEquals(List.of("urn:test:echo u " + c.clientId + " g-1 [mcp]"), issued);
        }
    }

    @Test
    void twoHandlersForOneGrantTypeAreRefused() {
        try (TestServer s = TestServer.start(dir)) {
            TokenIssuer issuer = new TokenIssuer(s.server.oauth);
            assertThrows(IllegalArgumentException.class,
                    () -> new TokenEndpoint(s.server.oauth, List.of(new EchoGrant(issuer), new EchoGrant(issuer))));
        }
    }
}
