package dist.worker;

import dist.serial.Encoded;
import dist.serial.Serializer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;

/**
 * A worker's results, by key. A value computed here keeps both the object (for local tasks) and
 * its encoding (for peers and clients); a value fetched from a peer keeps its encoding and is decoded
 * on first local use. An encoding's large arrays are the value's own ({@link Encoded}), so keeping
 * both costs no second copy of them.
 *
 * <p>With a memory limit ({@link MemoryPolicy}) the store spills: once the bytes held in memory pass
 * the target, the least recently used results are written to files under the local directory and
 * dropped from memory; {@link #get} reads them back on demand, so tasks and peers never notice. A
 * result keeps its file until it is removed, so sending it back to disk later costs no write. The
 * directory is created on the first spill and deleted by {@link #close}.
 *
 * <pre>{@code
 * try (DataStore store = new DataStore(MemoryPolicy.fromConfig(64L << 20), null)) {   // null: a temp folder
 *     store.putEncoded("x", Encoded.of(bytes));
 *     Encoded again = store.get("x").encoded();   // from memory or from disk
 * }
 * }</pre>
 */
public final class DataStore implements AutoCloseable {

    /** One value held in memory: its encoding, and its object once decoded (or computed here). */
    public static final class Entry {
        private volatile Object value;
        private volatile boolean decoded;
        private final Encoded encoded;

        Entry(Object value, Encoded encoded, boolean decoded) {
            this.value = value;
            this.encoded = encoded;
            this.decoded = decoded;
        }

        public Encoded encoded() {
            return encoded;
        }

        /** The value, decoded from its encoding on first use. */
        public Object value(Serializer serializer, ClassLoader loader) {
            if (!decoded) {
                value = serializer.decode(encoded, loader, null);
                decoded = true;
            }
            return value;
        }
    }

    /**
     * Told of each result written to disk or read back, with the time and bytes it took, on the thread that
     * did it (while the store's lock is held: it must be quick).
     */
    public interface SpillListener {
        void spilled(String key, long nanos, long bytes, boolean written);
    }

    private volatile SpillListener spillListener = (key, nanos, bytes, written) -> { };

    /** Tells {@code listener} of every write to and read from disk from now on. */
    public void spillListener(SpillListener listener) {
        this.spillListener = java.util.Objects.requireNonNull(listener, "listener");
    }

    /** Reads and writes spill files; replaceable to test a full disk. */
    public interface SpillFiles {
        void write(Path file, Encoded value) throws IOException;

        Encoded read(Path file) throws IOException;

        /**
         * Plain files: the part count, each part's length, then the parts, in one gathering write; read
         * back into one array per part, so a buffer comes back as an array of its own.
         */
        SpillFiles PLAIN = new SpillFiles() {
            @Override
            public void write(Path file, Encoded value) throws IOException {
                List<byte[]> parts = parts(value);
                ByteBuffer[] out = new ByteBuffer[parts.size() + 1];
                ByteBuffer lengths = ByteBuffer.allocate(4 + 4 * parts.size()).putInt(parts.size());
                for (int i = 0; i < parts.size(); i++) {
                    lengths.putInt(parts.get(i).length);
                    out[i + 1] = ByteBuffer.wrap(parts.get(i));
                }
                out[0] = lengths.flip();
                try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                    while (out[out.length - 1].hasRemaining()) {
                        ch.write(out);
                    }
                }
            }

