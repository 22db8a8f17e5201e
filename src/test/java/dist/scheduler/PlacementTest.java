package dist.scheduler;

import dist.protocol.Message.*;
import dist.protocol.TaskOptions;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static dist.scheduler.Harness.*;
import static org.junit.jupiter.api.Assertions.*;

/** decide_worker: the manual's doctest cases, and restrictions. */
class PlacementTest {

    static final String ALICE = "alice:8000", BOB = "bob:8000";

    /** alice and bob; the result of {@code key} on {@code holder}. */
    static Harness aliceAndBob() {
        Harness h = new Harness();
        h.register(ALICE, "alice", 1);
        h.register(BOB, "bob", 1);
        return h;
    }

    static void put(Harness h, String key, String holder, long nbytes) {
        h.submit("c", List.of(h.task(key)), key);
        h.worker(holder, new TaskFinished(key, nbytes, "t", 0, 0, null));
        assertEquals(List.of(holder), h.s.view().whoHas(List.of(key)).get(key));
    }

    /** Makes alice busy with task z, as in the doctest's stacks {'alice:8000': ['z']}. */
    static void aliceBusy(Harness h) {
        h.submit("c", List.of(h.task("z", new TaskOptions(List.of(ALICE), false, Map.of(), 0))), "z");
        assertEquals(ALICE, h.s.view().processingOn("z"));
    }

    @Test
    void choosesTheWorkerHoldingTheDependency() {
        Harness h = aliceAndBob();
        put(h, "a", ALICE, 100);
        aliceBusy(h);
        h.submit("c", List.of(h.task("b", "a")), "b");
        assertEquals(ALICE, h.s.view().processingOn("b"));
    }

    @Test
    void whenBothHoldTheDependencyChoosesTheLessBusy() {
        Harness h = aliceAndBob();
        put(h, "a", ALICE, 100);
        h.worker(BOB, new AddKeys(Map.of("a", 100L)));
        aliceBusy(h);
        h.submit("c", List.of(h.task("b", "a")), "b");
        assertEquals(BOB, h.s.view().processingOn("b"));
    }

    @Test
    void restrictionsByHostNarrowTheChoice() {
        Harness h = aliceAndBob();
        put(h, "a", ALICE, 100);
        h.worker(BOB, new AddKeys(Map.of("a", 100L)));
        aliceBusy(h);
        h.submit("c", List.of(h.task("b", new TaskOptions(List.of("alice", "charlie"), false, Map.of(), 0), "a")), "b");
        assertEquals(ALICE, h.s.view().processingOn("b"));
    }

    @Test
    void fewestBytesToMoveBeatsOccupancy() {
        Harness h = aliceAndBob();
        put(h, "a", ALICE, 1);
        put(h, "b", BOB, 1000);
        h.submit("c", List.of(h.task("z", new TaskOptions(List.of(BOB), false, Map.of(), 0))), "z");
        h.submit("c", List.of(h.task("c", "a", "b")), "c");
        assertEquals(BOB, h.s.view().processingOn("c"), "bob is busier but holds the 1000 bytes");
    }

    static final String A = "10.0.0.1:9000", B = "10.0.0.2:9000", C = "10.0.0.3:9000";

    static Harness threeWorkers() {
        Harness h = new Harness();
        h.register(A, "alice", 1);
        h.register(B, "bob", 1);
        h.register(C, "carol", 1);
        return h;
    }

    static TaskOptions only(boolean allowOthers, String... workers) {
        return new TaskOptions(List.of(workers), allowOthers, Map.of(), 0);
    }

    @Test
    void restrictionByAddressHostOrName() {
        Harness h = threeWorkers();
        h.submit("c", List.of(h.task("t1", only(false, B)), h.task("t2", only(false, "10.0.0.3")),
                h.task("t3", only(false, "bob"))), "t1", "t2", "t3");
        assertEquals(B, h.s.view().processingOn("t1"));
        assertEquals(C, h.s.view().processingOn("t2"));
        assertEquals(B, h.s.view().processingOn("t3"), "a rule, even though A is idle");
    }

