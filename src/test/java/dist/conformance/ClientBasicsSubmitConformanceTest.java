package dist.conformance;

import dist.DistException;
import dist.SchedulerUnavailableException;
import dist.TaskFailedException;
import dist.DistTimeoutException;
import dist.Client;
import dist.Delayed;
import dist.Fn0;
import dist.Fn1;
import dist.Future;
import dist.Futures;
import dist.Graph;
import dist.Options;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
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
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Submitting, mapping, retries, exceptions and remote stack traces, ported from dask's
 * distributed/tests/test_client.py (test_submit through test_balance_tasks_by_stacks), on one
 * scheduler with two workers of two threads. The rest of that range is in ClientBasicsGather,
 * ClientBasicsScatter, ClientBasicsRelease and ClientBasicsWorkerLoss; this header accounts for the
 * cases of the range none of them ports.
 *
 * <p>Already ported elsewhere: test_map, test_map_empty, test_map_naming, test_submit_naming,
 * test_map_different_lengths, test_exceptions, test_Future_exception, test_upload_file,
 * test_upload_file_refresh_delayed (ClientConformanceTest); test_cancel, test_cancel_multi_client,
 * test_cancel_sync (CancelConformanceTest); test_scatter_direct_broadcast (ConcurrentPlacementTest);
 * test_scatter_direct_balanced (DataPlacementExtensionTest).
 *
 * <p>Not applicable:
 * <ul>
 * <li>test_retries_dask_array, test_future_tuple_repr, test_persist, test_persist_async,
 *     test_futures_of_class, test_scatter_direct_numpy, test_scatter_singletons → read dask.array,
 *     numpy or pandas.</li>
 * <li>test_get_sync_optimize_graph_passes_through, test_wait_on_collections, test_cancel_collection
 *     → dask.bag collections of futures and optimize_graph.</li>
 * <li>test_compute_retries_annotations, test_persist_retries_annotations,
 *     test_restrictions_get_annotate → dask.annotate; options are given per call.</li>
 * <li>test_compute_no_collection_or_future → compute of plain Python values; compute takes a Graph
 *     or Delayed values.</li>
 * <li>test_short_tracebacks, test_short_tracebacks_async, test_traceback_clean → count and filter
 *     Python traceback frames; the remote Java stack is kept as thrown (test_traceback).</li>
 * <li>test_tokenize_on_futures, test_scatter_tokenize_local → dask.tokenize.</li>
 * <li>test_scatter_collection_subclass, test_scatter_namedtuple → Python collection subclasses and
 *     namedtuples; scatter takes a List or a Map, anything else is one value.</li>
 * <li>test_get_with_non_list_key → tuple and integer keys; keys are strings.</li>
 * <li>test_current, test_current_nested, test_current_nested_async, test_current_concurrent,
 *     test_global_clients → no process-wide current client: Java code passes its Client (inside a
 *     task, WorkerClient.get()).</li>
 * <li>test_context_manager_used_from_different_tasks, test_context_manager_used_from_different_threads
 *     → asyncio tasks and contextvars.</li>
 * <li>test_Future_exception_sync_2 → dask.base.get_scheduler.</li>
 * <li>test_start_is_idempotent → a Client is connected when made; there is no start().</li>
 * <li>test_informative_error_on_cluster_type, test_wait_informative_error_for_timeouts → wrong
 *     argument types do not compile.</li>
 * <li>test_repr_async, test_repr_no_memory_limit, test_repr_localcluster → Jupyter's _repr_html_.</li>
 * <li>test_upload_file_zip, test_upload_file_egg → Python zip and egg imports (a jar is the zip:
 *     test_upload_file).</li>
 * <li>test_upload_large_file → the private _upload_large_file.</li>
 * <li>test_get_task_prefix_states → a scheduler method with no client API.</li>
 * <li>test_limit_concurrent_gathering → reads the workers' transfer logs.</li>
 * <li>test_proxy → the scheduler's internal proxy RPC.</li>
 * <li>test_scatter_direct_2 → the scheduler's last_seen of a client's heartbeats.</li>
 * <li>test_multiple_clients, test_badly_serialized_input_stderr, test_balance_tasks_by_stacks →
 *     skipped in dask.</li>
 * </ul>
 *
 * <p>Not applicable (deliberate differences, in the README's table):
 * <ul>
 * <li>test_future_type → a {@code Future<T>} declares its result's type; at run time it is
 *     {@code result().getClass()}. Its text has key and status.</li>
 * <li>test_client.py::test_repr, test_repr_sync → a Client's {@code toString()} makes no call to the cluster: it names
 *     the client and its scheduler; workers and threads come from {@code workersInfo()}.</li>
 * <li>test_upload_file_no_extension → there are no source modules to upload in Java: uploadJar takes
 *     any jar, whatever its file name (test_upload_file).</li>
 * </ul>
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClientBasicsSubmitConformanceTest {
    static final Duration T = ClientBasicsCluster.T;
    static final Options IMPURE = Options.defaults().pure(false);
    static ClientBasicsCluster cluster;
    static Client client;

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

    static int slowinc(int x, int delayMs) throws InterruptedException {
        Thread.sleep(delayMs);
        return x + 1;
    }

    /** Calls counted per varying function, in this JVM where the thread workers run. */
    static final Map<String, AtomicInteger> CALLS = new ConcurrentHashMap<>();

    /** dask's {@code varying(items)}: each call returns (or throws) the next item, then the last forever. */
    static Object varyingCall(String id, List<?> items) {
        int i = Math.min(CALLS.computeIfAbsent(id, k -> new AtomicInteger()).getAndIncrement(), items.size() - 1);
        Object item = items.get(i);
        if (item instanceof RuntimeException e) {
            throw e;
        }
        return item;
    }

    static Fn0<Object> varying(List<?> items) {
        String id = UUID.randomUUID().toString();
        return () -> varyingCall(id, items);
    }

    /** dask's {@code map_varying}: task i calls its own varying over {@code lists[i]}. */
    static Fn1<Integer, Object> mapVarying(List<List<?>> lists) {
        String id = UUID.randomUUID().toString();
        return i -> varyingCall(id + "-" + i, lists.get(i));
    }

    static ArithmeticException zde(String message) {
        return new ArithmeticException(message);
    }

    static Throwable cause(Future<?> f) {
        TaskFailedException e = assertThrows(TaskFailedException.class, () -> f.result(T));
        return e.getCause();
    }

    @BeforeAll
    static void start() throws Exception {
        cluster = ClientBasicsCluster.start(2, 2);
        client = cluster.client;
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /**
     * dask: test_client.py::test_submit — {@code inc(10, key="x")} is not done at first, belongs to
     * the client, gives 11 and is then done; {@code add(x, y)} with {@code y = inc(20, key="y")} is 32.
     */
    @Test
    void submit() throws Exception {
        Future<Integer> x = client.with(Options.defaults().key("submit-x")).submit(
                ClientBasicsSubmitConformanceTest::slowinc, 10, 200);
        assertFalse(x.isDone());
        assertSame(client, x.client());
        assertEquals(11, x.result(T));
        assertTrue(x.isDone());
        assertEquals("submit-x", x.key());
        Future<Integer> y = client.with(Options.defaults().key("submit-y")).submit(
                ClientBasicsSubmitConformanceTest::inc, 20);
        Future<Integer> z = client.submit(ClientBasicsSubmitConformanceTest::add, x, y);
        assertEquals(11 + 21, z.result(T));
    }

    /**
     * dask: test_client.py::test_map_retries — three varying tasks: with retries=2 all succeed
     * (2, 4, 9); with retries=1 the third fails with its second error "eight"; with retries=0 the
     * first fails with "one" and the third with "seven".
     */
    @Test
    void mapRetries() throws Exception {
        List<List<?>> args = List.of(List.of(zde("one"), 2, 3), List.of(4, 5, 6),
                List.of(zde("seven"), zde("eight"), 9));
        List<Integer> idx = List.of(0, 1, 2);
        List<Future<Object>> fs = client.with(Options.defaults().retries(2)).map(mapVarying(args), idx);
        assertEquals(2, fs.get(0).result(T));
        assertEquals(4, fs.get(1).result(T));
        assertEquals(9, fs.get(2).result(T));

        fs = client.with(IMPURE.retries(1)).map(mapVarying(args), idx);
        assertEquals(2, fs.get(0).result(T));
        assertEquals(4, fs.get(1).result(T));
        Throwable eight = cause(fs.get(2));
        assertInstanceOf(ArithmeticException.class, eight);
        assertTrue(eight.getMessage().contains("eight"), eight.getMessage());

        fs = client.with(IMPURE.retries(0)).map(mapVarying(args), idx);
        assertTrue(cause(fs.get(0)).getMessage().contains("one"));
        assertEquals(4, fs.get(1).result(T));
        assertTrue(cause(fs.get(2)).getMessage().contains("seven"));
    }

    /**
     * dask: test_client.py::test_map_batch_size — mapping over 100 elements (one list, two lists, and
     * two lists of 100 and 10) gives every result in order (dist batches by itself, no batch_size).
     */
    @Test
    void mapBatchSize() throws Exception {
        List<Integer> r100 = IntStream.range(0, 100).boxed().toList();
        assertEquals(IntStream.range(1, 101).boxed().toList(),
                client.gather((Object) client.map(ClientBasicsSubmitConformanceTest::inc, r100), T));
        assertEquals(IntStream.range(0, 100).map(i -> 2 * i).boxed().toList(),
                client.gather((Object) client.map(ClientBasicsSubmitConformanceTest::add, r100, r100), T));
        assertEquals(IntStream.range(0, 10).map(i -> 100 + 2 * i).boxed().toList(),
                client.gather((Object) client.map(ClientBasicsSubmitConformanceTest::add,
                        IntStream.range(100, 200).boxed().toList(), IntStream.range(0, 10).boxed().toList()), T));
    }

    /**
     * dask: test_client.py::test_compute_retries, test_retries_get — a delayed varying over
     * [error "one", error "two", 3]: without retries it fails with "one", with retries=1 with "two",
     * with retries=2 (and retries=5) it gives 3.
     */
    @Test
    void computeRetries() throws Exception {
        List<?> args = List.of(zde("one"), zde("two"), 3);
        Future<Object> x = client.compute(Delayed.of(varying(args)));
        assertTrue(cause(x).getMessage().contains("one"));
        x = client.with(Options.defaults().retries(1)).compute(Delayed.of(varying(args)));
        assertTrue(cause(x).getMessage().contains("two"));
        assertEquals(3, client.with(Options.defaults().retries(2)).compute(Delayed.of(varying(args))).result(T));
        assertEquals(3, client.with(Options.defaults().retries(2)).compute(
                Delayed.of(varying(List.of(zde("one"), zde("two"), 3, 4)))).result(T));
        assertEquals(3, Delayed.of(varying(args)).compute(client.with(Options.defaults().retries(5)), T));
        TaskFailedException e = assertThrows(TaskFailedException.class, () -> Delayed.of(varying(args)).compute(client, T));
        assertInstanceOf(ArithmeticException.class, e.getCause());
    }

    /**
     * dask: test_client.py::test_persist_retries — persisted with retries=1 the varying fails with
     * "two"; with retries=2 it gives 3.
     */
    @Test
    void persistRetries() throws Exception {
        List<?> args = List.of(zde("one"), zde("two"), 3);
        Delayed<Object> x = client.with(Options.defaults().retries(1)).persist(Delayed.of(varying(args)));
        assertTrue(cause(client.compute(x)).getMessage().contains("two"));
        x = client.with(Options.defaults().retries(2)).persist(Delayed.of(varying(args)));
        assertEquals(3, client.compute(x).result(T));
    }

    /**
     * dask: test_client.py::test_future_repr — a future's text holds its key and its status (the
     * pandas half has no counterpart).
     */
    @Test
    void futureRepr() throws Exception {
        Future<Integer> x = client.submit(ClientBasicsSubmitConformanceTest::inc, 10);
        x.result(T);
        assertTrue(x.toString().contains(x.key()), x.toString());
        assertTrue(x.toString().contains("success"), x.toString());
        assertEquals(Future.State.SUCCESS, x.state());
    }

    /**
     * dask: test_client.py::test_Future_exception_sync — exception() of div(1, 0) is the
     * ZeroDivisionError counterpart; of div(1, 1) it is none.
     */
    @Test
    void futureExceptionSync() throws Exception {
        assertInstanceOf(ArithmeticException.class, client.submit(ClientBasicsSubmitConformanceTest::div, 1, 0).exception(T));
        assertNull(client.submit(ClientBasicsSubmitConformanceTest::div, 1, 1).exception(T));
    }

    /**
     * dask: test_client.py::test_Future_release, test_Future_release_sync — a released future leaves
     * the client whether it finished, is still running, or erred; the scheduler then forgets its key.
     */
    @Test
    void futureRelease() throws Exception {
        Future<Double> x = client.submit(ClientBasicsSubmitConformanceTest::div, 3, 1);
        x.result(T);
        x.release();
        assertTrue(x.isReleased());
        assertTrue(cluster.forgets(x.key()));

        Future<Integer> y = client.with(IMPURE).submit(ClientBasicsSubmitConformanceTest::slowinc, 1, 300);
        y.release();
        assertTrue(y.isReleased());
        assertTrue(cluster.forgets(y.key()));

        Future<Double> z = client.submit(ClientBasicsSubmitConformanceTest::div, 3, 0);
        z.exception(T);
        z.release();
        assertTrue(cluster.forgets(z.key()));
        assertThrows(IllegalStateException.class, () -> z.result(T));
    }

    /**
     * dask: test_client.py::test_thread — inc(1) is 2; a 300 ms slowinc waited on for 10 ms times
     * out, then gives 2.
     */
    @Test
    void thread() throws Exception {
        assertEquals(2, client.submit(ClientBasicsSubmitConformanceTest::inc, 1).result(T));
        Future<Integer> x = client.with(IMPURE).submit(ClientBasicsSubmitConformanceTest::slowinc, 1, 300);
        assertThrows(DistTimeoutException.class, () -> x.result(Duration.ofMillis(10)));
        assertEquals(2, x.result(T));
    }

    /** dask: test_client.py::test_sync_exceptions — div(10, 2), then div(10, 0) raises, then div(10, 5) still works. */
    @Test
    void syncExceptions() throws Exception {
        assertEquals(5.0, client.submit(ClientBasicsSubmitConformanceTest::div, 10, 2).result(T));
        assertInstanceOf(ArithmeticException.class, cause(client.submit(ClientBasicsSubmitConformanceTest::div, 10, 0)));
        assertEquals(2.0, client.submit(ClientBasicsSubmitConformanceTest::div, 10, 5).result(T));
    }

    /**
     * dask: test_client.py::test_exception_on_exception — a task on an erred input raises the
     * input's error, and so does a task on that one.
     */
    @Test
    void exceptionOnException() {
        Future<Integer> x = client.submit(() -> 1 / zero());
        Future<Integer> y = client.submit(ClientBasicsSubmitConformanceTest::inc, x);
        assertInstanceOf(ArithmeticException.class, cause(y));
        Future<Integer> z = client.submit(ClientBasicsSubmitConformanceTest::inc, y);
        assertInstanceOf(ArithmeticException.class, cause(z));
    }

    static int zero() {
        return 0;
    }

    static int throwsIt(int x) {
        throw new RuntimeException("hello!");
    }

    /**
     * dask: test_client.py::test_errors_dont_block — among inc(1), throws(1), inc(2), throws(2) the
     * two incs finish and gather to [2, 3].
     */
    @Test
    void errorsDontBlock() throws Exception {
        Options o = IMPURE;
        List<Future<Integer>> l = List.of(client.with(o).submit(ClientBasicsSubmitConformanceTest::inc, 1),
                client.with(o).submit(ClientBasicsSubmitConformanceTest::throwsIt, 1),
                client.with(o).submit(ClientBasicsSubmitConformanceTest::inc, 2),
                client.with(o).submit(ClientBasicsSubmitConformanceTest::throwsIt, 2));
        assertTrue(dist.Wait.until(T, () -> l.get(0).state() == Future.State.SUCCESS && l.get(2).state() == Future.State.SUCCESS));
        assertEquals(List.of(2, 3), client.gather((Object) List.of(l.get(0), l.get(2)), T));
    }

    static boolean assertList(Object x) {
        return x instanceof List<?>;
    }

    static boolean assertList2(Object x, Object z) {
        return x instanceof List<?> && z instanceof List<?>;
    }

    /**
     * dask: test_client.py::test_submit_quotes, test_map_quotes — lists given as arguments arrive as
     * lists (futures inside them replaced by their values), for submit and for map.
     */
    @Test
    void submitAndMapQuotes() throws Exception {
        assertTrue(client.submit(ClientBasicsSubmitConformanceTest::assertList, List.of(1, 2, 3)).result(T));
        assertTrue(client.submit(ClientBasicsSubmitConformanceTest::assertList2, List.of(1, 2, 3), List.of(4, 5, 6)).result(T));
        Future<Integer> x = client.submit(ClientBasicsSubmitConformanceTest::inc, 1);
        Future<Integer> y = client.submit(ClientBasicsSubmitConformanceTest::inc, 2);
        Fn1<List<Integer>, Boolean> valuesInside = l -> l.equals(List.of(2, 3));
        assertTrue(client.submit(valuesInside, Futures.all(List.of(x, y))).result(T));

        assertEquals(List.of(true, true), client.gather((Object) client.map(ClientBasicsSubmitConformanceTest::assertList,
                List.of(List.of(1, 2, 3), List.of(4))), T));
        assertEquals(List.of(true, true), client.gather((Object) client.map(ClientBasicsSubmitConformanceTest::assertList2,
                List.of(List.of(1, 2, 3), List.of(4)), List.of(List.of(), List.of(), List.of())), T));
    }

    /**
     * dask: test_client.py::test_two_consecutive_clients_share_results — a pure call of a random
     * function gives the second client the first client's result.
     */
    @Test
    void twoConsecutiveClientsShareResults() throws Exception {
        Fn0<Integer> f = ClientBasicsSubmitConformanceTest::random;
        Future<Integer> x = client.submit(f);
        int xx = x.result(T);
        int yy;
        try (Client c2 = cluster.newClient()) {
            yy = c2.submit(f).result(T);
        }
        assertEquals(xx, yy);
    }

    static int random() {
        return java.util.concurrent.ThreadLocalRandom.current().nextInt(0, 1_000_000);
    }

    /** dask: test_client.py::test_traceback — the traceback of div(1, 0) shows div's line. */
    @Test
    void traceback() throws Exception {
        Future<Double> x = client.submit(ClientBasicsSubmitConformanceTest::div, 1, 0);
        x.exception(T);
        assertTrue(x.remoteStackTrace().contains("ClientBasicsSubmitConformanceTest.div("), x.remoteStackTrace());
    }

    private static boolean hasDivFrame(Throwable t) {
        for (StackTraceElement e : t.getStackTrace()) {
            if (e.getMethodName().equals("div") && e.getClassName().endsWith("ClientBasicsSubmitConformanceTest")) {
                return true;
            }
        }
        return false;
    }

    /**
     * dask: test_client.py::test_get_traceback, test_gather_traceback — the error raised by get and
     * by gather carries the remote frames, div's among them.
     */
    @Test
    void getAndGatherTraceback() throws Exception {
        TaskFailedException e = assertThrows(TaskFailedException.class, () -> client.get(
                new Graph().task("tb-x", ClientBasicsSubmitConformanceTest::div, 1, 0), "tb-x", T));
        assertInstanceOf(ArithmeticException.class, e.getCause());
        assertTrue(hasDivFrame(e.getCause()));
        Future<Double> x = client.submit(ClientBasicsSubmitConformanceTest::div, 1, 0);
        e = assertThrows(TaskFailedException.class, () -> client.gather((Object) x, T));
        assertTrue(hasDivFrame(e.getCause()));
    }

    /**
     * dask: test_client.py::test_traceback_sync — div(1, 0)'s traceback shows div; inc of it has a
     * traceback holding every line of the first; a success has none.
     */
    @Test
    void tracebackSync() throws Exception {
        Future<Double> x = client.submit(ClientBasicsSubmitConformanceTest::div, 1, 0);
        x.exception(T);
        String tb = x.remoteStackTrace();
        assertTrue(tb.contains("div("), tb);
        Fn1<Double, Double> incD = v -> v + 1;
        Future<Double> y = client.submit(incD, x);
        y.exception(T);
        String tb2 = y.remoteStackTrace();
        for (String line : tb.split("\n")) {
            assertTrue(tb2.contains(line.strip()), line);
        }
        Future<Double> z = client.submit(ClientBasicsSubmitConformanceTest::div, 1, 2);
        z.result(T);
        assertNull(z.remoteStackTrace());
    }

    static int bad(int x) {
        throw new IllegalArgumentException("a".repeat(100_000));
    }

    /**
     * dask: test_client.py::test_long_error — an error with a 100,000-character message arrives
     * with a shorter message, and no traceback line is that long.
     */
    @Test
    void longError() throws Exception {
        Future<Integer> x = client.submit(ClientBasicsSubmitConformanceTest::bad, 10);
        Throwable e = cause(x);
        assertInstanceOf(IllegalArgumentException.class, e);
        assertTrue(e.getMessage().length() < 100_000, "message of " + e.getMessage().length());
        for (String line : x.remoteStackTrace().split("\n")) {
            assertTrue(line.length() < 100_000);
        }
    }

    /**
     * dask: test_client.py::test_map_on_futures_with_kwargs — f(x, y=20) mapped over the futures of
     * inc(0..9) gives i + 1 + 20; f(inc(100), y=200) gives 301 (keywords are a second argument here).
     */
    @Test
    void mapOnFuturesWithKwargs() throws Exception {
        List<Future<Integer>> futures = client.map(ClientBasicsSubmitConformanceTest::inc,
                IntStream.range(0, 10).boxed().toList());
        List<Future<Integer>> futures2 = client.map(ClientBasicsSubmitConformanceTest::add, futures,
                java.util.Collections.nCopies(10, 20));
        assertEquals(IntStream.range(0, 10).map(i -> i + 1 + 20).boxed().toList(), client.gather((Object) futures2, T));
        Future<Integer> f = client.submit(ClientBasicsSubmitConformanceTest::inc, 100);
        assertEquals(301, client.submit(ClientBasicsSubmitConformanceTest::add, f, 200).result(T));
    }

    /** dask: test_client.py::test_remote_submit_on_Future — a lambda on the future of the same lambda gives 3. */
    @Test
    void remoteSubmitOnFuture() throws Exception {
        Fn1<Integer, Integer> f = v -> v + 1;
        Future<Integer> x = client.submit(f, 1);
        assertEquals(3, client.submit(f, x).result(T));
    }

    /**
     * dask: test_client.py::test_async_compute, test_sync_compute — computing [inc(x), dec(x)] of
     * delayed(1) gives two futures gathering to [2, 0]; compute of one gives one future, of a list a list.
     */
    @Test
    void asyncAndSyncCompute() throws Exception {
        Delayed<Integer> x = Delayed.value(1);
        Delayed<Integer> y = Delayed.of(ClientBasicsSubmitConformanceTest::inc, x);
        Delayed<Integer> z = Delayed.of(ClientBasicsSubmitConformanceTest::dec, x);
        List<Future<Integer>> yz = client.compute(List.of(y, z));
        assertEquals(List.of(2, 0), client.gather((Object) yz, T));
        assertInstanceOf(Future.class, client.compute(y));
        assertEquals(1, client.compute(List.of(y)).size());
        assertEquals(2, y.compute(client, T));
        assertEquals(0, z.compute(client, T));
    }

    /**
     * dask: test_client.py::test_async_persist — persisting y = inc(x) and w = add(y, dec(x)) gives
     * delayed values that compute to inc(1) and add(inc(1), dec(1)), and the scheduler holds them for
     * this client.
     */
    @Test
    void asyncPersist() throws Exception {
        Delayed<Integer> x = Delayed.value(1);
        Delayed<Integer> y = Delayed.of(ClientBasicsSubmitConformanceTest::inc, x);
        Delayed<Integer> z = Delayed.of(ClientBasicsSubmitConformanceTest::dec, x);
        Delayed<Integer> w = Delayed.of(ClientBasicsSubmitConformanceTest::add, y, z);
        Delayed<Integer> yy = client.persist(y);
        Delayed<Integer> ww = client.persist(w);
        assertInstanceOf(Delayed.class, yy);
        String yKey = yy.future().key();
        String wKey = ww.future().key();
        assertTrue(dist.Wait.until(T, () -> cluster.stateOf(yKey).equals("memory") && cluster.stateOf(wKey).equals("memory")));
        assertEquals(List.of(2, 2), client.gather((Object) client.compute(List.of(yy, ww)), T));
    }

    /**
     * dask: test_client.py::test_if_intermediates_clear_on_error — z = add(div(1, 0), div(1, 2))
     * fails with the division error, and no worker keeps the intermediate results afterwards.
     */
    @Test
    void intermediatesClearOnError() throws Exception {
        Graph g = new Graph().task("ice-x", ClientBasicsSubmitConformanceTest::div, 1, 0)
                .task("ice-y", ClientBasicsSubmitConformanceTest::div, 1, 2)
                .task("ice-z", ClientBasicsSubmitConformanceTest::addD, Graph.key("ice-x"), Graph.key("ice-y"));
        Future<Double> f = client.compute(g, "ice-z");
        assertInstanceOf(ArithmeticException.class, cause(f));
        assertTrue(dist.Wait.until(T, () -> cluster.whoHas("ice-y").isEmpty() && cluster.whoHas("ice-x").isEmpty()));
    }

    static double addD(double a, double b) {
        return a + b;
    }

    /**
     * dask: test_client.py::test_long_tasks_dont_trigger_timeout (slow in dask: a 3 s sleep) — a task
     * that runs two seconds still finishes; no heartbeat timeout removes its worker.
     */
    @Test
    void longTasksDontTriggerTimeout() throws Exception {
        assertEquals(2, client.with(IMPURE).submit(ClientBasicsSubmitConformanceTest::slowinc, 1, 2000).result(T));
    }

    /**
     * dask: test_client.py::test_bad_address — connecting to a port where no scheduler listens
     * fails with an I/O error that says it could not connect.
     */
    @Test
    void badAddress() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        int free = port;
        SchedulerUnavailableException e = assertThrows(SchedulerUnavailableException.class,
                () -> Client.connect("127.0.0.1:" + free, Duration.ofMillis(500)));
        assertEquals("127.0.0.1:" + free, e.address());
        assertTrue(e.getMessage().toLowerCase().contains("connect"), e.getMessage());
    }

    static int callMyFileX() throws Exception {
        Class<?> c = Class.forName("uploaded.Basics", true, Thread.currentThread().getContextClassLoader());
        return (Integer) c.getField("X").get(null);
    }

    /** dask: test_client.py::test_upload_file_sync — after uploading a module with x = 123, a task reading x gets 123. */
    @Test
    void uploadFileSync(@TempDir Path dir) throws Exception {
        client.uploadJar(JarBuilder.jar(dir, "basics", "uploaded.Basics", """
                package uploaded;
                public class Basics { public static final Integer X = 123; }
                """));
        assertEquals(123, client.with(IMPURE).submit(ClientBasicsSubmitConformanceTest::callMyFileX).result(T));
    }

    /**
     * dask: test_client.py::test_upload_file_exception, test_upload_file_exception_sync — uploading a
     * file that cannot be loaded raises (SyntaxError there; here a file that is not a jar, refused
     * by the workers: a DistException naming the file).
     */
    @Test
    void uploadFileException(@TempDir Path dir) throws Exception {
        Path bad = Files.writeString(dir.resolve("myfile.jar"), "syntax-error!");
        DistException e = assertThrows(DistException.class, () -> client.uploadJar(bad));
        assertTrue(e.getMessage().contains("myfile.jar"), e.getMessage());
    }

    /**
     * dask: test_client.py::test_upload_file_load — a module that would fail when imported uploads
     * with load=False. A jar's classes load only when a task uses them, so uploading one whose class
     * fails to initialise succeeds.
     */
    @Test
    void uploadFileLoad(@TempDir Path dir) throws Exception {
        client.uploadJar(JarBuilder.jar(dir, "broken", "uploaded.Broken", """
                package uploaded;
                public class Broken { static { if (true) throw new IllegalStateException("syntax-error!"); } }
                """));
    }

    /**
     * dask: test_client.py::test_no_future_references — futures the caller dropped are not kept
     * alive by the client: once unreachable they are collected.
     */
    @Test
    void noFutureReferences() throws Exception {
        List<java.lang.ref.WeakReference<Future<Integer>>> ws = new ArrayList<>();
        List<Future<Integer>> futures = client.with(IMPURE).map(ClientBasicsSubmitConformanceTest::inc,
                IntStream.range(0, 10).boxed().toList());
        client.gather((Object) futures, T);
        futures.forEach(f -> ws.add(new java.lang.ref.WeakReference<>(f)));
        futures = null;
        assertTrue(dist.Wait.until(T, () -> {
            System.gc();
            return ws.stream().allMatch(w -> w.get() == null);
        }), "futures still reachable");
    }

    static int square(int x) {
        return x * x;
    }

    /**
     * dask: test_map_keynames — map with key "INC" gives distinct keys starting with INC, other
     * inputs other keys; a list of keys names the tasks exactly.
     */
    @Test
    void mapKeynames() throws Exception {
        List<Future<Integer>> futures = client.with(Options.defaults().key("INC")).map(ClientBasicsSubmitConformanceTest::inc,
                List.of(0, 1, 2, 3));
        assertTrue(futures.stream().allMatch(f -> f.key().startsWith("INC")), futures.toString());
        assertEquals(4, futures.stream().map(Future::key).distinct().count());
        List<Future<Integer>> futures2 = client.with(Options.defaults().key("INC")).map(ClientBasicsSubmitConformanceTest::inc,
                List.of(5, 6, 7, 8));
        assertNotEquals(futures.stream().map(Future::key).toList(), futures2.stream().map(Future::key).toList());
        List<String> keys = List.of("inc-1", "inc-2", "inc-3", "inc-4");
        List<Future<Integer>> named = client.with(Options.defaults().keys(keys)).map(ClientBasicsSubmitConformanceTest::inc,
                List.of(0, 1, 2, 3));
        assertEquals(keys, named.stream().map(Future::key).toList());
        assertEquals(List.of(1, 2, 3, 4), client.gather(named));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> client.with(Options.defaults().keys(keys)).map(ClientBasicsSubmitConformanceTest::inc, List.of(0, 1)));
        assertTrue(e.getMessage().contains("one key per task"), e.getMessage());
    }

    /**
     * dask: test_custom_key_with_batches — ten tasks named "0".."9" (dask sends them in batches of
     * five; dist slices long maps by itself) all finish.
     */
    @Test
    void customKeyWithBatches() throws Exception {
        List<String> keys = IntStream.range(0, 10).mapToObj(i -> "sq-" + UUID.randomUUID() + "-" + i).toList();
        List<Future<Integer>> futs = client.with(Options.defaults().keys(keys)).map(ClientBasicsSubmitConformanceTest::square,
                IntStream.range(0, 10).boxed().toList());
        assertEquals(10, futs.size());
        assertEquals(IntStream.range(0, 10).map(x -> x * x).boxed().toList(), client.gather(futs));
    }

    static int deep(int n) {
        if (n == 0) {
            return 1 / n;
        }
        return deep(n - 1);
    }

    /**
     * dask: test_long_traceback — an error 200 calls deep keeps a short stack (dask: its pickled
     * traceback under 10,000 bytes) and its type, ZeroDivisionError there, ArithmeticException here.
     */
    @Test
    void longTraceback() throws Exception {
        Future<Integer> x = client.submit(ClientBasicsSubmitConformanceTest::deep, 200);
        Throwable e = x.exception(T);
        assertInstanceOf(ArithmeticException.class, e);
        assertTrue(e.getStackTrace().length <= 64, e.getStackTrace().length + " frames");
        assertTrue(java.util.Arrays.stream(e.getStackTrace()).anyMatch(f -> f.getMethodName().contains("frames omitted")),
                java.util.Arrays.toString(e.getStackTrace()));
        assertTrue(String.valueOf(x.remoteStackTrace()).length() < 10_000, String.valueOf(x.remoteStackTrace().length()));
    }
}
