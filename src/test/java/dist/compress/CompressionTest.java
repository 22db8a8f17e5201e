package dist.compress;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(60)
class CompressionTest {

    /** Counts the bytes handed to the codec it wraps. */
    static final class Counting implements Compressor {
        final Compressor inner;
        final AtomicLong bytesIn = new AtomicLong();

        Counting(Compressor inner) {
            this.inner = inner;
        }

        @Override public String name() { return inner.name(); }
        @Override public byte id() { return inner.id(); }
        @Override public int maxCompressedLength(int len) { return inner.maxCompressedLength(len); }
        @Override public long maxExpansion(int n) { return inner.maxExpansion(n); }

        @Override
        public int compress(byte[] src, int off, int len, byte[] dst, int dstOff) {
            bytesIn.addAndGet(len);
            return inner.compress(src, off, len, dst, dstOff);
        }

        @Override
        public int decompress(byte[] src, int off, int len, byte[] dst, int dstOff, int originalLength) {
            return inner.decompress(src, off, len, dst, dstOff, originalLength);
        }
    }

    @AfterEach
    void clearProperty() {
        System.clearProperty(Compression.PROPERTY);
    }

    @Test
    void textIsCompressed() {
        for (Compressor codec : List.of(Lz4.INSTANCE, Deflate.DEFAULT)) {
            Compression c = new Compression(codec);
            byte[] text = Shapes.text(new Random(1), 1 << 20);
            byte[] packed = c.compressOrNull(text, 0, text.length);
            assertNotNull(packed, codec + " should compress text");
            assertTrue(Compression.saves(packed.length, text.length));
            assertArrayEquals(text, codec.decompress(packed, 0, packed.length, text.length, text.length));
        }
    }

    @Test
    void randomBytesAreNotCompressedAndCostOnlyTheSample() {
        for (Compressor codec : List.of(Lz4.INSTANCE, Deflate.DEFAULT)) {
            Counting counting = new Counting(codec);
            Compression c = new Compression(counting);
            byte[] random = Shapes.random(new Random(2), 4 << 20);
            assertNull(c.compressOrNull(random, 0, random.length));
            assertNull(CompressedFrame.pack(c, random));
            assertEquals(2L * Compression.SAMPLE_SLICE * Compression.SAMPLE_SLICES, counting.bytesIn.get(),
                    "only the 50 kB sample, once per call, went through " + codec);
        }
    }

    @Test
    void smallPayloadsAreLeftAlone() {
        Counting counting = new Counting(Lz4.INSTANCE);
        Compression c = new Compression(counting);
        byte[] zeros = new byte[Compression.MIN_BYTES];
        assertNull(c.compressOrNull(zeros, 0, zeros.length), "1 kB is not over 1 kB");
        assertEquals(0, counting.bytesIn.get());
        assertNotNull(c.compressOrNull(new byte[Compression.MIN_BYTES + 1], 0, Compression.MIN_BYTES + 1));
    }

    @Test
    void mediumPayloadIsItsOwnSample() {
        Counting counting = new Counting(Lz4.INSTANCE);
        byte[] random = Shapes.random(new Random(3), 30_000);
        assertNull(new Compression(counting).compressOrNull(random, 0, random.length));
        assertEquals(30_000, counting.bytesIn.get(), "compressed once, not sampled and then compressed");
    }

    @Test
    void savingUnderTenPercentIsRejected() {
        // 95% random, 5% zeros: compresses, but by less than 10%
        Random r = new Random(4);
        byte[] data = Shapes.random(r, 200_000);
        for (int i = 0; i < data.length; i += 100) {
            java.util.Arrays.fill(data, i, i + 5, (byte) 0);
        }
        assertNull(Compression.LZ4.compressOrNull(data, 0, data.length));
        assertNull(Compression.NONE.compressOrNull(Shapes.text(r, 100_000), 0, 100_000), "none never compresses");
    }

