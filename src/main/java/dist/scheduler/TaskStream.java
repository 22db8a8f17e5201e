package dist.scheduler;

import java.util.ArrayList;
import java.util.List;

/**
 * The last computations the workers reported (finished or erred), in a fixed ring, with a
 * histogram of their run times. Written and read only on the state's thread; recording one is a
 * few array stores.
 */
final class TaskStream {
    /** Upper bounds of the run-time histogram buckets, in seconds; a last bucket takes the rest. */
    static final double[] BUCKETS = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60};

    private final String[] keys;
    private final String[] worker;
    private final long[] start;
    private final long[] stop;
    private final long[] nbytes;
    private final boolean[] erred;
    private final int[] thread;
    private long next;
    private final long[] buckets = new long[BUCKETS.length + 1];
    private long count;
    private long sumNanos;

    TaskStream(int capacity) {
        keys = new String[capacity];
        worker = new String[capacity];
        start = new long[capacity];
        stop = new long[capacity];
        nbytes = new long[capacity];
        erred = new boolean[capacity];
        thread = new int[capacity];
    }

    void add(String key, String where, long startNanos, long stopNanos, long size, boolean failed, int slot) {
        int i = (int) (next++ % keys.length);
        keys[i] = key;
        worker[i] = where;
        start[i] = startNanos;
        stop[i] = stopNanos;
        nbytes[i] = size;
        erred[i] = failed;
        thread[i] = slot;
        long d = Math.max(0, stopNanos - startNanos);
        count++;
        sumNanos += d;
        int b = 0;
        while (b < BUCKETS.length && d > BUCKETS[b] * 1e9) {
            b++;
        }
        buckets[b]++;
    }

    /** Sequence number the next entry gets: the number of entries ever added. */
    long next() {
        return next;
    }

    /** Entries numbered {@code since} and later (at most {@code max}, the newest), oldest first. */
    List<ClusterView.Computation> since(long since, int max) {
        long first = Math.max(Math.max(0, next - keys.length), Math.max(since, next - max));
        List<ClusterView.Computation> l = new ArrayList<>((int) Math.max(0, next - first));
        for (long s = first; s < next; s++) {
            int i = (int) (s % keys.length);
            l.add(new ClusterView.Computation(s, keys[i], worker[i], start[i], stop[i], nbytes[i], erred[i],
                    thread[i]));
        }
        return l;
    }

    ClusterView.Histogram histogram() {
        return new ClusterView.Histogram(BUCKETS.clone(), buckets.clone(), count, sumNanos / 1e9);
    }
}
