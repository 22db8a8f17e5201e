package dist;

import dist.worker.WorkerServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Where tasks' time went, as the workers measure it and the scheduler sums it per task group and per span
 * (dask's fine performance metrics): compute, transfer, waiting, spill and serialization.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class FineMetricsTest {
    static final Duration T = Duration.ofSeconds(30);
    static LocalCluster cluster;
    static Client client;
    static List<String> w;

    static int[] moved(int n) {
        return new int[n];
    }

    static int fetching(int[] a) {
        return a.length;
    }

    static int[] spilled(int n) {
        return new int[n];
    }

    /** CPU-bound work: the worker's one slot is busy meanwhile, so the next tasks wait. */
    static long queued(int millis) {
        long end = System.nanoTime() + millis * 1_000_000L;
        long x = 0;
        while (System.nanoTime() < end) {
            x += Long.numberOfTrailingZeros(x + 1);
        }
        return x;
    }

    @BeforeAll
    static void start() {
        cluster = LocalCluster.builder().workers(2).threadsPerWorker(1).output(null).start();
        client = cluster.client();
        w = client.workersInfo().stream().map(WorkerInfo::address).sorted().toList();
    }

    @AfterAll
    static void stop() {
        client.close();
        cluster.close();
    }

    private static Submitter on(String worker) {
        return client.with(Options.defaults().workers(worker).pure(false));
    }

    private static Optional<TaskStream.GroupTime> group(TaskStream ts, String name) {
        return ts.groupTimes().stream().filter(g -> g.group().equals(name)).findFirst();
    }

    /**
     * dask: test_spans.py::test_spans_in_fine_metrics (transfer to the span) and
     * test_worker_metrics.py::test_gather_dep — a task whose input is on another worker counts the fetch's
     * seconds and bytes for its group and its span (and the span it is nested in).
     */
    @Test
    void aFetchedInputCountsForTheGroupAndTheSpan() throws Exception {
        try (TaskStream ts = client.taskStream()) {
            String outer;
            String inner;
            Future<Integer> n;
            try (Span o = client.span("outer"); Span s = client.span("moving")) {
                outer = o.id();
                inner = s.id();
                Future<int[]> a = on(w.get(0)).submit(FineMetricsTest::moved, 100_000);
                n = on(w.get(1)).submit(FineMetricsTest::fetching, a);
            }
            assertEquals(100_000, n.result(T));
            TaskStream.GroupTime g = Wait.value(T, () -> group(ts, "fetching").orElse(null),
                    x -> x != null && x.transferBytes() > 0);
            assertNotNull(g, "the fetching group's metrics reached the scheduler");
            assertTrue(g.transferBytes() >= 100_000, g.toString());
            assertTrue(g.transferSeconds() > 0, g.toString());
            assertTrue(g.computeSeconds() > 0 && g.serializationSeconds() > 0, g.toString());
            for (String id : List.of(inner, outer)) {
                SpanInfo span = Wait.value(T, () -> client.spans().stream().filter(x -> x.id().equals(id))
                        .findFirst().orElse(null), x -> x != null && x.transferBytes() > 0);
                assertNotNull(span, id + " is kept");
                assertTrue(span.transferBytes() >= 100_000 && span.transferSeconds() > 0, span.toString());
            }
        }
    }

    /** dask: test_worker_metrics.py::test_execute — tasks queued behind a busy slot count their wait. */
    @Test
    void aTaskWaitingForASlotCountsItsWait() throws Exception {
        try (TaskStream ts = client.taskStream()) {
            List<Future<Long>> fs = on(w.get(0)).map(FineMetricsTest::queued, List.of(30, 31, 32, 33));
            fs.forEach(f -> f.result(T));
            TaskStream.GroupTime g = Wait.value(T, () -> group(ts, "queued").orElse(null),
                    x -> x != null && x.waitingSeconds() > 0 && x.computeSeconds() > 0.1);
            assertNotNull(g, "the queued group's metrics reached the scheduler");
            assertTrue(g.waitingSeconds() > 0, g.toString());
        }
    }

    /** dask: test_worker_metrics.py::test_memory_monitor — results written to disk count as spill. */
    @Test
    void aSpilledResultCountsAsSpill() throws Exception {
        try (TaskStream ts = client.taskStream()) {
            Future<int[]> big = on(w.get(1)).submit(FineMetricsTest::spilled, 50_000);
            big.result(T);
            client.run(() -> {
                WorkerServer.current().dataStore().spillAtLeast(Long.MAX_VALUE);
                return 0;
            }, List.of(w.get(1)));
            TaskStream.GroupTime g = Wait.value(T, () -> group(ts, "spilled").orElse(null),
                    x -> x != null && x.spillBytes() > 0);
            assertNotNull(g, "the spilled group's metrics reached the scheduler");
            assertTrue(g.spillBytes() >= 50_000 && g.spillSeconds() > 0, g.toString());
            assertEquals(50_000, big.result(T).length, "read back from disk");
        }
    }

    /**
     * dask: test_client.py::test_performance_report — the report's per-group table shows the five parts
     * measured, and the fetching group's transfer bytes.
     */
    @Test
    void theReportShowsTheFiveMeasuredColumns() throws Exception {
        Path file = Files.createTempFile("fine-metrics", ".html");
        try {
            try (PerformanceReport report = client.performanceReport(file)) {
                Future<int[]> a = on(w.get(0)).submit(FineMetricsTest::moved, 30_000);
                assertEquals(30_000, on(w.get(1)).submit(FineMetricsTest::fetching, a).result(T));
                // the worker's next report (every half second) carries the fetch: the report is closed after it
                long before = group(client.taskStream(Duration.ofMinutes(1)), "fetching")
                        .map(TaskStream.GroupTime::transferBytes).orElse(0L);
                assertTrue(Wait.until(T, () -> group(client.taskStream(Duration.ofMinutes(1)), "fetching")
                        .map(TaskStream.GroupTime::transferBytes).orElse(0L) >= before + 30_000));
            }
            String html = Files.readString(file, StandardCharsets.UTF_8);
            assertFalse(html.contains("not measured"), html);
            for (String column : List.of("compute", "transfer", "waiting", "spill", "serialization")) {
                assertTrue(html.contains("<th>" + column + " s</th>") && html.contains("<td class=\"" + column + "\">"),
                        column + " is a measured column");
            }
            int row = html.indexOf("</span> fetching</td>");
            assertTrue(row > 0, html);
            String cells = html.substring(row, html.indexOf("</tr>", row));
            assertTrue(cells.matches("(?s).*<td class=\"transfer\">[0-9.]+ \\([1-9][0-9]* B\\)</td>.*"), cells);
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
