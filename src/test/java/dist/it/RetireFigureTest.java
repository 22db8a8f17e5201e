package dist.it;

import dist.Client;
import dist.Future;
import dist.Futures;
import dist.LocalCluster;
import dist.Options;
import dist.Retirement;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The figure for retirement: how long {@code retireWorkers} takes to empty a worker process
 * holding 1 GB (1,000 results of 1 MiB, then 100 of 10 MiB) onto two others with room, nothing
 * recomputed. Prints the times; slow (3 JVMs with 2 GB heaps), so outside the default run:
 * {@code mvn -B -q -o -Dtest=RetireFigureTest -Dtest.excludedGroups= -Dsurefire.failIfNoSpecifiedTests=false verify}.
 */
@Tag("slow")
@Timeout(value = 600, unit = TimeUnit.SECONDS)
class RetireFigureTest {
    static final Duration T = Duration.ofSeconds(300);

    static byte[] block(int i, int mib) {
        byte[] b = new byte[mib << 20];
        b[0] = (byte) i;
        b[b.length - 1] = (byte) (i >> 8);
        return b;
    }

    static int check(byte[] b) {
        return (b[0] & 0xff) | (b[b.length - 1] & 0xff) << 8;
    }

    @Test
    void retireOneGigabyte() throws Exception {
        for (int[] shape : new int[][] {{1000, 1}, {100, 10}}) {
            int n = shape[0], mib = shape[1];
            try (LocalCluster cluster = LocalCluster.builder().workers(3).threadsPerWorker(1).processes(true)
                    .memoryLimit(3L << 30).workerJvmArgs("-Xmx2g").output(null).start();
                 Client c = cluster.client()) {
                assertTrue(cluster.awaitWorkers(3, 120, TimeUnit.SECONDS));
                List<String> ws = List.copyOf(c.ncores().keySet());
                String leaving = ws.get(0);
                List<Future<byte[]>> blocks = c.with(Options.defaults().workers(leaving))
                        .map(b -> block(b, mib), IntStream.range(0, n).boxed().toList());
                assertTrue(Futures.wait(blocks, T).notDone().isEmpty());
                long t0 = System.nanoTime();
                Retirement r = c.retireWorkers(List.of(leaving));
                long nanos = System.nanoTime() - t0;
                assertEquals(Set.of(leaving), r.retired().keySet(), "kept: " + r.kept());
                long twice = 0;
                for (Future<byte[]> f : blocks) {
                    twice += c.story(f.key()).stream()
                            .filter(e -> e.where().equals("scheduler") && e.event().endsWith("-> processing")).count() - 1;
                }
                assertEquals(0, twice, "recomputations");
                Map<String, List<String>> who = c.whoHas(blocks);
                assertTrue(who.values().stream().noneMatch(h -> h.contains(leaving)));
                List<Future<Integer>> checks = c.map(RetireFigureTest::check, blocks);
                for (int i = 0; i < n; i++) {
                    assertEquals(i & 0xffff, checks.get(i).result(T));
                }
                System.out.printf("retireWorkers emptied %d x %d MiB (%d MiB) onto 2 workers in %.2f s (%.0f MiB/s), 0 recomputed%n",
                        n, mib, n * mib, nanos / 1e9, n * mib / (nanos / 1e9));
            }
        }
    }
}
