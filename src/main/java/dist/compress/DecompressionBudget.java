package dist.compress;

import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The bytes that decompressions running at once may produce together, so that many peers sending
 * small frames that expand a lot cannot together fill the heap. A decompression takes its declared
 * original length before it allocates the output and gives it back when its message is handed on;
 * one that does not fit waits, at most {@link #waitNanos()}, for others to finish, and is refused
 * after that (or at once when it is larger than the whole budget).
 *
 * <p>{@link #PROCESS} is configured by system properties:
 * <pre>
 * dist.comm.decompression-budget-bytes  half the heap (at least 64 MiB)  output of all decompressions at once
 * dist.comm.decompression-wait          10s                              how long one waits for room
 * </pre>
 *
 * <pre>{@code
 * DecompressionBudget b = DecompressionBudget.PROCESS;
 * if (!b.acquire(original)) throw new IOException("no room to decompress " + original + " bytes");
 * try { out = CompressedFrame.unpack(codec, packed, original); } finally { b.release(original); }
 * }</pre>
 */
public final class DecompressionBudget {

    public static final String BYTES_PROPERTY = "dist.comm.decompression-budget-bytes";
    public static final String WAIT_PROPERTY = "dist.comm.decompression-wait";

    /** The budget of this process. */
    public static final DecompressionBudget PROCESS = new DecompressionBudget(configuredBytes(), configuredWait());

    private final long capacity;
    private final long waitNanos;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition freed = lock.newCondition();
    private long used;

    /**
     * @param capacity bytes all decompressions may hold at once
     * @param wait     how long {@link #acquire(long)} waits for room before it gives up
     */
    public DecompressionBudget(long capacity, Duration wait) {
        if (capacity < 1) {
            throw new IllegalArgumentException("a decompression budget must be positive, got " + capacity);
        }
        this.capacity = capacity;
        this.waitNanos = Math.max(0, wait.toNanos());
    }

    public long capacity() {
        return capacity;
    }

    public long waitNanos() {
        return waitNanos;
    }

    /** Bytes taken now. */
    public long used() {
        lock.lock();
        try {
            return used;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes {@code bytes}, waiting at most {@link #waitNanos()} for room; false when there was none
     * (at once when {@code bytes} is over the whole capacity).
     *
     * @throws InterruptedException when interrupted while waiting (nothing is taken)
     */
    public boolean acquire(long bytes) throws InterruptedException {
        if (bytes < 0) {
            throw new IllegalArgumentException("negative size " + bytes);
        }
        if (bytes > capacity) {
            return false;
        }
        long deadline = System.nanoTime() + waitNanos;
        lock.lock();
        try {
            while (used + bytes > capacity) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                freed.awaitNanos(left);
            }
            used += bytes;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Gives back what {@link #acquire(long)} took. */
    public void release(long bytes) {
        if (bytes <= 0) {
            return;
        }
        lock.lock();
        try {
            used = Math.max(0, used - bytes);
            freed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return "decompression budget " + used() + " of " + capacity + " bytes";
    }

    private static long configuredBytes() {
        long dflt = Math.max(64L << 20, Runtime.getRuntime().maxMemory() / 2);
        String v = System.getProperty(BYTES_PROPERTY);
        if (v == null || v.isBlank()) {
            return dflt;
        }
        try {
            long n = Long.parseLong(v.strip().replace("_", ""));
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        warn("-D" + BYTES_PROPERTY + "=" + v + " is not a positive number of bytes; using " + dflt);
        return dflt;
    }

    private static Duration configuredWait() {
        Duration dflt = Duration.ofSeconds(10);
        String v = System.getProperty(WAIT_PROPERTY);
        if (v == null || v.isBlank()) {
            return dflt;
        }
        String s = v.strip().toLowerCase(Locale.ROOT);
        try {
            if (s.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(s.substring(0, s.length() - 2)));
            }
            if (s.endsWith("s")) {
                return Duration.ofMillis(Math.round(Double.parseDouble(s.substring(0, s.length() - 1)) * 1000));
            }
            return Duration.ofMillis(Math.round(Double.parseDouble(s) * 1000));
        } catch (NumberFormatException | ArithmeticException ignored) {
            warn("-D" + WAIT_PROPERTY + "=" + v + " is not a duration such as 500ms or 10s; using "
                    + TimeUnit.NANOSECONDS.toSeconds(dflt.toNanos()) + "s");
            return dflt;
        }
    }

    private static void warn(String what) {
        System.getLogger("dist.comm").log(System.Logger.Level.WARNING, what);
    }
}
