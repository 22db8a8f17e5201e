package dist.worker;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;

/**
 * The shards a worker's shuffle inputs cut, one store per input task run, until the output tasks
 * take them. Held in memory while the shuffle buffers of this worker stay under the worker's memory
 * target ({@link MemoryPolicy#targetBytes()}); a store that would pass it goes to a file at once.
 * Each shard is handed out once: an output task that runs again finds it gone, and the shuffle runs
 * again (the scheduler sees to it), as it does when a worker holding shards is lost.
 */
final class ShuffleStore implements AutoCloseable {

    /** One input's shards: in memory ({@code shards}) or in {@code file} at {@code offsets}. */
    private static final class Stored {
        final byte[][] shards;
        final long[] offsets;
        final Path file;
        final String task;
        int left;

        Stored(String task, byte[][] shards, long[] offsets, Path file) {
            this.task = task;
            this.shards = shards;
            this.offsets = offsets;
            this.file = file;
            this.left = shards != null ? shards.length : offsets.length - 1;
        }
    }

    private final long budget;
    private final ConcurrentHashMap<String, Stored> stores = new ConcurrentHashMap<>();
    /** The stores each input task made here, so a restarted shuffle can drop what it superseded. */
    private final ConcurrentHashMap<String, java.util.Set<String>> byTask = new ConcurrentHashMap<>();
    private final AtomicLong inMemory = new AtomicLong();
    private final AtomicLong spilled = new AtomicLong();
    private final ReentrantLock lock = new ReentrantLock();
    private Path dir;
    private boolean closed;

    ShuffleStore(long budget) {
        this.budget = budget;
    }

    /** Keeps one input's shards (one per output partition); the id names them to the output tasks. */
    String put(String taskKey, byte[][] shards) throws IOException {
        long size = 0;
        for (byte[] s : shards) {
            size += s.length;
        }
        String id = UUID.randomUUID().toString();
        byTask.computeIfAbsent(taskKey, k -> ConcurrentHashMap.newKeySet()).add(id);
        if (inMemory.addAndGet(size) <= budget) {
            stores.put(id, new Stored(taskKey, shards, null, null));
            return id;
        }
        inMemory.addAndGet(-size);
        Path file = directory().resolve(id);
        long[] offsets = new long[shards.length + 1];
        try (var out = new java.io.BufferedOutputStream(Files.newOutputStream(file), 1 << 16)) {
            for (int i = 0; i < shards.length; i++) {
                out.write(shards[i]);
                offsets[i + 1] = offsets[i] + shards[i].length;
            }
        }
        spilled.addAndGet(size);
        stores.put(id, new Stored(taskKey, null, offsets, file));
        return id;
    }

    /** Output partition {@code partition}'s shard of store {@code id}, handed out once; null when gone. */
    byte[] take(String id, int partition) throws IOException {
        Stored s = stores.get(id);
        if (s == null) {
            return null;
        }
        lock.lock();
        try {
            byte[] out;
            if (s.shards != null) {
                out = s.shards[partition];
                if (out == null) {
                    return null;
                }
                s.shards[partition] = null;
                inMemory.addAndGet(-out.length);
            } else {
                if (s.offsets[partition] < 0) {
                    return null;
                }
                out = new byte[(int) (s.offsets[partition + 1] - s.offsets[partition])];
                try (RandomAccessFile f = new RandomAccessFile(s.file.toFile(), "r")) {
                    f.seek(s.offsets[partition]);
                    f.readFully(out);
                }
                s.offsets[partition] = -1;
            }
            if (--s.left == 0) {
                stores.remove(id);
                java.util.Set<String> ids = byTask.get(s.task);
                if (ids != null && ids.remove(id) && ids.isEmpty()) {
                    byTask.remove(s.task, ids);
                }
                if (s.file != null) {
                    Files.deleteIfExists(s.file);
                }
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    /** Drops every store the input tasks {@code keys} made here: a shuffle that runs again never reads them. */
    void forget(java.util.List<String> keys) {
        for (String key : keys) {
            java.util.Set<String> ids = byTask.remove(key);
            if (ids == null) {
                continue;
            }
            for (String id : ids) {
                Stored s = stores.remove(id);
                if (s == null) {
                    continue;
                }
                lock.lock();
                try {
                    if (s.shards != null) {
                        for (byte[] b : s.shards) {
                            if (b != null) {
                                inMemory.addAndGet(-b.length);
                            }
                        }
                    } else {
                        Files.deleteIfExists(s.file);
                    }
                } catch (IOException e) {
                    // the folder goes with the worker
                } finally {
                    lock.unlock();
                }
            }
        }
    }

    /** Stores held now (read by tests). */
    int storeCount() {
        return stores.size();
    }

    /** Bytes of shards held in memory now. */
    long memoryBytes() {
        return inMemory.get();
    }

    /** Bytes of shards written to disk since the worker started. */
    long spilledBytes() {
        return spilled.get();
    }

    private Path directory() throws IOException {
        lock.lock();
        try {
            if (closed) {
                throw new IOException("the worker's shuffle store is closed");
            }
            if (dir == null) {
                dir = Files.createTempDirectory("dist-shuffle-");
            }
            return dir;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() throws IOException {
        lock.lock();
        try {
            closed = true;
            stores.clear();
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
