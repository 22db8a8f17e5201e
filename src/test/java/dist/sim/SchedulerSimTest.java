package dist.sim;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** The simulator at a small size: every task runs exactly once and every sum reaches the client. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SchedulerSimTest {

    @Test
    void fiftyWorkersFinishTwentyThousandTasksExactlyOnceEach() {
        SchedulerSim.Params p = SchedulerSim.Params.of(50, 20_000);
        SchedulerSim.Result r = SchedulerSim.run(p);
        assertEquals(20_000 / 101 + (20_000 % 101 > 0 ? 1 : 0), r.expectedSums());
        assertEquals(r.expectedSums(), r.sumsInMemory(), "every sum reached the client: " + r);
        assertEquals(20_000, r.distinctFinished(), "every task ran: " + r);
        assertEquals(20_000, r.finished(), "and none twice: " + r);
        assertTrue(r.placements() >= 20_000, "a placement per task at least: " + r);
        assertEquals(0, r.tasksLeft(), "released keys leave nothing behind: " + r);
    }

    @Test
    void threeSingleThreadWorkersWithLongQueuesFinishEverythingOnce() {
        SchedulerSim.Params p = new SchedulerSim.Params(3, 1, 3_000, 10, 1_000, 50, 500, 7);
        SchedulerSim.Result r = SchedulerSim.run(p);
        assertEquals(r.expectedSums(), r.sumsInMemory(), r.toString());
        assertEquals(3_000, r.distinctFinished(), r.toString());
        assertEquals(3_000, r.finished(), r.toString());
    }
}
