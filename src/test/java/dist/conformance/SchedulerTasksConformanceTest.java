package dist.conformance;

import dist.Client;
import dist.DistTimeoutException;
import dist.Future;
import dist.Futures;
import dist.Graph;
import dist.LocalCluster;
import dist.LocalClusters;
import dist.Options;
import dist.StoryEvent;
import dist.TaskFailedException;
import dist.Wait;
import dist.api.ClusterFixture;
import dist.protocol.Message;
import dist.scheduler.ClusterView;
import dist.scheduler.SchedulerView;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What a user sees of the scheduler's task handling, ported from dask's test_scheduler.py: task
 * states, placement and restrictions, results kept and not recomputed, retries, task groups, the
 * story. One cluster of three single-thread workers (threads of this JVM, so a task can wait on a
 * latch the test opens) for the class; every test uses its own keys. Where dask reads
 * {@code s.tasks} or {@code s.task_prefixes}, these read the same through {@code taskStatus},
 * {@code whoHas}, {@code hasWhat}, {@code story} and the scheduler's read-only view.
 * The header of {@link SchedulerWorkersConformanceTest} lists the cases of test_scheduler.py
 * that are not ported, and why.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SchedulerTasksConformanceTest {
    static final Duration T = Duration.ofSeconds(30);
    static LocalCluster cluster;
    static Client client;
    static List<String> workers;

    /** Latches tasks wait on; thread workers share this JVM, so the test opens them. */
    static final ConcurrentHashMap<String, CountDownLatch> GATES = new ConcurrentHashMap<>();
    /** Calls per counter name, for "computed only once". */
    static final ConcurrentHashMap<String, AtomicInteger> CALLS = new ConcurrentHashMap<>();

    @BeforeAll
    static void start() throws Exception {
        cluster = LocalCluster.builder().workers(3).threadsPerWorker(1).output(null).start();
        client = cluster.client();
        workers = List.copyOf(client.ncores().keySet());
    }

    @AfterAll
    static void stop() {
        GATES.values().forEach(CountDownLatch::countDown);
        if (cluster != null) {
            cluster.close();
        }
    }

    static CountDownLatch gate(String name) {
        return GATES.computeIfAbsent(name, k -> new CountDownLatch(1));
    }

    static int inc(int x) {
        return x + 1;
    }

    static int dec(int x) {
        return x - 1;
    }

    static int add(int x, int y) {
        return x + y;
    }

    static double div(int x, int y) {
        if (y == 0) {
            throw new ArithmeticException("division by zero");
        }
        return (double) x / y;
    }

    /** Waits until the gate named {@code g} opens, then returns {@code x}. */
    static int blockOn(String g, int x) throws InterruptedException {
        assertTrue(gate(g).await(30, TimeUnit.SECONDS), "gate " + g + " opened");
        return x;
    }

    /** dask's inc_only_once: fails when called a second time for the same counter. */
    static int incOnce(String counter, int x) {
        if (CALLS.computeIfAbsent(counter, k -> new AtomicInteger()).incrementAndGet() > 1) {
            throw new IllegalStateException("Must only be called once");
        }
        return x + 1;
    }

    static double divOnce(String counter, int x, int y) {
        if (CALLS.computeIfAbsent(counter, k -> new AtomicInteger()).incrementAndGet() > 1) {
            throw new IllegalStateException("Must only be called once");
        }
        return div(x, y);
    }

    static int calls(String counter) {
        AtomicInteger n = CALLS.get(counter);
        return n == null ? 0 : n.get();
    }

    static String state(String key) {
        return ClusterFixture.stateOf(cluster, key);
    }

    static <T> T query(Function<SchedulerView, T> q) {
        try {
            return LocalClusters.scheduler(cluster).query(s -> q.apply(s.view()), 10, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError(e);
        }
    }

    static ClusterView.Group group(String prefix) {
        return query(v -> v.cluster(0, 0)).groups().stream().filter(g -> g.prefix().equals(prefix)).findFirst()
                .orElse(null);
    }

    static List<String> holders(Future<?> f) {
        try {
            return client.whoHas(List.of(f)).getOrDefault(f.key(), List.of());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static boolean eventually(java.util.function.BooleanSupplier c) throws InterruptedException {
        return Wait.until(T, c);
    }

    /** dask: test_scheduler.py::test_administration */
    @Test
    void administration() throws Exception {
        String address = cluster.schedulerAddress();
        assertTrue(address.matches("127\\.0\\.0\\.1:\\d+"), address);
        assertTrue(cluster.toString().contains(address), cluster.toString());
        assertTrue(cluster.toString().contains(String.valueOf(client.ncores().size())), cluster.toString());
    }

    /** dask: test_scheduler.py::test_respect_data_in_memory — y stays in memory while z, which needs it, is added. */
    @Test
    void respectDataInMemory() throws Exception {
        Graph g = new Graph()
                .task("rdm_x", SchedulerTasksConformanceTest::inc, 1)
                .task("rdm_y", SchedulerTasksConformanceTest::incOnce, "rdm_y", Graph.key("rdm_x"));
        Map<String, Future<Object>> f = client.persist(g, List.of("rdm_y"));
        Futures.wait(f.values(), T);
        assertEquals(1, holders(f.get("rdm_y")).size());

        Graph g2 = new Graph()
                .task("rdm_x", SchedulerTasksConformanceTest::inc, 1)
                .task("rdm_y", SchedulerTasksConformanceTest::incOnce, "rdm_y", Graph.key("rdm_x"))
                .task("rdm_z", SchedulerTasksConformanceTest::add, Graph.key("rdm_x"), Graph.key("rdm_y"));
        Map<String, Future<Object>> f2 = client.persist(g2, List.of("rdm_z"));
        assertTrue(eventually(() -> {
            assertFalse(holders(f.get("rdm_y")).isEmpty(), "y stays in memory");
            return f2.get("rdm_z").isDone();
        }));
        assertEquals(5, f2.get("rdm_z").result(T));
        assertEquals(1, calls("rdm_y"), "y was not computed again");
    }

    /** dask: test_scheduler.py::test_recompute_released_results */
    @Test
    void recomputeReleasedResults() throws Exception {
        Graph g = new Graph().task("rrr_x", SchedulerTasksConformanceTest::inc, 1)
                .task("rrr_y", SchedulerTasksConformanceTest::inc, Graph.key("rrr_x"));
        Map<String, Future<Object>> yy = client.persist(g, List.of("rrr_y"));
        Futures.wait(yy.values(), T);
        // let x go away
        assertTrue(eventually(() -> !"memory".equals(state("rrr_x"))), "x is released once y holds its value");
        Graph g2 = new Graph().task("rrr_x", SchedulerTasksConformanceTest::inc, 1)
                .task("rrr_z", SchedulerTasksConformanceTest::dec, Graph.key("rrr_x"));
        assertEquals(1, (int) client.<Integer>compute(g2, "rrr_z").result(T));
    }

    /** dask: test_scheduler.py::test_decide_worker_with_many_independent_leaves */
    @Test
    void decideWorkerWithManyIndependentLeaves() throws Exception {
        List<Future<Integer>> onA = client.scatter(IntStream.range(0, 50).map(i -> 7000 + 2 * i).boxed().toList(),
                List.of(workers.get(0)), false);
        List<Future<Integer>> onB = client.scatter(IntStream.range(0, 50).map(i -> 7001 + 2 * i).boxed().toList(),
                List.of(workers.get(1)), false);
        List<Future<Integer>> ys = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            ys.add(client.submit(SchedulerTasksConformanceTest::inc, onA.get(i)));
            ys.add(client.submit(SchedulerTasksConformanceTest::inc, onB.get(i)));
        }
        Futures.wait(ys, T);
        Map<String, List<String>> who = client.whoHas(ys);
        int hits = 0;
        for (int i = 0; i < ys.size(); i++) {
            if (who.get(ys.get(i).key()).contains(workers.get(i % 2))) {
                hits++;
            }
        }
        assertTrue(hits > 80, hits + " of 100 ran where their input was");
    }

    /** dask: test_scheduler.py::test_move_data_over_break_restrictions */
    @Test
    void moveDataOverBreakRestrictions() throws Exception {
        Future<Integer> x = client.scatter(List.of(8101), List.of(workers.get(1)), false).get(0);
        Future<Integer> y = client.with(Options.defaults().workers(workers.get(0), workers.get(1)))
                .submit(SchedulerTasksConformanceTest::inc, x);
        assertEquals(8102, y.result(T));
        List<String> h = holders(y);
        assertTrue(h.contains(workers.get(0)) || h.contains(workers.get(1)), h.toString());
    }

    /** dask: test_scheduler.py::test_no_valid_workers */
    @Test
    void noValidWorkers() throws Exception {
        Future<Integer> x = client.with(Options.defaults().workers("127.0.0.5:9999"))
                .submit(SchedulerTasksConformanceTest::inc, 8301);
        assertTrue(eventually(() -> "no-worker".equals(state(x.key()))), state(x.key()));
        assertEquals("no-worker", client.taskStatus(x).state());
        assertThrows(DistTimeoutException.class, () -> x.result(Duration.ofMillis(50)));
        x.release();
    }

    /** dask: test_scheduler.py::test_no_valid_workers_loose_restrictions */
    @Test
    void noValidWorkersLooseRestrictions() throws Exception {
        Future<Integer> x = client.with(Options.defaults().workers("127.0.0.5:9999").allowOtherWorkers(true))
                .submit(SchedulerTasksConformanceTest::inc, 1);
        assertEquals(2, x.result(T));
    }

    /** dask: test_scheduler.py::test_delete_data — released scattered keys leave the workers. */
    @Test
    void deleteData() throws Exception {
        Map<String, Integer> data = new LinkedHashMap<>();
        data.put("dd_x", 1);
        data.put("dd_y", 2);
        data.put("dd_z", 3);
        Map<String, Future<Integer>> d = client.scatter(data);
        Set<String> held = heldKeys();
        assertTrue(held.containsAll(data.keySet()), held.toString());
        assertEquals(data, client.gather(d));
        d.get("dd_x").release();
        d.get("dd_y").release();
        assertTrue(eventually(() -> {
            Set<String> h = heldKeys();
            return !h.contains("dd_x") && !h.contains("dd_y") && h.contains("dd_z");
        }), heldKeys().toString());
    }

    static Set<String> heldKeys() {
        try {
            Set<String> s = new HashSet<>();
            client.hasWhat().values().forEach(s::addAll);
            return s;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** dask: test_scheduler.py::test_delete — a cancelled result leaves the worker and the scheduler. */
    @Test
    void delete() throws Exception {
        Future<Integer> x = client.with(Options.defaults().key("del_x")).submit(SchedulerTasksConformanceTest::inc, 1);
        assertEquals(2, x.result(T));
        assertEquals("memory", state("del_x"));
        assertFalse(holders(x).isEmpty());
        client.cancel(List.of(x));
        assertTrue(eventually(() -> !heldKeys().contains("del_x")), "the worker drops x");
        assertTrue(eventually(() -> "null".equals(state("del_x"))), "the scheduler forgets x: " + state("del_x"));
    }

    /** dask: test_scheduler.py::test_update_graph_culls — a graph's tasks no wanted key needs never reach the scheduler. */
    @Test
    void updateGraphCulls() throws Exception {
        Graph g = new Graph().task("ugc_x", SchedulerTasksConformanceTest::inc, 1)
                .task("ugc_y", SchedulerTasksConformanceTest::inc, Graph.key("ugc_x"))
                .task("ugc_z", SchedulerTasksConformanceTest::inc, 2);
        Future<Integer> y = client.compute(g, "ugc_y");
        assertEquals(3, y.result(T));
        assertEquals("null", state("ugc_z"));
        assertTrue(client.story("ugc_z").isEmpty());
    }

    /** dask: test_scheduler.py::test_story */
    @Test
    void story() throws Exception {
        Graph g = new Graph().task("st_x", SchedulerTasksConformanceTest::inc, 1)
                .task("st_y", SchedulerTasksConformanceTest::inc, Graph.key("st_x"));
        Future<Object> y = client.persist(g, List.of("st_y")).get("st_y");
        Futures.wait(List.of(y), T);
        List<StoryEvent> sx = client.story("st_x");
        List<StoryEvent> sy = client.story("st_y");
        assertFalse(sx.isEmpty());
        assertTrue(sx.stream().allMatch(e -> e.key().equals("st_x")), sx.toString());
        assertTrue(sx.stream().anyMatch(e -> e.where().equals("scheduler") && e.event().endsWith("-> processing")),
                sx.toString());
        assertTrue(sx.stream().anyMatch(e -> e.where().equals("scheduler") && e.event().endsWith("-> memory")),
                sx.toString());
        assertTrue(sx.stream().anyMatch(e -> !e.where().equals("scheduler")), "the worker's steps too: " + sx);
        assertTrue(sy.stream().allMatch(e -> e.key().equals("st_y")));
        // the same events either way; a worker turns its steps' monotonic times into wall-clock times as it
        // answers, so a worker's step and the scheduler's microseconds apart may swap between two answers
        List<StoryEvent> byFuture = client.story(y);
        assertEquals(sy.stream().map(StoryEvent::event).sorted().toList(),
                byFuture.stream().map(StoryEvent::event).sorted().toList(), "by key or by future, the same story");
        assertEquals(sy.stream().filter(e -> e.where().equals("scheduler")).map(StoryEvent::event).toList(),
                byFuture.stream().filter(e -> e.where().equals("scheduler")).map(StoryEvent::event).toList(),
                "the scheduler's steps in the same order");
    }

    /** dask: test_scheduler.py::test_get_task_status */
    @Test
    void getTaskStatus() throws Exception {
        Future<Integer> f = client.with(Options.defaults().key("gts_x")).submit(SchedulerTasksConformanceTest::inc, 1);
        f.result(T);
        assertEquals("memory", client.taskStatus(f).state());
        assertNull(client.taskStatus(f).reason());
    }

    static final ConcurrentHashMap<String, AtomicInteger> VARYING = new ConcurrentHashMap<>();

    /** dask's varying([ZeroDivisionError("one"), ZeroDivisionError("two"), 42]), one sequence per id. */
    static int varying(String id) {
        int call = VARYING.computeIfAbsent(id, k -> new AtomicInteger()).getAndIncrement();
        if (call == 0) {
            throw new ArithmeticException("one");
        }
        if (call == 1) {
            throw new ArithmeticException("two");
        }
        return 42;
    }

    /** dask: test_scheduler.py::test_retries */
    @Test
    void retries() throws Exception {
        Client c = client;
        assertEquals(42, c.with(Options.defaults().retries(3)).submit(SchedulerTasksConformanceTest::varying, "r3").result(T));
        assertEquals(42, c.with(Options.defaults().retries(2).pure(false))
                .submit(SchedulerTasksConformanceTest::varying, "r2").result(T));
        TaskFailedException e1 = assertThrows(TaskFailedException.class, () -> c.with(Options.defaults().retries(1)
                .pure(false)).submit(SchedulerTasksConformanceTest::varying, "r1").result(T));
        assertInstanceOf(ArithmeticException.class, e1.getCause());
        assertTrue(e1.getCause().getMessage().contains("two"), e1.getCause().getMessage());
        TaskFailedException e0 = assertThrows(TaskFailedException.class, () -> c.with(Options.defaults().retries(0)
                .pure(false)).submit(SchedulerTasksConformanceTest::varying, "r0").result(T));
        assertInstanceOf(ArithmeticException.class, e0.getCause());
        assertTrue(e0.getCause().getMessage().contains("one"), e0.getCause().getMessage());
    }

    /** dask: test_scheduler.py::test_dont_recompute_if_persisted */
    @Test
    void dontRecomputeIfPersisted() throws Exception {
        Graph g = new Graph().task("drp1_x", SchedulerTasksConformanceTest::incOnce, "drp1_x", 1)
                .task("drp1_y", SchedulerTasksConformanceTest::incOnce, "drp1_y", Graph.key("drp1_x"));
        Future<Object> yy = client.persist(g, List.of("drp1_y")).get("drp1_y");
        assertEquals(3, yy.result(T));
        Future<Object> yyy = client.persist(g, List.of("drp1_y")).get("drp1_y");
        assertEquals(3, yyy.result(T));
        assertEquals(1, calls("drp1_x"));
        assertEquals(1, calls("drp1_y"));
    }

    /** dask: test_scheduler.py::test_dont_recompute_if_persisted_2 */
    @Test
    void dontRecomputeIfPersisted2() throws Exception {
        Graph g = new Graph().task("drp2_x", SchedulerTasksConformanceTest::incOnce, "drp2_x", 1)
                .task("drp2_y", SchedulerTasksConformanceTest::incOnce, "drp2_y", Graph.key("drp2_x"))
                .task("drp2_z", SchedulerTasksConformanceTest::incOnce, "drp2_z", Graph.key("drp2_y"));
        assertEquals(3, client.persist(g, List.of("drp2_y")).get("drp2_y").result(T));
        assertEquals(4, client.persist(g, List.of("drp2_z")).get("drp2_z").result(T));
        assertEquals(List.of(1, 1, 1), List.of(calls("drp2_x"), calls("drp2_y"), calls("drp2_z")));
    }

    /** dask: test_scheduler.py::test_dont_recompute_if_persisted_3 */
    @Test
    void dontRecomputeIfPersisted3() throws Exception {
        Graph g = new Graph().task("drp3_x", SchedulerTasksConformanceTest::incOnce, "drp3_x", 1)
                .task("drp3_y", SchedulerTasksConformanceTest::incOnce, "drp3_y", 2)
                .task("drp3_z", SchedulerTasksConformanceTest::incOnce, "drp3_z", Graph.key("drp3_y"))
                .task("drp3_w", SchedulerTasksConformanceTest::add, Graph.key("drp3_x"), Graph.key("drp3_z"));
        assertEquals(6, client.persist(g, List.of("drp3_w")).get("drp3_w").result(T));
        assertEquals(6, client.persist(g, List.of("drp3_w")).get("drp3_w").result(T));
        assertEquals(List.of(1, 1, 1), List.of(calls("drp3_x"), calls("drp3_y"), calls("drp3_z")));
    }

    /** dask: test_scheduler.py::test_dont_recompute_if_persisted_4 */
    @Test
    void dontRecomputeIfPersisted4() throws Exception {
        Graph g = new Graph().task("drp4_x", SchedulerTasksConformanceTest::inc, 1)
                .task("drp4_y", SchedulerTasksConformanceTest::incOnce, "drp4_y", Graph.key("drp4_x"))
                .task("drp4_z", SchedulerTasksConformanceTest::incOnce, "drp4_z", Graph.key("drp4_x"));
        Future<Object> yy = client.persist(g, List.of("drp4_y")).get("drp4_y");
        assertEquals(3, yy.result(T));
        assertTrue(eventually(() -> !"memory".equals(state("drp4_x"))), "x leaves memory");
        Map<String, Future<Object>> both = client.persist(g, List.of("drp4_y", "drp4_z"));
        assertEquals(List.of(3, 3), client.gather(List.of(both.get("drp4_y"), both.get("drp4_z"))));
        assertEquals(1, calls("drp4_y"));
        assertEquals(1, calls("drp4_z"));
    }

    /** dask: test_scheduler.py::test_dont_forget_released_keys */
    @Test
    void dontForgetReleasedKeys() throws Exception {
        Future<Integer> x = client.with(Options.defaults().key("dfr_x")).submit(SchedulerTasksConformanceTest::inc, 1);
        Future<Integer> y = client.with(Options.defaults().key("dfr_y")).submit(SchedulerTasksConformanceTest::inc, x);
        Future<Integer> z = client.with(Options.defaults().key("dfr_z")).submit(SchedulerTasksConformanceTest::dec, x);
        x.release();
        Futures.wait(List.of(y, z), T);
        z.release();
        assertTrue(eventually(() -> "null".equals(state("dfr_z"))), "z is forgotten");
        assertNotEquals("null", state("dfr_x"), "x, which y needed, is still known");
    }

    /** dask: test_scheduler.py::test_dont_recompute_if_erred, test_dont_recompute_if_erred_transition_log */
    @Test
    void dontRecomputeIfErred() throws Exception {
        Graph g = new Graph().task("dre_x", SchedulerTasksConformanceTest::incOnce, "dre_x", 1)
                .task("dre_y", SchedulerTasksConformanceTest::divOnce, "dre_y", Graph.key("dre_x"), 0);
        Future<Object> yy = client.persist(g, List.of("dre_y")).get("dre_y");
        TaskFailedException e1 = assertThrows(TaskFailedException.class, () -> yy.result(T));
        assertInstanceOf(ArithmeticException.class, e1.getCause());

        query(v -> {
            v.recordTransitions(true);
            return v.drainTransitions();
        });
        try {
            Future<Object> yyy = client.persist(g, List.of("dre_y")).get("dre_y");
            TaskFailedException e2 = assertThrows(TaskFailedException.class, () -> yyy.result(T));
            // had it run again, the error would be "Must only be called once"
            assertInstanceOf(ArithmeticException.class, e2.getCause());
            List<SchedulerView.Transition> after = query(SchedulerView::drainTransitions);
            assertTrue(after.stream().noneMatch(t -> t.key().startsWith("dre_")), "no transition of x or y: " + after);
        } finally {
            query(v -> {
                v.recordTransitions(false);
                return null;
            });
        }
        assertEquals(1, calls("dre_x"));
        assertEquals(1, calls("dre_y"));
    }

    static String foo() {
        return "foo";
    }

    static String bar(String x) {
        return x + "bar";
    }

    static String baz(String x) {
        return x + "baz";
    }

    static String qux(String x) throws InterruptedException {
        Thread.sleep(100); // the task's work
        return x + "qux";
    }

    /** dask: test_scheduler.py::test_gh2187 — a key given again with another recipe while a dependent still runs. */
    @Test
    void gh2187() throws Exception {
        Future<String> w = client.with(Options.defaults().key("gh_w")).submit(SchedulerTasksConformanceTest::foo);
        Future<String> x = client.with(Options.defaults().key("gh_x")).submit(SchedulerTasksConformanceTest::bar, w);
        Future<String> y = client.with(Options.defaults().key("gh_y")).submit(SchedulerTasksConformanceTest::baz, x);
        assertEquals("foobarbaz", y.result(T));
        Future<String> z = client.with(Options.defaults().key("gh_z")).submit(SchedulerTasksConformanceTest::qux, y);
        y.release();
        Future<String> f = client.with(Options.defaults().key("gh_y")).submit(SchedulerTasksConformanceTest::bar, x);
        String r = f.result(T);
        assertTrue(r.equals("foobarbar") || r.equals("foobarbaz"), r);
        assertEquals("foobarbazqux", z.result(T));
    }

    /** dask: test_scheduler.py::test_submit_dependency_of_erred_task */
    @Test
    void submitDependencyOfErredTask() throws Exception {
        Future<Double> x = client.with(Options.defaults().key("sde_x")).submit(SchedulerTasksConformanceTest::div, 1, 0);
        Futures.wait(List.of(x), T);
        Future<Double> y = client.with(Options.defaults().key("sde_y")).submit((Double v) -> v + 1, x);
        TaskFailedException e = assertThrows(TaskFailedException.class, () -> y.result(T));
        assertInstanceOf(ArithmeticException.class, e.getCause());
    }

    /** dask: test_scheduler.py::test_transition_counter */
    @Test
    void transitionCounter() throws Exception {
        long before = query(SchedulerView::transitionCount);
        assertEquals(2, client.with(Options.defaults().key("tc_x")).submit(SchedulerTasksConformanceTest::inc, 1).result(T));
        assertTrue(query(SchedulerView::transitionCount) > before + 1);
        assertTrue(client.story("tc_x").stream().anyMatch(e -> !e.where().equals("scheduler")),
                "the worker made its own transitions");
    }

    static int uniqSum(List<Integer> xs) {
        return xs.stream().mapToInt(Integer::intValue).sum();
    }

    static int uniqLen(List<Integer> xs) {
        return xs.size();
    }

    /** dask: test_scheduler.py::test_task_unique_groups */
    @Test
    void taskUniqueGroups() throws Exception {
        Future<Integer> x = client.submit(SchedulerTasksConformanceTest::uniqSum, List.of(1, 2));
        Future<Integer> y = client.submit(SchedulerTasksConformanceTest::uniqLen, List.of(1, 2));
        Future<Integer> z = client.submit(SchedulerTasksConformanceTest::uniqSum, List.of(3, 4));
        assertEquals(List.of(3, 2, 7), client.gather(List.of(x, y, z)));
        assertEquals(1, group("uniqLen").memory());
        assertEquals(2, group("uniqSum").memory());
    }

    static int countInc(int x) {
        return x + 1;
    }

    /** dask: test_scheduler.py::test_count_task_prefix */
    @Test
    void countTaskPrefix() throws Exception {
        List<Future<Integer>> a = client.map(SchedulerTasksConformanceTest::countInc, IntStream.range(0, 10).boxed().toList());
        client.gather(a);
        assertEquals(10, group("countInc").memory());
        assertEquals(0, group("countInc").erred());
        List<Future<Integer>> b = client.map(SchedulerTasksConformanceTest::countInc, IntStream.range(10, 20).boxed().toList());
        client.gather(b);
        assertEquals(20, group("countInc").memory());
        assertEquals(0, group("countInc").erred());
    }

    static int identity(int x) {
        return x;
    }

    static int boom() {
        throw new ArithmeticException("division by zero");
    }

    /**
     * dask: test_scheduler.py::test_task_group_done — the group's counts by state. dist counts a
     * forgotten task of the group with the released ones ("done and released"), so dask's
     * released 1 + forgotten 1 is released 2 here.
     */
    @Test
    void taskGroupDone() throws Exception {
        Future<Integer> x0 = client.with(Options.defaults().key("tgd-0")).submit(SchedulerTasksConformanceTest::inc, 1);
        Future<Integer> x1 = client.with(Options.defaults().key("tgd-1")).submit(SchedulerTasksConformanceTest::boom);
        Future<Integer> x2 = client.with(Options.defaults().key("tgd-2")).submit(SchedulerTasksConformanceTest::inc, 3);
        Future<Integer> x3 = client.with(Options.defaults().key("tgd-3")).submit(SchedulerTasksConformanceTest::inc, 3);
        Future<Integer> y = client.with(Options.defaults().key("tgdy")).submit(SchedulerTasksConformanceTest::inc, x3);
        x3.release();
        Futures.wait(List.of(x0, x1, x2, y), T);
        x2.release();
        assertTrue(eventually(() -> "null".equals(state("tgd-2"))));
        assertTrue(eventually(() -> "released".equals(state("tgd-3"))), state("tgd-3"));
        ClusterView.Group g = group("tgd");
        assertEquals(List.of(1, 1, 2, 0, 0), List.of(g.memory(), g.erred(), g.released(), g.waiting(), g.processing()),
                g.toString());
    }

    /** dask: test_scheduler.py::test_task_group_not_done_waiting */
    @Test
    void taskGroupNotDoneWaiting() throws Exception {
        Future<Integer> x = client.with(Options.defaults().key("tgw_x")).submit(SchedulerTasksConformanceTest::blockOn, "tgw", 1);
        Future<Integer> y0 = client.with(Options.defaults().key("tgw-0")).submit(SchedulerTasksConformanceTest::identity, x);
        Future<Integer> y1 = client.with(Options.defaults().key("tgw-1")).submit(SchedulerTasksConformanceTest::inc, 1);
        try {
            assertTrue(eventually(() -> "waiting".equals(state("tgw-0"))));
            assertEquals(2, y1.result(T));
            assertTrue(group("tgw").waiting() > 0, "not done: " + group("tgw"));
        } finally {
            gate("tgw").countDown();
        }
        assertEquals(1, y0.result(T));
    }

    /** dask: test_scheduler.py::test_task_group_not_done_noworker */
    @Test
    void taskGroupNotDoneNoWorker() throws Exception {
        Future<Integer> x0 = client.with(Options.defaults().key("tgn-0").resource("X", 1))
                .submit(SchedulerTasksConformanceTest::inc, 1);
        Future<Integer> x1 = client.with(Options.defaults().key("tgn-1")).submit(SchedulerTasksConformanceTest::inc, 1);
        assertTrue(eventually(() -> "no-worker".equals(state("tgn-0"))));
        assertEquals(2, x1.result(T));
        assertTrue(group("tgn").waiting() > 0, "not done: " + group("tgn"));
        x0.release();
    }

    /** dask: test_scheduler.py::test_task_group_not_done_processing */
    @Test
    void taskGroupNotDoneProcessing() throws Exception {
        Future<Integer> x0 = client.with(Options.defaults().key("tgp-0")).submit(SchedulerTasksConformanceTest::blockOn, "tgp", 1);
        Future<Integer> x1 = client.with(Options.defaults().key("tgp-1")).submit(SchedulerTasksConformanceTest::inc, 1);
        try {
            assertTrue(eventually(() -> "processing".equals(state("tgp-0"))));
            assertEquals(2, x1.result(T));
            assertTrue(group("tgp").processing() > 0, "not done: " + group("tgp"));
        } finally {
            gate("tgp").countDown();
        }
        assertEquals(1, x0.result(T));
    }

    /** dask: test_scheduler.py::test_quiet_cluster_round_robin — tasks one after another still spread over workers. */
    @Test
    void quietClusterRoundRobin() throws Exception {
        Set<String> where = new HashSet<>();
        for (int i = 1; i <= 3; i++) {
            Future<Integer> f = client.with(Options.defaults().pure(false)).submit(SchedulerTasksConformanceTest::inc, i);
            f.result(T);
            where.addAll(holders(f));
        }
        assertTrue(where.size() >= 2, "ran on " + where);
    }

    static int slowinc(int x) throws InterruptedException {
        Thread.sleep(100); // the task's work
        return x + 1;
    }

    /** dask: test_scheduler.py::test_worker_heartbeat_after_cancel — after a cancel no worker keeps running or holding it. */
    @Test
    void workerHeartbeatAfterCancel() throws Exception {
        List<Future<Integer>> futs = client.with(Options.defaults().pure(false))
                .map(SchedulerTasksConformanceTest::slowinc, IntStream.range(0, 100).boxed().toList());
        assertTrue(eventually(() -> processing().stream().allMatch(p -> p > 0)), "every worker runs one");
        client.cancel(futs);
        assertTrue(eventually(() -> processing().stream().allMatch(p -> p == 0)), processing().toString());
        Set<String> keys = new HashSet<>();
        futs.forEach(f -> keys.add(f.key()));
        assertTrue(eventually(() -> heldKeys().stream().noneMatch(keys::contains)), "no worker holds a cancelled key");
    }

    static List<Integer> processing() {
        try {
            return client.workersInfo().stream().map(dist.WorkerInfo::processing).toList();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** dask: test_scheduler.py::test_forget_tasks_while_processing — a closing client's tasks are forgotten. */
    @Test
    void forgetTasksWhileProcessing() throws Exception {
        List<String> keys = new ArrayList<>();
        try (Client c = cluster.client()) {
            List<Future<Integer>> futs = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                futs.add(c.with(Options.defaults().key("ftp-" + i)).submit(SchedulerTasksConformanceTest::blockOn,
                        "ftp" + i, i));
                keys.add("ftp-" + i);
            }
            gate("ftp0").countDown();
            assertEquals(0, futs.get(0).result(T));
        } finally {
            for (int i = 1; i < 10; i++) {
                gate("ftp" + i).countDown();
            }
        }
        assertTrue(eventually(() -> keys.stream().allMatch(k -> "null".equals(state(k)))),
                "the scheduler forgets every task of the closed client");
    }

    /**
     * dask: test_scheduler.py::test_queued_release_multiple_workers — when a client leaves, the
     * queued tasks of another take the slots of every worker at once.
     */
    @Test
    void queuedReleaseMultipleWorkers() throws Exception {
        int threshold = workers.size() * 2 + 1;
        try (Client c2 = cluster.client()) {
            List<Future<Integer>> second;
            try (Client c1 = cluster.client()) {
                for (int i = 0; i < threshold; i++) {
                    c1.with(Options.defaults().key("qrm_first-" + i)).submit(SchedulerTasksConformanceTest::blockOn, "qrm", i);
                }
                assertTrue(eventually(() -> query(SchedulerView::queuedCount) > 0), "some are queued");
                second = new ArrayList<>();
                for (int i = 0; i < threshold; i++) {
                    second.add(c2.with(Options.defaults().key("qrm_second-" + i))
                            .submit(SchedulerTasksConformanceTest::blockOn, "qrm", i));
                }
                assertTrue(eventually(() -> !"null".equals(state("qrm_second-" + (threshold - 1)))));
                for (int i = 0; i < threshold; i++) {
                    assertEquals("queued", state("qrm_second-" + i), "the second batch waits behind the first");
                }
            }
            assertTrue(eventually(() -> IntStream.range(0, threshold).allMatch(i -> "null".equals(state("qrm_first-" + i)))));
            assertTrue(eventually(() -> query(SchedulerView::queuedCount) == threshold - workers.size()),
                    "queued: " + query(SchedulerView::queuedCount));
            gate("qrm").countDown();
            assertEquals(IntStream.range(0, threshold).boxed().toList(), c2.gather(second));
        } finally {
            gate("qrm").countDown();
        }
    }

    static byte[] leaking(int mib) {
        return new byte[mib << 20];
    }

    /** dask: test_scheduler.py::test_memory_no_zict — the scheduler's count of managed memory follows a result's size. */
    @Test
    void memoryNoZict() throws Exception {
        Future<byte[]> f = client.with(Options.defaults().key("mnz_x")).submit(SchedulerTasksConformanceTest::leaking, 10);
        Futures.wait(List.of(f), T);
        long n = client.nbytes(List.of(f), false).get("mnz_x");
        assertTrue(n > 10L << 20 && n < 11L << 20, String.valueOf(n));
        String where = holders(f).get(0);
        long held = query(v -> v.cluster(0, 0)).workers().stream().filter(w -> w.address().equals(where))
                .mapToLong(ClusterView.Worker::bytesHeld).sum();
        assertTrue(held >= n, held + " held by " + where);
        f.release();
    }
}
