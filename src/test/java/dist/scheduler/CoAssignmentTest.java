package dist.scheduler;

import dist.protocol.TaskSpec;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dist.scheduler.Harness.accepted;
import static dist.scheduler.Harness.assertOut;
import static org.junit.jupiter.api.Assertions.*;

/** Root tasks that feed the same sum go to the same worker, so the sum fetches nothing. */
class CoAssignmentTest {
    static final String A = "10.0.0.1:9000", B = "10.0.0.2:9000";

    static Harness twoWorkers() {
        Harness h = new Harness();
        assertOut(h.register(A, "alice", 1), accepted(A));
        assertOut(h.register(B, "bob", 1), accepted(B));
        return h;
    }

    /** The first level of a tree reduction over {@code n} leaves: sum-k adds leaf-2k and leaf-2k+1. */
    static List<TaskSpec> pairs(Harness h, int n) {
        List<TaskSpec> g = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            g.add(h.task(String.format("leaf-%03d", i)));
        }
        for (int k = 0; k < n / 2; k++) {
            g.add(h.task(String.format("sum-%03d", k), String.format("leaf-%03d", 2 * k), String.format("leaf-%03d", 2 * k + 1)));
        }
        return g;
    }

    /** Finishes whatever is processing, in key order, until nothing is; the worker that ran each key. */
    static Map<String, String> runAll(Harness h, List<TaskSpec> g) {
        Map<String, String> ranOn = new HashMap<>();
        for (int step = 0; step < 10 * g.size() && ranOn.size() < g.size(); step++) {
            for (TaskSpec t : g) {
                String w = h.s.view().processingOn(t.key());
                if (w != null && !ranOn.containsKey(t.key())) {
                    ranOn.put(t.key(), w);
                    h.finish(w, t.key(), 1 << 20);
                    break;
                }
            }
        }
        assertEquals(g.size(), ranOn.size(), "every task ran: " + ranOn);
        return ranOn;
    }

    /**
     * dask: test_scheduler.py::test_decide_worker_coschedule_order_neighbors — neighbouring root tasks
     * (here: the two inputs of one sum) are scheduled on the same worker, with a slot beyond the
     * worker's saturation for the second of a pair.
     */
    @Test
    void theTwoLeavesOfASumRunOnOneWorker() {
        Harness h = twoWorkers();
        List<TaskSpec> g = pairs(h, 40);
        List<String> sums = new ArrayList<>();
        for (int k = 0; k < 20; k++) {
            sums.add(String.format("sum-%03d", k));
        }
        h.submit("c1", g, sums.toArray(String[]::new));
        Map<String, String> ranOn = runAll(h, g);
        int split = 0;
        for (int k = 0; k < 20; k++) {
            String a = ranOn.get(String.format("leaf-%03d", 2 * k));
            String b = ranOn.get(String.format("leaf-%03d", 2 * k + 1));
            if (!a.equals(b)) {
                split++;
            }
        }
        assertEquals(0, split, "pairs split over both workers: " + ranOn);
        assertTrue(ranOn.containsValue(A) && ranOn.containsValue(B), "both workers worked: " + ranOn);
    }

    /** A small group (at most twice the cluster's threads) is spread as before: the least busy worker first. */
    @Test
    void aSmallGroupIsSpreadOverTheWorkers() {
        Harness h = twoWorkers();
        List<TaskSpec> g = pairs(h, 4);
        h.submit("c1", g, "sum-000", "sum-001");
        assertNotEquals(h.s.view().processingOn("leaf-000"), h.s.view().processingOn("leaf-001"));
    }

    /**
     * Co-assignment never picks a paused worker: a leaf whose sibling ran on a worker that has since
     * paused goes to a running one (the sum then fetches), as placement skips paused workers
     * everywhere. dask: test_scheduler.py::test_avoid_paused_workers.
     */
    @Test
    void aPausedWorkerGetsNoSiblingOfItsLeaves() {
        for (String leaf : List.of("leaf-000", "leaf-003")) { // pausing the first worker, then the last one used
            pausedGetsNothing(leaf);
        }
    }

    private static void pausedGetsNothing(String leafOnPaused) {
        Harness h = twoWorkers();
        List<TaskSpec> g = pairs(h, 40);
        List<String> sums = new ArrayList<>();
        for (int k = 0; k < 20; k++) {
            sums.add(String.format("sum-%03d", k));
        }
        h.submit("c1", g, sums.toArray(String[]::new));
        String paused = h.s.view().processingOn(leafOnPaused);
        assertNotNull(paused);
        h.worker(paused, new dist.protocol.Message.WorkerStatusChange("paused"));
        List<Outgoing> out = new ArrayList<>();
        Map<String, String> ranOn = new HashMap<>();
        for (int step = 0; step < 10 * g.size() && ranOn.size() < g.size(); step++) {
            boolean any = false;
            for (TaskSpec t : g) {
                String w = h.s.view().processingOn(t.key());
                if (w != null && !ranOn.containsKey(t.key())) {
                    ranOn.put(t.key(), w);
                    out.addAll(h.finish(w, t.key(), 1 << 20));
                    any = true;
                    break;
                }
            }
            if (!any) {
                break;
            }
        }
        assertEquals(g.size(), ranOn.size(), "every task ran: " + ranOn);
        assertTrue(out.stream().noneMatch(o -> o.to().equals(paused)
                        && o.message() instanceof dist.protocol.Message.ComputeTask),
                "nothing new was sent to the paused worker: " + out);
    }
}
