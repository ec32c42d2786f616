package io.mcpoauth.login;

import static io.mcpoauth.login.LoginThrottleTest.attemptVia;
import static io.mcpoauth.login.LoginThrottleTest.openForm;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.OAuthClientSim;
import io.mcpoauth.TestServer;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * No stranger can lock a user out; /login and /account/signin are
 * one sign-in service (one limit, one audit event); password hashing is bounded and answers 503 fast when full; an
 * unknown user name costs no more than a wrong password. Addresses come through a trusted proxy.
 */
class PasswordSignInTest {
    static final String PASSWORD = "correct horse battery";
    @TempDir
    Path dir;

    static Map<String, String> env(Path dir) {
        return Map.of("TRUSTED_PROXIES", "127.0.0.1", "AUDIT_LOG", dir.resolve("audit.log").toString());
    }

    static OAuthClientSim browser(TestServer s, OAuthClientSim like) {
        OAuthClientSim b = new OAuthClientSim(s);
        b.clientId = like.clientId;
        b.redirectUri = like.redirectUri;
        return b;
    }

    @Test
    void strangersGuessingFromManyAddressesDoNotLockTheUserOut() {
        try (TestServer s = TestServer.start(dir, env(dir))) {
            OAuthClientSim.addUser(s, "alice", PASSWORD);
            OAuthClientSim c = new OAuthClientSim(s);
            c.registerDirect();
            // a known address of alice's: she signed in from it before
            OAuthClientSim before = browser(s, c);
            assertEquals(303, attemptVia(before, openForm(before), "192.0.2.10", "alice", PASSWORD).statusCode());

            Map<String, String> form = openForm(c);
            for (int i = 1; i <= 10; i++) {
                assertEquals(401, attemptVia(c, form, "198.51.100." + i, "alice", "wrong " + i).statusCode());
            }
            // ten wrong passwords from ten addresses: alice, from her own (new) address, still signs in
            OAuthClientSim own = browser(s, c);
            HttpResponse<String> ok = attemptVia(own, openForm(own), "203.0.113.9", "alice", PASSWORD);
            assertEquals(303, ok.statusCode(), ok.body());

            // one address guessing is slowed down on alice (per user and address) ...
            int tries = 0;
            HttpResponse<String> r;
            while ((r = attemptVia(c, form, "198.51.100.200", "alice", "guess " + tries)).statusCode() == 401) tries++;
            assertEquals(429, r.statusCode());
            assertTrue(tries >= 3 && tries <= PasswordSignIn.USER_ADDRESS_PERMITS, "tries " + tries);
            assertTrue(Long.parseLong(r.headers().firstValue("Retry-After").orElseThrow()) > 0);

            // ... and past the ceiling on alice (many addresses), new addresses are refused but her known one is not
            for (int i = 0; i < PasswordSignIn.USER_CEILING; i++) attemptVia(c, form, "2001:db8:" + Integer.toHexString(i + 1) + "::1", "alice", "x" + i);
            assertEquals(429, attemptVia(c, form, "2001:db8:ffff::1", "alice", PASSWORD).statusCode(), "no ceiling per user");
            OAuthClientSim back = browser(s, c);
            assertEquals(303, attemptVia(back, openForm(back), "192.0.2.10", "alice", PASSWORD).statusCode(),
                    "the ceiling locked alice out of an address she signs in from");
        }
    }

    @Test
    void loginAndTheAccountPageAreOneSignInWithOneLimitAndOneEvent() throws Exception {
        try (TestServer s = TestServer.start(dir, env(dir))) {
            OAuthClientSim.addUser(s, "alice", PASSWORD);
            OAuthClientSim c = new OAuthClientSim(s);
            c.registerDirect();
            OAuthClientSim account = new OAuthClientSim(s);
            HttpResponse<String> page = account.browserGet("/account");
            Map<String, String> fields = OAuthClientSim.hiddenFields(page.body());
            for (int i = 0; i < PasswordSignIn.USER_ADDRESS_PERMITS; i++) {
                Map<String, String> f = new LinkedHashMap<>(fields);
                f.put("username", "alice");
                f.put("password", "wrong " + i);
                HttpRequest.Builder b = s.request("/account/signin").header("Content-Type", "application/x-www-form-urlencoded")
                        .header("X-Forwarded-For", "198.51.100.7").header("Cookie", account.cookie)
                        .POST(HttpRequest.BodyPublishers.ofString(TestServer.form(f)));
                assertEquals(401, s.send(b).statusCode());
            }
            // the same address and user on /login: the account page's guesses counted
            HttpResponse<String> r = attemptVia(c, openForm(c), "198.51.100.7", "alice", PASSWORD);
            assertEquals(429, r.statusCode(), "/login and /account/signin keep separate limits");
            String audit = Files.readString(dir.resolve("audit.log"));
            long signIns = audit.lines().filter(l -> l.contains("\"sign_in\"")).count();
            assertEquals(PasswordSignIn.USER_ADDRESS_PERMITS + 1, signIns, audit);
            assertTrue(s.get("/metrics").body().contains("failure"), "sign-in metric");
        }
    }

