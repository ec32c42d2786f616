package io.mcpoauth.login;

import io.mcpoauth.store.UserRecord;
import io.mcpoauth.store.UserStore;
import java.time.Instant;
import java.util.Locale;
import java.util.regex.Pattern;

/** Local users: names, PBKDF2 password hashes in {@code users.json}, and the password check of the login form. */
public final class LocalAccounts {
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._@-]{0,63}");

    private final UserStore users;
    private final PasswordHasher hasher;

    public LocalAccounts(UserStore users, PasswordHasher hasher) {
        this.users = users;
        this.hasher = hasher;
    }

    /** A problem with a local account request, worded for the person at the terminal or the form. */
    public static final class AccountException extends RuntimeException {
        public AccountException(String message) {
            super(message, null, false, false);
        }
    }

    /** Lower-cases and checks a user name; throws with a sentence when it is not acceptable. */
    public static String normalizeName(String name) {
        String n = name == null ? "" : name.strip().toLowerCase(Locale.ROOT);
        if (!NAME.matcher(n).matches()) {
            throw new AccountException("User names are 1-64 characters: letters, digits, '.', '_', '@' or '-', starting with a letter or digit.");
        }
        return n;
    }

    public UserRecord add(String name, char[] password, Instant now) {
        String n = normalizeName(name);
        checkPolicy(password);
        UserRecord u = new UserRecord(UserRecord.localId(n), n, "local", n, null, null, null, toRecord(hasher.hash(password)), now, null);
        if (!users.add(u)) throw new AccountException("A user named '" + n + "' already exists.");
        return u;
    }

    public void setPassword(String name, char[] password) {
        String n = normalizeName(name);
        checkPolicy(password);
        UserRecord u = users.get(UserRecord.localId(n));
        if (u == null) throw new AccountException("There is no local user named '" + n + "'.");
        UserRecord.Password hashed = toRecord(hasher.hash(password));
        while (!users.replace(u, u.withPassword(hashed))) { // changed meanwhile (a sign-in time): apply to the newer record
            u = users.get(UserRecord.localId(n));
            if (u == null) throw new AccountException("There is no local user named '" + n + "'.");
        }
    }

    /** The user when the name and password match, else null. Takes about as long either way. */
    public UserRecord verify(String name, char[] password) {
        UserRecord u = name == null ? null : users.get(UserRecord.localId(name.strip()));
        if (u == null || u.password() == null) {
            hasher.verifyDummy(password);
            return null;
        }
        PasswordHasher.PasswordHash stored = fromRecord(u.password());
        if (!hasher.verify(password, stored)) return null;
        if (hasher.needsRehash(stored)) users.replace(u, u.withPassword(toRecord(hasher.hash(password)))); // lost to a concurrent change: done at the next sign-in
        return u;
    }

    private static void checkPolicy(char[] password) {
        String problem = PasswordPolicy.check(new String(password));
        if (problem != null) throw new AccountException(problem);
    }

    static UserRecord.Password toRecord(PasswordHasher.PasswordHash h) {
        return new UserRecord.Password(h.algorithm(), h.iterations(), h.salt(), h.hash());
    }

    static PasswordHasher.PasswordHash fromRecord(UserRecord.Password p) {
        return new PasswordHasher.PasswordHash(p.algorithm(), p.iterations(), p.salt(), p.hash());
    }
}