    @Test
    void sampleMissesCompressibleMiddleButAnswersForTheEdges() {
        // compressible only where the sample looks: a sample is a guess, the 10% rule still holds
        byte[] data = Shapes.random(new Random(6), 1 << 20);
        int slice = Compression.SAMPLE_SLICE;
        for (int i = 0; i < Compression.SAMPLE_SLICES; i++) {
            int at = (int) ((long) (data.length - slice) * i / (Compression.SAMPLE_SLICES - 1));
            java.util.Arrays.fill(data, at, at + slice, (byte) 1);
        }
        assertTrue(Compression.LZ4.sampleCompresses(data, 0, data.length));
        assertNull(Compression.LZ4.compressOrNull(data, 0, data.length), "the whole saves under 10%");
        assertNull(CompressedFrame.pack(Compression.LZ4, data));
    }

    @Test
    void namesAndProperty() {
        assertSame(Compression.LZ4, Compression.named("LZ4"));
        assertSame(Compression.DEFLATE, Compression.named("deflate"));
        assertSame(Compression.NONE, Compression.named("none"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Compression.named("zstd"));
        assertTrue(e.getMessage().contains("lz4, deflate, none"), e.getMessage());
        assertSame(Compression.LZ4, Compression.configured(), "lz4 by default");
        System.setProperty(Compression.PROPERTY, "none");
        assertSame(Compression.NONE, Compression.configured());
        System.setProperty(Compression.PROPERTY, "deflate");
        assertSame(Compression.DEFLATE, Compression.configured());
        System.setProperty(Compression.PROPERTY, "snappy");
        e = assertThrows(IllegalArgumentException.class, Compression::configured);
        assertTrue(e.getMessage().contains(Compression.PROPERTY), e.getMessage());
        assertSame(Lz4.INSTANCE, Compression.codecForId(Lz4.ID));
        assertSame(Deflate.DEFAULT, Compression.codecForId(Deflate.ID));
        assertNull(Compression.codecForId(0));
    }

    @Test
    void framesRoundTripInBlocksWithStoredBlocksAsViews() {
        Random r = new Random(8);
        int n = 3 * CompressedFrame.BLOCK_BYTES + 12_345;
        byte[] data = Shapes.text(r, n);
        // one whole block of random bytes: it travels stored
        System.arraycopy(Shapes.random(r, CompressedFrame.BLOCK_BYTES), 0, data, CompressedFrame.BLOCK_BYTES,
                CompressedFrame.BLOCK_BYTES);
        for (Compression c : List.of(Compression.LZ4, Compression.DEFLATE)) {
            List<ByteBuffer> packed = CompressedFrame.pack(c, data);
            assertNotNull(packed);
            assertTrue(packed.stream().anyMatch(b -> b.hasArray() && b.array() == data), "stored block is a view");
            assertTrue(Compression.saves(CompressedFrame.length(packed), n));
            byte[] back = CompressedFrame.unpack(c.codec().id(), CompressedFrame.toArray(packed), n);
            assertArrayEquals(data, back, c.toString());
        }
    }

    @Test
    void packedFrameHoldsOnlyItsCompressedBytes() {
        byte[] zeros = new byte[8 * CompressedFrame.BLOCK_BYTES];
        List<ByteBuffer> packed = CompressedFrame.pack(Compression.LZ4, zeros);
        long held = packed.stream().mapToLong(b -> b.array().length).sum();
        assertTrue(held < 100_000, "8 MiB of zeros keep " + held + " bytes of arrays alive");
    }

    @Test
    void unpackChecksLimitAndCodecBeforeAllocating() {
        byte[] data = new byte[10_000];
        byte[] packed = CompressedFrame.toArray(CompressedFrame.pack(Compression.LZ4, data));
        CorruptDataException e = assertThrows(CorruptDataException.class,
                () -> CompressedFrame.unpack(Lz4.ID, packed, 9_999));
        assertTrue(e.getMessage().contains("over the limit"), e.getMessage());
        e = assertThrows(CorruptDataException.class, () -> CompressedFrame.unpack(9, packed, 10_000));
        assertTrue(e.getMessage().contains("codec id 9"), e.getMessage());
        // a lying header: 2 GB from a few bytes is refused without allocating it
        byte[] liar = packed.clone();
        ByteBuffer.wrap(liar).putInt(0, Integer.MAX_VALUE - 16);
        e = assertThrows(CorruptDataException.class, () -> CompressedFrame.unpack(Lz4.ID, liar, Long.MAX_VALUE));
        assertTrue(e.getMessage().contains("can hold"), e.getMessage());
        assertArrayEquals(data, CompressedFrame.unpack(Lz4.ID, packed, 10_000));
    }
}
