// A real third-party authorization server for the connections tests: panva's oidc-provider (npm), not ours, on a
// loopback port, with its development login and consent pages (any login name; the account is that name), refresh
// tokens that rotate on every use (a used one is refused, and its whole grant revoked: reuse detection), revocation
// (RFC 7009) and userinfo (/me, the protected API: it answers for the token's subject only). Records what it did
// through its own events; never prints a token.
import Provider from 'oidc-provider';
import { randomBytes } from 'node:crypto';

/**
 * startConnectProvider({ port, redirectUri, accessTokenTtl }) -> { issuer, clientId, clientSecret, events, counts(),
 * holdRefreshAnswers(), releaseRefreshAnswers(), heldRefreshes, stop() }.
 * `events` lists { name, grantType, error } for token grants, revoked grants and destroyed (revoked) tokens.
 * holdRefreshAnswers(): a refresh is carried out (the old refresh token consumed, a new one saved) but its answer is
 * kept back until releaseRefreshAnswers(): what a caller sees when the answer is lost.
 */
export async function startConnectProvider({ port, redirectUri, accessTokenTtl = 3600 }) {
  const issuer = `http://127.0.0.1:${port}`;
  const clientId = 'mcp-connect-e2e';
  const clientSecret = randomBytes(24).toString('base64url');
  const events = [];
  let hold = null;
  let holdBefore = null;
  const state = { heldRefreshes: 0, heldRequests: 0 };
  const provider = new Provider(issuer, {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    async findAccount(_ctx, id) {
      return { accountId: id, async claims() { return { sub: id, email: `${id}@provider.example`, email_verified: true }; } };
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    scopes: ['openid', 'email', 'offline_access'],
    features: {
      devInteractions: { enabled: true },
      revocation: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
      introspection: { enabled: true },
    },
    rotateRefreshToken: () => true,
    ttl: { AccessToken: accessTokenTtl, AuthorizationCode: 60, IdToken: 3600, RefreshToken: 86400, Grant: 86400, Interaction: 600, Session: 86400 },
    cookies: { keys: [randomBytes(16).toString('hex')] },
  });
  provider.on('grant.success', (ctx) => events.push({ name: 'grant.success', grantType: ctx.oidc.params?.grant_type }));
  provider.on('grant.error', (ctx, err) => events.push({ name: 'grant.error', grantType: ctx.oidc.params?.grant_type, error: err.error }));
  provider.on('grant.revoked', () => events.push({ name: 'grant.revoked' }));
  provider.on('refresh_token.destroyed', () => events.push({ name: 'refresh_token.destroyed' }));
  provider.on('access_token.destroyed', () => events.push({ name: 'access_token.destroyed' }));
  provider.on('revocation.error', (_ctx, err) => events.push({ name: 'revocation.error', error: err.error }));
  provider.use(async (ctx, next) => {
    if (holdBefore && ctx.path === '/token' && ctx.method === 'POST') {
      // a refresh request that arrives but is never carried out (its caller is gone when it is let go)
      state.heldRequests++;
      await holdBefore.promise;
      ctx.status = 503;
      ctx.body = { error: 'temporarily_unavailable' };
      return;
    }
    await next();
    if (hold && ctx.path === '/token' && ctx.status === 200 && ctx.oidc?.params?.grant_type === 'refresh_token') {
      state.heldRefreshes++;
      await hold.promise;
    }
  });
  const server = await new Promise((resolve) => { const s = provider.listen(port, '127.0.0.1', () => resolve(s)); });
  return {
    issuer, clientId, clientSecret, events,
    get heldRefreshes() { return state.heldRefreshes; },
    get heldRequests() { return state.heldRequests; },
    /** Token requests are held before they are carried out, and then answered 503 without being carried out. */
    holdTokenRequests() { let release; const promise = new Promise((r) => { release = r; }); holdBefore = { promise, release }; },
    dropHeldTokenRequests() { const h = holdBefore; holdBefore = null; h?.release(); },
    /** Tokens destroyed by revocation (RFC 7009) and grants revoked. */
    revocations() { return this.count('refresh_token.destroyed') + this.count('access_token.destroyed') + this.count('grant.revoked'); },
    /** How many events of `name` (and grant type, when given). */
    count(name, grantType) { return events.filter((e) => e.name === name && (!grantType || e.grantType === grantType)).length; },
    holdRefreshAnswers() { let release; const promise = new Promise((r) => { release = r; }); hold = { promise, release }; },
    releaseRefreshAnswers() { const h = hold; hold = null; h?.release(); },
    async stop() {
      this.releaseRefreshAnswers();
      this.dropHeldTokenRequests();
      server.closeAllConnections?.();
      await new Promise((r) => server.close(() => r()));
    },
  };
}
