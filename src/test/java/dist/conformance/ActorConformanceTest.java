package dist.conformance;

import dist.ActorLostException;
import dist.ActorOptions;
import dist.ActorRef;
import dist.Client;
import dist.Delayed;
import dist.DistTimeoutException;
import dist.Event;
import dist.Future;
import dist.Futures;
import dist.LocalCluster;
import dist.Options;
import dist.TaskFailedException;
import dist.Wait;
import dist.WorkerClient;
import dist.worker.WorkerServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Actors, ported from dask's test_actor.py (the cases not already in dist.actor.ActorTest,
 * dist.scheduler.ActorExtensionTest and dist.it.ActorFailureTest). dask's
 * {@code c.submit(Counter, actor=True)} is {@code client.actor(Counter::new)}, {@code counter.increment()}
 * is {@code counter.call(Counter::increment)}, and an {@code async def} method that waits is a method of a
 * {@linkplain ActorOptions#concurrent(boolean) concurrent} actor, whose calls run at once as dask's
 * coroutines interleave on the worker's loop. One in-process cluster of two workers serves every case;
 * the cases about a worker leaving add a third worker of their own.
 *
 * <p>Not applicable:
 * <ul>
 * <li>test_actor.py::test_numpy_roundtrip_getattr → numpy broadcasting turns the counter's int into an
 *     array ({@code 0 + x}); a Java field keeps its type (the array round trip is test_numpy_roundtrip).</li>
 * <li>test_actor.py::test_dir → Python's dir() of the proxy; a Java ref is typed, so which methods an
 *     actor has is checked when the call compiles.</li>
 * <li>test_actor.py::test_Actors_create_dependencies → it reads the scheduler's task graph: in dist an
 *     actor is not a task, so a task taking a ref has no graph edge to read; the lifetime that edge
 *     gives is test_actor.py::test_track_dependencies.</li>
 * <li>test_actor.py::test_one_thread_deadlock_timeout → dask runs a call made on the actor's own worker
 *     inline and hands back a finished future, so a 1 ms timeout cannot expire; dist queues every call
 *     behind the caller's earlier ones (keeping their order), so whether 1 ms suffices is timing.</li>
 * <li>test_actor.py::test_async_deadlock, test_actor.py::test_worker_client_async → {@code async def}
 *     methods awaiting on the worker's event loop; their blocking forms are
 *     test_actor.py::test_one_thread_deadlock and test_actor.py::test_worker_client_separate_thread.</li>
 * </ul>
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ActorConformanceTest {
    static final Duration T = Duration.ofSeconds(30);
    static LocalCluster cluster;
    static Client c;
    static String a;
    static String b;

    /** dask's Counter. */
    public static final class Counter {
        int n;

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

    /** dask's ParameterServer. */
    public static final class ParameterServer {
        final Map<String, Object> data = new HashMap<>();

        public Object put(String key, Object value) {
            data.put(key, value);
            return null;
        }

        public Object get(String key) {
            return data.get(key);
        }
    }

    /** dask's Waiter, its coroutines as calls of a concurrent actor. */
    public static final class Waiter {
        final CountDownLatch event = new CountDownLatch(1);
        final AtomicInteger waiting = new AtomicInteger();

        public boolean set() {
            event.countDown();
            return true;
        }

        public boolean await() throws InterruptedException {
            waiting.incrementAndGet();
            return event.await(60, TimeUnit.SECONDS);
        }
    }

    /** An actor whose method takes another actor. */
    public static final class UsesCounter {
        public int doInc(ActorRef<Counter> ac) {
            return ac.call(Counter::increment).result(T);
        }

        public int doIncThroughClient(ActorRef<Counter> ac) {
            Client worker = WorkerClient.get();
            return worker.gather(List.of(ac.call(Counter::increment))).get(0);
        }
    }

    public static final class MyException extends RuntimeException {
        public MyException() {
            super("broken on purpose");
        }
    }

    /** dask's Broken: a method and a property that throw. */
    public static final class Broken {
        public int method() {
            throw new MyException();
        }

        public int prop() {
            throw new MyException();
        }
    }

    /** An object holding an actor, returned by a task. */
    public record Holder(ActorRef<Counter> actor) implements java.io.Serializable {}

    @BeforeAll
    static void start() throws Exception {
        cluster = LocalCluster.builder().workers(2).threadsPerWorker(2).output(null).start();
        c = cluster.client();
        List<String> ws = c.workersInfo().stream().map(dist.WorkerInfo::address).sorted().toList();
        a = ws.get(0);
        b = ws.get(1);
    }

    @AfterAll
    static void stop() {
        if (c != null) {
            c.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    static Map<String, Integer> actorsPerWorker() {
        return c.run(() -> WorkerServer.current().actorCount());
    }

    static int actorsHeld() {
        return actorsPerWorker().values().stream().mapToInt(Integer::intValue).sum();
    }

    static int dataHeld() {
        return c.hasWhat().values().stream().mapToInt(List::size).sum();
    }

    /** Until the workers hold no actor and no data (collecting dropped refs and futures meanwhile). */
    static boolean allDropped() throws InterruptedException {
        return Wait.until(T, () -> {
            System.gc();
            return actorsHeld() == 0 && dataHeld() == 0;
        });
    }

    /** Until every worker holds as many actors as the others: placement by fewest actors starts level. */
    static void levelActors() throws InterruptedException {
        assertTrue(Wait.until(T, () -> {
            System.gc();
            return actorsPerWorker().values().stream().distinct().count() == 1;
        }), "actors level: " + actorsPerWorker());
    }

    static <T> ActorRef<T> on(String worker, dist.Fn0<T> ctor) {
        return c.with(Options.defaults().workers(worker)).actor(ctor);
    }

    /** dask: test_actor.py::test_Actor — the ref knows its class, and a fresh counter reads 0. */
    @Test
    void aRefKnowsItsClass() {
        ActorRef<Counter> counter = c.actor(Counter::new);
        assertEquals("ActorConformanceTest.Counter", counter.name(), "dask's counter._cls == Counter");
        assertEquals(0, counter.callSync(Counter::n));
        // hasattr(counter, "increment") / not hasattr(counter, "abc"): the compiler checks Counter::increment
        counter.release();
    }

    static int waitThenIncrement(ActorRef<Counter> counter, String go) {
        assertTrue(WorkerClient.get().event(go).waitFor(T));
        return counter.call(Counter::increment).result(T);
    }

    /**
     * dask: test_actor.py::test_track_dependencies — a task that takes the actor keeps it alive while
     * it is pending, even once the caller dropped its own ref: collected meanwhile, the ref would have
     * released the actor and the task's call would fail.
     */
    @Test
    void aPendingTaskKeepsTheActorItTakes() throws Exception {
        String go = "track-" + System.nanoTime();
        WeakReference<ActorRef<Counter>>[] ref = new WeakReference[1];
        Future<Integer> y = submitWithDroppedRef(go, ref);
        for (int i = 0; i < 3 && ref[0].get() != null; i++) {
            System.gc();
        }
        assertNotNull(ref[0].get(), "the pending task holds the ref");
        c.event(go).set();
        assertEquals(1, y.result(T));
    }

    private static Future<Integer> submitWithDroppedRef(String go, WeakReference<ActorRef<Counter>>[] ref) {
        ActorRef<Counter> counter = c.actor(Counter::new);
        assertEquals(0, counter.callSync(Counter::n));
        ref[0] = new WeakReference<>(counter);
        return c.with(Options.defaults().pure(false)).submit(ActorConformanceTest::waitThenIncrement, counter, go);
    }

    /**
     * dask: test_actor.py::test_track_dependencies — through a graph: its pending task keeps the actor
     * though neither the ref nor the graph is held any more.
     */
    @Test
    void aPendingGraphKeepsTheActorItTakes() throws Exception {
        String go = "track-graph-" + System.nanoTime();
        WeakReference<ActorRef<Counter>>[] ref = new WeakReference[1];
        Future<Integer> y = computeWithDroppedRef(go, ref);
        for (int i = 0; i < 3 && ref[0].get() != null; i++) {
            System.gc();
        }
        assertNotNull(ref[0].get(), "the pending graph holds the ref");
        c.event(go).set();
        assertEquals(1, y.result(T));
    }

    private static Future<Integer> computeWithDroppedRef(String go, WeakReference<ActorRef<Counter>>[] ref) {
        ActorRef<Counter> counter = c.actor(Counter::new);
        assertEquals(0, counter.callSync(Counter::n));
        ref[0] = new WeakReference<>(counter);
        return c.compute(Delayed.of(ActorConformanceTest::waitThenIncrement, counter, go));
    }

    /**
     * dask: test_actor.py::test_timeout — a call still waiting is not there within 1 ms (a timeout,
     * and the call goes on); once set, it answers true.
     */
    @Test
    void aCallsResultTimesOutAndStillAnswersLater() {
        ActorRef<Waiter> waiter = c.actor(Waiter::new, ActorOptions.defaults().concurrent(true));
        Future<Boolean> f = waiter.call(Waiter::await);
        assertThrows(DistTimeoutException.class, () -> f.result(Duration.ofMillis(1)));
        assertTrue(waiter.call(Waiter::set).result(T));
        assertTrue(f.result(T));
        waiter.release();
    }

    /**
     * dask: test_actor.py::test_failed_worker_before_future_update — a call made right as the actor's
     * worker closes, before the caller heard of it, fails saying the actor's worker could not be
     * reached: dist's ActorLostException names the actor and the worker (dask: OSError "Unable to
     * contact Actor's worker"). As dask's, the caller's connect timeout is short.
     */
    @Test
    void aCallRightAfterTheWorkerLeftFailsNamingIt() throws Exception {
        try (WorkerServer extra = WorkerServer.start(WorkerServer.Options.of(cluster.schedulerAddress(), 1));
             Client quick = Client.connect(cluster.schedulerAddress(), Duration.ofMillis(200))) {
            ActorRef<Counter> counter = quick.with(Options.defaults().workers(extra.address())).actor(Counter::new);
            assertEquals(1, counter.callSync(Counter::increment));
            extra.close();
            Throwable t = counter.call(Counter::increment).exception(T);
            assertInstanceOf(ActorLostException.class, t, String.valueOf(t));
            assertTrue(t.getMessage().contains(counter.id()) && t.getMessage().contains(extra.address()), t.getMessage());
        }
    }

    /** dask: test_actor.py::test_numpy_roundtrip — an array put on the actor comes back equal (double[] for numpy's). */
    @Test
    void anArrayRoundTripsThroughAnActor() {
        ActorRef<ParameterServer> server = c.actor(ParameterServer::new);
        double[] x = new java.util.Random(1).doubles(1000).toArray();
        server.callSync(s -> s.put("x", x));
        double[] y = (double[]) server.callSync(s -> s.get("x"));
        assertArrayEquals(x, y);
        server.release();
    }

    /** dask: test_actor.py::test_repr — the ref's text names the class, says Actor, holds the id, not the package. */
    @Test
    void aRefsTextNamesItsClassAndId() {
        ActorRef<Counter> counter = c.actor(Counter::new);
        String repr = counter.toString();
        assertTrue(repr.contains("Counter"), repr);
        assertTrue(repr.contains("Actor"), repr);
        assertTrue(repr.contains(counter.id()), repr);
        assertFalse(repr.contains("dist.actor") || repr.contains("dist.Actor"), repr);
        counter.release();
    }

    /**
     * dask: test_actor.py::test_load_balance — actors are not pure (two of one constructor are two
     * actors) and the second goes to the other worker. dask puts the first where its constructor's
     * input lives; a dist actor's constructor takes no futures, so both start from level workers.
     */
    @Test
    void twoActorsOfOneConstructorAreTwoAndSpread() throws Exception {
        levelActors();
        ActorRef<Counter> x = c.actor(Counter::new);
        ActorRef<Counter> y = c.actor(Counter::new);
        assertNotEquals(x.id(), y.id(), "actors are not pure");
        assertNotEquals(x.worker(), y.worker(), "the second is balanced onto the other worker");
        x.release();
        y.release();
    }

    /** dask: test_actor.py::test_load_balance_map — ten actors over two workers: five each (dask: two on each of five). */
    @Test
    void manyActorsSpreadEvenly() throws Exception {
        levelActors();
        Map<String, Integer> before = actorsPerWorker();
        List<ActorRef<Counter>> actors = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            actors.add(c.actor(Counter::new));
        }
        for (ActorRef<Counter> r : actors) {
            assertEquals(0, r.callSync(Counter::n)); // built
        }
        Map<String, Integer> after = actorsPerWorker();
        for (String w : after.keySet()) {
            assertEquals(5, after.get(w) - before.getOrDefault(w, 0), "per worker: " + after);
        }
        actors.forEach(ActorRef::release);
    }

    static int incrementTimes(int n, ActorRef<Counter> counter) {
        for (int i = 0; i < n; i++) {
            counter.call(Counter::increment).result(T);
        }
        return n;
    }

    static int check(ActorRef<Counter> counter, List<Integer> blanks) {
        return counter.call(Counter::n).result(T);
    }

    static Delayed<Integer> computeGraph(ActorRef<Counter> counter) {
        List<Delayed<Integer>> values = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            values.add(Delayed.of(ActorConformanceTest::incrementTimes, i, counter));
        }
        return Delayed.of(ActorConformanceTest::check, counter, Delayed.all(values));
    }

    /**
     * dask: test_actor.py::test_compute — a graph of tasks each taking the actor: the final task reads
     * 0+1+2+3+4, and afterwards the workers hold none of the graph's data. dask builds the actor in the
     * graph ({@code actors=counter}); a dist actor is placed by the client and its ref goes in the graph.
     */
    @Test
    void aGraphOfTasksSharesAnActor() throws Exception {
        assertTrue(allDropped(), "start clean");
        ActorRef<Counter> counter = c.actor(Counter::new);
        Future<Integer> result = c.compute(computeGraph(counter));
        assertEquals(10, result.result(T));
        result.release();
        assertTrue(Wait.until(T, () -> dataHeld() == 0), "no data left: " + c.hasWhat());
        counter.release();
    }

    /**
     * dask: test_actor.py::test_compute_sync — as test_compute computed in place
     * ({@code Delayed.compute}); once the ref is dropped the workers hold neither data nor the actor.
     */
    @Test
    void aGraphComputedInPlaceLeavesNothingBehind() throws Exception {
        assertTrue(allDropped(), "start clean");
        ActorRef<Counter> counter = c.actor(Counter::new);
        assertEquals(10, computeGraph(counter).compute(c, T));
        counter.release();
        assertTrue(Wait.until(T, () -> actorsHeld() == 0 && dataHeld() == 0),
                "left: " + actorsPerWorker() + " " + c.hasWhat());
    }

    /**
     * dask: test_actor.py::test_waiter — five waits on a concurrent actor, more than the worker has
     * threads, are all under way and none is done until set; then all answer.
     */
    @Test
    void waitsOnAnActorDoNotHoldItsOtherCalls() throws Exception {
        ActorRef<Waiter> waiter = c.actor(Waiter::new, ActorOptions.defaults().concurrent(true));
        List<Future<Boolean>> fs = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            fs.add(waiter.call(Waiter::await));
        }
        assertTrue(Wait.until(T, () -> waiter.callSync(w -> w.waiting.get()) == 5), "all five wait");
        assertTrue(fs.stream().noneMatch(Future::isDone));
        waiter.callSync(Waiter::set);
        assertEquals(List.of(true, true, true, true, true), c.gather(fs));
        waiter.release();
    }

    static Object touch(ActorRef<Counter> counter) {
        return null;
    }

    /**
     * dask: test_actor.py::test_worker_actor_handle_is_weakref — the copy of the ref a task on another
     * worker got does not keep the actor: once the caller's ref is collected, the actor's worker drops
     * it and no data is left.
     */
    @Test
    void aTasksCopyOfTheRefDoesNotKeepTheActor() throws Exception {
        assertTrue(allDropped(), "start clean");
        touchFromOtherWorker();
        assertTrue(allDropped(), "left: " + actorsPerWorker() + " " + c.hasWhat());
    }

    private static void touchFromOtherWorker() {
        ActorRef<Counter> counter = on(a, Counter::new);
        c.with(Options.defaults().workers(b)).submit(ActorConformanceTest::touch, counter).result(T);
        assertEquals(1, actorsPerWorker().get(a));
    }

    /**
     * dask: test_actor.py::test_worker_actor_handle_is_weakref_sync — as the weakref case with the ref
     * let go explicitly ({@code release()}) while the task's result is still held.
     */
    @Test
    void aReleasedRefDropsTheActorThoughATaskTookIt() throws Exception {
        assertTrue(allDropped(), "start clean");
        ActorRef<Counter> counter = on(a, Counter::new);
        Future<Object> t = c.with(Options.defaults().workers(b)).submit(ActorConformanceTest::touch, counter);
        assertNull(t.result(T));
        counter.release();
        assertTrue(Wait.until(T, () -> actorsHeld() == 0), "left: " + actorsPerWorker());
        t.release();
        assertTrue(Wait.until(T, () -> dataHeld() == 0), "left: " + c.hasWhat());
    }

    static String touched(ActorRef<Counter> counter) {
        return "touched";
    }

    static String passThrough(String x, ActorRef<Counter> counter) {
        return x;
    }

    /**
     * dask: test_actor.py::test_worker_actor_handle_is_weakref_from_compute_sync — a graph whose tasks
     * take the actor (the actor on one worker, the graph on the other: dist restricts a whole compute,
     * not each node as dask.annotate does) leaves neither actor nor data once computed and dropped.
     */
    @Test
    void aGraphTakingTheActorLeavesNothingBehind() throws Exception {
        assertTrue(allDropped(), "start clean");
        ActorRef<Counter> counter = on(a, Counter::new);
        Delayed<String> intermediate = Delayed.of(ActorConformanceTest::touched, counter);
        Delayed<String> fin = Delayed.of(ActorConformanceTest::passThrough, intermediate, counter);
        assertEquals("touched", c.with(Options.defaults().workers(b)).compute(fin).result(T));
        counter.release();
        assertTrue(allDropped(), "left: " + actorsPerWorker() + " " + c.hasWhat());
    }

    /** dask: test_actor.py::test_one_thread_deadlock — an actor's method calls another actor on the same worker and gets its answer. */
    @Test
    void anActorCallsAnotherOnItsWorker() {
        ActorRef<Counter> ac = on(a, Counter::new);
        ActorRef<UsesCounter> ac2 = on(a, UsesCounter::new);
        assertEquals(1, ac2.<Integer>callSync(u -> u.doInc(ac)));
        ac.release();
        ac2.release();
    }

    /**
     * dask: test_actor.py::test_one_thread_deadlock_sync_client — as test_one_thread_deadlock, the
     * method waiting through its worker's client (dask's {@code get_client().sync}: here
     * {@code WorkerClient.get().gather}).
     */
    @Test
    void anActorWaitsOnAnotherThroughItsWorkersClient() {
        ActorRef<Counter> ac = on(a, Counter::new);
        ActorRef<UsesCounter> ac2 = on(a, UsesCounter::new);
        assertEquals(1, ac2.<Integer>callSync(u -> u.doIncThroughClient(ac)));
        ac.release();
        ac2.release();
    }

    /** dask: test_actor.py::test_exception — a method's and a property's own exception reach the caller as theirs. */
    @Test
    void aMethodsOwnExceptionReachesTheCaller() {
        ActorRef<Broken> ac = c.actor(Broken::new);
        Future<Integer> acfut = ac.call(Broken::method);
        TaskFailedException e = assertThrows(TaskFailedException.class, () -> acfut.result(T));
        assertInstanceOf(MyException.class, e.getCause());
        TaskFailedException p = assertThrows(TaskFailedException.class, () -> ac.callSync(Broken::prop));
        assertInstanceOf(MyException.class, p.getCause());
        ac.release();
    }

    /** dask: test_actor.py::test_exception_async — as test_exception, awaited without blocking (toCompletableFuture). */
    @Test
    void aMethodsOwnExceptionCompletesTheStage() {
        ActorRef<Broken> ac = c.actor(Broken::new);
        CompletableFuture<Integer> m = ac.call(Broken::method).toCompletableFuture();
        CompletableFuture<Integer> p = ac.call(Broken::prop).toCompletableFuture();
        for (CompletableFuture<Integer> f : List.of(m, p)) {
            Throwable t = assertThrows(Exception.class, () -> f.get(30, TimeUnit.SECONDS));
            assertTrue(chainHas(t, MyException.class), String.valueOf(t));
        }
        ac.release();
    }

    static boolean chainHas(Throwable t, Class<?> type) {
        for (Throwable x = t; x != null; x = x.getCause()) {
            if (type.isInstance(x)) {
                return true;
            }
        }
        return false;
    }

    /** dask: test_actor.py::test_as_completed — ten calls' futures through asCompleted: all done, the largest 10. */
    @Test
    void callsFuturesGoThroughAsCompleted() {
        ActorRef<Counter> ac = c.actor(Counter::new);
        List<Future<Integer>> futures = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            futures.add(ac.call(Counter::increment));
        }
        int max = 0;
        for (Future<Integer> f : Futures.asCompleted(futures)) {
            max = Math.max(max, f.result(T));
        }
        assertTrue(futures.stream().allMatch(Future::isDone));
        assertEquals(10, max);
        ac.release();
    }

    /** dask: test_actor.py::test_actor_future_awaitable — ten calls gathered as completion stages: all done, the largest 10. */
    @Test
    void callsFuturesAreCompletionStages() throws Exception {
        ActorRef<Counter> ac = c.actor(Counter::new);
        List<Future<Integer>> futures = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            futures.add(ac.call(Counter::increment));
        }
        List<CompletableFuture<Integer>> stages = futures.stream().map(Future::toCompletableFuture).toList();
        CompletableFuture.allOf(stages.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        assertTrue(futures.stream().allMatch(Future::isDone));
        assertEquals(10, stages.stream().mapToInt(CompletableFuture::join).max().orElseThrow());
        ac.release();
    }

    /** dask: test_actor.py::test_actor_future_awaitable_deadlock — two waiters on one call's future both get its value. */
    @Test
    void twoWaitersOnOneCallBothGetIt() throws Exception {
        ActorRef<Counter> ac = c.actor(Counter::new);
        Future<Integer> f = ac.call(Counter::increment);
        CompletableFuture<Integer> one = CompletableFuture.supplyAsync(() -> f.result(T));
        CompletableFuture<Integer> two = f.toCompletableFuture();
        assertEquals(List.of(1, 1), List.of(one.get(30, TimeUnit.SECONDS), two.get(30, TimeUnit.SECONDS)));
        ac.release();
    }

    static Holder makeHolder() {
        return new Holder(WorkerClient.get().actor(Counter::new));
    }

    /**
     * dask: test_actor.py::test_serialize_with_pickle — an object made in a task holding an actor the
     * task made through its worker's client comes back to the caller with an actor ref in it.
     */
    @Test
    void anObjectHoldingAnActorComesBackFromATask() {
        Holder foo = c.with(Options.defaults().workers(a)).submit(ActorConformanceTest::makeHolder).result(T);
        assertInstanceOf(ActorRef.class, foo.actor());
        assertEquals("ActorConformanceTest.Counter", foo.actor().name());
    }

    static int inc(int x) {
        return x + 1;
    }

    static int dbl(int x) {
        return 2 * x;
    }

    /** An actor submitting tasks through its worker's client. */
    public static final class Submits {
        public int demo(int x) {
            Client w = WorkerClient.get();
            Future<Integer> i = w.submit(ActorConformanceTest::inc, x);
            Future<Integer> d = w.submit(ActorConformanceTest::dbl, i);
            return i.result(T) + d.result(T);
        }
    }

    /** dask: test_actor.py::test_worker_client_separate_thread — an actor's method submits tasks through its worker's client. */
    @Test
    void anActorsMethodSubmitsTasks() {
        ActorRef<Submits> actor = c.actor(Submits::new);
        assertEquals(10 + 1 + (10 + 1) * 2, actor.<Integer>callSync(s -> s.demo(10)));
        actor.release();
    }

    /** dask's Sleeper: a method that keeps its thread busy. */
    public static final class Sleeper {
        public double sleep(int millis) {
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
            double x = 1;
            while (System.nanoTime() < end) {
                x = Math.sqrt(x + end % 7);
            }
            return x;
        }
    }

    /**
     * dask: test_actor.py::test_actors_in_profile — the workers' profiler samples an actor's calls: its
     * method shows in the profile. (dask samples every 1 ms; at the default 10 ms, five calls of 200 ms
     * give it ample chances.)
     */
    @Test
    void anActorsCallsShowInTheProfile() throws Exception {
        ActorRef<Sleeper> sleeper = c.actor(Sleeper::new);
        boolean seen = false;
        for (int i = 0; i < 5 && !seen; i++) {
            sleeper.callSync(s -> s.sleep(200));
            seen = Wait.until(Duration.ofSeconds(2), () -> c.profile(null).find("Sleeper.sleep").isPresent());
        }
        assertTrue(seen, c.profile(null).format());
        sleeper.release();
    }

    /** dask: test_actor.py::test_get_worker — an actor's method learns the address of the worker it runs on. */
    @Test
    void anActorsMethodKnowsItsWorker() {
        ActorRef<Counter> counter = on(a, Counter::new);
        assertEquals(a, counter.callSync(x -> WorkerClient.workerAddress()));
        counter.release();
    }

    static Object holdThenUse(ActorRef<Counter> counter, String enter, String wait) {
        Client w = WorkerClient.get();
        w.event(enter).set();
        assertTrue(w.event(wait).waitFor(T));
        return counter.call(Counter::increment).result(T);
    }

    /**
     * As dask's test_actor_worker_host_leaves_gracefully and test_actor_worker_host_dies: a task on
     * another worker holds the actor while the actor's worker goes; then it fails with "lost". dask
     * fails the task because the actor is its dependency; a dist actor is not a task, so the task
     * fails when it uses the lost actor.
     */
    private static void hostGoes(boolean gracefully) throws Exception {
        String enter = "enter-" + System.nanoTime();
        String wait = "wait-" + System.nanoTime();
        Future<Object> fut;
        String lost;
        try (WorkerServer extra = WorkerServer.start(WorkerServer.Options.of(cluster.schedulerAddress(), 1))) {
            lost = extra.address();
            ActorRef<Counter> counter = c.with(Options.defaults().workers(lost).allowOtherWorkers(true)).actor(Counter::new);
            assertEquals(lost, counter.worker());
            fut = c.with(Options.defaults().workers(a).allowOtherWorkers(true).pure(false))
                    .submit(ActorConformanceTest::holdThenUse, counter, enter, wait);
            assertTrue(c.event(enter).waitFor(T));
            if (gracefully) {
                extra.close();
            } else {
                extra.stop();
            }
            // as dask's, which waits for the worker to finish before letting the task go on
            assertTrue(Wait.until(T, () -> c.workersInfo().stream().noneMatch(w -> w.address().equals(lost))));
        }
        c.event(wait).set();
        TaskFailedException e = assertThrows(TaskFailedException.class, () -> fut.result(T));
        String text = chainText(e);
        assertTrue(text.contains("lost with worker " + lost), text);
    }

    static String chainText(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (Throwable x = t; x != null; x = x.getCause()) {
            sb.append(x.getClass().getSimpleName()).append(": ").append(x.getMessage()).append(" / ");
        }
        return sb.toString();
    }

    /** dask: test_actor.py::test_actor_worker_host_leaves_gracefully — the actor's worker closes on purpose. */
    @Test
    void aTaskUsingAnActorWhoseWorkerLeftFails() throws Exception {
        hostGoes(true);
    }

    /** dask: test_actor.py::test_actor_worker_host_dies — the actor's worker stops as if it died. */
    @Test
    void aTaskUsingAnActorWhoseWorkerDiedFails() throws Exception {
        hostGoes(false);
    }
}
