package dist.scheduler;

import dist.protocol.Message.*;
import dist.protocol.TaskSpec;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static dist.scheduler.Harness.*;
import static org.junit.jupiter.api.Assertions.*;

/** Worker loss, heartbeats, missing data and returning workers, fed as events. */
class ResilienceTest {

    static final String A = "10.0.0.1:9000", B = "10.0.0.2:9000", C = "10.0.0.3:9000";

    static Harness twoWorkers(int allowedFailures) {
        Harness h = new Harness(allowedFailures);
        h.register(A, "alice", 1);
        h.register(B, "bob", 1);
        return h;
    }

    @Test
    void workerDiedHoldingXRecomputesItForAWaitingDependent() {
        Harness h = twoWorkers(3);
        // x -> A, w -> B; z needs both
        assertOut(h.submit("c1", List.of(h.task("w"), h.task("x"), h.task("z", "w", "x")), "z"),
                h.compute(A, "w"), h.compute(B, "x"));
        h.finish(B, "x", 10);
        assertEquals("memory", h.s.view().stateOf("x"));
        // B dies holding the only copy of x: x is computed again on A; z keeps waiting
        // A's one thread runs w: a lone task waits on the scheduler, not behind w on A
        assertOut(h.gone(B));
        assertEquals("queued", h.s.view().stateOf("x"));
        assertEquals("waiting", h.s.view().stateOf("z"));
        assertEquals(0, h.s.view().suspiciousCount("x"), "x was not running on B when it died");
        assertOut(h.finish(A, "w", 5), h.compute(A, "x"));
        assertOut(h.finish(A, "x", 10), h.compute(A, "z", "w", List.of(A), 5L, "x", List.of(A), 10L));
        assertOut(h.finish(A, "z", 1), inMemory("c1", "z", List.of(A), 1), free(A, "w", "x"));
    }

    @Test
    void lostDataIsRecomputedTransitivelyFromItsRecipe() {
        Harness h = twoWorkers(3);
        h.submit("c1", List.of(h.task("x"), h.task("y", "x"), h.task("z", "y")), "y", "z");
        h.finish(A, "x", 1);
        // y runs on A (where x is); move y's result to B only, as if A had dropped it
        h.finish(B, "y", 2);
        h.s.validate();
        // x is released (y has it), z runs on B where y is
        assertEquals("released", h.s.view().stateOf("x"));
        assertEquals(B, h.s.view().processingOn("z"));
        h.started(B, "z");
        // B dies: y (wanted) is lost, its input x must be recomputed first; z goes back to waiting
        assertOut(h.gone(B), h.compute(A, "x"));
        assertEquals("waiting", h.s.view().stateOf("y"));
        assertEquals("waiting", h.s.view().stateOf("z"));
        assertEquals(1, h.s.view().suspiciousCount("z"));
        assertOut(h.finish(A, "x", 1), h.compute(A, "y", "x", List.of(A), 1L));
        assertOut(h.finish(A, "y", 2), inMemory("c1", "y", List.of(A), 2), free(A, "x"),
                h.compute(A, "z", "y", List.of(A), 2L));
    }

    @Test
    void lostDataNobodyNeedsIsForgotten() {
        Harness h = twoWorkers(3);
        h.submit("c1", List.of(h.task("x")), "x");
        h.submit("c1", List.of(h.task("y")), "y");
        h.finish(A, "x", 1);
        h.finish(B, "y", 1);
        h.client("c1", new ReleaseKeys("c1", List.of("y")));
        assertOut(h.gone(B));
        assertNull(h.s.view().stateOf("y"));
        assertEquals(Map.of("x", List.of(A)), h.s.view().whoHas(List.of("x")));
    }

