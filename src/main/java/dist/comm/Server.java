package dist.comm;

import dist.protocol.Role;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Accepts connections on a port; each completes the handshake, then gets its own handler.
 * Every accepted socket is set up on its own virtual thread, so a slow or hostile peer never
 * delays the others.
 *
 * <pre>{@code
 * try (Server s = Server.listen("0.0.0.0", 8786, Role.SCHEDULER, CommConfig.DEFAULT,
 *         conn -> (c, msg, id) -> { if (id != 0) c.reply(id, new Message.Ack()); })) {
 *     System.out.println("listening on " + s.port());
 * }
 * }</pre>
 */
public final class Server implements AutoCloseable {

    private final ServerSocketChannel channel;
    private final Role role;
    private final CommConfig config;
    private final Function<Connection, Handler> acceptor;
    private final FrameCodec codec;
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private final Set<SocketChannel> handshaking = ConcurrentHashMap.newKeySet();
    /** Open sockets (handshaking or connected) per remote IP address, for the per-peer limit. */
    private final ConcurrentHashMap<InetAddress, AtomicInteger> perPeer = new ConcurrentHashMap<>();
    private volatile boolean closed;

    private Server(ServerSocketChannel channel, Role role, CommConfig config, Function<Connection, Handler> acceptor,
                   FrameCodec codec) {
        this.channel = channel;
        this.role = role;
        this.config = config;
        this.acceptor = acceptor;
        this.codec = codec;
    }

    /**
     * Listens on {@code host}:{@code port} (port 0 picks a free one) as {@code role}; {@code acceptor}
     * gives each handshaken connection its handler.
     */
    public static Server listen(String host, int port, Role role, CommConfig config,
                                Function<Connection, Handler> acceptor) throws IOException {
        return listen(host, port, role, config, acceptor, FrameCodec.DEFAULT);
    }

    /** What to try, by what the bind said: only a port in use is about the port. */
    static String hint(IOException e, String host) {
        String m = String.valueOf(e.getMessage());
        if (m.contains("in use")) {
            return " (port 0 picks a free one)";
        }
        if (m.contains("assign requested address")) {
            return " (" + host + " is not an address of this machine)";
        }
        return "";
    }

    static Server listen(String host, int port, Role role, CommConfig config, Function<Connection, Handler> acceptor,
                         FrameCodec codec) throws IOException {
        config.security().check();
        ServerSocketChannel ch = ServerSocketChannel.open();
        try {
            ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            ch.bind(new InetSocketAddress(host, port), 1024);
        } catch (IOException e) {
            ch.close();
            throw new IOException("cannot listen on " + host + ":" + port + ": " + e.getMessage() + hint(e, host), e);
        }
        Server s = new Server(ch, role, config, acceptor, codec);
        Thread.ofVirtual().name("dist-accept " + host + ":" + s.port()).start(s::acceptLoop);
        return s;
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel ch;
            try {
                ch = channel.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                // e.g. out of file descriptors: keep serving the connections we have
                Connection.LOG.log(System.Logger.Level.WARNING, "accept failed on port " + port() + ": " + e);
                sleepQuietly();
                continue;
            }
            InetAddress from = remoteIp(ch);
            if (!admit(from)) {
                Connection.closeQuietly(ch);
                continue;
            }
            Thread.ofVirtual().name("dist-handshake").start(() -> setUp(ch, from));
        }
    }

    private static InetAddress remoteIp(SocketChannel ch) {
        try {
            if (ch.getRemoteAddress() instanceof InetSocketAddress a) {
                return a.getAddress();
            }
        } catch (IOException ignored) {
            // already closed: counted under the unknown address and dropped by the handshake
        }
        return InetAddress.getLoopbackAddress();
    }

    /** Counts a new socket from {@code ip}; false (and a warning) when it is over the per-peer limit. */
    private boolean admit(InetAddress ip) {
        AtomicInteger n = perPeer.computeIfAbsent(ip, k -> new AtomicInteger());
        int now = n.incrementAndGet();
        if (now > config.maxConnectionsPerPeer()) {
            release(ip);
            if (now == config.maxConnectionsPerPeer() + 1 || now % 1000 == 0) {
                Connection.LOG.log(System.Logger.Level.WARNING, "refused a connection from " + ip.getHostAddress()
                        + ": it already holds " + config.maxConnectionsPerPeer() + " connections to port " + port()
                        + " (dist.comm.max-connections-per-peer)");
            }
            return false;
        }
        return true;
    }

    private void release(InetAddress ip) {
        perPeer.computeIfPresent(ip, (k, n) -> n.decrementAndGet() <= 0 ? null : n);
    }

    private void setUp(SocketChannel ch, InetAddress from) {
        String peer = "?";
        handshaking.add(ch);
        boolean handedOver = false;
        Connection c = null;
        try {
            peer = Connection.addressOf(ch.getRemoteAddress());
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            Handshaker.Link link = Handshaker.run(ch, role, config, peer, false);
            Connection conn = new Connection(ch, link, peer, config, codec);
            c = conn;
            connections.add(conn);
            conn.onTerminated(() -> {
                connections.remove(conn);
                release(from);
            });
            Handler h = acceptor.apply(c);
            if (h == null) {
                throw new IllegalStateException("the acceptor gave no handler for " + peer);
            }
            if (closed) {
                Connection.closeQuietly(ch);
            }
            c.start(h);
            handedOver = true;
        } catch (IOException | RuntimeException e) {
            Connection.LOG.log(System.Logger.Level.WARNING, "refused peer " + peer + ": " + Connection.reason(e));
            Connection.closeQuietly(ch);
        } finally {
            handshaking.remove(ch);
            if (!handedOver) {
                if (c != null) {
                    connections.remove(c);
                }
                release(from);
            }
        }
    }

    private static void sleepQuietly() {
        try {
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The port listened on. */
    public int port() {
        try {
            return ((InetSocketAddress) channel.getLocalAddress()).getPort();
        } catch (IOException e) {
            throw new IllegalStateException("server socket is closed", e);
        }
    }

    /** Connections accepted and still open. */
    public List<Connection> connections() {
        return List.copyOf(connections);
    }

    /** Stops accepting and closes every connection it accepted. */
    @Override
    public void close() {
        closed = true;
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        for (SocketChannel ch : List.copyOf(handshaking)) {
            Connection.closeQuietly(ch);
        }
        for (Connection c : List.copyOf(connections)) {
            c.close();
        }
    }
}
