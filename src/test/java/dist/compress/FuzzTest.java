package dist.compress;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Hostile input: mutated, truncated, extended and random bytes, with true and lying lengths. Each
 * either decodes to exactly the declared length or fails with {@link CorruptDataException}; any other
 * exception (an index out of bounds, an OutOfMemoryError) fails the test.
 */
class FuzzTest {

    static final int CASES = 100_000;
    static final int LIMIT = 1 << 20;

    private static List<byte[]> seeds(Random r) {
        List<byte[]> s = new ArrayList<>();
        s.add(new byte[0]);
        s.add(new byte[3000]);
        s.add(Shapes.text(r, 2000));
        s.add(Shapes.text(r, 40));
        s.add(Shapes.periodic(r, 1500, 7));
        s.add(Shapes.runs(r, 4000, 400));
        s.add(Shapes.copies(r, 3000));
        s.add(Shapes.random(r, 300));
        return s;
    }

    /** One hostile input derived from a valid block; returns the length to declare in {@code len[0]}. */
    private static byte[] mutate(Random r, byte[] valid, int originalLength, int[] len) {
        byte[] b = valid.clone();
        len[0] = originalLength;
        switch (r.nextInt(8)) {
            case 0 -> { // flip a few bytes
                for (int k = 1 + r.nextInt(4); k > 0 && b.length > 0; k--) {
                    b[r.nextInt(b.length)] ^= (byte) (1 + r.nextInt(255));
                }
            }
            case 1 -> b = Arrays.copyOf(b, b.length == 0 ? 0 : r.nextInt(b.length)); // truncate
            case 2 -> { // garbage appended
                byte[] g = Shapes.random(r, 1 + r.nextInt(20));
                b = Arrays.copyOf(b, b.length + g.length);
                System.arraycopy(g, 0, b, b.length - g.length, g.length);
            }
            case 3 -> b = Shapes.random(r, r.nextInt(200)); // noise
            case 4 -> { // long length runs: 0xFF bytes
                for (int k = 1 + r.nextInt(3); k > 0 && b.length > 0; k--) {
                    int at = r.nextInt(b.length);
                    Arrays.fill(b, at, Math.min(b.length, at + 1 + r.nextInt(8)), (byte) 0xFF);
                }
            }
            case 5 -> len[0] = Math.max(0, originalLength + r.nextInt(41) - 20); // a lying length
            case 6 -> len[0] = r.nextBoolean() ? r.nextInt(LIMIT + 1) : Integer.MAX_VALUE - 16; // a big lie
            default -> { // a chunk moved
                if (b.length > 8) {
                    int from = r.nextInt(b.length - 4);
                    int to = r.nextInt(b.length - 4);
                    int n = 1 + r.nextInt(Math.min(b.length - Math.max(from, to), 50));
                    System.arraycopy(b.clone(), from, b, to, n);
                }
            }
        }
        return b;
    }

    private static void fuzz(Compressor codec, long seed, int cases) {
        Random r = new Random(seed);
        List<byte[]> originals = seeds(r);
        List<byte[]> blocks = new ArrayList<>();
        for (byte[] o : originals) {
            blocks.add(codec.compress(o, 0, o.length));
        }
        int decoded = 0;
        int rejected = 0;
        int[] len = new int[1];
        for (int i = 0; i < cases; i++) {
            int k = r.nextInt(originals.size());
            byte[] input = mutate(r, blocks.get(k), originals.get(k).length, len);
            try {
                byte[] out = codec.decompress(input, 0, input.length, len[0], LIMIT);
                assertEquals(len[0], out.length);
                decoded++;
            } catch (CorruptDataException e) {
                assertNotNull(e.getMessage());
                rejected++;
            } catch (Throwable t) {
                fail(codec + " case " + i + " (declared " + len[0] + ", input " + input.length + " bytes "
                        + java.util.HexFormat.of().formatHex(input, 0, Math.min(64, input.length)) + "...): " + t, t);
            }
        }
        assertTrue(rejected > cases / 4, codec + ": only " + rejected + " rejected");
        assertTrue(decoded > 0, codec + ": nothing decoded");
    }

    @Test
    @Timeout(30)
    void lz4DecoderSurvivesHostileInput() {
        fuzz(Lz4.INSTANCE, 1, CASES);
    }

