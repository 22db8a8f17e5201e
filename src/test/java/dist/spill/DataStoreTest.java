package dist.spill;

import dist.serial.Serializer;
import dist.worker.DataStore;
import dist.worker.MemoryPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class DataStoreTest {

    /** 1000-byte limit: target 600, spill 700, pause 800. */
    static final MemoryPolicy SMALL = new MemoryPolicy(1000, 0.6, 0.7, 0.8);

    static byte[] block(int seed, int n) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) seed);
        return b;
    }

    static long files(Path dir) throws IOException {
        if (dir == null || !Files.isDirectory(dir)) return 0;
        try (Stream<Path> s = Files.list(dir)) {
            return s.count();
        }
    }

    @Test
    void leastRecentlyUsedGoToDiskAndComeBackTransparently(@TempDir Path tmp) throws Exception {
        try (DataStore store = new DataStore(SMALL, tmp)) {
            store.putBytes("a", block(1, 200));
            store.putBytes("b", block(2, 200));
            store.putBytes("c", block(3, 200));
            assertEquals(600, store.memoryBytes());
            assertNull(store.spillDirectory(), "nothing spilled yet, so no folder");
            store.get("a"); // a is now the most recently used: b goes first
            store.putBytes("d", block(4, 200));
            assertEquals(600, store.memoryBytes());
            assertEquals(200, store.spilledBytes());
            assertEquals(1, store.spillCount());
            Path dir = store.spillDirectory();
            assertTrue(dir.startsWith(tmp), dir + " should be under " + tmp);
            assertEquals(1, files(dir));

            // read back: same bytes, and within the spill fraction nothing else has to go
            assertArrayEquals(block(2, 200), store.get("b").bytes());
            assertEquals(1, store.readBackCount());
            assertEquals(600, store.memoryBytes(), "800 > spill 700, so the oldest went back down to 600");
            assertEquals(4, store.size());
            for (int i = 0; i < 4; i++) {
                assertArrayEquals(block(i + 1, 200), store.get(String.valueOf((char) ('a' + i))).bytes());
            }
            store.remove("b");
            assertFalse(store.contains("b"));
            store.close();
            assertFalse(Files.exists(dir), "close removes the spill folder");
        }
    }

    @Test
    void decodedValuesSurviveASpill() throws Exception {
        Serializer ser = Serializer.defaults();
        try (DataStore store = new DataStore(SMALL, null)) {
            List<Integer> value = List.of(1, 2, 3);
            store.putComputed("x", value, ser.encode(value));
            store.putBytes("big", block(9, 700)); // x and then big itself go to disk
            assertTrue(store.spilledBytes() > 0);
            assertEquals(value, store.get("x").value(ser, getClass().getClassLoader()));
            Path dir = store.spillDirectory();
            assertTrue(dir.toString().startsWith(System.getProperty("java.io.tmpdir")), dir.toString());
            store.close();
            assertFalse(Files.exists(dir));
        }
    }

    @Test
    void noLimitNeverSpills() throws Exception {
        try (DataStore store = new DataStore()) {
            for (int i = 0; i < 100; i++) store.putBytes("k" + i, block(i, 10_000));
            assertEquals(1_000_000, store.memoryBytes());
            assertEquals(0, store.spillCount());
            assertFalse(store.overPause());
            assertNull(store.spillDirectory());
        }
    }

    @Test
    void aFullDiskFailsThePutThatNeededRoomAndNamesTheFolder(@TempDir Path tmp) throws Exception {
        AtomicBoolean full = new AtomicBoolean(true);
        DataStore.SpillFiles disk = new DataStore.SpillFiles() {
            @Override
            public void write(Path file, byte[] bytes) throws IOException {
                if (full.get()) {
                    Files.write(file, new byte[1]); // a partial file, as a real full disk leaves
                    throw new IOException("No space left on device");
                }
                DataStore.SpillFiles.PLAIN.write(file, bytes);
            }

            @Override
            public byte[] read(Path file) throws IOException {
                return DataStore.SpillFiles.PLAIN.read(file);
            }
        };
        try (DataStore store = new DataStore(SMALL, tmp, disk)) {
            store.putComputed("a", null, block(1, 400));
            store.putComputed("e", null, block(5, 300)); // past the target but not the pause: kept in memory
            assertEquals(700, store.memoryBytes());
            assertEquals(0, store.spillCount());
            DataStore.SpillException e = assertThrows(DataStore.SpillException.class,
                    () -> store.putComputed("b", null, block(2, 500)));
            assertTrue(e.getMessage().contains("No space left on device"), e.getMessage());
            assertTrue(e.getMessage().contains(store.spillDirectory().toString()), e.getMessage());
            assertFalse(store.contains("b"), "a computed result that found no room is not kept");
            assertArrayEquals(block(1, 400), store.get("a").bytes(), "what was there stays usable");
            assertEquals(0, files(store.spillDirectory()), "the partial file is removed");

            // bytes from a peer are kept all the same: a task may be waiting for them
            assertThrows(DataStore.SpillException.class, () -> store.putBytes("c", block(3, 400)));
            assertTrue(store.contains("c"));
            assertTrue(store.overPause(), "1100 bytes in memory is past the pause fraction");

            full.set(false); // space again: the next put spills as usual
            store.putComputed("d", null, block(4, 100));
            assertFalse(store.overPause());
            assertArrayEquals(block(3, 400), store.get("c").bytes());
        }
    }

    @Test
    void aFolderThatCannotBeMadeIsAClearError(@TempDir Path tmp) throws Exception {
        Path file = Files.writeString(tmp.resolve("not-a-folder"), "x");
        try (DataStore store = new DataStore(SMALL, file)) {
            store.putComputed("a", null, block(1, 500));
            DataStore.SpillException e = assertThrows(DataStore.SpillException.class,
                    () -> store.putComputed("b", null, block(2, 500)));
            assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        }
    }

    @Test
    void policyChecksItsNumbers() {
        assertThrows(IllegalArgumentException.class, () -> new MemoryPolicy(-1, 0.6, 0.7, 0.8));
        assertThrows(IllegalArgumentException.class, () -> new MemoryPolicy(100, 0, 0.7, 0.8));
        MemoryPolicy p = MemoryPolicy.fromConfig(1000);
        assertEquals(600, p.targetBytes());
        assertEquals(700, p.spillBytes());
        assertEquals(800, p.pauseBytes());
        assertEquals(Long.MAX_VALUE, MemoryPolicy.unlimited().pauseBytes());
    }
}
