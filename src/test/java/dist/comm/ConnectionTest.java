package dist.comm;

import dist.protocol.Message;
import dist.protocol.Role;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(60)
class ConnectionTest {

    @Test
    void millionSmallMessagesArriveCompleteAndInOrder() throws Exception {
        int n = 1_000_000;
        CountDownLatch done = new CountDownLatch(1);
        AtomicLong expected = new AtomicLong();
        AtomicReference<String> error = new AtomicReference<>();
        try (Server s = Net.server(Net.FAST, c -> (conn, m, id) -> {
            long seq = ((Message.Ping) m).nonce();
            if (seq != expected.get() && error.get() == null) {
                error.set("got " + seq + ", expected " + expected.get());
            }
            if (expected.incrementAndGet() == n) {
                done.countDown();
            }
        }); Connection c = Net.connect(s, Net.echo())) {
            for (int i = 0; i < n; i++) {
                c.send(new Message.Ping(i));
            }
            assertTrue(done.await(45, TimeUnit.SECONDS), "only " + expected.get() + " of " + n + " arrived");
            assertNull(error.get());
        }
    }

    @Test
    void aFewConnectionsReadOnPlatformThreadsOnBothSides() throws Exception {
        CompletableFuture<Boolean> serverSideVirtual = new CompletableFuture<>();
        CompletableFuture<Boolean> clientSideVirtual = new CompletableFuture<>();
        try (Server s = Net.server(Net.FAST, c -> (conn, m, id) -> {
            serverSideVirtual.complete(Thread.currentThread().isVirtual());
            conn.send(m);
        }); Connection c = Net.connect(s, (conn, m, id) -> clientSideVirtual.complete(Thread.currentThread().isVirtual()))) {
            assertEquals(Role.SCHEDULER, c.peerRole());
            c.send(new Message.Ping(1));
            assertFalse(clientSideVirtual.get(10, TimeUnit.SECONDS), "the client's reader is a platform thread");
            assertFalse(serverSideVirtual.get(10, TimeUnit.SECONDS),
                    "the scheduler's reader is a platform thread while the process has fewer than the limit");
        }
    }

    @Test
    void readerThreadChoiceFollowsTheSetting() {
        assertTrue(CommConfig.platformReader("scheduler", Role.SCHEDULER, 0, 256));
        assertFalse(CommConfig.platformReader("scheduler", Role.WORKER, 0, 256));
        assertFalse(CommConfig.platformReader("scheduler", Role.CLIENT, 0, 256));
        assertTrue(CommConfig.platformReader("all", Role.WORKER, 1000, 256));
        assertFalse(CommConfig.platformReader("none", Role.SCHEDULER, 0, 256));
        // auto: a small cluster's connections all read on platform threads, a large one's past the limit do not
        assertTrue(CommConfig.platformReader("auto", Role.WORKER, 255, 256));
        assertFalse(CommConfig.platformReader("auto", Role.WORKER, 256, 256));
        assertTrue(CommConfig.platformReader("auto", Role.SCHEDULER, 256, 256), "a link to the scheduler always");
        String key = "dist.comm.test-choice";
        System.setProperty(key, " ALL ");
        try {
            assertEquals("all", CommConfig.choice(key, "auto", "scheduler", "all", "none"));
            System.setProperty(key, "sometimes");
            assertEquals("auto", CommConfig.choice(key, "auto", "scheduler", "all", "none"), "a bad value falls back");
        } finally {
            System.clearProperty(key);
        }
    }

    @Test
    void requestsFromSeveralThreadsGetTheirOwnReplies() throws Exception {
        try (Server s = Net.server(Net.FAST, c -> Net.echo()); Connection c = Net.connect(s, Net.echo())) {
            int threads = 8;
            int each = 2_000;
            List<Thread> ts = new ArrayList<>();
            LinkedBlockingQueue<String> failures = new LinkedBlockingQueue<>();
            for (int t = 0; t < threads; t++) {
                long base = t * 1_000_000L;
                ts.add(Thread.ofVirtual().start(() -> {
                    List<CompletableFuture<Message>> fs = new ArrayList<>();
                    for (int i = 0; i < each; i++) {
                        fs.add(c.request(new Message.Ping(base + i)));
                    }
                    for (int i = 0; i < each; i++) {
                        try {
                            Message m = fs.get(i).get(20, TimeUnit.SECONDS);
                            if (!(m instanceof Message.Ping p) || p.nonce() != base + i) {
                                failures.add("request " + (base + i) + " got " + m);
                            }
                        } catch (Exception e) {
                            failures.add("request " + (base + i) + " failed: " + e);
                        }
                    }
                }));
            }
            for (Thread t : ts) {
                assertTrue(t.join(Duration.ofSeconds(30)));
            }
            assertEquals(List.of(), List.copyOf(failures));
            // the server also sees the client's role and the client the server's
            assertEquals(Role.SCHEDULER, c.peerRole());
            assertEquals(Role.CLIENT, s.connections().getFirst().peerRole());
        }
    }

