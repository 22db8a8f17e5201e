package dist.bench;

import dist.Client;
import dist.Future;
import dist.LocalCluster;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;

/**
 * Whole-system figures on a local cluster of 2 worker processes x 1 thread and one client:
 * {@code ./run.sh bench-cluster}. Prints one "name value unit" line per figure.
 */
public final class ClusterBench {
    private ClusterBench() {
    }

    static int inc(int x) {
        return x + 1;
    }

    static long add(long a, long b) {
        return a + b;
    }

    static long identity(long x) {
        return x;
    }

    public static void main(String[] args) throws Exception {
        Locale.setDefault(Locale.ROOT);
        long t0 = System.nanoTime();
        try (LocalCluster cluster = LocalCluster.builder().workers(2).threadsPerWorker(1).processes(true)
                .output(null).start();
             Client client = cluster.client()) {
            report("startup_2_workers", (System.nanoTime() - t0) / 1e6, "ms");
            latency(client);
            throughput(client);
            chain(client);
            tree(client);
        }
    }

    static void report(String name, double value, String unit) {
        System.out.printf("%-28s %12.2f %s%n", name, value, unit);
        System.out.flush();
    }

    static void latency(Client client) throws Exception {
        int warm = 300;
        int n = 2000;
        long[] us = new long[n];
        for (int i = 0; i < warm + n; i++) {
            long s = System.nanoTime();
            int r = client.submit(ClusterBench::inc, 1_000_000 + i).result(Duration.ofSeconds(30));
            long d = System.nanoTime() - s;
            if (r != 1_000_001 + i) {
                throw new AssertionError("wrong result " + r);
            }
            if (i >= warm) {
                us[i - warm] = d;
            }
        }
        Arrays.sort(us);
        report("latency_median", us[n / 2] / 1e3, "us");
        report("latency_p99", us[(int) (n * 0.99)] / 1e3, "us");
    }

    static void throughput(Client client) throws Exception {
        int n = 20_000;
        double best = 0;
        for (int rep = 0; rep < 3; rep++) {
            int base = rep * n + 10_000_000;
            List<Integer> xs = IntStream.range(base, base + n).boxed().toList();
            long s = System.nanoTime();
            List<Future<Integer>> fs = client.map(ClusterBench::inc, xs);
            List<Integer> out = client.gather(fs);
            double secs = (System.nanoTime() - s) / 1e9;
            if (out.size() != n || out.get(n - 1) != base + n) {
                throw new AssertionError("wrong results");
            }
            report("throughput_run" + (rep + 1), n / secs, "tasks/s");
            best = Math.max(best, n / secs);
            fs.forEach(Future::release);
        }
        report("throughput_best", best, "tasks/s");
    }

    static void chain(Client client) throws Exception {
        int n = 1000;
        long s = System.nanoTime();
        Future<Integer> x = client.submit(ClusterBench::inc, 20_000_000);
        for (int i = 1; i < n; i++) {
            x = client.submit(ClusterBench::inc, x);
        }
        int r = x.result(Duration.ofSeconds(60));
        double perLink = (System.nanoTime() - s) / 1e3 / n;
        if (r != 20_000_000 + n) {
            throw new AssertionError("wrong chain result " + r);
        }
        report("chain_per_link", perLink, "us");
    }

    static void tree(Client client) throws Exception {
        int leaves = 1024;
        long s = System.nanoTime();
        List<Future<Long>> level = new ArrayList<>();
        for (int i = 0; i < leaves; i++) {
            level.add(client.submit(ClusterBench::identity, (long) i + 30_000_000L));
        }
        while (level.size() > 1) {
            List<Future<Long>> next = new ArrayList<>();
            for (int i = 0; i < level.size(); i += 2) {
                next.add(client.submit(ClusterBench::add, level.get(i), level.get(i + 1)));
            }
            level = next;
        }
        long r = level.get(0).result(Duration.ofSeconds(60));
        double ms = (System.nanoTime() - s) / 1e6;
        long expect = (long) leaves * 30_000_000L + (long) leaves * (leaves - 1) / 2;
        if (r != expect) {
            throw new AssertionError("wrong tree result " + r);
        }
        report("tree_1024_leaves", ms, "ms");
    }
}
