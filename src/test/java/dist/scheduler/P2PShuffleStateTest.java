package dist.scheduler;

import dist.protocol.Message.ShuffleForget;
import dist.protocol.Message.ShufflePeerLost;
import dist.protocol.TaskSpec;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The scheduler's half of the p2p shuffle, fed as events: a worker keeping shards that leaves
 * mid-shuffle makes every input, the barrier and the unfinished outputs run again on the others;
 * past the allowed failures the outputs fail. dask: distributed/shuffle/tests/test_shuffle.py::
 * test_closed_worker_during_transfer and test_restarting_does_not_deadlock.
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
        tasks.add(h.task("p2pShuffleUnpack-0", BARRIER));
        tasks.add(h.task("p2pShuffleUnpack-1", BARRIER));
        h.submit("c1", tasks, "p2pShuffleUnpack-0", "p2pShuffleUnpack-1");
        return h;
    }

    static String where(Harness h, String key) {
        return h.s.view().processingOn(key);
    }

    /** Finishes every input wherever it runs, the queued ones as they get a thread. */
    static void finishInputs(Harness h) {
        for (int round = 0; round < 6; round++) {
            for (int i = 0; i < 3; i++) {
                String k = "p2pShuffleTransfer-" + i;
                if (h.s.view().stateOf(k).equals("processing")) {
                    h.finish(where(h, k), k, 8);
                }
            }
        }
        assertEquals("processing", h.s.view().stateOf(BARRIER));
    }

    @Test
    void aWorkerKeepingShardsLeavesAndTheShuffleRunsAgainOnTheOthers() {
        Harness h = shuffleOnThreeWorkers(3);
        String on0 = where(h, "p2pShuffleTransfer-0");
        h.finish(on0, "p2pShuffleTransfer-0", 8);
        String on1 = where(h, "p2pShuffleTransfer-1");
        h.finish(on1, "p2pShuffleTransfer-1", 8);
        assertEquals("processing", h.s.view().stateOf("p2pShuffleTransfer-2"));
        List<Outgoing> out = h.gone(on0);
        // the survivors drop what the inputs kept before, ahead of running them again
        List<String> told = new ArrayList<>();
        for (Outgoing o : out) {
            if (o.message() instanceof ShuffleForget f) {
                assertEquals(List.of("p2pShuffleTransfer-0", "p2pShuffleTransfer-1"), f.keys(), "the inputs done");
                told.add(o.to());
            }
        }
        assertEquals(2, told.size(), "both survivors: " + out);
        assertTrue(!told.contains(on0));
        for (int i = 0; i < 3; i++) {
            String k = "p2pShuffleTransfer-" + i;
            assertTrue(List.of("processing", "queued").contains(h.s.view().stateOf(k)), k + " runs again");
            assertNotEquals(on0, where(h, k));
        }
        assertEquals("waiting", h.s.view().stateOf(BARRIER));
        // the shuffle then finishes on the others
        finishInputs(h);
        h.finish(where(h, BARRIER), BARRIER, 8);
        for (String k : List.of("p2pShuffleUnpack-0", "p2pShuffleUnpack-1")) {
            h.finish(where(h, k), k, 8);
            assertEquals("memory", h.s.view().stateOf(k));
        }
    }

    @Test
    void anOutputThatCannotReadAPeerRestartsTheShuffleOnce() {
        Harness h = shuffleOnThreeWorkers(3);
        finishInputs(h);
        String keeper = h.s.view().whoHas(List.of("p2pShuffleTransfer-0")).get("p2pShuffleTransfer-0").get(0);
        h.finish(where(h, BARRIER), BARRIER, 8);
        String out = where(h, "p2pShuffleUnpack-0");
        h.worker(out, new ShufflePeerLost("p2pShuffleUnpack-0", keeper));
        assertEquals("processing", h.s.view().stateOf("p2pShuffleTransfer-0"), "inputs run again");
        assertTrue(List.of("waiting", "processing").contains(h.s.view().stateOf("p2pShuffleUnpack-0")));
        // a second report of the same loss does not restart it again
        h.worker(out, new ShufflePeerLost("p2pShuffleUnpack-1", keeper));
        assertEquals("processing", h.s.view().stateOf("p2pShuffleTransfer-0"));
    }

    @Test
    void pastTheAllowedFailuresTheOutputsFail() {
        Harness h = shuffleOnThreeWorkers(0);
        String on0 = where(h, "p2pShuffleTransfer-0");
        h.finish(on0, "p2pShuffleTransfer-0", 8);
        h.gone(on0);
        assertEquals("erred", h.s.view().stateOf("p2pShuffleUnpack-0"));
        assertEquals("erred", h.s.view().stateOf("p2pShuffleUnpack-1"));
        assertNull(where(h, "p2pShuffleUnpack-0"));
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
            outs.add("p2pShuffleUnpack-" + j);
            tasks.add(h.task("p2pShuffleUnpack-" + j, BARRIER));
        }
        h.submit("c1", tasks, outs.toArray(String[]::new));
        // each worker finishes one input and starts the next
        for (String w : List.of(A, B, C)) {
            for (String k : inputs) {
                if (w.equals(where(h, k))) {
                    h.started(w, k);
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
