package io.mcpoauth.core;

/** Turns a presented bearer token (access token or API key) into the caller, or null when it must be refused. */
@FunctionalInterface
public interface BearerAuthenticator {
    /**
     * @param token the token exactly as sent after "Bearer "
     * @return the caller; null when the token is unknown, expired, revoked or issued for another resource
     */
    AuthContext authenticate(String token);
}