    @Test
    void requestTimesOutWhenNoReplyComes() throws Exception {
        try (Server s = Net.server(Net.FAST, c -> (conn, m, id) -> { }); Connection c = Net.connect(s, Net.echo())) {
            CompletableFuture<Message> slow = c.request(new Message.Ping(0), Duration.ofSeconds(40));
            // a shorter deadline after a longer one still fires on time (the bound below is 10 s)
            CompletableFuture<Message> f = c.request(new Message.Ping(1), Duration.ofMillis(100));
            ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
            assertInstanceOf(TimeoutException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("Ping"), e.getCause().getMessage());
            assertTrue(c.isOpen());
            assertFalse(slow.isDone());
            CompletableFuture<Message> g = c.request(new Message.Ping(2), Duration.ofMillis(50));
            assertThrows(ExecutionException.class, () -> g.get(10, TimeUnit.SECONDS));
            assertFalse(slow.isDone());
        }
    }

    @Test
    void pendingRequestsFailWhenTheConnectionCloses() throws Exception {
        try (Server s = Net.server(Net.FAST, c -> (conn, m, id) -> { })) {
            Net.Recorder r = new Net.Recorder();
            Connection c = Net.connect(s, r);
            CompletableFuture<Message> f = c.request(new Message.Ping(1));
            c.close();
            ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
            assertInstanceOf(ConnectionClosedException.class, e.getCause());
            assertThrows(ConnectionClosedException.class, () -> c.send(new Message.Ping(2)));
            assertEquals("clean", r.closed.poll(10, TimeUnit.SECONDS));
            assertFalse(c.isOpen());
        }
    }

    @Test
    void callWaitsForTheReplyAndReportsATimeoutOrAClose() throws Exception {
        try (Server s = Net.server(Net.FAST, c -> (conn, m, id) -> {
            if (m instanceof Message.Ping p && p.nonce() >= 0) {
                conn.reply(id, m); // a negative ping is left unanswered
            }
        })) {
            Connection c = Net.connect(s, Net.echo());
            for (int i = 0; i < 1_000; i++) {
                assertEquals(new Message.Ping(i), c.call(new Message.Ping(i), java.time.Duration.ofSeconds(10)));
            }
            ExecutionException late = assertThrows(ExecutionException.class,
                    () -> c.call(new Message.Ping(-1), java.time.Duration.ofMillis(50)));
            assertInstanceOf(java.util.concurrent.TimeoutException.class, late.getCause());
            c.close();
            ExecutionException closed = assertThrows(ExecutionException.class,
                    () -> c.call(new Message.Ping(2), java.time.Duration.ofSeconds(10)));
            assertInstanceOf(ConnectionClosedException.class, closed.getCause());
        }
    }

    @Test
    void pendingRequestsFailWhenThePeerGoesAway() throws Exception {
        LinkedBlockingQueue<Connection> accepted = new LinkedBlockingQueue<>();
        try (Server s = Net.server(Net.FAST, c -> {
            accepted.add(c);
            return (conn, m, id) -> { };
        })) {
            Net.Recorder r = new Net.Recorder();
            Connection c = Net.connect(s, r);
            CompletableFuture<Message> f = c.request(new Message.Ping(1));
            accepted.poll(10, TimeUnit.SECONDS).close();
            ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
            assertInstanceOf(ConnectionClosedException.class, e.getCause());
            assertEquals("clean", r.closed.poll(10, TimeUnit.SECONDS), "the peer closed cleanly");
        }
    }

