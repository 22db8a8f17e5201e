package dist.bench;

import dist.Client;
import dist.Future;
import dist.LocalCluster;
import dist.Options;
import dist.protocol.Message;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

/**
 * Whole-system figures, the same workloads as bench/compare/dask_bench.py: 2 worker processes x
 * 1 thread and one client on 127.0.0.1, in the same shapes as there (see {@link #daskShaped}).
 * Prints one "name value unit" line per figure.
 *
 * <p>{@code ./run.sh bench-cluster} runs them all; {@code --quick} leaves out the million-task run.
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

    static long addInt(int a, long b) {
        return a + b;
    }

    static long identity(long x) {
        return x;
    }

    /** Incompressible bytes: the transfer measures the wire, not a compressor. */
    static byte[] makeBytes(int n) {
        byte[] b = new byte[n];
        new java.util.SplittableRandom(42).nextBytes(b);
        return b;
    }

    static int length(byte[] b) {
        return b.length;
    }

    static long blocker(String path) throws InterruptedException {
        while (!Files.exists(Path.of(path))) {
            Thread.sleep(50);
        }
        return 0;
    }

    static long multiplyByTwoAll(List<Integer> partition) throws InterruptedException {
        long s = 0;
        for (int x : partition) {
            Thread.sleep(20);
            s += 2L * x;
        }
        return s;
    }

    public static void main(String[] args) throws Exception {
        Locale.setDefault(Locale.ROOT);
        List<String> argv = List.of(args);
        boolean quick = argv.contains("--quick");
        if (argv.contains("--memory")) { // just the scheduler memory per waiting task
            try (CliCluster cluster = CliCluster.start(2); Client client = Client.connect(cluster.address)) {
                memoryPerTask(client, cluster);
            }
            return;
        }
        if (argv.contains("--million")) { // just the million-task run, with N from the next argument
            int n = Integer.parseInt(argv.get(argv.indexOf("--million") + 1));
            try (CliCluster cluster = CliCluster.start(2); Client client = Client.connect(cluster.address)) {
                million(client, cluster, n);
            }
            return;
        }
        if (argv.contains("--only")) { // some workloads, e.g. --only latency,transfer
            List<String> only = List.of(argv.get(argv.indexOf("--only") + 1).split(","));
            LocalCluster local = null;
            Client localClient = null;
            CliCluster cli = null;
            Client cliClient = null;
            try {
                for (String w : only) {
                    if (Set.of("memory", "million").contains(w)) {
                        if (cli == null) {
                            cli = CliCluster.start(2);
                            cliClient = Client.connect(cli.address);
                        }
                        if (w.equals("memory")) {
                            memoryPerTask(cliClient, cli);
                        } else {
                            million(cliClient, cli, 1_000_000);
                        }
                        continue;
                    }
                    if (Set.of("latency", "throughput", "chain", "tree", "transfer", "preemptible", "lock", "actors", "queue").contains(w)
                            && local == null) {
                        local = daskShaped();
                        localClient = local.client();
                    }
                    switch (w) {
                        case "startup" -> startup();
                        case "latency" -> latency(localClient);
                        case "throughput" -> throughput(localClient);
                        case "chain" -> chain(localClient);
                        case "tree" -> tree(localClient);
                        case "transfer" -> transfer(localClient);
                        case "preemptible" -> preemptibleWithoutKills(localClient);
                        case "lock" -> lockRoundtrip(localClient);
                        case "queue" -> queuePutGet(localClient);
                        case "raw" -> rawFloor();
                        case "placement" -> placement();
                        case "actors" -> actors(localClient);
                        case "groupby" -> GroupByBench.run();
                        case "overhead" -> OverheadBench.run(32);
                        default -> throw new IllegalArgumentException("unknown workload '" + w + "'; known: startup,"
                                + " latency, throughput, chain, tree, transfer, preemptible, memory, million, raw,"
                                + " placement, lock, actors, queue, groupby, overhead");
                    }
                }
            } finally {
                for (AutoCloseable c : new AutoCloseable[] {localClient, local, cliClient, cli}) {
                    if (c != null) {
                        c.close();
                    }
                }
            }
            return;
        }
        rawFloor(); // first, on a quiet machine: after the million tasks the host's heap is full of garbage
        placement();
        startup();
        try (LocalCluster cluster = daskShaped(); Client client = cluster.client()) {
            latency(client);
            throughput(client);
            chain(client);
            tree(client);
            transfer(client);
            preemptibleWithoutKills(client);
            lockRoundtrip(client);
            actors(client);
            queuePutGet(client);
        }
        try (CliCluster cluster = CliCluster.start(2);
             Client client = Client.connect(cluster.address)) {
            memoryPerTask(client, cluster);
            if (!quick) {
                million(client, cluster, 1_000_000);
            }
        }
        GroupByBench.run();
        OverheadBench.run(16);
    }

    /**
     * The shape dask_bench.py runs its shared workloads on, {@code LocalCluster(n_workers=2,
     * threads_per_worker=1, processes=True)}: the scheduler in the client's process, each worker in
     * a process of its own under a nanny. Memory and the million-task run use a {@link CliCluster},
     * whose scheduler is a process of its own (as dask's memory figure's is).
     */
    static LocalCluster daskShaped() throws Exception {
        List<String> jvm = new ArrayList<>(envOptions("DIST_BENCH_WORKER_OPTS"));
        jvm.addAll(envOptions("DIST_BENCH_JVM_OPTS"));
        jvm.addAll(flightRecording("local-worker-%p.jfr"));
        return LocalCluster.builder().workers(2).threadsPerWorker(1).processes(true).output(null)
                .workerJvmArgs(jvm.toArray(String[]::new)).start();
    }

    /** JVM options from environment variable {@code name} (space-separated; none when unset). */
    static List<String> envOptions(String name) {
        String opts = System.getenv(name);
        return opts == null || opts.isBlank() ? List.of() : List.of(opts.trim().split("\\s+"));
    }

    /** With DIST_BENCH_JFR=DIR, the option that records a flight file DIR/fileName (settings DIST_BENCH_JFC). */
    static List<String> flightRecording(String fileName) {
        String dir = System.getenv("DIST_BENCH_JFR");
        return dir == null ? List.of() : List.of("-XX:StartFlightRecording=settings="
                + System.getenv().getOrDefault("DIST_BENCH_JFC", "profile") + ",filename=" + dir + "/" + fileName);
    }

    static void report(String name, double value, String unit) {
        System.out.printf("%-28s %12.2f %s%n", name, value, unit);
        System.out.flush();
    }

    static void startup() throws Exception {
        long t0 = System.nanoTime();
        try (LocalCluster cluster = LocalCluster.builder().workers(2).threadsPerWorker(1).processes(true)
                .output(null).start()) {
            report("startup_2_workers", (System.nanoTime() - t0) / 1e6, "ms");
        }
    }

    static void latency(Client client) throws Exception {
        int warm = Integer.getInteger("warm", 2000); // the JVMs compile the hot paths within the first few thousand calls
        int n = 2000;
        long[] ns = sequentialCalls(client, warm, n, 1_000_000);
        report("latency_median", ns[n / 2] / 1e3, "us");
        report("latency_p99", ns[(int) (n * 0.99)] / 1e3, "us");
        // dist only (dask would take minutes): the same loop 20,000 calls later, once the compilers are
        // done. On 2 virtual CPUs it is often 10-20 us above the first: while the compilers run, no CPU
        // idles, and a wake-up need not first wake a halted CPU (see placement())
        long[] steady = sequentialCalls(client, 20_000, n, 2_000_000);
        report("latency_steady_median", steady[n / 2] / 1e3, "us");
        report("latency_steady_p99", steady[(int) (n * 0.99)] / 1e3, "us");
    }

    /** The actor dask's bench uses: a counter. */
    public static final class Counter {
        int n;

        public int increment() {
            return ++n;
        }
    }

    /**
     * Actor calls from one caller: a synchronous round trip (median, with a plain task's measured in
     * the same run for the ratio), and calls per second with many in flight.
     */
    static void actors(Client client) throws Exception {
        dist.ActorRef<Counter> counter = client.actor(Counter::new);
        int warm = Integer.getInteger("warm", 2000);
        int n = 2000;
        long[] ns = new long[n];
        for (int i = 0; i < warm + n; i++) {
            long s = System.nanoTime();
            int r = counter.call(Counter::increment).result(Duration.ofSeconds(30));
            long d = System.nanoTime() - s;
            if (r != i + 1) {
                throw new AssertionError("wrong count " + r);
            }
            if (i >= warm) {
                ns[i - warm] = d;
            }
        }
        Arrays.sort(ns);
        long[] task = sequentialCalls(client, warm, n, 3_000_000);
        report("actor_call_latency", ns[n / 2] / 1e3, "us");
        report("actor_task_latency", task[n / 2] / 1e3, "us");
        report("actor_call_latency_ratio", ns[n / 2] / (double) task[n / 2], "x");
        int calls = 100_000;
        double best = 0;
        for (int rep = 0; rep < 3; rep++) {
            List<Future<Integer>> fs = new ArrayList<>(calls);
            long s = System.nanoTime();
            for (int i = 0; i < calls; i++) {
                fs.add(counter.call(Counter::increment));
            }
            for (Future<Integer> f : fs) {
                f.result(Duration.ofSeconds(60));
            }
            best = Math.max(best, calls / ((System.nanoTime() - s) / 1e9));
        }
        report("actor_calls_per_s", best, "calls/s");
        counter.release();
    }

    /** Times, sorted, of {@code n} submit-then-result calls after {@code warm} untimed ones. */
    static long[] sequentialCalls(Client client, int warm, int n, int base) throws Exception {
        long[] ns = new long[n];
        for (int i = 0; i < warm + n; i++) {
            long s = System.nanoTime();
            int r = client.submit(ClusterBench::inc, base + i).result(Duration.ofSeconds(30));
            long d = System.nanoTime() - s;
            if (r != base + 1 + i) {
                throw new AssertionError("wrong result " + r);
            }
            if (i >= warm) {
                ns[i - warm] = d;
            }
        }
        Arrays.sort(ns);
        return ns;
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

    /**
     * One untimed chain (a warm-up, as for latency and transfer, on both systems: its keys differ from
     * the timed one's, so nothing is reused), then the timed one.
     */
    static void chain(Client client) throws Exception {
        chainOnce(client, 10_000_000);
        report("chain_per_link", chainOnce(client, 20_000_000), "us");
    }

    static double chainOnce(Client client, int start) throws Exception {
        int n = 1000;
        List<Future<Integer>> links = new ArrayList<>(n);
        long s = System.nanoTime();
        Future<Integer> x = client.submit(ClusterBench::inc, start);
        links.add(x);
        for (int i = 1; i < n; i++) {
            x = client.submit(ClusterBench::inc, x);
            links.add(x);
        }
        int r = x.result(Duration.ofSeconds(60));
        double perLink = (System.nanoTime() - s) / 1e3 / n;
        if (r != start + n) {
            throw new AssertionError("wrong chain result " + r);
        }
        links.forEach(Future::release);
        return perLink;
    }

    /** One untimed tree (a warm-up with other keys, on both systems), then the timed one. */
    static void tree(Client client) throws Exception {
        treeOnce(client, 40_000_000L);
        report("tree_1024_leaves", treeOnce(client, 30_000_000L), "ms");
    }

    static double treeOnce(Client client, long base) throws Exception {
        int leaves = 1024;
        List<Future<Long>> all = new ArrayList<>(2 * leaves);
        long s = System.nanoTime();
        List<Future<Long>> level = new ArrayList<>();
        for (int i = 0; i < leaves; i++) {
            level.add(client.submit(ClusterBench::identity, (long) i + base));
        }
        all.addAll(level);
        while (level.size() > 1) {
            List<Future<Long>> next = new ArrayList<>();
            for (int i = 0; i < level.size(); i += 2) {
                next.add(client.submit(ClusterBench::add, level.get(i), level.get(i + 1)));
            }
            all.addAll(next);
            level = next;
        }
        long r = level.get(0).result(Duration.ofSeconds(60));
        double ms = (System.nanoTime() - s) / 1e6;
        long expect = (long) leaves * base + (long) leaves * (leaves - 1) / 2;
        if (r != expect) {
            throw new AssertionError("wrong tree result " + r);
        }
        all.forEach(Future::release);
        return ms;
    }

    /** One untimed transfer (as in the latency workload, a warm-up, on both systems), then the timed one. */
    static void transfer(Client client) throws Exception {
        transferOnce(client);
        report("transfer_100MB", transferOnce(client), "MB/s");
    }

    static double transferOnce(Client client) throws Exception {
        List<String> workers = client.workersInfo().stream().map(dist.WorkerInfo::address).sorted().toList();
        int size = 100_000_000;
        Future<byte[]> x = client.with(Options.defaults().pure(false).workers(workers.get(0)))
                .submit(ClusterBench::makeBytes, size);
        x.exception(Duration.ofSeconds(60)); // wait until it is in memory, without fetching it
        long s = System.nanoTime();
        Future<Integer> len = client.with(Options.defaults().pure(false).workers(workers.get(1)))
                .submit(ClusterBench::length, x);
        int n = len.result(Duration.ofSeconds(60));
        double secs = (System.nanoTime() - s) / 1e9;
        if (n != size) {
            throw new AssertionError("wrong length " + n);
        }
        len.release();
        x.release();
        return size / 1e6 / secs;
    }

    /** One client taking and letting go of a cluster lock, as dask_bench.py's lock_roundtrip: microseconds per pair. */
    static void lockRoundtrip(Client client) {
        java.util.concurrent.locks.Lock lock = client.lock("bench-lock");
        int warm = 500, n = 2000; // the same counts as dask_bench.py
        for (int i = 0; i < warm; i++) {
            lock.lock();
            lock.unlock();
        }
        long s = System.nanoTime();
        for (int i = 0; i < n; i++) {
            lock.lock();
            lock.unlock();
        }
        report("lock_roundtrip", (System.nanoTime() - s) / 1e3 / n, "us");
    }

    /** The seed's bag workload (400 elements, 200 partitions, 20 ms per element, sum) without kills. */
    static void preemptibleWithoutKills(Client client) throws Exception {
        long s = System.nanoTime();
        List<List<Integer>> partitions = new ArrayList<>();
        for (int i = 0; i < 400; i += 2) {
            partitions.add(List.of(i, i + 1));
        }
        List<Future<Long>> level = client.with(Options.defaults().pure(false))
                .map(ClusterBench::multiplyByTwoAll, partitions);
        while (level.size() > 1) {
            List<Future<Long>> next = new ArrayList<>();
            for (int i = 0; i < level.size(); i += 2) {
                next.add(i + 1 < level.size() ? client.submit(ClusterBench::add, level.get(i), level.get(i + 1))
                        : level.get(i));
            }
            level = next;
        }
        long total = level.get(0).result(Duration.ofSeconds(120));
        if (total != 159600) {
            throw new AssertionError("wrong sum " + total);
        }
        report("preemptible_no_kills", (System.nanoTime() - s) / 1e6, "ms");
    }

    /** This JVM's heap in use after two full collections, in bytes. */
    static long ownHeapAfterGc() {
        System.gc();
        System.gc();
        return java.lang.management.ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    static void memoryPerTask(Client client, CliCluster cluster) throws Exception {
        Path flag = Files.createTempFile("dist-bench", ".flag");
        Files.delete(flag);
        try {
            Future<Long> b = client.with(Options.defaults().pure(false)).submit(ClusterBench::blocker, flag.toString());
            // untimed, on both systems: 10,000 waiting tasks of other keys, released again, so loading
            // classes and compiling the submission path do not count as memory per task
            int warm = 10_000;
            List<Future<Long>> warmUp = client.map(ClusterBench::addInt,
                    IntStream.range(1_000_000, 1_000_000 + warm).boxed().toList(), Collections.nCopies(warm, b));
            client.whoHas(List.of(b));
            warmUp.forEach(Future::release);
            client.whoHas(List.of(b)); // after the release, on the same connection
            Thread.sleep(1000);
            long before = cluster.schedulerRssAfterGc();
            long heapBefore = cluster.schedulerHeapUsed();
            String histoBefore = System.getenv("DIST_BENCH_HISTO") != null ? cluster.histogram() : null;
            long workersBefore = cluster.workersHeapAfterGc();
            int n = 100_000;
            List<Integer> xs = IntStream.range(0, n).boxed().toList();
            long clientBefore = ownHeapAfterGc(); // the arguments exist before and after
            List<Future<Long>> fs = client.map(ClusterBench::addInt, xs, Collections.nCopies(n, b));
            client.whoHas(List.of(b)); // a round trip: the scheduler has the whole graph now
            long after = cluster.schedulerRssAfterGc();
            long heapAfter = cluster.schedulerHeapUsed();
            report("sched_bytes_per_waiting_task", (after - before) / (double) n, "B");
            report("sched_heap_per_waiting_task", (heapAfter - heapBefore) / (double) n, "B");
            // the client's side of the same: a Future, its key's state and its recipe
            report("client_heap_per_waiting_future", (ownHeapAfterGc() - clientBefore) / (double) n, "B");
            if (histoBefore != null) { // DIST_BENCH_HISTO: which classes the waiting tasks added, to stderr
                printGrowth(histoBefore, cluster.histogram(), n);
            }
            Files.createFile(flag);
            long sum = 0;
            for (long v : client.gather(fs)) {
                sum += v;
            }
            if (sum != (long) n * (n - 1) / 2) {
                throw new AssertionError("wrong sum " + sum);
            }
            // the results are held now, on the workers: what each costs them beyond its bytes
            report("worker_heap_per_held_result", (cluster.workersHeapAfterGc() - workersBefore) / (double) n, "B");
            fs.forEach(Future::release);
            b.release();
        } finally {
            Files.deleteIfExists(flag);
        }
    }

    /** Bytes per task each class added between two class histograms, largest first. */
    static void printGrowth(String before, String after, int n) {
        Map<String, long[]> b = histogramRows(before);
        Map<String, long[]> a = histogramRows(after);
        a.entrySet().stream()
                .map(e -> Map.entry(e.getKey(), new long[] {
                        e.getValue()[0] - b.getOrDefault(e.getKey(), new long[2])[0],
                        e.getValue()[1] - b.getOrDefault(e.getKey(), new long[2])[1]}))
                .sorted((x, y) -> Long.compare(y.getValue()[1], x.getValue()[1]))
                .limit(20)
                .forEach(e -> System.err.printf("%10.2f objects/task %10.1f B/task  %s%n",
                        e.getValue()[0] / (double) n, e.getValue()[1] / (double) n, e.getKey()));
    }

    private static Map<String, long[]> histogramRows(String text) {
        Map<String, long[]> rows = new java.util.HashMap<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)")
                .matcher(text);
        while (m.find()) {
            rows.put(m.group(3), new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))});
        }
        return rows;
    }

    static void million(Client client, CliCluster cluster, int n) throws Exception {
        List<Integer> xs = IntStream.range(0, n).boxed().toList();
        long[] cpu0 = cluster.cpuNanos();
        long[] alloc0 = cluster.allocatedBytes();
        long s = System.nanoTime();
        List<Future<Integer>> fs = client.map(ClusterBench::inc, xs);
        long submitted = System.nanoTime();
        for (Future<Integer> f : fs) {
            f.exception(Duration.ofSeconds(600));
        }
        double secs = (System.nanoTime() - s) / 1e9;
        report("million_tasks_submit", (submitted - s) / 1e9, "s");
        report("million_tasks_total", secs, "s");
        report("million_tasks_rate", n / secs, "tasks/s");
        report("million_sched_rss_peak", cluster.schedulerPeakRss() / 1e6, "MB");
        long[] cpu1 = cluster.cpuNanos();
        String[] who = {"client", "scheduler", "worker0", "worker1"};
        for (int i = 0; i < cpu0.length && i < who.length; i++) {
            if (cpu0[i] < 0 || cpu1[i] < 0) {
                System.err.println("million: " + who[i] + " exited during the run; its CPU time is unknown");
                report("million_cpu_" + who[i], Double.NaN, "us/task");
            } else {
                report("million_cpu_" + who[i], (cpu1[i] - cpu0[i]) / 1e3 / n, "us/task");
            }
        }
        long[] alloc1 = cluster.allocatedBytes();
        for (int i = 0; i < alloc0.length && i < who.length; i++) {
            report("million_alloc_" + who[i], alloc0[i] < 0 || alloc1[i] < 0 ? Double.NaN
                    : (alloc1[i] - alloc0[i]) / (double) n, "B/task");
        }
        fs.forEach(Future::release);
    }

    static void rawFloor() throws Exception {
        long[] rtt = RawLoopback.pingPong(2000, 20_000);
        report("raw_pingpong_median", rtt[rtt.length / 2] / 1e3, "us");
        report("raw_pingpong_p99", rtt[(int) (rtt.length * 0.99)] / 1e3, "us");
        report("raw_bulk", RawLoopback.bulk(1L << 30), "MB/s");
        report("raw_bulk_100MB_array", RawLoopback.arrays(100_000_000, 5), "MB/s");
    }

    /**
     * Where the processes run: the raw ping-pong with both ends on one CPU and on two, and the latency
     * loop with the client, the scheduler and both workers on one CPU. On a virtual machine whose idle
     * CPUs halt, waking a process on the other CPU can cost tens of microseconds, and an unpinned run
     * gets either placement; these rows show both. Needs taskset and 2 CPUs, else says why and skips.
     */
    static void placement() throws Exception {
        if (Runtime.getRuntime().availableProcessors() < 2) {
            System.err.println("placement: needs 2 CPUs; skipped");
            return;
        }
        long one = RawLoopback.pinnedPingPongMedian(0, 0, 2000, 20_000);
        long two = RawLoopback.pinnedPingPongMedian(0, 1, 2000, 20_000);
        if (one < 0 || two < 0) {
            System.err.println("placement: the pinned ping-pong failed (is taskset installed?); skipped");
            return;
        }
        report("raw_pingpong_one_cpu_median", one / 1e3, "us");
        report("raw_pingpong_two_cpus_median", two / 1e3, "us");
        Map<String, Double> pinned = latencyOnOneCpu();
        report("latency_one_cpu_median", pinned.getOrDefault("latency_median", Double.NaN), "us");
        report("latency_one_cpu_steady_median", pinned.getOrDefault("latency_steady_median", Double.NaN), "us");
    }

    /**
     * The latency workload in a child JVM pinned to CPU 0, whose cluster's processes inherit the pin.
     * Every JVM is told there are as many CPUs as here, so only the placement differs.
     */
    static Map<String, Double> latencyOnOneCpu() throws Exception {
        String cpus = "-XX:ActiveProcessorCount=" + Runtime.getRuntime().availableProcessors();
        List<String> cmd = new ArrayList<>(List.of("taskset", "-c", "0",
                ProcessHandle.current().info().command().orElseThrow(), cpus));
        cmd.addAll(dist.nanny.ChildJvm.ROLE_JVM_OPTIONS);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), ClusterBench.class.getName(),
                "--only", "latency"));
        String workerOpts = (String.join(" ", envOptions("DIST_BENCH_JVM_OPTS")) + " " + cpus).trim();
        String out = RawLoopback.runChild(cmd, Map.of("DIST_BENCH_JVM_OPTS", workerOpts));
        Map<String, Double> figures = new java.util.HashMap<>();
        for (String line : out == null ? List.<String>of() : out.lines().toList()) {
            String[] f = line.trim().split("\\s+");
            if (f.length == 3) {
                figures.put(f[0], Double.parseDouble(f[1]));
            }
        }
        return figures;
    }

    /** A scheduler (in a 1 GB heap) and workers started from the command line, as separate JVMs. */
    static final class CliCluster implements AutoCloseable {
        final Process scheduler;
        final List<Process> workers = new ArrayList<>();
        final String address;

        private CliCluster(Process scheduler, String address) {
            this.scheduler = scheduler;
            this.address = address;
        }

        static CliCluster start(int nworkers) throws Exception {
            String opts = System.getenv().getOrDefault("DIST_BENCH_SCHED_OPTS",
                    "-Xmx1g -Xmn32m -XX:+UseSerialGC -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=20");
            Process s = java(List.of(opts.trim().split("\\s+")), "scheduler", "--port", "0");
            CliCluster c = null;
            try {
                String line = firstLine(s, "scheduler at: ");
                c = new CliCluster(s, line.substring("scheduler at: ".length()).trim());
                for (int i = 0; i < nworkers; i++) {
                    Process w = java(envOptions("DIST_BENCH_WORKER_OPTS"), "worker", c.address, "--nthreads", "1", "--no-nanny",
                            "--name", "bench-" + i);
                    c.workers.add(w);
                    firstLine(w, "registered with scheduler at: ");
                }
                return c;
            } catch (Exception e) {
                if (c != null) {
                    c.close();
                } else {
                    s.destroyForcibly();
                }
                throw e;
            }
        }

        private static Process java(List<String> jvm, String... args) throws IOException {
            List<String> cmd = new ArrayList<>();
            cmd.add(ProcessHandle.current().info().command().orElseThrow());
            cmd.addAll(dist.nanny.ChildJvm.ROLE_JVM_OPTIONS); // as LocalCluster and run.sh start roles
            List<String> given = new ArrayList<>(jvm);
            given.addAll(envOptions("DIST_BENCH_JVM_OPTS")); // e.g. -Xlog:gc, for a look inside the roles
            cmd.addAll(dist.nanny.ChildJvm.gcOptions(args[0], given)); // as a nanny starts a worker
            cmd.addAll(given);
            cmd.addAll(flightRecording(args[0] + "-" + System.nanoTime() + ".jfr"));
            cmd.add("-cp");
            cmd.add(System.getProperty("java.class.path"));
            cmd.add("dist.Main");
            cmd.addAll(List.of(args));
            return new ProcessBuilder(cmd).redirectErrorStream(true).start();
        }

        private static String firstLine(Process p, String prefix) throws Exception {
            BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            CompletableFuture<String> found = new CompletableFuture<>();
            // a platform thread: pipe reads pin virtual threads' carriers, and three of them once left
            // none for the client's connection writer (a 10-million-task submission stalled)
            Thread.ofPlatform().daemon(true).start(() -> {
                try {
                    String line;
                    while ((line = r.readLine()) != null) {
                        if (!found.isDone() && line.startsWith(prefix)) {
                            found.complete(line);
                        }
                        if (line.startsWith("metrics at: ") || line.startsWith("dashboard at: ")) {
                            String url = line.substring(line.indexOf("http"));
                            METRICS.put(p.pid(), url.substring(0, url.indexOf('/', "http://".length())) + "/metrics");
                        }
                        System.err.println("[pid " + p.pid() + "] " + line); // kept in the run's log
                    }
                    found.completeExceptionally(new IOException("process ended before printing '" + prefix + "'"));
                } catch (IOException e) {
                    found.completeExceptionally(e);
                }
            });
            return found.get(60, TimeUnit.SECONDS);
        }

        /** The scheduler's resident size in bytes after a full collection. */
        long schedulerRssAfterGc() throws Exception {
            jcmd("GC.run");
            Thread.sleep(300);
            return status("VmRSS:");
        }

        /** Where each started process serves its Prometheus page, by pid. */
        static final Map<Long, String> METRICS = new java.util.concurrent.ConcurrentHashMap<>();

        /**
         * Heap bytes allocated so far by this process, the scheduler and each worker (their
         * dist_process_allocated_bytes_total); -1 where unknown.
         */
        long[] allocatedBytes() {
            List<Long> out = new ArrayList<>();
            out.add(((com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean())
                    .getTotalThreadAllocatedBytes());
            List<Process> roles = new ArrayList<>();
            roles.add(scheduler);
            roles.addAll(workers);
            for (Process p : roles) {
                out.add(scrape(METRICS.get(p.pid()), "dist_process_allocated_bytes_total"));
            }
            return out.stream().mapToLong(Long::longValue).toArray();
        }

        private static long scrape(String url, String name) {
            if (url == null) {
                return -1;
            }
            try {
                java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
                String body = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url))
                                .timeout(java.time.Duration.ofSeconds(30)).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString()).body();
                for (String line : body.split("\n")) {
                    if (line.startsWith(name)) {
                        return (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                    }
                }
                return -1;
            } catch (IOException | InterruptedException | RuntimeException e) {
                return -1;
            }
        }

        /** CPU time used so far by this process, the scheduler and each worker. */
        long[] cpuNanos() {
            List<ProcessHandle> ps = new ArrayList<>();
            ps.add(ProcessHandle.current());
            ps.add(scheduler.toHandle());
            workers.forEach(w -> ps.add(w.toHandle()));
            // -1: the process is gone (its CPU time can no longer be read)
            return ps.stream().mapToLong(p -> p.isAlive()
                    ? p.info().totalCpuDuration().map(java.time.Duration::toNanos).orElse(-1L) : -1L).toArray();
        }

        /** Heap in use in the scheduler (right after the collection of schedulerRssAfterGc), from jcmd. */
        long schedulerHeapUsed() throws Exception {
            return heapUsed(scheduler.pid());
        }

        /** Heap in use in the workers together, each collected first. */
        long workersHeapAfterGc() throws Exception {
            long sum = 0;
            for (Process w : workers) {
                jcmd(w.pid(), "GC.run");
                sum += heapUsed(w.pid());
            }
            return sum;
        }

        private long heapUsed(long pid) throws Exception {
            String text = jcmd(pid, "GC.heap_info");
            long used = 0;
            java.util.regex.Pattern usedK = java.util.regex.Pattern.compile("used (\\d+)K");
            for (String line : text.split("\n")) {
                if (line.contains("Metaspace") || line.contains("class space")) {
                    continue; // class metadata, not heap
                }
                java.util.regex.Matcher m = usedK.matcher(line);
                if (m.find()) {
                    used += Long.parseLong(m.group(1)) * 1024;
                }
            }
            if (used == 0) {
                throw new IOException("no heap figures in: " + text);
            }
            return used;
        }

        /** The scheduler's live objects by class (jcmd GC.class_histogram). */
        String histogram() throws Exception {
            return jcmd("GC.class_histogram");
        }

        /** What {@code jcmd <scheduler pid> command} prints. */
        private String jcmd(String command) throws Exception {
            return jcmd(scheduler.pid(), command);
        }

        private String jcmd(long pid, String command) throws Exception {
            String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
            Process p = new ProcessBuilder(jcmd, String.valueOf(pid), command)
                    .redirectErrorStream(true).start();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("jcmd " + command + " did not finish within 60 s");
            }
            return text;
        }

        long schedulerPeakRss() throws IOException {
            return status("VmHWM:");
        }

        private long status(String field) throws IOException {
            for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(scheduler.pid()), "status"))) {
                if (line.startsWith(field)) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
            throw new IOException(field + " not found for pid " + scheduler.pid());
        }

        @Override
        public void close() {
            for (Process w : workers) {
                w.destroy();
            }
            scheduler.destroy();
            for (Process p : workers) {
                waitOrKill(p);
            }
            waitOrKill(scheduler);
        }

        private static void waitOrKill(Process p) {
            try {
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Put then take on a shared queue, one client, synchronously: µs per pair, after the same warm-up as dask_bench.py. */
    static void queuePutGet(Client client) throws Exception {
        java.util.concurrent.BlockingQueue<Integer> q = client.queue("bench-queue");
        int warm = 2000;
        int n = 5000;
        for (int i = 0; i < warm; i++) {
            q.put(i);
            if (q.take() != i) {
                throw new IllegalStateException("the queue gave back another item");
            }
        }
        long s = System.nanoTime();
        for (int i = 0; i < n; i++) {
            q.put(i);
            if (q.take() != i) {
                throw new IllegalStateException("the queue gave back another item");
            }
        }
        report("queue_put_get", (System.nanoTime() - s) / 1e3 / n, "us");
    }
}
