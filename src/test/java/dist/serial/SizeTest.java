package dist.serial;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Our encodings against Java serialization's, on typical values (measured only, never decoded that way). */
class SizeTest {

    record Task(String key, String function, int retries, int priority, List<String> dependencies)
            implements Serializable {}

    private static int javaSize(Object v) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (ObjectOutputStream o = new ObjectOutputStream(b)) {
            o.writeObject(v);
        }
        return b.size();
    }

    private static void assertSmaller(Object v, int factor) throws IOException {
        int ours = Serializer.defaults().encode(v).length;
        int theirs = javaSize(v);
        assertTrue(ours * factor <= theirs, "ours " + ours + " bytes vs Java serialization " + theirs
                + " for " + v.getClass().getSimpleName() + ", expected at least " + factor + "x smaller");
    }

    @Test
    void recordWithStringsAndInts() throws IOException {
        assertSmaller(new Task("inc-8f2a", "dist.Demo::inc", 3, 17, List.of("x-1", "y-2")), 2);
    }

    @Test
    void thousandLongs() throws IOException {
        List<Long> longs = new ArrayList<>();
        for (long i = 0; i < 1000; i++) {
            longs.add(i * 1_000_003L);
        }
        assertSmaller(longs, 2);
    }

    @Test
    void stringToLongMap() throws IOException {
        Map<String, Long> m = new LinkedHashMap<>();
        for (int i = 0; i < 100; i++) {
            m.put("key-" + i, (long) i * i);
        }
        assertSmaller(m, 2);
    }
}
