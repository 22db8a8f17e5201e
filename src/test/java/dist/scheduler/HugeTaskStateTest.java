package dist.scheduler;

import dist.protocol.Message;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Follows dask's test_scheduler.py::test_refuse_to_schedule_huge_task in the state machine alone. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HugeTaskStateTest {

    static void register(Harness h, String addr, long memoryLimit) {
        h.event(new SchedulerEvent.FromWorker(addr,
                new Message.RegisterWorker(addr, addr, 1, memoryLimit, 100, Map.of()), 1));
    }

    /** Two 60 kB inputs held, then their sum asked for, on workers limited as given. */
    static Harness twoInputs(long... limits) {
        Harness h = new Harness();
        for (int i = 0; i < limits.length; i++) {
            register(h, "w:" + i, limits[i]);
        }
        h.submit("c", List.of(h.task("a"), h.task("b")), "a", "b");
        h.finish(h.s.view().processingOn("a"), "a", 60_000);
        h.finish(h.s.view().processingOn("b"), "b", 60_000);
        h.submit("c", List.of(h.task("sum", "a", "b")), "sum");
        return h;
    }

    @Test
    void inputsPastEveryWorkersLimitFailTheTaskUnsent() {
        Harness h = twoInputs(100_000, 100_000);
        assertEquals("erred", h.s.view().stateOf("sum"));
        assertNull(h.s.view().processingOn("sum"));
        List<StoryEntry> story = h.s.view().story("sum");
        assertTrue(story.stream().noneMatch(e -> e.to().equals("processing")), story.toString());
    }

    @Test
    void aWorkerWithRoomOrWithoutALimitStillRunsIt() {
        assertEquals("processing", twoInputs(100_000, 200_000).s.view().stateOf("sum"));
        assertEquals("processing", twoInputs(100_000, 0).s.view().stateOf("sum"));
        assertEquals("processing", twoInputs(130_000).s.view().stateOf("sum"));
    }
}
