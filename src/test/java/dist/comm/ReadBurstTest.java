package dist.comm;

import dist.protocol.Envelope;
import dist.protocol.FrameWriter;
import dist.protocol.Message;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * One-way messages that arrive together are handled together: a reader whose handler batches reads
 * defers its event loops while more whole messages are at hand, so their events form one batch (one
 * pass of a state machine, one write per peer) instead of one batch each.
 */
@Timeout(60)
class ReadBurstTest {

    /** A handler that submits every Ping to a loop that records its batches. */
    private static final class Batching implements Handler {
        final LinkedBlockingQueue<List<Long>> batches = new LinkedBlockingQueue<>();
        final LinkedBlockingQueue<String> order = new LinkedBlockingQueue<>();
        final EventLoop<Long> loop = new EventLoop<>(b -> {
            batches.add(List.copyOf(b));
            b.forEach(n -> order.add("event " + n));
        }, 4096);
        final boolean batchesReads;

        Batching(boolean batchesReads) {
            this.batchesReads = batchesReads;
        }

        @Override
        public void onMessage(Connection c, Message m, long requestId) {
            long n = ((Message.Ping) m).nonce();
            if (requestId != 0) {
                order.add("request " + n); // handled on the reader, after what came before it
                c.reply(requestId, m);
                return;
            }
            loop.submit(n);
        }

        @Override
        public boolean batchesReads() {
            return batchesReads;
        }
    }

    private static byte[] wire(Envelope.Kind kind, long id, Message m) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (ByteBuffer b : FrameWriter.encode(new Envelope(kind, id, Net.CODEC.encode(m)))) {
            byte[] a = new byte[b.remaining()];
            b.get(a);
            out.writeBytes(a);
        }
        return out.toByteArray();
    }

    /** {@code n} one-way pings, numbered from {@code first}, as the bytes of one write. */
    private static byte[] pings(long first, int n) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < n; i++) {
            out.writeBytes(wire(Envelope.Kind.ONE_WAY, 0, new Message.Ping(first + i)));
        }
        return out.toByteArray();
    }

    private static void writeAll(SocketChannel ch, byte[] bytes) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static List<Long> drain(Batching h, int events) throws InterruptedException {
        List<Long> all = new ArrayList<>();
        while (all.size() < events) {
            List<Long> b = h.batches.poll(10, TimeUnit.SECONDS);
            assertNotNull(b, "events handled so far: " + all);
            all.addAll(b);
        }
        return all;
    }

    @Test
    void messagesThatArriveInOneReadAreHandledInOneBatch() throws Exception {
        Batching h = new Batching(true);
        try (Server s = Net.server(Net.FAST, c -> h); SocketChannel ch = ConnectionTest.rawHandshaken(s.port())) {
            writeAll(ch, pings(1, 100)); // 100 small messages in one write: one segment on loopback
            List<Long> first = h.batches.poll(10, TimeUnit.SECONDS);
            assertNotNull(first, "no batch was handled");
            // the reader may have caught the bytes in two reads at most; never one batch per message
            List<Long> all = new ArrayList<>(first);
            if (all.size() < 100) {
                all.addAll(drain(h, 100 - all.size()));
            }
            assertTrue(first.size() >= 50, "the first batch held " + first.size() + " of 100 messages read together");
            for (int i = 0; i < 100; i++) {
                assertEquals(i + 1, all.get(i), "in order");
            }
        }
    }

    @Test
    void withoutBatchingEachMessageIsABatchOfItsOwn() throws Exception {
        Batching h = new Batching(false);
        try (Server s = Net.server(Net.FAST, c -> h); SocketChannel ch = ConnectionTest.rawHandshaken(s.port())) {
            writeAll(ch, pings(1, 20));
            for (int i = 0; i < 20; i++) {
                assertEquals(List.of(i + 1L), h.batches.poll(10, TimeUnit.SECONDS));
            }
        }
    }

    @Test
    void aRequestIsHandledAfterTheEventsOfTheMessagesBeforeIt() throws Exception {
        Batching h = new Batching(true);
        try (Server s = Net.server(Net.FAST, c -> h); SocketChannel ch = ConnectionTest.rawHandshaken(s.port())) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.writeBytes(pings(1, 3));
            out.writeBytes(wire(Envelope.Kind.REQUEST, 7, new Message.Ping(4)));
            out.writeBytes(pings(5, 2));
            writeAll(ch, out.toByteArray());
            List<String> seen = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                String o = h.order.poll(10, TimeUnit.SECONDS);
                assertNotNull(o, "seen so far: " + seen);
                seen.add(o);
            }
            assertEquals(List.of("event 1", "event 2", "event 3", "request 4", "event 5", "event 6"), seen);
        }
    }

    @Test
    void aMessageIsNotHeldBackByThePartOfTheNextThatHasArrived() throws Exception {
        Batching h = new Batching(true);
        try (Server s = Net.server(Net.FAST, c -> h); SocketChannel ch = ConnectionTest.rawHandshaken(s.port())) {
            byte[] next = wire(Envelope.Kind.ONE_WAY, 0, new Message.Ping(3));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.writeBytes(pings(1, 2));
            out.write(next, 0, next.length / 2);
            writeAll(ch, out.toByteArray());
            // the peer has not sent the rest of the third: the first two are handled meanwhile
            assertEquals(List.of(1L, 2L), drain(h, 2));
            byte[] rest = new byte[next.length - next.length / 2];
            System.arraycopy(next, next.length / 2, rest, 0, rest.length);
            writeAll(ch, rest);
            assertEquals(List.of(3L), drain(h, 1));
        }
    }

    @Test
    void eventsDeferredBeforeThePeerLeavesAreStillHandled() throws Exception {
        Batching h = new Batching(true);
        try (Server s = Net.server(Net.FAST, c -> h)) {
            try (SocketChannel ch = ConnectionTest.rawHandshaken(s.port())) {
                byte[] next = wire(Envelope.Kind.ONE_WAY, 0, new Message.Ping(6));
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                out.writeBytes(pings(1, 5));
                out.write(next, 0, 3); // a message cut short: the stream ends inside it
                writeAll(ch, out.toByteArray());
            }
            assertEquals(List.of(1L, 2L, 3L, 4L, 5L), drain(h, 5));
        }
    }
}
