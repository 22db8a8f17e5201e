package dist;

import dist.comm.CommConfig;
import dist.config.Config;
import dist.scheduler.SchedulerConfig;
import dist.scheduler.SchedulerServer;
import dist.worker.WorkerServer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * What the workers' profiler costs at its default interval: the same CPU-bound tasks (fixed work, not
 * fixed time) and the same many tiny tasks, with the profiler on and off, alternating, in one JVM.
 * Run: {@code java -cp target/classes:target/test-classes dist.ProfilerOverhead [rounds]}.
 */
public final class ProfilerOverhead {
    static double work(int n) {
        double x = 1;
        for (int i = 0; i < n; i++) {
            x = Math.sqrt(x + i) * 1.0000001;
        }
        return x;
    }

    static int inc(int x) {
        return x + 1;
    }

    /** CPU time of the live profiler threads of this process, in ns. */
    static long samplerCpu(java.lang.management.ThreadMXBean threads) {
        long sum = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals("dist-worker-profile")) {
                sum += Math.max(0, threads.getThreadCpuTime(t.threadId()));
            }
        }
        return sum;
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        System.out.println("round profile cpu-bound-ms tiny-tasks-ms process-cpu-ms sampler-cpu-ms");
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean)
                java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        for (int r = 0; r < rounds * 2 + 1; r++) {
            boolean on = r % 2 == 1; // round 0 (off) warms the JIT and is not counted
            try (Config.Override o = Config.set("distributed.worker.profile.enabled", on)) {
                SchedulerServer s = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT);
                WorkerServer w = WorkerServer.start(new WorkerServer.Options(s.address(), "127.0.0.1", 0, 2, "w", 0,
                        8 * 1024, CommConfig.DEFAULT));
                try (Client c = Client.connect(s.address())) {
                    long cpu0 = os.getProcessCpuTime();
                    long sampler0 = samplerCpu(threads);
                    long t0 = System.nanoTime();
                    List<Future<Double>> cpu = c.map(ProfilerOverhead::work, IntStream.range(0, 200).map(i -> 2_000_000 + i).boxed().toList());
                    for (Future<Double> f : cpu) {
                        f.result(Duration.ofMinutes(5));
                    }
                    long t1 = System.nanoTime();
                    List<Future<Integer>> tiny = new ArrayList<>(c.map(ProfilerOverhead::inc, IntStream.range(0, 20_000).boxed().toList()));
                    for (Future<Integer> f : tiny) {
                        f.result(Duration.ofMinutes(5));
                    }
                    long t2 = System.nanoTime();
                    System.out.printf("%d %s %d %d %d %d%n", r, on ? "on" : "off", (t1 - t0) / 1_000_000,
                            (t2 - t1) / 1_000_000, (os.getProcessCpuTime() - cpu0) / 1_000_000,
                            (samplerCpu(threads) - sampler0) / 1_000_000);
                } finally {
                    w.close();
                    s.close();
                }
            }
        }
    }
}
