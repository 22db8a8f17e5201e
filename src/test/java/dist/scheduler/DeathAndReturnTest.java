package dist.scheduler;

import dist.protocol.Message.*;
import dist.protocol.TaskSpec;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dist.scheduler.Harness.*;
import static org.junit.jupiter.api.Assertions.*;

/** Executing-only suspicion, nanny death reasons, a returning scheduler, and restart, fed as events. */
class DeathAndReturnTest {

    static final String A = "10.0.0.1:9000", B = "10.0.0.2:9000", C = "10.0.0.3:9000", D = "10.0.0.4:9000";

    @Test
    void queuedTasksOnADeadWorkerAreReplacedWithoutSuspicion() {
        Harness h = new Harness(1);
        h.register(A, "alice", 1);
        // a short task kind is pipelined: several go to A at once and wait in A's own queue
        h.submit("c1", List.of(h.task("f-0")), "f-0");
        h.worker(A, new TaskFinished("f-0", 8, "int", 0, 1_000, null));
        // f-e1 runs; f-q1 and f-q2 go ahead to A while another task still waits here (f-q3)
        h.submit("c1", List.of(h.task("f-e1"), h.task("f-q1"), h.task("f-q2"), h.task("f-q3")),
                "f-e1", "f-q1", "f-q2", "f-q3");
        assertEquals(A, h.s.view().processingOn("f-q2"));
        h.register(B, "bob", 1);
        assertEquals(B, h.s.view().processingOn("f-q3"));
        h.started(A, "f-e1"); // only f-e1 executes; f-q1 and f-q2 wait in A's queue
        h.gone(A);
        assertEquals(1, h.s.view().suspiciousCount("f-e1"));
        assertEquals(0, h.s.view().suspiciousCount("f-q1"));
        assertEquals(0, h.s.view().suspiciousCount("f-q2"));
        for (String k : List.of("f-e1", "f-q1")) {
            assertEquals(B, h.s.view().processingOn(k), k + " goes to the survivor");
        }
        assertEquals("queued", h.s.view().stateOf("f-q2"), "the last waits here for a thread of the survivor");
    }

    @Test
    void aStartNoticeFromAnotherWorkerDoesNotCount() {
        Harness h = new Harness(3);
        h.register(A, "alice", 1);
        h.register(B, "bob", 1);
        h.submit("c1", List.of(h.task("x")), "x");
        assertEquals(A, h.s.view().processingOn("x"));
        h.queued(A, "x");
        h.started(B, "x", "unknown-key");
        h.gone(A);
        assertEquals(0, h.s.view().suspiciousCount("x"));
    }

    /** A and B with one free thread each get x and y: both start on arrival, no message on the way. */
    private static Harness xOnAAndYOnB() {
        Harness h = new Harness(3);
        h.register(A, "alice", 1);
        h.register(B, "bob", 1);
        h.submit("c1", List.of(h.task("x"), h.task("y")), "x", "y");
        assertEquals(A, h.s.view().processingOn("x"));
        assertEquals(B, h.s.view().processingOn("y"));
        return h;
    }

    @Test
    void aTaskSentToAnIdleWorkerCountsAsExecutingWithoutANotice() {
        Harness h = xOnAAndYOnB();
        h.gone(A);
        assertEquals(1, h.s.view().suspiciousCount("x"), "x started on A as it arrived");
        assertEquals(0, h.s.view().suspiciousCount("y"));
    }

    @Test
    void aTaskTheWorkerReportsQueuedIsSparedUntilItsStartNotice() {
        Harness h = xOnAAndYOnB();
        h.queued(B, "y"); // B's thread was still busy: y waits there
        h.queued(B, "x"); // not B's task: ignored
        h.gone(B);
        assertEquals(0, h.s.view().suspiciousCount("y"), "y only waited on B");
        h.gone(A);
        assertEquals(1, h.s.view().suspiciousCount("x"), "x started on A as it arrived");
        h.register(C, "carol", 2); // a free thread for each: both start on arrival
        String on = h.s.view().processingOn("y");
        assertEquals(C, on);
        h.queued(on, "y");
        h.started(on, "y");
        h.gone(on);
        assertEquals(1, h.s.view().suspiciousCount("y"), "y's worker said it started before it died");
    }

