package dist.scheduler;

import dist.config.Config;
import dist.protocol.Message;
import dist.protocol.TaskOptions;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The scheduler's totals per span, driven event by event. */
class SpanExtensionTest {
    static final String W = "10.0.0.1:9000";

    static TaskOptions in(String... span) {
        return new TaskOptions(List.of(), false, Map.of(), 0, List.of(span));
    }

    static SpanTotals totals(Harness h, String id) {
        return h.s.view().spans().stream().filter(t -> t.id().equals(id)).findFirst().orElse(null);
    }

    /** A key submitted again in its span counts once; its run's time and its result's bytes count in every enclosing span. */
    @Test
    void countsEachTaskOnceAndItsRunInEveryEnclosingSpan() {
        Harness h = new Harness();
        h.register(W, "w", 1);
        h.submit("c", List.of(h.task("x", in("etl#1", "load#2"))), "x");
        h.submit("c", List.of(h.task("x", in("etl#1", "load#2"))), "x"); // the same key again
        h.finish(W, "x", 64); // ran 10 ns
        for (String id : List.of("etl#1", "load#2")) {
            SpanTotals t = totals(h, id);
            assertEquals(1, t.tasks(), t.toString());
            assertEquals(1, t.active());
            assertEquals(64, t.memoryBytes());
            assertEquals(1e-8, t.computeSeconds(), 1e-12);
            assertFalse(t.done());
        }
        assertEquals("etl#1", totals(h, "load#2").parent());
        assertEquals("load", totals(h, "load#2").name());
        h.client("c", new Message.ReleaseKeys("c", List.of("x")));
        assertTrue(totals(h, "etl#1").done(), "no task of it is left");
        assertEquals(0, totals(h, "etl#1").memoryBytes());
        assertEquals(1, totals(h, "etl#1").tasks(), "totals outlive their tasks");
    }

    /** Tasks outside every span leave no totals. */
    @Test
    void tasksOutsideSpansCountNowhere() {
        Harness h = new Harness();
        h.register(W, "w", 1);
        h.submit("c", List.of(h.task("x")), "x");
        h.finish(W, "x", 8);
        assertEquals(List.of(), h.s.view().spans());
    }

    /** At the limit, the oldest done span makes room; with none done, a new span is not counted. */
    @Test
    void keepsAtMostTheLimit() {
        try (Config.Override o = Config.set("distributed.scheduler.spans.max", 2)) {
            Harness h = new Harness();
            h.register(W, "w", 1);
            h.submit("c", List.of(h.task("a", in("a#1"))), "a");
            h.submit("c", List.of(h.task("b", in("b#1"))), "b");
            h.submit("c", List.of(h.task("c", in("c#1"))), "c"); // a and b still run: no room
            assertEquals(List.of("a#1", "b#1"), h.s.view().spans().stream().map(SpanTotals::id).toList());
            assertEquals(1, h.s.extension(SpanExtension.class).refused());
            h.finish(W, "a", 8);
            h.client("c", new Message.ReleaseKeys("c", List.of("a")));
            h.submit("c", List.of(h.task("d", in("d#1"))), "d"); // a is done: it goes
            assertEquals(List.of("b#1", "d#1"), h.s.view().spans().stream().map(SpanTotals::id).toList());
        }
    }
}
