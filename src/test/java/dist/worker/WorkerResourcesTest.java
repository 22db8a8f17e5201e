package dist.worker;

import dist.protocol.Message.ComputeTask;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The worker's own resource ledger, as dask's worker-state tests in test_resources.py drive it.
 * Priorities are the worker's: the lower value runs first.
 */
class WorkerResourcesTest {
    static final String SELF = "10.0.0.1:9000";
    static final Map<String, Double> R = Map.of("R", 1.0);
    long now = 1;

    List<WorkerInstruction> on(WorkerMachine ws, WorkerEvent e) {
        return ws.handle(e, now++);
    }

    static WorkerEvent compute(String key, long priority, Map<String, Double> needs) {
        return new WorkerEvent.Compute(new ComputeTask(key, key.getBytes(), Map.of(), Map.of(), priority, null, true,
                needs));
    }

    static WorkerEvent done(String key) {
        return new WorkerEvent.ExecuteDone(key, 8, "I", 1, 2, null);
    }

    static List<String> started(List<WorkerInstruction> out) {
        return out.stream().filter(i -> i instanceof WorkerInstruction.Execute)
                .map(i -> ((WorkerInstruction.Execute) i).key()).toList();
    }

    static WorkerMachine worker(int threads) {
        return new WorkerMachine(SELF, threads, WorkerConfig.defaults()).offering(R);
    }

    /** dask: test_resources.py::test_constrained_tasks_respect_priority. */
    @Test
    void constrainedTasksRespectPriority() {
        WorkerMachine ws = worker(1);
        assertEquals(List.of("clog"), started(on(ws, compute("clog", 0, R))));
        on(ws, compute("x1", 1, R));
        on(ws, compute("x2", 2, R));
        on(ws, compute("x3", 0, R));
        assertEquals(List.of("x3"), started(on(ws, done("clog"))));
        assertEquals(List.of("x1"), started(on(ws, done("x3"))));
        assertEquals(List.of("x2"), started(on(ws, done("x1"))));
    }

    /**
     * dask: test_resources.py::test_constrained_vs_ready_priority_1 — behind a clog, x (no
     * resources) and y (R) in either order: the one of higher priority starts first.
     */
    @Test
    void constrainedVsReadyPriority1() {
        for (boolean swap : new boolean[]{false, true}) {
            for (long[] p : new long[][]{{1, 0}, {0, 1}}) {
                WorkerMachine ws = worker(1);
                on(ws, compute("clog", 0, null));
                List<WorkerEvent> both = List.of(compute("x", p[0], null), compute("y", p[1], R));
                for (WorkerEvent e : swap ? both.reversed() : both) {
                    on(ws, e);
                }
                assertEquals(List.of(p[0] < p[1] ? "x" : "y"), started(on(ws, done("clog"))),
                        "swap=" + swap + " p=" + java.util.Arrays.toString(p));
            }
        }
    }

    /**
     * dask: test_resources.py::test_constrained_vs_ready_priority_2 — two threads, clog1 (no
     * resources) and clog2 (R) run: when clog1 ends x starts, whatever the priorities, since y's
     * resource is taken.
     */
    @Test
    void constrainedVsReadyPriority2() {
        for (boolean swap : new boolean[]{false, true}) {
            for (long[] p : new long[][]{{1, 0}, {0, 1}}) {
                WorkerMachine ws = worker(2);
                on(ws, compute("clog1", 0, null));
                on(ws, compute("clog2", 0, R));
                List<WorkerEvent> both = List.of(compute("x", p[0], null), compute("y", p[1], R));
                for (WorkerEvent e : swap ? both.reversed() : both) {
                    on(ws, e);
                }
                assertEquals(List.of("x"), started(on(ws, done("clog1"))));
                assertEquals(List.of("y"), started(on(ws, done("clog2"))));
            }
        }
    }

    /**
     * dask: test_resources.py::test_cancelled_with_resources, test_resumed_with_resources — x (R)
     * executes and is freed: it keeps R while its code runs, so y (R) waits on a free thread; when
     * x's code ends, by success or failure, y starts.
     */
    @Test
    void cancelledTaskKeepsItsResourcesUntilItsCodeEnds() {
        for (boolean fail : new boolean[]{false, true}) {
            WorkerMachine ws = worker(2);
            assertEquals(List.of("x"), started(on(ws, compute("x", 0, R))));
            on(ws, new WorkerEvent.Free(List.of("x")));
            assertEquals(List.of(), started(on(ws, compute("y", 0, R))));
            assertEquals("ready", ws.stateOf("y"));
            WorkerEvent end = fail ? new WorkerEvent.ExecuteFailed("x", null, "boom", 1, 2) : done("x");
            assertEquals(List.of("y"), started(on(ws, end)));
        }
    }

    /** A need the worker does not offer, or cannot ever meet, does not hold a task back forever. */
    @Test
    void aNeedThisWorkerCannotMeetDoesNotBlock() {
        WorkerMachine ws = worker(1);
        assertEquals(List.of("x"), started(on(ws, compute("x", 0, Map.of("GPU", 1.0)))));
        on(ws, compute("y", 0, Map.of("R", 5.0)));
        assertEquals(List.of("y"), started(on(ws, done("x"))), "y needs more R than offered: it runs when a thread frees");
    }

    /**
     * dask: test_resources.py::test_resumed_with_different_resources — x (R=1) executes, is freed,
     * and is asked for again with R=0.4 while its code still runs: it keeps the whole R it took
     * (y, needing 0.6, waits), and gives all of it back when it ends.
     */
    @Test
    void resumedWithDifferentResources() {
        WorkerMachine ws = worker(2);
        assertEquals(List.of("x"), started(on(ws, compute("x", 0, R))));
        on(ws, new WorkerEvent.Free(List.of("x")));
        assertEquals(List.of(), started(on(ws, compute("x", 0, Map.of("R", 0.4)))));
        assertEquals("executing", ws.stateOf("x"));
        assertEquals(List.of(), started(on(ws, compute("y", 0, Map.of("R", 0.6)))));
        assertEquals(List.of("y"), started(on(ws, done("x"))));
    }
}
