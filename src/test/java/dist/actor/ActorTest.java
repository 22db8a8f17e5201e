package dist.actor;

import dist.ActorLostException;
import dist.ActorOptions;
import dist.ActorRef;
import dist.Client;
import dist.Future;
import dist.LocalCluster;
import dist.Options;
import dist.TaskFailedException;
import dist.Wait;
import dist.WorkerClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/** Actors on an in-process cluster: what a caller sees, as dask's test_actor.py checks it. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ActorTest {
    static final Duration T = Duration.ofSeconds(30);
    static LocalCluster cluster;
    static Client client;

    /** dask's Counter. */
    public static final class Counter {
        int n;

        public Counter() {
        }

        public Counter(int start) {
            n = start;
        }

        public int increment() {
            return ++n;
        }

        public int add(int x) {
            n += x;
            return n;
        }

        public int n() {
            return n;
        }
    }

    /** dask's List actor: records the order calls arrive in. */
    public static final class Log {
        final List<Integer> seen = new ArrayList<>();

        public int append(int x) {
            seen.add(x);
            return x;
        }
    }

    /** Counts calls running at once. */
    public static final class Gate {
        final AtomicInteger running = new AtomicInteger();
        final AtomicInteger most = new AtomicInteger();

        public int enter(long spinNanos) {
            int now = running.incrementAndGet();
            most.accumulateAndGet(now, Math::max);
            long end = System.nanoTime() + spinNanos;
            while (System.nanoTime() < end) {
                Thread.onSpinWait();
            }
            running.decrementAndGet();
            return most.get();
        }
    }

    @BeforeAll
    static void start() throws Exception {
        cluster = LocalCluster.builder().workers(2).threadsPerWorker(2).start();
        client = cluster.client();
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    // dask: test_actor.py::test_client_actions, test_actor.py::test_sync
    @Test
    void callsRunOnTheActorAndKeepItsState() {
        ActorRef<Counter> counter = client.actor(Counter::new);
        assertEquals(0, counter.callSync(Counter::n));
        Future<Integer> f = counter.call(Counter::increment);
        assertEquals(1, f.result(T));
        assertEquals(f.result(T), f.result(T));
        assertEquals(6, counter.call(c -> c.add(5)).result(T));
        assertEquals(6, counter.callSync(Counter::n));
        assertTrue(counter.id().startsWith("ActorTest.Counter-"), counter.id());
        counter.release();
    }

    @Test
    void aConstructorTakesAnArgument() {
        ActorRef<Counter> counter = client.actor(Counter::new, 10, ActorOptions.defaults());
        assertEquals(11, counter.callSync(Counter::increment));
        counter.release();
    }

    // dask: test_actor.py::test_linear_access
    @Test
    void oneCallersCallsRunInOrderOneAtATime() {
        ActorRef<Log> log = client.actor(Log::new);
        List<Future<Integer>> fs = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            int x = i;
            fs.add(log.call(l -> l.append(x)));
        }
        client.gather(fs);
        List<Integer> seen = log.callSync(l -> List.copyOf(l.seen));
        assertEquals(java.util.stream.IntStream.range(0, 500).boxed().toList(), seen);
        ActorRef<Gate> gate = client.actor(Gate::new);
        List<Future<Integer>> gs = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            gs.add(gate.call(g -> g.enter(200_000)));
        }
        client.gather(gs);
        assertEquals(Integer.valueOf(1), gate.<Integer>callSync(g -> g.most.get()), "a plain actor runs one call at a time");
        log.release();
        gate.release();
    }

    // dask: test_actor.py::test_linear_access
    @Test
    void aFreshClientsFirstCallsKeepTheirOrderWhileItsConnectionOpens() {
        try (Client fresh = Client.connect(cluster.schedulerAddress())) {
            ActorRef<Log> log = fresh.actor(Log::new);
            List<Future<Integer>> fs = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                int x = i;
                fs.add(log.call(l -> l.append(x)));
            }
            fresh.gather(fs);
            assertEquals(java.util.stream.IntStream.range(0, 200).boxed().toList(), log.callSync(l -> List.copyOf(l.seen)));
        }
    }

    // dask: test_actor.py::test_thread_safety
    @Test
    void aConcurrentActorRunsCallsAtOnce() throws Exception {
        ActorRef<Gate> gate = client.actor(Gate::new, ActorOptions.defaults().concurrent(true));
        assertTrue(Wait.until(T, () -> {
            List<Future<Integer>> gs = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                gs.add(gate.call(g -> g.enter(20_000_000)));
            }
            client.gather(gs);
            return gate.callSync(g -> g.most.get()) > 1;
        }), "calls of a concurrent actor overlap");
        gate.release();
    }

    // dask: test_actor.py::test_exceptions_method
    @Test
    void aMethodsExceptionReachesTheCallerAndTheActorCarriesOn() {
        ActorRef<Counter> counter = client.actor(Counter::new);
        Future<Integer> bad = counter.call(c -> 1 / (c.n() - c.n()));
        TaskFailedException e = assertThrows(TaskFailedException.class, () -> bad.result(T));
        assertInstanceOf(ArithmeticException.class, e.getCause());
        assertEquals(1, counter.callSync(Counter::increment));
        counter.release();
    }

    // dask: test_actor.py::test_exceptions_create
    @Test
    void aConstructorsExceptionReachesTheFirstCall() {
        ActorRef<Counter> bad = client.actor(ActorTest::broken);
        TaskFailedException e = assertThrows(TaskFailedException.class, () -> bad.call(Counter::n).result(T));
        assertTrue(String.valueOf(e.getCause()).contains("no counter today"), String.valueOf(e.getCause()));
        bad.release();
    }

    static Counter broken() {
        throw new IllegalStateException("no counter today");
    }

    // dask: test_actor.py::test_worker_actions
    @Test
    void aRefPassedToATaskWorksThere() {
        ActorRef<Counter> counter = client.actor(Counter::new);
        Future<Integer> inTask = client.submit(ActorTest::addFromTask, counter, 7);
        assertEquals(7, inTask.result(T));
        assertEquals(7, counter.callSync(Counter::n));
        counter.release();
    }

    static int addFromTask(ActorRef<Counter> counter, int x) {
        assertNotNull(WorkerClient.get());
        return counter.call(c -> c.add(x)).result();
    }

    // dask: test_actor.py::test_many_computations
    @Test
    void manyCallsInFlightAllAnswer() {
        ActorRef<Counter> counter = client.actor(Counter::new);
        List<Future<Integer>> fs = new ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            fs.add(counter.call(Counter::increment));
        }
        List<Integer> got = client.gather(fs);
        assertEquals(5000, got.get(got.size() - 1));
        counter.release();
    }

    @Test
    void placementFollowsWorkerRestrictions() {
        String w = client.workersInfo().get(1).address();
        ActorRef<Counter> counter = client.with(Options.defaults().workers(w)).actor(Counter::new);
        assertEquals(w, counter.worker());
        assertEquals(w, counter.callSync(c -> dist.worker.WorkerServer.current().address()));
        counter.release();
    }

    // dask: test_actor.py::test_gc, test_actor.py::test_client_actions (release)
    @Test
    void aReleasedActorIsDroppedAndLaterCallsSaySo() throws Exception {
        ActorRef<Counter> counter = client.actor(Counter::new);
        assertEquals(1, counter.callSync(Counter::increment));
        counter.release();
        assertTrue(Wait.until(T, () -> counter.call(Counter::n).exception(T) instanceof ActorLostException));
        ActorLostException e = (ActorLostException) counter.call(Counter::n).exception(T);
        assertTrue(e.getMessage().contains(counter.id()), e.getMessage());
    }

    // dask: test_actor.py::test_future, test_actor.py::test_future_dependencies
    @Test
    void aCallsFutureIsGatheredAndPassedToATask() {
        ActorRef<Counter> counter = client.actor(Counter::new);
        Future<Integer> a = counter.call(c -> c.add(2));
        Future<Integer> b = counter.call(c -> c.add(3));
        assertEquals(List.of(2, 5), client.gather(List.of(a, b)));
        Future<Integer> doubled = client.submit(ActorTest::twice, b);
        assertEquals(10, doubled.result(T));
        Future<Integer> bad = counter.call(c -> 1 / (c.n() - c.n()));
        assertThrows(RuntimeException.class, () -> client.submit(ActorTest::twice, bad).result(T));
        counter.release();
    }

    static int twice(int x) {
        return 2 * x;
    }

    static int actorsHeld(Client c) {
        return c.run(() -> dist.worker.WorkerServer.current().actorCount()).values().stream()
                .mapToInt(Integer::intValue).sum();
    }

    // dask: test_actor.py::test_gc
    @Test
    void theWorkerDropsAnActorWhenItsRefIsCollectedOrItsClientCloses() throws Exception {
        try (Client other = Client.connect(cluster.schedulerAddress())) {
            int before = actorsHeld(client);
            ActorRef<Counter> kept = other.actor(Counter::new);
            assertEquals(1, kept.callSync(Counter::increment));
            makeAndDrop(other);
            assertTrue(Wait.until(T, () -> actorsHeld(client) == before + 2), "both live: " + actorsHeld(client));
            assertTrue(Wait.until(T, () -> {
                System.gc();
                return actorsHeld(client) == before + 1;
            }), "the collected ref's actor is dropped: " + actorsHeld(client));
            other.close();
            assertTrue(Wait.until(T, () -> actorsHeld(client) == before), "a leaving client's actors are dropped");
        }
    }

    private static void makeAndDrop(Client c) {
        ActorRef<Counter> dropped = c.actor(Counter::new);
        assertEquals(1, dropped.callSync(Counter::increment));
    }

    @Test
    void anActorNoWorkerCanHoldIsRefused() {
        var e = assertThrows(dist.DistException.class,
                () -> client.with(Options.defaults().resource("GPU", 1)).actor(Counter::new));
        assertTrue(e.getMessage().contains("no worker can hold"), e.getMessage());
    }
}
