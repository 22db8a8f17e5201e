package dist.api;

import dist.Client;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** client.executorService() behaves as the JDK documents ExecutorService. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ExecutorServiceTest {
    static ClusterFixture fx;
    static Client client;
    static final Set<String> RAN = ConcurrentHashMap.newKeySet();

    @BeforeAll
    static void start() throws Exception {
        fx = ClusterFixture.start(2, 2);
        client = fx.client;
    }

    @AfterAll
    static void stop() {
        fx.close();
    }

    record Square(int x) implements Callable<Integer> {
        @Override
        public Integer call() {
            return x * x;
        }
    }

    record Sleep(long millis, int value) implements Callable<Integer> {
        @Override
        public Integer call() throws InterruptedException {
            Thread.sleep(millis);
            return value;
        }
    }

    record Fail(String why) implements Callable<Integer> {
        @Override
        public Integer call() {
            throw new IllegalStateException(why);
        }
    }

    record Mark(String name) implements Runnable {
        @Override
        public void run() {
            RAN.add(name);
        }
    }

    /** Code written for any thread pool. */
    static int sumOfSquares(ExecutorService pool, int n) throws Exception {
        List<Callable<Integer>> tasks = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            tasks.add(new Square(i));
        }
        int total = 0;
        for (Future<Integer> f : pool.invokeAll(tasks)) {
            total += f.get();
        }
        return total + pool.submit(new Square(n)).get(30, TimeUnit.SECONDS);
    }

    @Test
    void codeWrittenForAThreadPoolRunsUnchanged() throws Exception {
        ExecutorService local = Executors.newFixedThreadPool(2);
        try {
            assertEquals(sumOfSquares(local, 20), sumOfSquares(client.executorService(), 20));
        } finally {
            local.shutdownNow();
        }
    }

    @Test
    void submitCallableRunnableAndFailures() throws Exception {
        ExecutorService pool = client.executorService();
        assertEquals(42, pool.submit((Callable<Integer> & Serializable) () -> 6 * 7).get(30, TimeUnit.SECONDS));
        assertNull(pool.submit(new Mark("plain")).get(30, TimeUnit.SECONDS));
        assertEquals("done", pool.submit(new Mark("with-result"), "done").get(30, TimeUnit.SECONDS));
        assertTrue(RAN.containsAll(Set.of("plain", "with-result")));
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> pool.submit(new Fail("nope")).get(30, TimeUnit.SECONDS));
        assertInstanceOf(IllegalStateException.class, e.getCause());
        assertEquals("nope", e.getCause().getMessage());
        pool.execute(new Mark("executed"));
        pool.shutdown();
        assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
        assertTrue(RAN.contains("executed"), "execute runs the task before termination");
        Callable<Integer> notSerializable = () -> 1;
        RejectedExecutionException r = assertThrows(RejectedExecutionException.class,
                () -> client.executorService().submit(notSerializable));
        assertTrue(r.getMessage().contains("Serializable"), r.getMessage());
        assertThrows(NullPointerException.class, () -> client.executorService().submit((Callable<Integer>) null));
    }

    @Test
    void shutdownRejectsNewTasksAndTerminatesWhenTasksAreDone() throws Exception {
        ExecutorService pool = client.executorService();
        Future<Integer> slow = pool.submit(new Sleep(300, 1));
        pool.shutdown();
        assertTrue(pool.isShutdown());
        assertThrows(RejectedExecutionException.class, () -> pool.submit(new Square(2)));
        assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
        assertTrue(pool.isTerminated());
        assertEquals(1, slow.get());

        ExecutorService idle = client.executorService();
        assertFalse(idle.isTerminated());
        idle.shutdown();
        assertTrue(idle.isTerminated(), "a shut-down executor with nothing running is terminated");
        idle.close();
    }

    @Test
    void shutdownNowCancelsWhatIsNotDone() throws Exception {
        ExecutorService pool = client.executorService();
        List<Future<Integer>> fs = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            fs.add(pool.submit(new Sleep(1_000, i)));
        }
        List<Runnable> notRun = pool.shutdownNow();
        assertEquals(8, notRun.size());
        assertTrue(pool.isShutdown());
        assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
        for (Future<Integer> f : fs) {
            assertTrue(f.isCancelled());
            assertThrows(CancellationException.class, f::get);
        }
    }

    @Test
    void invokeAllWithATimeoutCancelsTheRest() throws Exception {
        ExecutorService pool = client.executorService();
        List<Future<Integer>> fs = pool.invokeAll(List.of(new Square(3), new Sleep(4_000, 0)), 2500, TimeUnit.MILLISECONDS);
        assertEquals(9, fs.get(0).get());
        assertTrue(fs.get(1).isCancelled());
        for (Future<Integer> f : fs) {
            assertTrue(f.isDone(), "invokeAll returns only done futures");
        }
    }

    @Test
    void invokeAnyReturnsASuccessAndFailsWhenAllFail() throws Exception {
        ExecutorService pool = client.executorService();
        assertEquals(16, pool.invokeAny(List.of(new Fail("a"), new Square(4), new Fail("b"))));
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> pool.invokeAny(List.of(new Fail("c"), new Fail("d"))));
        assertInstanceOf(IllegalStateException.class, e.getCause());
        assertThrows(TimeoutException.class,
                () -> pool.invokeAny(List.of(new Sleep(3_000, 1)), 100, TimeUnit.MILLISECONDS));
        assertThrows(IllegalArgumentException.class, () -> pool.invokeAny(List.<Callable<Integer>>of()));
    }
}
