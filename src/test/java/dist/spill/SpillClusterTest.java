package dist.spill;

import dist.Client;
import dist.Future;
import dist.Futures;
import dist.Options;
import dist.TaskFailedException;
import dist.comm.CommConfig;
import dist.config.Config;
import dist.scheduler.SchedulerConfig;
import dist.scheduler.SchedulerServer;
import dist.worker.WorkerServer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

/** Real scheduler, workers and client over sockets, with results far larger than the workers' memory limits. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SpillClusterTest {
    static final Duration WAIT = Duration.ofSeconds(30);
    static final int MB = 1 << 20;

    /** {@code n} deterministic bytes from {@code seed}. */
    static byte[] block(int seed, int n) {
        byte[] b = new byte[n];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    static byte[] block4(int seed) {
        return block(seed, 4 * MB);
    }

    static long checksum(byte[] b) {
        long h = 0;
        for (byte x : b) h = h * 31 + x;
        return h;
    }

    static long groupSum(List<byte[]> blocks) {
        long s = 0;
        for (byte[] b : blocks) s += checksum(b);
        return s;
    }

    static long total(List<Long> parts) {
        return parts.stream().mapToLong(Long::longValue).sum();
    }

    static int inc(int x) {
        return x + 1;
    }

    static byte[] sized(int seed, int n) {
        return block(seed, n);
    }

    static byte[] block3(int seed) {
        return block(seed, 3 * MB);
    }

    static byte[] block300k(int seed) {
        return block(seed, 300_000);
    }

    static WorkerServer worker(SchedulerServer s, String name, int threads, long limit, Path dir) throws IOException {
        return WorkerServer.start(new WorkerServer.Options(s.address(), "127.0.0.1", 0, threads, name, limit,
                8 * 1024, CommConfig.DEFAULT), Map.of(), dir);
    }

    static long files(Path dir) throws IOException {
        if (dir == null || !Files.isDirectory(dir)) return 0;
        try (var s = Files.list(dir)) {
            return s.count();
        }
    }

    static void eventually(String what, BooleanSupplier c) throws InterruptedException {
        if (!dist.Wait.until(WAIT, c)) {
            fail("timed out waiting until " + what);
        }
    }

    @Test
    void resultsThreeTimesTheLimitComeBackExact(@TempDir Path tmp) throws Exception {
        int n = 50; // 50 x 4 MiB = 200 MiB on a worker with a 64 MiB limit
        try (SchedulerServer s = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT);
             WorkerServer small = worker(s, "small", 2, 64L * MB, tmp);
             WorkerServer other = worker(s, "other", 1, 0, null);
             Client client = Client.connect(s.address())) {
            assertTrue(s.awaitWorkers(2, 10, TimeUnit.SECONDS));
            List<Integer> seeds = IntStream.range(0, n).boxed().toList();
            List<Future<byte[]>> blocks = client.with(Options.defaults().workers("small"))
                    .map(SpillClusterTest::block4, seeds);
            assertTrue(Futures.wait(blocks, WAIT).notDone().isEmpty(), "every block was made");

            var store = small.dataStore();
            Path dir = store.spillDirectory();
            assertNotNull(dir, "the worker spilled");
            assertTrue(dir.startsWith(tmp), dir + " is under --local-directory " + tmp);
            assertTrue(store.memoryBytes() <= 64L * MB * 6 / 10, "held in memory: " + store.memoryBytes());
            assertTrue(files(dir) >= 35, "spill files: " + files(dir));
            assertEquals(n, store.size());

            // a reduction in groups of 10 reads every block back, on the small worker and on its peer
            List<Future<Long>> parts = new ArrayList<>();
            for (int g = 0; g < n / 10; g++) {
                Options where = Options.defaults().workers(g % 2 == 0 ? "small" : "other");
                parts.add(client.with(where).submit(SpillClusterTest::groupSum, Futures.all(blocks.subList(g * 10, g * 10 + 10))));
            }
            Future<Long> sum = client.submit(SpillClusterTest::total, Futures.all(parts));
            long expected = 0;
            for (int i = 0; i < n; i++) expected += checksum(block4(i));
            assertEquals(expected, sum.result(WAIT));
            assertTrue(store.readBackCount() >= 35, "read back: " + store.readBackCount());

            // the client gets spilled data the same way
            assertArrayEquals(block4(0), blocks.get(0).result(WAIT));

            // released results take their files with them
            blocks.forEach(Future::release);
            parts.forEach(Future::release);
            sum.release();
            eventually("released blocks lose their files", () -> {
                try {
                    return files(dir) == 0 && store.size() == 0;
                } catch (IOException e) {
                    return false;
                }
            });
            small.close();
            assertFalse(Files.exists(dir), "closing the worker removes its spill folder");
        }
    }

    @Test
    void aWorkerPastThePauseFractionStartsNothingUntilMemoryFalls() throws Exception {
        // a target above the pause fraction turns spilling off: memory grows until the worker pauses
        try (Config.Override t = Config.set("distributed.worker.memory.target", 5.0);
             Config.Override p = Config.set("distributed.worker.memory.pause", 0.8);
             SchedulerServer s = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT);
             WorkerServer w = worker(s, "w", 1, 10L * MB, null);
             Client client = Client.connect(s.address())) {
            assertTrue(s.awaitWorkers(1, 10, TimeUnit.SECONDS));
            List<Future<byte[]>> big = client.map(SpillClusterTest::block3, List.of(1, 2, 3)); // 9 MiB > 8 MiB
            assertTrue(Futures.wait(big, WAIT).notDone().isEmpty());
            eventually("the worker pauses", () -> w.dataStore().overPause());
            Future<Integer> held = client.submit(SpillClusterTest::inc, 41);
            // a running worker finishes inc well within this bound; a paused one never starts it
            assertFalse(dist.Wait.until(Duration.ofMillis(500), held::isDone), "a paused worker starts no task");
            assertEquals(0, w.dataStore().spillCount(), "spilling was off");

            client.cancel(big); // memory falls, the worker resumes
            assertEquals(42, held.result(WAIT));
            assertFalse(w.dataStore().overPause());
        }
    }

    @Test
    void aFullDiskFailsTheTaskWithTheFolderInTheMessageAndTheWorkerLivesOn(@TempDir Path tmp) throws Exception {
        Path mnt = Files.createDirectory(tmp.resolve("tiny"));
        Assumptions.assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt.toString()),
                "skipped: mounting a 1 MiB tmpfs needs root (the injected-writer case in DataStoreTest still runs)");
        try (SchedulerServer s = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT);
             WorkerServer w = worker(s, "w", 1, 2_000_000, mnt);
             Client client = Client.connect(s.address())) {
            assertTrue(s.awaitWorkers(1, 10, TimeUnit.SECONDS));
            // 300 kB each: about three fit on the 1 MiB disk, about five in memory below the pause fraction
            List<Integer> seeds = IntStream.range(0, 14).boxed().toList();
            List<Future<byte[]>> fs = new ArrayList<>();
            for (int seed : seeds) {
                fs.add(client.submit(SpillClusterTest::block300k, seed));
                Futures.wait(List.of(fs.get(fs.size() - 1)), WAIT); // one at a time, so which one fails is clear
            }
            int failed = 0;
            for (int i = 0; i < fs.size(); i++) {
                try {
                    assertArrayEquals(sized(i, 300_000), fs.get(i).result(WAIT));
                } catch (TaskFailedException e) {
                    failed++;
                    String all = chain(e);
                    assertTrue(all.contains(w.dataStore().spillDirectory().toString()), all);
                    assertTrue(all.contains("No space left on device"), all);
                }
            }
            assertTrue(failed > 0, "the tiny disk filled up");
            assertEquals(8, client.submit(SpillClusterTest::inc, 7).result(WAIT), "the worker lives on");
            w.close();
        } finally {
            run("umount", mnt.toString());
        }
    }

    static String chain(Throwable t) {
        StringBuilder b = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) b.append(c).append(" <- ");
        return b.toString();
    }

    static boolean run(String... cmd) throws InterruptedException {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        }
    }
}
