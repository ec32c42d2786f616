package io.mcpoauth.http;

import jakarta.servlet.http.HttpServletRequest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Request bodies, the same way on every edge (Javalin routes pass {@code ctx.req()}; the {@code /mcp} filter its
 * servlet request): read once from the raw stream and bounded, whether the length is declared or the body is
 * chunked; and what is left of a refused body drained, so that a client still sending sees the answer instead of a
 * reset connection, and a keep-alive connection stays usable.
 */
public final class Bodies {
    /** The largest body of the authorization server's endpoints (forms and JSON), as Javalin's {@code maxRequestSize}. */
    public static final int MAX_BYTES = 64 * 1024;
    /** How much of a refused body is read and thrown away before answering. */
    public static final long DRAIN_LIMIT = 8L * 1024 * 1024;

    private Bodies() {}

    /**
     * The body, at most {@code max} bytes. A declared Content-Length over the limit is refused before reading, a chunked
     * body as soon as it passes it; either way the rest is drained and the answer is {@link OAuthError}
     * {@code errorCode} with status 413. A body that cannot be read to its end is invalid_request; one that arrives
     * too slowly (Jetty's minimum data rate) is invalid_request with status 408.
     *
     * <p>A declared length is read exactly, without a further read for the end of the stream: Jetty checks the
     * minimum data rate on every read, measured from the body's first byte, so that extra read, made after a thread
     * waited for the CPU on a busy machine, would refuse a small body that arrived whole and at once.
     */
    public static byte[] read(HttpServletRequest req, int max, String errorCode) {
        try {
            InputStream in = req.getInputStream();
            long declared = req.getContentLengthLong();
            if (declared > max) {
                drain(req);
                throw tooLarge(max, errorCode);
            }
            if (declared >= 0) {
                byte[] body = new byte[(int) declared];
                int got = 0;
                for (int n; got < body.length && (n = in.read(body, got, body.length - got)) != -1; ) got += n;
                if (got < body.length) throw OAuthError.invalidRequest("The request body ended before its declared Content-Length.");
                return body;
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream(Math.min(max, 8192));
            byte[] buf = new byte[8192];
            long total = 0;
            for (int n; (n = in.read(buf)) != -1; ) {
                total += n;
                if (total > max) {
                    drain(req);
                    throw tooLarge(max, errorCode);
                }
                out.write(buf, 0, n);
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw OAuthError.invalidRequest("The request body could not be read completely.");
        } catch (org.eclipse.jetty.http.BadMessageException e) {
            if (e.getCode() == 408) {
                throw new OAuthError("invalid_request", "The request body arrived too slowly; send it again.", 408);
            }
            throw OAuthError.invalidRequest("The request body could not be read" + (e.getReason() == null ? "." : ": " + e.getReason()));
        }
    }

    /**
     * Reads and drops what is left of the body, at most {@link #DRAIN_LIMIT} bytes; nothing when the declared length is
     * larger still (the connection is closed after the answer anyway). Never throws: a client that went away, or a body
     * already taken as a reader, leaves nothing to do.
     */
    public static void drain(HttpServletRequest req) {
        if (req.getContentLengthLong() > DRAIN_LIMIT) return;
        try {
            InputStream in = req.getInputStream();
            byte[] buf = new byte[8192];
            long left = DRAIN_LIMIT;
            for (int n; left > 0 && (n = in.read(buf, 0, (int) Math.min(buf.length, left))) != -1; ) left -= n;
        } catch (IOException | RuntimeException e) {
            // the client went away, or the body was already consumed: nothing to answer
        }
    }

    private static OAuthError tooLarge(int max, String errorCode) {
        String size = max % 1024 == 0 ? (max / 1024) + " KiB" : max + " bytes";
        return new OAuthError(errorCode, "The request body is larger than " + size + ".", 413);
    }
}
