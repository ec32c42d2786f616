package io.mcpoauth.bench;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A minimal HTTP/1.1 client connection for the load generator: keep-alive, one request at a time, requests given as
 * ready-made bytes, responses with Content-Length or chunked bodies. Much cheaper per request than
 * {@code java.net.http.HttpClient}, so the generator does not eat the cores it is measuring.
 */
class HttpConn implements AutoCloseable {
    private final InetSocketAddress address;
    private Socket socket;
    private InputStream in;
    private OutputStream out;
    private byte[] buf = new byte[8 * 1024];
    private int pos;
    private int lim;
    /** The {@code Mcp-Session-Id} of the last response that had one (MCP Streamable HTTP), or null. */
    String sessionId;

    /** Status and body; the body is small (token responses, tool results). */
    record Response(int status, byte[] body) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        /** The string value of {@code "name":"..."} in a flat JSON body, or null. */
        String jsonString(String name) {
            String t = text();
            String key = "\"" + name + "\":\"";
            int i = t.indexOf(key);
            if (i < 0) return null;
            int from = i + key.length();
            int to = t.indexOf('"', from);
            return to < 0 ? null : t.substring(from, to);
        }
    }

    HttpConn(String host, int port) {
        this.address = new InetSocketAddress(host, port);
    }

    static byte[] get(String host, String path) {
        return ("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** A POST with {@code headers} given as "Name: value" lines (each ending in \r\n). */
    static byte[] post(String host, String path, String contentType, String headers, String body) {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        byte[] head = ("POST " + path + " HTTP/1.1\r\nHost: " + host + "\r\nContent-Type: " + contentType + "\r\n" + headers
                + "Content-Length: " + b.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] all = Arrays.copyOf(head, head.length + b.length);
        System.arraycopy(b, 0, all, head.length, b.length);
        return all;
    }

    /** Sends one request and reads its response; opens the connection first when needed. */
    Response send(byte[] request) throws IOException {
        if (socket == null) open();
        try {
            out.write(request);
            out.flush();
            return read();
        } catch (IOException e) {
            close();
            throw e;
        }
    }

    private void open() throws IOException {
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.connect(address, 5_000);
        s.setSoTimeout(60_000);
        socket = s;
        in = s.getInputStream();
        out = s.getOutputStream();
        pos = lim = 0;
    }

    private Response read() throws IOException {
        int end;
        while ((end = headerEnd()) < 0) fill();
        int status = (buf[pos + 9] - '0') * 100 + (buf[pos + 10] - '0') * 10 + (buf[pos + 11] - '0');
        int contentLength = -1;
        boolean chunked = false;
        boolean close = false;
        int line = indexOfCrlf(pos, end + 2) + 2;
        while (line < end) {
            int next = indexOfCrlf(line, end + 2);
            if (startsWithIgnoreCase(line, "content-length:")) contentLength = Integer.parseInt(value(line, next, 15));
            else if (startsWithIgnoreCase(line, "transfer-encoding:")) chunked = value(line, next, 18).equalsIgnoreCase("chunked");
            else if (startsWithIgnoreCase(line, "connection:")) close = value(line, next, 11).equalsIgnoreCase("close");
            else if (startsWithIgnoreCase(line, "mcp-session-id:")) sessionId = value(line, next, 15);
            line = next + 2;
        }
        pos = end + 4;
        byte[] body;
        if (chunked) {
            body = readChunked();
        } else if (contentLength >= 0) {
            body = readBytes(contentLength);
        } else {
            body = readToEof();
            close = true;
        }
        if (close) close();
        return new Response(status, body);
    }

    private byte[] readChunked() throws IOException {
        byte[] body = new byte[0];
        while (true) {
            String sizeLine = readLine();
            int semi = sizeLine.indexOf(';');
            int size = Integer.parseInt((semi < 0 ? sizeLine : sizeLine.substring(0, semi)).trim(), 16);
            if (size == 0) {
                while (!readLine().isEmpty()) {
                    // trailers
                }
                return body;
            }
            byte[] chunk = readBytes(size);
            int old = body.length;
            body = Arrays.copyOf(body, old + size);
            System.arraycopy(chunk, 0, body, old, size);
            readLine();
        }
    }

    private String readLine() throws IOException {
        int i;
        while ((i = indexOfCrlf(pos, lim)) < 0) fill();
        String s = new String(buf, pos, i - pos, StandardCharsets.US_ASCII);
        pos = i + 2;
        return s;
    }

    private byte[] readBytes(int n) throws IOException {
        while (lim - pos < n) fill();
        byte[] b = Arrays.copyOfRange(buf, pos, pos + n);
        pos += n;
        return b;
    }

    private byte[] readToEof() throws IOException {
        while (true) {
            try {
                fill();
            } catch (EOFException e) {
                byte[] b = Arrays.copyOfRange(buf, pos, lim);
                pos = lim;
                return b;
            }
        }
    }

    private void fill() throws IOException {
        if (pos > 0 && lim == buf.length) {
            System.arraycopy(buf, pos, buf, 0, lim - pos);
            lim -= pos;
            pos = 0;
        }
        if (lim == buf.length) buf = Arrays.copyOf(buf, buf.length * 2);
        int n = in.read(buf, lim, buf.length - lim);
        if (n < 0) throw new EOFException("the server closed the connection");
        lim += n;
    }

    private int headerEnd() {
        for (int i = pos; i + 3 < lim; i++) {
            if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n') return i;
        }
        return -1;
    }

    private int indexOfCrlf(int from, int to) {
        for (int i = from; i + 1 < Math.min(to, lim); i++) {
            if (buf[i] == '\r' && buf[i + 1] == '\n') return i;
        }
        return -1;
    }

    private boolean startsWithIgnoreCase(int at, String prefix) {
        if (at + prefix.length() > lim) return false;
        for (int i = 0; i < prefix.length(); i++) {
            if (Character.toLowerCase(buf[at + i]) != prefix.charAt(i)) return false;
        }
        return true;
    }

    private String value(int line, int next, int nameLength) {
        return new String(buf, line + nameLength, next - line - nameLength, StandardCharsets.US_ASCII).trim();
    }

    @Override
    public void close() {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // nothing to do
            }
        }
        socket = null;
        in = null;
        out = null;
        pos = lim = 0;
    }
}
