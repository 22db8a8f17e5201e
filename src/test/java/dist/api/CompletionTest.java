package dist.api;

import dist.TaskCancelledException;
import dist.AsCompleted;
import dist.Client;
import dist.Future;
import dist.Futures;
import dist.Options;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** cancel, as-completed, wait and completion callbacks on a thread-worker cluster. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CompletionTest {
    static final Duration T = Duration.ofSeconds(30);
    static ClusterFixture fx;
    static Client client;
    /** Thread workers share this JVM, so a task can leave a mark here. */
    static final Set<Integer> RAN = ConcurrentHashMap.newKeySet();

    @BeforeAll
    static void start() throws Exception {
        fx = ClusterFixture.start(2, 2);
        client = fx.client;
    }

    @AfterAll
    static void stop() {
        fx.close();
    }

    static int inc(int x) {
        return x + 1;
    }

    static int mark(int x) {
        RAN.add(x);
        return x;
    }

    static int sleepy(int millis) throws InterruptedException {
        Thread.sleep(millis);
        return millis;
    }

    static int boom(int x) {
        throw new IllegalArgumentException("bad " + x);
    }

    // ------------------------------------------------------------------ cancel

    @Test
    void cancelledTasksNeverRunAndTheirDependentsAreCancelled() throws Exception {
        Client impure = client;
        List<Future<Integer>> blockers = impure.with(Options.defaults().pure(false))
                .map(CompletionTest::sleepy, List.of(400, 400, 400, 400));   // every thread busy
        Future<Integer> queued = client.submit(CompletionTest::mark, 7001);
        Future<Integer> dependent = client.submit(CompletionTest::inc, queued);
        assertEquals(1, client.cancel(List.of(queued)));
        assertTrue(queued.isCancelled());
        assertThrows(TaskCancelledException.class, () -> queued.result(T));
        TaskCancelledException c = assertThrows(TaskCancelledException.class, () -> dependent.result(T));
        assertTrue(c.getMessage().contains(dependent.key()), c.getMessage());
        assertTrue(dependent.isCancelled());
        client.gather(blockers);
        Future<Integer> after = client.with(Options.defaults().pure(false)).submit(CompletionTest::mark, 7002);
        after.result(T); // ran after the slot freed: the cancelled one would have run before it
        assertFalse(RAN.contains(7001), "a cancelled task must not run");
        assertTrue(RAN.contains(7002));
    }

    @Test
    void cancellingAFinishedFutureDeletesItsResult() throws Exception {
        Future<Integer> f = client.submit(CompletionTest::inc, 7100);
        assertEquals(7101, f.result(T));
        assertFalse(f.cancel(true), "Future.cancel keeps the JDK's meaning: false once done");
        assertEquals(1, client.cancel(List.of(f)), "client.cancel deletes a computed result");
        assertThrows(TaskCancelledException.class, f::result);
        assertTrue(ClusterFixture.eventually(T, () -> fx.stateOf(f.key()).equals("null")));
        assertEquals(0, client.cancel(List.of(f)), "a second cancel changes nothing");
    }

    // ------------------------------------------------------------------ as completed

    @Test
    void theSeedsAsCompletedExample() throws Exception {
        Future<Integer> x = client.submit(CompletionTest::inc, 1);
        Future<Integer> y = client.submit(CompletionTest::inc, x);
        AsCompleted<Integer> seq = Futures.asCompleted(List.of(x, y));
        assertEquals(2, seq.next().result());
        assertEquals(3, seq.next().result());
        assertFalse(seq.hasNext());
    }

    @Test
    void asCompletedTakesMoreFuturesWhileIteratingAndGivesResults() throws Exception {
        AsCompleted<Integer> seq = Futures.asCompleted(client.map(CompletionTest::inc, List.of(10, 20)));
        List<Integer> seen = new ArrayList<>();
        for (Future<Integer> f : seq) {
            int v = f.result(T);
            seen.add(v);
            if (v < 30) {
                seq.add(client.submit(CompletionTest::inc, f));
            }
        }
        List<Integer> expected = new ArrayList<>(IntStream.rangeClosed(11, 30).boxed().toList());
        expected.addAll(IntStream.rangeClosed(21, 30).boxed().toList());
        assertEquals(expected.stream().sorted().toList(), seen.stream().sorted().toList());
        List<Future<Integer>> mixed = List.of(client.submit(CompletionTest::inc, 1), client.submit(CompletionTest::boom, 2));
        int ok = 0;
        int failed = 0;
        for (AsCompleted.Completed<Integer> c : Futures.asCompleted(mixed).withResults()) {
            if (c.succeeded()) {
                assertEquals(2, c.result());
                ok++;
            } else {
                assertInstanceOf(IllegalArgumentException.class, c.error());
                failed++;
            }
        }
        assertEquals(1, ok);
        assertEquals(1, failed);
    }

    @Test
    void asCompletedOverTenThousandFuturesWithCancellationsEnds() throws Exception {
        List<Future<Integer>> fs = client.with(Options.defaults().pure(false))
                .map(CompletionTest::inc, IntStream.range(0, 10_000).boxed().toList());
        List<Future<Integer>> cancelled = new ArrayList<>();
        for (int i = 0; i < fs.size(); i += 10) {
            cancelled.add(fs.get(i));
        }
        AsCompleted<Integer> seq = Futures.asCompleted(fs);
        client.cancel(cancelled);
        Future<Integer> released = client.with(Options.defaults().pure(false)).submit(CompletionTest::sleepy, 60_000);
        seq.add(released);
        released.release(); // will never finish for this client: must still be yielded
        int n = 0;
        int nCancelled = 0;
        Set<String> keys = new HashSet<>();
        while (seq.hasNext()) {
            Future<Integer> f = seq.next(T);
            assertNotNull(f, "as-completed stalled after " + n + " futures");
            n++;
            keys.add(f.key());
            if (f.isCancelled()) {
                nCancelled++;
            }
        }
        assertEquals(10_001, n);
        assertEquals(10_001, keys.size());
        assertTrue(nCancelled >= 1, "cancelled futures are yielded too");
        assertNull(seq.next(Duration.ofMillis(1)));
        client.cancel(List.of(released));
    }

    // ------------------------------------------------------------------ wait

    @Test
    void waitReturnsDoneAndNotDone() throws Exception {
        Future<Integer> fast = client.submit(CompletionTest::inc, 7200);
        Future<Integer> slow = client.with(Options.defaults().pure(false)).submit(CompletionTest::sleepy, 1_000);
        Futures.DoneAndNotDone<Integer> first = Futures.wait(List.of(fast, slow), T, Futures.ReturnWhen.FIRST_COMPLETED);
        assertEquals(Set.of(fast), first.done());
        assertEquals(Set.of(slow), first.notDone());
        Futures.DoneAndNotDone<Integer> timedOut = Futures.wait(List.of(fast, slow), Duration.ofMillis(50));
        assertEquals(Set.of(slow), timedOut.notDone());
        slow.cancel(true);
        Futures.DoneAndNotDone<Integer> all = Futures.wait(List.of(fast, slow), T, Futures.ReturnWhen.ALL_COMPLETED);
        assertEquals(2, all.done().size());
        assertTrue(all.notDone().isEmpty());
        Future<Integer> bad = client.submit(CompletionTest::boom, 7201);
        Future<Integer> slow2 = client.with(Options.defaults().pure(false)).submit(CompletionTest::sleepy, 1_000);
        Futures.DoneAndNotDone<Integer> ex = Futures.wait(List.of(slow2, bad), T, Futures.ReturnWhen.FIRST_EXCEPTION);
        assertEquals(Set.of(bad), ex.done());
        slow2.cancel(true);
    }

    // ------------------------------------------------------------------ callbacks

    @Test
    void callbacksRunOffTheIoThreadsAndMayBlock() throws Exception {
        Future<Integer> f = client.submit(CompletionTest::inc, 7300);
        CompletableFuture<String> seen = new CompletableFuture<>();
        f.addDoneCallback(done -> {
            try {
                seen.complete(Thread.currentThread().getName() + ":" + done.result()); // blocking is allowed here
            } catch (Exception e) {
                seen.completeExceptionally(e);
            }
        });
        assertEquals("dist-callback:7301", seen.get(30, TimeUnit.SECONDS));
        CountDownLatch late = new CountDownLatch(1);
        f.addDoneCallback(done -> late.countDown()); // already done: runs at once
        assertTrue(late.await(30, TimeUnit.SECONDS));
        f.addDoneCallback(done -> {
            throw new IllegalStateException("a callback that throws harms nothing");
        });

        CompletableFuture<Integer> cf = client.submit(CompletionTest::inc, 7400).toCompletableFuture();
        assertEquals(7402, cf.thenApply(v -> v + 1).get(30, TimeUnit.SECONDS));
        CompletableFuture<Integer> failing = client.submit(CompletionTest::boom, 7401).toCompletableFuture();
        ExecutionException e = assertThrows(ExecutionException.class, () -> failing.get(30, TimeUnit.SECONDS));
        assertInstanceOf(IllegalArgumentException.class, e.getCause());

        AtomicInteger cancelledCalls = new AtomicInteger();
        CountDownLatch cancelledSeen = new CountDownLatch(1);
        Future<Integer> slow = client.with(Options.defaults().pure(false)).submit(CompletionTest::sleepy, 1_000);
        slow.addDoneCallback(done -> {
            if (done.isCancelled()) {
                cancelledCalls.incrementAndGet();
            }
            cancelledSeen.countDown();
        });
        slow.cancel(true);
        assertTrue(cancelledSeen.await(30, TimeUnit.SECONDS));
        assertEquals(1, cancelledCalls.get());
    }
}
