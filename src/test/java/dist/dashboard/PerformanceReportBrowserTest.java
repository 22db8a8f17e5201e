package dist.dashboard;

import dist.Client;
import dist.Future;
import dist.LocalCluster;
import dist.Options;
import dist.PerformanceReport;
import dist.Span;
import dist.WorkerInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A performance report and the dashboard's spans as a person sees them: headless Chromium opens the
 * report file (its own script draws and counts), screenshots land in target/, and the page fetches
 * nothing from elsewhere. Chromium is found or installed as {@link DashboardBrowserTest} does.
 */
@Timeout(value = 170, unit = TimeUnit.SECONDS)
class PerformanceReportBrowserTest {
    static final Duration T = Duration.ofSeconds(30);

    static int square(int x) {
        return x * x;
    }

    static int[] block(int n) {
        return new int[n];
    }

    /** CPU-bound work long enough for the workers' sampler (every 10 ms) to catch it. */
    static long spinForTheProfiler(int millis) {
        long end = System.nanoTime() + millis * 1_000_000L;
        long x = 0;
        while (System.nanoTime() < end) {
            x += Long.numberOfTrailingZeros(x + 1);
        }
        return x;
    }

    static int total(int[] a, int[] b) {
        return a.length + b.length;
    }

    /**
     * dask: test_client.py::test_performance_report — the block's tasks, their groups, the transfers
     * between workers and the workers' profile of the block are in one self-contained page that a
     * browser renders.
     */
    @Test
    void reportShowsTheBlockInABrowser() throws Exception {
        String chromium = DashboardBrowserTest.chromium();
        Path file = Path.of("target", "performance-report.html").toAbsolutePath();
        Files.deleteIfExists(file);
        try (LocalCluster cluster = LocalCluster.builder().workers(2).threadsPerWorker(2).start();
             Client client = cluster.client()) {
            client.submit(PerformanceReportBrowserTest::square, 99).result(T); // before the block: not in it
            List<String> w = client.workersInfo().stream().map(WorkerInfo::address).sorted().toList();
            int n;
            try (PerformanceReport report = client.performanceReport(file)) {
                List<Future<Integer>> squares;
                try (Span s = client.span("squares")) {
                    squares = client.map(PerformanceReportBrowserTest::square, List.of(1, 2, 3, 4, 5, 6, 7, 8));
                }
                squares.forEach(f -> f.result(T));
                Future<int[]> a = client.with(Options.defaults().workers(w.get(0)).pure(false))
                        .submit(PerformanceReportBrowserTest::block, 50_000);
                Future<int[]> b = client.with(Options.defaults().workers(w.get(1)).pure(false))
                        .submit(PerformanceReportBrowserTest::block, 50_000);
                assertEquals(100_000, client.with(Options.defaults().workers(w.get(0)).pure(false))
                        .submit(PerformanceReportBrowserTest::total, a, b).result(T));
                client.submit(PerformanceReportBrowserTest::spinForTheProfiler, 400).result(T);
                n = 8 + 3 + 1;
                // samples reach the scheduler with the worker's next profile cycle (1 s)
                assertTrue(dist.Wait.until(T, () -> client.profile("spinForTheProfiler").count() > 0
                        || client.profile(null).find("spinForTheProfiler").isPresent()));
                // the fetch is reported with the worker's next stats, about a second later
                assertTrue(dist.Wait.until(T, () -> !client.taskStream(Duration.ofMinutes(1)).transfers().isEmpty()));
            }
            assertTrue(Files.size(file) > 0);
            String html = Files.readString(file, StandardCharsets.UTF_8);
            assertSelfContained(html);
            assertTrue(html.contains("<b id=\"task-count\">" + n + "</b>"), "the block's " + n + " tasks:\n" + html);
            for (String group : List.of("square", "block", "total")) {
                assertTrue(html.contains(group), "group " + group + " is shown");
            }
            assertTrue(html.contains("<table id=\"profile\">") && html.contains("spinForTheProfiler"),
                    "the profile panel shows the spinning task's frames");
            assertTrue(html.contains("<td>squares</td>"), "the span is listed");
            assertTrue(html.contains("<th>transfer s</th><th>transfer B</th>"), "a span's transfers beside its compute");
            assertTrue(html.contains("<table id=\"bandwidth\">") && html.contains(w.get(1)), "bandwidth from " + w.get(1));
            for (String column : List.of("compute", "transfer", "waiting", "spill", "serialization")) {
                assertTrue(html.contains("<td class=\"" + column + "\">"), column + " is measured per group");
            }

            String dom = DashboardBrowserTest.run(chromium, "--dump-dom", file.toUri().toString());
            assertTrue(dom.contains("<b id=\"rendered-tasks\">" + n + "</b>"), "the page's script counted the bars:\n" + dom);
            Matcher m = Pattern.compile("<b id=\"total-compute\">([0-9.]+)</b>").matcher(dom);
            assertTrue(m.find() && Double.parseDouble(m.group(1)) >= 0, "the script summed compute time");
            assertTrue(dom.contains("class=\"transfer\""), "a transfer is drawn");
            Path png = Path.of("target", "performance-report.png").toAbsolutePath();
            Files.deleteIfExists(png);
            DashboardBrowserTest.run(chromium, "--screenshot=" + png, file.toUri().toString());
            assertTrue(Files.size(png) > 10_000, "a screenshot at " + png);
        }
    }

    /** The report loads nothing from elsewhere: its styles and script are inline. */
    static void assertSelfContained(String html) {
        assertFalse(Pattern.compile("(src|href)\\s*=\\s*\"(https?:)?//").matcher(html).find(),
                "the report loads nothing from elsewhere");
        assertFalse(html.contains("<link") || html.contains("<script src"), "styles and script are inline");
    }

    /** The dashboard lists spans on /status and in /api/spans. */
    @Test
    void dashboardShowsSpans() throws Exception {
        String chromium = DashboardBrowserTest.chromium();
        try (LocalCluster cluster = LocalCluster.builder().workers(1).threadsPerWorker(1).dashboard(0).start();
             Client client = cluster.client()) {
            try (Span s = client.span("etl")) {
                client.submit(PerformanceReportBrowserTest::square, 3).result(T);
            }
            String url = cluster.dashboardLink().orElseThrow();
            String json = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url).resolve("/api/spans"))
                    .timeout(T).build(), HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(json.contains("\"name\":\"etl\"") && json.contains("\"tasks\":1"), json);
            assertTrue(json.contains("\"transferSeconds\":") && json.contains("\"transferBytes\":"),
                    "a span's transfers beside its compute: " + json);
            String dom = DashboardBrowserTest.run(chromium, "--dump-dom", url);
            assertTrue(dom.contains("<tr class=\"span\"><td>etl</td>"), "the spans table lists etl:\n" + dom);
            assertTrue(dom.contains("<th>transfer s</th><th>transferred</th>"), "with its transfers:\n" + dom);
        }
    }
}
