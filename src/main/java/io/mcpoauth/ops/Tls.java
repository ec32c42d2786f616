package io.mcpoauth.ops;

import io.mcpoauth.config.ConfigException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.UnrecoverableKeyException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Collections;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * Direct HTTPS ({@code TLS_KEYSTORE} + {@code TLS_KEYSTORE_PASSWORD}): the PKCS12 file is read and checked when the
 * server starts, before the data directory is locked, so a missing file, a wrong password or a keystore without a
 * private key stops the start with one clear line. Jetty's {@link SslContextFactory} then serves it (TLS 1.2 and 1.3,
 * Jetty's default cipher exclusions).
 */
public final class Tls {
    private final Path file;
    private final KeyStore keyStore;
    private final String password;
    private final String alias;
    private final X509Certificate certificate;

    private Tls(Path file, KeyStore keyStore, String password, String alias, X509Certificate certificate) {
        this.file = file;
        this.keyStore = keyStore;
        this.password = password;
        this.alias = alias;
        this.certificate = certificate;
    }

    /** Loads and checks the keystore; throws {@link ConfigException} naming the setting and the problem. */
    public static Tls load(Path file, String password) {
        if (password == null || password.isEmpty()) {
            throw new ConfigException("TLS_KEYSTORE_PASSWORD: required when TLS_KEYSTORE is set (the password of the PKCS12 file)");
        }
        KeyStore ks;
        try (InputStream in = Files.newInputStream(file)) {
            ks = KeyStore.getInstance("PKCS12");
            ks.load(in, password.toCharArray());
        } catch (NoSuchFileException e) {
            throw new ConfigException("TLS_KEYSTORE=" + file + ": no such file");
        } catch (IOException e) {
            if (e.getCause() instanceof UnrecoverableKeyException || String.valueOf(e.getMessage()).toLowerCase().contains("password")) {
                throw new ConfigException("TLS_KEYSTORE_PASSWORD=<hidden>: not the password of " + file);
            }
            throw new ConfigException("TLS_KEYSTORE=" + file + ": cannot be read as a PKCS12 keystore (" + e.getMessage() + ")");
        } catch (GeneralSecurityException e) {
            throw new ConfigException("TLS_KEYSTORE=" + file + ": cannot be read as a PKCS12 keystore (" + e.getMessage() + ")");
        }
        try {
            for (String a : Collections.list(ks.aliases())) {
                if (!ks.isKeyEntry(a)) continue;
                Key key;
                try {
                    key = ks.getKey(a, password.toCharArray());
                } catch (UnrecoverableKeyException e) {
                    throw new ConfigException("TLS_KEYSTORE=" + file + ": the private key '" + a + "' has another password than the keystore;"
                            + " give both the same password");
                }
                if (key instanceof PrivateKey && ks.getCertificate(a) instanceof X509Certificate cert) {
                    if (cert.getNotAfter().toInstant().isBefore(Instant.now())) {
                        throw new ConfigException("TLS_KEYSTORE=" + file + ": the certificate '" + a + "' expired on " + cert.getNotAfter().toInstant());
                    }
                    return new Tls(file, ks, password, a, cert);
                }
            }
        } catch (GeneralSecurityException e) {
            throw new ConfigException("TLS_KEYSTORE=" + file + ": cannot be read (" + e.getMessage() + ")");
        }
        throw new ConfigException("TLS_KEYSTORE=" + file + ": holds no private key with its certificate (make it with keytool -genkeypair or"
                + " openssl pkcs12 -export)");
    }

    /** "CN=..., valid until ..." for the start log. */
    public String describe() {
        return certificate.getSubjectX500Principal().getName() + " (" + alias + "), valid until " + certificate.getNotAfter().toInstant();
    }

    public Path file() {
        return file;
    }

    /** An HTTPS connector on {@code host:port}, with the given HTTP configuration plus the TLS request customizer. */
    ServerConnector connector(Server server, HttpConfiguration http, String host, int port) {
        SslContextFactory.Server ssl = new SslContextFactory.Server();
        ssl.setKeyStore(keyStore);
        ssl.setKeyStorePassword(password);
        ssl.setCertAlias(alias);
        ssl.setIncludeProtocols("TLSv1.3", "TLSv1.2");
        HttpConfiguration https = new HttpConfiguration(http);
        // The client checks the certificate against the name it asked for; a mismatching SNI is not refused here
        // (clients reaching the server by IP address send none).
        https.addCustomizer(new SecureRequestCustomizer(false, false, -1, false));
        ServerConnector c = new ServerConnector(server, new SslConnectionFactory(ssl, HttpVersion.HTTP_1_1.asString()),
                new HttpConnectionFactory(https));
        c.setHost(host);
        c.setPort(port);
        c.setIdleTimeout(Operations.IDLE_TIMEOUT_MILLIS);
        return c;
    }
}
