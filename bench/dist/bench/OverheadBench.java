package dist.bench;

import dist.Client;
import dist.Future;
import dist.LocalCluster;
import dist.Options;
import dist.Span;
import dist.TaskStream;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

/**
 * What observing costs, in {@code ./run.sh compare}: tasks a second of 20,000 independent tasks on two
 * worker processes (1 thread each), with the workers' sampling profiler at its default interval and with
 * it switched off ({@code distributed.worker.profile.enabled=false}), and, on the cluster without it,
 * plain, inside two nested spans, and with a task stream open. Rounds are interleaved so that drift
 * hits every variant alike; each figure is the median's difference to its plain run, in percent
 * (negative: slower).
 */
final class OverheadBench {
    private OverheadBench() {
    }

    static int inc(int x) {
        return x + 1;
    }

    private static double rate(Client client, List<Integer> xs) {
        long t0 = System.nanoTime();
        List<Future<Integer>> fs = client.with(Options.defaults().pure(false)).map(OverheadBench::inc, xs);
        List<Integer> out = client.gather(fs);
        double r = xs.size() / ((System.nanoTime() - t0) / 1e9);
        if (out.get(out.size() - 1) != xs.get(xs.size() - 1) + 1) {
            throw new AssertionError("wrong results");
        }
        fs.forEach(Future::release);
        return r;
    }

    private static LocalCluster cluster(boolean profiler) throws Exception {
        List<String> jvm = new ArrayList<>(ClusterBench.envOptions("DIST_BENCH_WORKER_OPTS"));
        jvm.addAll(ClusterBench.envOptions("DIST_BENCH_JVM_OPTS"));
        jvm.add("-Ddist.worker.profile.enabled=" + profiler);
        return LocalCluster.builder().workers(2).threadsPerWorker(1).processes(true).output(null)
                .workerJvmArgs(jvm.toArray(String[]::new)).start();
    }

    static void run(int rounds) throws Exception {
        List<Integer> xs = IntStream.range(0, 20_000).boxed().toList();
        try (LocalCluster on = cluster(true); Client withProfiler = on.client();
             LocalCluster off = cluster(false); Client plain = off.client()) {
            for (int i = 0; i < 3; i++) { // warm up: the JIT and the heaps settle
                rate(withProfiler, xs);
                rate(plain, xs);
            }
            double[][] r = new double[4][rounds];
            for (int i = 0; i < rounds; i++) {
                r[0][i] = rate(plain, xs);
                r[1][i] = rate(withProfiler, xs);
                try (Span a = plain.span("outer"); Span b = plain.span("inner")) {
                    r[2][i] = rate(plain, xs);
                }
                try (TaskStream ts = plain.taskStream()) {
                    r[3][i] = rate(plain, xs);
                }
            }
            double base = median(r[0]);
            ClusterBench.report("overhead_plain", base, "tasks/s");
            ClusterBench.report("overhead_profiler", (median(r[1]) / base - 1) * 100, "%");
            ClusterBench.report("overhead_spans", (median(r[2]) / base - 1) * 100, "%");
            ClusterBench.report("overhead_task_stream", (median(r[3]) / base - 1) * 100, "%");
            System.err.println("overhead rounds (tasks/s): plain " + Arrays.toString(rounded(r[0])) + ", profiler "
                    + Arrays.toString(rounded(r[1])) + ", spans " + Arrays.toString(rounded(r[2])) + ", task stream "
                    + Arrays.toString(rounded(r[3])));
        }
    }

    private static long[] rounded(double[] a) {
        return Arrays.stream(a).mapToLong(Math::round).toArray();
    }

    private static double median(double[] a) {
        double[] s = a.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
