package io.mcpoauth.resource.gateway;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * The gateway's HTTP/1.1 client towards upstream MCP servers: blocking, on the caller's thread, with a bounded pool of
 * keep-alive connections per origin. One POST is written, its status line and headers read, and its body handed out as
 * a stream (Content-Length, chunked or to the end of the connection) that is read as it arrives, so an SSE answer is
 * streamed, not buffered. A connection goes back to the pool only when its body was read to the end and neither side
 * asked to close it.
 *
 * <p>Why not {@code java.net.http.HttpClient}: its asynchronous pipeline hands every request and response between
 * several threads (selector, executor, caller), which cost the gateway more CPU per call than the rest of the call
 * together; here a call is one write and a few reads on the thread that waits for it anyway.
 *
 * <p>A request that fails on a pooled connection before any byte of the response arrived (the upstream closed the idle
 * connection just as we reused it) is sent once more on a fresh connection; nothing else is retried.
 */
final class Http1Client implements AutoCloseable {
    static final int MAX_HEADER_BYTES = 64 * 1024;

    private final Duration connectTimeout;
    private final long idleNanos;
    private final int maxIdlePerOrigin;
    private final Map<String, ArrayDeque<Conn>> idle = new HashMap<>();
    private volatile boolean closed;

    /**
     * @param idleTimeout how long an unused connection is kept (below the upstream's own keep-alive timeout, which is
     *                    5 s for node's HTTP server)
     */
    Http1Client(Duration connectTimeout, Duration idleTimeout, int maxIdlePerOrigin) {
        this.connectTimeout = connectTimeout;
        this.idleNanos = idleTimeout.toNanos();
        this.maxIdlePerOrigin = maxIdlePerOrigin;
    }

    /** An answer: status, headers (names in lower case, first value), and the body as it arrives. */
    static final class Response {
        private final int status;
        private final Map<String, String> headers;
        private final BodyStream body;

        private Response(int status, Map<String, String> headers, BodyStream body) {
            this.status = status;
            this.headers = headers;
            this.body = body;
        }

        int status() {
            return status;
        }

        /** The first value of the header {@code name} (any case), or null. */
        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        /**
         * The body; closing it (from any thread, also while another thread reads it) ends the exchange: the connection
         * is reused when the body was read to its end, and closed otherwise.
         */
        InputStream body() {
            return body;
        }
    }

    /**
     * POSTs {@code body} to {@code uri} with {@code headers} and returns once the status line and headers have arrived.
     * Every read and the connect end by {@code deadline} ({@link SocketTimeoutException}).
     *
     * @throws IllegalArgumentException a header name or value that cannot be sent (a line break, a control character)
     */
    Response post(URI uri, Map<String, String> headers, byte[] body, Instant deadline) throws IOException {
        boolean tls = "https".equalsIgnoreCase(uri.getScheme());
        if (!tls && !"http".equalsIgnoreCase(uri.getScheme())) throw new IllegalArgumentException("not an http(s) URL: " + uri);
        String host = uri.getHost();
        int port = uri.getPort() >= 0 ? uri.getPort() : tls ? 443 : 80;
        String origin = (tls ? "https://" : "http://") + host + ":" + port;
        byte[] head = head(uri, host, port, tls, headers, body.length);
        byte[] request = java.util.Arrays.copyOf(head, head.length + body.length); // one write: one packet for a small request
        System.arraycopy(body, 0, request, head.length, body.length);
        while (true) {
            Conn c = pooled(origin);
            boolean reused = c != null;
            if (c == null) c = open(host, port, tls, origin, deadline);
            c.anyResponseByte = false;
            try {
                c.timeout(deadline);
                c.out.write(request);
                c.out.flush();
                return c.response();
            } catch (IOException e) {
                c.closeSocket();
                if (reused && !c.anyResponseByte && !(e instanceof SocketTimeoutException)) continue; // stale keep-alive
                throw e;
            }
        }
    }

