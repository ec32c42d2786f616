// An OAuthClientProvider (@modelcontextprotocol/sdk 1.32) that keeps its state in a JSON file and
// "is the user": redirectToAuthorization() signs in and consents over plain HTTP.
// Never logs or prints tokens.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, renameSync, existsSync } from 'node:fs';
import { CookieJar, jarFetch, parseForms } from './http.mjs';

export const DEFAULT_REDIRECT_URL = 'http://127.0.0.1:33418/oauth/callback';

/**
 * options:
 *   file            JSON file for client information, tokens, code verifier (created on demand)
 *   username, password   used when the login page is shown
 *   decision        'allow' | 'deny' (value posted as decision=...)
 *   redirectUrl     default DEFAULT_REDIRECT_URL (nothing listens there; we read the Location)
 *   clientMetadata  overrides merged over the defaults (client_name, redirect_uris, grant_types,
 *                   response_types, token_endpoint_auth_method, scope, ...)
 *   cookieJar       share one CookieJar between providers to model one browser
 *   maxSteps        bound on pages/redirects per authorization (default 20)
 */
export class FileOAuthProvider {
  constructor({
    file, username, password, decision = 'allow', redirectUrl = DEFAULT_REDIRECT_URL,
    clientMetadata = {}, cookieJar = new CookieJar(), maxSteps = 20,
  }) {
    if (!file) throw new Error('FileOAuthProvider: file is required');
    Object.assign(this, { file, username, password, decision, cookieJar, maxSteps });
    this._redirectUrl = redirectUrl;
    this._clientMetadata = {
      client_name: 'mcp-oauth-server e2e client',
      redirect_uris: [redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      ...clientMetadata,
    };
    this.resetCounters();
  }

  /** Counters for assertions such as "no sign-in, no consent after a restart". */
  resetCounters() {
    this.counters = { authorizations: 0, loginPages: 0, consentPages: 0, registrations: 0, tokenSaves: 0, invalidations: [] };
    this.pages = [];              // [{ kind: 'login'|'consent', url, status, headers }]
    this.redirects = [];          // [{ method, status, from }] e.g. to assert 303 after POST
    this.lastHtml = undefined;    // body of the last login/consent page
    this.lastRedirect = undefined; // { code, state, iss, error, error_description, expectedState }
    this.authorizationCode = undefined;
  }

  // ---- persistence ----
  #read() {
    if (!existsSync(this.file)) return {};
    return JSON.parse(readFileSync(this.file, 'utf8'));
  }
  #write(patch) {
    const data = { ...this.#read(), ...patch };
    for (const k of Object.keys(data)) if (data[k] === undefined) delete data[k];
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(data, null, 2), { mode: 0o600 });
    renameSync(tmp, this.file);
  }
  /** Raw stored state (for assertions; do not print it). */
  stored() { return this.#read(); }

  // ---- OAuthClientProvider ----
  get redirectUrl() { return this._redirectUrl; }
  get clientMetadata() { return this._clientMetadata; }
  state() {
    this._state = randomBytes(16).toString('base64url');
    return this._state;
  }
  clientInformation() { return this.#read().clientInformation; }
  saveClientInformation(info) { this.counters.registrations++; this.#write({ clientInformation: info }); }
  tokens() { return this.#read().tokens; }
  saveTokens(tokens) { this.counters.tokenSaves++; this.#write({ tokens }); }
  saveCodeVerifier(codeVerifier) { this.#write({ codeVerifier }); }
  codeVerifier() {
    const v = this.#read().codeVerifier;
    if (!v) throw new Error('no code verifier saved');
    return v;
  }
  invalidateCredentials(scope) {
    this.counters.invalidations.push(scope);
    if (scope === 'all') this.#write({ clientInformation: undefined, tokens: undefined, codeVerifier: undefined });
    else if (scope === 'client') this.#write({ clientInformation: undefined });
    else if (scope === 'tokens') this.#write({ tokens: undefined });
    else if (scope === 'verifier') this.#write({ codeVerifier: undefined });
  }

  /** Plays the user: follows the server's pages until it redirects to our redirect URI. */
  async redirectToAuthorization(authorizationUrl) {
    this.counters.authorizations++;
    this.authorizationCode = undefined;
    this.lastRedirect = undefined;
    const target = new URL(this._redirectUrl);
    let url = new URL(authorizationUrl).href;
    let method = 'GET';
    let res = await jarFetch(this.cookieJar, url);
    let posted; // kind of the form we just submitted: the same page again means it was rejected
    for (let step = 0; step < this.maxSteps; step++) {
      if (res.status >= 300 && res.status < 400) {
        this.redirects.push({ method, status: res.status, from: stripQuery(url) });
        const loc = res.headers.get('location');
        await res.arrayBuffer();
        if (!loc) throw new Error(`${res.status} without Location from ${stripQuery(url)}`);
        const next = new URL(loc, url);
        if (next.origin === target.origin && next.pathname === target.pathname) {
          return this.#captureRedirect(next, res.status);
        }
        url = next.href;
        method = 'GET';
        res = await jarFetch(this.cookieJar, url);
        continue;
      }
      const html = await res.text();
      if (res.status !== 200) {
        this.lastHtml = html;
        throw new Error(`authorization: HTTP ${res.status} at ${stripQuery(url)}: ${snippet(html)}`);
      }
      const forms = parseForms(html, url);
      const login = forms.find((f) => f.inputs.some((i) => i.name === 'password'));
      const consent = forms.filter((f) => f.submits.some((s) => s.name === 'decision'));
      const kind = login ? 'login' : consent.length ? 'consent' : undefined;
      if (kind && kind === posted) {
        this.#page(kind, url, res, html);
        throw new Error(`authorization: ${kind} form shown again after submitting it: ${snippet(html)}`);
      }
      posted = kind;
      let form, body;
      if (login) {
        this.#page('login', url, res, html);
        if (this.username === undefined || this.password === undefined) throw new Error('login page shown but no username/password configured');
        form = login;
        body = new URLSearchParams(form.fields.filter(([n]) => n !== 'username' && n !== 'password'));
        body.set('username', this.username);
        body.set('password', this.password);
        const submit = form.submits[0]; // a named submit button is sent as a browser would
        if (submit) body.append(submit.name, submit.value);
      } else if (consent.length) {
        this.#page('consent', url, res, html);
        form = consent.find((f) => f.submits.some((s) => s.name === 'decision' && s.value === this.decision));
        if (!form) throw new Error(`consent page has no decision=${this.decision} button`);
        body = new URLSearchParams(form.fields);
        body.append('decision', this.decision);
      } else {
        throw new Error(`authorization: unexpected page at ${stripQuery(url)} (no login or consent form): ${snippet(html)}`);
      }
      const pageOrigin = new URL(url).origin; // a browser sends the page's Origin with a form POST
      url = form.action;
      method = form.method;
      res = method === 'GET'
        ? await jarFetch(this.cookieJar, Object.assign(new URL(url), { search: body.toString() }).href)
        : await jarFetch(this.cookieJar, url, {
          method,
          headers: { 'content-type': 'application/x-www-form-urlencoded', origin: pageOrigin },
          body: body.toString(),
        });
    }
    throw new Error(`authorization: no redirect to ${target.href} within ${this.maxSteps} steps`);
  }

  #page(kind, url, res, html) {
    this.counters[kind === 'login' ? 'loginPages' : 'consentPages']++;
    this.pages.push({ kind, url, status: res.status, headers: Object.fromEntries(res.headers) });
    this.lastHtml = html;
  }

  #captureRedirect(loc, status) {
    const p = loc.searchParams;
    const get = (k) => p.get(k) ?? undefined;
    this.lastRedirect = {
      status, code: get('code'), state: get('state'), iss: get('iss'),
      error: get('error'), error_description: get('error_description'), expectedState: this._state,
    };
    if (this._state !== undefined && this.lastRedirect.state !== this._state) {
      throw new Error('authorization: state in the redirect does not match the one sent');
    }
    this.authorizationCode = this.lastRedirect.code; // undefined on error=...
  }
}

function stripQuery(u) { const x = new URL(u); return x.origin + x.pathname; }
function snippet(html) { return html.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300); }
