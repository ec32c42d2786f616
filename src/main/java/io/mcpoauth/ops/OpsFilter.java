package io.mcpoauth.ops;

import io.mcpoauth.http.Web;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.function.IntSupplier;

/**
 * First in front of everything (Javalin and {@code /mcp}): resolves the client's address once ({@link ClientAddress})
 * into a request attribute and, for the length of the request, this thread (so {@link Events} can put it in audit
 * lines); and keeps the loopback admin connector to {@code /admin/api/} only.
 */
final class OpsFilter implements Filter {
    private static final ThreadLocal<String> IP = new ThreadLocal<>();

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
            Web.error(req, (HttpServletResponse) response, 404, "not_found", "This port serves " + Operations.ADMIN_PREFIX + " only.");
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
