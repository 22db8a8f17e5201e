package dist.protocol;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class FrameTest {

    private static byte[] wire(Envelope... es) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        var ch = Channels.newChannel(out);
        for (Envelope e : es) {
            for (ByteBuffer b : FrameWriter.encode(e)) {
                ch.write(b);
            }
        }
        return out.toByteArray();
    }

    private static FrameReader reader(byte[] bytes, FrameLimits limits) {
        return new FrameReader(Channels.newChannel(new ByteArrayInputStream(bytes)), limits);
    }

    @Test
    void envelopesRoundTripWithSmallAndLargeFrames() throws IOException {
        Random r = new Random(1);
        byte[] big = new byte[3 * FrameWriter.CHUNK + 17];
        r.nextBytes(big);
        byte[] mid = new byte[FrameReader.BUFFER_BYTES - 3];
        r.nextBytes(mid);
        Envelope a = new Envelope(Envelope.Kind.REQUEST, 42, List.of(new byte[] {1, 2, 3}, big, new byte[0], mid, new byte[] {9}));
        Envelope b = new Envelope(Envelope.Kind.REPLY, 42, List.of(new byte[] {7}));
        Envelope c = new Envelope(Envelope.Kind.ONE_WAY, 0, List.of(new byte[FrameWriter.INLINE_MAX]));
        FrameReader in = reader(wire(a, b, c), FrameLimits.DEFAULT);
        for (Envelope want : List.of(a, b, c)) {
            Envelope got = in.read();
            assertEquals(want.kind(), got.kind());
            assertEquals(want.requestId(), got.requestId());
            assertEquals(want.frames().size(), got.frames().size());
            for (int i = 0; i < want.frames().size(); i++) {
                assertArrayEquals(want.frames().get(i), got.frames().get(i), "frame " + i);
            }
        }
        assertNull(in.read(), "clean end at a message boundary");
    }

    @Test
    void theReaderTellsWhetherTheNextMessageHasArrivedWhole() throws IOException {
        Envelope small = new Envelope(Envelope.Kind.ONE_WAY, 0, List.of(new byte[] {1, 2}, new byte[] {3}));
        Envelope large = new Envelope(Envelope.Kind.ONE_WAY, 0, List.of(new byte[FrameReader.BUFFER_BYTES + 1]));
        byte[] two = wire(small, small);
        // the whole stream: after the first, the second is buffered whole
        FrameReader in = reader(two, FrameLimits.DEFAULT);
        assertFalse(in.hasWholeMessage(), "nothing is buffered before the first read");
        in.read();
        assertTrue(in.hasWholeMessage());
        in.read();
        assertFalse(in.hasWholeMessage(), "nothing follows the last");
        // the second cut short, at every length: never whole
        for (int cut = two.length / 2 + 1; cut < two.length; cut++) {
            FrameReader part = reader(java.util.Arrays.copyOf(two, cut), FrameLimits.DEFAULT);
            part.read();
            assertFalse(part.hasWholeMessage(), "cut at " + cut);
        }
        // a message larger than the read buffer is never whole before it is read
        FrameReader big = reader(wire(small, large), FrameLimits.DEFAULT);
        big.read();
        assertFalse(big.hasWholeMessage());
        assertEquals(FrameReader.BUFFER_BYTES + 1, big.read().frames().get(0).length);
    }

    @Test
    void largeFramesAreWrittenFromTheirOwnArray() {
        byte[] big = new byte[FrameWriter.CHUNK + 1];
        ByteBuffer[] bufs = FrameWriter.encode(new Envelope(Envelope.Kind.ONE_WAY, 0, List.of(new byte[] {1}, big)));
        assertEquals(3, bufs.length, "prefix+header, then the payload in two chunk views");
        assertSame(big, bufs[1].array());
        assertSame(big, bufs[2].array());
        assertEquals(FrameWriter.prefixBytes(2) + 1 + big.length, FrameWriter.remaining(bufs));
    }

    @Test
    void endOfStreamInsideAMessageIsAnError() throws IOException {
        byte[] whole = wire(new Envelope(Envelope.Kind.ONE_WAY, 0, List.of(new byte[100])));
        for (int cut : new int[] {2, 10, 21, 50, whole.length - 1}) {
            byte[] part = java.util.Arrays.copyOf(whole, cut);
            assertThrows(TruncatedFrameException.class, () -> reader(part, FrameLimits.DEFAULT).read(), "cut at " + cut);
        }
    }

    @Test
    void limitsAreCheckedBeforeAllocation() {
        // 2^32-1 frames would need a 32 GiB length table; refused on the count alone
        byte[] many = ByteBuffer.allocate(4).putInt(-1).array();
        FrameLimitException e = assertThrows(FrameLimitException.class, () -> reader(many, FrameLimits.DEFAULT).read());
        assertTrue(e.getMessage().contains("maxFrames"), e.getMessage());
        // 1 TiB frame, no payload behind it: refused on the length alone
        byte[] huge = ByteBuffer.allocate(21).putInt(1).put((byte) 0).putLong(0).putLong(1L << 40).array();
        e = assertThrows(FrameLimitException.class, () -> reader(huge, FrameLimits.DEFAULT).read());
        assertTrue(e.getMessage().contains("1099511627776") && e.getMessage().contains("maxFrameBytes"), e.getMessage());
        // a negative length (top bit set) is over the limit too
        byte[] neg = ByteBuffer.allocate(21).putInt(1).put((byte) 0).putLong(0).putLong(-5).array();
        assertThrows(FrameLimitException.class, () -> reader(neg, FrameLimits.DEFAULT).read());
        // within the protocol but over a tight configured limit
        byte[] two = ByteBuffer.allocate(29).putInt(2).put((byte) 0).putLong(0).putLong(1).putLong(1).array();
        assertThrows(FrameLimitException.class, () -> reader(two, new FrameLimits(1, 10)).read());
    }

    @Test
    void garbageIsAFormatErrorNotACrash() {
        byte[] zero = ByteBuffer.allocate(4).putInt(0).array();
        assertThrows(FrameFormatException.class, () -> reader(zero, FrameLimits.DEFAULT).read());
        byte[] kind = ByteBuffer.allocate(13).putInt(1).put((byte) 9).putLong(0).array();
        FrameFormatException e = assertThrows(FrameFormatException.class, () -> reader(kind, FrameLimits.DEFAULT).read());
        assertTrue(e.getMessage().contains("kind 9"), e.getMessage());
        Random r = new Random(7);
        for (int i = 0; i < 2000; i++) {
            byte[] junk = new byte[r.nextInt(64)];
            r.nextBytes(junk);
            FrameReader in = reader(junk, new FrameLimits(8, 1 << 16));
            try {
                while (in.read() != null) {
                    // keep reading whatever parses
                }
            } catch (IOException expected) {
                // every malformed input ends in an IOException
            }
        }
    }

    @Test
    void handshakeDescribesWhatThePeerSent() throws IOException {
        assertEquals(Role.WORKER, Handshake.read(channel(Handshake.encode(Role.WORKER, Handshake.VERSION))));
        HandshakeException e = assertThrows(HandshakeException.class, () -> Handshake.read(channel("GET / HTTP/1.1".getBytes())));
        assertTrue(e.getMessage().contains("'GET / '") && e.getMessage().contains("HTTP client?"), e.getMessage());
        e = assertThrows(HandshakeException.class, () -> Handshake.read(channel(new byte[] {0x16, 0x03, 0x01, 0, 5, 1, 0})));
        assertTrue(e.getMessage().contains("0x160301000501") && e.getMessage().contains("TLS"), e.getMessage());
        int other = Handshake.VERSION + 1;
        e = assertThrows(HandshakeException.class, () -> Handshake.read(channel(Handshake.encode(Role.CLIENT, other))));
        assertTrue(e.getMessage().contains("protocol version " + other + ", expected " + Handshake.VERSION), e.getMessage());
        byte[] badRole = Handshake.encode(Role.CLIENT, Handshake.VERSION);
        badRole[6] = 42;
        e = assertThrows(HandshakeException.class, () -> Handshake.read(channel(badRole)));
        assertTrue(e.getMessage().contains("unknown role 42"), e.getMessage());
        e = assertThrows(HandshakeException.class, () -> Handshake.read(channel("DI".getBytes())));
        assertTrue(e.getMessage().contains("closed the connection after 2 of " + Handshake.BYTES), e.getMessage());
        e = assertThrows(HandshakeException.class, () -> Handshake.read(channel(new byte[0])));
        assertTrue(e.getMessage().contains("before sending any handshake byte"), e.getMessage());
    }

    private static ReadableByteChannel channel(byte[] b) {
        return Channels.newChannel(new ByteArrayInputStream(b));
    }

    @Test
    void envelopeRejectsAnEmptyFrameList() {
        assertThrows(IllegalArgumentException.class, () -> new Envelope(Envelope.Kind.ONE_WAY, 0, new ArrayList<>()));
    }
}
