// Loopback HTTP proxy that adds `Authorization: Bearer <token>` to every request, for the
// conformance suite (its server mode cannot send a token). Bodies and responses are streamed
// (text/event-stream included).
//
// Host/Origin: a Host naming the proxy itself (127.0.0.1:<proxy port> or localhost:<proxy port>)
// is rewritten to the target's host, and likewise an Origin of the proxy's own origin, so that
// legitimate requests look as if sent to the server directly. Any other Host/Origin (e.g.
// evil.example.com) is forwarded unchanged, so DNS-rebinding checks still see it.
import http from 'node:http';

const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization',
  'transfer-encoding', 'upgrade', 'te', 'trailer']);

function strip(headers) {
  const out = {};
  for (const [k, v] of Object.entries(headers)) if (!HOP.has(k.toLowerCase())) out[k] = v;
  return out;
}

/** startBearerProxy({ target: 'http://127.0.0.1:8080', token, port? }) -> { url, port, requests, close() } */
export async function startBearerProxy({ target, token, port = 0, rewriteSelfHost = true }) {
  const t = new URL(target);
  let selfHosts = new Set();
  const requests = []; // [{ method, url, host, status }] for debugging; no headers (token)

  const server = http.createServer((req, res) => {
    const headers = strip(req.headers);
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    if (rewriteSelfHost && selfHosts.has(String(req.headers.host).toLowerCase())) {
      headers.host = t.host;
      const o = String(req.headers.origin ?? '').toLowerCase();
      if (o && selfHosts.has(o.replace(/^https?:\/\//, ''))) headers.origin = t.origin;
    }
    const entry = { method: req.method, url: req.url, host: req.headers.host, status: 0 };
    requests.push(entry);
    const up = http.request({
      protocol: t.protocol, hostname: t.hostname, port: t.port, method: req.method,
      path: req.url, headers, setHost: false,
    }, (upRes) => {
      entry.status = upRes.statusCode;
      res.writeHead(upRes.statusCode, upRes.statusMessage, strip(upRes.headers));
      res.flushHeaders(); // SSE: let the client see the headers before the first event
      upRes.pipe(res);
      upRes.on('error', () => res.destroy());
    });
    up.on('error', (e) => {
      if (!res.headersSent) { res.writeHead(502, { 'content-type': 'text/plain' }); res.end(`bearer-proxy: ${e.message}\n`); }
      else res.destroy();
    });
    res.on('close', () => { if (!res.writableFinished) up.destroy(); }); // client went away
    req.pipe(up);
  });
  server.keepAliveTimeout = 1_000;

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const p = server.address().port;
  selfHosts = new Set([`127.0.0.1:${p}`, `localhost:${p}`]);
  return {
    url: `http://127.0.0.1:${p}`,
    port: p,
    requests,
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}
