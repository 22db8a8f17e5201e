package dist.compress;

import dist.TcpRelay;
import dist.serial.Encoded;

import dist.comm.CommConfig;
import dist.comm.Connection;
import dist.comm.Handler;
import dist.comm.Server;
import dist.protocol.Envelope;
import dist.protocol.FrameFormatException;
import dist.protocol.FrameLimits;
import dist.protocol.FrameReader;
import dist.protocol.FrameWriter;
import dist.protocol.Message;
import dist.protocol.Role;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Compressed payload frames through FrameWriter and FrameReader, and across a real connection. */
@Timeout(60)
class WireTest {

    @AfterEach
    void clearProperty() {
        System.clearProperty(Compression.PROPERTY);
    }

    private static byte[] wire(ByteBuffer[] buffers) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        var ch = Channels.newChannel(out);
        for (ByteBuffer b : buffers) {
            ch.write(b);
        }
        return out.toByteArray();
    }

    private static Envelope read(byte[] bytes, FrameLimits limits) throws IOException {
        return new FrameReader(Channels.newChannel(new ByteArrayInputStream(bytes)), limits).read();
    }

    @Test
    void payloadFramesAreCompressedAndTheHeaderIsNot() throws IOException {
        Random r = new Random(1);
        byte[] header = Shapes.text(r, 20_000);
        byte[] text = Shapes.text(r, 3 << 20);
        byte[] random = Shapes.random(r, 100_000);
        byte[] small = Shapes.text(r, 1000);
        Envelope e = new Envelope(Envelope.Kind.REQUEST, 9, List.of(header, text, random, small, new byte[0]));
        for (Compression c : List.of(Compression.LZ4, Compression.DEFLATE)) {
            ByteBuffer[] buffers = FrameWriter.encode(e, c);
            byte[] bytes = wire(buffers);
            long plain = FrameWriter.remaining(FrameWriter.encode(e));
            assertTrue(bytes.length < plain - text.length / 2, c + ": " + bytes.length + " of " + plain + " bytes");
            ByteBuffer prefix = ByteBuffer.wrap(bytes);
            int at = FrameWriter.prefixBytes(0);
            long[] words = new long[5];
            for (int i = 0; i < 5; i++) {
                words[i] = prefix.getLong(at + 8 * i);
            }
            assertEquals(header.length, words[0], "header frame plain");
            assertEquals(c.codec().id(), words[1] >>> 56, "text frame compressed");
            assertEquals(random.length, words[2], "random frame plain");
            assertEquals(small.length, words[3], "1000 bytes: under the floor");
            Envelope back = read(bytes, FrameLimits.DEFAULT);
            assertEquals(9, back.requestId());
            for (int i = 0; i < 5; i++) {
                assertArrayEquals(e.frames().get(i), back.frames().get(i), c + " frame " + i);
            }
        }
    }

    @Test
    void noneAndPlainEncodeLeaveFramesAlone() throws IOException {
        byte[] zeros = new byte[100_000];
        Envelope e = new Envelope(Envelope.Kind.ONE_WAY, 0, List.of(new byte[] {1}, zeros));
        assertEquals(FrameWriter.remaining(FrameWriter.encode(e)), wire(FrameWriter.encode(e, Compression.NONE)).length);
        assertEquals(1 + zeros.length + FrameWriter.prefixBytes(2), FrameWriter.remaining(FrameWriter.encode(e)));
    }

    @Test
    void badCompressedFramesAreClearFormatErrors() throws IOException {
        byte[] zeros = new byte[200_000];
        Envelope e = new Envelope(Envelope.Kind.ONE_WAY, 0, List.of(new byte[] {1}, zeros));
        byte[] good = wire(FrameWriter.encode(e, Compression.LZ4));
        int word1 = FrameWriter.prefixBytes(0) + 8;
        int body = FrameWriter.prefixBytes(2) + 1;

        FrameFormatException x = assertThrows(FrameFormatException.class,
                () -> read(good, new FrameLimits(8, 100_000)));
        assertTrue(x.getMessage().contains("over the limit"), x.getMessage());

        byte[] corrupt = good.clone();
        // frame: u32 length, u32 block length, token, literal 0, offset 1, then the match length's 255s
        assertEquals(-1, corrupt[body + 12]);
        corrupt[body + 12] = 0; // the match falls 255 bytes short of the declared length
        x = assertThrows(FrameFormatException.class, () -> read(corrupt, FrameLimits.DEFAULT));
        assertTrue(x.getMessage().contains("frame 1 of 2 does not decompress"), x.getMessage());

        byte[] unknown = good.clone();
        unknown[word1] = 9;
        x = assertThrows(FrameFormatException.class, () -> read(unknown, FrameLimits.DEFAULT));
        assertTrue(x.getMessage().contains("codec 9"), x.getMessage());

        byte[] header = good.clone();
        header[FrameWriter.prefixBytes(0)] = Lz4.ID;
        x = assertThrows(FrameFormatException.class, () -> read(header, FrameLimits.DEFAULT));
        assertTrue(x.getMessage().contains("header frame is never compressed"), x.getMessage());
    }

    /** Sends a 10 MB compressible payload through a counting proxy; the bytes that crossed it. */
    private static long sendTenMegabytes(String compression) throws Exception {
        if (compression != null) {
            System.setProperty(Compression.PROPERTY, compression);
        }
        byte[] payload = Shapes.text(new Random(5), 10_000_000);
        CompletableFuture<byte[]> received = new CompletableFuture<>();
        CommConfig config = new CommConfig(Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(5),
                1 << 16, 64 << 20);
        Handler sink = new Handler() {
            @Override
            public void onMessage(Connection c, Message m, long id) {
                received.complete(((Message.DataReply) m).data().get("x").head());
            }

            @Override
            public void onClose(Connection c, Throwable cause) {
                received.completeExceptionally(new AssertionError("closed before the payload came", cause));
            }
        };
        try (Server s = Server.listen("127.0.0.1", 0, Role.SCHEDULER, config, c -> sink);
             TcpRelay proxy = new TcpRelay(s.port(), false);
             Connection c = Connection.connect("127.0.0.1:" + proxy.port(), Role.CLIENT, config, (x, m, id) -> { })) {
            c.send(new Message.DataReply(Map.of("x", Encoded.of(payload))));
            assertArrayEquals(payload, received.get(30, TimeUnit.SECONDS), "payload arrived intact");
            // every byte of the message passed the proxy before the server could decode it
            return proxy.bytesToTarget();
        }
    }

    @Test
    void tenMegabytesCrossARealConnectionCompressedUnlessTurnedOff() throws Exception {
        long lz4 = crossed(null);
        long deflate = crossed("deflate");
        long none = crossed("none");
        System.out.printf("10 MB of text on the wire: lz4 %,d, deflate %,d, none %,d bytes%n", lz4, deflate, none);
        assertTrue(none > 10_000_000, "none: " + none + " bytes on the wire");
        assertTrue(lz4 < none * 6 / 10, "lz4 (the default): " + lz4 + " bytes on the wire vs " + none);
        assertTrue(deflate < lz4, "deflate is denser: " + deflate + " vs " + lz4);
    }

    private static long crossed(String compression) throws Exception {
        System.clearProperty(Compression.PROPERTY);
        return sendTenMegabytes(compression);
    }
}
