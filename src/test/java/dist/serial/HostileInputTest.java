package dist.serial;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class HostileInputTest {

    interface Fn1<A, R> extends java.io.Serializable {
        R apply(A a) throws Exception;
    }

    private final Registry registry = Registry.defaults().alias(Samples.Point.class, 1).oobThreshold(64);
    private final Serializer s = new Serializer(registry);

    private List<byte[]> corpus(Random r, List<byte[]> oob) {
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            out.add(s.encode(Samples.value(r, 4), oob, null));
        }
        int k = 3;
        Fn1<Integer, Integer> f = x -> x + k;
        out.add(s.encode(List.of(f, (Fn1<Integer, Integer>) y -> f.apply(y) * 2)));
        out.add(s.encode(new IllegalStateException("boom", new RuntimeException("cause"))));
        out.add(s.encode(Map.of("a", new int[]{1, 2, 3}, "b", List.of(new Samples.Point(1, 2)))));
        return out;
    }

    /** Decodes, or throws DecodeException; anything else fails the test with the input. */
    private void decodeOrReject(byte[] input, List<byte[]> oob) {
        try {
            s.decode(input, oob, null, null);
        } catch (DecodeException expected) {
            // the one allowed failure
        } catch (Throwable t) {
            throw new AssertionError("input " + HexFormat.of().formatHex(input) + " threw " + t, t);
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void truncationsAndBitFlipsDecodeOrThrowDecodeException() {
        Random r = new Random(Long.getLong("dist.test.seed", 99L));
        List<byte[]> oob = new ArrayList<>();
        List<byte[]> corpus = corpus(r, oob);
        int rejected = 0;
        for (int i = 0; i < 100_000; i++) {
            byte[] valid = corpus.get(r.nextInt(corpus.size()));
            byte[] input;
            switch (r.nextInt(4)) {
                case 0 -> input = java.util.Arrays.copyOf(valid, r.nextInt(Math.max(1, valid.length)));
                case 1 -> {
                    input = valid.clone();
                    for (int f = 1 + r.nextInt(3); f > 0 && input.length > 0; f--) {
                        input[r.nextInt(input.length)] ^= (byte) (1 << r.nextInt(8));
                    }
                }
                case 2 -> {
                    input = valid.clone();
                    if (input.length > 0) {
                        input[r.nextInt(input.length)] = (byte) r.nextInt(256);
                    }
                }
                default -> {
                    // a lying varint spliced in where a length or count may be
                    ByteArrayOutputStream b = new ByteArrayOutputStream();
                    int at = r.nextInt(valid.length + 1);
                    b.write(valid, 0, at);
                    for (int j = r.nextInt(10); j > 0; j--) {
                        b.write(0x80 | r.nextInt(128));
                    }
                    b.write(r.nextInt(128));
                    b.write(valid, at, valid.length - at);
                    input = b.toByteArray();
                }
            }
            try {
                s.decode(input, oob, null, null);
            } catch (DecodeException expected) {
                rejected++;
            } catch (Throwable t) {
                throw new AssertionError("input " + HexFormat.of().formatHex(input) + " threw " + t, t);
            }
        }
        assertTrue(rejected > 10_000, "most corrupt inputs are rejected, got " + rejected);
    }

    @Test
    void lyingLengthsAreRejectedBeforeAllocating() {
        byte[][] inputs = {
                {(byte) Tags.BYTES, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x07},
                {(byte) Tags.LONGS, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x07, 1},
                {(byte) Tags.DOUBLES, 10, 0, 0, 0, 0, 0, 0, 0, 0},
                {(byte) Tags.LIST, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0x7F},
                {(byte) Tags.MAP, 3, 0, 0, 0, 0},
                {(byte) Tags.STRING, 100, 'a'},
                {(byte) Tags.BOOLS, (byte) 0xFF, (byte) 0xFF, 0x03},
                {(byte) Tags.LONG, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF,
                        (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 1},
                {(byte) Tags.INT, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x7F},
                {(byte) Tags.BYTES_OOB, 5},
                {(byte) 200},
                {},
                {(byte) Tags.INT, 2, 0},
                {(byte) Tags.ENUM, 0, 3, 'F', 'o', 'o', 0},
                {(byte) Tags.RECORD, 0, 16, 'j', 'a', 'v', 'a', '.', 'l', 'a', 'n', 'g', '.', 'S', 't', 'r', 'i', 'n', 'g'},
                {(byte) Tags.OBJECT, 0, 16, 'j', 'a', 'v', 'a', '.', 'l', 'a', 'n', 'g', '.', 'T', 'h', 'r', 'e', 'a', 'd'},
                {(byte) Tags.RECORD, 5},
        };
        for (byte[] in : inputs) {
            DecodeException e = assertThrows(DecodeException.class, () -> s.decode(in),
                    () -> HexFormat.of().formatHex(in));
            assertTrue(e.getMessage() != null && !e.getMessage().isBlank());
        }
        DecodeException notAllowed = assertThrows(DecodeException.class, () -> s.decode(inputs[15]));
        assertTrue(notAllowed.getMessage().contains("java.lang.Thread"), notAllowed.getMessage());
    }

    @Test
    void nestingBeyondTheLimitIsRejected() {
        byte[] deep = new byte[100_000 * 2 + 1];
        for (int i = 0; i < 100_000; i++) {
            deep[2 * i] = (byte) Tags.LIST;
            deep[2 * i + 1] = 1;
        }
        DecodeException e = assertThrows(DecodeException.class, () -> s.decode(deep));
        assertTrue(e.getMessage().contains("deeper than 200"), e.getMessage());
        Serializer lenient = new Serializer(Registry.defaults().maxDepth(10_000));
        assertThrows(DecodeException.class, () -> lenient.decode(deep));

        List<Object> nested = new ArrayList<>();
        List<Object> cur = nested;
        for (int i = 0; i < 150; i++) {
            List<Object> next = new ArrayList<>();
            cur.add(next);
            cur = next;
        }
        assertEquals(nested, s.decode(s.encode(nested)));
        cur.add(nested); // a cycle: kept by a back-reference
        List<?> back = (List<?>) s.decode(s.encode(nested));
        List<?> end = back;
        for (int i = 0; i < 150; i++) {
            end = (List<?>) end.get(0);
        }
        org.junit.jupiter.api.Assertions.assertSame(back, end.get(0));
        // a closed registry keeps no identity: the cycle nests past the limit
        Serializer closed = new Serializer(Registry.defaults().closed());
        EncodeException cyc = assertThrows(EncodeException.class, () -> closed.encode(nested));
        assertTrue(cyc.getMessage().contains("deeper than"), cyc.getMessage());
    }

    @Test
    void trailingBytesAreRejected() {
        byte[] ok = s.encode(5);
        byte[] longer = java.util.Arrays.copyOf(ok, ok.length + 1);
        DecodeException e = assertThrows(DecodeException.class, () -> s.decode(longer));
        assertTrue(e.getMessage().contains("unexpected bytes"), e.getMessage());
        decodeOrReject(new byte[]{(byte) Tags.OPTIONAL}, null);
    }
}
