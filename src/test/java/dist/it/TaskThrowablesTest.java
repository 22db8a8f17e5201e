package dist.it;

import dist.TaskFailedException;
import dist.Client;
import dist.Future;
import dist.LocalCluster;
import dist.Options;
import dist.worker.TaskContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Whatever a task throws (a stack overflow, an internal error, an exception whose message throws)
 * is that task's error, reaches its future and its dependents, and leaves the worker process and its
 * slot working: one worker JVM with one thread serves every test here.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TaskThrowablesTest {
    static final Duration T = Duration.ofSeconds(60);

    LocalCluster cluster;
    Client client;
    List<Long> workerPids;

    @BeforeAll
    void start() throws Exception {
        cluster = LocalCluster.builder().workers(1).threadsPerWorker(1).processes(true).output(null).start();
        client = cluster.client();
        workerPids = cluster.workerPids();
        assertEquals(1, workerPids.size());
    }

    @AfterAll
    void stop() {
        if (client != null) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    static int recurse(int n) {
        return recurse(n + 1) + 1;
    }

    static int secedeThenRecurse(int n) {
        TaskContext.current().secede();
        return recurse(n);
    }

    static int internalError(int n) {
        throw new InternalError("internal error " + n);
    }

    static int inc(int x) {
        return x + 1;
    }

    /** Set in the worker's JVM only (the task sets it): there the message of an Unspeakable cannot be read. */
    static volatile boolean unreadable;

    /** An exception whose message cannot be read where it was thrown: describing it throws too. */
    static final class Unspeakable extends RuntimeException {
        @Override
        public String getMessage() {
            if (unreadable) {
                throw new IllegalStateException("this message cannot be read");
            }
            return "unspeakable";
        }
    }

    static int unspeakable(int n) {
        unreadable = true;
        throw new Unspeakable();
    }

    /** The cause's class name and message, and those of its causes. */
    static String describe(Throwable t) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; t != null && i < 5; i++, t = t.getCause()) {
            b.append(t.getClass().getName()).append(": ").append(t.getMessage()).append(" | ");
        }
        return b.toString();
    }

    private void assertErs(Future<?> f, String expected) throws Exception {
        TaskFailedException e = assertThrows(TaskFailedException.class, () -> f.result(T),
                "the future of " + f.key() + " did not fail within " + T);
        assertTrue(describe(e.getCause()).contains(expected), describe(e.getCause()));
    }

    /** The one worker is the same process and runs a task: the slot the failure took is free again. */
    private void assertWorkerCarriesOn(int probe) throws Exception {
        assertEquals(probe + 1, client.with(Options.defaults().pure(false)).submit(TaskThrowablesTest::inc, probe)
                .result(T));
        assertEquals(workerPids, cluster.workerPids(), "the worker process changed");
    }

    @Test
    void aTaskThatRecursesForeverErsWithStackOverflowAndSoDoesItsDependent() throws Exception {
        Future<Integer> bad = client.with(Options.defaults().pure(false)).submit(TaskThrowablesTest::recurse, 0);
        Future<Integer> dependent = client.submit(TaskThrowablesTest::inc, bad);
        assertErs(bad, "StackOverflowError");
        assertErs(dependent, "StackOverflowError");
        assertWorkerCarriesOn(1);
    }

    @Test
    void overflowsQueuedBehindEachOtherAllErrOnTheSlotThread() throws Exception {
        // one thread: the first may run where its request was read, the others queue for the slot
        List<Integer> inputs = List.of(10, 11, 12, 13);
        List<Future<Integer>> bad = client.with(Options.defaults().pure(false)).map(TaskThrowablesTest::recurse, inputs);
        List<Future<Integer>> after = new ArrayList<>();
        for (Future<Integer> b : bad) {
            after.add(client.submit(TaskThrowablesTest::inc, b));
        }
        for (Future<Integer> b : bad) {
            assertErs(b, "StackOverflowError");
        }
        for (Future<Integer> a : after) {
            assertErs(a, "StackOverflowError");
        }
        assertWorkerCarriesOn(2);
    }

    @Test
    void aSecededTaskThatOverflowsErs() throws Exception {
        Future<Integer> bad = client.with(Options.defaults().pure(false)).submit(TaskThrowablesTest::secedeThenRecurse, 0);
        assertErs(bad, "StackOverflowError");
        assertWorkerCarriesOn(3);
    }

    @Test
    void anInternalErrorIsTheTasksError() throws Exception {
        Future<Integer> bad = client.with(Options.defaults().pure(false)).submit(TaskThrowablesTest::internalError, 7);
        assertErs(bad, "internal error 7");
        assertWorkerCarriesOn(4);
    }

    @Test
    void anExceptionWhoseMessageThrowsIsStillTheTasksError() throws Exception {
        Future<Integer> bad = client.with(Options.defaults().pure(false)).submit(TaskThrowablesTest::unspeakable, 0);
        assertErs(bad, "Unspeakable");
        assertWorkerCarriesOn(5);
    }
}
