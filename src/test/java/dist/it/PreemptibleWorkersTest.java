package dist.it;

import dist.examples.PreemptibleWorkers;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The seeds' scenario with real signals: the sum must be exact however many workers die. */
class PreemptibleWorkersTest {

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void sigtermEveryThreeSecondsGives159600() throws Exception {
        PreemptibleWorkers.Result r = PreemptibleWorkers.run(400, 200, PreemptibleWorkers::multiplyByTwo,
                Duration.ofSeconds(3), false, System.out, null, 1);
        assertEquals(159600L, r.answer(), "after " + r.kills() + " kills");
    }

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void sigkillEverySecondGives159600() throws Exception {
        PreemptibleWorkers.Result r = PreemptibleWorkers.run(400, 200, PreemptibleWorkers::multiplyByTwo,
                Duration.ofSeconds(1), true, System.out, null, 2);
        assertEquals(159600L, r.answer(), "after " + r.kills() + " kills");
    }

    /** The harder variant: SIGKILL every second over about 10,000 tasks. {@code ./run.sh soak} runs it. */
    @Test
    @Tag("slow")
    @Timeout(value = 900, unit = TimeUnit.SECONDS)
    void sigkillEverySecondOverTenThousandTasks() throws Exception {
        for (int run = 0; run < 3; run++) {
            // 5,000 partitions: 5,000 map tasks, 5,000 partition sums and a tree of about 700 more
            PreemptibleWorkers.Result r = PreemptibleWorkers.run(10_000, 5_000, PreemptibleWorkers::multiplyByTwoQuickly,
                    Duration.ofSeconds(1), true, System.out, null, 100 + run);
            assertEquals(10_000L * 9_999L, r.answer(), "run " + run + " after " + r.kills() + " kills");
        }
    }
}
