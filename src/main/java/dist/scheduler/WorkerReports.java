package dist.scheduler;

import dist.protocol.Message;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

/**
 * What workers report about themselves beside the task protocol ({@link Message.WorkerStats}):
 * CPU, memory, and their transfers, kept outside the state machine for dashboards and metrics.
 * Everything is bounded whatever workers send: the recent transfers sit in a ring (peer names cut to
 * {@link #MAX_PEER_CHARS}); the latest report is kept for at most {@code maxWorkers} workers, those
 * that reported least recently (gone ones first) making room, and without its per-transfer lists.
 * Thread-safe.
 */
public final class WorkerReports {
    /** One fetch a worker made from a peer; times in epoch microseconds. */
    public record Transfer(long seq, String worker, String peer, long startMicros, long stopMicros, long bytes) {}

    /** Longest peer name kept for a transfer: an address is far shorter. */
    static final int MAX_PEER_CHARS = 256;

    /** Latest report per worker, least recently reporting first. */
    private final LinkedHashMap<String, Message.WorkerStats> latest;
    private final ReentrantLock lock = new ReentrantLock();
    private final Transfer[] ring;
    private long next;

    WorkerReports(int capacity, int maxWorkers) {
        ring = new Transfer[capacity];
        latest = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Message.WorkerStats> eldest) {
                return size() > maxWorkers;
            }
        };
    }

    void add(String worker, Message.WorkerStats s) {
        List<String> peers = s.peers() == null ? List.of() : s.peers();
        int all = Math.min(peers.size(), Math.min(size(s.startMicros()), Math.min(size(s.stopMicros()), size(s.sizes()))));
        int n = Math.min(all, ring.length); // older ones would be overwritten at once
        int skip = all - n;
        Message.WorkerStats kept = summary(s);
        lock.lock();
        try {
            latest.put(worker, kept);
            for (int i = skip; i < skip + n; i++) {
                String peer = peers.get(i);
                if (peer != null && peer.length() > MAX_PEER_CHARS) {
                    peer = peer.substring(0, MAX_PEER_CHARS);
                }
                ring[(int) (next % ring.length)] = new Transfer(next, worker, peer, nonNull(s.startMicros().get(i)),
                        nonNull(s.stopMicros().get(i)), nonNull(s.sizes().get(i)));
                next++;
            }
        } finally {
            lock.unlock();
        }
    }

    /** The report without its per-transfer lists (they went into the ring), its histogram cut to size. */
    private static Message.WorkerStats summary(Message.WorkerStats s) {
        List<Long> buckets = s.transferBuckets() == null ? List.of() : s.transferBuckets();
        int keep = Math.min(buckets.size(), Message.WorkerStats.TRANSFER_BUCKETS.size() + 1);
        List<Long> b = new ArrayList<>(keep);
        for (int i = 0; i < keep; i++) {
            b.add(nonNull(buckets.get(i)));
        }
        return new Message.WorkerStats(s.cpuPercent(), s.memoryBytes(), List.copyOf(b), s.transferCount(),
                s.transferSeconds(), s.transferBytes(), List.of(), List.of(), List.of(), List.of());
    }

    private static long nonNull(Long v) {
        return v == null ? 0 : v;
    }

    private static int size(List<?> l) {
        return l == null ? 0 : l.size();
    }

    /** The latest report of each worker that sent one (also of workers gone since, while there is room). */
    public Map<String, Message.WorkerStats> latest() {
        lock.lock();
        try {
            return Map.copyOf(latest);
        } finally {
            lock.unlock();
        }
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
