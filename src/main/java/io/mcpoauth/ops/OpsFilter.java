package io.mcpoauth.ops;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.function.IntSupplier;

/**
 * First in front of everything (Javalin and {@code /mcp}): resolves the client's address once ({@link ClientAddress})
 * into a request attribute and, for the length of the request, this thread (so {@link Events} can put it in audit
 * lines); and keeps the loopback admin connector to {@code /admin/api/} only.
 */
final class OpsFilter implements Filter {
    private static final ThreadLocal<String> IP = new ThreadLocal<>();
    private static final byte[] NOT_FOUND = "{\"error\":\"not_found\",\"error_description\":\"This port serves /admin/api only.\"}"
            .getBytes(StandardCharsets.UTF_8);

    private final ClientAddress addresses;
    private final IntSupplier adminPort;

    OpsFilter(ClientAddress addresses, IntSupplier adminPort) {
        this.addresses = addresses;
        this.adminPort = adminPort;
    }

    /** The client address of the request this thread is handling, or null outside a request. */
    static String currentIp() {
        return IP.get();
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain) throws IOException, ServletException {
        HttpServletRequest req = (HttpServletRequest) request;
        String ip = addresses.resolve(req);
        req.setAttribute(ClientAddress.ATTRIBUTE, ip);
        int admin = adminPort.getAsInt();
        if (admin > 0 && req.getLocalPort() == admin && !req.getRequestURI().startsWith(Operations.ADMIN_PREFIX + "/")) {
            HttpServletResponse res = (HttpServletResponse) response;
            res.setStatus(404);
            res.setContentType("application/json");
            res.setContentLength(NOT_FOUND.length);
            res.getOutputStream().write(NOT_FOUND);
            return;
        }
        String previous = IP.get();
        IP.set(ip);
        try {
            chain.doFilter(request, response);
        } finally {
            if (previous == null) IP.remove();
            else IP.set(previous);
        }
    }
}