    @Test
    void closeFlushesQueuedMessagesAndAbortTellsTheCause() throws Exception {
        Net.Recorder serverSide = new Net.Recorder();
        try (Server s = Net.server(Net.FAST, c -> serverSide)) {
            Connection c = Net.connect(s, Net.echo());
            for (int i = 0; i < 10_000; i++) {
                c.send(new Message.Ping(i));
            }
            c.close();
            for (int i = 0; i < 10_000; i++) {
                Message m = serverSide.messages.poll(10, TimeUnit.SECONDS);
                assertEquals(new Message.Ping(i), m);
            }
            assertEquals("clean", serverSide.closed.poll(10, TimeUnit.SECONDS));

            Net.Recorder clientSide = new Net.Recorder();
            Connection d = Net.connect(s, clientSide);
            IllegalStateException why = new IllegalStateException("shutting down");
            d.abort(why);
            assertSame(why, clientSide.closed.poll(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void handlerFailureOnARequestRepliesWithAnError() throws Exception {
        try (Server s = Net.server(Net.FAST, c -> (conn, m, id) -> {
            throw new IllegalStateException("boom");
        }); Connection c = Net.connect(s, Net.echo())) {
            Message m = c.request(new Message.Ping(1)).get(10, TimeUnit.SECONDS);
            assertInstanceOf(Message.ErrorReply.class, m);
            assertTrue(((Message.ErrorReply) m).message().contains("boom"));
            // the reader survived the handler's failure
            assertInstanceOf(Message.ErrorReply.class, c.request(new Message.Ping(2)).get(10, TimeUnit.SECONDS));
            assertTrue(c.isOpen());
        }
    }

    @Test
    void garbageOrMidFrameCloseDropsOnlyThatPeer() throws Exception {
        Net.Recorder serverSide = new Net.Recorder();
        try (Net.LogCapture log = new Net.LogCapture();
             Server s = Net.server(Net.FAST, c -> new Handler() {
                 @Override
                 public void onMessage(Connection conn, Message m, long id) {
                     if (id != 0) {
                         conn.reply(id, m);
                     }
                 }

                 @Override
                 public void onClose(Connection conn, Throwable cause) {
                     serverSide.onClose(conn, cause);
                 }
             });
             Connection good = Net.connect(s, Net.echo())) {
            assertEquals(new Message.Ping(1), good.request(new Message.Ping(1)).get(10, TimeUnit.SECONDS));

            // a peer that handshakes, then sends garbage
            try (SocketChannel bad = rawHandshaken(s.port())) {
                bad.write(ByteBuffer.wrap("this is not a frame list, just text".getBytes()));
                assertEquals(-1, readUntilClosed(bad), "the server drops the peer");
            }
            Object cause = serverSide.closed.poll(10, TimeUnit.SECONDS);
            assertInstanceOf(IOException.class, cause);
            assertTrue(log.waitFor("dropped connection", Duration.ofSeconds(10)), log.lines.toString());
            assertEquals(new Message.Ping(2), good.request(new Message.Ping(2)).get(10, TimeUnit.SECONDS));

            // a peer that closes in the middle of a frame
            try (SocketChannel bad = rawHandshaken(s.port())) {
                ByteBuffer b = ByteBuffer.allocate(4 + 1 + 8 + 8 + 5);
                b.putInt(1).put((byte) 0).putLong(0).putLong(100).put(new byte[5]).flip();
                bad.write(b);
            }
            Object cause2 = serverSide.closed.poll(10, TimeUnit.SECONDS);
            assertInstanceOf(java.io.EOFException.class, cause2);
            assertTrue(((Throwable) cause2).getMessage().contains("5 of 100 bytes"), ((Throwable) cause2).getMessage());
            assertTrue(log.waitFor("inside a message", Duration.ofSeconds(10)), log.lines.toString());
            assertEquals(new Message.Ping(3), good.request(new Message.Ping(3)).get(10, TimeUnit.SECONDS));

            // well-formed frames whose header is no message
            try (SocketChannel bad = rawHandshaken(s.port())) {
                ByteBuffer b = ByteBuffer.allocate(4 + 1 + 8 + 8 + 2);
                b.putInt(1).put((byte) 1).putLong(7).putLong(2).put((byte) 0xff).put((byte) 3).flip();
                bad.write(b);
                assertEquals(-1, readUntilClosed(bad));
            }
            Throwable cause3 = (Throwable) serverSide.closed.poll(10, TimeUnit.SECONDS);
            assertTrue(cause3.getMessage().contains("does not decode"), cause3.getMessage());
            assertEquals(new Message.Ping(4), good.request(new Message.Ping(4)).get(10, TimeUnit.SECONDS));
            assertTrue(good.isOpen());
        }
    }

    @Test
    void overLimitFramesAreRefusedBeforeAllocation() throws Exception {
        CommConfig small = new CommConfig(Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(5),
                4, 1 << 20);
        Net.Recorder serverSide = new Net.Recorder();
        try (Net.LogCapture log = new Net.LogCapture(); Server s = Net.server(small, c -> serverSide)) {
            // 1 TiB announced: the connection drops at once although no payload byte follows
            try (SocketChannel bad = rawHandshaken(s.port())) {
                ByteBuffer b = ByteBuffer.allocate(4 + 1 + 8 + 8);
                b.putInt(1).put((byte) 0).putLong(0).putLong(1L << 40).flip();
                bad.write(b);
                assertEquals(-1, readUntilClosed(bad));
            }
            Throwable cause = (Throwable) serverSide.closed.poll(10, TimeUnit.SECONDS);
            assertTrue(cause.getMessage().contains("1099511627776 bytes") && cause.getMessage().contains("maxFrameBytes"),
                    cause.getMessage());
            // too many frames
            try (SocketChannel bad = rawHandshaken(s.port())) {
                ByteBuffer b = ByteBuffer.allocate(4).putInt(-1).flip();
                bad.write(b);
                assertEquals(-1, readUntilClosed(bad));
            }
            cause = (Throwable) serverSide.closed.poll(10, TimeUnit.SECONDS);
            assertTrue(cause.getMessage().contains("4294967295 frames") && cause.getMessage().contains("maxFrames"),
                    cause.getMessage());
            assertTrue(log.waitFor("CommConfig.maxFrames", Duration.ofSeconds(10)), log.lines.toString());
        }
    }

    @Test
    void badAddressesAndUnreachablePeersGiveClearErrors() throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Connection.connect("localhost", Role.CLIENT, Net.FAST, Net.echo()));
        assertTrue(e.getMessage().contains("'localhost'") && e.getMessage().contains("host:port"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> HostPort.parse("host:99999"));
        assertEquals(new HostPort("::1", 80), HostPort.parse("[::1]:80"));
        assertEquals(new HostPort("a.b", 8786), HostPort.parse("tcp://a.b:8786"));

        int port;
        try (var probe = java.nio.channels.ServerSocketChannel.open()) {
            probe.bind(new InetSocketAddress("127.0.0.1", 0));
            port = ((InetSocketAddress) probe.getLocalAddress()).getPort();
        }
        CommConfig quick = new CommConfig(Duration.ofMillis(300), Duration.ofSeconds(1), Duration.ofSeconds(1),
                16, 1024);
        IOException io = assertThrows(IOException.class,
                () -> Connection.connect("127.0.0.1:" + port, Role.CLIENT, quick, Net.echo()));
        assertTrue(io.getMessage().contains("127.0.0.1:" + port) && io.getMessage().contains("attempts"), io.getMessage());
    }

    @Test
    void connectRetriesUntilTheServerComesUp() throws Exception {
        int port;
        try (var probe = java.nio.channels.ServerSocketChannel.open()) {
            probe.bind(new InetSocketAddress("127.0.0.1", 0));
            port = ((InetSocketAddress) probe.getLocalAddress()).getPort();
        }
        CompletableFuture<Connection> f = CompletableFuture.supplyAsync(() -> {
            try {
                return Connection.connect("127.0.0.1:" + port, Role.WORKER, Net.FAST, Net.echo(), Net.CODEC);
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(200);
        try (Server s = Server.listen("127.0.0.1", port, Role.SCHEDULER, Net.FAST, c -> Net.echo(), Net.CODEC);
             Connection c = f.get(10, TimeUnit.SECONDS)) {
            assertEquals(new Message.Ping(5), c.request(new Message.Ping(5)).get(10, TimeUnit.SECONDS));
            assertEquals(Role.WORKER, s.connections().getFirst().peerRole());
        }
    }

    static SocketChannel rawHandshaken(int port) throws IOException {
        SocketChannel ch = SocketChannel.open(new InetSocketAddress("127.0.0.1", port));
        ch.write(ByteBuffer.wrap(dist.protocol.Handshake.encode(Role.CLIENT, dist.protocol.Handshake.VERSION)));
        ByteBuffer theirs = ByteBuffer.allocate(dist.protocol.Handshake.BYTES);
        while (theirs.hasRemaining()) {
            if (ch.read(theirs) < 0) {
                throw new IOException("server closed during handshake");
            }
        }
        return ch;
    }

    /** Reads and discards until the peer closes; bounded by the socket timeout. */
    static int readUntilClosed(SocketChannel ch) throws IOException {
        ch.socket().setSoTimeout(10_000);
        var in = ch.socket().getInputStream();
        byte[] b = new byte[4096];
        try {
            while (true) {
                int r = in.read(b);
                if (r < 0) {
                    return r;
                }
            }
        } catch (java.net.SocketException reset) {
            return -1; // a reset also means the server dropped us
        }
    }
}
