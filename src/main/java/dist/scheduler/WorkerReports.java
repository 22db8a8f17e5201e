package dist.scheduler;

import dist.protocol.Message;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * What workers report about themselves beside the task protocol ({@link Message.WorkerStats}):
 * CPU, memory, and their transfers, kept outside the state machine for dashboards and metrics.
 * The recent transfers sit in a bounded ring. Thread-safe.
 */
public final class WorkerReports {
    /** One fetch a worker made from a peer; times in epoch microseconds. */
    public record Transfer(long seq, String worker, String peer, long startMicros, long stopMicros, long bytes) {}

    private final Map<String, Message.WorkerStats> latest = new ConcurrentHashMap<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Transfer[] ring;
    private long next;

    WorkerReports(int capacity) {
        ring = new Transfer[capacity];
    }

    void add(String worker, Message.WorkerStats s) {
        latest.put(worker, s);
        List<String> peers = s.peers() == null ? List.of() : s.peers();
        int n = Math.min(peers.size(), Math.min(size(s.startMicros()), Math.min(size(s.stopMicros()), size(s.sizes()))));
        if (n == 0) {
            return;
        }
        lock.lock();
        try {
            for (int i = 0; i < n; i++) {
                ring[(int) (next % ring.length)] = new Transfer(next, worker, peers.get(i), s.startMicros().get(i),
                        s.stopMicros().get(i), s.sizes().get(i));
                next++;
            }
        } finally {
            lock.unlock();
        }
    }

    private static int size(List<?> l) {
        return l == null ? 0 : l.size();
    }

    /** The latest report of each worker that sent one (also of workers gone since). */
    public Map<String, Message.WorkerStats> latest() {
        return Map.copyOf(latest);
    }

    /** Transfers numbered {@code since} and later (at most {@code max}, the newest), oldest first. */
    public List<Transfer> transfersSince(long since, int max) {
        lock.lock();
        try {
            long first = Math.max(Math.max(0, next - ring.length), Math.max(since, next - max));
            List<Transfer> l = new ArrayList<>((int) Math.max(0, next - first));
            for (long s = first; s < next; s++) {
                l.add(ring[(int) (s % ring.length)]);
            }
            return l;
        } finally {
            lock.unlock();
        }
    }

    /** The number the next transfer gets. */
    public long nextTransfer() {
        lock.lock();
        try {
            return next;
        } finally {
            lock.unlock();
        }
    }
}
