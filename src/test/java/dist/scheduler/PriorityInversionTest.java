package dist.scheduler;

import dist.protocol.Message.TaskFinished;
import dist.protocol.TaskSpec;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A task of a kind known to be short goes ahead to a busy worker; a more urgent task of unknown
 * length that arrives later must not wait on the scheduler behind it. Follows dask's
 * test_priorities.py::test_map (low tasks, then a clog, then high tasks while the worker is blocked).
 */
class PriorityInversionTest {

    static final String A = "10.0.0.1:9000";

    static TaskSpec task(Harness h, String key, long priority) {
        return new TaskSpec(key, h.run(key), List.of(), priority, null);
    }

    @Test
    void aMoreUrgentTaskJumpsAheadOfLessUrgentOnesWaitingOnAWorker() {
        Harness h = new Harness();
        h.register(A, "alice", 1);
        // teach the scheduler that "inc" is short, so incs are pipelined to a busy worker
        h.submit("c1", List.of(task(h, "inc-0", 0)), "inc-0");
        h.worker(A, new TaskFinished("inc-0", 8, "int", 0, 1_000, null));
        h.submit("c1", List.of(task(h, "block-0", 0)), "block-0");
        h.started(A, "block-0");
        h.submit("c1", List.of(task(h, "inc-1", 10), task(h, "inc-2", 11), task(h, "inc-3", 12)),
                "inc-1", "inc-2", "inc-3");
        for (String k : List.of("inc-1", "inc-2")) {
            assertEquals(A, h.s.view().processingOn(k), k + " went ahead to the busy worker");
        }
        assertEquals("queued", h.s.view().stateOf("inc-3"), "the last of a short backlog stays here");
        // a more urgent task of unknown length: held here it would run after the incs
        h.submit("c1", List.of(task(h, "clog-0", 5)), "clog-0");
        assertEquals(A, h.s.view().processingOn("clog-0"), "the clog waits on the worker, ahead of the incs");
        assertEquals("queued", h.s.view().stateOf("inc-3"), "still nothing more for the busy worker");
    }

    @Test
    void aLessUrgentTaskOfUnknownLengthStillWaitsHere() {
        Harness h = new Harness();
        h.register(A, "alice", 1);
        h.submit("c1", List.of(task(h, "inc-0", 0)), "inc-0");
        h.worker(A, new TaskFinished("inc-0", 8, "int", 0, 1_000, null));
        h.submit("c1", List.of(task(h, "block-0", 0)), "block-0");
        h.started(A, "block-0");
        h.submit("c1", List.of(task(h, "inc-1", 10), task(h, "inc-2", 11), task(h, "inc-3", 12)),
                "inc-1", "inc-2", "inc-3");
        h.submit("c1", List.of(task(h, "clog-0", 20)), "clog-0");
        assertEquals("queued", h.s.view().stateOf("clog-0"), "nothing less urgent waits on the worker");
        // the incs finish: the worker is free again and takes the clog
        h.finish(A, "block-0", 8);
        for (String k : List.of("inc-1", "inc-2", "inc-3")) {
            h.finish(A, k, 8);
            assertNotEquals("memory", h.s.view().stateOf("clog-0"));
        }
        assertEquals(A, h.s.view().processingOn("clog-0"));
    }
}
