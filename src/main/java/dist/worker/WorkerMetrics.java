package dist.worker;

import dist.protocol.Message;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.DoubleAdder;

/**
 * Counters and time histograms of one worker (tasks run, fetches from peers), read by its own
 * {@code /metrics} page and sent to the scheduler in {@link Message.WorkerStats}. Thread-safe; a
 * task or fetch costs a few atomic adds.
 *
 * <pre>{@code
 * WorkerMetrics.Snapshot s = worker.metrics();
 * System.out.println(s.tasksCompleted() + " tasks, " + s.cpuPercent() + "% CPU");
 * }</pre>
 */
public final class WorkerMetrics {
    /** Upper bounds of the histogram buckets in seconds (the same for compute and transfer times). */
    public static final double[] BUCKETS = Message.WorkerStats.TRANSFER_BUCKETS.stream()
            .mapToDouble(Double::doubleValue).toArray();
    private static final int MAX_PENDING_TRANSFERS = 2000;

    /** One histogram: counts per bucket (not cumulative, the last one above every bound), count and sum. */
    public record Histogram(long[] counts, long count, double sumSeconds) {}

    /** What the metrics page shows. */
    public record Snapshot(double cpuPercent, long memoryBytes, long tasksCompleted, long tasksErred,
                           int executing, long bytesFetched, long keysHeld, Histogram compute,
                           Histogram transfer) {}

    /**
     * A worker's memory at its peak and now, for a run's report ({@code client.run(() ->
     * WorkerServer.current().memory())}) and its {@code /metrics} page.
     *
     * @param limit          the worker's memory limit in bytes (0: none)
     * @param spillTarget    bytes of results held in memory past which results go to disk (its
     *                       {@link MemoryPolicy#targetBytes()}: a fraction of the limit or of the heap,
     *                       whichever is smaller; {@link Long#MAX_VALUE} without a limit)
     * @param heapMax        the JVM's heap bound (-Xmx)
     * @param heapAfterGcPeak the most heap in use right after a collection ({@link HeapWatch}); in a
     *                       process shared by several workers, the process's
     * @param residentPeak   the process's peak resident memory (0 where unknown)
     * @param heldPeak       the most bytes of results held in memory at once
     * @param held           bytes of results held in memory now
     * @param spilledBytes   bytes of results written to disk so far
     * @param spilled        results written to disk so far
     */
    public record Memory(long limit, long spillTarget, long heapMax, long heapAfterGcPeak, long residentPeak, long heldPeak, long held,
                         long spilledBytes, long spilled) {}

    private record Fetch(String peer, long startMicros, long stopMicros, long bytes) {}

    private final AtomicLongArray compute = new AtomicLongArray(BUCKETS.length + 1);
    private final AtomicLongArray transfer = new AtomicLongArray(BUCKETS.length + 1);
    private final DoubleAdder computeSeconds = new DoubleAdder();
    private final DoubleAdder transferSeconds = new DoubleAdder();
    private final AtomicLong completed = new AtomicLong();
    private final AtomicLong erred = new AtomicLong();
    private final AtomicLong fetches = new AtomicLong();
    private final AtomicLong fetchedBytes = new AtomicLong();
    final AtomicInteger executing = new AtomicInteger();
    private final ConcurrentLinkedQueue<Fetch> unreported = new ConcurrentLinkedQueue<>();
    private final AtomicInteger unreportedCount = new AtomicInteger();

    void taskRan(long nanos, boolean ok) {
        (ok ? completed : erred).incrementAndGet();
        compute.incrementAndGet(bucket(nanos));
        computeSeconds.add(nanos / 1e9);
    }

    void fetched(String peer, long startNanos, long stopNanos, long bytes) {
        long nanos = Math.max(0, stopNanos - startNanos);
        fetches.incrementAndGet();
        fetchedBytes.addAndGet(bytes);
        transfer.incrementAndGet(bucket(nanos));
        transferSeconds.add(nanos / 1e9);
        if (unreportedCount.incrementAndGet() <= MAX_PENDING_TRANSFERS) {
            long offset = epochMicrosNow() - System.nanoTime() / 1000;
            unreported.add(new Fetch(peer, startNanos / 1000 + offset, stopNanos / 1000 + offset, bytes));
        } else {
            unreportedCount.decrementAndGet();
        }
    }

    /** Wall-clock time in microseconds (finer than currentTimeMillis, so steps of different processes order well). */
    static long epochMicrosNow() {
        java.time.Instant now = java.time.Instant.now();
        return now.getEpochSecond() * 1_000_000 + now.getNano() / 1000;
    }

    private static int bucket(long nanos) {
        int b = 0;
        while (b < BUCKETS.length && nanos > BUCKETS[b] * 1e9) {
            b++;
        }
        return b;
    }

    /** The process's recent CPU use in percent of one core (a thread-mode cluster's workers share it). */
    static double cpuPercent() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            double load = os.getProcessCpuLoad();
            return load < 0 ? 0 : load * 100 * os.getAvailableProcessors();
        }
        return 0;
    }

    static long memoryUsed() {
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }

    Snapshot snapshot(long keysHeld) {
        return new Snapshot(cpuPercent(), memoryUsed(), completed.get(), erred.get(), executing.get(),
                fetchedBytes.get(), keysHeld, histogram(compute, completed.get() + erred.get(),
                computeSeconds.sum()), histogram(transfer, fetches.get(), transferSeconds.sum()));
    }

    private static Histogram histogram(AtomicLongArray a, long count, double sum) {
        long[] c = new long[a.length()];
        for (int i = 0; i < c.length; i++) {
            c[i] = a.get(i);
        }
        return new Histogram(c, count, sum);
    }

    /** The report for the scheduler: totals, and the fetches that ended since the previous report. */
    Message.WorkerStats report() {
        List<String> peers = new ArrayList<>();
        List<Long> start = new ArrayList<>();
        List<Long> stop = new ArrayList<>();
        List<Long> sizes = new ArrayList<>();
        Fetch f;
        while ((f = unreported.poll()) != null) {
            unreportedCount.decrementAndGet();
            peers.add(f.peer());
            start.add(f.startMicros());
            stop.add(f.stopMicros());
            sizes.add(f.bytes());
        }
        List<Long> buckets = new ArrayList<>(transfer.length());
        for (int i = 0; i < transfer.length(); i++) {
            buckets.add(transfer.get(i));
        }
        return new Message.WorkerStats(cpuPercent(), memoryUsed(), buckets, fetches.get(), transferSeconds.sum(),
                fetchedBytes.get(), peers, start, stop, sizes);
    }
}
