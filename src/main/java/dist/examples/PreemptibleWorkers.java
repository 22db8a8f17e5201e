package dist.examples;

import dist.Bag;
import dist.Client;
import dist.Fn1;
import dist.Future;
import dist.LocalCluster;
import dist.config.Config;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

/**
 * The seeds' preemptible-workers scenario: 4 worker processes under nannies (1 thread, 400 MB
 * each), allowed failures 100, a bag of 400 numbers in 200 partitions doubled (20 ms each) and
 * summed, while a killer sends SIGTERM to a random worker other than the first two every 3 s.
 * The answer must be 159600. {@code ./run.sh demo} runs it after the quickstart.
 *
 * <pre>{@code
 * PreemptibleWorkers.Result r = PreemptibleWorkers.run(400, 200, PreemptibleWorkers::multiplyByTwo,
 *         Duration.ofSeconds(3), false, System.out, null, 1);
 * System.out.println(r.answer() + " after " + r.kills() + " kills");   // 159600 after N kills
 * }</pre>
 */
public final class PreemptibleWorkers {
    private PreemptibleWorkers() {
    }

    /** What one run gave: the answer, what it should be, and how many worker processes were killed. */
    public record Result(long answer, long expected, int kills, long millis) {
        public boolean exact() {
            return answer == expected;
        }
    }

    /** The seed's work: sleep 20 ms, return twice the number. */
    public static int multiplyByTwo(int x) throws InterruptedException {
        Thread.sleep(20);
        return 2 * x;
    }

    /** A lighter variant for long runs: sleep 2 ms. */
    public static int multiplyByTwoQuickly(int x) throws InterruptedException {
        Thread.sleep(2);
        return 2 * x;
    }

    /**
     * Starts the cluster, computes {@code sum(fn(x) for x in 0..n-1)} over {@code npartitions}
     * partitions while killing a random unprotected worker every {@code killEvery} (SIGKILL when
     * {@code sigkill}, else SIGTERM), and returns the result. {@code log} gets progress lines,
     * {@code clusterOutput} the workers' and nannies' output (null: dropped).
     */
    public static Result run(int n, int npartitions, Fn1<Integer, Integer> fn, Duration killEvery, boolean sigkill,
                             PrintStream log, PrintStream clusterOutput, long seed) throws Exception {
        long t0 = System.nanoTime();
        try (Config.Override af = Config.set("distributed.scheduler.allowed-failures", 100);
             LocalCluster cluster = LocalCluster.builder().workers(4).threadsPerWorker(1).memoryLimit(400_000_000L)
                     .processes(true).output(clusterOutput).start();
             Client client = cluster.client()) {
            List<Long> protectedPids = new ArrayList<>(cluster.workerPids().subList(0, 2));
            log.printf("cluster of 4 worker processes under nannies: %s; protected: %s%n", cluster.workerPids(),
                    protectedPids);
            Bag<Integer> x = Bag.fromSequence(IntStream.range(0, n).boxed().toList(), npartitions);
            Future<Number> summed = client.compute(x.map(fn).sum());
            AtomicInteger kills = new AtomicInteger();
            Random random = new Random(seed);
            Thread killer = Thread.ofVirtual().name("killer").start(() -> {
                try {
                    // as in the seed: kill, then sleep, until the sum is done
                    for (boolean first = true; !summed.isDone(); first = false) {
                        if (!first) {
                            Thread.sleep(killEvery);
                            if (summed.isDone()) {
                                break;
                            }
                        }
                        List<Long> victims = new ArrayList<>(cluster.workerPids());
                        victims.removeAll(protectedPids);
                        if (victims.isEmpty()) {
                            continue;
                        }
                        long pid = victims.get(random.nextInt(victims.size()));
                        ProcessHandle.of(pid).ifPresent(p -> {
                            boolean sent = sigkill ? p.destroyForcibly() : p.destroy();
                            if (sent) {
                                log.printf("  kill %d: %s to worker process %d%n", kills.incrementAndGet(),
                                        sigkill ? "SIGKILL" : "SIGTERM", pid);
                            }
                        });
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (RuntimeException e) {
                    log.println("  killer stopped: " + e);
                }
            });
            Number answer;
            try {
                answer = summed.result(Duration.ofMinutes(10));
            } finally {
                killer.interrupt();
                killer.join(10_000);
            }
            long expected = (long) n * (n - 1);
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            log.printf("sum(range(%d)) on cluster: %s\t(should be %d), %d kills, %d ms%n", n, answer, expected,
                    kills.get(), ms);
            return new Result(answer.longValue(), expected, kills.get(), ms);
        }
    }

    /** {@code ./run.sh demo} runs this after the quickstart; "--sigkill" kills with SIGKILL every second instead. */
    public static void main(String[] args) throws Exception {
        boolean sigkill = List.of(args).contains("--sigkill");
        System.out.println();
        System.out.println("preemptible workers: 400 numbers doubled (20 ms each) and summed while a killer sends "
                + (sigkill ? "SIGKILL every second" : "SIGTERM every 3 s") + " to a random unprotected worker");
        Result r = run(400, 200, PreemptibleWorkers::multiplyByTwo, sigkill ? Duration.ofSeconds(1)
                : Duration.ofSeconds(3), sigkill, System.out, null, System.nanoTime());
        System.exit(r.exact() ? 0 : 1);
    }
}