    @Test
    void diedWhileComputingIsReplacedThenKilledWorkerAfterAllowedFailures() {
        Harness h = twoWorkers(1);
        assertOut(h.submit("c1", List.of(h.task("pre"), h.task("y"), h.task("d", "y")), "pre", "y", "d"),
                h.compute(A, "pre"), h.compute(B, "y"));
        h.finish(A, "pre", 1);
        h.started(B, "y");
        // B dies while y runs there: suspicious 1, y goes to A
        assertOut(h.gone(B), h.compute(A, "y"));
        assertEquals(1, h.s.view().suspiciousCount("y"));
        h.register(C, "carol", 1);
        h.started(A, "y");
        // A dies too: 2 > 1 allowed failures -> y fails with KilledWorker, and so does d
        String summary = "KilledWorker: task y was executing on 2 workers that died (allowed failures: 1): "
                + B + " (connection closed), " + A + " (connection closed)";
        assertOut(h.gone(A),
                Outgoing.send("c1", new KeyErred("y", null, summary, "y")),
                Outgoing.send("c1", new KeyErred("d", null, summary, "y")),
                h.compute(C, "pre"));
        assertEquals("erred", h.s.view().stateOf("y"));
        assertEquals("erred", h.s.view().stateOf("d"));
        assertEquals("processing", h.s.view().stateOf("pre"), "pre was lost with A and is recomputed for c1");
    }

    @Test
    void heartbeatTimeoutRemovesASilentWorkerOnTick() {
        Harness h = twoWorkers(3);
        assertOut(h.submit("c1", List.of(h.task("p"), h.task("q")), "p", "q"), h.compute(A, "p"), h.compute(B, "q"));
        h.started(A, "p");
        h.now += 2_000_000_000L;
        h.worker(B, new Heartbeat(0, 1, 0, 0));
        assertOut(h.event(new SchedulerEvent.Tick()));
        h.now += 1_500_000_000L; // A silent 3.5 s, B 1.5 s
        assertOut(h.event(new SchedulerEvent.Tick()),
                Outgoing.send(A, new CloseWorker("no heartbeat for 3500 ms (timeout 3000 ms)")));
        assertEquals("queued", h.s.view().stateOf("p"), "B is busy with q: p waits on the scheduler");
        assertOut(h.worker(B, new dist.protocol.Message.TaskFinished("q", 8, "int", 0, 0, null)),
                Outgoing.send("c1", new dist.protocol.Message.KeyInMemory("q", java.util.List.of(B), 8, null)),
                h.compute(B, "p"));
        assertEquals(java.util.Set.of(B), h.s.view().workers());
        assertEquals(1, h.s.view().suspiciousCount("p"));
    }

    @Test
    void missingDataIsRecomputedAndTheDependentWaitsAgain() {
        Harness h = twoWorkers(3);
        h.submit("c1", List.of(h.task("x"), h.task("other"), h.task("y", "x")), "y", "other");
        h.finish(A, "x", 7);     // y is placed on A with x
        h.finish(B, "other", 1);
        assertEquals(A, h.s.view().processingOn("y"));
        // A itself reports that it no longer finds x
        List<Outgoing> out = h.worker(A, new MissingData("x", A));
        // y lost its input: A drops y, x runs again (both idle: B has been idle longer, so its turn)
        assertOut(out, h.compute(B, "x"), free(A, "y"));
        assertEquals("waiting", h.s.view().stateOf("y"));
        assertOut(h.finish(B, "x", 7), h.compute(B, "y", "x", List.of(B), 7L));
    }

    @Test
    void replicasFromAddKeysAndKeysReleased() {
        Harness h = twoWorkers(3);
        h.submit("c1", List.of(h.task("x")), "x");
        h.finish(A, "x", 3);
        assertOut(h.worker(B, new AddKeys(Map.of("x", 3L, "unknown", 1L))));
        assertEquals(Map.of("x", List.of(A, B)), h.s.view().whoHas(List.of("x")));
        assertOut(h.gone(A));
        assertEquals("memory", h.s.view().stateOf("x"), "the replica on B keeps it");
        // B drops it too: recomputed because c1 still wants it
        assertOut(h.worker(B, new KeysReleased(List.of("x"))), h.compute(B, "x"));
    }

    @Test
    void noWorkerThenAWorkerArrives() {
        Harness h = new Harness();
        assertOut(h.submit("c1", List.of(h.task("x"), h.task("y", "x")), "y"));
        assertEquals("no-worker", h.s.view().stateOf("x"));
        assertEquals(1, h.s.view().noWorkerCount());
        assertOut(h.register(A, "alice", 2), accepted(A), h.compute(A, "x"));
        assertEquals(0, h.s.view().noWorkerCount());
    }