            @Override
            public Encoded read(Path file) throws IOException {
                try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                    long size = ch.size();
                    ByteBuffer count = readFully(ch, ByteBuffer.allocate(4), file);
                    int n = count.getInt(0);
                    if (n < 1 || 4L + 4L * n > size) {
                        throw new IOException("spill file " + file + " is damaged: it claims " + n + " parts");
                    }
                    ByteBuffer lengths = readFully(ch, ByteBuffer.allocate(4 * n), file);
                    long total = 4L + 4L * n;
                    for (int i = 0; i < n; i++) {
                        int len = lengths.getInt(4 * i);
                        if (len < 0) {
                            throw new IOException("spill file " + file + " is damaged: part " + i + " has length " + len);
                        }
                        total += len;
                    }
                    if (total != size) {
                        throw new IOException("spill file " + file + " is damaged: its parts add up to " + total
                                + " bytes, the file has " + size);
                    }
                    List<byte[]> parts = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        byte[] part = new byte[lengths.getInt(4 * i)];
                        readFully(ch, ByteBuffer.wrap(part), file);
                        parts.add(part);
                    }
                    return new Encoded(parts.get(0), List.copyOf(parts.subList(1, n)));
                }
            }

            private static List<byte[]> parts(Encoded value) {
                List<byte[]> parts = new ArrayList<>(1 + value.buffers().size());
                parts.add(value.head());
                parts.addAll(value.buffers());
                return parts;
            }

            private static ByteBuffer readFully(FileChannel ch, ByteBuffer b, Path file) throws IOException {
                while (b.hasRemaining()) {
                    if (ch.read(b) < 0) {
                        throw new IOException("spill file " + file + " ends early");
                    }
                }
                return b;
            }
        };
    }

    /**
     * Results could not go to disk (a full disk, a read-only directory): the message names the
     * directory and the cause.
     */
    public static final class SpillException extends IOException {
        SpillException(String message, IOException cause) {
            super(message, cause);
        }
    }

    /** Where a key's data is: in memory ({@code mem} set), on disk ({@code file} set), or both. */
    private static final class Slot {
        final long size;
        /** What it takes of the heap while in memory: {@link #heapBytes}. */
        final long charge;
        Entry mem;
        Path file;

        Slot(Entry mem) {
            this.mem = mem;
            this.size = mem.encoded.nbytes();
            this.charge = heapBytes(mem.encoded);
        }
    }

    /** G1's region size when this JVM runs G1, else 0. */
    private static final long G1_REGION = g1Region();

    private static long g1Region() {
        boolean g1 = java.lang.management.ManagementFactory.getGarbageCollectorMXBeans().stream()
                .anyMatch(b -> b.getName().startsWith("G1"));
        return g1 ? Math.max(0, VmOptions.number("G1HeapRegionSize")) : 0;
    }

    /**
     * The heap an encoding takes: its bytes, except that under G1 an array of half a region or more
     * takes whole regions of its own (a 1 MiB array two 1 MiB regions), so a small heap would fill
     * at half the bytes counted, before anything spilled.
     */
    static long heapBytes(Encoded e) {
        long n = e.head().length;
        for (byte[] b : e.buffers()) {
            long a = b.length + 16L; // the array's header
            n += G1_REGION > 0 && a >= G1_REGION / 2 ? (a + G1_REGION - 1) / G1_REGION * G1_REGION : b.length;
        }
        return n;
    }

    private static final System.Logger LOG = System.getLogger("dist.worker");

    private final MemoryPolicy policy;
    private final Path parent;
    private final SpillFiles files;
    private final ReentrantLock lock = new ReentrantLock();
    private final Map<String, Slot> slots = new HashMap<>();
    /** Slots held in memory, least recently used first. */
    private final LinkedHashMap<String, Slot> fast = new LinkedHashMap<>(16, 0.75f, true);
    private long fastBytes;
    private long diskOnlyBytes;
    private long spilled;
    private long spilledBytes;
    private long heldPeak;
    private double heapPerByte = 1.0;
    private long readBack;
    private long fileSeq;
    private Path dir;
    private boolean closed;
    private boolean warnedFull;

    /** Keeps everything in memory. */
    public DataStore() {
        this(MemoryPolicy.unlimited(), null, SpillFiles.PLAIN);
    }

    /**
     * @param localDirectory where the spill folder goes (a fresh sub-folder is made there); null: a
     *                       fresh temporary folder
     */
    public DataStore(MemoryPolicy policy, Path localDirectory) {
        this(policy, localDirectory, SpillFiles.PLAIN);
    }

    public DataStore(MemoryPolicy policy, Path localDirectory, SpillFiles files) {
        this.policy = java.util.Objects.requireNonNull(policy, "policy");
        this.parent = localDirectory;
        this.files = java.util.Objects.requireNonNull(files, "files");
    }

    /**
     * Keeps a result computed here. When older results must go to disk and cannot, it stays in memory
     * up to the pause fraction; past that this throws {@link SpillException} and the result is not kept.
     */
    public void putComputed(String key, Object value, Encoded encoded) throws SpillException {
        put(key, new Entry(value, encoded, true), true);
    }

    /**
     * Keeps an encoding from elsewhere (a peer, a scatter). Throws as {@link #putComputed}, but keeps it
     * in memory all the same (a task may be waiting for it); the worker then pauses.
     */
    public void putEncoded(String key, Encoded encoded) throws SpillException {
        put(key, new Entry(null, encoded, false), false);
    }

    private void put(String key, Entry e, boolean undoOnFailure) throws SpillException {
        lock.lock();
        try {
            Slot s = new Slot(e);
            Slot old = slots.put(key, s); // one probe of the table for a new key, the usual case
            if (old != null) {
                forget(key, old);
            }
            fast.put(key, s);
            fastBytes += s.charge;
            heldPeak = Math.max(heldPeak, fastBytes);
            if (fastBytes > targetBytes()) {
                try {
                    evictTo(targetBytes());
                } catch (SpillException ex) {
                    if (fastBytes <= policy.pauseBytes()) {
                        // the disk refused, but memory still has room: keep it there and say so once
                        if (!warnedFull) {
                            warnedFull = true;
                            LOG.log(System.Logger.Level.WARNING, ex.getMessage() + "; keeping results in memory");
                        }
                        return;
                    }
                    if (undoOnFailure && slots.get(key) == s) {
                        removeLocked(key);
                    }
                    throw ex;
                }
                warnedFull = false;
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * The value of {@code key} held in memory, read back from disk if it was spilled; null if there is
     * none. A spill file that cannot be read is an {@link UncheckedIOException} naming it.
     */
    public Entry get(String key) {
        lock.lock();
        try {
            Slot s = slots.get(key);
            if (s == null) {
                return null;
            }
            if (s.mem != null) {
                fast.get(key); // most recently used now
                return s.mem;
            }
            Encoded bytes;
            long began = System.nanoTime();
            try {
                bytes = files.read(s.file);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read back " + key + " from its spill file " + s.file
                        + ": " + e.getMessage(), e);
            }
            Entry e = new Entry(null, bytes, false);
            s.mem = e;
            fast.put(key, s);
            fastBytes += s.charge;
            heldPeak = Math.max(heldPeak, fastBytes);
            diskOnlyBytes -= s.size;
            readBack++;
            FlightEvents.spill(key, s.size, false, System.nanoTime() - began);
            spillListener.spilled(key, System.nanoTime() - began, s.size, false);
            if (fastBytes > scaled(policy.spillBytes())) {
                try {
                    evictTo(targetBytes());
                } catch (SpillException ex) {
                    LOG.log(System.Logger.Level.WARNING, ex.getMessage());
                }
            }
            return e;
        } finally {
            lock.unlock();
        }
    }

    /** Size in bytes of {@code key}'s data, or -1 when not held; reads nothing back. */
    public long size(String key) {
        lock.lock();
        try {
            Slot s = slots.get(key);
            return s == null ? -1 : s.size;
        } finally {
            lock.unlock();
        }
    }

    /** Sends least recently used results to disk until the bytes in memory are at most {@code goal}. */
    private void evictTo(long goal) throws SpillException {
        Iterator<Map.Entry<String, Slot>> it = fast.entrySet().iterator();
        while (fastBytes > goal && it.hasNext()) {
            Map.Entry<String, Slot> me = it.next();
            Slot s = me.getValue();
            if (s.file == null) {
                Path d = directory();
                Path f = d.resolve("spill-" + (fileSeq++) + ".bin");
                long began = System.nanoTime();
                try {
                    files.write(f, s.mem.encoded);
                } catch (IOException e) {
                    if (dropWritten(goal)) {
                        return; // results already on disk made the room
                    }
                    try {
                        Files.deleteIfExists(f);
                    } catch (IOException ignored) {
                        // the write error below is the one to report
                    }
                    throw new SpillException("cannot spill " + me.getKey() + " (" + s.size + " bytes) to "
                            + d + ": " + e.getMessage() + "; free space there or give the worker a larger"
                            + " --memory-limit or another --local-directory", e);
                }
                s.file = f;
                spilled++;
                spilledBytes += s.size;
                FlightEvents.spill(me.getKey(), s.size, true, System.nanoTime() - began);
                spillListener.spilled(me.getKey(), System.nanoTime() - began, s.size, true);
            }
            s.mem = null;
            it.remove();
            fastBytes -= s.charge;
            diskOnlyBytes += s.size;
        }
    }

    /**
     * Tells the store how many bytes of heap each byte it counts takes (at least 1): its fractions
     * then apply to the counted bytes times this, and results go to disk now if that is past the
     * target. A worker learns it from the heap after a collection.
     */
    public void heapPerByte(double ratio) {
        lock.lock();
        try {
            heapPerByte = Math.max(1.0, Math.min(MAX_HEAP_PER_BYTE, ratio));
            if (fastBytes > targetBytes()) {
                evictTo(targetBytes());
            }
        } catch (SpillException e) {
            LOG.log(System.Logger.Level.WARNING, e.getMessage() + "; keeping results in memory");
        } finally {
            lock.unlock();
        }
    }

    /** The ratio {@link #heapPerByte(double)} set last (1 until then). */
    public double heapPerByte() {
        lock.lock();
        try {
            return heapPerByte;
        } finally {
            lock.unlock();
        }
    }

    private static final double MAX_HEAP_PER_BYTE = 4.0;

    /** Counted bytes past which results go to disk: the target, over the heap's bytes per byte counted. */
    private long targetBytes() {
        return scaled(policy.targetBytes());
    }

    private long scaled(long bytes) {
        return bytes == Long.MAX_VALUE ? bytes : (long) (bytes / heapPerByte);
    }

    /**
     * Sends least recently used results to disk until {@code bytes} of them have left memory (or
     * none is left): the heap is fuller than the results' sizes say. A disk that refuses is logged
     * and the results stay.
     */
    public void spillAtLeast(long bytes) {
        lock.lock();
        try {
            evictTo(Math.max(0, fastBytes - bytes));
        } catch (SpillException e) {
            LOG.log(System.Logger.Level.WARNING, e.getMessage() + "; keeping results in memory");
        } finally {
            lock.unlock();
        }
    }

    /** Drops from memory results that have a file already, oldest first, until at most {@code goal}; true if reached. */
    private boolean dropWritten(long goal) {
        Iterator<Map.Entry<String, Slot>> it = fast.entrySet().iterator();
        while (fastBytes > goal && it.hasNext()) {
            Slot s = it.next().getValue();
            if (s.file != null) {
                s.mem = null;
                it.remove();
                fastBytes -= s.charge;
                diskOnlyBytes += s.size;
            }
        }
        return fastBytes <= goal;
    }

    private Path directory() throws SpillException {
        if (dir != null) {
            return dir;
        }
        if (closed) {
            throw new SpillException("the data store is closed", new IOException("closed"));
        }
        Path where = parent;
        try {
            if (where == null) {
                dir = Files.createTempDirectory("dist-worker-");
            } else {
                Files.createDirectories(where);
                dir = Files.createTempDirectory(where, "dist-worker-");
            }
        } catch (IOException e) {
            throw new SpillException("cannot make a spill folder in " + (where == null
                    ? "the temporary directory" : where) + ": " + e, e);
        }
        return dir;
    }

    public void remove(String key) {
        lock.lock();
        try {
            removeLocked(key);
        } finally {
            lock.unlock();
        }
    }

    private void removeLocked(String key) {
        Slot s = slots.remove(key);
        if (s != null) {
            forget(key, s);
        }
    }

    /** Undoes what slot {@code s} of {@code key}, no longer in {@code slots}, counted and wrote. */
    private void forget(String key, Slot s) {
        if (s.mem != null) {
            fast.remove(key);
            fastBytes -= s.charge;
        } else {
            diskOnlyBytes -= s.size;
        }
        if (s.file != null) {
            try {
                Files.deleteIfExists(s.file);
            } catch (IOException e) {
                LOG.log(System.Logger.Level.DEBUG, "could not delete spill file " + s.file + ": " + e);
            }
        }
    }

    public boolean contains(String key) {
        lock.lock();
        try {
            return slots.containsKey(key);
        } finally {
            lock.unlock();
        }
    }

    public int size() {
        lock.lock();
        try {
            return slots.size();
        } finally {
            lock.unlock();
        }
    }

    /** Bytes of the results held in memory, as the heap holds them (see {@link #heapBytes}). */
    public long memoryBytes() {
        lock.lock();
        try {
            return fastBytes;
        } finally {
            lock.unlock();
        }
    }

    /** Bytes of the results held only on disk. */
    public long spilledBytes() {
        lock.lock();
        try {
            return diskOnlyBytes;
        } finally {
            lock.unlock();
        }
    }

    /** Results written to disk so far, and results read back so far. */
    public long spillCount() {
        lock.lock();
        try {
            return spilled;
        } finally {
            lock.unlock();
        }
    }

    /** Bytes written to disk so far (a result written once counts once, however often it leaves memory). */
    public long spilledBytesTotal() {
        lock.lock();
        try {
            return spilledBytes;
        } finally {
            lock.unlock();
        }
    }

    /** The most bytes of results held in memory at once so far (counted when a result arrives, before any spill). */
    public long memoryBytesPeak() {
        lock.lock();
        try {
            return heldPeak;
        } finally {
            lock.unlock();
        }
    }

    public long readBackCount() {
        lock.lock();
        try {
            return readBack;
        } finally {
            lock.unlock();
        }
    }

    /** True while the bytes in memory are past the pause fraction of the limit. */
    public boolean overPause() {
        lock.lock();
        try {
            return fastBytes > scaled(policy.pauseBytes());
        } finally {
            lock.unlock();
        }
    }

    public MemoryPolicy policy() {
        return policy;
    }

    /** The spill folder, or null before the first spill. */
    public Path spillDirectory() {
        lock.lock();
        try {
            return dir;
        } finally {
            lock.unlock();
        }
    }

    /** Keys held, in memory or on disk. */
    public List<String> keys() {
        lock.lock();
        try {
            return new ArrayList<>(slots.keySet());
        } finally {
            lock.unlock();
        }
    }

    /** Drops every result (and its file); the spill folder stays for later spills. */
    public void clear() {
        lock.lock();
        try {
            for (String k : new ArrayList<>(slots.keySet())) {
                removeLocked(k);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Drops every result and deletes the spill folder. */
    @Override
    public void close() {
        lock.lock();
        try {
            clear();
            closed = true;
            if (dir != null) {
                deleteTree(dir);
                dir = null;
            }
        } finally {
            lock.unlock();
        }
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> walk = Files.walk(root)) {
            List<Path> all = new ArrayList<>(walk.toList());
            java.util.Collections.reverse(all);
            for (Path p : all) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "could not delete spill folder " + root + ": " + e);
        }
    }
}
