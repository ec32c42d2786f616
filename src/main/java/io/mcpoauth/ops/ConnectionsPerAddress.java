package io.mcpoauth.ops;

import io.mcpoauth.core.AddressKey;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.SocketChannelEndPoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * At most {@code max} open connections per client address (IPv4 /32, IPv6 /64); a connection beyond that is closed
 * as soon as it opens, before any byte of it is read. Trusted proxies ({@code TRUSTED_PROXIES}) are exempt: every
 * client behind them shares their address. Counts TCP connections (the network end point), so TLS is counted once.
 */
final class ConnectionsPerAddress implements Connection.Listener {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionsPerAddress.class);

    private final int max;
    private final ClientAddress addresses;
    private final ConcurrentHashMap<String, AtomicInteger> open = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<EndPoint, String> counted = new ConcurrentHashMap<>();
    private final AtomicInteger refused = new AtomicInteger();

    ConnectionsPerAddress(int max, ClientAddress addresses) {
        this.max = max;
        this.addresses = addresses;
    }

    @Override
    public void onOpened(Connection connection) {
        EndPoint ep = connection.getEndPoint();
        if (!(ep instanceof SocketChannelEndPoint)) return; // a TLS layer's inner end point: its TCP connection counts
        String ip = ip(ep.getRemoteSocketAddress());
        if (ip == null || addresses.trusts(ip)) return;
        String key = AddressKey.of(ip);
        if (counted.putIfAbsent(ep, key) != null) return;
        int n = open.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
        if (n > max) {
            if (refused.getAndIncrement() % 1000 == 0) LOG.warn("Closing connections from {}: more than {} open (MAX_CONNECTIONS_PER_ADDRESS)", key, max);
            ep.close();
        }
    }

    @Override
    public void onClosed(Connection connection) {
        String key = counted.remove(connection.getEndPoint());
        if (key == null) return;
        open.computeIfPresent(key, (k, n) -> n.decrementAndGet() <= 0 ? null : n);
    }

    /** Connections closed for being over the limit, since start. */
    int refused() {
        return refused.get();
    }

    private static String ip(SocketAddress a) {
        return a instanceof InetSocketAddress i && i.getAddress() != null ? i.getAddress().getHostAddress() : null;
    }
}
