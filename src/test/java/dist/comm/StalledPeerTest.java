package dist.comm;

import dist.protocol.Message;
import dist.protocol.Role;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Peers that stop reading or go silent cost themselves, never the thread that sends to them: sends
 * return at once, and the peer is dropped past the write deadline, the send-queue bound or the idle
 * timeout, with a log line that says why. Honest slow peers and long handlers are not dropped.
 */
@Timeout(90)
class StalledPeerTest {

    /** 64 KiB that no codec shrinks. */
    static final byte[] CHUNK = new byte[64 << 10];

    static {
        new Random(42).nextBytes(CHUNK);
    }

    static Message chunk(int i) {
        return new Message.KeyInMemory("k" + i, List.of(), CHUNK.length, CHUNK);
    }

    static CommConfig config(Duration write, long queueBytes, Duration keepalive, Duration idle) {
        return Net.FAST.withLiveness(new CommConfig.Liveness(write, queueBytes, keepalive, idle));
    }

    /** A server whose accepted connections arrive in {@code accepted}, their handlers recording into {@code rec}. */
    static Server server(CommConfig cfg, LinkedBlockingQueue<Connection> accepted, Handler h) throws IOException {
        return Net.server(cfg, c -> {
            accepted.add(c);
            return h;
        });
    }

    /**
     * Sends {@code n} chunks to {@code to} from inside an event loop's batch, as a scheduler does;
     * completes with how many were sent before the connection closed.
     */
    static CompletableFuture<Integer> sendFromEventLoop(Connection to, int n) {
        CompletableFuture<Integer> sent = new CompletableFuture<>();
        EventLoop<Integer> loop = new EventLoop<>(batch -> {
            int i = 0;
            try {
                for (; i < n; i++) {
                    to.send(chunk(i));
                }
            } catch (ConnectionClosedException e) {
                // dropped: what a state machine sees as a peer gone
            }
            sent.complete(i);
        }, 16);
        Thread.ofVirtual().start(() -> loop.submit(1));
        return sent;
    }

    @Test
    void sendsToAPeerThatReadsNothingReturnAtOnceAndItIsDroppedPastTheWriteDeadline() throws Exception {
        CommConfig cfg = config(Duration.ofSeconds(1), 64L << 20, Duration.ofSeconds(10), Duration.ofSeconds(60));
        LinkedBlockingQueue<Connection> accepted = new LinkedBlockingQueue<>();
        Net.Recorder rec = new Net.Recorder();
        try (Net.LogCapture log = new Net.LogCapture(); Server s = server(cfg, accepted, rec);
             SocketChannel raw = ConnectionTest.rawHandshaken(s.port())) {
            Connection toRaw = accepted.poll(10, TimeUnit.SECONDS);
            assertNotNull(toRaw);
            try {
                // 25 MiB, several times what the socket buffers hold, to a peer that reads nothing
                CompletableFuture<Integer> sent = sendFromEventLoop(toRaw, 400);
                assertEquals(400, sent.get(20, TimeUnit.SECONDS),
                        "every send returned although the peer reads nothing");

                Object cause = rec.closed.poll(20, TimeUnit.SECONDS);
                assertInstanceOf(StalledPeerException.class, cause, String.valueOf(cause));
                assertTrue(((Throwable) cause).getMessage().contains("did not read for 1 s with"),
                        ((Throwable) cause).getMessage());
                assertTrue(log.waitFor("(CLIENT): the peer did not read for 1 s with", Duration.ofSeconds(10)),
                        log.lines.toString());
                assertTrue(log.lines.stream().anyMatch(l -> l.startsWith("WARNING dropped connection to 127.0.0.1:")),
                        log.lines.toString());
                assertEquals(-1, ConnectionTest.readUntilClosed(raw), "the peer sees the connection end");
                assertThrows(ConnectionClosedException.class, () -> toRaw.send(new Message.Ping(1)));
            } finally {
                toRaw.abort(new IOException("test over")); // frees a sender the old blocking write still holds
            }
        }
    }

