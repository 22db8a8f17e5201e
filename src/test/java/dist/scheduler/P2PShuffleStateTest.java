package dist.scheduler;

import dist.protocol.Message.ShuffleGetOwners;
import dist.protocol.Message.ShuffleOwners;
import dist.protocol.Message.ShufflePeerLost;
import dist.protocol.Message.ShuffleRestart;
import dist.protocol.TaskSpec;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The scheduler's half of the p2p shuffle, fed as events: the first input that asks gets an owner
 * per output partition and the outputs are pinned there; an owner that leaves mid-shuffle makes a
 * new run without it, in which the inputs done, the barrier and the unfinished outputs run again
 * on the others; past the allowed failures the outputs fail. dask:
 * distributed/shuffle/tests/test_shuffle.py::test_closed_worker_during_transfer,
 * test_restarting_does_not_deadlock and test_worker_for_homogeneous_distribution (owners).
 */
class P2PShuffleStateTest {
    static final String A = "10.0.0.1:9000", B = "10.0.0.2:9000", C = "10.0.0.3:9000";
    static final String BARRIER = "p2pShuffleBarrier-b";

    static Harness shuffleOnThreeWorkers(int allowedFailures) {
        Harness h = new Harness(allowedFailures);
        h.register(A, "alice", 1);
        h.register(B, "bob", 1);
        h.register(C, "carol", 1);
        List<TaskSpec> tasks = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            tasks.add(h.task("p2pShuffleTransfer-" + i));
        }
        tasks.add(h.task(BARRIER, "p2pShuffleTransfer-0", "p2pShuffleTransfer-1", "p2pShuffleTransfer-2"));
        tasks.add(h.task(OUT0, BARRIER));
        tasks.add(h.task(OUT1, BARRIER));
        h.submit("c1", tasks, OUT0, OUT1);
        return h;
    }

    static final String OUT0 = "p2pShuffleUnpack-0-h", OUT1 = "p2pShuffleUnpack-1-h";

    /** Input {@code input}, running on {@code worker}, asks who owns the output partitions; the answer. */
    static ShuffleOwners ask(Harness h, String worker, String input, int run, String unreachable) {
        for (Outgoing o : h.event(new SchedulerEvent.FromWorker(worker, new ShuffleGetOwners(input, run, unreachable, 0), 5))) {
            if (o.replyTo() == 5 && o.message() instanceof ShuffleOwners owners) {
                return owners;
            }
        }
        throw new AssertionError("no owners for " + input);
    }

    static String where(Harness h, String key) {
        return h.s.view().processingOn(key);
    }

    /** Finishes every input wherever it runs (after it asked for the owners), the queued ones as they get a thread. */
    static void finishInputs(Harness h) {
        for (int round = 0; round < 6; round++) {
            for (int i = 0; i < 3; i++) {
                String k = "p2pShuffleTransfer-" + i;
                if (h.s.view().stateOf(k).equals("processing")) {
                    ask(h, where(h, k), k, 0, null);
                    h.finish(where(h, k), k, 8);
                }
            }
        }
        assertEquals("processing", h.s.view().stateOf(BARRIER));
    }

    @Test
    void theFirstInputGetsTheOwnersAndTheOutputsRunThere() {
        Harness h = shuffleOnThreeWorkers(3);
        ShuffleOwners first = ask(h, where(h, "p2pShuffleTransfer-0"), "p2pShuffleTransfer-0", 0, null);
        assertEquals(BARRIER, first.shuffle());
        assertEquals(1, first.run());
        assertEquals(2, first.owners().size(), "one owner per output partition");
        assertNotEquals(first.owners().get(0), first.owners().get(1), "spread over the workers");
        assertEquals(first, ask(h, where(h, "p2pShuffleTransfer-1"), "p2pShuffleTransfer-1", 0, null),
                "every input of the run gets the same owners");
        finishInputs(h);
        h.finish(where(h, BARRIER), BARRIER, 8);
        assertEquals(first.owners().get(0), where(h, OUT0), "output 0 runs on its owner");
        assertEquals(first.owners().get(1), where(h, OUT1), "output 1 runs on its owner");
    }

    @Test
    void anOwnerLeavesAndTheShuffleRunsAgainOnTheOthers() {
        Harness h = shuffleOnThreeWorkers(3);
        ShuffleOwners first = ask(h, where(h, "p2pShuffleTransfer-0"), "p2pShuffleTransfer-0", 0, null);
        String on0 = where(h, "p2pShuffleTransfer-0");
        h.finish(on0, "p2pShuffleTransfer-0", 8);
        String on1 = where(h, "p2pShuffleTransfer-1");
        ask(h, on1, "p2pShuffleTransfer-1", 0, null);
        h.finish(on1, "p2pShuffleTransfer-1", 8);
        assertEquals("processing", h.s.view().stateOf("p2pShuffleTransfer-2"));
        String lost = first.owners().contains(on0) ? on0 : first.owners().get(0);
        List<Outgoing> out = h.gone(lost);
        // the survivors drop the first run, ahead of the inputs running again
        List<String> told = new ArrayList<>();
        for (Outgoing o : out) {
            if (o.message() instanceof ShuffleRestart r) {
                assertEquals(new ShuffleRestart(BARRIER, 2), r);
                told.add(o.to());
            }
        }
        assertEquals(2, told.size(), "both survivors: " + out);
        assertTrue(!told.contains(lost));
        for (int i = 0; i < 3; i++) {
            String k = "p2pShuffleTransfer-" + i;
            assertTrue(List.of("processing", "queued").contains(h.s.view().stateOf(k)), k + " runs again");
            assertNotEquals(lost, where(h, k));
        }
        assertEquals("waiting", h.s.view().stateOf(BARRIER));
        ShuffleOwners second = ask(h, told.get(0), "p2pShuffleTransfer-2", 1, null);
        assertEquals(2, second.run(), "a new run");
        assertTrue(!second.owners().contains(lost), "without the lost worker: " + second.owners());
        // a sender of the old run that could not reach the lost owner does not restart it again
        assertEquals(second, ask(h, told.get(0), "p2pShuffleTransfer-2", 1, lost));
        // the shuffle then finishes on the others, each output on its new owner
        finishInputs(h);
        h.finish(where(h, BARRIER), BARRIER, 8);
        assertEquals(second.owners().get(0), where(h, OUT0));
        assertEquals(second.owners().get(1), where(h, OUT1));
        for (String k : List.of(OUT0, OUT1)) {
            h.finish(where(h, k), k, 8);
            assertEquals("memory", h.s.view().stateOf(k));
        }
    }

    /** A sender that cannot reach an owner of the current run starts a new run without it. */
    @Test
    void aSenderThatCannotReachAnOwnerStartsANewRun() {
        Harness h = shuffleOnThreeWorkers(3);
        String on0 = where(h, "p2pShuffleTransfer-0");
        ShuffleOwners first = ask(h, on0, "p2pShuffleTransfer-0", 0, null);
        String far = first.owners().get(1);
        ShuffleOwners second = ask(h, on0, "p2pShuffleTransfer-0", first.run(), far);
        assertEquals(first.run() + 1, second.run());
        assertTrue(!second.owners().contains(far), second.owners().toString());
    }

    @Test
    void anOutputThatFindsItsDataIncompleteRestartsTheShuffleOnce() {
        Harness h = shuffleOnThreeWorkers(3);
        finishInputs(h);
        h.finish(where(h, BARRIER), BARRIER, 8);
        String out0 = where(h, OUT0), out1 = where(h, OUT1);
        h.worker(out0, new ShufflePeerLost(OUT0, ""));
        assertEquals("processing", h.s.view().stateOf("p2pShuffleTransfer-0"), "inputs run again");
        assertTrue(List.of("waiting", "processing").contains(h.s.view().stateOf(OUT0)));
        // a report of an attempt the restart dropped does not restart it again
        h.worker(out1, new ShufflePeerLost(OUT1, ""));
        assertEquals("processing", h.s.view().stateOf("p2pShuffleTransfer-0"));
        assertEquals(2, ask(h, out0, "p2pShuffleTransfer-0", 0, null).run());
    }

    @Test
    void pastTheAllowedFailuresTheOutputsFail() {
        Harness h = shuffleOnThreeWorkers(0);
        String on0 = where(h, "p2pShuffleTransfer-0");
        ask(h, on0, "p2pShuffleTransfer-0", 0, null);
        h.finish(on0, "p2pShuffleTransfer-0", 8);
        h.gone(on0);
        assertEquals("erred", h.s.view().stateOf(OUT0));
        assertEquals("erred", h.s.view().stateOf(OUT1));
        assertNull(where(h, OUT0));
        assertTrue(ask(h, A.equals(on0) ? B : A, "p2pShuffleTransfer-1", 0, null).owners().isEmpty(),
                "a failed shuffle has no owners");
    }
    /** A shuffle forgotten drops what its workers kept; computed again, it starts past every earlier run. */
    @Test
    void aForgottenShuffleIsDroppedAndAgainStartsALaterRun() {
        Harness h = shuffleOnThreeWorkers(3);
        finishInputs(h);
        h.finish(where(h, BARRIER), BARRIER, 8);
        h.finish(where(h, OUT0), OUT0, 8);
        h.finish(where(h, OUT1), OUT1, 8);
        List<Outgoing> out = h.client("c1", new dist.protocol.Message.ReleaseKeys("c1", List.of(OUT0, OUT1)));
        List<String> told = new ArrayList<>();
        int dropped = 0;
        for (Outgoing o : out) {
            if (o.message() instanceof ShuffleRestart r) {
                assertEquals(BARRIER, r.shuffle());
                assertTrue(r.run() > 1, "a run past the last: " + r);
                dropped = r.run();
                told.add(o.to());
            }
        }
        assertEquals(3, told.size(), "every worker: " + out);
        List<TaskSpec> again = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            again.add(h.task("p2pShuffleTransfer-" + i));
        }
        again.add(h.task(BARRIER, "p2pShuffleTransfer-0", "p2pShuffleTransfer-1", "p2pShuffleTransfer-2"));
        again.add(h.task(OUT0, BARRIER));
        again.add(h.task(OUT1, BARRIER));
        h.submit("c1", again, OUT0, OUT1);
        assertEquals(dropped + 1, ask(h, A, "p2pShuffleTransfer-0", 0, null).run());
    }

    /** Thirty inputs on three one-thread workers; the one that leaves holds one and is running another. */
    @Test
    void aWorkerLeavingWhileRunningAnInputLeavesNothingStuck() {
        Harness h = new Harness(3);
        h.register(A, "alice", 1);
        h.register(B, "bob", 1);
        h.register(C, "carol", 1);
        int n = 30;
        List<TaskSpec> tasks = new ArrayList<>();
        List<String> inputs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            inputs.add("p2pShuffleTransfer-" + i);
            tasks.add(h.task("p2pShuffleTransfer-" + i));
        }
        tasks.add(h.task(BARRIER, inputs.toArray(String[]::new)));
        List<String> outs = new ArrayList<>();
        for (int j = 0; j < n; j++) {
            outs.add("p2pShuffleUnpack-" + j + "-h");
            tasks.add(h.task("p2pShuffleUnpack-" + j + "-h", BARRIER));
        }
        h.submit("c1", tasks, outs.toArray(String[]::new));
        // each worker finishes one input and starts the next
        for (String w : List.of(A, B, C)) {
            for (String k : inputs) {
                if (w.equals(where(h, k))) {
                    h.started(w, k);
                    ask(h, w, k, 0, null);
                    h.finish(w, k, 8);
                    break;
                }
            }
        }
        for (String k : inputs) {
            if (where(h, k) != null) {
                h.started(where(h, k), k);
            }
        }
        h.gone(A);
        List<String> all = new ArrayList<>(inputs);
        all.add(BARRIER);
        all.addAll(outs);
        for (int round = 0; round < 200; round++) {
            boolean any = false;
            for (String k : all) {
                String w = where(h, k);
                if (w != null) {
                    h.finish(w, k, 8);
                    any = true;
                }
            }
            if (!any) {
                break;
            }
        }
        for (String k : all) {
            String state = h.s.view().stateOf(k);
            assertTrue(k.startsWith("p2pShuffleUnpack") ? state.equals("memory") : !state.equals("processing"),
                    k + " is " + state);
        }
    }
}
