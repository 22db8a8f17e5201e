package dist.serial;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** {@link Registry#maxDecodedBytes(long)}: what one decode may allocate, charged before it allocates. */
class DecodedSizeTest {

    private final Serializer open = Serializer.defaults();

    private static Serializer bounded(long bytes) {
        return new Serializer(Registry.defaults().maxDecodedBytes(bytes));
    }

    @Test
    void valuesWithinTheBoundDecodeAndLargerOnesAreRefused() {
        long[] longs = new long[100_000]; // 100 kB of one-byte varints, 800 kB decoded
        byte[] b = open.encode(longs);
        assertArrayEquals(longs, (long[]) bounded(1 << 20).decode(b));
        DecodeException e = assertThrows(DecodeException.class, () -> bounded(512 << 10).decode(b));
        assertTrue(e.getMessage().contains("long[]") && e.getMessage().contains("Registry.maxDecodedBytes"),
                e.getMessage());
    }

    @Test
    void everyKindOfContainerIsCharged() {
        List<String> strings = new ArrayList<>();
        Map<String, Integer> map = new java.util.LinkedHashMap<>();
        for (int i = 0; i < 10_000; i++) {
            strings.add("");
            map.put("k" + i, i);
        }
        List<Object> values = List.of(strings, map, new int[50_000], new double[10_000], new Object[20_000],
                new java.util.LinkedHashSet<>(strings.subList(0, 1)), new byte[50_000]);
        for (Object v : values) {
            byte[] b = open.encode(v);
            assertNotNull(bounded(64L << 20).decode(b));
            // each expands to more than its encoded size: a bound of its size refuses it
            DecodeException e = assertThrows(DecodeException.class, () -> bounded(b.length).decode(b),
                    v.getClass().getName());
            assertTrue(e.getMessage().contains("maxDecodedBytes"), e.getMessage());
        }
    }

    @Test
    void anOpenSerializerIsUnboundedByDefault() {
        assertEquals(Long.MAX_VALUE, Registry.defaults().maxDecodedBytes());
        assertThrows(IllegalArgumentException.class, () -> Registry.defaults().maxDecodedBytes(0));
    }
}
