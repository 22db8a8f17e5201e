package dist.comm;

import dist.protocol.Handshake;
import dist.protocol.HandshakeException;
import dist.protocol.Role;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(30)
class HandshakeTest {

    private static final CommConfig SHORT = new CommConfig(Duration.ofSeconds(2), Duration.ofSeconds(2),
            Duration.ofMillis(300), 16, 1 << 20);

    /** A raw listener that answers every connection with {@code reply} (null: stays silent). */
    private static HandshakeException connectTo(byte[] reply) throws Exception {
        try (ServerSocketChannel ss = ServerSocketChannel.open()) {
            ss.bind(new InetSocketAddress("127.0.0.1", 0));
            int port = ((InetSocketAddress) ss.getLocalAddress()).getPort();
            CompletableFuture<SocketChannel> peer = CompletableFuture.supplyAsync(() -> {
                try {
                    SocketChannel ch = ss.accept();
                    if (reply != null) {
                        ch.write(ByteBuffer.wrap(reply));
                    }
                    return ch;
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            try {
                return assertThrows(HandshakeException.class,
                        () -> Connection.connect("127.0.0.1:" + port, Role.CLIENT, SHORT, Net.echo(), Net.CODEC));
            } finally {
                peer.get(10, TimeUnit.SECONDS).close();
            }
        }
    }

    @Test
    void anHttpServerIsRecognised() throws Exception {
        HandshakeException e = connectTo("HTTP/1.1 400 Bad Request\r\n\r\n".getBytes());
        assertTrue(e.getMessage().contains("'HTTP/1'") && e.getMessage().contains("an HTTP server?")
                && e.getMessage().contains("expected a dist endpoint"), e.getMessage());
    }

    /**
     * An HTTP server says nothing until it has a request line, which a handshake never ends: the
     * connecting side asks it on a side connection and fails at once, not after the handshake timeout
     * (a minute here, past this class's bound).
     */
    @Test
    void aSilentHttpServerIsRecognisedByAskingIt() throws Exception {
        com.sun.net.httpserver.HttpServer http = com.sun.net.httpserver.HttpServer.create(
                new InetSocketAddress("127.0.0.1", 0), 8);
        // as the dashboard's: a connection that sends no request line does not hold up the others
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
        http.setExecutor(pool);
        http.start();
        try {
            CommConfig patient = new CommConfig(Duration.ofMinutes(1), Duration.ofSeconds(2), Duration.ofMinutes(1), 16,
                    1 << 20);
            HandshakeException e = assertThrows(HandshakeException.class, () -> Connection.connect(
                    "127.0.0.1:" + http.getAddress().getPort(), Role.WORKER, patient, Net.echo(), Net.CODEC));
            assertTrue(e.getMessage().contains("is an HTTP server, not a dist endpoint")
                    && e.getMessage().contains("dashboard"), e.getMessage());
        } finally {
            http.stop(0);
            pool.shutdownNow();
        }
    }

    /** A deadline of the connect timeout shorter than the handshake's bounds the handshake too. */
    @Test
    void theConnectTimeoutBoundsTheHandshake() throws Exception {
        try (ServerSocketChannel ss = ServerSocketChannel.open()) {
            ss.bind(new InetSocketAddress("127.0.0.1", 0));
            CommConfig c = new CommConfig(Duration.ofMillis(300), Duration.ofSeconds(2), Duration.ofMinutes(1), 16,
                    1 << 20);
            // the listener accepts into its backlog and never answers: only the connect deadline ends this
            HandshakeException e = assertThrows(HandshakeException.class, () -> Connection.connect(
                    "127.0.0.1:" + ((InetSocketAddress) ss.getLocalAddress()).getPort(), Role.WORKER, c, Net.echo(),
                    Net.CODEC));
            assertTrue(e.getMessage().contains("did not complete the handshake within")
                    && e.getMessage().contains("connect timeout") && !e.getMessage().contains("60 s"), e.getMessage());
        }
    }

    @Test
    void aWrongVersionNamesBothVersions() throws Exception {
        int other = Handshake.VERSION + 1;
        HandshakeException e = connectTo(Handshake.encode(Role.SCHEDULER, other));
        assertTrue(e.getMessage().contains("protocol version " + other + ", expected " + Handshake.VERSION), e.getMessage());
    }

    @Test
    void aSilentPeerIsDroppedAfterTheHandshakeTimeout() throws Exception {
        HandshakeException e = connectTo(null);
        assertTrue(e.getMessage().contains("within 300 ms") && e.getMessage().contains("handshakeTimeout"),
                e.getMessage());
    }

    @Test
    void theServerRefusesHttpAndSilentClientsAndKeepsServing() throws Exception {
        try (Net.LogCapture log = new Net.LogCapture();
             Server s = Net.server(SHORT, c -> Net.echo())) {
            try (SocketChannel http = SocketChannel.open(new InetSocketAddress("127.0.0.1", s.port()))) {
                http.write(ByteBuffer.wrap("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes()));
                assertEquals(-1, ConnectionTest.readUntilClosed(http));
            }
            assertTrue(log.waitFor("an HTTP client?", Duration.ofSeconds(10)), log.lines.toString());
            try (SocketChannel silent = SocketChannel.open(new InetSocketAddress("127.0.0.1", s.port()))) {
                assertEquals(-1, ConnectionTest.readUntilClosed(silent), "dropped after the handshake timeout");
            }
            assertTrue(log.waitFor("did not complete the handshake within 300 ms", Duration.ofSeconds(10)),
                    log.lines.toString());
            try (Connection c = Connection.connect("127.0.0.1:" + s.port(), Role.CLIENT, SHORT, Net.echo(), Net.CODEC)) {
                assertEquals(new dist.protocol.Message.Ping(9),
                        c.request(new dist.protocol.Message.Ping(9)).get(10, TimeUnit.SECONDS));
            }
        }
    }
}