    @Test
    void aFunctionThatKillsEveryWorkerFailsWithTheNannysReasonsAndTakesItsDependentsAlong() {
        Harness h = new Harness(3);
        List<String> ws = List.of(A, B, C, D, "10.0.0.5:9000");
        for (String w : ws) {
            h.register(w, w, 1);
        }
        h.submit("c1", List.of(h.task("ok"), h.task("bad"), h.task("after", "bad")), "ok", "after");
        h.finish(h.s.view().processingOn("ok"), "ok", 1);
        List<String> reasons = List.of("exit code 1", "killed by signal 9 (SIGKILL)", "exit code 3",
                "memory limit exceeded: resident 420 MB > 380 MB");
        List<Outgoing> last = null;
        List<String> died = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            String w = h.s.view().processingOn("bad");
            assertNotNull(w, "bad is placed again after death " + i);
            died.add(w);
            h.started(w, "bad");
            last = h.client("nanny-" + i, new WorkerDied(w, reasons.get(i)));
        }
        assertEquals("erred", h.s.view().stateOf("bad"));
        assertEquals("erred", h.s.view().stateOf("after"));
        assertEquals(4, h.s.view().suspiciousCount("bad"));
        KeyErred e = (KeyErred) last.stream().map(Outgoing::message).filter(m -> m instanceof KeyErred).findFirst()
                .orElseThrow();
        assertEquals("after", e.key(), "c1 wants after, whose input bad failed");
        assertEquals("bad", e.causeKey());
        assertTrue(e.summary().startsWith("KilledWorker: task bad was executing on 4 workers that died"), e.summary());
        for (int i = 0; i < 4; i++) {
            assertTrue(e.summary().contains(died.get(i) + " (" + reasons.get(i) + ")"), e.summary());
        }
        assertNotEquals("erred", h.s.view().stateOf("ok"), "other work does not fail (it may be recomputed)");
        assertEquals(1, h.s.view().workers().size());
    }

    @Test
    void workerDiedForAWorkerAlreadyGoneChangesNothing() {
        Harness h = new Harness(3);
        h.register(A, "alice", 1);
        h.gone(A);
        assertOut(h.client("nanny-1", new WorkerDied(A, "exit code 1")));
    }

    @Test
    void schedulerBackWithWorkersHoldingHalfTheKeys() {
        // a fresh scheduler: the workers come back first, holding x0 and x1 of x0..x3
        Harness h = new Harness(3);
        assertOut(h.register(A, "alice", 1, Map.of("x0", 8L)), accepted(A));
        assertOut(h.register(B, "bob", 1, Map.of("x1", 8L)), accepted(B));
        // the client re-sends the recipes of what it still wants
        List<TaskSpec> graph = List.of(h.task("x0"), h.task("x1"), h.task("x2"), h.task("x3"),
                h.task("total", "x0", "x1", "x2", "x3"));
        List<Outgoing> out = h.submit("c1", graph, "x0", "x1", "total");
        assertTrue(out.contains(inMemory("c1", "x0", List.of(A), 8)), out.toString());
        assertTrue(out.contains(inMemory("c1", "x1", List.of(B), 8)), out.toString());
        assertEquals("memory", h.s.view().stateOf("x0"));
        assertEquals("memory", h.s.view().stateOf("x1"));
        assertEquals("processing", h.s.view().stateOf("x2"));
        assertEquals("processing", h.s.view().stateOf("x3"));
        h.finish(h.s.view().processingOn("x2"), "x2", 8);
        h.finish(h.s.view().processingOn("x3"), "x3", 8);
        String w = h.s.view().processingOn("total");
        assertNotNull(w);
        assertOut(h.finish(w, "total", 4), inMemory("c1", "total", List.of(w), 4), free(A, "x2"), free(B, "x3"));
    }

    @Test
    void unknownKeysOfAReturningWorkerWhoseHolderDiesAreForgotten() {
        Harness h = new Harness(3);
        h.register(A, "alice", 1, Map.of("x", 8L));
        h.register(B, "bob", 1);
        h.gone(A);
        assertOut(h.submit("c1", List.of(h.task("x")), "x"), h.compute(B, "x"));
    }

    @Test
    void restartCancelsEveryFutureRestartsNanniedWorkersAndClearsTheRest() {
        Harness h = new Harness(3);
        h.register(A, "alice", 1);
        h.register(B, "bob", 1);
        h.client("nanny-a", new RegisterNanny("nanny-a", A));
        h.submit("c1", List.of(h.task("x"), h.task("y")), "x", "y");
        h.submit("c2", List.of(h.task("z", "x")), "z");
        h.finish(A, "x", 1);
        List<Outgoing> out = h.event(new SchedulerEvent.FromClient("c1", new RestartCluster("c1"), 9));
        String why = "the cluster was restarted by client c1";
        assertTrue(out.contains(Outgoing.send("c1", new KeyCancelled("x", why))), out.toString());
        assertTrue(out.contains(Outgoing.send("c1", new KeyCancelled("y", why))), out.toString());
        assertTrue(out.contains(Outgoing.send("c2", new KeyCancelled("z", why))), out.toString());
        assertTrue(out.contains(Outgoing.send("nanny-a", new RestartWorker(why))), out.toString());
        assertTrue(out.contains(Outgoing.send(B, new FreeKeys(List.of("y")))), out.toString());
        assertEquals(new Outgoing("c1", new Ack(), 9), out.get(out.size() - 1));
        assertEquals(0, h.s.view().taskCount());
        assertEquals(java.util.Set.of(B), h.s.view().workers());
        // the restarted worker registers; the same keys can be submitted again
        h.register(C, "alice-2", 1);
        assertEquals(2, h.s.view().workers().size());
        h.submit("c1", List.of(h.task("x")), "x");
        assertEquals("processing", h.s.view().stateOf("x"));
    }

    @Test
    void restartDropsTheQueueSoNoForgottenTaskIsSentLater() {
        // follows dask's test_scheduler.py::test_restart (every task is forgotten, none runs afterwards)
        Harness h = new Harness(3);
        h.register(A, "alice", 1);
        h.submit("c1", List.of(h.task("f-1"), h.task("f-2"), h.task("f-3")), "f-1", "f-2", "f-3");
        assertEquals(2, h.s.view().queuedCount());
        h.event(new SchedulerEvent.FromClient("c1", new RestartCluster("c1"), 9));
        assertEquals(0, h.s.view().queuedCount());
        List<Outgoing> out = h.worker(A, new TaskFinished("f-1", 8, "int", 0, 0, null));
        assertTrue(out.stream().noneMatch(o -> o.message() instanceof ComputeTask), out.toString());
        assertEquals(0, h.s.view().taskCount());
    }
}
