package dist.compress;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(60)
class RoundTripTest {

    static List<Compressor> codecs() {
        return List.of(Lz4.INSTANCE, Deflate.DEFAULT, new Deflate(1));
    }

    @ParameterizedTest
    @MethodSource("codecs")
    void everyShapeRoundTrips(Compressor c) {
        for (Shapes.Input in : Shapes.all(42)) {
            byte[] data = in.data();
            byte[] packed = c.compress(data, 0, data.length);
            assertTrue(packed.length <= c.maxCompressedLength(data.length), in + ": over the bound");
            byte[] back = c.decompress(packed, 0, packed.length, data.length, data.length);
            assertArrayEquals(data, back, c + " changed " + in);
        }
    }

    @ParameterizedTest
    @MethodSource("codecs")
    void compressibleShapesShrink(Compressor c) {
        Random r = new Random(7);
        for (byte[] data : List.of(new byte[100_000], Shapes.text(r, 100_000), Shapes.periodic(r, 100_000, 100),
                Shapes.runs(r, 100_000, 50))) {
            byte[] packed = c.compress(data, 0, data.length);
            assertTrue(packed.length < data.length / 2, c + ": " + packed.length + " bytes from " + data.length);
        }
        byte[] zeros = new byte[1 << 20];
        assertTrue(c.compress(zeros, 0, zeros.length).length < 5_000, c + " on a MiB of zeros");
    }

    @ParameterizedTest
    @MethodSource("codecs")
    void offsetsAreHonouredAndNeighboursUntouched(Compressor c) {
        Random r = new Random(3);
        byte[] data = Shapes.text(r, 20_000);
        byte[] src = new byte[data.length + 300];
        Arrays.fill(src, (byte) 0x5A);
        System.arraycopy(data, 0, src, 100, data.length);
        byte[] dst = new byte[c.maxCompressedLength(data.length) + 50];
        Arrays.fill(dst, (byte) 0x77);
        int n = c.compress(src, 100, data.length, dst, 30);
        assertTrue(n > 0);
        for (int i = 0; i < 30; i++) {
            assertEquals(0x77, dst[i] & 0xFF, "byte before dstOff written");
        }
        byte[] out = new byte[data.length + 20];
        Arrays.fill(out, (byte) 0x11);
        assertEquals(data.length, c.decompress(dst, 30, n, out, 10, data.length));
        assertArrayEquals(data, Arrays.copyOfRange(out, 10, 10 + data.length));
        for (int i : new int[] {0, 9, 10 + data.length, out.length - 1}) {
            assertEquals(0x11, out[i] & 0xFF, "output byte " + i + " outside the range written");
        }
    }

    @ParameterizedTest
    @MethodSource("codecs")
    void tooSmallOutputGivesMinusOneNotAnException(Compressor c) {
        byte[] data = Shapes.random(new Random(5), 10_000);
        byte[] small = new byte[9_000];
        assertEquals(-1, c.compress(data, 0, data.length, small, 0));
        byte[] text = Shapes.text(new Random(5), 10_000);
        assertTrue(c.compress(text, 0, text.length, small, 0) > 0, "text fits in 90%");
    }

    @Test
    void lz4BlockMatchesTheFormatByHand() {
        // 20 'a': literal 'a', then a match at offset 1 of 14 bytes, then the last 5 literals
        byte[] data = "aaaaaaaaaaaaaaaaaaaa".getBytes();
        byte[] packed = Lz4.INSTANCE.compress(data, 0, data.length);
        assertArrayEquals(new byte[] {0x1A, 'a', 1, 0, 0x50, 'a', 'a', 'a', 'a', 'a'}, packed);
        // a block written by hand: "abcd" + match(offset 4, length 8) + "xyz" literals
        byte[] block = {0x44, 'a', 'b', 'c', 'd', 4, 0, 0x30, 'x', 'y', 'z'};
        assertEquals("abcdabcdabcdxyz", new String(Lz4.INSTANCE.decompress(block, 0, block.length, 15, 100)));
    }

    @Test
    void lz4LongLengthsUseExtraBytes() {
        Random r = new Random(11);
        byte[] data = new byte[300 + 1000 + 5];
        byte[] lits = Shapes.random(r, 300);
        System.arraycopy(lits, 0, data, 0, 300);
        byte[] packed = Lz4.INSTANCE.compress(data, 0, data.length);
        // token 0xF?: at least 300 literals = 15 + 255 + 30 or more (the search skips ahead on misses)
        assertEquals(0xF0, packed[0] & 0xF0);
        assertEquals(255, packed[1] & 0xFF);
        assertTrue((packed[2] & 0xFF) >= 30 && (packed[2] & 0xFF) < 60, "third length byte " + packed[2]);
        assertTrue(packed.length < 360, "the zeros became one match: " + packed.length);
        assertArrayEquals(data, Lz4.INSTANCE.decompress(packed, 0, packed.length, data.length, data.length));
    }
}
