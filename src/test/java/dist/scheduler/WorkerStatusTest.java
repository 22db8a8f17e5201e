package dist.scheduler;

import dist.protocol.Message.ComputeTask;
import dist.protocol.Message.WorkerStatusChange;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Worker status at the scheduler, on the bare state machine (every event followed by the
 * invariant checks): a paused worker is sent nothing new, its data is still read from, and it is
 * filed again when it runs. dask: test_scheduler.py::test_avoid_paused_workers,
 * test_queued_paused_unpaused (the same cases on a real cluster are in the conformance tests).
 */
class WorkerStatusTest {
    static final String A = "10.0.3.1:9000", B = "10.0.3.2:9000";

    static List<String> computedOn(List<Outgoing> out, String worker) {
        return out.stream().filter(o -> o.to().equals(worker) && o.message() instanceof ComputeTask)
                .map(o -> ((ComputeTask) o.message()).key()).toList();
    }

    @Test
    void aPausedWorkerGetsNoTaskItsDataIsReadAndItGetsWorkOnceItRuns() {
        Harness h = new Harness();
        h.register(A, "a", 1);
        h.register(B, "b", 1);
        h.submit("c", List.of(h.task("x")), "x");
        String xOn = h.s.view().processingOn("x");
        h.finish(xOn, "x", 8);
        String other = xOn.equals(A) ? B : A;
        h.worker(xOn, new WorkerStatusChange("paused"));
        assertEquals("paused", h.s.view().workerStatus(xOn));

        // its input only on the paused worker, y still goes to the other, which fetches it
        List<Outgoing> out = h.submit("c", List.of(h.task("y", "x")), "y");
        assertEquals(List.of("y"), computedOn(out, other));
        // root tasks: one to the free thread of the running worker, the others wait at the scheduler
        out = h.submit("c", List.of(h.task("r0"), h.task("r1"), h.task("r2")), "r0", "r1", "r2");
        assertTrue(computedOn(out, xOn).isEmpty(), "nothing new on the paused worker: " + out);
        assertTrue(h.s.view().queuedCount() >= 2, "the rest queue");

        out = h.worker(xOn, new WorkerStatusChange("running"));
        assertEquals("running", h.s.view().workerStatus(xOn));
        assertFalse(computedOn(out, xOn).isEmpty(), "a worker that runs again takes queued work: " + out);
    }

    @Test
    void everyWorkerPausedQueuesRootTasksAndRestrictedOnesWait() {
        Harness h = new Harness();
        h.register(A, "a", 1);
        h.register(B, "b", 1);
        h.worker(A, new WorkerStatusChange("paused"));
        h.worker(B, new WorkerStatusChange("paused"));
        List<Outgoing> out = h.submit("c", List.of(h.task("r0"), h.task("r1")), "r0", "r1");
        assertTrue(computedOn(out, A).isEmpty() && computedOn(out, B).isEmpty(), out.toString());
        assertEquals(2, h.s.view().queuedCount());
        out = h.submit("c", List.of(h.task("only-a", new dist.protocol.TaskOptions(List.of(A), false, java.util.Map.of(), 0))), "only-a");
        assertEquals("no-worker", h.s.view().stateOf("only-a"));
        out = h.worker(A, new WorkerStatusChange("running"));
        assertTrue(computedOn(out, A).contains("only-a") || computedOn(out, A).contains("r0"), out.toString());
    }

    @Test
    void anUnknownStatusIsRefused() {
        Harness h = new Harness();
        h.register(A, "a", 1);
        h.worker(A, new WorkerStatusChange("sleepy"));
        assertEquals("running", h.s.view().workerStatus(A));
    }

    /** A paused worker steals nothing: tasks piled on a busy worker stay there until it runs again. */
    @Test
    void aPausedWorkerStealsNothing() {
        Harness h = new Harness();
        h.register(A, "a", 1);
        h.register(B, "b", 1);
        h.submit("c", List.of(h.task("x")), "x");
        String on = h.s.view().processingOn("x");
        String other = on.equals(A) ? B : A;
        h.finish(on, "x", 8);
        h.worker(other, new WorkerStatusChange("paused"));
        List<dist.protocol.TaskSpec> ys = new java.util.ArrayList<>();
        for (int i = 0; i < 6; i++) {
            ys.add(h.task("y" + i, "x"));
        }
        h.submit("c", ys, "y0", "y1", "y2", "y3", "y4", "y5");
        for (int i = 0; i < 6; i++) {
            assertEquals(on, h.s.view().processingOn("y" + i));
        }
        for (int t = 0; t < 5; t++) {
            h.now += 200_000_000L;
            List<Outgoing> out = h.event(new SchedulerEvent.Tick());
            assertTrue(out.stream().noneMatch(o -> o.message() instanceof dist.protocol.Message.StealRequest), out.toString());
        }
    }
}
