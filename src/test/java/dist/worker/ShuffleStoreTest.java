package dist.worker;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The shards a worker receives for its output partitions stay in memory up to its memory target
 * and go to disk past it; each partition is handed out once, in input order, when every input's
 * shard is there. dask: distributed/shuffle/tests/test_buffer.py::test_memory_limit and
 * test_disk_buffer.py::test_basic (the same shards come back from memory and from disk).
 */
class ShuffleStoreTest {
    static byte[] shard(String tag, int size) {
        byte[] b = new byte[size];
        byte[] t = tag.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(t, 0, b, 0, Math.min(t.length, size));
        return b;
    }

    @Test
    void pastTheBudgetShardsGoToDiskAndComeBackTheSame() throws Exception {
        try (ShuffleStore store = new ShuffleStore(1000)) {
            byte[] a0 = shard("a0", 400), a1 = shard("a1", 400);   // 800 bytes: in memory
            byte[] b0 = shard("b0", 400), b1 = shard("b1", 400);   // would pass 1000: on disk
            assertEquals(1, store.accept("s", 1, 1, List.of(0, 1), List.of(a0, a1)));
            assertEquals(1, store.accept("s", 1, 0, List.of(0, 1), List.of(b0, b1)));
            assertEquals(800, store.memoryBytes());
            assertEquals(800, store.spilledBytes());
            assertNull(store.take("s", 1, 0, 3), "a partition waits for every input");
            List<byte[]> p0 = store.take("s", 1, 0, 2);
            assertArrayEquals(b0, p0.get(0), "input order");
            assertArrayEquals(a0, p0.get(1));
            List<byte[]> p1 = store.take("s", 1, 1, 2);
            assertArrayEquals(b1, p1.get(0));
            assertArrayEquals(a1, p1.get(1));
            // a second consumer of the partition (or its task run again) reads the same shards
            List<byte[]> again = store.take("s", 1, 0, 2);
            assertArrayEquals(b0, again.get(0));
            assertArrayEquals(a0, again.get(1));
            assertEquals(800, store.memoryBytes(), "shards stay until the run is dropped");
            assertEquals(2, store.partitionCount());
            // the scheduler drops the run (every output done): memory and the file go
            store.restart("s", 2);
            assertEquals(0, store.memoryBytes());
            assertEquals(0, store.partitionCount());
            assertNull(store.take("s", 1, 0, 2), "a dropped run has nothing");
            store.accept("s", 2, 0, List.of(2), List.of(shard("c", 800)));
            assertEquals(800, store.memoryBytes(), "the room is free again");
            assertEquals(800, store.spilledBytes());
            assertEquals(800, store.take("s", 2, 2, 1).get(0).length);
        }
    }

    /** A shuffle that runs again drops what its earlier run received, in memory and on disk, and refuses that run's sends. */
    @Test
    void aLaterRunDropsTheEarlierAndRefusesItsSends() throws Exception {
        try (ShuffleStore store = new ShuffleStore(1000)) {
            store.accept("s", 1, 0, List.of(0), List.of(shard("a", 600)));   // in memory
            store.accept("s", 1, 1, List.of(0), List.of(shard("b", 600)));   // on disk
            store.accept("t", 1, 0, List.of(0), List.of(shard("c", 10)));
            store.restart("s", 2);
            assertNull(store.take("s", 1, 0, 2));
            assertEquals(10, store.memoryBytes());
            assertEquals(1, store.partitionCount());
            assertEquals(2, store.accept("s", 1, 0, List.of(0), List.of(shard("late", 5))), "a stale send is refused");
            assertEquals(2, store.run("s"));
            assertEquals(3, store.accept("s", 3, 0, List.of(0), List.of(shard("new", 5))), "a later run is taken at once");
            assertEquals(1, store.take("s", 3, 0, 1).size());
        }
    }

    /** An input that runs again in the same run replaces what it sent. */
    @Test
    void anInputSentAgainReplacesItsShards() throws Exception {
        try (ShuffleStore store = new ShuffleStore(Long.MAX_VALUE)) {
            store.accept("s", 1, 0, List.of(0), List.of(shard("x", 50)));
            store.accept("s", 1, 0, List.of(0), List.of(shard("y", 30)));
            assertEquals(30, store.memoryBytes());
            List<byte[]> got = store.take("s", 1, 0, 1);
            assertEquals(1, got.size());
            assertArrayEquals(shard("y", 30), got.get(0));
        }
    }

    @Test
    void anUnknownShuffleHasNothing() throws Exception {
        try (ShuffleStore store = new ShuffleStore(Long.MAX_VALUE)) {
            assertNull(store.take("nope", 1, 0, 0));
            assertEquals(0, store.run("nope"));
        }
    }
}
