package io.mcpoauth.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.http.BadMessageException;
import org.junit.jupiter.api.Test;

/**
 * Reading a request body against a stream that behaves like Jetty's under its minimum data rate: once the body's
 * bytes were handed over, any further read (even the one that would only see the end) may be refused with 408 when
 * the reading thread got the CPU late.
 */
class BodiesTest {
    /** A body that arrived whole; reads after it was handed over throw as Jetty's rate check does on a busy machine. */
    private static HttpServletRequest request(byte[] body, long declaredLength, AtomicInteger reads, boolean late) {
        ServletInputStream in = new ServletInputStream() {
            private boolean given;

            @Override
            public int read() {
                throw new UnsupportedOperationException();
            }

            @Override
            public int read(byte[] b, int off, int len) {
                reads.incrementAndGet();
                if (given && late) throw new BadMessageException(408, "Request content data rate < 1024 B/s");
                if (given) return -1;
                given = true;
                System.arraycopy(body, 0, b, off, Math.min(len, body.length));
                return Math.min(len, body.length);
            }

            @Override
            public boolean isFinished() {
                return given;
            }

            @Override
            public boolean isReady() {
                return true;
            }

            @Override
            public void setReadListener(ReadListener l) {
                throw new UnsupportedOperationException();
            }
        };
        return (HttpServletRequest) java.lang.reflect.Proxy.newProxyInstance(BodiesTest.class.getClassLoader(),
                new Class<?>[] {HttpServletRequest.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "getInputStream" -> in;
                    case "getContentLengthLong" -> declaredLength;
                    case "getContentLength" -> (int) declaredLength;
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    @Test
    void aBodyOfDeclaredLengthIsReadWithoutAnotherReadForItsEnd() {
        byte[] form = "grant_type=refresh_token&refresh_token=abc".getBytes(StandardCharsets.US_ASCII);
        AtomicInteger reads = new AtomicInteger();
        assertArrayEquals(form, Bodies.read(request(form, form.length, reads, true), Bodies.MAX_BYTES, OAuthError.INVALID_REQUEST));
        assertEquals(1, reads.get(), "the declared length was read, and nothing after it");
    }

    @Test
    void aBodyRefusedForItsRateIsA408WithASentenceNotAServerError() {
        byte[] form = "a=b".getBytes(StandardCharsets.US_ASCII);
        OAuthError e = assertThrows(OAuthError.class, () -> Bodies.read(request(form, -1, new AtomicInteger(), true), Bodies.MAX_BYTES,
                OAuthError.INVALID_REQUEST));
        assertEquals(408, e.httpStatus());
        assertEquals("invalid_request", e.code());
        assertEquals("The request body arrived too slowly; send it again.", e.description());
    }

    @Test
    void aBodyShorterThanItsDeclaredLengthIsAnInvalidRequest() {
        byte[] form = "a=b".getBytes(StandardCharsets.US_ASCII);
        OAuthError e = assertThrows(OAuthError.class, () -> Bodies.read(request(form, 10, new AtomicInteger(), false), Bodies.MAX_BYTES,
                OAuthError.INVALID_REQUEST));
        assertEquals(400, e.httpStatus());
        assertEquals("The request body ended before its declared Content-Length.", e.description());
    }
}
