package io.mcpoauth.idp;

import java.net.URI;
import java.time.Duration;

/** Where a signed-in user's profile at the identity provider is read from (the provider's userinfo endpoint). */
public record ProfileEndpoint(String provider, String displayName, URI userinfoUrl, String accept, Duration timeout) {}