    @Test
    void aStateMachineThreadNeverWaitsForRoomThePeerPastTheQueueBoundIsDropped() throws Exception {
        CommConfig cfg = config(Duration.ofSeconds(60), 1L << 20, Duration.ofSeconds(10), Duration.ofSeconds(60));
        LinkedBlockingQueue<Connection> accepted = new LinkedBlockingQueue<>();
        Net.Recorder rec = new Net.Recorder();
        try (Net.LogCapture log = new Net.LogCapture(); Server s = server(cfg, accepted, rec);
             SocketChannel raw = ConnectionTest.rawHandshaken(s.port())) {
            Connection toRaw = accepted.poll(10, TimeUnit.SECONDS);
            assertNotNull(toRaw);
            try {
                CompletableFuture<Integer> sent = sendFromEventLoop(toRaw, 2000); // 125 MiB offered
                int n = sent.get(20, TimeUnit.SECONDS);
                assertTrue(n < 2000, "the peer was dropped before all was queued; sent " + n);
                Object cause = rec.closed.poll(10, TimeUnit.SECONDS);
                assertInstanceOf(StalledPeerException.class, cause, String.valueOf(cause));
                String why = ((Throwable) cause).getMessage();
                assertTrue(why.contains("fell behind") && why.contains("dist.comm.max-send-queue-bytes"), why);
                assertTrue(log.waitFor("(CLIENT): the peer fell behind", Duration.ofSeconds(10)), log.lines.toString());
            } finally {
                toRaw.abort(new IOException("test over"));
            }
        }
    }

    @Test
    void aBurstOverTheBoundToAPeerThatKeepsReadingIsNotDropped() throws Exception {
        // one batch of a state machine queues 28 MiB at once, over twice the 8 MiB bound (more than the
        // socket buffers hold); the peer reads all of it, 64 KiB every 5 ms
        CommConfig cfg = config(Duration.ofSeconds(30), 8L << 20, Duration.ofSeconds(10), Duration.ofSeconds(60));
        int n = 448;
        LinkedBlockingQueue<Connection> accepted = new LinkedBlockingQueue<>();
        Net.Recorder serverSide = new Net.Recorder();
        LinkedBlockingQueue<String> got = new LinkedBlockingQueue<>();
        try (Server s = server(cfg, accepted, serverSide);
             Connection c = Connection.connect("127.0.0.1:" + s.port(), Role.CLIENT, cfg, (conn, m, id) -> {
                 if (m instanceof Message.KeyInMemory k) {
                     sleep(5);
                     got.add(k.key());
                 }
             }, Net.CODEC)) {
            Connection toClient = accepted.poll(10, TimeUnit.SECONDS);
            assertNotNull(toClient);
            assertEquals(n, sendFromEventLoop(toClient, n).get(20, TimeUnit.SECONDS));
            for (int i = 0; i < n; i++) {
                assertEquals("k" + i, got.poll(20, TimeUnit.SECONDS), "chunk " + i);
            }
            assertTrue(toClient.isOpen() && c.isOpen());
            assertNull(serverSide.closed.poll(), "the reading peer was not dropped");
        }
    }

    @Test
    void anApplicationThreadWaitsForRoomInsteadAndTheWriteDeadlineReleasesIt() throws Exception {
        CommConfig cfg = config(Duration.ofSeconds(1), 1L << 20, Duration.ofSeconds(10), Duration.ofSeconds(60));
        LinkedBlockingQueue<Connection> accepted = new LinkedBlockingQueue<>();
        try (Server s = server(cfg, accepted, new Net.Recorder());
             SocketChannel raw = ConnectionTest.rawHandshaken(s.port())) {
            Connection toRaw = accepted.poll(10, TimeUnit.SECONDS);
            assertNotNull(toRaw);
            AtomicReference<Throwable> ended = new AtomicReference<>();
            AtomicInteger sent = new AtomicInteger();
            Thread app = Thread.ofVirtual().start(() -> {
                try {
                    for (int i = 0; i < 2000; i++) {
                        toRaw.send(chunk(i));
                        sent.incrementAndGet();
                    }
                } catch (RuntimeException e) {
                    ended.set(e);
                }
            });
            try {
                assertTrue(app.join(Duration.ofSeconds(20)), "the waiting sender was released; sent " + sent.get());
                Throwable e = ended.get();
                assertInstanceOf(ConnectionClosedException.class, e, String.valueOf(e));
                // it waited for room (the write deadline ended the wait), it did not overflow the queue
                assertTrue(e.getMessage().contains("did not read for 1 s"), e.getMessage());
                assertTrue(sent.get() < 2000, "sent " + sent.get());
            } finally {
                toRaw.abort(new IOException("test over"));
            }
        }
    }

