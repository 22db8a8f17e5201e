package dist.worker;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The bytes this worker's shuffle inputs sent to each peer and that were not acknowledged yet,
 * bounded per peer (dask's shuffle comm buffer limit): a sender waits for room with a deadline, on
 * its task's thread, so a slow receiver slows its senders instead of filling their memory.
 */
final class ShuffleSends implements AutoCloseable {
    private final long limit;
    private final Map<String, Long> inFlight = new HashMap<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition freed = lock.newCondition();

    ShuffleSends(long limit) {
        this.limit = limit;
    }

    /**
     * Takes {@code bytes} of room toward {@code peer}, waiting up to {@code timeoutMillis}; false when
     * there was none by then. A send larger than the limit goes when nothing else is in flight.
     */
    boolean acquire(String peer, long bytes, long timeoutMillis) throws InterruptedException {
        long left = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        lock.lock();
        try {
            while (true) {
                long used = inFlight.getOrDefault(peer, 0L);
                if (used == 0 || used + bytes <= limit) {
                    inFlight.put(peer, used + bytes);
                    return true;
                }
                if (left <= 0) {
                    return false;
                }
                left = freed.awaitNanos(left);
            }
        } finally {
            lock.unlock();
        }
    }

    void release(String peer, long bytes) {
        lock.lock();
        try {
            long used = inFlight.getOrDefault(peer, 0L) - bytes;
            if (used <= 0) {
                inFlight.remove(peer);
            } else {
                inFlight.put(peer, used);
            }
            freed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Bytes in flight to {@code peer} now (read by tests). */
    long inFlight(String peer) {
        lock.lock();
        try {
            return inFlight.getOrDefault(peer, 0L);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
    }
}