    @Test
    void strictRestrictionToAnAbsentWorkerWaitsForIt() {
        Harness h = threeWorkers();
        assertOut(h.submit("c", List.of(h.task("t", only(false, "dave"))), "t"));
        assertEquals("no-worker", h.s.view().stateOf("t"));
        String d = "10.0.0.4:9000";
        assertOut(h.register(d, "dave", 1), accepted(d), h.compute(d, "t"));
    }

    @Test
    void looseRestrictionToAnAbsentWorkerRunsAnywhere() {
        Harness h = threeWorkers();
        assertOut(h.submit("c", List.of(h.task("t", only(true, "dave"))), "t"), h.compute(A, "t"));
    }

    @Test
    void looseRestrictionPrefersThePresentWorker() {
        Harness h = threeWorkers();
        h.submit("c", List.of(h.task("busy", only(false, C))), "busy");
        h.submit("c", List.of(h.task("t", only(true, "carol"))), "t");
        assertEquals(C, h.s.view().processingOn("t"));
    }

    @Test
    void restrictedWorkerDyingSendsTheTaskToNoWorker() {
        Harness h = threeWorkers();
        h.submit("c", List.of(h.task("t", only(false, C))), "t");
        assertOut(h.gone(C));
        assertEquals("no-worker", h.s.view().stateOf("t"));
    }

    @Test
    void leastBusyAccountsForThreads() {
        Harness h = new Harness();
        h.register(A, "alice", 4);
        h.register(B, "bob", 1);
        h.submit("c", List.of(h.task("f-1"), h.task("f-2"), h.task("f-3"), h.task("f-4")), "f-1", "f-2", "f-3", "f-4");
        // A has 4 threads: it takes tasks until its per-thread load passes B's
        assertEquals(A, h.s.view().processingOn("f-1"));
        assertEquals(B, h.s.view().processingOn("f-2"));
        assertEquals(A, h.s.view().processingOn("f-3"));
        assertEquals(A, h.s.view().processingOn("f-4"));
    }

    /** A kind of task measured as short: its pipeline allowance is large. */
    private static void shortKind(Harness h) {
        h.submit("c", List.of(h.task("f-0")), "f-0");
        h.worker(ALICE, new TaskFinished("f-0", 8, "int", 0, 1_000, null));
    }

    @Test
    void aBacklogShorterThanTheThreadsWaitsForAFreeThreadNotBehindABusyWorker() {
        Harness h = aliceAndBob();
        shortKind(h);
        h.submit("c", List.of(h.task("f-1"), h.task("f-2"), h.task("f-3")), "f-1", "f-2", "f-3");
        assertNotEquals(h.s.view().processingOn("f-1"), h.s.view().processingOn("f-2"), "one per free thread");
        assertNull(h.s.view().processingOn("f-3"), "one task for two threads: it is held, not parked behind f-1 or f-2");
        assertEquals(1, h.s.view().queuedCount());
        String first = h.s.view().processingOn("f-2");
        h.worker(first, new TaskFinished("f-2", 8, "int", 0, 1_000, null));
        assertEquals(first, h.s.view().processingOn("f-3"), "the first thread that frees takes it");
    }

    @Test
    void aBacklogOfMoreThanATaskPerThreadFillsThePipelines() {
        Harness h = aliceAndBob();
        shortKind(h);
        List<String> keys = List.of("f-1", "f-2", "f-3", "f-4", "f-5", "f-6");
        h.submit("c", keys.stream().map(k -> h.task(k)).toList(), keys.toArray(String[]::new));
        // f-1, f-2 on the free threads; f-3, f-4 pipelined while more than two wait; f-5, f-6 wait here
        assertEquals(2, h.s.view().queuedCount());
        assertNull(h.s.view().processingOn("f-5"));
        assertNull(h.s.view().processingOn("f-6"));
        for (String k : keys.subList(0, 4)) {
            assertNotNull(h.s.view().processingOn(k), k);
        }
    }
}