    @Test
    void aPeerThatReadsSlowlyIsNeverDroppedAndGetsEverythingInOrder() throws Exception {
        // bounds far below what the transfer takes: it lasts seconds, the bounds are 256 KiB and 1 s
        CommConfig cfg = config(Duration.ofSeconds(1), 256 << 10, Duration.ofMillis(200), Duration.ofSeconds(1));
        int n = 150;
        LinkedBlockingQueue<Integer> got = new LinkedBlockingQueue<>();
        Net.Recorder serverSide = new Net.Recorder();
        try (Server s = Net.server(cfg, c -> new Handler() {
            @Override
            public void onMessage(Connection conn, Message m, long id) {
                if (m instanceof Message.KeyInMemory k) {
                    sleep(20); // a reader slower than the sender, as over a thin link
                    got.add(java.util.Arrays.equals(k.value(), CHUNK) ? Integer.parseInt(k.key().substring(1)) : -1);
                } else if (id != 0) {
                    conn.reply(id, m);
                }
            }

            @Override
            public void onClose(Connection conn, Throwable cause) {
                serverSide.onClose(conn, cause);
            }
        })) {
            Net.Recorder clientSide = new Net.Recorder();
            try (Connection c = Connection.connect("127.0.0.1:" + s.port(), Role.CLIENT, cfg, clientSide, Net.CODEC)) {
                for (int i = 0; i < n; i++) {
                    c.send(chunk(i)); // waits for room past 256 KiB: backpressure, not a drop
                }
                for (int i = 0; i < n; i++) {
                    assertEquals(i, got.poll(20, TimeUnit.SECONDS), "chunk " + i);
                }
                // quiet for longer than the idle timeout: the keepalive pings keep both ends
                Thread.sleep(2500);
                assertEquals(new Message.Ping(7), c.request(new Message.Ping(7)).get(10, TimeUnit.SECONDS));
                assertTrue(c.isOpen());
                assertNull(clientSide.closed.poll(), "client side still open");
                assertNull(serverSide.closed.poll(), "server side still open");
            }
        }
    }

    @Test
    void aPeerThatSendsNothingIsDroppedPastTheIdleTimeoutWhileALongHandlerIsNot() throws Exception {
        CommConfig cfg = config(Duration.ofSeconds(30), 64L << 20, Duration.ofMillis(200), Duration.ofSeconds(1));
        LinkedBlockingQueue<Connection> accepted = new LinkedBlockingQueue<>();
        LinkedBlockingQueue<Object> closed = new LinkedBlockingQueue<>();
        try (Net.LogCapture log = new Net.LogCapture(); Server s = server(cfg, accepted, new Handler() {
            @Override
            public void onMessage(Connection conn, Message m, long id) {
                if (m instanceof Message.Ping p && p.nonce() == 5) {
                    sleep(2500); // a long handler on the reader thread, reading not even lent
                }
                if (id != 0) {
                    conn.reply(id, m);
                }
            }

            @Override
            public void onClose(Connection conn, Throwable cause) {
                closed.add(conn.peerAddress() + " " + (cause == null ? "clean" : cause.getMessage()));
            }
        })) {
            Net.Recorder clientSide = new Net.Recorder();
            try (SocketChannel silent = ConnectionTest.rawHandshaken(s.port());
                 Connection healthy = Connection.connect("127.0.0.1:" + s.port(), Role.CLIENT, cfg, clientSide,
                         Net.CODEC)) {
                String silentAddress = Connection.addressOf(silent.getLocalAddress());
                // the healthy client waits 2.5 s for a reply while its peer's reader is busy: its pings keep it
                assertEquals(new Message.Ping(5), healthy.request(new Message.Ping(5)).get(20, TimeUnit.SECONDS));

                Object c = closed.poll(10, TimeUnit.SECONDS);
                assertNotNull(c, "the silent peer was dropped");
                assertTrue(c.toString().startsWith(silentAddress + " nothing arrived from the peer for 1 s"), c.toString());
                assertTrue(log.waitFor("dropped connection to " + silentAddress + " (CLIENT): nothing arrived",
                        Duration.ofSeconds(10)), log.lines.toString());

                Thread.sleep(2000);
                assertTrue(healthy.isOpen());
                assertNull(clientSide.closed.poll(), "the healthy client is still connected");
                assertNull(closed.poll(), "and the server kept it");
                assertEquals(new Message.Ping(6), healthy.request(new Message.Ping(6)).get(10, TimeUnit.SECONDS));
            }
        }
    }

