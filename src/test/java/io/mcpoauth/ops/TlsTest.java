package io.mcpoauth.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mcpoauth.Server;
import io.mcpoauth.TestServer;
import io.mcpoauth.admin.AdminSocket;
import io.mcpoauth.admin.RemoteAdmin;
import io.mcpoauth.config.ConfigException;
import io.mcpoauth.config.Settings;
import io.mcpoauth.store.file.DataDirectory;
import io.mcpoauth.store.file.FileStore;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Direct HTTPS from a PKCS12 keystore (made here with the JDK's keytool), and one clear start error when it is wrong. */
class TlsTest {
    private static final String PASSWORD = "keystore-pass-123";

    @TempDir
    static Path keys;
    static Path keystore;

    @TempDir
    Path dir;

    @BeforeAll
    static void makeKeystore() throws Exception {
        keystore = keys.resolve("server.p12");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        Process p = new ProcessBuilder(keytool, "-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "2", "-storetype", "PKCS12",
                "-keystore", keystore.toString(), "-storepass", PASSWORD, "-keypass", PASSWORD)
                .redirectErrorStream(true).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "keytool finished");
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.exitValue(), out);
    }

    /** A client that trusts exactly the test certificate. */
    static HttpClient trusting() throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            ks.load(in, PASSWORD.toCharArray());
        }
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("server", ks.getCertificate("server"));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(ctx).connectTimeout(Duration.ofSeconds(5)).build();
    }

    private static Map<String, String> tls(int port) {
        Map<String, String> env = new HashMap<>();
        env.put("PORT", String.valueOf(port));
        env.put("PUBLIC_URL", "https://127.0.0.1:" + port);
        env.put("TLS_KEYSTORE", keystore.toString());
        env.put("TLS_KEYSTORE_PASSWORD", PASSWORD);
        return env;
    }

    @Test
    void servesHttpsWithTheKeystore() throws Exception {
        int port = TestServer.freePort();
        try (TestServer s = TestServer.start(dir.resolve("data"), tls(port))) {
            HttpClient client = trusting();
            HttpResponse<String> health = client.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/healthz")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode(), health.body());
            HttpResponse<String> md = client.send(HttpRequest.newBuilder(URI.create("https://localhost:" + port
                    + "/.well-known/oauth-authorization-server")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, md.statusCode());
            assertTrue(md.body().contains("\"issuer\":\"https://127.0.0.1:" + port + "\""), md.body());

            HttpClient defaultTrust = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            assertThrows(SSLHandshakeException.class, () -> defaultTrust.send(HttpRequest.newBuilder(
                    URI.create("https://127.0.0.1:" + port + "/healthz")).build(), HttpResponse.BodyHandlers.ofString()),
                    "an untrusted certificate is refused by the client");
            boolean plainServed;
            try {
                HttpResponse<String> plain = defaultTrust.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/healthz"))
                        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                plainServed = plain.statusCode() == 200;
            } catch (IOException e) {
                plainServed = false;
            }
            assertFalse(plainServed, "no plain HTTP on the TLS port");

            // the commands still reach it: through the plain loopback admin port
            AdminSocket.Credential c = AdminSocket.read(s.dataDir);
            try (RemoteAdmin admin = new RemoteAdmin(c)) {
                assertEquals(List.of(), admin.clients());
            }
        }
    }

    @Test
    void publicUrlDefaultsToHttpsWithTls() {
        Settings s = Settings.from(Map.of("PORT", "8443", "TLS_KEYSTORE", "/x.p12", "TLS_KEYSTORE_PASSWORD", "p"));
        assertEquals("https://localhost:8443", s.issuer);
        assertTrue(s.httpsPublicUrl());
    }

    @Test
    void aBadKeystoreIsOneClearStartErrorAndNothingIsLocked() throws IOException {
        Path data = dir.resolve("data");
        Map<String, String> base = new HashMap<>(Map.of("PORT", String.valueOf(TestServer.freePort()), "OAUTH_DATA_DIR", data.toString()));

        Map<String, String> wrongPassword = new HashMap<>(base);
        wrongPassword.put("TLS_KEYSTORE", keystore.toString());
        wrongPassword.put("TLS_KEYSTORE_PASSWORD", "not-the-password");
        ConfigException e = assertThrows(ConfigException.class, () -> Server.create(Settings.from(wrongPassword)));
        assertEquals("TLS_KEYSTORE_PASSWORD=<hidden>: not the password of " + keystore, e.getMessage());

        Map<String, String> missing = new HashMap<>(base);
        missing.put("TLS_KEYSTORE", dir.resolve("nope.p12").toString());
        missing.put("TLS_KEYSTORE_PASSWORD", PASSWORD);
        e = assertThrows(ConfigException.class, () -> Server.create(Settings.from(missing)));
        assertEquals("TLS_KEYSTORE=" + dir.resolve("nope.p12") + ": no such file", e.getMessage());

        Path junk = dir.resolve("junk.p12");
        Files.writeString(junk, "not a keystore");
        Map<String, String> notPkcs12 = new HashMap<>(base);
        notPkcs12.put("TLS_KEYSTORE", junk.toString());
        notPkcs12.put("TLS_KEYSTORE_PASSWORD", PASSWORD);
        e = assertThrows(ConfigException.class, () -> Server.create(Settings.from(notPkcs12)));
        assertTrue(e.getMessage().startsWith("TLS_KEYSTORE=" + junk + ": cannot be read as a PKCS12 keystore"), e.getMessage());

        Map<String, String> noPassword = new HashMap<>(base);
        noPassword.put("TLS_KEYSTORE", keystore.toString());
        e = assertThrows(ConfigException.class, () -> Server.create(Settings.from(noPassword)));
        assertTrue(e.getMessage().startsWith("TLS_KEYSTORE_PASSWORD: required"), e.getMessage());

        assertNull(DataDirectory.runningServer(data), "the data directory was never locked");
        try (FileStore ignored = FileStore.open(data)) {
            // free to open
        }
    }
}
