package dist.conformance;

import dist.AsCompleted;
import dist.Client;
import dist.Future;
import dist.Futures;
import dist.LocalCluster;
import dist.Options;
import dist.Wait;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * dask's distributed/tests/test_as_completed.py, through {@link Futures#asCompleted}. dask's slowinc
 * is a task held at a gate here, opened after each test.
 *
 * <p>Not applicable:
 * <ul>
 * <li>test_as_completed_async, test_as_completed_timeout_async, test_async_for_py2_equivalent
 *     (as its async form), test_as_completed_error_async, test_as_completed_with_results_async,
 *     test_as_completed_with_results_no_raise_async → asyncio forms of the sync cases ported here;
 *     Java has no async iteration, and the sync cases check the same.</li>
 * <li>test_as_completed_with_non_futures → {@code asCompleted} takes {@code Collection<Future>}: the
 *     compiler refuses {@code List.of(1, 2, 3)}, dask's TypeError.</li>
 * </ul>
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AsCompletedConformanceTest {
    static final Duration T = Duration.ofSeconds(30);
    static LocalCluster cluster;
    static Client client;
    static volatile CountDownLatch gate = new CountDownLatch(1);

    static int inc(int x) {
        return x + 1;
    }

    static int add(int x, int y) {
        return x + y;
    }

    static int throwsHello(int x) {
        throw new RuntimeException("hello!");
    }

    /** dask's slowinc: inc once the gate opens (at most 30 s). */
    static int slowinc(int x) throws InterruptedException {
        gate.await(30, TimeUnit.SECONDS);
        return x + 1;
    }

    @BeforeAll
    static void start() throws Exception {
        cluster = LocalCluster.builder().workers(2).threadsPerWorker(2).output(null).start();
        client = cluster.client();
    }

    @AfterEach
    void openGate() {
        gate.countDown();
        gate = new CountDownLatch(1);
    }

    @AfterAll
    static void stop() {
        gate.countDown();
        if (client != null) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private static Options impure() {
        return Options.defaults().pure(false);
    }

    /**
     * dask: test_as_completed_timeout_sync — two quick futures and a slow one; two nexts succeed,
     * the third times out. dist's timed {@code next(Duration)} answers null on timeout (as
     * {@code BlockingQueue.poll}) where dask raises TimeoutError.
     */
    @Test
    void asCompletedTimeoutSync() throws Exception {
        Future<Integer> x = client.with(impure()).submit(AsCompletedConformanceTest::inc, 1);
        Future<Integer> y = client.with(impure()).submit(AsCompletedConformanceTest::inc, 1);
        Future<Integer> z = client.with(impure()).submit(AsCompletedConformanceTest::slowinc, 2);

        AsCompleted<Integer> seq = Futures.asCompleted(List.of(x, y, z));
        assertNotNull(seq.next(T));
        assertNotNull(seq.next(T));
        assertNull(seq.next(Duration.ofMillis(500)));
        assertTrue(seq.hasNext());
        assertFalse(z.isDone());
    }

    /**
     * dask: test_as_completed_sync — count() is 3, it is an Iterator, it yields {x, y, z}, count()
     * is then 0; as_completed([]) yields nothing.
     */
    @Test
    void asCompletedSync() {
        Future<Integer> x = client.submit(AsCompletedConformanceTest::inc, 1);
        Future<Integer> y = client.submit(AsCompletedConformanceTest::inc, 2);
        Future<Integer> z = client.with(impure()).submit(AsCompletedConformanceTest::inc, 1);

        AsCompleted<Integer> seq = Futures.asCompleted(List.of(x, y, z));
        assertEquals(3, seq.count());
        assertInstanceOf(Iterator.class, seq);
        Set<Future<Integer>> got = new HashSet<>();
        seq.forEach(got::add);
        assertEquals(Set.of(x, y, z), got);
        assertEquals(0, seq.count());

        AsCompleted<Integer> empty = Futures.asCompleted(List.<Future<Integer>>of());
        assertFalse(empty.hasNext());
        assertThrows(NoSuchElementException.class, empty::next);
    }

    /**
     * dask: test_as_completed_add — futures added while iterating are yielded too; the total of
     * results is what was expected.
     */
    @Test
    void asCompletedAdd() throws Exception {
        int expected = 0;
        for (int i = 0; i < 10; i++) {
            expected += inc(i);
        }
        List<Integer> range = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            range.add(i);
        }
        int total = 0;
        AsCompleted<Integer> ac = Futures.asCompleted(client.map(AsCompletedConformanceTest::inc, range));
        for (Future<Integer> future : ac) {
            int result = future.result(T);
            total += result;
            if (ThreadLocalRandom.current().nextBoolean()) {
                ac.add(client.submit(AsCompletedConformanceTest::add, future, 10));
                expected += result + 10;
            }
        }
        assertEquals(expected, total);
    }

    /**
     * dask: test_as_completed_update — work added in batches of 4 to an empty as_completed,
     * consumed with next_batch(block=True) until is_empty(); the total is as expected.
     */
    @Test
    void asCompletedUpdate() throws Exception {
        List<Integer> todo = new ArrayList<>();
        int expected = 0;
        for (int i = 100; i < 110; i++) {
            todo.add(i);
            expected += inc(i);
        }
        int total = 0;
        AsCompleted<Integer> ac = Futures.asCompleted(List.<Future<Integer>>of());
        while (!todo.isEmpty() || !ac.isEmpty()) {
            if (!todo.isEmpty()) {
                List<Integer> work = new ArrayList<>(todo.subList(0, Math.min(4, todo.size())));
                todo.subList(0, work.size()).clear();
                ac.addAll(client.map(AsCompletedConformanceTest::inc, work));
            }
            List<Future<Integer>> batch = ac.nextBatch(true);
            for (Future<Integer> r : batch) {
                total += r.result(T);
            }
        }
        assertEquals(expected, total);
    }

    /**
     * dask: test_as_completed_repeats — a future added twice is yielded twice (the same object),
     * then iteration stops; added again, it is yielded again.
     */
    @Test
    void asCompletedRepeats() {
        AsCompleted<Integer> ac = Futures.asCompleted(List.<Future<Integer>>of());
        Future<Integer> x = client.submit(AsCompletedConformanceTest::inc, 1);
        ac.add(x);
        ac.add(x);

        assertSame(x, ac.next());
        assertSame(x, ac.next());
        assertThrows(NoSuchElementException.class, ac::next);

        ac.add(x);
        assertSame(x, ac.next());
    }

    /** dask: test_as_completed_is_empty — empty, not empty once a future is added, empty once it is yielded. */
    @Test
    void asCompletedIsEmpty() {
        AsCompleted<Integer> ac = Futures.asCompleted(List.<Future<Integer>>of());
        assertTrue(ac.isEmpty());
        Future<Integer> x = client.submit(AsCompletedConformanceTest::inc, 1);
        ac.add(x);
        assertFalse(ac.isEmpty());
        assertSame(x, ac.next());
        assertTrue(ac.isEmpty());
    }

    /**
     * dask: test_as_completed_cancel — a cancelled future is yielded as well as the finished one,
     * nothing more is queued; as_completed([x, y, x]) yields three, x twice.
     */
    @Test
    void asCompletedCancel() throws Exception {
        Future<Integer> x = client.with(impure()).submit(AsCompletedConformanceTest::slowinc, 1);
        Future<Integer> y = client.with(impure()).submit(AsCompletedConformanceTest::inc, 1);

        AsCompleted<Integer> ac = Futures.asCompleted(List.of(x, y));
        x.cancel(true);

        Set<Future<Integer>> got = new HashSet<>(List.of(ac.next(), ac.next()));
        assertEquals(Set.of(x, y), got);
        assertNull(ac.next(Duration.ofMillis(100)));
        assertEquals(0, ac.readyCount());

        List<Future<Integer>> res = new ArrayList<>();
        Futures.asCompleted(List.of(x, y, x)).forEach(res::add);
        assertEquals(3, res.size());
        assertEquals(Set.of(x, y), new HashSet<>(res));
        assertEquals(2, Collections.frequency(res, x));
    }

    /**
     * dask: test_as_completed_cancel_last — w and y held, cancelled a moment after iteration
     * starts; iterating {x, y} still ends, yielding both.
     */
    @Test
    void asCompletedCancelLast() throws Exception {
        Future<Integer> w = client.with(impure()).submit(AsCompletedConformanceTest::slowinc, 0);
        Future<Integer> x = client.with(impure()).submit(AsCompletedConformanceTest::inc, 1);
        Future<Integer> y = client.with(impure()).submit(AsCompletedConformanceTest::slowinc, 0);

        AsCompleted<Integer> ac = Futures.asCompleted(List.of(x, y));
        Thread canceller = Thread.ofVirtual().start(() -> {
            assertDoesNotThrow(() -> x.result(T));
            w.cancel(true);
            y.cancel(true);
        });
        Set<Future<Integer>> result = new HashSet<>();
        ac.forEach(result::add);
        canceller.join(T);

        assertEquals(Set.of(x, y), result);
        assertTrue(y.isCancelled());
    }

    /**
     * dask: test_async_for_py2_equivalent — three impure calls of one function: three keys, every
     * yielded future done.
     */
    @Test
    void asCompletedImpureMap() {
        List<Future<Integer>> futures = client.with(impure()).map(AsCompletedConformanceTest::inc, List.of(5, 5, 5));
        List<Future<Integer>> got = new ArrayList<>();
        Futures.asCompleted(futures).forEach(got::add);
        assertEquals(3, got.size());
        for (Future<Integer> f : got) {
            assertTrue(f.isDone());
        }
        assertEquals(3, new HashSet<>(got.stream().map(Future::key).toList()).size());
    }

    /** dask: test_as_completed_error — a failing and a finishing future both come out; statuses "error", "finished". */
    @Test
    void asCompletedError() {
        Future<Integer> x = client.with(impure()).submit(AsCompletedConformanceTest::throwsHello, 1);
        Future<Integer> y = client.with(impure()).submit(AsCompletedConformanceTest::inc, 1);

        Set<Future<Integer>> result = new HashSet<>();
        Futures.asCompleted(List.of(x, y)).forEach(result::add);

        assertEquals(Set.of(x, y), result);
        assertEquals(Future.State.FAILED, x.state());
        assertEquals(Future.State.SUCCESS, y.state());
    }

    /**
     * dask: test_as_completed_with_results — with_results over a failing, a cancelled and a
     * finishing future; dask raises the RuntimeError "hello!" from the iteration. dist's
     * {@code withResults()} never raises: each item carries its error, so the caller rethrows it;
     * the same error, with "hello!", is there.
     */
    @Test
    void asCompletedWithResults() {
        Future<Integer> x = client.with(impure()).submit(AsCompletedConformanceTest::throwsHello, 1);
        Future<Integer> y = client.with(impure()).submit(AsCompletedConformanceTest::slowinc, 5);
        Future<Integer> z = client.with(impure()).submit(AsCompletedConformanceTest::inc, 1);

        AsCompleted<Integer> ac = Futures.asCompleted(List.of(x, y, z));
        y.cancel(true);
        RuntimeException raised = assertThrows(RuntimeException.class, () -> {
            for (AsCompleted.Completed<Integer> c : ac.withResults()) {
                if (c.error() instanceof RuntimeException e && !(e instanceof CancellationException)) {
                    throw e;
                }
            }
        });
        assertTrue(String.valueOf(raised.getMessage()).contains("hello!"), String.valueOf(raised));
    }

    /**
     * dask: test_as_completed_with_results_no_raise — one item per future; statuses error,
     * cancelled, finished; y's is a CancelledError (or 6), x's a RuntimeError, z's result 2.
     */
    @Test
    void asCompletedWithResultsNoRaise() {
        Future<Integer> x = client.with(impure()).submit(AsCompletedConformanceTest::throwsHello, 1);
        Future<Integer> y = client.with(impure()).submit(AsCompletedConformanceTest::slowinc, 5);
        Future<Integer> z = client.with(impure()).submit(AsCompletedConformanceTest::inc, 1);

        AsCompleted<Integer> ac = Futures.asCompleted(List.of(x, y, z));
        y.cancel(true);
        Map<Future<Integer>, AsCompleted.Completed<Integer>> dd = new HashMap<>();
        for (AsCompleted.Completed<Integer> c : ac.withResults()) {
            dd.put(c.future(), c);
        }

        assertEquals(Set.of(x, y, z), dd.keySet());
        assertEquals(Future.State.FAILED, x.state());
        assertEquals(Future.State.CANCELLED, y.state());
        assertEquals(Future.State.SUCCESS, z.state());

        assertInstanceOf(CancellationException.class, dd.get(y).error());
        assertInstanceOf(RuntimeException.class, dd.get(x).error());
        assertTrue(dd.get(x).error().getMessage().contains("hello!"), String.valueOf(dd.get(x).error()));
        assertEquals(2, dd.get(z).result());
    }

    /**
     * dask: test_str — str and repr say "waiting=3" and "done=0" at first; after one next, "done=2"
     * within a bound.
     */
    @Test
    void str() throws Exception {
        List<Future<Integer>> futures = client.with(impure()).map(AsCompletedConformanceTest::slowinc, List.of(0, 1, 2));
        AsCompleted<Integer> ac = Futures.asCompleted(futures);
        assertTrue(ac.toString().contains("waiting=3"), ac.toString());
        assertTrue(ac.toString().contains("done=0"), ac.toString());

        gate.countDown();
        ac.next();

        assertTrue(Wait.until(T, () -> ac.toString().contains("done=2")), ac.toString());
    }

    /** dask: test_clear — after the futures finish, clear() ends the iteration. */
    @Test
    void clear() throws Exception {
        List<Future<Integer>> futures = client.map(AsCompletedConformanceTest::inc, List.of(20, 21, 22));
        AsCompleted<Integer> ac = Futures.asCompleted(futures);
        Futures.wait(futures, T);
        ac.clear();
        assertFalse(ac.hasNext());
        assertThrows(NoSuchElementException.class, ac::next);
    }
}
