package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.TaskOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** The idle and no-workers timeouts as the state machine decides them: ticks at chosen times, no clock. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TimeoutsStateTest {
    static final long MS = 1_000_000L;
    static final SchedulerConfig BASE = new SchedulerConfig(Duration.ofSeconds(60), 500, 3, 8192, "sched-test");

    static List<Outgoing> tickAt(Harness h, long at) {
        h.now = at;
        return h.event(new SchedulerEvent.Tick());
    }

    static String erredSummary(List<Outgoing> out, String key) {
        for (Outgoing o : out) {
            if (o.message() instanceof Message.KeyErred e && e.key().equals(key)) {
                return e.summary();
            }
        }
        return null;
    }

    /** Follows dask's test_scheduler.py::test_idle_timeout and test_idle_timeout_no_workers. */
    @Test
    void idleAfterTwoQuietTicksAndClosesPastTheTimeoutButNotWhileWorkWaits() {
        Harness h = new Harness(BASE.withIdleTimeout(Duration.ofSeconds(1)));
        long t = h.now;
        tickAt(h, t);
        assertEquals(-1, h.s.idleSince(), "the first look only notes the count of transitions");
        tickAt(h, t + 100 * MS);
        assertEquals(t + 100 * MS, h.s.idleSince());

        h.submit("c", List.of(h.task("x")), "x"); // no worker: it waits
        for (long at = t + 200 * MS; at < t + 5_000 * MS; at += 100 * MS) {
            tickAt(h, at);
            assertEquals(-1, h.s.idleSince(), "a waiting task keeps it busy");
        }
        assertNull(h.s.shutdownReason());

        h.now = t + 5_000 * MS;
        h.register("w:1", "w", 1);
        h.finish("w:1", "x", 8);
        tickAt(h, t + 5_100 * MS);
        assertEquals(-1, h.s.idleSince(), "the task's transitions were seen on this tick");
        tickAt(h, t + 5_200 * MS);
        assertEquals(t + 5_200 * MS, h.s.idleSince(), "a result in memory is no work");
        tickAt(h, t + 6_200 * MS);
        assertNull(h.s.shutdownReason(), "not past the timeout yet");
        tickAt(h, t + 6_300 * MS);
        assertEquals("idle-timeout-exceeded", h.s.shutdownReason());
    }

    @Test
    void withoutATimeoutItOnlyTracksIdleness() {
        Harness h = new Harness(BASE);
        for (int i = 0; i < 100; i++) {
            tickAt(h, h.now + 100 * MS);
        }
        assertTrue(h.s.idleSince() > 0);
        assertNull(h.s.shutdownReason());
    }

    /** Follows dask's test_scheduler.py::test_no_workers_timeout_bad_restrictions and _processing. */
    @Test
    void aTaskNoWorkerMatchesFailsAfterTheTimeoutAndAProcessingOneIsLeftAlone() {
        Harness h = new Harness(BASE.withNoWorkersTimeout(Duration.ofMillis(100)));
        long t = h.now;
        h.register("a:1", "a", 1);
        h.submit("c", List.of(h.task("x"),
                h.task("y", new TaskOptions(List.of("127.0.0.2:1234"), false, Map.of(), 0))), "x", "y");
        assertEquals("processing", h.s.view().stateOf("x"));
        assertEquals("no-worker", h.s.view().stateOf("y"));
        tickAt(h, t + 50 * MS); // first seen waiting
        assertNull(erredSummary(tickAt(h, t + 150 * MS), "y"), "exactly the timeout is not past it");
        List<Outgoing> out = tickAt(h, t + 151 * MS);
        String summary = erredSummary(out, "y");
        assertNotNull(summary, out.toString());
        assertTrue(summary.startsWith("NoValidWorkerError") && summary.contains("127.0.0.2:1234"), summary);
        assertEquals("erred", h.s.view().stateOf("y"));
        assertEquals("processing", h.s.view().stateOf("x"));
    }

    /** Follows dask's test_scheduler.py::test_no_workers_timeout_without_workers and _disabled. */
    @Test
    void withNoWorkerAtAllTasksFailAfterTheTimeoutAndWithoutOneTheyWait() {
        Harness h = new Harness(BASE.withNoWorkersTimeout(Duration.ofMillis(100)));
        long t = h.now;
        h.submit("c", List.of(h.task("x"), h.task("z", "x")), "z");
        tickAt(h, t);
        List<Outgoing> out = new ArrayList<>(tickAt(h, t + 200 * MS));
        out.addAll(tickAt(h, t + 400 * MS));
        String summary = erredSummary(out, "z");
        assertNotNull(summary, out.toString());
        assertTrue(summary.startsWith("NoWorkerError") && summary.contains("x"), summary);
        assertEquals("erred", h.s.view().stateOf("x"));

        Harness off = new Harness(BASE);
        off.submit("c", List.of(off.task("x")), "x");
        for (int i = 0; i < 50; i++) {
            tickAt(off, off.now + 100 * MS);
        }
        assertTrue(List.of("queued", "no-worker").contains(off.s.view().stateOf("x")));
    }
}
