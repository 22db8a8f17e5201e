package dist.spill;

import dist.serial.Encoded;

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
    void thePeakHeldInMemoryAndTheBytesWrittenToDiskAreCounted(@TempDir Path tmp) throws Exception {
        try (DataStore store = new DataStore(SMALL, tmp)) {
            long one = Encoded.of(block(1, 200)).nbytes();
            store.putEncoded("a", Encoded.of(block(1, 200)));
            store.putEncoded("b", Encoded.of(block(2, 200)));
            store.putEncoded("c", Encoded.of(block(3, 200)));
            store.putEncoded("d", Encoded.of(block(4, 200))); // past the target: a goes to disk
            assertEquals(4 * one, store.memoryBytesPeak(), "the peak counts d before a left memory");
            assertEquals(one, store.spilledBytesTotal());
            store.get("a"); // read back, b goes to disk
            store.get("b"); // read back again: its file stays, c goes to disk
            assertEquals(3 * one, store.spilledBytesTotal(), "each result written once");
            store.remove("a");
            store.remove("b");
            assertEquals(4 * one, store.memoryBytesPeak(), "a peak stays");
            assertEquals(3 * one, store.spilledBytesTotal(), "a total stays");
        }
    }

    @Test
    void aHeapFullerThanTheSizesSayMakesResultsGoToDiskAndPauseEarlier(@TempDir Path tmp) throws Exception {
        try (DataStore store = new DataStore(SMALL, tmp)) {
            long one = Encoded.of(block(1, 100)).nbytes();
            for (int i = 0; i < 5; i++) {
                store.putEncoded("k" + i, Encoded.of(block(i, 100)));
            }
            assertEquals(5 * one, store.memoryBytes(), "below the target of 600: all in memory");
            store.heapPerByte(2.0); // each byte counted takes two of the heap: the target is 300 now
            assertTrue(store.memoryBytes() <= 300, "held: " + store.memoryBytes());
            assertTrue(store.spillCount() >= 2);
            assertFalse(store.overPause());
            store.heapPerByte(100); // bounded: at most 4 heap bytes per byte counted
            assertEquals(4.0, store.heapPerByte());
            store.heapPerByte(0.5); // never below the sizes
            assertEquals(1.0, store.heapPerByte());
        }
    }

    @Test
    void leastRecentlyUsedGoToDiskAndComeBackTransparently(@TempDir Path tmp) throws Exception {
        try (DataStore store = new DataStore(SMALL, tmp)) {
            store.putEncoded("a", Encoded.of(block(1, 200)));
            store.putEncoded("b", Encoded.of(block(2, 200)));
            store.putEncoded("c", Encoded.of(block(3, 200)));
            assertEquals(600, store.memoryBytes());
            assertNull(store.spillDirectory(), "nothing spilled yet, so no folder");
            store.get("a"); // a is now the most recently used: b goes first
            store.putEncoded("d", Encoded.of(block(4, 200)));
            assertEquals(600, store.memoryBytes());
            assertEquals(200, store.spilledBytes());
            assertEquals(1, store.spillCount());
            Path dir = store.spillDirectory();
            assertTrue(dir.startsWith(tmp), dir + " should be under " + tmp);
            assertEquals(1, files(dir));

            // read back: same bytes, and within the spill fraction nothing else has to go
            assertArrayEquals(block(2, 200), store.get("b").encoded().head());
            assertEquals(1, store.readBackCount());
            assertEquals(600, store.memoryBytes(), "800 > spill 700, so the oldest went back down to 600");
            assertEquals(4, store.size());
            for (int i = 0; i < 4; i++) {
                assertArrayEquals(block(i + 1, 200), store.get(String.valueOf((char) ('a' + i))).encoded().head());
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
            store.putComputed("x", value, ser.encodeParts(value, null));
            store.putEncoded("big", Encoded.of(block(9, 700))); // x and then big itself go to disk
            assertTrue(store.spilledBytes() > 0);
            assertEquals(value, store.get("x").value(ser, getClass().getClassLoader()));
            Path dir = store.spillDirectory();
            assertTrue(dir.toString().startsWith(System.getProperty("java.io.tmpdir")), dir.toString());
            store.close();
            assertFalse(Files.exists(dir));
        }
    }

    @Test
    void aValueWithBuffersComesBackFromDiskPartByPart(@TempDir Path tmp) throws Exception {
        Serializer ser = Serializer.defaults();
        byte[] big = new byte[Encoded.MIN_BUFFER_BYTES + 3];
        new java.util.Random(3).nextBytes(big);
        Object value = List.of("head", big, big);
        Encoded enc = ser.encodeParts(value, null);
        assertEquals(2, enc.buffers().size());
        MemoryPolicy tiny = new MemoryPolicy(5L * big.length, 0.6, 0.7, 0.8);
        try (DataStore store = new DataStore(tiny, tmp)) {
            store.putComputed("x", value, enc);
            assertEquals(enc.nbytes(), store.memoryBytes());
            store.putEncoded("y", Encoded.of(new byte[2 * big.length])); // x goes to disk
            assertEquals(1, store.spillCount());
            DataStore.Entry back = store.get("x");
            assertEquals(1, store.readBackCount());
            assertArrayEquals(enc.head(), back.encoded().head());
            assertEquals(2, back.encoded().buffers().size(), "each buffer comes back as an array of its own");
            List<?> decoded = (List<?>) back.value(ser, getClass().getClassLoader());
            assertEquals("head", decoded.get(0));
            assertArrayEquals(big, (byte[]) decoded.get(1));
            assertArrayEquals(big, (byte[]) decoded.get(2));
        }
    }

    @Test
    void aDamagedSpillFileIsAnErrorThatNamesIt(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("spill-0.bin");
        DataStore.SpillFiles.PLAIN.write(f, new Encoded(new byte[] {1, 2}, List.of(new byte[10])));
        assertEquals(12, DataStore.SpillFiles.PLAIN.read(f).nbytes());
        byte[] whole = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(whole, whole.length - 1));
        IOException e = assertThrows(IOException.class, () -> DataStore.SpillFiles.PLAIN.read(f));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        Files.write(f, new byte[] {(byte) 0x7f, 0, 0, 0});
        e = assertThrows(IOException.class, () -> DataStore.SpillFiles.PLAIN.read(f));
        assertTrue(e.getMessage().contains("damaged"), e.getMessage());
    }

    @Test
    void noLimitNeverSpills() throws Exception {
        try (DataStore store = new DataStore()) {
            for (int i = 0; i < 100; i++) store.putEncoded("k" + i, Encoded.of(block(i, 10_000)));
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
            public void write(Path file, Encoded bytes) throws IOException {
                if (full.get()) {
                    Files.write(file, new byte[1]); // a partial file, as a real full disk leaves
                    throw new IOException("No space left on device");
                }
                DataStore.SpillFiles.PLAIN.write(file, bytes);
            }

            @Override
            public Encoded read(Path file) throws IOException {
                return DataStore.SpillFiles.PLAIN.read(file);
            }
        };
        try (DataStore store = new DataStore(SMALL, tmp, disk)) {
            store.putComputed("a", null, Encoded.of(block(1, 400)));
            store.putComputed("e", null, Encoded.of(block(5, 300))); // past the target but not the pause: kept in memory
            assertEquals(700, store.memoryBytes());
            assertEquals(0, store.spillCount());
            DataStore.SpillException e = assertThrows(DataStore.SpillException.class,
                    () -> store.putComputed("b", null, Encoded.of(block(2, 500))));
            assertTrue(e.getMessage().contains("No space left on device"), e.getMessage());
            assertTrue(e.getMessage().contains(store.spillDirectory().toString()), e.getMessage());
            assertFalse(store.contains("b"), "a computed result that found no room is not kept");
            assertArrayEquals(block(1, 400), store.get("a").encoded().head(), "what was there stays usable");
            assertEquals(0, files(store.spillDirectory()), "the partial file is removed");

            // bytes from a peer are kept all the same: a task may be waiting for them
            assertThrows(DataStore.SpillException.class, () -> store.putEncoded("c", Encoded.of(block(3, 400))));
            assertTrue(store.contains("c"));
            assertTrue(store.overPause(), "1100 bytes in memory is past the pause fraction");

            full.set(false); // space again: the next put spills as usual
            store.putComputed("d", null, Encoded.of(block(4, 100)));
            assertFalse(store.overPause());
            assertArrayEquals(block(3, 400), store.get("c").encoded().head());
        }
    }

    @Test
    void aFolderThatCannotBeMadeIsAClearError(@TempDir Path tmp) throws Exception {
        Path file = Files.writeString(tmp.resolve("not-a-folder"), "x");
        try (DataStore store = new DataStore(SMALL, file)) {
            store.putComputed("a", null, Encoded.of(block(1, 500)));
            DataStore.SpillException e = assertThrows(DataStore.SpillException.class,
                    () -> store.putComputed("b", null, Encoded.of(block(2, 500))));
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
