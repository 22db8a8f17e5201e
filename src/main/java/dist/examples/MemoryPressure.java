package dist.examples;

import dist.Client;
import dist.Future;
import dist.LocalCluster;
import dist.worker.WorkerMetrics;
import dist.worker.WorkerServer;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Far more data than the cluster's memory, made and consumed as it goes: {@code map(leaf)} over
 * {@code 0..n-1}, each leaf a 1 MiB array filled from its input, then a tree reduction as in dask's
 * documentation (add neighbours pairwise, each sum a 1 MiB array, until one is left), submitted depth
 * first as dask orders such a graph. Root-task queuing keeps the leaves from running far ahead of the
 * sums that free them, so a worker holds a few dozen MiB at a time whatever n is. The client computes
 * the exact answer on its own, in O(n), and keeps only the root's future.
 * {@code ./run.sh memory [N]}.
 *
 * <pre>{@code
 * MemoryPressure.Outcome o = MemoryPressure.run(client, 5000, System.out);
 * System.out.println(o.exact());   // true
 * }</pre>
 */
public final class MemoryPressure {
    /** Bytes of each leaf and each sum. */
    public static final int SIZE = 1 << 20;

    private MemoryPressure() {
    }

    /** What a run gave: the answer against the client's own, its time, and each worker's memory. */
    public record Outcome(int leaves, long tasks, boolean exact, long checksum, long expectedChecksum,
                          Duration elapsed, Map<String, WorkerMetrics.Memory> memory,
                          Map<String, Long> bytesFetched) {
        public double tasksPerSecond() {
            return tasks / Math.max(1e-9, elapsed.toNanos() / 1e9);
        }
    }

    static int mix(long i) {
        long z = i * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return (int) (z ^ (z >>> 31));
    }

    /** Leaf {@code i}: byte j is {@code h + j * (h | 1)} for h = mix(i), so sums over i have a closed form. */
    public static byte[] leaf(long i) {
        int h = mix(i);
        int step = h | 1;
        byte[] b = new byte[SIZE];
        for (int j = 0; j < SIZE; j++) {
            b[j] = (byte) (h + j * step);
        }
        return b;
    }

    /** Byte-wise sum (wrapping), in a new array. */
    public static byte[] add(byte[] a, byte[] b) {
        byte[] c = new byte[a.length];
        for (int j = 0; j < c.length; j++) {
            c[j] = (byte) (a[j] + b[j]);
        }
        return c;
    }

    /** The sum of leaves 0..n-1, computed here without making them. */
    public static byte[] expected(int n) {
        long sumH = 0;
        long sumStep = 0;
        for (long i = 0; i < n; i++) {
            int h = mix(i);
            sumH += h;
            sumStep += h | 1;
        }
        byte[] e = new byte[SIZE];
        for (int j = 0; j < SIZE; j++) {
            e[j] = (byte) (sumH + (long) j * sumStep);
        }
        return e;
    }

    static long checksum(byte[] b) {
        long h = 1;
        for (byte x : b) {
            h = h * 31 + x;
        }
        return h;
    }

    /**
     * Runs the map and its tree reduction over {@code n} leaves, then reads each worker's memory
     * peaks; {@code timeout} bounds the wait for the answer.
     */
    public static Outcome run(Client client, int n, PrintStream out, Duration timeout) {
        if (n < 1) {
            throw new IllegalArgumentException("the tree needs at least one leaf, got n=" + n);
        }
        long start = System.nanoTime();
        // depth first, as dask's ordering of this graph: each sum is submitted as soon as its two
        // inputs are, so no leaf runs before the sum that frees it exists, and sums come before
        // later leaves in priority. pending.get(k): a sum of 2^k leaves waiting for its neighbour
        List<Future<byte[]>> pending = new ArrayList<>();
        long tasks = 0;
        for (long i = 0; i < n; i++) {
            Future<byte[]> f = client.submit(MemoryPressure::leaf, i);
            tasks++;
            int k = 0;
            while (k < pending.size() && pending.get(k) != null) {
                Future<byte[]> left = pending.set(k, null);
                Future<byte[]> sum = client.submit(MemoryPressure::add, left, f);
                tasks++;
                // the client needs only the root: a sum keeps its inputs until it ran
                left.release();
                f.release();
                f = sum;
                k++;
            }
            if (k == pending.size()) {
                pending.add(f);
            } else {
                pending.set(k, f);
            }
        }
        Future<byte[]> root = null;
        for (Future<byte[]> f : pending) { // n not a power of two: the partial trees, smallest first
            if (f == null) {
                continue;
            }
            if (root == null) {
                root = f;
            } else {
                Future<byte[]> sum = client.submit(MemoryPressure::add, f, root);
                tasks++;
                f.release();
                root.release();
                root = sum;
            }
        }
        out.println(n + " leaves of " + (SIZE >> 20) + " MiB, " + tasks + " tasks submitted in "
                + (System.nanoTime() - start) / 1_000_000 + " ms");
        byte[] answer = root.result(timeout);
        Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
        root.release();
        byte[] expected = expected(n);
        Map<String, WorkerMetrics.Memory> memory = new TreeMap<>(client.run(() -> WorkerServer.current().memory()));
        Map<String, Long> fetched = new TreeMap<>(client.run(() -> WorkerServer.current().metrics().bytesFetched()));
        return new Outcome(n, tasks, Arrays.equals(answer, expected), checksum(answer), checksum(expected), elapsed,
                memory, fetched);
    }

    static String mib(long bytes) {
        return String.format("%.1f MiB", bytes / 1048576.0);
    }

    /** The report {@code ./run.sh memory} prints. */
    public static void print(Outcome o, PrintStream out) {
        out.printf("total time: %.1f s, %d tasks, %.0f tasks/s%n", o.elapsed().toNanos() / 1e9, o.tasks(),
                o.tasksPerSecond());
        o.memory().forEach((w, m) -> out.println("worker " + w + ": limit " + mib(m.limit()) + ", heap -Xmx "
                + mib(m.heapMax()) + ", peak heap after GC " + mib(m.heapAfterGcPeak()) + ", peak resident "
                + mib(m.residentPeak()) + ", peak held " + mib(m.heldPeak()) + " (spills past " + mib(m.spillTarget())
                + "), spilled " + mib(m.spilledBytes())
                + " (" + m.spilled() + " results), fetched from peers " + mib(o.bytesFetched().getOrDefault(w, 0L))));
        out.println("answer checksum " + o.checksum() + ", expected " + o.expectedChecksum()
                + (o.exact() ? " (exact)" : " (WRONG)"));
    }

    /** {@code memory [N]} (default 100,000) on 2 worker processes of 1 thread and 256 MiB each. */
    public static void main(String[] args) throws Exception {
        int n;
        try {
            n = args.length == 0 ? 100_000 : Integer.parseInt(args[0].replace("_", "").replace(",", ""));
            if (n < 1) throw new NumberFormatException();
        } catch (NumberFormatException e) {
            System.err.println("usage: ./run.sh memory [N]   (N: leaves of 1 MiB, 1 or more; got " + args[0] + ")");
            System.exit(2);
            return;
        }
        try (LocalCluster cluster = LocalCluster.builder().workers(2).threadsPerWorker(1).processes(true)
                .memoryLimit(256L << 20).start();
             Client client = cluster.client()) {
            Outcome o = run(client, n, System.out, Duration.ofHours(2));
            print(o, System.out);
            if (!o.exact()) {
                System.exit(1);
            }
        }
    }
}
