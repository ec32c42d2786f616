package io.mcpoauth.idp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.mcpoauth.store.UserRecord;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Removing a user also deletes their stored (encrypted) upstream tokens, not only their grants and notes. */
class IdpUserRemovalTest {
    private static final String ADMIN = "a".repeat(40);

    @TempDir
    Path dir;

    @Test
    void removingAUserDeletesTheirUpstreamTokens() {
        try (IdpFixture f = new IdpFixture("oidc", dir, Map.of("ADMIN_TOKEN", ADMIN)).start()) {
            f.connect(f.client());
            UserRecord user = f.s.server.users.list().iterator().next();
            assertNotNull(f.s.server.upstream.tokens.status(user.userId()).expiresAt(), "signed in upstream: tokens stored");
            HttpResponse<String> r = f.s.send(f.s.request("/admin/api/users/" + user.userId()).DELETE()
                    .header("Authorization", "Bearer " + ADMIN));
            assertEquals(200, r.statusCode(), r.body());
            assertEquals(io.mcpoauth.idp.IdpTokenService.Status.NOT_CONNECTED, f.s.server.upstream.tokens.status(user.userId()).state());
            assertNull(f.s.server.users.get(user.userId()));
        }
    }
}
