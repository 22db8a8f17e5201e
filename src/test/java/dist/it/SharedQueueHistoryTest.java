package dist.it;

import dist.Client;
import dist.Future;
import dist.LocalCluster;
import dist.SharedQueue;
import dist.Wait;
import dist.WorkerClient;
import dist.WorkerInfo;
import dist.config.Config;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A failure history of a shared queue: producer and consumer tasks in worker processes put and take
 * unique items while the test SIGKILLs workers (their nannies start new ones, and the killed tasks run
 * again as new runs). Every operation is written, with its time and the run holding it, to a file per
 * run the moment it happens (a write reaches the OS before the next operation, so a SIGKILL loses
 * none). The checker then verifies: no item is handed out twice; every taken item was put; every
 * acknowledged item is taken or still queued, except at most one per consumer run that died (the
 * item it was being handed or had not yet written down).
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class SharedQueueHistoryTest {
    static final Duration T = Duration.ofSeconds(60);
    static final String QUEUE = "history";
    static final String STOP = "history-stop";

    /** Appends one line per operation; each write is one system call, so a kill loses no finished write. */
    static final class Log implements AutoCloseable {
        private final FileChannel ch;

        Log(Path dir, String run) throws IOException {
            ch = FileChannel.open(dir.resolve(run + ".log"), StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND);
        }

        void write(String what, String item, String run) throws IOException {
            String line = what + " " + item + " " + System.currentTimeMillis() + " " + run + " "
                    + ProcessHandle.current().pid() + "\n";
            ch.write(ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8)));
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }

    static int produce(String dir, int maxSize) throws Exception {
        String run = "p-" + UUID.randomUUID();
        Client c = WorkerClient.get();
        SharedQueue<String> q = c.queue(QUEUE, maxSize);
        int n = 0;
        try (Log log = new Log(Path.of(dir), run)) {
            log.write("start", "-", run);
            while (!c.event(STOP).isSet()) {
                String item = run + "#" + n++;
                log.write("put-begin", item, run);
                boolean in = q.offer(item, 200, TimeUnit.MILLISECONDS);
                log.write(in ? "put-ok" : "put-full", item, run);
            }
            log.write("end", "-", run);
        }
        return n;
    }

    static int consume(String dir, int maxSize) throws Exception {
        String run = "c-" + UUID.randomUUID();
        Client c = WorkerClient.get();
        SharedQueue<String> q = c.queue(QUEUE, maxSize);
        int n = 0;
        try (Log log = new Log(Path.of(dir), run)) {
            log.write("start", "-", run);
            while (!c.event(STOP).isSet()) {
                String item = q.poll(200, TimeUnit.MILLISECONDS);
                if (item != null) {
                    log.write("take", item, run);
                    n++;
                }
            }
            log.write("end", "-", run);
        }
        return n;
    }

    @Test
    void itemsAreNeitherDuplicatedNorLostWhileWorkersAreKilled() throws Exception {
        history(5, 300, 11);
    }

    @Tag("slow")
    @Test
    void aLongerHistory() throws Exception {
        history(40, 1500, 23);
    }

    /** Take lines written so far. */
    private static int takes(Path dir) {
        int n = 0;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.toList()) {
                for (String line : Files.readAllLines(p)) {
                    n += line.startsWith("take ") ? 1 : 0;
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return n;
    }

    private void history(int kills, int takesPerKill, long seed) throws Exception {
        Path dir = Files.createTempDirectory("dist-queue-history");
        Random random = new Random(seed);
        int maxSize = 20;
        int killed = 0;
        try (Config.Override af = Config.set("distributed.scheduler.allowed-failures", 1000);
             LocalCluster cluster = LocalCluster.builder().workers(3).threadsPerWorker(3).processes(true)
                     .output(null).start();
             Client client = cluster.client()) {
            client.event(STOP).clear();
            List<Future<Integer>> runs = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                runs.add(client.submit(SharedQueueHistoryTest::produce, dir.toString(), maxSize));
                runs.add(client.submit(SharedQueueHistoryTest::consume, dir.toString(), maxSize));
            }
            int seen = takes(dir);
            for (int k = 0; k < kills; k++) {
                int before = seen;
                // the history goes on in the workers; each kill comes after some more takes
                assertTrue(Wait.until(T, () -> takes(dir) >= before + takesPerKill), "takes stopped at " + takes(dir));
                seen = takes(dir);
                assertTrue(cluster.awaitWorkers(3, 60, TimeUnit.SECONDS), "the nannies bring workers back");
                List<WorkerInfo> ws = client.workersInfo();
                WorkerInfo doomed = ws.get(random.nextInt(ws.size()));
                if (ProcessHandle.of(doomed.pid()).map(ProcessHandle::destroyForcibly).orElse(false)) { // SIGKILL
                    killed++;
                }
            }
            int last = seen;
            assertTrue(Wait.until(T, () -> takes(dir) >= last + takesPerKill), "takes stopped at " + takes(dir));
            client.event(STOP).set();
            for (Future<Integer> f : runs) {
                f.result(T); // each ends once it sees the stop (a killed one ran again)
            }
            List<String> left = new ArrayList<>();
            client.<String>queue(QUEUE, maxSize).drainTo(left);
            check(dir, left, killed);
        } finally {
            try (Stream<Path> files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    private static void check(Path dir, List<String> left, int kills) throws IOException {
        Map<String, String> takenBy = new HashMap<>();
        Set<String> begun = new HashSet<>();
        Set<String> acked = new HashSet<>();
        Set<String> started = new HashSet<>();
        Set<String> ended = new HashSet<>();
        int operations = 0;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.toList()) {
                for (String line : Files.readAllLines(p)) {
                    String[] f = line.split(" ");
                    if (f.length < 5) {
                        continue; // a line cut by the kill: its operation had not returned
                    }
                    operations++;
                    switch (f[0]) {
                        case "start" -> started.add(f[3]);
                        case "end" -> ended.add(f[3]);
                        case "put-begin" -> begun.add(f[1]);
                        case "put-ok" -> acked.add(f[1]);
                        case "take" -> {
                            String before = takenBy.put(f[1], f[3]);
                            assertNull(before, "item " + f[1] + " was handed to " + before + " and again to " + f[3]);
                        }
                        default -> { }
                    }
                }
            }
        }
        for (String item : left) {
            assertFalse(takenBy.containsKey(item), "item " + item + " was taken by " + takenBy.get(item) + " yet is still queued");
        }
        for (String item : takenBy.keySet()) {
            assertTrue(begun.contains(item), "item " + item + " was taken but never put");
        }
        Set<String> present = new HashSet<>(takenBy.keySet());
        present.addAll(left);
        List<String> lost = acked.stream().filter(i -> !present.contains(i)).sorted().toList();
        long deadConsumers = started.stream().filter(r -> r.startsWith("c-") && !ended.contains(r)).count();
        System.out.println("queue history: " + operations + " operations (" + acked.size() + " puts acknowledged, "
                + takenBy.size() + " takes, " + left.size() + " left queued), " + kills + " workers SIGKILLed, "
                + deadConsumers + " consumer runs died, " + lost.size() + " items lost with them");
        assertTrue(lost.size() <= deadConsumers, lost.size() + " acknowledged items were lost but only " + deadConsumers
                + " consumers died: " + lost);
        assertTrue(kills > 0, "the history had no kill");
        assertTrue(takenBy.size() > 0, "nothing was taken");
    }
}
