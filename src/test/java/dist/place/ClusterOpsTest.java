package dist.place;

import dist.TaskFailedException;
import dist.DistException;
import dist.Client;
import dist.Future;
import dist.Options;
import dist.TaskStatus;
import dist.comm.CommConfig;
import dist.scheduler.SchedulerConfig;
import dist.scheduler.SchedulerServer;
import dist.worker.WorkerServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Data placement over real sockets: a scheduler and the manual's two workers, alice and bob, two
 * threads each (bob also offers one GPU), in this process.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ClusterOpsTest {
    static SchedulerServer scheduler;
    static WorkerServer alice, bob;
    static Client client;
    static final Duration WAIT = Duration.ofSeconds(20);

    @BeforeAll
    static void start() throws Exception {
        scheduler = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT);
        alice = worker("alice", 2, Map.of());
        bob = worker("bob", 2, Map.of("GPU", 1.0));
        assertTrue(scheduler.awaitWorkers(2, 10, TimeUnit.SECONDS));
        client = Client.connect(scheduler.address());
    }

    static WorkerServer worker(String name, int threads, Map<String, Double> resources) throws Exception {
        return WorkerServer.start(new WorkerServer.Options(scheduler.address(), "127.0.0.1", 0, threads, name, 0,
                8 * 1024, CommConfig.DEFAULT), resources);
    }

    @AfterAll
    static void stop() {
        if (client != null) client.close();
        if (alice != null) alice.close();
        if (bob != null) bob.close();
        if (scheduler != null) scheduler.close();
    }

    static boolean eventually(BooleanSupplier c) throws InterruptedException {
        return dist.Wait.until(WAIT, c);
    }

    /** The values each worker holds among {@code futures}, by worker name. */
    static Map<String, List<Integer>> placement(Client client, List<Future<Integer>> futures) throws Exception {
        Map<String, List<String>> whoHas = client.whoHas(futures);
        Map<String, List<Integer>> out = new HashMap<>();
        out.put("alice", new ArrayList<>());
        out.put("bob", new ArrayList<>());
        for (Future<Integer> f : futures) {
            for (String w : whoHas.get(f.key())) {
                out.get(w.equals(alice.address()) ? "alice" : "bob").add(f.result(WAIT));
            }
        }
        return out;
    }

    /** The manual's example starts from a fresh client: a client's later scatters carry on its round-robin. */
    @Test
    void scatterRoundRobinGroupedByCoresAsInTheManual() throws Exception {
        List<Integer> range = IntStream.range(100, 110).boxed().toList();
        try (Client fresh = Client.connect(scheduler.address())) {
            List<Future<Integer>> fs = fresh.scatter(range);
            assertTrue(fs.stream().allMatch(f -> f.state() == Future.State.SUCCESS), "scatter returns finished futures");
            Map<String, List<Integer>> p = placement(fresh, fs);
            assertEquals(List.of(100, 101, 104, 105, 108, 109), p.get("alice"));
            assertEquals(List.of(102, 103, 106, 107), p.get("bob"));
            assertEquals(range, fresh.gather(fs));
            assertTrue(fs.get(0).key().startsWith("Integer-"), fs.get(0).key());
            // data locality: a task on scattered data runs where the data is
            Future<Integer> y = fresh.submit(ClusterOpsTest::inc, fs.get(2));
            assertEquals(103, y.result(WAIT));
            assertTrue(fresh.whoHas(List.of(y)).get(y.key()).contains(bob.address()));
            fresh.cancel(fs);
        }
    }

    @Test
    void scatterAMapKeepsItsKeysAndBroadcastReachesEveryWorker() throws Exception {
        Map<String, Integer> data = new LinkedHashMap<>();
        data.put("xk", 1);
        data.put("yk", 2);
        Map<String, Future<Integer>> fs = client.scatter(data, List.of(), true);
        assertEquals(Set.of("xk", "yk"), fs.keySet());
        assertEquals("xk", fs.get("xk").key());
        Map<String, List<String>> who = client.whoHas(fs.values());
        assertEquals(Set.of(alice.address(), bob.address()), Set.copyOf(who.get("xk")));
        assertEquals(Set.of(alice.address(), bob.address()), Set.copyOf(who.get("yk")));
        assertEquals(2, client.gather(fs).get("yk"));
        Map<String, List<String>> hw = client.hasWhat(List.of("bob"));
        assertEquals(Set.of(bob.address()), hw.keySet());
        assertTrue(hw.get(bob.address()).containsAll(List.of("xk", "yk")));
        client.cancel(fs.values());
    }

    @Test
    void scatterToNamedWorkersOnly() throws Exception {
        List<Future<String>> fs = client.scatter(List.of("only", "alice"), List.of("alice"), false);
        for (List<String> holders : client.whoHas(fs).values()) {
            assertEquals(List.of(alice.address()), holders);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> client.scatter(List.of(1), List.of("nobody"), false));
        assertTrue(e.getMessage().contains("nobody"));
        client.cancel(fs);
    }

    @Test
    void replicateCopiesToEveryWorkerAndBackToOne() throws Exception {
        List<Future<String>> fs = client.scatter(List.of("replica-me"), List.of("alice"), false);
        client.replicate(fs);
        assertTrue(eventually(() -> holders(fs.get(0)) == 2), "copied to bob");
        client.replicate(fs, 1, List.of(), 2);
        assertTrue(eventually(() -> holders(fs.get(0)) == 1), "back to one copy");
        assertEquals("replica-me", fs.get(0).result(WAIT));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> client.replicate(fs, 2, List.of("nobody"), 2));
        assertTrue(e.getMessage().contains("nobody"), e.getMessage());
        client.cancel(fs);
    }

    static int holders(Future<?> f) {
        try {
            return client.whoHas(List.of(f)).get(f.key()).size();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void rebalanceEvensOutMemory() throws Exception {
        List<int[]> blocks = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            int[] b = new int[2000];
            b[0] = i;
            blocks.add(b);
        }
        List<Future<int[]>> fs = client.scatter(blocks, List.of("alice"), false);
        client.rebalance(fs, null);
        assertTrue(eventually(() -> {
            try {
                Map<String, List<String>> who = client.whoHas(fs);
                long onBob = who.values().stream().filter(h -> h.equals(List.of(bob.address()))).count();
                long onAlice = who.values().stream().filter(h -> h.equals(List.of(alice.address()))).count();
                return onBob == 3 && onAlice == 3;
            } catch (Exception e) {
                return false;
            }
        }), "three blocks each");
        assertEquals(5, client.gather(fs).get(5)[0]);
        Map<String, Long> sizes = client.nbytes(fs, false);
        assertTrue(sizes.values().stream().allMatch(n -> n > 2000), sizes.toString());
        Map<String, Long> summary = client.nbytes(fs, true);
        assertEquals(Set.of("int__"), summary.keySet(), "int[] keys share one prefix");
        client.cancel(fs);
    }

    @Test
    void runCallsAFunctionOnEveryWorker() throws Exception {
        Map<String, String> names = client.run(() -> Thread.currentThread().getName().isEmpty() ? "?" : "ran");
        assertEquals(Set.of(alice.address(), bob.address()), names.keySet());
        Map<String, Integer> one = client.run(ClusterOpsTest::seven, List.of("bob"));
        assertEquals(Map.of(bob.address(), 7), one);
        DistException e = assertThrows(DistException.class, () -> client.run(ClusterOpsTest::boom));
        assertInstanceOf(IllegalStateException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains("boom"));
    }

    static int seven() {
        return 7;
    }

    static int boom() {
        throw new IllegalStateException("boom on purpose");
    }

    static int inc(int x) {
        return x + 1;
    }

    @Test
    void publishedDatasetsOutliveTheirClient() throws Exception {
        String name = "squares-" + System.nanoTime();
        try (Client a = Client.connect(scheduler.address())) {
            List<Future<Integer>> fs = a.map(ClusterOpsTest::square, List.of(1, 2, 3));
            a.publishDataset(name, fs);
            IllegalArgumentException dup = assertThrows(IllegalArgumentException.class, () -> a.publishDataset(name, fs));
            assertTrue(dup.getMessage().contains("already exists"));
        }
        try (Client b = Client.connect(scheduler.address())) {
            assertTrue(b.listDatasets().contains(name));
            List<Future<Integer>> again = b.getDataset(name);
            assertEquals(List.of(1, 4, 9), b.gather(again));
            b.unpublishDataset(name);
            assertFalse(b.listDatasets().contains(name));
            IllegalArgumentException gone = assertThrows(IllegalArgumentException.class, () -> b.getDataset(name));
            assertTrue(gone.getMessage().contains(name));
        }
    }

    static int square(int x) {
        return x * x;
    }

    @Test
    void aTaskForAnAbsentWorkerSaysNoWorkerUntilOneArrives() throws Exception {
        Future<Integer> f = client.with(Options.defaults().workers("carol").pure(false)).submit(ClusterOpsTest::seven);
        assertTrue(eventually(() -> status(f).state().equals("no-worker")));
        assertTrue(status(f).reason().contains("carol"), status(f).reason());
        try (WorkerServer carol = worker("carol", 1, Map.of())) {
            assertEquals(7, f.result(WAIT));
            assertEquals(List.of(carol.address()), client.whoHas(List.of(f)).get(f.key()));
            client.cancel(List.of(f));
        }
    }

    static TaskStatus status(Future<?> f) {
        try {
            return client.taskStatus(f);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aTaskNeedingAGpuRunsOnlyWhereOneIs() throws Exception {
        Options gpu = Options.defaults().resource("GPU", 1).pure(false);
        List<Future<Integer>> fs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            fs.add(client.with(gpu).submit(ClusterOpsTest::seven));
        }
        client.gather(fs);
        for (List<String> h : client.whoHas(fs).values()) {
            assertEquals(List.of(bob.address()), h);
        }
        Future<Integer> tooMuch = client.with(Options.defaults().resource("GPU", 2)).submit(ClusterOpsTest::seven);
        assertTrue(eventually(() -> status(tooMuch).state().equals("no-worker")));
        assertTrue(status(tooMuch).reason().contains("no worker offers"), status(tooMuch).reason());
        client.cancel(fs);
        client.cancel(List.of(tooMuch));
    }

    static final AtomicInteger attempts = new AtomicInteger();

    static int flaky(int x) {
        if (attempts.incrementAndGet() < 3) {
            throw new IllegalStateException("attempt " + attempts.get() + " fails");
        }
        return x;
    }

    @Test
    void retriesRunAFailingTaskAgain() throws Exception {
        attempts.set(0);
        Future<Integer> f = client.with(Options.defaults().retries(2).pure(false)).submit(ClusterOpsTest::flaky, 5);
        assertEquals(5, f.result(WAIT));
        assertEquals(3, attempts.get());
        attempts.set(0);
        Future<Integer> g = client.with(Options.defaults().retries(1).pure(false)).submit(ClusterOpsTest::flaky, 5);
        assertThrows(TaskFailedException.class, () -> g.result(WAIT));
    }

    static final CountDownLatch gate = new CountDownLatch(1);
    static final List<String> order = new CopyOnWriteArrayList<>();

    static String blocker() throws InterruptedException {
        gate.await(30, TimeUnit.SECONDS);
        return "b";
    }

    static String record(String name) {
        order.add(name);
        return name;
    }

    private boolean receivedBy(Future<?> f, String worker) {
        try {
            return client.story(f).stream().anyMatch(e -> e.where().equals(worker)
                    && e.event().equals("received from the scheduler"));
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void higherPriorityRunsFirstAndEarlierSubmissionsBeforeLater() throws Exception {
        try (WorkerServer dave = worker("dave", 1, Map.of())) {
            Options onDave = Options.defaults().workers("dave").pure(false);
            Future<String> block = client.with(onDave).submit(ClusterOpsTest::blocker);
            assertTrue(eventually(() -> status(block).state().equals("processing")));
            List<Future<String>> fs = new ArrayList<>();
            fs.add(client.with(onDave).submit(ClusterOpsTest::record, "low-1"));
            fs.add(client.with(onDave).submit(ClusterOpsTest::record, "low-2"));
            fs.add(client.with(onDave.priority(10)).submit(ClusterOpsTest::record, "high"));
            // sent is not enough: the order is dave's to choose among the tasks it has received
            assertTrue(eventually(() -> fs.stream().allMatch(f -> receivedBy(f, dave.address()))));
            gate.countDown();
            client.gather(fs);
            assertEquals(List.of("high", "low-1", "low-2"), order);
            assertEquals(new TreeSet<>(List.of(dave.address())), new TreeSet<>(client.whoHas(fs).get(fs.get(0).key())));
        }
    }
}
