package io.mcpoauth.login;

import io.mcpoauth.core.AddressKey;
import io.mcpoauth.core.Events;
import io.mcpoauth.core.RateLimiter;
import io.mcpoauth.core.Ticker;
import io.mcpoauth.store.UserRecord;
import io.mcpoauth.store.UserStore;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The one password sign-in of the server: {@code POST /login} (the authorization flow) and
 * {@code POST /account/signin} both call {@link #signIn}, so they share one set of limits, write one {@code sign_in}
 * audit event and count in one metric. In order:
 * <ol>
 *   <li>the address limit ({@link #ADDRESS_PERMITS} per {@link #WINDOW} per address, IPv6 by /64): refused,
 *       nothing else is charged;</li>
 *   <li>the limit per user name and address ({@link #USER_ADDRESS_PERMITS} per window): guessing one user's password
 *       is slowed, but only for the address guessing, so strangers cannot lock the user out;</li>
 *   <li>a ceiling per user name over every address ({@link #USER_CEILING} wrong passwords per window): once reached,
 *       only addresses this user signed in from recently may keep trying (within their own limits);</li>
 *   <li>the hash itself, through {@link HashGate}: about one per core at once, and one address has at most one
 *       running or waiting (so an address's burst is one hash, and it can never take the capacity others need);
 *       when full, 503 at once.</li>
 * </ol>
 * Elapsed time is measured on a monotonic {@link Ticker}.
 */
public final class PasswordSignIn {
    public static final Duration WINDOW = Duration.ofMinutes(15);
    public static final int ADDRESS_PERMITS = 30;
    public static final int ADDRESS_BURST = 30;
    public static final int USER_ADDRESS_PERMITS = 5;
    public static final int USER_CEILING = 50;
    /** Addresses remembered per user as "signed in from here recently". */
    static final int KNOWN_ADDRESSES_PER_USER = 8;
    static final int MAX_KEYS = 100_000;

    /** What happened; {@link Limited} and {@link Busy} carry the seconds for {@code Retry-After}. */
    public sealed interface Outcome {}

    public record Ok(UserRecord user) implements Outcome {}

    public record Wrong() implements Outcome {}

    public record Limited(long retryAfterSeconds) implements Outcome {}

    public record Busy(long retryAfterSeconds) implements Outcome {}

    private final LocalAccounts accounts;
    private final UserStore users;
    private final Clock clock;
    private final HashGate gate;
    private final RateLimiter perAddress;
    private final RateLimiter perUserAddress;
    private final RateLimiter perUser;
    private final Map<String, Set<String>> knownAddresses = new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Set<String>> eldest) {
            return size() > MAX_KEYS;
        }
    };
    private volatile Events events = Events.NONE;

    public PasswordSignIn(LocalAccounts accounts, UserStore users, Clock clock, Ticker ticker) {
        this(accounts, users, clock, ticker, HashGate.perCore());
    }

    PasswordSignIn(LocalAccounts accounts, UserStore users, Clock clock, Ticker ticker, HashGate gate) {
        this.accounts = accounts;
        this.users = users;
        this.clock = clock;
        this.gate = gate;
        this.perAddress = new RateLimiter(ADDRESS_PERMITS, WINDOW, ADDRESS_BURST, MAX_KEYS, ticker);
        this.perUserAddress = new RateLimiter(USER_ADDRESS_PERMITS, WINDOW, USER_ADDRESS_PERMITS, MAX_KEYS, ticker);
        this.perUser = new RateLimiter(USER_CEILING, WINDOW, USER_CEILING, MAX_KEYS, ticker);
    }

    public PasswordSignIn events(Events events) {
        this.events = events == null ? Events.NONE : events;
        return this;
    }

    /**
     * One attempt to sign in with a password from {@code address} (the client address, before keying), on behalf of
     * {@code clientId} (null for the account page). Reports the attempt as one {@code sign_in} event.
     */
    public Outcome signIn(String username, char[] password, String address, String clientId) {
        String name = username.strip().toLowerCase(Locale.ROOT);
        String addressKey = AddressKey.of(address);
        String userAddress = name + "\n" + addressKey;
        RateLimiter.Decision d = perAddress.tryAcquire(addressKey);
        if (d.allowed()) d = perUserAddress.tryAcquire(userAddress);
        if (d.allowed()) {
            RateLimiter.Decision ceiling = perUser.check(name);
            if (!ceiling.allowed() && !known(name, addressKey)) d = ceiling;
        }
        if (!d.allowed()) {
            events.signIn(localId(name), clientId, false, "rate_limited");
            return new Limited(d.retryAfterSeconds());
        }
        UserRecord[] verified = new UserRecord[1];
        Boolean done = gate.run(addressKey, () -> {
            verified[0] = accounts.verify(name, password);
            return Boolean.TRUE;
        });
        if (done == null) {
            events.signIn(localId(name), clientId, false, "busy");
            return new Busy(1);
        }
        UserRecord user = verified[0];
        if (user == null) {
            perUser.tryAcquire(name);
            String id = localId(name);
            events.signIn(id, clientId, false, id != null ? "wrong_password" : "unknown_user");
            return new Wrong();
        }
        perUserAddress.reset(userAddress);
        remember(name, addressKey);
        LastLogin.touch(users, user.userId(), clock.instant());
        events.signIn(user.userId(), clientId, true, null);
        return new Ok(user);
    }

    private String localId(String name) {
        return users.get(UserRecord.localId(name)) == null ? null : UserRecord.localId(name);
    }

    private synchronized boolean known(String name, String addressKey) {
        Set<String> s = knownAddresses.get(name);
        return s != null && s.contains(addressKey);
    }

    private synchronized void remember(String name, String addressKey) {
        Set<String> s = knownAddresses.computeIfAbsent(name, k -> new LinkedHashSet<>());
        s.remove(addressKey);
        s.add(addressKey);
        if (s.size() > KNOWN_ADDRESSES_PER_USER) s.remove(s.iterator().next());
    }
}