    @Test
    void lastWorkerGoneSendsWorkToNoWorker() {
        Harness h = new Harness();
        h.register(A, "alice", 1);
        h.submit("c1", List.of(h.task("x")), "x");
        assertOut(h.gone(A));
        assertEquals("no-worker", h.s.view().stateOf("x"));
        assertOut(h.register(B, "bob", 1), accepted(B), h.compute(B, "x"));
    }

    @Test
    void returningWorkerReportsHeldKeys() {
        // a scheduler that restarted: the client re-sends its graph before any worker is back
        Harness h = new Harness();
        h.submit("c1", List.of(h.task("x"), h.task("y", "x"), h.task("v")), "y", "v");
        assertEquals("no-worker", h.s.view().stateOf("x"));
        assertOut(h.register(A, "alice", 1, Map.of("x", 10L, "stale", 4L)),
                accepted(A), h.compute(A, "y", "x", List.of(A), 10L));
        assertEquals("memory", h.s.view().stateOf("x"));
        // A's one thread runs y: v queues for a slot, as it would had A been there when it came
        assertEquals("queued", h.s.view().stateOf("v"));
        // no client asks for "stale" within the grace period: the worker drops it
        h.worker(A, new Heartbeat(0, 0, 0, 1));
        h.now += 10_500_000_000L;
        h.worker(A, new Heartbeat(0, 0, 0, 1));
        assertOut(h.event(new SchedulerEvent.Tick()), free(A, "stale"));
        // a worker that holds what is already in memory adds a replica
        h.register(B, "bob", 1, Map.of("x", 10L));
        assertEquals(List.of(A, B), h.s.view().whoHas(List.of("x")).get("x"));
    }

    @Test
    void returningWorkerWithAWantedKeyTellsTheClient() {
        Harness h = new Harness();
        h.submit("c1", List.of(h.task("x")), "x");
        assertOut(h.register(A, "alice", 1, Map.of("x", 10L)), accepted(A), inMemory("c1", "x", List.of(A), 10));
    }

    @Test
    void scatteredDataLostWithItsWorkerFailsItsFutures() {
        Harness h = twoWorkers(3);
        h.submit("c1", List.of(new TaskSpec("data", null, List.of(), 0, null)), "data");
        assertEquals("released", h.s.view().stateOf("data"), "waits for its data to arrive");
        assertOut(h.worker(A, new AddKeys(Map.of("data", 100L))), inMemory("c1", "data", List.of(A), 100));
        List<Outgoing> out = h.gone(A);
        KeyErred e = (KeyErred) out.get(0).message();
        assertTrue(e.summary().contains("scattered and lost"), e.summary());
    }

    @Test
    void lateResultFromAReplacedTaskIsAccepted() {
        Harness h = twoWorkers(3);
        h.submit("c1", List.of(h.task("x")), "x");
        // the heartbeat path removed A, x went to B; then a result arrives from B
        h.gone(A);
        assertEquals(B, h.s.view().processingOn("x"));
        assertOut(h.finish(B, "x", 1), inMemory("c1", "x", List.of(B), 1));
    }

    @Test
    void workerRegisteringAgainAtTheSameAddressReplacesTheOldOne() {
        Harness h = twoWorkers(3);
        h.submit("c1", List.of(h.task("x"), h.task("y")), "x", "y");
        h.finish(A, "x", 3);
        h.submit("c1", List.of(h.task("z")), "z");
        assertEquals(B, h.s.view().processingOn("y"));
        assertEquals(A, h.s.view().processingOn("z"));
        h.started(A, "z");
        // A restarts and comes back holding x but not knowing z: z is placed again, x is back
        // (the client hears where x is now: a repeated KeyInMemory updates its who-has)
        assertOut(h.register(A, "alice", 1, Map.of("x", 3L)), accepted(A), inMemory("c1", "x", List.of(A), 3),
                h.compute(A, "z"));
        assertEquals(Map.of("x", List.of(A)), h.s.view().whoHas(List.of("x")));
        assertEquals(1, h.s.view().suspiciousCount("z"));
    }
}
