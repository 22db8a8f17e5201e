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
 * What observing costs, in {@code ./run.sh compare}: tasks a second of 50,000 independent tasks on two
 * worker processes (1 thread each), with the workers' sampling profiler at its default interval and with
 * it switched off ({@code distributed.worker.profile.enabled=false}), and, on the cluster without it,
 * plain, inside two nested spans, and with a task stream open. Rounds are interleaved so that drift
 * hits every variant alike, in a shuffled order, each timed run after an untimed fifth of it on the same
 * variant; each figure is the median of each round's ratio to that round's plain run, in percent:
 * tasks a second (negative: slower) and, steadier on a shared machine, CPU a task summed over this JVM
 * (client and schedulers) and the worker processes (positive: costlier).
 */
final class OverheadBench {
    private OverheadBench() {
    }

    static int inc(int x) {
        return x + 1;
    }

    /** One run: tasks a second, and CPU nanoseconds a task over this JVM (client, scheduler) and the cluster's worker processes. */
    record Run(double rate, double cpuPerTask) {}

    private static Run run(LocalCluster cluster, Client client, List<Integer> xs) {
        long cpu0 = cpu(cluster);
        long t0 = System.nanoTime();
        List<Future<Integer>> fs = client.with(Options.defaults().pure(false)).map(OverheadBench::inc, xs);
        List<Integer> out = client.gather(fs);
        double r = xs.size() / ((System.nanoTime() - t0) / 1e9);
        long cpu = cpu(cluster) - cpu0;
        if (out.get(out.size() - 1) != xs.get(xs.size() - 1) + 1) {
            throw new AssertionError("wrong results");
        }
        fs.forEach(Future::release);
        return new Run(r, (double) cpu / xs.size());
    }

    /** CPU nanoseconds used so far by this JVM and by the cluster's worker processes (Linux: /proc/PID/stat). */
    static long cpu(LocalCluster cluster) {
        long own = ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
        long ticks = 0;
        for (long pid : cluster.workerPids()) {
            if (pid == ProcessHandle.current().pid()) {
                continue;
            }
            try {
                String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc", Long.toString(pid), "stat"));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14 and 15)
            } catch (java.io.IOException | RuntimeException e) {
                return -1; // no /proc: CPU is not reported
            }
        }
        return own + ticks * 10_000_000L; // USER_HZ is 100 on Linux
    }

    private static LocalCluster cluster(boolean profiler) throws Exception {
        List<String> jvm = new ArrayList<>(ClusterBench.envOptions("DIST_BENCH_WORKER_OPTS"));
        jvm.addAll(ClusterBench.envOptions("DIST_BENCH_JVM_OPTS"));
        jvm.add("-Ddist.worker.profile.enabled=" + profiler);
        return LocalCluster.builder().workers(2).threadsPerWorker(1).processes(true).output(null)
                .workerJvmArgs(jvm.toArray(String[]::new)).start();
    }

    static void run(int rounds) throws Exception {
        List<Integer> xs = IntStream.range(0, 50_000).boxed().toList();
        try (LocalCluster on = cluster(true); Client withProfiler = on.client();
             LocalCluster off = cluster(false); Client plain = off.client()) {
            for (int i = 0; i < 12; i++) { // warm up: the JIT and the heaps settle (the first rounds ran slow after 6)
                run(on, withProfiler, xs);
                run(off, plain, xs);
            }
            Run[][] r = new Run[4][rounds];
            List<Integer> warm = xs.subList(0, xs.size() / 5);
            java.util.Random order = new java.util.Random(42);
            List<Integer> variants = new ArrayList<>(List.of(0, 1, 2, 3));
            for (int i = 0; i < rounds; i++) {
                java.util.Collections.shuffle(variants, order); // no variant always follows the same one
                for (int k : variants) {
                    // an untimed batch first, the same variant on the same cluster: the other cluster's run
                    // before it left this one's processes idle and their caches cold, which no variant should pay
                    variant(k, on, withProfiler, off, plain, warm);
                    r[k][i] = variant(k, on, withProfiler, off, plain, xs);
                }
            }
            String[] names = {"plain", "profiler", "spans", "task_stream"};
            double rate = median(r[0], Run::rate);
            double cpu = median(r[0], Run::cpuPerTask);
            ClusterBench.report("overhead_plain", rate, "tasks/s");
            ClusterBench.report("overhead_plain_cpu", cpu / 1000, "us/task");
            for (int k = 1; k < 4; k++) {
                // paired: each round's variant against that round's plain run, so drift between rounds cancels
                double[] rates = new double[rounds];
                double[] cpus = new double[rounds];
                for (int i = 0; i < rounds; i++) {
                    rates[i] = r[k][i].rate() / r[0][i].rate();
                    cpus[i] = r[k][i].cpuPerTask() / r[0][i].cpuPerTask();
                }
                ClusterBench.report("overhead_" + names[k], (median(rates) - 1) * 100, "%");
                ClusterBench.report("overhead_" + names[k] + "_cpu", (median(cpus) - 1) * 100, "%");
                double[] rci = bootstrap(rates);
                double[] cci = bootstrap(cpus);
                System.err.printf(java.util.Locale.ROOT, "overhead %s: 95%% interval of the median, rate %+.1f%% to %+.1f%%,"
                        + " CPU %+.1f%% to %+.1f%% (the task stream adds no work a task: its interval is the noise)%n",
                        names[k], (rci[0] - 1) * 100, (rci[1] - 1) * 100, (cci[0] - 1) * 100, (cci[1] - 1) * 100);
            }
            for (int k = 0; k < 4; k++) {
                System.err.println("overhead rounds " + names[k] + ": tasks/s " + Arrays.toString(
                        Arrays.stream(r[k]).mapToLong(x -> Math.round(x.rate())).toArray()) + ", CPU ns/task "
                        + Arrays.toString(Arrays.stream(r[k]).mapToLong(x -> Math.round(x.cpuPerTask())).toArray()));
            }
        }
    }

    /** One run of variant {@code k}: 0 plain, 1 profiler, 2 inside two nested spans, 3 with a task stream open. */
    private static Run variant(int k, LocalCluster on, Client withProfiler, LocalCluster off, Client plain, List<Integer> xs) {
        return switch (k) {
            case 0 -> run(off, plain, xs);
            case 1 -> run(on, withProfiler, xs);
            case 2 -> {
                try (Span a = plain.span("outer"); Span b = plain.span("inner")) {
                    yield run(off, plain, xs);
                }
            }
            default -> {
                try (TaskStream ts = plain.taskStream()) {
                    yield run(off, plain, xs);
                }
            }
        };
    }

    private static double median(Run[] runs, java.util.function.ToDoubleFunction<Run> f) {
        return median(Arrays.stream(runs).mapToDouble(f).toArray());
    }

    /** A 95% bootstrap interval of the median of {@code values} (2,000 resamples, fixed seed). */
    static double[] bootstrap(double[] values) {
        java.util.Random random = new java.util.Random(1);
        double[] medians = new double[2000];
        double[] sample = new double[values.length];
        for (int b = 0; b < medians.length; b++) {
            for (int i = 0; i < sample.length; i++) {
                sample[i] = values[random.nextInt(values.length)];
            }
            medians[b] = median(sample);
        }
        Arrays.sort(medians);
        return new double[] {medians[50], medians[1949]};
    }

    private static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
