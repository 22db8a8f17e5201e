package dist.protocol;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What a peer can make a reader allocate: an announced length takes no memory before its bytes
 * arrive, and a compressed frame counts as what it decompresses to, refused before that exists.
 */
@Timeout(120)
class FrameMemoryTest {

    private static FrameReader reader(byte[] bytes, FrameLimits limits) {
        return new FrameReader(Channels.newChannel(new ByteArrayInputStream(bytes)), limits);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    @Test
    void anAnnouncedFrameTakesMemoryOnlyAsItsBytesArrive() {
        // 512 MiB announced, then a few bytes, then the peer goes: once, the announcement alone took 512 MiB
        for (int sent : new int[] {0, 4096, 1 << 20}) {
            byte[] wire = concat(HostileFrames.announcement(512L << 20), new byte[sent]);
            long before = HostileFrames.allocatedByThisThread();
            TruncatedFrameException e = assertThrows(TruncatedFrameException.class,
                    () -> reader(wire, FrameLimits.DEFAULT).read());
            long took = HostileFrames.allocatedByThisThread() - before;
            assertTrue(e.getMessage().contains("had " + sent + " of " + (512L << 20)), e.getMessage());
            // the reader's buffer, the first 64 KiB, then at most about twice what arrived
            assertTrue(took < (2L << 20) + 3L * sent, "a peer that sent " + sent + " bytes of an announced 512 MiB"
                    + " frame made the reader allocate " + took + " bytes");
        }
    }

    @Test
    void framesOfEverySizeArriveIntactThroughShortReads() throws IOException {
        Random r = new Random(11);
        int first = 64 << 10; // around the first allocation of a frame
        int[] sizes = {0, 1, first - 1, first, first + 1, 16 * first + 5, (1 << 20) + 3, (20 << 20) + 7};
        byte[][] frames = new byte[sizes.length][];
        for (int i = 0; i < sizes.length; i++) {
            frames[i] = new byte[sizes[i]];
            r.nextBytes(frames[i]);
        }
        byte[] wire = HostileFrames.plainMessage(List.of(frames));
        // a channel that hands out what it has in pieces of random size, as a socket does
        ReadableByteChannel trickle = new ReadableByteChannel() {
            int at;

            @Override
            public int read(ByteBuffer dst) {
                if (at == wire.length) {
                    return -1;
                }
                int n = Math.min(Math.min(dst.remaining(), wire.length - at), 1 + r.nextInt(300_000));
                dst.put(wire, at, n);
                at += n;
                return n;
            }

            @Override
            public boolean isOpen() {
                return true;
            }

            @Override
            public void close() {
            }
        };
        FrameReader in = new FrameReader(trickle, FrameLimits.DEFAULT);
        Envelope e = in.read();
        assertEquals(sizes.length, e.frames().size());
        for (int i = 0; i < sizes.length; i++) {
            assertArrayEquals(frames[i], e.frames().get(i), "frame " + i + " of " + sizes[i] + " bytes");
        }
        assertNull(in.read());
    }

    @Test
    void aSmallFrameDeclaringTwoGigabytesDecompressedIsRefusedUnallocated() {
        // 2.1 MB of deflate blocks that would expand to 2040 MiB: more than this process may decompress
        byte[] packed = HostileFrames.deflateBomb(2040);
        assertTrue(packed.length < 2_200_000, packed.length + " bytes");
        byte[] wire = HostileFrames.compressedMessage(new byte[] {1}, packed);
        long before = HostileFrames.allocatedByThisThread();
        FrameLimitException e = assertThrows(FrameLimitException.class, () -> reader(wire, FrameLimits.DEFAULT).read());
        long took = HostileFrames.allocatedByThisThread() - before;
        assertTrue(e.getMessage().contains("decompress"), e.getMessage());
        assertTrue(took < 3L * wire.length + (4L << 20), "the bomb made the reader allocate " + took + " bytes");
    }

    @Test
    void decompressedBytesCountAgainstTheMessageLimit() throws IOException {
        // 0.94 MB that expands to 900 MiB, against a message limit of 64 MiB
        byte[] packed = HostileFrames.deflateBomb(900);
        assertTrue(packed.length < 1_000_000, packed.length + " bytes");
        byte[] wire = HostileFrames.compressedMessage(new byte[] {1}, packed);
        FrameLimits limits = new FrameLimits(1 << 16, FrameLimits.MAX_ARRAY, 64L << 20);
        long before = HostileFrames.allocatedByThisThread();
        FrameLimitException e = assertThrows(FrameLimitException.class, () -> reader(wire, limits).read());
        long took = HostileFrames.allocatedByThisThread() - before;
        assertTrue(e.getMessage().contains("maxMessageBytes") && e.getMessage().contains("decompress"), e.getMessage());
        assertTrue(took < 3L * wire.length + (4L << 20), "the bomb made the reader allocate " + took + " bytes");
        // the same bomb, small enough for the limit, decompresses
        byte[] fits = HostileFrames.compressedMessage(new byte[] {1}, HostileFrames.deflateBomb(8));
        Envelope ok = reader(fits, limits).read();
        assertEquals(8 * HostileFrames.BLOCK, ok.frames().get(1).length);
    }

    @Test
    void aCompressedFrameWithBrokenBlockHeadersIsRefusedBeforeItsOutputIsAllocated() {
        byte[] packed = HostileFrames.deflateBomb(200);
        ByteBuffer.wrap(packed).putInt(4 + 100 * (packed.length / 200), 0x7fff_ffff); // a block 100 in says 2 GB follow
        byte[] wire = HostileFrames.compressedMessage(new byte[] {1}, packed);
        long before = HostileFrames.allocatedByThisThread();
        FrameFormatException e = assertThrows(FrameFormatException.class, () -> reader(wire, FrameLimits.DEFAULT).read());
        long took = HostileFrames.allocatedByThisThread() - before;
        assertTrue(e.getMessage().contains("does not decompress"), e.getMessage());
        assertTrue(took < 3L * wire.length + (4L << 20), "a broken frame declaring 200 MiB made the reader allocate "
                + took + " bytes");
    }
}
