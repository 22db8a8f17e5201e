package dist.worker;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;

/**
 * The shards peers sent this worker for the output partitions it owns, by shuffle, run, partition
 * and input (dask's shuffle buffers), until the scheduler drops the run: when every output asked
 * for is done, or the shuffle is forgotten or runs again. A partition is read as often as it is
 * asked for, since more than one task may consume it (each runs its own steps on it) and an
 * output task may run again on the same worker. Held in memory while the
 * shuffle buffers of this worker stay under the worker's memory target
 * ({@link MemoryPolicy#targetBytes()}); a shard that would pass it is appended to the run's file.
 * Only the latest run of a shuffle is kept: a later run drops the earlier ones and sends of an
 * earlier run are refused. An input sent again in the same run replaces what it sent before.
 */
final class ShuffleStore implements AutoCloseable {

    /** One shard: its bytes, or where it is in its run's file. */
    private record Slot(byte[] bytes, long offset, int length) {
    }

    /** One run of one shuffle here: its partitions' shards by input, and its spill file. */
    private static final class Run {
        final int run;
        final Map<Integer, TreeMap<Integer, Slot>> partitions = new HashMap<>();
        Path file;
        FileChannel channel;
        long end;

        Run(int run) {
            this.run = run;
        }
    }

    private final long budget;
    /** By shuffle: its latest run here, kept once its shards are dropped so that sends of an earlier run are refused. */
    private final Map<String, Run> runs = new HashMap<>();
    private final AtomicLong inMemory = new AtomicLong();
    private final AtomicLong spilled = new AtomicLong();
    private final ReentrantLock lock = new ReentrantLock();
    private Path dir;
    private boolean closed;

    ShuffleStore(long budget) {
        this.budget = budget;
    }

    /**
     * Keeps input {@code input}'s shards for {@code partitions} in run {@code run} of {@code shuffle};
     * the answer is this worker's run of the shuffle afterwards: {@code run} when kept, a later one
     * when the send was stale and refused.
     */
    int accept(String shuffle, int run, int input, List<Integer> partitions, List<byte[]> shards) throws IOException {
        lock.lock();
        try {
            Run r = advance(shuffle, run);
            if (r.run != run) {
                return r.run;
            }
            for (int k = 0; k < partitions.size(); k++) {
                byte[] b = shards.get(k);
                Slot slot;
                if (inMemory.get() + b.length <= budget) {
                    inMemory.addAndGet(b.length);
                    slot = new Slot(b, 0, b.length);
                } else {
                    slot = spill(r, b);
                }
                Slot old = r.partitions.computeIfAbsent(partitions.get(k), p -> new TreeMap<>()).put(input, slot);
                if (old != null && old.bytes() != null) {
                    inMemory.addAndGet(-old.bytes().length);
                }
            }
            return run;
        } finally {
            lock.unlock();
        }
    }

    /** The scheduler runs {@code shuffle} again as {@code run}: what earlier runs kept here goes. */
    void restart(String shuffle, int run) {
        lock.lock();
        try {
            advance(shuffle, run);
        } finally {
            lock.unlock();
        }
    }

    /** This worker's run of {@code shuffle}: 0 when it has heard of none. */
    int run(String shuffle) {
        lock.lock();
        try {
            Run r = runs.get(shuffle);
            return r == null ? 0 : r.run;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Output partition {@code partition}'s shards of run {@code run}, one per input in input order;
     * null when the run is not this worker's or fewer than {@code inputs} arrived. They stay here:
     * callers must not change the arrays.
     */
    List<byte[]> take(String shuffle, int run, int partition, int inputs) throws IOException {
        lock.lock();
        try {
            Run r = runs.get(shuffle);
            if (r == null || r.run != run) {
                return null;
            }
            TreeMap<Integer, Slot> got = r.partitions.get(partition);
            int have = got == null ? 0 : got.size();
            if (have != inputs) {
                return null;
            }
            List<byte[]> out = new ArrayList<>(have);
            for (Slot s : got.values()) {
                if (s.bytes() != null) {
                    out.add(s.bytes());
                } else {
                    ByteBuffer buf = ByteBuffer.allocate(s.length());
                    while (buf.hasRemaining()) {
                        if (r.channel.read(buf, s.offset() + buf.position()) < 0) {
                            throw new IOException("shuffle file " + r.file + " ends early");
                        }
                    }
                    out.add(buf.array());
                }
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    /** Partitions held now, over every shuffle (read by tests). */
    int partitionCount() {
        lock.lock();
        try {
            int n = 0;
            for (Run r : runs.values()) {
                n += r.partitions.size();
            }
            return n;
        } finally {
            lock.unlock();
        }
    }

    /** Bytes of shards held in memory now. */
    long memoryBytes() {
        return inMemory.get();
    }

    /** Bytes of shards written to disk since the worker started. */
    long spilledBytes() {
        return spilled.get();
    }

    /** The run of {@code shuffle} after hearing of {@code run}: a later one replaces and drops the earlier. */
    private Run advance(String shuffle, int run) {
        Run r = runs.get(shuffle);
        if (r != null && r.run >= run) {
            return r;
        }
        if (r != null) {
            drop(r);
        }
        Run fresh = new Run(run);
        runs.put(shuffle, fresh);
        return fresh;
    }

    private void drop(Run r) {
        for (TreeMap<Integer, Slot> p : r.partitions.values()) {
            for (Slot s : p.values()) {
                if (s.bytes() != null) {
                    inMemory.addAndGet(-s.bytes().length);
                }
            }
        }
        r.partitions.clear();
        dropFile(r);
    }

    private void dropFile(Run r) {
        if (r.channel != null) {
            try {
                r.channel.close();
                Files.deleteIfExists(r.file);
            } catch (IOException e) {
                // the folder goes with the worker
            }
            r.channel = null;
            r.file = null;
            r.end = 0;
        }
    }

    private Slot spill(Run r, byte[] b) throws IOException {
        if (r.channel == null) {
            if (closed) {
                throw new IOException("the worker's shuffle store is closed");
            }
            if (dir == null) {
                dir = Files.createTempDirectory("dist-shuffle-");
            }
            r.file = Files.createTempFile(dir, "run-" + r.run + "-", ".shards");
            r.channel = FileChannel.open(r.file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        }
        long at = r.end;
        ByteBuffer buf = ByteBuffer.wrap(b);
        while (buf.hasRemaining()) {
            r.channel.write(buf, at + buf.position());
        }
        r.end += b.length;
        spilled.addAndGet(b.length);
        return new Slot(null, at, b.length);
    }

    @Override
    public void close() throws IOException {
        lock.lock();
        try {
            closed = true;
            for (Run r : runs.values()) {
                drop(r);
            }
            runs.clear();
            inMemory.set(0);
            if (dir != null) {
                try (Stream<Path> files = Files.walk(dir)) {
                    for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        } finally {
            lock.unlock();
        }
    }
}