    @Test
    void closeNeverWaitsForAPeerThatDoesNotReadAndTheDeadlineEndsIt() throws Exception {
        CommConfig cfg = config(Duration.ofSeconds(1), 64L << 20, Duration.ofSeconds(10), Duration.ofSeconds(60));
        LinkedBlockingQueue<Connection> accepted = new LinkedBlockingQueue<>();
        Net.Recorder rec = new Net.Recorder();
        try (Server s = server(cfg, accepted, rec); SocketChannel raw = ConnectionTest.rawHandshaken(s.port())) {
            Connection toRaw = accepted.poll(10, TimeUnit.SECONDS);
            assertNotNull(toRaw);
            try {
                assertEquals(200, sendFromEventLoop(toRaw, 200).get(20, TimeUnit.SECONDS));
                CountDownLatch closedCall = new CountDownLatch(1);
                Thread.ofVirtual().start(() -> {
                    toRaw.close();
                    closedCall.countDown();
                });
                assertTrue(closedCall.await(10, TimeUnit.SECONDS), "close() returned with 12 MiB unsent");
                Object cause = rec.closed.poll(20, TimeUnit.SECONDS);
                assertInstanceOf(StalledPeerException.class, cause, String.valueOf(cause));
            } finally {
                toRaw.abort(new IOException("test over"));
            }
        }
    }

    @Test
    void aPeerFloodingAnEventLoopHoldsUpItselfNotTheOthers() throws Exception {
        // a state machine behind an event loop, 100 µs per event; one peer sends it 100,000 messages at once
        EventLoop<Runnable> loop = new EventLoop<>(batch -> {
            for (Runnable r : batch) {
                long end = System.nanoTime() + 100_000;
                while (System.nanoTime() < end) {
                    Thread.onSpinWait();
                }
                r.run();
            }
        }, 256);
        try (Server s = Net.server(Net.FAST, c -> (conn, m, id) -> loop.submit(() -> {
            if (id != 0) {
                conn.reply(id, m);
            }
        })); SocketChannel flood = ConnectionTest.rawHandshaken(s.port());
             Connection honest = Net.connect(s, Net.echo())) {
            java.nio.ByteBuffer one = dist.protocol.FrameWriter.encode(new dist.protocol.Envelope(
                    dist.protocol.Envelope.Kind.ONE_WAY, 0, Net.CODEC.encode(new Message.Ping(1))))[0];
            java.nio.ByteBuffer all = java.nio.ByteBuffer.allocate(one.remaining() * 100_000);
            while (all.hasRemaining()) {
                all.put(one.duplicate());
            }
            all.flip();
            java.util.concurrent.atomic.AtomicLong sent = new java.util.concurrent.atomic.AtomicLong();
            Thread writer = Thread.ofVirtual().start(() -> {
                try {
                    while (all.hasRemaining()) {
                        sent.addAndGet(flood.write(all));
                    }
                } catch (IOException e) {
                    // closed at the end of the test
                }
            });
            try {
                // the flood is in: far more than one reader may have waiting in the loop
                assertTrue(dist.Wait.until(Duration.ofSeconds(10), () -> sent.get() >= 1 << 20), "flooded " + sent);
                for (int i = 0; i < 3; i++) {
                    // behind the whole flood this would wait 10 s; behind what one reader may queue, a moment
                    assertEquals(new Message.Ping(i), honest.request(new Message.Ping(i)).get(3, TimeUnit.SECONDS));
                }
            } finally {
                flood.close();
                writer.join(10_000);
            }
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
