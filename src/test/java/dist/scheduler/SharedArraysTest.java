package dist.scheduler;

import dist.protocol.Message.ReleaseKeys;
import dist.protocol.Message.TaskFinished;
import dist.protocol.Message.UpdateGraph;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dist.scheduler.SchedulerStateTest.A;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/** Tasks of a map over one input share one-element arrays, and no change to one task reaches another. */
class SharedArraysTest {

    @Test
    void tasksOverOneInputShareArraysUntilOneChanges() {
        Harness h = new Harness();
        h.register(A, "alice", 1);
        h.submit("c1", List.of(h.task("b")), "b");
        h.submit("c1", List.of(h.task("x-1", "b"), h.task("x-2", "b"), h.task("y", "b", "x-1")), "x-1", "x-2", "y");
        TaskState b = h.s.task("b");
        TaskState x1 = h.s.task("x-1");
        TaskState x2 = h.s.task("x-2");
        assertSame(x1.deps, x2.deps, "one {b} array for both");
        assertArrayEquals(new TaskState[]{b}, x1.deps);
        assertEquals(2, h.s.task("y").deps.length);
        assertSame(x1.wantedBy, x2.wantedBy, "one {c1} array for both");

        // a second client wants x-1 only: x-1 gets an array of its own, x-2 keeps the shared one
        h.client("c2", new UpdateGraph("c2", List.of(), List.of("x-1")));
        assertEquals(2, x1.wantedBy.length);
        assertEquals(1, x2.wantedBy.length);
        assertNotSame(x1.wantedBy, x2.wantedBy);

        h.client("c1", new ReleaseKeys("c1", List.of("x-2")));
        assertEquals(2, x1.wantedBy.length, "c1 and c2 still want x-1");
        assertEquals(1, b.wantedBy.length, "c1 still wants b");
        h.worker(A, new TaskFinished("b", 8, "int", 0, 0, null));
        assertNull(h.s.task("x-2"), "x-2, unwanted, is forgotten");
        assertArrayEquals(new TaskState[]{b}, x1.deps, "forgetting x-2 left x-1's inputs alone");
    }
}
