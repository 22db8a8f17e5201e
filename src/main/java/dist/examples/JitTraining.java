package dist.examples;

import dist.Client;
import dist.Future;
import dist.LocalCluster;
import dist.Options;
import dist.protocol.Message;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The workload the roles' ahead-of-time caches are trained on (JDK 25+). {@code run.sh} runs it once
 * per build on a local cluster of worker processes under nannies: this JVM (client and scheduler)
 * and each child record what they load and which methods run hot ({@code -XX:AOTMode=record}, the
 * children through {@code distributed.jvm.aot-record-dir}), and {@code run.sh} makes
 * {@code target/aot/host.aot}, {@code worker.aot} and {@code nanny.aot} from the recordings. A role
 * started from its cache finds its classes loaded and linked and compiles its hot code at once.
 *
 * <pre>{@code
 * java -XX:AOTMode=record -XX:AOTConfiguration=rec/host-0.aotconf -Ddist.jvm.aot-record-dir=rec \
 *      -cp target/dist.jar dist.examples.JitTraining
 * java -XX:AOTMode=create -XX:AOTConfiguration=rec/worker-pid123.aotconf -XX:AOTCache=target/aot/worker.aot \
 *      -cp target/dist.jar
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
        List<String> workers = client.workersInfo().stream().map(dist.WorkerInfo::address).sorted().toList();
        Future<byte[]> data = client.with(Options.defaults().pure(false).workers(workers.get(0)))
                .submit(JitTraining::bytes, 8 << 20);
        client.with(Options.defaults().pure(false).workers(workers.get(workers.size() - 1)))
                .submit(JitTraining::length, data).result(limit);
        data.release();
    }
}
