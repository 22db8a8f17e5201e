package dist.dashboard;

import dist.Client;
import dist.Future;
import dist.LocalCluster;
import dist.Options;
import dist.PerformanceReport;
import dist.RecordedRun;
import dist.TaskStream;
import dist.WorkerInfo;
import jdk.jfr.Recording;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A run recorded with Flight Recorder becomes the same report a client writes: every task, the workers,
 * the bytes fetched between them, in one page that fetches nothing and that headless Chromium draws.
 */
@Timeout(value = 170, unit = TimeUnit.SECONDS)
class RecordedReportTest {
    static final Duration T = Duration.ofSeconds(30);

    static int[] block(int n) {
        return new int[n];
    }

    static int length(int[] a) {
        return a.length;
    }

    @Test
    void aRecordedRunBecomesTheReport(@TempDir Path dir) throws Exception {
        String chromium = DashboardBrowserTest.chromium();
        Path jfr = dir.resolve("run.jfr");
        List<String> keys = new ArrayList<>();
        List<String> w;
        try (Recording r = new Recording()) {
            for (String e : List.of("dist.TaskExecuted", "dist.Transfer", "dist.Spill", "dist.WorkerLost",
                    "dist.TimeSpent")) {
                r.enable(e);
            }
            r.start();
            try (LocalCluster cluster = LocalCluster.builder().workers(2).threadsPerWorker(1).start();
                 Client client = cluster.client()) {
                w = client.workersInfo().stream().map(WorkerInfo::address).sorted().toList();
                // blocks on the first worker, their lengths on the second: each length fetches its block
                List<Future<int[]>> blocks = client.with(Options.defaults().workers(w.get(0)).pure(false))
                        .map(RecordedReportTest::block, List.of(10_000, 20_000, 30_000));
                List<Future<Integer>> lengths = client.with(Options.defaults().workers(w.get(1)).pure(false))
                        .map(RecordedReportTest::length, blocks);
                assertEquals(List.of(10_000, 20_000, 30_000), lengths.stream().map(f -> f.result(T)).toList());
                blocks.forEach(f -> keys.add(f.key()));
                lengths.forEach(f -> keys.add(f.key()));
            }
            r.stop();
            r.dump(jfr);
        }

        Path html = Path.of("target", "performance-report-recorded.html").toAbsolutePath();
        Files.deleteIfExists(html);
        RecordedRun run = PerformanceReport.fromRecordings(List.of(jfr), html);
        String page = Files.readString(html, StandardCharsets.UTF_8);
        PerformanceReportBrowserTest.assertSelfContained(page);
        for (String key : keys) {
            assertTrue(page.contains("<title>" + key + "</title>"), "task " + key + " is drawn:\n" + page);
            assertEquals(1, run.tasks().stream().filter(t -> t.key().equals(key)).count(), key + " read once");
        }
        for (String worker : w) {
            assertTrue(page.contains(">" + worker + "</text>"), "a lane for " + worker);
        }
        List<TaskStream.Transfer> fetched = run.transfers().stream()
                .filter(t -> t.from().equals(w.get(0)) && t.worker().equals(w.get(1))).toList();
        long bytes = fetched.stream().mapToLong(TaskStream.Transfer::bytes).sum();
        assertTrue(bytes >= 60_000, "the three blocks went from " + w.get(0) + " to " + w.get(1) + ": " + fetched);
        assertTrue(page.contains("<tr><td>" + w.get(0) + "</td><td>" + w.get(1) + "</td><td>" + fetched.size()
                + "</td><td>" + bytes + "</td>"), "the bandwidth table has the bytes fetched:\n" + page);
        for (TaskStream.Task t : run.tasks()) {
            assertFalse(t.stop().isBefore(t.start()), t.toString());
        }
        // the per-group split, from the workers' time-spent events (their last delta comes as they close)
        String blockGroup = dist.scheduler.ClusterView.groupOf(keys.get(0));
        String lengthGroup = dist.scheduler.ClusterView.groupOf(keys.get(3));
        TaskStream.GroupTime blockTime = run.groupTimes().stream().filter(g -> g.group().equals(blockGroup)).findFirst()
                .orElseThrow(() -> new AssertionError("no time for " + blockGroup + ": " + run.groupTimes()));
        TaskStream.GroupTime lengthTime = run.groupTimes().stream().filter(g -> g.group().equals(lengthGroup)).findFirst()
                .orElseThrow(() -> new AssertionError("no time for " + lengthGroup + ": " + run.groupTimes()));
        assertTrue(blockTime.computeSeconds() > 0, blockTime.toString());
        assertTrue(lengthTime.transferBytes() >= 60_000, "the lengths' inputs came from a peer: " + lengthTime);
        assertTrue(lengthTime.transferSeconds() > 0, lengthTime.toString());
        assertTrue(page.contains("<td class=\"transfer\">"), "the group table has a transfer column");
        assertTrue(page.contains("(" + lengthTime.transferBytes() + " B)</td>"),
                "the lengths' row has the bytes fetched for them:\n" + page);

        String dom = DashboardBrowserTest.run(chromium, "--dump-dom", html.toUri().toString());
        assertTrue(dom.contains("<b id=\"rendered-tasks\">" + run.tasks().size() + "</b>"),
                "the page's script counted the bars:\n" + dom);
        assertTrue(dom.contains("class=\"transfer\""), "a transfer is drawn");
    }
}