    @Test
    void passwordHashingIsBoundedAndOneAddressCannotTakeIt() throws Exception {
        try (TestServer s = TestServer.start(dir, env(dir))) {
            OAuthClientSim.addUser(s, "alice", PASSWORD);
            OAuthClientSim c = new OAuthClientSim(s);
            c.registerDirect();
            Map<String, String> form = openForm(c);
            OAuthClientSim real = browser(s, c);
            Map<String, String> realForm = openForm(real);
            ExecutorService pool = Executors.newFixedThreadPool(16);
            try {
                List<Future<HttpResponse<String>>> garbage = new ArrayList<>();
                for (int i = 0; i < 16; i++) {
                    int n = i;
                    garbage.add(pool.submit(() -> attemptVia(c, form, "198.51.100.66", "nobody" + n, "garbage garbage " + n)));
                }
                long start = System.nanoTime();
                HttpResponse<String> ok = attemptVia(real, realForm, "203.0.113.5", "alice", PASSWORD);
                long realMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                assertEquals(303, ok.statusCode(), ok.body());
                int busy = 0;
                for (Future<HttpResponse<String>> f : garbage) {
                    HttpResponse<String> r = f.get(30, TimeUnit.SECONDS);
                    if (r.statusCode() == 503) {
                        busy++;
                        assertTrue(r.headers().firstValue("Retry-After").isPresent(), "503 without Retry-After");
                    } else {
                        assertEquals(401, r.statusCode(), r.body());
                    }
                }
                assertTrue(busy >= 8, "one address ran " + (16 - busy) + " of 16 hashes");
                assertTrue(realMillis < 4000, "a real sign-in took " + realMillis + " ms next to 16 garbage ones");
                System.out.println("real sign-in beside 16 garbage sign-ins from one address: " + realMillis + " ms; " + busy + " of 16 got 503");
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void theFirstUnknownUserCostsNoMoreThanAWrongPassword() throws Exception {
        // wall-clock timing on a shared machine: a scenario that loses a time slice is measured again on a fresh server
        // (the first unknown user can only be first once); extra work for unknown users would show in every round
        String last = null;
        for (int round = 0; round < 3; round++) {
            Path d = java.nio.file.Files.createDirectory(dir.resolve("round-" + round));
            long[] ms = firstUnknownUserAgainstWrongPassword(d);
            last = "the first unknown user took " + ms[1] + " ms, a wrong password " + ms[0] + " ms";
            System.out.println("round " + round + ": " + last);
            if (ms[1] < ms[0] * 1.6) return;
        }
        throw new AssertionError(last + " (in each of 3 rounds)");
    }

    /** {wrong password ms (the best of two), first unknown user ms} on a fresh server in {@code d}. */
    private long[] firstUnknownUserAgainstWrongPassword(Path d) {
        try (TestServer s = TestServer.start(d, env(d))) {
            OAuthClientSim.addUser(s, "alice", PASSWORD);
            OAuthClientSim c = new OAuthClientSim(s);
            c.registerDirect();
            Map<String, String> form = openForm(c);
            attemptVia(c, form, "198.51.100.1", "alice", "warm up the JIT");
            // stored hashes are rehashed at the server's count on the first good sign-in: make alice's like that
            OAuthClientSim in = browser(s, c);
            assertEquals(303, attemptVia(in, openForm(in), "198.51.100.2", "alice", PASSWORD).statusCode());
            long known = Long.MAX_VALUE;
            for (int i = 0; i < 2; i++) {
                long t = System.nanoTime();
                assertEquals(401, attemptVia(c, form, "198.51.100.3" + i, "alice", "wrong").statusCode());
                known = Math.min(known, System.nanoTime() - t);
            }
            long t = System.nanoTime();
            assertEquals(401, attemptVia(c, form, "198.51.100.40", "mallory", "wrong").statusCode());
            long unknown = System.nanoTime() - t;
            return new long[] {known / 1_000_000, unknown / 1_000_000};
        }
    }
}
