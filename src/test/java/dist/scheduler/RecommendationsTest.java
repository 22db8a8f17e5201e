package dist.scheduler;

import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/** The recommendation queue keeps order and targets while it wraps around and grows. */
class RecommendationsTest {

    @Test
    void firstInFirstOutAcrossWrapsAndGrowth() {
        Recommendations r = new Recommendations();
        ArrayDeque<TaskState> expected = new ArrayDeque<>();
        ArrayDeque<Byte> targets = new ArrayDeque<>();
        int n = 0;
        for (int round = 0; round < 50; round++) {
            for (int i = 0; i < 7 + round * 3; i++) { // more added than taken: it wraps, then grows
                TaskState ts = new TaskState("k-" + n, null, 0, null, new TaskPrefix("k"));
                byte to = (byte) (n % TaskState.FORGOTTEN);
                r.add(ts, to);
                expected.add(ts);
                targets.add(to);
                n++;
            }
            for (int i = 0; i < 5 + round * 2; i++) {
                assertSame(expected.poll(), r.poll());
                assertEquals((byte) targets.poll(), r.target());
            }
        }
        while (!expected.isEmpty()) {
            assertSame(expected.poll(), r.poll());
            assertEquals((byte) targets.poll(), r.target());
        }
        assertNull(r.poll());
        r.add(new TaskState("x", null, 0, null, new TaskPrefix("x")), TaskState.RELEASED);
        r.clear();
        assertNull(r.poll());
    }
}
