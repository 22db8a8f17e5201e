package dist.conformance;

import dist.Bag;
import dist.Client;
import dist.Fn1;
import dist.Future;
import dist.KeyValue;
import dist.LocalCluster;
import dist.LogEntry;
import dist.Options;
import dist.Pair;
import dist.TaskFailedException;
import dist.Wait;
import dist.comm.CommConfig;
import dist.scheduler.SchedulerConfig;
import dist.scheduler.SchedulerServer;
import dist.worker.ShuffleService;
import dist.worker.WorkerServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Cases of dask's distributed/shuffle/tests/test_shuffle.py on dist's p2p shuffle, which moves the
 * elements of a {@link Bag} ({@code groupBy}, {@code join}, {@code distinct}) where dask's moves
 * the rows of a pandas DataFrame. dask's {@code assert_worker_cleanup} is "no worker holds shards"
 * ({@link ShuffleService#heldPartitions}) and {@code assert_scheduler_cleanup} "the scheduler forgot
 * every task". dask's {@code KilledWorker} after a restart past {@code allowed-failures} is dist's
 * P2PShuffleError, which says how often the shuffle lost data and why; dask's "p2p-failed" event
 * is that error's line in the scheduler's log. Workers run in this JVM; a crash is
 * {@link WorkerServer#stop()} (the scheduler learns it from the lost connection).
 *
 * <p>Not applicable:
 * <ul>
 * <li>test_shuffle.py::test_basic_cudf_support → cudf, GPU dataframes</li>
 * <li>test_shuffle.py::test_shuffle_with_array_conversion → pandas' .values to a dask array</li>
 * <li>test_shuffle.py::test_shuffle_before_categorize → pandas categoricals</li>
 * <li>test_shuffle.py::test_bad_disk → deletes the worker's local directory under shards on disk;
 *   dist keeps shards in memory below the memory target and spills past it to a file of its own
 *   that no public API names</li>
 * <li>test_shuffle.py::test_get_or_create_from_dangling_transfer → mocks the worker's shuffle run
 *   manager to hold get_or_create; dist's input asks the scheduler in one request, no hook holds it</li>
 * <li>test_shuffle.py::test_exception_on_close_cleans_up → mocks the shuffle run's close to raise</li>
 * <li>test_shuffle.py::test_closed_worker_during_barrier → mocks the run's inputs_done to hold the
 *   barrier; dist's barrier task only compares the inputs' runs, nothing holds it (a worker lost
 *   after the inputs sent is the transfer and unpack cases here)</li>
 * <li>test_shuffle.py::test_restarting_during_barrier_raises_killed_worker → the same mock of inputs_done</li>
 * <li>test_shuffle.py::test_closed_other_worker_during_barrier → the same mock of inputs_done</li>
 * <li>test_shuffle.py::test_crashed_other_worker_during_barrier → the same mock of inputs_done</li>
 * <li>test_shuffle.py::test_heartbeat → per-shuffle metrics in the scheduler plugin's heartbeat
 *   table; dist's workers report no shuffle metrics</li>
 * <li>test_shuffle.py::test_processing_chain → pandas to arrow to bytes and back</li>
 * <li>test_shuffle.py::test_split_by_worker → a pandas/arrow split helper</li>
 * <li>test_shuffle.py::test_split_by_worker_empty → a pandas/arrow split helper</li>
 * <li>test_shuffle.py::test_split_by_worker_many_workers → a pandas/arrow split helper</li>
 * <li>test_shuffle.py::test_split_by_partition → an arrow split helper</li>
 * <li>test_shuffle.py::test_basic_lowlevel_shuffle → DataFrameShuffleRun objects on arrow tables
 *   without a cluster (dist's store of shards: ShuffleStoreTest)</li>
 * <li>test_shuffle.py::test_error_offload → mocks the run's offload, on arrow tables</li>
 * <li>test_shuffle.py::test_error_send → mocks the run's send, on arrow tables</li>
 * <li>test_shuffle.py::test_error_receive → mocks the run's _receive, on arrow tables</li>
 * <li>test_shuffle.py::test_meaningful_out_of_disk_error → mocks the disk buffer to raise ENOSPC</li>
 * <li>test_shuffle.py::test_shuffle_run_consistency → reads run ids from the worker's run manager
 *   (dask: "an implementation detail users should not rely upon")</li>
 * <li>test_shuffle.py::test_fail_fetch_race → calls the worker's run manager's fail and get by hand</li>
 * <li>test_shuffle.py::test_replace_stale_shuffle → mocks the run manager to hold get and fail</li>
 * <li>test_shuffle.py::test_reconcile_partitions → pandas dtypes that differ between partitions</li>
 * <li>test_shuffle.py::test_raise_on_incompatible_partitions → arrow type errors between partitions</li>
 * <li>test_shuffle.py::test_handle_categorical_data → pandas categoricals</li>
 * <li>test_shuffle.py::test_handle_floats_in_int_meta → dataframe meta</li>
 * <li>test_shuffle.py::test_set_index → dataframe index and divisions; a bag has neither</li>
 * <li>test_shuffle.py::test_shuffle_with_existing_index → dataframe index</li>
 * <li>test_shuffle.py::test_set_index_with_existing_index → dataframe index</li>
 * <li>test_shuffle.py::test_sort_values_with_existing_divisions → dataframe divisions</li>
 * <li>test_shuffle.py::test_unpack_gets_rescheduled_from_non_participating_worker → mocks the run's
 *   barrier and sets a task's restrictions by hand (s.set_restrictions), which no public API does</li>
 * <li>test_shuffle.py::test_flaky_connect_fails_without_retry → mocks the worker's connection pool</li>
 * <li>test_shuffle.py::test_flaky_connect_recover_with_retry → mocks the worker's connection pool</li>
 * <li>test_shuffle.py::test_barrier_handles_stale_resumed_transfer → a Worker subclass holding
 *   gather_dep</li>
 * <li>test_shuffle.py::test_drop_duplicates_stable_ordering → drop_duplicates(subset, keep) picks
 *   which of the rows equal on a subset stays; Bag.distinct compares whole elements, so the kept
 *   one cannot be told apart</li>
 * <li>test_shuffle.py::test_wrong_meta_provided → dataframe meta</li>
 * <li>test_shuffle.py::test_workers_do_not_spam_get_requests → counts requests to a mocked scheduler
 *   plugin, with a 10 B message limit; dist's inputs each ask once, by design</li>
 * <li>test_shuffle.py::test_flaky_broadcast → mocks the barrier's broadcast of inputs_done; dist's
 *   barrier broadcasts nothing</li>
 * </ul>
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ShuffleConformanceTest {
    static final Duration T = Duration.ofSeconds(30);
    static final int N = 2000;
    static final List<Integer> XS = IntStream.range(0, N).boxed().toList();
    static final Map<Integer, List<Integer>> EXPECTED = XS.stream().collect(Collectors.groupingBy(x -> x % 37));

    /** Inputs with an element at or past {@link #late} wait for {@link #gate}: the others finish first. */
    static volatile CountDownLatch gate = new CountDownLatch(0);
    static volatile int late = Integer.MAX_VALUE;

    static Cluster fx;

    @BeforeAll
    static void start() throws Exception {
        fx = new Cluster(1, 2);
    }

    @AfterAll
    static void stop() {
        gate.countDown();
        fx.close();
    }

    @AfterEach
    void openGate() throws Exception {
        gate.countDown();
        late = Integer.MAX_VALUE;
        fx.keep(2);
    }

    static int mod(int x) throws InterruptedException {
        if (x >= late && !gate.await(T.toSeconds(), TimeUnit.SECONDS)) {
            throw new IllegalStateException("the gate stayed shut");
        }
        return x % 37;
    }

    /** Closes the gate: inputs holding elements from {@code from} on wait until {@link #open()}. */
    static void shut(int from) {
        gate = new CountDownLatch(1);
        late = from;
    }

    static void open() {
        gate.countDown();
    }

    /** The key of {@link #grouped}: x % 37, behind the gate; {@code test} gives each case tasks of its own. */
    record Mod(int test) implements Fn1<Integer, Integer> {
        @Override
        public Integer apply(Integer x) throws Exception {
            return mod(x);
        }
    }

    /** Counts the cases, so that no two share task keys (an input of one may still finish in the next). */
    static int cases;

    @BeforeEach
    void nextCase() {
        cases++;
    }

    static Bag<KeyValue<Integer, List<Integer>>> grouped() {
        return Bag.fromSequence(XS, 10).groupBy(new Mod(cases));
    }

    static Bag<KeyValue<Integer, List<Integer>>> grouped(int nout) {
        return Bag.fromSequence(XS, 10).groupBy(new Mod(cases), nout);
    }

    static <K, V> Map<K, V> asMap(List<KeyValue<K, V>> kvs) {
        Map<K, V> out = new HashMap<>();
        for (KeyValue<K, V> kv : kvs) {
            assertNull(out.put(kv.key(), kv.value()), "key " + kv.key() + " twice");
        }
        return out;
    }

    static <T> List<T> all(List<Future<List<T>>> fs) {
        List<T> out = new ArrayList<>();
        for (Future<List<T>> f : fs) {
            out.addAll(f.result(T));
        }
        return out;
    }

    /** Each output partition's elements, the futures released after. */
    static <T> List<List<T>> byPartition(Bag<T> bag) {
        List<Future<List<T>>> fs = fx.client.compute(bag.partitions());
        try {
            return fx.client.gather(fs);
        } finally {
            release(fs);
        }
    }

    static void release(List<? extends Future<?>> fs) {
        fs.forEach(Future::release);
    }

    /**
     * A scheduler with {@code allowedFailures} and workers of one thread each (dask's
     * {@code gen_cluster(nthreads=[("", 1)] * n)}), workers added and closed as a case needs.
     */
    static final class Cluster implements AutoCloseable {
        final SchedulerServer scheduler;
        final List<WorkerServer> workers = new ArrayList<>();
        final Client client;
        private int named;

        Cluster(int allowedFailures, int n) throws Exception {
            scheduler = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults().withAllowedFailures(allowedFailures),
                    CommConfig.DEFAULT);
            client = Client.connect(scheduler.address());
            keep(n);
        }

        WorkerServer add() throws Exception {
            WorkerServer w = WorkerServer.start(new WorkerServer.Options(scheduler.address(), "127.0.0.1", 0, 1,
                    "w" + named++, 0, 8 * 1024, CommConfig.DEFAULT));
            workers.add(w);
            int want = workers.size();
            assertTrue(Wait.until(T, () -> client.ncores().size() == want), "the scheduler lists " + w.address());
            return w;
        }

        /** Exactly {@code n} workers, the newest closed or new ones added. */
        void keep(int n) throws Exception {
            while (workers.size() > n) {
                close(workers.getLast(), false);
            }
            while (workers.size() < n) {
                add();
            }
        }

        WorkerServer w(int i) {
            return workers.get(i);
        }

        /** Closes {@code w} (a crash with {@code crash}) and waits until the scheduler removed it. */
        void close(WorkerServer w, boolean crash) throws InterruptedException {
            workers.remove(w);
            if (crash) {
                w.stop();
            } else {
                w.close();
            }
            assertTrue(Wait.until(T, () -> !client.ncores().containsKey(w.address())), "the scheduler removed " + w);
        }

        int tasks() {
            try {
                return scheduler.query(s -> s.view().taskCount(), 10, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }

        int heldPartitions() {
            return client.run(ShuffleService::heldPartitions).values().stream().mapToInt(Integer::intValue).sum();
        }

        /** dask's assert_worker_cleanup: no worker holds shards. */
        void assertWorkersClean() throws InterruptedException {
            assertTrue(Wait.until(T, () -> heldPartitions() == 0), "workers still hold shards: "
                    + client.run(ShuffleService::heldPartitions));
        }

        /** dask's assert_worker_cleanup and assert_scheduler_cleanup, once every future is released. */
        void assertClean() throws InterruptedException {
            assertWorkersClean();
            assertTrue(Wait.until(T, () -> tasks() == 0), "the scheduler still has " + tasks() + " tasks");
        }

        /** Waits until {@code w} holds a result of a task whose key starts with {@code prefix}. */
        void awaitHeld(String prefix, WorkerServer w) throws InterruptedException {
            assertTrue(Wait.until(T, () -> client.whoHas().entrySet().stream()
                    .anyMatch(e -> e.getKey().startsWith(prefix) && e.getValue().contains(w.address()))),
                    w.address() + " holds a " + prefix);
        }

        /** The scheduler's log lines that fail a shuffle (dask's "p2p-failed" events). */
        long shuffleFailures() {
            return client.schedulerLogs(1000).stream().map(LogEntry::message)
                    .filter(m -> m != null && m.startsWith("P2PShuffleError")).count();
        }

        List<String> workersToClose(int n) {
            try {
                return scheduler.query(s -> s.view().workersToClose(n, a -> a), 10, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }

        @Override
        public void close() {
            client.close();
            for (WorkerServer w : workers) {
                w.close();
            }
            scheduler.close();
        }
    }

    // ---------------------------------------------------------------- results

    /**
     * dask: test_shuffle.py::test_basic_integration — groupBy into as many partitions as its input,
     * into 1 and into 20: each as the streams' grouping, with that many partitions; afterwards no
     * worker holds shards and the scheduler forgot every task.
     */
    @Test
    void basicIntegration() throws Exception {
        assertEquals(10, grouped().npartitions());
        assertEquals(EXPECTED, asMap(grouped().compute(fx.client, T)));
        for (int n : new int[] {1, 20}) {
            Bag<KeyValue<Integer, List<Integer>>> g = grouped(n);
            assertEquals(n, g.npartitions());
            assertEquals(EXPECTED, asMap(g.compute(fx.client, T)));
        }
        fx.assertClean();
    }

    /** dask: test_shuffle.py::test_basic_integration_local_cluster — the same on a LocalCluster of two workers. */
    @Test
    void basicIntegrationLocalCluster() throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(2).threadsPerWorker(1).output(null).start();
             Client c = cluster.client()) {
            assertEquals(EXPECTED, asMap(grouped().compute(c, T)));
        }
    }

    /**
     * dask: test_shuffle.py::test_concurrent, test_shuffle.py::test_multi — two shuffles of one bag
     * by different keys computed at once, and a join (a shuffle of each side): each as the streams
     * say; then everything is cleaned up.
     */
    @Test
    void concurrentShufflesAndAJoin() throws Exception {
        Fn1<Integer, Integer> byTen = x -> x % 10;
        Bag<KeyValue<Integer, List<Integer>>> x = grouped();
        Bag<KeyValue<Integer, List<Integer>>> y = Bag.fromSequence(XS, 10).groupBy(byTen);
        List<Future<List<KeyValue<Integer, List<Integer>>>>> fx1 = fx.client.compute(x.partitions());
        List<Future<List<KeyValue<Integer, List<Integer>>>>> fy = fx.client.compute(y.partitions());
        assertEquals(EXPECTED, asMap(all(fx1)));
        assertEquals(XS.stream().collect(Collectors.groupingBy(v -> v % 10)), asMap(all(fy)));
        release(fx1);
        release(fy);
        Fn1<Integer, Integer> self = v -> v;
        Fn1<Integer, Integer> twice = v -> v * 2;
        List<Pair<Integer, Integer>> joined = Bag.fromSequence(XS, 6).join(Bag.fromSequence(XS, 4), self, twice)
                .compute(fx.client, T);
        assertEquals(N / 2, joined.size());
        assertTrue(joined.stream().allMatch(p -> p.left() == p.right() * 2), joined.toString());
        fx.assertClean();
    }

    /**
     * dask: test_shuffle.py::test_shuffle_stable_ordering — 19 partitions of 250 rising numbers by
     * their remainder of 23: every group keeps its elements in input order.
     */
    @Test
    void stableOrdering() throws Exception {
        List<Integer> xs = IntStream.range(0, 19 * 250).boxed().toList();
        Fn1<Integer, Integer> by23 = x -> x % 23;
        Map<Integer, List<Integer>> got = asMap(Bag.fromSequence(xs, 19).groupBy(by23).compute(fx.client, T));
        assertEquals(xs.stream().collect(Collectors.groupingBy(x -> x % 23)), got);
        for (List<Integer> group : got.values()) {
            assertEquals(group.stream().sorted().toList(), group);
        }
        fx.assertClean();
    }

    /**
     * dask: test_shuffle.py::test_handle_null_partitions, test_shuffle.py::test_handle_null_partitions_2
     * — null values, a null key and every other partition all nulls shuffle as any other element.
     */
    @Test
    void nulls() throws Exception {
        List<String> xs = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            xs.add((i / 10) % 2 == 1 ? null : "v" + (i % 7));
        }
        Fn1<String, String> key = s -> s == null ? null : s.substring(0, 2);
        Map<String, List<String>> expected = new HashMap<>();
        for (String s : xs) {
            expected.computeIfAbsent(s == null ? null : s.substring(0, 2), k -> new ArrayList<>()).add(s);
        }
        assertEquals(expected, asMap(Bag.fromSequence(xs, 5).groupBy(key).compute(fx.client, T)));
        assertEquals(new HashSet<>(xs), new HashSet<>(Bag.fromSequence(xs, 5).distinct().compute(fx.client, T)));
        fx.assertClean();
    }

    /** dask: test_shuffle.py::test_handle_object_columns — elements that are arrays travel whole. */
    @Test
    void arraysAsElements() throws Exception {
        List<int[]> xs = List.of(new int[] {1, 2, 3}, new int[] {4, 5, 6}, new int[] {7, 8, 9}, new int[] {1, 0});
        Fn1<int[], Integer> first = a -> a[0];
        Map<Integer, List<int[]>> got = asMap(Bag.fromSequence(xs, 2).groupBy(first).compute(fx.client, T));
        assertEquals(Set.of(1, 4, 7), got.keySet());
        assertEquals(2, got.get(1).size());
        assertArrayEquals(new int[] {1, 2, 3}, got.get(1).get(0));
        assertArrayEquals(new int[] {1, 0}, got.get(1).get(1));
        assertArrayEquals(new int[] {7, 8, 9}, got.get(7).get(0));
        fx.assertClean();
    }

    // ---------------------------------------------------------------- some outputs, repeats

    /**
     * dask: test_shuffle.py::test_head — only the first output partition asked for: it holds what the
     * whole shuffle puts there, and while it is held no worker keeps the other partitions' shards.
     */
    @Test
    void head() throws Exception {
        List<List<KeyValue<Integer, List<Integer>>>> full = byPartition(grouped());
        Future<List<KeyValue<Integer, List<Integer>>>> head = fx.client.compute(grouped().partitions().getFirst());
        assertEquals(full.getFirst(), head.result(T));
        fx.assertWorkersClean();
        head.release();
        fx.assertClean();
    }

    /**
     * dask: test_shuffle.py::test_tail — only the last output partition: the scheduler has fewer tasks
     * than for the whole shuffle, and the partition is what the whole shuffle puts there.
     */
    @Test
    void tail() throws Exception {
        List<Future<List<KeyValue<Integer, List<Integer>>>>> full = fx.client.compute(grouped().partitions());
        List<List<KeyValue<Integer, List<Integer>>>> whole = fx.client.gather(full);
        int ntasksFull = fx.tasks();
        release(full);
        assertTrue(Wait.until(T, () -> fx.tasks() == 0));
        Future<List<KeyValue<Integer, List<Integer>>>> tail = fx.client.compute(grouped().partitions().getLast());
        assertEquals(whole.getLast(), tail.result(T));
        assertTrue(fx.tasks() < ntasksFull, fx.tasks() + " tasks for one partition, " + ntasksFull + " for all");
        tail.release();
        fx.assertClean();
    }

    /**
     * dask: test_shuffle.py::test_delete_some_results — the whole shuffle persisted, then its first half
     * computed: as the whole one says; cleaned up once released.
     */
    @Test
    void deleteSomeResults() throws Exception {
        List<Future<List<KeyValue<Integer, List<Integer>>>>> x = fx.client.compute(grouped().partitions());
        assertTrue(Wait.until(T, () -> x.stream().anyMatch(Future::isDone)));
        List<Future<List<KeyValue<Integer, List<Integer>>>>> half = fx.client.compute(grouped().partitions().subList(0, 5));
        List<KeyValue<Integer, List<Integer>>> got = all(half);
        assertEquals(all(x.subList(0, 5)), got);
        release(x);
        release(half);
        fx.assertClean();
    }

    /**
     * dask: test_shuffle.py::test_add_some_results — the first half persisted, then the whole: every
     * group as the streams say; cleaned up once released.
     */
    @Test
    void addSomeResults() throws Exception {
        List<Future<List<KeyValue<Integer, List<Integer>>>>> y = fx.client.compute(grouped().partitions().subList(0, 5));
        assertTrue(Wait.until(T, () -> y.stream().anyMatch(Future::isDone)));
        List<Future<List<KeyValue<Integer, List<Integer>>>>> x = fx.client.compute(grouped().partitions());
        assertEquals(EXPECTED, asMap(all(x)));
        release(x);
        release(y);
        fx.assertClean();
    }

    /**
     * dask: test_shuffle.py::test_repeat_shuffle_instance, test_shuffle.py::test_repeat_shuffle_operation
     * — the same bag computed twice, and the same operation built again, each with and without waiting
     * for the scheduler to forget the first: the same groups every time, cleaned up after.
     */
    @Test
    void repeatShuffle() throws Exception {
        Bag<KeyValue<Integer, List<Integer>>> instance = grouped();
        for (boolean waitUntilForgotten : new boolean[] {true, false}) {
            assertEquals(EXPECTED, asMap(instance.compute(fx.client, T)));
            if (waitUntilForgotten) {
                assertTrue(Wait.until(T, () -> fx.tasks() == 0));
            }
            assertEquals(EXPECTED, asMap(instance.compute(fx.client, T)));
            assertEquals(EXPECTED, asMap(grouped().compute(fx.client, T)));
            if (waitUntilForgotten) {
                assertTrue(Wait.until(T, () -> fx.tasks() == 0));
            }
            assertEquals(EXPECTED, asMap(grouped().compute(fx.client, T)));
        }
        fx.assertClean();
    }

    // ---------------------------------------------------------------- released early, computed again

    /**
     * dask: test_shuffle.py::test_clean_after_forgotten_early — released while inputs are still being
     * cut, after both workers sent some: no worker keeps shards and the scheduler forgets everything.
     */
    @Test
    void cleanAfterForgottenEarly() throws Exception {
        shut(N / 2);
        List<Future<List<KeyValue<Integer, List<Integer>>>>> out = fx.client.compute(grouped().partitions());
        fx.awaitHeld("p2pShuffleTransfer", fx.w(0));
        fx.awaitHeld("p2pShuffleTransfer", fx.w(1));
        release(out);
        open();
        fx.assertClean();
    }

    /**
     * dask: test_shuffle.py::test_deduplicate_stale_transfer, test_shuffle.py::test_handle_stale_barrier
     * — a shuffle released while its inputs still send, then the same shuffle computed again (with
     * and without waiting for the scheduler to forget the first): the old sends are refused, the
     * groups are exact and everything is cleaned up.
     */
    @Test
    void staleSendsOfAReleasedShuffle() throws Exception {
        for (boolean waitUntilForgotten : new boolean[] {true, false}) {
            shut(N / 2);
            List<Future<List<KeyValue<Integer, List<Integer>>>>> first = fx.client.compute(grouped().partitions());
            fx.awaitHeld("p2pShuffleTransfer", fx.w(0));
            fx.awaitHeld("p2pShuffleTransfer", fx.w(1));
            release(first);
            if (waitUntilForgotten) {
                assertTrue(Wait.until(T, () -> fx.tasks() <= 2), "only the two waiting inputs are left: " + fx.tasks());
            }
            List<Future<List<KeyValue<Integer, List<Integer>>>>> again = fx.client.compute(grouped().partitions());
            open();
            assertEquals(EXPECTED, asMap(all(again)));
            release(again);
            fx.assertClean();
        }
    }

    // ---------------------------------------------------------------- workers lost

    /**
     * dask: test_shuffle.py::test_closed_worker_during_transfer, test_shuffle.py::test_restarting_does_not_log_p2p_failed
     * — with allowed-failures 1, b closes once it sent an input while other inputs are still cut: the
     * shuffle runs again on a with exact groups, no P2PShuffleError is logged, and a is cleaned up.
     */
    @Test
    void closedWorkerDuringTransfer() throws Exception {
        shut(N / 2);
        List<Future<List<KeyValue<Integer, List<Integer>>>>> fut = fx.client.compute(grouped().partitions());
        fx.awaitHeld("p2pShuffleTransfer", fx.w(1));
        long failures = fx.shuffleFailures();
        fx.close(fx.w(1), false);
        open();
        assertEquals(EXPECTED, asMap(all(fut)));
        assertEquals(failures, fx.shuffleFailures());
        release(fut);
        fx.assertClean();
    }

    /**
     * dask: test_shuffle.py::test_closed_input_only_worker_during_transfer — one output partition,
     * owned by a; b only cuts inputs and closes after sending one: the groups are exact.
     */
    @Test
    void closedInputOnlyWorkerDuringTransfer() throws Exception {
        inputOnlyWorkerLost(false);
    }

    /**
     * dask: test_shuffle.py::test_crashed_input_only_worker_during_transfer — as the case above with b
     * crashing.
     */
    @Test
    void crashedInputOnlyWorkerDuringTransfer() throws Exception {
        inputOnlyWorkerLost(true);
    }

    private static void inputOnlyWorkerLost(boolean crash) throws Exception {
        WorkerServer a = fx.w(0);
        shut(N / 2);
        List<Future<List<KeyValue<Integer, List<Integer>>>>> fut = fx.client.compute(grouped(1).partitions());
        fx.awaitHeld("p2pShuffleTransfer", fx.w(1));
        fx.close(fx.w(1), crash);
        open();
        assertEquals(EXPECTED, asMap(all(fut)));
        assertEquals(List.of(a.address()), fx.client.whoHas(fut).get(fut.getFirst().key()), "a owned the one output");
        release(fut);
        fx.assertClean();
    }

    /**
     * dask: test_shuffle.py::test_closed_bystanding_worker_during_shuffle — three workers, the shuffle
     * computed on w1 and w2 only: w3 is sent no shards and closes meanwhile; the groups are exact and
     * every output is on w1 or w2.
     */
    @Test
    void closedBystandingWorkerDuringShuffle() throws Exception {
        WorkerServer w3 = fx.add();
        List<String> two = List.of(fx.w(0).address(), fx.w(1).address());
        shut(N / 2);
        List<Future<List<KeyValue<Integer, List<Integer>>>>> fut = fx.client
                .with(Options.defaults().workers(two).allowOtherWorkers(false)).compute(grouped().partitions());
        fx.awaitHeld("p2pShuffleTransfer", fx.w(0));
        fx.awaitHeld("p2pShuffleTransfer", fx.w(1));
        assertEquals(Map.of(w3.address(), 0), fx.client.run(ShuffleService::heldPartitions, List.of(w3.address())),
                "w3 owns no partition of a shuffle restricted to w1 and w2");
        fx.close(w3, false);
        open();
        assertEquals(EXPECTED, asMap(all(fut)));
        fx.client.whoHas(fut).forEach((k, ws) -> assertTrue(two.containsAll(ws), k + " on " + ws));
        release(fut);
        fx.assertClean();
    }

    /** dask: test_shuffle.py::test_closed_worker_during_unpack — b closes once it holds an output: exact groups. */
    @Test
    void closedWorkerDuringUnpack() throws Exception {
        workerLostDuringUnpack(false);
    }

    /** dask: test_shuffle.py::test_crashed_worker_during_unpack — b crashes once it holds an output: exact groups. */
    @Test
    void crashedWorkerDuringUnpack() throws Exception {
        workerLostDuringUnpack(true);
    }

    private static void workerLostDuringUnpack(boolean crash) throws Exception {
        List<Future<List<KeyValue<Integer, List<Integer>>>>> fut = fx.client.compute(grouped().partitions());
        fx.awaitHeld("p2pShuffleUnpack", fx.w(1));
        fx.close(fx.w(1), crash);
        assertEquals(EXPECTED, asMap(all(fut)));
        release(fut);
        fx.assertClean();
    }

    static volatile CountDownLatch blocked = new CountDownLatch(0);
    static volatile CountDownLatch unblock = new CountDownLatch(0);

    /** Counts the elements of the grouped partitions (the futures' values). */
    static int count(List<?> parts) {
        int n = 0;
        for (Object part : parts) {
            for (Object kv : (List<?>) part) {
                n += ((List<?>) ((KeyValue<?, ?>) kv).value()).size();
            }
        }
        return n;
    }

    /** Counts the elements of the grouped partitions (the futures' values), once unblocked. */
    static int countAfterBlock(List<?> parts) throws InterruptedException {
        blocked.countDown();
        if (!unblock.await(T.toSeconds(), TimeUnit.SECONDS)) {
            throw new IllegalStateException("never unblocked");
        }
        int n = 0;
        for (Object part : parts) {
            for (Object kv : (List<?>) part) {
                n += ((List<?>) ((KeyValue<?, ?>) kv).value()).size();
            }
        }
        return n;
    }

    /**
     * dask: test_shuffle.py::test_crashed_worker_after_shuffle — a task on b that takes every output
     * is running when b crashes: it runs again elsewhere and counts every element.
     */
    @Test
    void crashedWorkerAfterShuffle() throws Exception {
        blocked = new CountDownLatch(1);
        unblock = new CountDownLatch(1);
        WorkerServer b = fx.w(1);
        List<Future<List<KeyValue<Integer, List<Integer>>>>> out = fx.client.compute(grouped().partitions());
        Future<Integer> count = fx.client.with(Options.defaults().workers(b.address()).allowOtherWorkers(true))
                .submit(ShuffleConformanceTest::countAfterBlock, out);
        assertTrue(blocked.await(T.toSeconds(), TimeUnit.SECONDS), "the count started");
        fx.close(b, true);
        unblock.countDown();
        assertEquals(N, count.result(T));
        count.release();
        release(out);
        fx.assertClean();
    }

    /**
     * dask: test_shuffle.py::test_crashed_worker_after_shuffle_persisted — the shuffle done and held,
     * then b crashes: computing from it again counts every element.
     */
    @Test
    void crashedWorkerAfterShufflePersisted() throws Exception {
        List<Future<List<KeyValue<Integer, List<Integer>>>>> out = fx.client.compute(grouped().partitions());
        all(out);
        fx.close(fx.w(1), true);
        assertEquals(EXPECTED, asMap(all(out)));
        release(out);
        fx.assertClean();
    }

    /**
     * dask: test_shuffle.py::test_closed_worker_between_repeats — on three workers, the first output
     * partition, then (w3 closed) the last, then (w2 closed) the first again: each as the whole
     * shuffle puts there, every worker and the scheduler cleaned up in between.
     */
    @Test
    void closedWorkerBetweenRepeats() throws Exception {
        List<List<KeyValue<Integer, List<Integer>>>> whole = byPartition(grouped());
        WorkerServer w3 = fx.add();
        assertEquals(whole.getFirst(), grouped().partitions().getFirst().compute(fx.client));
        fx.assertClean();
        fx.close(w3, false);
        assertEquals(whole.getLast(), grouped().partitions().getLast().compute(fx.client));
        fx.assertClean();
        fx.close(fx.w(1), false);
        assertEquals(whole.getFirst(), grouped().partitions().getFirst().compute(fx.client));
        fx.assertClean();
    }

    /**
     * dask: test_shuffle.py::test_new_worker — a worker joins while the shuffle runs: exact groups, and
     * every worker, the new one too, is cleaned up after.
     */
    @Test
    void newWorker() throws Exception {
        shut(N / 2);
        List<Future<List<KeyValue<Integer, List<Integer>>>>> persisted = fx.client.compute(grouped().partitions());
        fx.awaitHeld("p2pShuffleTransfer", fx.w(0));
        fx.add();
        open();
        assertEquals(EXPECTED, asMap(all(persisted)));
        release(persisted);
        fx.assertClean();
    }

    /**
     * dask: test_shuffle.py::test_restarting_does_not_deadlock — a holds the shuffle's input and b
     * joins; mid-shuffle a pauses and b is lost, so no worker is running when the shuffle runs
     * again; once a resumes the groups are exact.
     */
    @Test
    void restartingDoesNotDeadlock() throws Exception {
        try (var t = PausedWorkers.noSpill(); Cluster c = new Cluster(1, 0)) {
            WorkerServer a = WorkerServer.start(new WorkerServer.Options(c.scheduler.address(), "127.0.0.1", 0, 2, "a",
                    PausedWorkers.LIMIT, 8 * 1024, CommConfig.DEFAULT));
            c.workers.add(a);
            assertTrue(Wait.until(T, () -> c.client.ncores().size() == 1));
            List<Future<List<Integer>>> parts = c.client.compute(Bag.fromSequence(XS, 10).partitions());
            c.client.gather(parts);
            WorkerServer b = c.add();
            assertTrue(c.client.hasWhat().getOrDefault(b.address(), List.of()).isEmpty());
            shut(N - N / 10); // the last input waits: a keeps a thread free to pause
            List<Future<List<KeyValue<Integer, List<Integer>>>>> out = c.client.compute(
                    Bag.fromFutures(parts).groupBy(new Mod(cases)).partitions());
            assertTrue(Wait.until(T, () -> c.client.whoHas().keySet().stream().anyMatch(k -> k.startsWith("p2pShuffleTransfer"))));
            Future<byte[]> big = PausedWorkers.pause(c.client, c.scheduler, a);
            c.close(b, true);
            open();
            big.release();
            assertEquals(EXPECTED, asMap(all(out)));
            release(out);
            release(parts);
            c.assertClean();
        }
    }

    /**
     * dask: test_shuffle.py::test_clean_after_close — a closes while it cuts an input and b holds a
     * sent one; once released, b and the scheduler are cleaned up.
     */
    @Test
    void cleanAfterClose() throws Exception {
        shut(N / 2);
        List<Future<List<KeyValue<Integer, List<Integer>>>>> out = fx.client.compute(grouped().partitions());
        fx.awaitHeld("p2pShuffleTransfer", fx.w(1));
        fx.close(fx.w(0), false);
        release(out);
        open();
        fx.assertClean();
    }

    /**
     * dask: test_shuffle.py::test_dont_downscale_participating_workers — while a shuffle runs, the
     * workers taking part are not among those to close; a worker that joins meanwhile is; once the
     * shuffle is done, both are again.
     */
    @Test
    void dontDownscaleParticipatingWorkers() throws Exception {
        assertEquals(2, fx.workersToClose(2).size());
        shut(N / 2);
        List<Future<List<KeyValue<Integer, List<Integer>>>>> res = fx.client.compute(grouped().partitions());
        fx.awaitHeld("p2pShuffleTransfer", fx.w(0));
        fx.awaitHeld("p2pShuffleTransfer", fx.w(1));
        assertEquals(List.of(), fx.workersToClose(2));
        WorkerServer w = fx.add();
        assertEquals(List.of(w.address()), fx.workersToClose(3));
        fx.close(w, false);
        assertEquals(List.of(), fx.workersToClose(2));
        open();
        all(res);
        release(res);
        fx.assertClean();
        assertEquals(2, fx.workersToClose(2).size());
    }

    // ---------------------------------------------------------------- past allowed-failures, errors

    /** A scheduler with allowed-failures 0, for the cases that expect the shuffle to fail. */
    static Cluster strict() throws Exception {
        return new Cluster(0, 2);
    }

    /**
     * dask: test_shuffle.py::test_restarting_during_transfer_raises_killed_worker — allowed-failures
     * 0: b closes mid-transfer; the shuffle fails with P2PShuffleError, logged once.
     */
    @Test
    void restartingDuringTransferFails() throws Exception {
        try (Cluster c = strict()) {
            shut(N / 2);
            List<Future<List<KeyValue<Integer, List<Integer>>>>> out = c.client.compute(grouped().partitions());
            c.awaitHeld("p2pShuffleTransfer", c.w(1));
            long before = c.shuffleFailures();
            c.close(c.w(1), false);
            open();
            assertThrows(TaskFailedException.class, () -> c.client.gather(out));
            assertTrue(out.stream().anyMatch(f -> String.valueOf(f.exception(T)).contains("P2PShuffleError")),
                    "an output fails with P2PShuffleError");
            assertEquals(before + 1, c.shuffleFailures(), String.valueOf(c.client.schedulerLogs(1000)));
            release(out);
            c.assertClean();
        }
    }

    /**
     * dask: test_shuffle.py::test_restarting_during_unpack_raises_killed_worker — allowed-failures 0:
     * b closes once it holds an output; counting the outputs then fails with P2PShuffleError, logged
     * once (b's outputs would need the shuffle to run again).
     */
    @Test
    void restartingDuringUnpackFails() throws Exception {
        try (Cluster c = strict()) {
            List<Future<List<KeyValue<Integer, List<Integer>>>>> out = c.client.compute(grouped().partitions());
            c.awaitHeld("p2pShuffleUnpack", c.w(1));
            long before = c.shuffleFailures();
            c.close(c.w(1), false);
            // dask computes out.x.size: a count of every output, asked for once b is gone
            Future<Integer> size = c.client.submit(ShuffleConformanceTest::count, out);
            TaskFailedException e = assertThrows(TaskFailedException.class, () -> size.result(T));
            assertTrue(String.valueOf(e.getCause()).contains("P2PShuffleError"), String.valueOf(e.getCause()));
            size.release();
            assertEquals(before + 1, c.shuffleFailures(), String.valueOf(c.client.schedulerLogs(1000)));
            release(out);
            c.assertClean();
        }
    }

    static int failAt(int x) {
        if (x == N - 1) {
            throw new IllegalStateException("test error");
        }
        return x % 37;
    }

    /**
     * dask: test_shuffle.py::test_erred_task_before_p2p_does_not_log_event — an input's key function
     * fails: the shuffle fails with that error, and no shuffle failure is logged.
     */
    @Test
    void erredInputDoesNotLogAShuffleFailure() throws Exception {
        long before = fx.shuffleFailures();
        Bag<KeyValue<Integer, List<Integer>>> g = Bag.fromSequence(XS, 10).groupBy(ShuffleConformanceTest::failAt);
        TaskFailedException e = assertThrows(TaskFailedException.class, () -> g.compute(fx.client, T));
        assertTrue(String.valueOf(e.getCause()).contains("test error"), String.valueOf(e.getCause()));
        assertEquals(before, fx.shuffleFailures());
        fx.assertClean();
    }
}
