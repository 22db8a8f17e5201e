package dist.worker;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * A worker's shuffle shards stay in memory up to its memory target and go to disk past it; each
 * is handed out once. dask: distributed/shuffle/tests/test_buffer.py::test_memory_limit and
 * test_disk_buffer.py::test_basic (the same shards come back from memory and from disk).
 */
class ShuffleStoreTest {
    static byte[][] shards(String prefix, int n, int size) {
        byte[][] out = new byte[n][];
        for (int i = 0; i < n; i++) {
            byte[] b = new byte[size];
            byte[] tag = (prefix + i).getBytes(StandardCharsets.UTF_8);
            System.arraycopy(tag, 0, b, 0, Math.min(tag.length, size));
            out[i] = b;
        }
        return out;
    }

    @Test
    void pastTheBudgetShardsGoToDiskAndComeBackTheSame() throws Exception {
        try (ShuffleStore store = new ShuffleStore(1000)) {
            byte[][] a = shards("a", 4, 200);   // 800 bytes: in memory
            byte[][] b = shards("b", 4, 200);   // would pass 1000: on disk
            String ida = store.put("t-a", a);
            String idb = store.put("t-b", b);
            assertEquals(800, store.memoryBytes());
            assertEquals(800, store.spilledBytes());
            for (int j = 0; j < 4; j++) {
                assertArrayEquals(a[j], store.take(ida, j));
                assertArrayEquals(b[j], store.take(idb, j));
            }
            assertEquals(0, store.memoryBytes());
            assertNull(store.take(ida, 0), "a shard is handed out once");
            assertNull(store.take(idb, 3));
            // memory freed by taking makes room again
            String idc = store.put("t-c", shards("c", 2, 400));
            assertEquals(800, store.memoryBytes());
            assertEquals(800, store.spilledBytes());
            assertEquals(400, store.take(idc, 1).length);
        }
    }

    /** A shuffle that runs again drops what its inputs kept before, in memory and on disk. */
    @Test
    void forgettingAnInputDropsItsShards() throws Exception {
        try (ShuffleStore store = new ShuffleStore(1000)) {
            String a = store.put("t-a", shards("a", 2, 300));   // in memory
            String b = store.put("t-b", shards("b", 2, 300));   // on disk
            store.put("t-c", shards("c", 1, 10));
            store.forget(java.util.List.of("t-a", "t-b", "unknown"));
            assertNull(store.take(a, 0));
            assertNull(store.take(b, 1));
            assertEquals(10, store.memoryBytes());
            assertEquals(1, store.storeCount());
        }
    }

    @Test
    void anUnknownStoreHasNothing() throws Exception {
        try (ShuffleStore store = new ShuffleStore(Long.MAX_VALUE)) {
            assertNull(store.take("nope", 0));
        }
    }
}
