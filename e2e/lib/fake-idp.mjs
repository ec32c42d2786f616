// A tiny OpenID Connect provider for the e2e tests (node:http, loopback, auto-approves).
// Serves discovery, /authorize (redirects straight back with a code for `idp.user`), /token
// (authorization_code with PKCE and client authentication, refresh_token with rotation) and
// /userinfo. Records every request with its Authorization header, so a test can check that none
// of the server's own tokens ever reached the provider. Never prints a token.
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';

const rand = (n = 24) => randomBytes(n).toString('base64url');

/**
 * Starts the provider on a free loopback port. Options: clientId, clientSecret, expiresIn
 * (seconds, for its access tokens). Returns { url, clientId, clientSecret, user, expiresIn,
 * seen: [{ method, path, authorization, query, form }], issued: [tokens], refreshCalls, stop() }.
 * Set `idp.user = { sub, email, name }` before an authorization to choose who signs in.
 */
export async function startFakeIdp({ clientId = 'e2e-oidc-client', clientSecret = `e2e-secret-${rand(8)}`, expiresIn = 3600 } = {}) {
  const codes = new Map();
  const access = new Map();
  const refresh = new Map();
  const idp = {
    url: '', clientId, clientSecret, expiresIn,
    user: { sub: 'alice-sub', email: 'alice@example.com', name: 'Alice' },
    seen: [], issued: [], refreshCalls: 0,
  };

  const json = (res, status, body, headers = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
    res.end(JSON.stringify(body));
  };
  const tokenError = (res, status, error) => json(res, status, { error, error_description: error });

  const clientOk = (req, form) => {
    const h = req.headers.authorization;
    if (h?.startsWith('Basic ')) {
      const [id, secret] = Buffer.from(h.slice(6), 'base64').toString('utf8').split(':').map(decodeURIComponent);
      return id === clientId && secret === clientSecret;
    }
    return form.get('client_id') === clientId && form.get('client_secret') === clientSecret;
  };

  const issue = (res, user, { nonce, withIdToken }) => {
    const at = `idp-at-${rand()}`;
    const rt = `idp-rt-${rand()}`;
    access.set(at, user);
    refresh.set(rt, user);
    idp.issued.push(at, rt);
    const body = { access_token: at, token_type: 'Bearer', expires_in: idp.expiresIn, refresh_token: rt, scope: 'openid email profile offline_access' };
    if (withIdToken) {
      const now = Math.floor(Date.now() / 1000);
      const claims = { iss: idp.url, aud: clientId, sub: user.sub, iat: now, exp: now + 600, email: user.email, ...(nonce ? { nonce } : {}) };
      body.id_token = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
    }
    json(res, 200, body);
  };

  const server = http.createServer(async (req, res) => {
    const u = new URL(req.url, idp.url);
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const form = new URLSearchParams(req.method === 'POST' ? raw : '');
    idp.seen.push({
      method: req.method, path: u.pathname, authorization: req.headers.authorization,
      query: Object.fromEntries(u.searchParams), form: Object.fromEntries(form),
    });
    try {
      if (req.method === 'GET' && u.pathname === '/.well-known/openid-configuration') {
        return json(res, 200, {
          issuer: idp.url,
          authorization_endpoint: `${idp.url}/authorize`,
          token_endpoint: `${idp.url}/token`,
          userinfo_endpoint: `${idp.url}/userinfo`,
          jwks_uri: `${idp.url}/jwks`,
          response_types_supported: ['code'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'],
          scopes_supported: ['openid', 'email', 'profile', 'offline_access'],
          code_challenge_methods_supported: ['S256'],
          token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        });
      }
      if (req.method === 'GET' && u.pathname === '/authorize') {
        const q = u.searchParams;
        const redirect = q.get('redirect_uri');
        if (q.get('client_id') !== clientId || !redirect) { res.writeHead(400); return res.end('unknown client'); }
        const code = `idp-code-${rand(16)}`;
        codes.set(code, { user: { ...idp.user }, redirect, challenge: q.get('code_challenge'), nonce: q.get('nonce') });
        const back = new URL(redirect);
        back.searchParams.set('code', code);
        if (q.get('state')) back.searchParams.set('state', q.get('state'));
        res.writeHead(302, { location: back.href });
        return res.end();
      }
      if (req.method === 'POST' && u.pathname === '/token') {
        if (!clientOk(req, form)) return tokenError(res, 401, 'invalid_client');
        const grant = form.get('grant_type');
        if (grant === 'authorization_code') {
          const c = codes.get(form.get('code'));
          codes.delete(form.get('code'));
          if (!c || c.redirect !== form.get('redirect_uri')) return tokenError(res, 400, 'invalid_grant');
          if (c.challenge) {
            const v = form.get('code_verifier') ?? '';
            if (createHash('sha256').update(v).digest('base64url') !== c.challenge) return tokenError(res, 400, 'invalid_grant');
          }
          return issue(res, c.user, { nonce: c.nonce, withIdToken: true });
        }
        if (grant === 'refresh_token') {
          idp.refreshCalls++;
          const user = refresh.get(form.get('refresh_token'));
          refresh.delete(form.get('refresh_token'));
          if (!user) return tokenError(res, 400, 'invalid_grant');
          return issue(res, user, { withIdToken: false });
        }
        return tokenError(res, 400, 'unsupported_grant_type');
      }
      if (req.method === 'GET' && u.pathname === '/userinfo') {
        const h = req.headers.authorization ?? '';
        const user = h.startsWith('Bearer ') ? access.get(h.slice(7)) : undefined;
        if (!user) { res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }); return res.end(); }
        return json(res, 200, { sub: user.sub, email: user.email, email_verified: true, name: user.name });
      }
      res.writeHead(404);
      res.end();
    } catch (e) {
      res.writeHead(500);
      res.end(String(e?.message ?? e));
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  idp.url = `http://127.0.0.1:${server.address().port}`;
  idp.stop = () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); });
  return idp;
}