    @Test
    @Timeout(30)
    void deflateDecoderSurvivesHostileInput() {
        fuzz(Deflate.DEFAULT, 2, CASES);
    }

    @Test
    @Timeout(30)
    void compressedFrameSurvivesHostileInput() {
        Random r = new Random(3);
        byte[] original = Shapes.text(r, 5000);
        byte[] packed = CompressedFrame.toArray(CompressedFrame.pack(Compression.LZ4, original));
        int[] len = new int[1];
        int rejected = 0;
        for (int i = 0; i < 20_000; i++) {
            byte[] input = mutate(r, packed, original.length, len);
            try {
                byte[] out = CompressedFrame.unpack(Lz4.ID, input, LIMIT);
                assertTrue(out.length <= LIMIT);
            } catch (CorruptDataException e) {
                rejected++;
            }
        }
        assertTrue(rejected > 5_000, "only " + rejected + " rejected");
    }

    @Test
    void lz4NamesEachKindOfLie() {
        Lz4 lz4 = Lz4.INSTANCE;
        // offset 5 at output byte 4: before the start
        byte[] before = {0x40, 'a', 'b', 'c', 'd', 5, 0, 0x00};
        assertMessage(lz4, before, 12, "before the start of the output");
        byte[] zeroOffset = {0x40, 'a', 'b', 'c', 'd', 0, 0, 0x00};
        assertMessage(lz4, zeroOffset, 12, "0 is not allowed");
        // 15 + 200 literals announced, 4 present
        byte[] literalsPastInput = {(byte) 0xF0, (byte) 200, 'a', 'b', 'c', 'd'};
        assertMessage(lz4, literalsPastInput, 1000, "past the end of the input");
        assertMessage(lz4, literalsPastInput, 100, "past the declared length");
        // a match of 4 + 15 + 255 + 255 + 10 bytes into a 100-byte output
        byte[] matchPastEnd = {0x1F, 'a', 1, 0, (byte) 255, (byte) 255, 10, 0x00};
        assertMessage(lz4, matchPastEnd, 100, "past the declared length");
        byte[] endsAfterMatch = {0x10, 'a', 1, 0};
        assertMessage(lz4, endsAfterMatch, 5, "ends after a match");
        byte[] shortOutput = {0x20, 'a', 'b'};
        assertMessage(lz4, shortOutput, 3, "not the declared 3");
        assertMessage(lz4, new byte[0], 0, "empty");
        // lengths: negative, over the caller's limit, over what 3 bytes can expand to
        CorruptDataException e = assertThrows(CorruptDataException.class,
                () -> lz4.decompress(shortOutput, 0, 3, -1, 100));
        assertTrue(e.getMessage().contains("outside the allowed"), e.getMessage());
        e = assertThrows(CorruptDataException.class, () -> lz4.decompress(shortOutput, 0, 3, 101, 100));
        assertTrue(e.getMessage().contains("outside the allowed"), e.getMessage());
        e = assertThrows(CorruptDataException.class,
                () -> lz4.decompress(shortOutput, 0, 3, Integer.MAX_VALUE - 16, Long.MAX_VALUE));
        assertTrue(e.getMessage().contains("can expand to"), e.getMessage());
    }

    @Test
    void deflateNamesTruncationAndLies() {
        byte[] text = Shapes.text(new Random(4), 5000);
        byte[] packed = Deflate.DEFAULT.compress(text, 0, text.length);
        assertMessage(Deflate.DEFAULT, Arrays.copyOf(packed, packed.length - 3), 5000, "truncated");
        assertMessage(Deflate.DEFAULT, packed, 4999, "more than the declared");
        assertMessage(Deflate.DEFAULT, packed, 5001, "not the declared");
        byte[] extra = Arrays.copyOf(packed, packed.length + 2);
        assertMessage(Deflate.DEFAULT, extra, 5000, "stray bytes");
        assertMessage(Deflate.DEFAULT, Shapes.random(new Random(5), 100), 100, "deflate");
    }

    private static void assertMessage(Compressor c, byte[] input, int declared, String fragment) {
        CorruptDataException e = assertThrows(CorruptDataException.class,
                () -> c.decompress(input, 0, input.length, declared, LIMIT));
        assertTrue(e.getMessage().contains(fragment), "'" + fragment + "' not in: " + e.getMessage());
    }
}
