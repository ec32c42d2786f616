package io.mcpoauth.oauth;

import io.javalin.config.JavalinConfig;
import io.mcpoauth.core.AuthContext;
import io.mcpoauth.core.Secrets;
import io.mcpoauth.http.Web;
import io.mcpoauth.store.UserRecord;
import io.mcpoauth.store.UserStore;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.RSAPrivateCrtKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Identity assertions: short-lived JWTs (RS256) that tell an upstream MCP server who is calling through the gateway,
 * verifiable by any standard JWT library with our JWK Set at {@value #JWKS_PATH}.
 *
 * <p>Claims: {@code iss} (our issuer), {@code aud} (the upstream), {@code sub} (the user id, e.g. {@code local:alice}),
 * {@code iat}, {@code nbf}, {@code exp} (at most five minutes later), {@code jti}, and {@code username}, {@code email}
 * (when known), {@code client_id}, {@code scope} (space-separated). The client's own access token never leaves us.
 *
 * <p>Keys: one RSA-2048 key pair per rotation period (periods are aligned to the Unix epoch, so every instance agrees
 * on the current one). Each pair is derived deterministically from the store's shared secret {@value #KEY_NAME}
 * ({@code identity-jwt.key}, 0600 in the data directory with {@code STORE=file}; the {@code server_keys} table with
 * PostgreSQL): every instance on one database signs with, and publishes, the same keys without storing any key pair.
 * The derivation is plain arithmetic (HMAC-SHA256 expansion, {@link BigInteger#nextProbablePrime}), so it gives the
 * same keys on every JDK. The JWK Set holds the current key, the previous one during the grace period after a
 * rotation (assertions signed just before it stay verifiable, verifiers that cached the set still find it), and the
 * next one during the grace period before a rotation (verifiers that cache the set already know it when it is used).
 *
 * <p>The JWK Set is not advertised as {@code jwks_uri} in our authorization server metadata: RFC 8414 defines that as
 * the keys "the client uses to validate signatures from the authorization server", and our tokens for clients are
 * opaque. Only upstream servers behind the gateway use it; they are configured with its URL.
 *
 * <p>Signing costs about a millisecond, so an assertion is reused for the same caller, client, scopes and audience
 * while more than half of its lifetime remains (a bounded cache).
 */
public final class IdentityJwt {
    private static final java.util.regex.Pattern EMAIL = java.util.regex.Pattern.compile("[^@\\s]+@[^@\\s]+\\.[^@\\s]+");
    /** The name of the shared secret the key pairs derive from ({@code Stores.sharedKey}). */
    public static final String KEY_NAME = "identity-jwt";
    public static final String JWKS_PATH = "/.well-known/jwks.json";
    public static final Duration MAX_LIFETIME = Duration.ofMinutes(5);
    static final String ALG = "RS256";
    private static final BigInteger E = BigInteger.valueOf(65537);
    private static final int MAX_CACHED = 10_000;
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

    private final String issuer;
    private final byte[] secret;
    private final UserStore users;
    private final Clock clock;
    private final long lifetime;
    private final long period;
    private final long grace;
    /** Key pairs by period index; a few at a time (previous, current, next). */
    private final Map<Long, KeyPair> keys = new ConcurrentHashMap<>();
    private final Map<String, Cached> assertions = new ConcurrentHashMap<>();
    private volatile Jwks jwks;

    /**
     * @param issuer   our issuer ({@code iss})
     * @param secret   the shared secret the keys derive from (32 random bytes, {@code Stores.sharedKey(KEY_NAME)})
     * @param users    where e-mail addresses are looked up; null to use the username only
     * @param lifetime how long an assertion is valid (at most five minutes)
     * @param period   how long each key signs before the next one takes over
     * @param grace    how long the previous key stays published after a rotation (and the next one before it);
     *                 at least {@code lifetime}, less than half the {@code period}
     */
    public IdentityJwt(String issuer, byte[] secret, UserStore users, Clock clock, Duration lifetime, Duration period, Duration grace) {
        this.issuer = Objects.requireNonNull(issuer);
        if (secret == null || secret.length < 16) throw new IllegalArgumentException("the identity key secret needs at least 16 bytes");
        this.secret = secret.clone();
        this.users = users;
        this.clock = Objects.requireNonNull(clock);
        if (lifetime.isNegative() || lifetime.isZero() || lifetime.compareTo(MAX_LIFETIME) > 0) {
            throw new IllegalArgumentException("an identity assertion lives between 1 second and 5 minutes, not " + lifetime);
        }
        if (grace.compareTo(lifetime) < 0 || grace.multipliedBy(2).compareTo(period) >= 0) {
            throw new IllegalArgumentException("the key grace period must be at least the assertion lifetime and less than half the rotation period");
        }
        this.lifetime = lifetime.toSeconds();
        this.period = period.toSeconds();
        this.grace = grace.toSeconds();
    }

    /** With the settings {@code IDENTITY_JWT_TTL}, {@code IDENTITY_JWT_KEY_ROTATION} and {@code IDENTITY_JWT_KEY_GRACE}. */
    public static IdentityJwt from(io.mcpoauth.config.Settings settings, byte[] secret, UserStore users, Clock clock) {
        return new IdentityJwt(settings.issuer, secret, users, clock, settings.identityJwtTtl, settings.identityJwtKeyRotation,
                settings.identityJwtKeyGrace);
    }

    /**
     * A signed assertion that {@code caller} is calling the upstream {@code audience} (its configured URL, or
     * {@code mcp-server:NAME} for a stdio server). Fits {@code resource.gateway.IdentityAssertions}.
     */
    public String assertion(AuthContext caller, String audience) {
        Objects.requireNonNull(caller, "caller");
        if (audience == null || audience.isBlank()) throw new IllegalArgumentException("an identity assertion needs an audience");
        long now = clock.instant().getEpochSecond();
        String scope = String.join(" ", caller.scopes());
        String cacheKey = audience + '\n' + caller.userId() + '\n' + caller.username() + '\n' + caller.clientId() + '\n' + scope;
        Cached hit = assertions.get(cacheKey);
        if (hit != null && hit.expires - now > lifetime / 2 && hit.issued <= now) return hit.jwt;
        String jwt = sign(caller, audience, scope, now);
        if (assertions.size() >= MAX_CACHED) assertions.clear();
        assertions.put(cacheKey, new Cached(jwt, now, now + lifetime));
        return jwt;
    }

    private String sign(AuthContext caller, String audience, String scope, long now) {
        KeyPair key = key(Math.floorDiv(now, period));
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("alg", ALG);
        header.put("kid", key.kid);
        header.put("typ", "JWT");
        Map<String, Object> claims = new LinkedHashMap<>();
        claims.put("iss", issuer);
        claims.put("aud", audience);
        claims.put("sub", caller.userId());
        claims.put("iat", now);
        claims.put("nbf", now);
        claims.put("exp", now + lifetime);
        claims.put("jti", Secrets.randomString(16));
        if (caller.username() != null) claims.put("username", caller.username());
        String email = email(caller);
        if (email != null) claims.put("email", email);
        if (caller.clientId() != null) claims.put("client_id", caller.clientId());
        claims.put("scope", scope);
        String signingInput = B64.encodeToString(Web.jsonBytes(header)) + '.' + B64.encodeToString(Web.jsonBytes(claims));
        try {
            Signature s = Signature.getInstance("SHA256withRSA");
            s.initSign(key.privateKey);
            s.update(signingInput.getBytes(StandardCharsets.US_ASCII));
            return signingInput + '.' + B64.encodeToString(s.sign());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("RS256 signing failed", e);
        }
    }

    private String email(AuthContext caller) {
        if (users != null && caller.userId() != null) {
            UserRecord u = users.get(caller.userId());
            if (u != null && u.email() != null && !u.email().isBlank()) return u.email();
        }
        String name = caller.username();
        if (name != null && EMAIL.matcher(name).matches()) return name;
        return null;
    }

    /** The JWK Set document, {@code {"keys": [...]}}: the keys an assertion may be signed with now or soon. */
    public byte[] jwksDocument() {
        long now = clock.instant().getEpochSecond();
        long current = Math.floorDiv(now, period);
        long into = now - current * period;
        long first = into < grace ? current - 1 : current;
        long last = period - into <= grace ? current + 1 : current;
        Jwks cached = jwks;
        if (cached != null && cached.first == first && cached.last == last) return cached.document;
        List<Map<String, Object>> list = new ArrayList<>();
        for (long i = last; i >= first; i--) list.add(key(i).jwk); // the newest first
        byte[] document = Web.jsonBytes(Map.of("keys", list));
        jwks = new Jwks(first, last, document);
        keys.keySet().removeIf(i -> i < first - 1 || i > last + 1);
        return document;
    }

    /** The key id that signs at this moment (RFC 7638 thumbprint). */
    public String currentKid() {
        return key(Math.floorDiv(clock.instant().getEpochSecond(), period)).kid;
    }

    /**
     * Derives the keys of the periods around now on a thread of its own (about a second of CPU: prime searches), so
     * that neither the start nor the first call waits for it.
     */
    public IdentityJwt warm() {
        Thread t = new Thread(this::jwksDocument, "identity-jwt-keys");
        t.setDaemon(true);
        t.setPriority(Thread.MIN_PRIORITY);
        t.start();
        return this;
    }

    /** {@code GET /.well-known/jwks.json}: public, cacheable for five minutes, readable by browser pages. */
    public void routes(JavalinConfig config) {
        MetadataEndpoints.allowBrowsers(config, JWKS_PATH, "GET, OPTIONS");
        config.routes.get(JWKS_PATH, ctx -> {
            ctx.header("Cache-Control", "public, max-age=300");
            ctx.status(200).contentType("application/jwk-set+json").result(jwksDocument());
        });
    }

    private KeyPair key(long index) {
        return keys.computeIfAbsent(index, this::derive);
    }

    // ---- deterministic RSA key pairs ----

    private KeyPair derive(long index) {
        byte[] seed = hmac(secret, ("identity-jwt RS256 period " + index).getBytes(StandardCharsets.US_ASCII));
        BigInteger p = prime(seed, "p");
        BigInteger q = prime(seed, "q");
        if (p.equals(q)) throw new IllegalStateException("derived identical primes");
        if (p.compareTo(q) < 0) {
            BigInteger t = p;
            p = q;
            q = t;
        }
        BigInteger n = p.multiply(q);
        BigInteger p1 = p.subtract(BigInteger.ONE);
        BigInteger q1 = q.subtract(BigInteger.ONE);
        BigInteger lambda = p1.divide(p1.gcd(q1)).multiply(q1);
        BigInteger d = E.modInverse(lambda);
        try {
            KeyFactory kf = KeyFactory.getInstance("RSA");
            PrivateKey priv = kf.generatePrivate(new RSAPrivateCrtKeySpec(n, E, d, p, q, d.mod(p1), d.mod(q1), q.modInverse(p)));
            RSAPublicKey pub = (RSAPublicKey) kf.generatePublic(new RSAPublicKeySpec(n, E));
            String nB64 = B64.encodeToString(unsigned(n));
            String eB64 = B64.encodeToString(unsigned(E));
            // RFC 7638: the required members in lexicographic order, no whitespace
            String thumbprintInput = "{\"e\":\"" + eB64 + "\",\"kty\":\"RSA\",\"n\":\"" + nB64 + "\"}";
            String kid = B64.encodeToString(Secrets.sha256(thumbprintInput.getBytes(StandardCharsets.US_ASCII)));
            Map<String, Object> jwk = new LinkedHashMap<>();
            jwk.put("kty", "RSA");
            jwk.put("use", "sig");
            jwk.put("alg", ALG);
            jwk.put("kid", kid);
            jwk.put("n", nB64);
            jwk.put("e", eB64);
            return new KeyPair(kid, priv, pub, java.util.Collections.unmodifiableMap(jwk));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("RSA key construction failed", e);
        }
    }

    /** The first prime at or above a 1024-bit number (top two bits set) expanded from {@code seed}, with gcd(e, p-1) = 1. */
    private static BigInteger prime(byte[] seed, String label) {
        byte[] bytes = new byte[128];
        for (int block = 0; block < 4; block++) {
            byte[] chunk = hmac(seed, (label + ":" + block).getBytes(StandardCharsets.US_ASCII));
            System.arraycopy(chunk, 0, bytes, block * 32, 32);
        }
        BigInteger candidate = new BigInteger(1, bytes).setBit(1023).setBit(1022);
        while (true) {
            BigInteger p = candidate.nextProbablePrime();
            if (p.bitLength() != 1024) throw new IllegalStateException("no 1024-bit prime above the derived start");
            if (!p.mod(E).equals(BigInteger.ONE)) return p;
            candidate = p.add(BigInteger.ONE);
        }
    }

    private static byte[] hmac(byte[] key, byte[] data) {
        return io.mcpoauth.core.Hmac.sha256(key, data);
    }

    private static byte[] unsigned(BigInteger v) {
        byte[] b = v.toByteArray();
        if (b[0] != 0) return b;
        byte[] out = new byte[b.length - 1];
        System.arraycopy(b, 1, out, 0, out.length);
        return out;
    }

    private record KeyPair(String kid, PrivateKey privateKey, RSAPublicKey publicKey, Map<String, Object> jwk) {}

    private record Cached(String jwt, long issued, long expires) {}

    private record Jwks(long first, long last, byte[] document) {}
}
