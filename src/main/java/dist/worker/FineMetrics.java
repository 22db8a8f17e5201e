package dist.worker;

import dist.protocol.KeySplit;
import dist.protocol.Message;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Where a worker's time went, as dask's fine performance metrics: seconds (and bytes where data moves) per
 * (span, task group, activity), summed into counters made once per pair, so a task adds to a few atomic
 * longs and allocates nothing. {@link #report()} gives what was added since the last report, for the
 * scheduler. At most {@value #MAX_BUCKETS} pairs are kept; later ones add to one "other" group.
 *
 * <pre>{@code
 * FineMetrics m = new FineMetrics();
 * m.bucket(null, "inc-1f2e").add(FineMetrics.COMPUTE, 1_000_000, 0);
 * Message.FineMetrics delta = m.report();
 * }</pre>
 */
public final class FineMetrics {
    /** The activities, as indices: running the task's code. */
    public static final int COMPUTE = 0;
    /** Fetching the task's inputs from peers (seconds and bytes). */
    public static final int TRANSFER = 1;
    /** Ready on the worker until a slot ran it. */
    public static final int WAITING = 2;
    /** Writing results to disk and reading them back (seconds and bytes). */
    public static final int SPILL = 3;
    /** Encoding the result and decoding the inputs and the task itself. */
    public static final int SERIALIZATION = 4;
    /** How many activities there are. */
    public static final int ACTIVITIES = 5;
    /** Their names, by index. */
    public static final List<String> NAMES = List.of("compute", "transfer", "waiting", "spill", "serialization");

    static final int MAX_BUCKETS = 512;
    private static final int CAPACITY = 1024; // twice the bound: probes stay short

    /** One (span, group)'s counters: nanoseconds and bytes per activity, and what was reported of them. */
    public static final class Bucket {
        final String span;
        final String group;
        private final AtomicLongArray values = new AtomicLongArray(2 * ACTIVITIES);
        private final long[] reported = new long[2 * ACTIVITIES]; // touched by the reporting thread only

        Bucket(String span, String group) {
            this.span = span;
            this.group = group;
        }

        /** Adds {@code nanos} and {@code bytes} of {@code activity}. */
        public void add(int activity, long nanos, long bytes) {
            if (nanos > 0) {
                values.addAndGet(2 * activity, nanos);
            }
            if (bytes > 0) {
                values.addAndGet(2 * activity + 1, bytes);
            }
        }

        boolean matches(String span, String key, int end) {
            return Objects.equals(this.span, span) && group.length() == end && key.startsWith(group);
        }
    }

    private final AtomicReferenceArray<Bucket> table = new AtomicReferenceArray<>(CAPACITY);
    private final ReentrantLock lock = new ReentrantLock();
    private final Bucket other = new Bucket(null, "other");
    private int size;

    /** The counters of {@code key}'s group in span {@code span} (null: none), made on first use. */
    public Bucket bucket(String span, String key) {
        int end = KeySplit.end(key);
        if (end < 0) { // an unusual key: its group is not a prefix of it
            String group = KeySplit.split(key);
            return find(span, group, group.length());
        }
        return find(span, key, end);
    }

    /** Looks up (span, key[0, end)) without allocating; makes it under the lock when missing. */
    private Bucket find(String span, String key, int end) {
        int h = Objects.hashCode(span);
        for (int i = 0; i < end; i++) {
            h = 31 * h + key.charAt(i);
        }
        h ^= h >>> 16;
        for (int n = 0, i = h & (CAPACITY - 1); n < CAPACITY; n++, i = (i + 1) & (CAPACITY - 1)) {
            Bucket b = table.get(i);
            if (b == null) {
                return make(span, key, end, i);
            }
            if (b.matches(span, key, end)) {
                return b;
            }
        }
        return other;
    }

    private Bucket make(String span, String key, int end, int from) {
        lock.lock();
        try {
            for (int n = 0, i = from; n < CAPACITY; n++, i = (i + 1) & (CAPACITY - 1)) {
                Bucket b = table.get(i);
                if (b == null) {
                    if (size >= MAX_BUCKETS) {
                        return other;
                    }
                    b = new Bucket(span, key.substring(0, end));
                    table.set(i, b);
                    size++;
                    return b;
                }
                if (b.matches(span, key, end)) {
                    return b; // made by another thread meanwhile
                }
            }
            return other;
        } finally {
            lock.unlock();
        }
    }

    /**
     * What was added since the last report, one entry per (span, group, activity) that grew; null when
     * nothing did. Called by one thread at a time.
     */
    public Message.FineMetrics report() {
        List<String> spans = new ArrayList<>();
        List<String> groups = new ArrayList<>();
        List<Integer> activities = new ArrayList<>();
        List<Long> nanos = new ArrayList<>();
        List<Long> bytes = new ArrayList<>();
        for (int i = 0; i <= CAPACITY; i++) {
            Bucket b = i == CAPACITY ? other : table.get(i);
            if (b == null) {
                continue;
            }
            for (int a = 0; a < ACTIVITIES; a++) {
                long n = b.values.get(2 * a);
                long y = b.values.get(2 * a + 1);
                long dn = n - b.reported[2 * a];
                long dy = y - b.reported[2 * a + 1];
                if (dn != 0 || dy != 0) {
                    b.reported[2 * a] = n;
                    b.reported[2 * a + 1] = y;
                    spans.add(b.span);
                    groups.add(b.group);
                    activities.add(a);
                    nanos.add(dn);
                    bytes.add(dy);
                }
            }
        }
        return groups.isEmpty() ? null : new Message.FineMetrics(spans, groups, activities, nanos, bytes);
    }
}
