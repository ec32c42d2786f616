// Small "browser over fetch" helpers: a cookie jar and a generic HTML form parser.

/** Minimal cookie jar: name=value per host, honours Path, Max-Age=0 and past Expires. */
export class CookieJar {
  #cookies = new Map(); // key host|path|name -> { name, value, path, host }

  /** Stores every Set-Cookie of `res` (a fetch Response) received from `url`. */
  store(url, res) {
    const host = new URL(url).host;
    for (const line of res.headers.getSetCookie?.() ?? []) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim(), value = pair.slice(eq + 1).trim();
      let cpath = '/', expired = false;
      for (const a of attrs) {
        const [k, v = ''] = a.split('=').map((s) => s.trim());
        const key = k.toLowerCase();
        if (key === 'path' && v.startsWith('/')) cpath = v;
        if (key === 'max-age' && Number(v) <= 0) expired = true;
        if (key === 'expires' && Date.parse(v) < Date.now()) expired = true;
      }
      const id = `${host}|${cpath}|${name}`;
      if (expired) this.#cookies.delete(id);
      else this.#cookies.set(id, { name, value, path: cpath, host });
    }
  }

  /** The Cookie header value for `url`, or undefined. */
  header(url) {
    const u = new URL(url);
    const parts = [...this.#cookies.values()]
      .filter((c) => c.host === u.host && (u.pathname === c.path || u.pathname.startsWith(c.path.endsWith('/') ? c.path : c.path + '/')))
      .map((c) => `${c.name}=${c.value}`);
    return parts.length ? parts.join('; ') : undefined;
  }

  /** All cookies (for assertions), e.g. [{ name, value, path, host }]. */
  list() { return [...this.#cookies.values()]; }
  clear() { this.#cookies.clear(); }
}

/** fetch() that never follows redirects and uses/updates `jar`. */
export async function jarFetch(jar, url, init = {}) {
  const headers = new Headers(init.headers);
  const cookie = jar?.header(url);
  if (cookie) headers.set('cookie', cookie);
  const res = await fetch(url, { ...init, headers, redirect: 'manual' });
  jar?.store(url, res);
  return res;
}

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };
export function decodeEntities(s) {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e) => {
    if (e[0] === '#') return String.fromCodePoint(e[1].toLowerCase() === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

function attrs(tag) {
  const out = {};
  const re = /([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?/g;
  const body = tag.replace(/^<\s*[a-z]+/i, '');
  for (const m of body.matchAll(re)) out[m[1].toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
  return out;
}

/**
 * Every <form> in `html`: { action (absolute URL), method, fields: [[name, value]] (what a browser
 * would submit without clicking: hidden/text/password inputs, checked boxes, textareas),
 * submits: [{ name, value }] (buttons and submit inputs), inputs: [attribute objects] }.
 */
export function parseForms(html, baseUrl) {
  const forms = [];
  for (const m of html.matchAll(/<form\b[^>]*>([\s\S]*?)<\/form\s*>/gi)) {
    const fa = attrs(m[0].slice(0, m[0].indexOf('>') + 1));
    const inner = m[1];
    const fields = [], submits = [], inputs = [];
    for (const t of inner.matchAll(/<input\b[^>]*>/gi)) {
      const a = attrs(t[0]);
      inputs.push(a);
      const type = (a.type ?? 'text').toLowerCase();
      if (!a.name || 'disabled' in a) continue;
      if (type === 'submit' || type === 'image') submits.push({ name: a.name, value: a.value ?? '' });
      else if (type === 'checkbox' || type === 'radio') { if ('checked' in a) fields.push([a.name, a.value ?? 'on']); }
      else if (type !== 'button' && type !== 'reset' && type !== 'file') fields.push([a.name, a.value ?? '']);
    }
    for (const t of inner.matchAll(/<button\b[^>]*>/gi)) {
      const a = attrs(t[0]);
      const type = (a.type ?? 'submit').toLowerCase();
      if (type === 'submit' && a.name && !('disabled' in a)) submits.push({ name: a.name, value: a.value ?? '' });
    }
    for (const t of inner.matchAll(/<textarea\b([^>]*)>([\s\S]*?)<\/textarea>/gi)) {
      const a = attrs(`<textarea${t[1]}>`);
      if (a.name) fields.push([a.name, decodeEntities(t[2])]);
    }
    forms.push({
      action: new URL(fa.action || baseUrl, baseUrl).href,
      method: (fa.method ?? 'get').toUpperCase(),
      fields, submits, inputs,
    });
  }
  return forms;
}