    private static byte[] head(URI uri, String host, int port, boolean tls, Map<String, String> headers, int length) {
        StringBuilder sb = new StringBuilder(256);
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        sb.append("POST ").append(path);
        if (uri.getRawQuery() != null) sb.append('?').append(uri.getRawQuery());
        sb.append(" HTTP/1.1\r\nHost: ").append(host.contains(":") ? "[" + host + "]" : host);
        if (port != (tls ? 443 : 80)) sb.append(':').append(port);
        sb.append("\r\nContent-Length: ").append(length).append("\r\n");
        for (Map.Entry<String, String> h : headers.entrySet()) {
            String name = h.getKey();
            String value = h.getValue();
            if (name.isEmpty() || !name.chars().allMatch(Http1Client::tokenChar)) throw new IllegalArgumentException("a header name that cannot be sent");
            if (!value.chars().allMatch(ch -> ch == '\t' || (ch >= 0x20 && ch != 0x7f && ch <= 0xff))) {
                throw new IllegalArgumentException("the value of the header " + name + " has characters that cannot be sent");
            }
            sb.append(name).append(": ").append(value).append("\r\n");
        }
        sb.append("\r\n");
        return sb.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    private static boolean tokenChar(int c) {
        return c > 0x20 && c < 0x7f && "()<>@,;:\\\"/[]?={}".indexOf(c) < 0;
    }

    private Conn pooled(String origin) {
        long now = System.nanoTime();
        synchronized (idle) {
            ArrayDeque<Conn> q = idle.get(origin);
            while (q != null && !q.isEmpty()) {
                Conn c = q.pollLast(); // the most recently used: the least likely to have been closed by the upstream
                if (now - c.idleSince < idleNanos) return c;
                c.closeSocket();
            }
        }
        return null;
    }

    private void release(Conn c) {
        if (closed) {
            c.closeSocket();
            return;
        }
        c.idleSince = System.nanoTime();
        synchronized (idle) {
            ArrayDeque<Conn> q = idle.computeIfAbsent(c.origin, k -> new ArrayDeque<>());
            q.addLast(c);
            while (q.size() > maxIdlePerOrigin) q.pollFirst().closeSocket();
        }
    }

    private Conn open(String host, int port, boolean tls, String origin, Instant deadline) throws IOException {
        Socket s = new Socket();
        try {
            s.setTcpNoDelay(true);
            long left = Math.max(1, Math.min(connectTimeout.toMillis(), Duration.between(Instant.now(), deadline).toMillis()));
            s.connect(new InetSocketAddress(host, port), (int) left);
            if (tls) {
                SSLSocket ssl = (SSLSocket) ((SSLSocketFactory) SSLSocketFactory.getDefault()).createSocket(s, host, port, true);
                SSLParameters p = ssl.getSSLParameters();
                p.setEndpointIdentificationAlgorithm("HTTPS");
                ssl.setSSLParameters(p);
                ssl.setSoTimeout((int) Math.max(1, Duration.between(Instant.now(), deadline).toMillis()));
                ssl.startHandshake();
                s = ssl;
            }
            return new Conn(s, origin);
        } catch (IOException | RuntimeException e) {
            try {
                s.close();
            } catch (IOException ignored) {
                // already failing
            }
            throw e;
        }
    }

    @Override
    public void close() {
        closed = true;
        synchronized (idle) {
            for (ArrayDeque<Conn> q : idle.values()) for (Conn c : q) c.closeSocket();
            idle.clear();
        }
    }

    /** One connection: its socket, a read buffer shared by the head and the body, and whether it may be reused. */
    private final class Conn {
        final Socket socket;
        final String origin;
        final InputStream in;
        final OutputStream out;
        final byte[] buf = new byte[16 * 1024];
        int pos;
        int lim;
        long idleSince;
        boolean anyResponseByte;

        Conn(Socket socket, String origin) throws IOException {
            this.socket = socket;
            this.origin = origin;
            this.in = socket.getInputStream();
            this.out = socket.getOutputStream();
        }

        void timeout(Instant deadline) throws SocketException {
            socket.setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, Duration.between(Instant.now(), deadline).toMillis())));
        }

        void closeSocket() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // nothing to do
            }
        }

        /** Reads the status line and headers (skipping 1xx answers) and sets up the body. */
        Response response() throws IOException {
            while (true) {
                int status = -1;
                Map<String, String> headers = new HashMap<>();
                int total = 0;
                String line;
                while ((line = line()) != null && !line.isEmpty()) {
                    total += line.length() + 2;
                    if (total > MAX_HEADER_BYTES) throw new IOException("the upstream's response headers are too large");
                    if (status < 0) {
                        status = statusOf(line);
                        continue;
                    }
                    int colon = line.indexOf(':');
                    if (colon <= 0) continue;
                    headers.putIfAbsent(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
                }
                if (line == null) throw new EOFException("the upstream closed the connection before it answered");
                if (status >= 100 && status < 200) continue; // an interim answer: the real one follows
                boolean keep = !"close".equalsIgnoreCase(headers.get("connection"));
                String te = headers.get("transfer-encoding");
                String cl = headers.get("content-length");
                BodyStream body;
                if (te != null && te.toLowerCase(Locale.ROOT).contains("chunked")) {
                    body = new Chunked(this, keep);
                } else if (cl != null) {
                    long n;
                    try {
                        n = Long.parseLong(cl);
                    } catch (NumberFormatException e) {
                        throw new IOException("the upstream sent a malformed Content-Length");
                    }
                    if (n < 0) throw new IOException("the upstream sent a malformed Content-Length");
                    body = new Sized(this, keep, n);
                } else if (status == 204 || status == 304) {
                    body = new Sized(this, keep, 0);
                } else {
                    body = new ToEnd(this);
                }
                return new Response(status, headers, body);
            }
        }

        private int statusOf(String line) throws IOException {
            // HTTP/1.1 200 OK
            int sp = line.indexOf(' ');
            if (!line.startsWith("HTTP/1.") || sp < 0 || line.length() < sp + 4) throw new IOException("the upstream did not answer in HTTP/1.1");
            try {
                return Integer.parseInt(line.substring(sp + 1, sp + 4));
            } catch (NumberFormatException e) {
                throw new IOException("the upstream did not answer in HTTP/1.1");
            }
        }

        /** One CRLF- (or LF-) terminated line of the head, or null at the end of the stream. */
        String line() throws IOException {
            int scanned = 0; // bytes after pos known to hold no line end (fill may move pos)
            while (true) {
                for (int i = pos + scanned; i < lim; i++) {
                    if (buf[i] == '\n') {
                        int end = i > pos && buf[i - 1] == '\r' ? i - 1 : i;
                        String s = new String(buf, pos, end - pos, StandardCharsets.ISO_8859_1);
                        pos = i + 1;
                        return s;
                    }
                }
                scanned = lim - pos;
                if (scanned >= MAX_HEADER_BYTES) throw new IOException("the upstream sent a line that is too long");
                if (fill() < 0) return null;
            }
        }

        /** Reads more into the buffer (compacting it first); -1 at the end of the stream. */
        int fill() throws IOException {
            if (pos == lim) {
                pos = lim = 0;
            } else if (lim == buf.length) {
                if (pos == 0) throw new IOException("the upstream sent a line that is too long");
                System.arraycopy(buf, pos, buf, 0, lim - pos);
                lim -= pos;
                pos = 0;
            }
            int n = in.read(buf, lim, buf.length - lim);
            if (n > 0) {
                lim += n;
                anyResponseByte = true;
            }
            return n;
        }

        /** Up to {@code len} body bytes: what is buffered first, then straight from the socket. */
        int read(byte[] b, int off, int len) throws IOException {
            if (pos < lim) {
                int n = Math.min(len, lim - pos);
                System.arraycopy(buf, pos, b, off, n);
                pos += n;
                return n;
            }
            return in.read(b, off, len);
        }
    }

    /** A response body; closing it releases or closes its connection, once. */
    private abstract class BodyStream extends InputStream {
        final Conn conn;
        final boolean keep;
        private final AtomicBoolean finished = new AtomicBoolean();
        boolean done;

        BodyStream(Conn conn, boolean keep) {
            this.conn = conn;
            this.keep = keep;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public void close() {
            if (!finished.compareAndSet(false, true)) return;
            if (done && keep) release(conn);
            else conn.closeSocket();
        }
    }

    private final class Sized extends BodyStream {
        private long left;

        Sized(Conn conn, boolean keep, long length) {
            super(conn, keep);
            this.left = length;
            this.done = length == 0;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (left == 0) {
                done = true;
                return -1;
            }
            int n = conn.read(b, off, (int) Math.min(len, left));
            if (n < 0) throw new EOFException("the upstream closed the connection in the middle of its answer");
            left -= n;
            if (left == 0) done = true;
            return n;
        }

        @Override
        public int available() {
            return (int) Math.min(left, conn.lim - conn.pos);
        }
    }

    private final class ToEnd extends BodyStream {
        ToEnd(Conn conn) {
            super(conn, false);
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = conn.read(b, off, len);
            if (n < 0) done = true;
            return n;
        }
    }

    private final class Chunked extends BodyStream {
        private long left; // bytes left in the current chunk
        private boolean inChunk;

        Chunked(Conn conn, boolean keep) {
            super(conn, keep);
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (done) return -1;
            if (!inChunk) {
                String size = conn.line();
                if (size == null) throw new EOFException("the upstream closed the connection in the middle of its answer");
                int semi = size.indexOf(';');
                try {
                    left = Long.parseLong((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
                } catch (NumberFormatException e) {
                    throw new IOException("the upstream sent a malformed chunk");
                }
                if (left < 0) throw new IOException("the upstream sent a malformed chunk");
                if (left == 0) {
                    String trailer;
                    while ((trailer = conn.line()) != null && !trailer.isEmpty()) {
                        // trailers are not used
                    }
                    if (trailer == null) throw new EOFException("the upstream closed the connection in the middle of its answer");
                    done = true;
                    return -1;
                }
                inChunk = true;
            }
            int n = conn.read(b, off, (int) Math.min(len, left));
            if (n < 0) throw new EOFException("the upstream closed the connection in the middle of its answer");
            left -= n;
            if (left == 0) {
                String crlf = conn.line();
                if (crlf == null || !crlf.isEmpty()) throw new IOException("the upstream sent a malformed chunk");
                inChunk = false;
            }
            return n;
        }

        @Override
        public int available() {
            return inChunk ? (int) Math.min(left, conn.lim - conn.pos) : 0;
        }
    }
}
