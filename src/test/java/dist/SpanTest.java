package dist;

import dist.config.Config;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

/** Spans tag the tasks submitted inside them; the scheduler keeps totals per span. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SpanTest {
    static final Duration T = Duration.ofSeconds(30);

    static int inc(int x) {
        return x + 1;
    }

    static int fail(int x) {
        throw new IllegalStateException("no " + x);
    }

    private static Map<String, SpanInfo> byName(Client client) {
        return client.spans().stream().collect(Collectors.toMap(SpanInfo::name, Function.identity(), (a, b) -> b));
    }

    /**
     * dask: test_spans.py::test_spans — nested spans: a task in an inner span counts there and in the
     * outer one; a task outside every span counts in none; the totals outlive the tasks.
     */
    @Test
    void nestedSpansCountTheirTasks() throws InterruptedException {
        try (LocalCluster cluster = LocalCluster.builder().workers(1).threadsPerWorker(1).start();
             Client client = cluster.client()) {
            Future<Integer> outside = client.submit(SpanTest::inc, 0);
            Future<Integer> p1;
            Future<Integer> p2;
            String wfId;
            try (Span wf = client.span("my workflow")) {
                wfId = wf.id();
                try (Span s = client.span("p1")) {
                    p1 = client.submit(SpanTest::inc, 1);
                }
                try (Span s = client.span("p2")) {
                    p2 = client.submit(SpanTest::inc, p1);
                }
            }
            assertEquals(3, p2.result(T));
            assertEquals(1, outside.result(T));
            Map<String, SpanInfo> spans = byName(client);
            assertEquals(java.util.Set.of("my workflow", "p1", "p2"), spans.keySet());
            assertEquals(2, spans.get("my workflow").tasks());
            assertEquals(1, spans.get("p1").tasks());
            assertEquals(wfId, spans.get("p1").parent());
            assertEquals(wfId, spans.get("p2").parent());
            assertEquals("", spans.get("my workflow").parent());
            // compute seconds arrive with the workers' reports of each run
            assertTrue(Wait.until(T, () -> byName(client).get("my workflow").computeSeconds() > 0));
            assertTrue(spans.get("p2").memoryBytes() > 0, "p2's result is held: " + spans.get("p2"));

            // the totals survive their tasks
            outside.release();
            p1.release();
            p2.release();
            assertTrue(Wait.until(T, () -> byName(client).get("my workflow").done()));
            SpanInfo wf = byName(client).get("my workflow");
            assertEquals(2, wf.tasks());
            assertEquals(0, wf.active());
            assertEquals(0, wf.memoryBytes());
        }
    }

    /** dask: test_spans.py::test_submit — a task submitted inside a span carries it; one outside it does not. */
    @Test
    void onlyTasksSubmittedInsideCarryTheSpan() {
        try (LocalCluster cluster = LocalCluster.builder().workers(1).threadsPerWorker(1).start();
             Client client = cluster.client()) {
            client.submit(SpanTest::inc, 1).result(T);
            try (Span s = client.span("foo")) {
                client.submit(SpanTest::inc, 2).result(T);
            }
            client.submit(SpanTest::inc, 3).result(T);
            List<SpanInfo> spans = client.spans();
            assertEquals(1, spans.size(), spans.toString());
            assertEquals("foo", spans.get(0).name());
            assertEquals(1, spans.get(0).tasks());
        }
    }

    /** A span counts the runs that threw. */
    @Test
    void countsErrors() throws InterruptedException {
        try (LocalCluster cluster = LocalCluster.builder().workers(1).threadsPerWorker(1).start();
             Client client = cluster.client()) {
            Future<Integer> f;
            try (Span s = client.span("bad")) {
                f = client.submit(SpanTest::fail, 1);
            }
            assertThrows(RuntimeException.class, () -> f.result(T));
            assertTrue(Wait.until(T, () -> byName(client).get("bad").errors() == 1));
        }
    }

    /** Beyond distributed.scheduler.spans.max the oldest done span makes room; a new one is kept. */
    @Test
    void keepsAtMostTheConfiguredNumberOfSpans() throws InterruptedException {
        try (Config.Override o = Config.set("distributed.scheduler.spans.max", 2);
             LocalCluster cluster = LocalCluster.builder().workers(1).threadsPerWorker(1).start();
             Client client = cluster.client()) {
            for (String name : List.of("a", "b", "c")) {
                Future<Integer> f;
                try (Span s = client.span(name)) {
                    f = client.submit(SpanTest::inc, (int) name.charAt(0));
                }
                f.result(T);
                f.release();
                assertTrue(Wait.until(T, () -> byName(client).get(name).done()), name + " is done");
            }
            assertEquals(List.of("b", "c"), client.spans().stream().map(SpanInfo::name).toList());
        }
    }

    /** A span's name may not hold '#', which separates it from the id's suffix. */
    @Test
    void refusesABadName() {
        try (LocalCluster cluster = LocalCluster.builder().workers(1).threadsPerWorker(1).start();
             Client client = cluster.client()) {
            assertThrows(IllegalArgumentException.class, () -> client.span("a#b"));
            assertThrows(IllegalArgumentException.class, () -> client.span(" "));
        }
    }
}
