package io.mcpoauth;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP forwarder a test can cut: {@link #cut} closes every forwarded connection and refuses new ones (a database that
 * went away), {@link #blackhole} keeps accepting but forwards nothing (a database that hangs), {@link #restore} forwards
 * again.
 */
public final class TcpProxy implements AutoCloseable {
    private final ServerSocket listener;
    private final String targetHost;
    private final int targetPort;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private volatile String mode = "forward";

    private TcpProxy(ServerSocket listener, String targetHost, int targetPort) {
        this.listener = listener;
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        Thread t = new Thread(this::accept, "tcp-proxy-" + listener.getLocalPort());
        t.setDaemon(true);
        t.start();
    }

    public static TcpProxy start(String targetHost, int targetPort) throws IOException {
        ServerSocket s = new ServerSocket();
        s.bind(new InetSocketAddress("127.0.0.1", 0));
        return new TcpProxy(s, targetHost, targetPort);
    }

    public int port() {
        return listener.getLocalPort();
    }

    private void accept() {
        while (!listener.isClosed()) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                return;
            }
            if (mode.equals("cut")) {
                closeQuietly(client);
                continue;
            }
            open.add(client);
            if (mode.equals("blackhole")) continue; // accepted, never answered
            try {
                Socket upstream = new Socket();
                upstream.connect(new InetSocketAddress(targetHost, targetPort), 5_000);
                open.add(upstream);
                pipe(client, upstream);
                pipe(upstream, client);
            } catch (IOException e) {
                closeQuietly(client);
            }
        }
    }

    private void pipe(Socket from, Socket to) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[16 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                for (int n; (n = in.read(buf)) >= 0; ) {
                    if (!mode.equals("forward")) break;
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException ignored) {
                // one side closed
            } finally {
                closeQuietly(from);
                closeQuietly(to);
            }
        }, "tcp-pipe");
        t.setDaemon(true);
        t.start();
    }

    /** Closes every connection and refuses new ones. */
    public void cut() {
        mode = "cut";
        for (Socket s : open) closeQuietly(s);
        open.clear();
    }

    /** Closes every connection; new ones are accepted and never answered. */
    public void blackhole() {
        mode = "blackhole";
        for (Socket s : open) closeQuietly(s);
        open.clear();
    }

    public void restore() {
        for (Socket s : open) closeQuietly(s); // blackholed ones
        open.clear();
        mode = "forward";
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Socket s : open) closeQuietly(s);
    }
}
