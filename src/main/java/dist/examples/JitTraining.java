package dist.examples;

import dist.Client;
import dist.Future;
import dist.LocalCluster;
import dist.Options;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The workload an ahead-of-time cache is trained on ({@code run.sh} makes {@code target/dist.aot} with
 * it on a JDK that has {@code -XX:AOTCacheOutput}). One JVM runs the scheduler, two workers and a
 * client, so its classes and method profiles cover every role: a role started with
 * {@code -XX:AOTCache=target/dist.aot} loads its classes ready-linked and compiles its hot code at
 * once, instead of spending its first seconds profiling.
 *
 * <pre>{@code
 * java -XX:AOTCacheOutput=target/dist.aot -cp target/dist.jar dist.examples.JitTraining
 * java -XX:AOTCache=target/dist.aot -jar target/dist.jar scheduler
 * }</pre>
 */
public final class JitTraining {
    private JitTraining() {
    }

    static int inc(int x) {
        return x + 1;
    }

    static long add(long a, long b) {
        return a + b;
    }

    static byte[] bytes(int n) {
        return new byte[n];
    }

    static int length(byte[] b) {
        return b.length;
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        try (LocalCluster cluster = LocalCluster.builder().workers(2).threadsPerWorker(1).processes(true)
                .output(null).start();
             Client client = cluster.client()) {
            for (int round = 0; round < rounds; round++) {
                train(client, round);
            }
        }
    }

    /** The shapes a session goes through: one call at a time, a wide map, a chain, a tree and a transfer. */
    static void train(Client client, int round) throws Exception {
        Duration limit = Duration.ofMinutes(1);
        for (int i = 0; i < 500; i++) {
            client.submit(JitTraining::inc, round * 1_000_000 + i).result(limit);
        }
        List<Future<Integer>> wide = client.map(JitTraining::inc,
                IntStream.range(0, 20_000).map(i -> i + round * 100_000).boxed().toList());
        client.gather(wide);
        wide.forEach(Future::release);
        Future<Long> link = client.submit(JitTraining::add, (long) round, 0L);
        for (int i = 0; i < 300; i++) {
            link = client.submit(JitTraining::add, link, 1L);
        }
        link.result(limit);
        List<Future<Long>> level = new ArrayList<>();
        for (int i = 0; i < 256; i++) {
            level.add(client.submit(JitTraining::add, (long) i, (long) round));
        }
        while (level.size() > 1) {
            List<Future<Long>> next = new ArrayList<>();
            for (int i = 0; i + 1 < level.size(); i += 2) {
                next.add(client.submit(JitTraining::add, level.get(i), level.get(i + 1)));
            }
            level = next;
        }
        level.get(0).result(limit);
        List<String> workers = client.workersInfo().stream().map(w -> w.address()).sorted().toList();
        Future<byte[]> data = client.with(Options.defaults().pure(false).workers(workers.get(0)))
                .submit(JitTraining::bytes, 8 << 20);
        client.with(Options.defaults().pure(false).workers(workers.get(workers.size() - 1)))
                .submit(JitTraining::length, data).result(limit);
        data.release();
    }
}
