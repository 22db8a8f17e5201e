package dist.dashboard;

import dist.Client;
import dist.Future;
import dist.Futures;
import dist.LocalCluster;
import dist.LocalClusters;
import dist.StoryEvent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** The dashboard's endpoints, the task story and the dashboard link, over a real thread-mode cluster. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DashboardTest {
    static LocalCluster cluster;
    static Client client;
    static String base;
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    static int inc(int x) {
        return x + 1;
    }

    static int sum(List<Integer> xs) {
        return xs.stream().mapToInt(i -> i).sum();
    }

    static int boom(int x) {
        throw new IllegalStateException("boom " + x);
    }

    @BeforeAll
    static void start() throws Exception {
        cluster = LocalCluster.builder().workers(2).threadsPerWorker(2).dashboard(0).start();
        client = cluster.client();
        String link = cluster.dashboardLink().orElseThrow();
        base = link.substring(0, link.length() - "/status".length());
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    static HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Polls {@code path} until its body contains {@code text}; fails after 15 s. */
    static String awaitBody(String path, String text) throws Exception {
        String body = dist.Wait.value(Duration.ofSeconds(15), () -> {
            try {
                return get(path).body();
            } catch (Exception e) {
                return "";
            }
        }, b -> b.contains(text));
        if (!body.contains(text)) {
            fail(path + " never contained " + text + "; last body: " + body);
        }
        return body;
    }

    @Test
    void clientAndClusterKnowTheLink() throws Exception {
        assertEquals(cluster.dashboardLink(), client.dashboardLink());
        assertTrue(client.dashboardLink().orElseThrow().startsWith("http://127.0.0.1:"));
        HttpResponse<String> page = get("/status");
        assertEquals(200, page.statusCode());
        assertTrue(page.body().contains("/static/dashboard.js"), "the page loads its script from the jar");
        assertTrue(get("/static/dashboard.js").body().contains("pollStatus"));
        assertEquals(200, get("/tasks").statusCode());
        assertEquals(404, get("/nothing-here").statusCode());
        assertEquals(400, get("/api/story").statusCode(), "a story without a key is a clear error");
    }

    @Test
    void jsonAndMetricsShowWorkersFinishedTasksAndErrors() throws Exception {
        List<Future<Integer>> xs = client.map(DashboardTest::inc, List.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
        String prefix = xs.get(0).key().substring(0, xs.get(0).key().lastIndexOf('-'));
        assertEquals(65, client.submit(DashboardTest::sum, Futures.all(xs)).result(Duration.ofSeconds(20)));
        Future<Integer> bad = client.submit(DashboardTest::boom, 1);
        assertThrows(Exception.class, () -> bad.result(Duration.ofSeconds(20)));
        String status = awaitBody("/api/status", "\"erred\":1");
        for (String w : LocalClusters.scheduler(cluster).query(st -> st.view().workers(), 5, TimeUnit.SECONDS)) {
            assertTrue(status.contains("\"address\":\"" + w + "\""), "worker " + w + " missing from " + status);
        }
        assertTrue(status.contains("\"prefix\":\"" + prefix + "\""), prefix + " in " + status);
        String metrics = awaitBody("/metrics", "dist_tasks{state=\"erred\"} 1");
        assertTrue(metrics.contains("dist_workers 2"), metrics);
        assertTrue(metrics.contains("# TYPE dist_compute_seconds histogram"), metrics);
        assertTrue(metrics.contains("dist_compute_seconds_count"), metrics);
        assertTrue(metrics.contains("# TYPE dist_transfer_seconds histogram"), metrics);
        assertTrue(metrics.contains("# TYPE dist_held_bytes gauge"), metrics);
        assertTrue(metrics.contains("dist_managed_bytes{worker=\""), metrics);
        assertFalse(metrics.contains("dist_worker_"), "names under dist_worker_ are the workers' pages: " + metrics);
        String tasks = awaitBody("/api/tasks", xs.get(3).key());
        assertTrue(tasks.contains("\"erred\":true"), "the failed task is listed as erred");
    }

    static int impureAdd(int a, int b) {
        return a + b;
    }

    /**
     * Impure calls of one function (keys {@code impureAdd-<uuid>}) are one group, and the page gets
     * each drawn task's group and the group's colour, which is never the transfers' red.
     */
    @Test
    void impureTasksShareOneGroupAndItsColour() throws Exception {
        dist.Submitter impure = client.with(dist.Options.defaults().pure(false));
        List<Future<Integer>> fs = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            fs.add(impure.submit(DashboardTest::impureAdd, i, i));
        }
        client.gather(fs);
        String status = awaitBody("/api/status", "\"group\":\"impureAdd\"");
        assertTrue(status.contains("\"prefix\":\"impureAdd\""), status);
        for (Future<Integer> f : fs) {
            assertFalse(status.contains("\"prefix\":\"" + f.key().substring(0, f.key().lastIndexOf('-'))),
                    "no group per impure task: " + status);
        }
        assertTrue(status.contains("\"impureAdd\":\"" + Palette.colour("impureAdd") + "\""), status);
        assertTrue(status.contains("\"prefix\":\"impureAdd\",\"colour\":\"" + Palette.colour("impureAdd") + "\""),
                "the progress row shows the colour its tasks are drawn in: " + status);
        assertFalse(status.contains("\"#d62728\""), "no group is drawn in the transfers' red: " + status);
    }

    @Test
    void storyTellsSchedulerAndWorkerSteps() throws Exception {
        Future<Integer> a = client.submit(DashboardTest::inc, 41);
        assertEquals(42, a.result(Duration.ofSeconds(20)));
        List<StoryEvent> story = dist.Wait.value(Duration.ofSeconds(10), () -> {
            try {
                return client.story(a);
            } catch (Exception e) {
                return List.<StoryEvent>of();
            }
        }, s -> s.stream().anyMatch(e -> e.event().equals("memory") && !e.where().equals("scheduler")));
        List<String> scheduler = new ArrayList<>();
        List<String> worker = new ArrayList<>();
        for (StoryEvent e : story) {
            assertEquals(a.key(), e.key());
            (e.where().equals("scheduler") ? scheduler : worker).add(e.event());
        }
        assertTrue(scheduler.contains("released -> waiting"), "scheduler steps: " + scheduler);
        assertTrue(scheduler.contains("processing -> memory"), "scheduler steps: " + scheduler);
        assertTrue(worker.containsAll(List.of("received from the scheduler", "executing", "memory")),
                "worker steps: " + worker);
        for (int i = 1; i < story.size(); i++) {
            assertFalse(story.get(i).time().isBefore(story.get(i - 1).time()), "story out of order: " + story);
        }
        String json = get("/api/story?key=" + java.net.URLEncoder.encode(a.key(), "UTF-8")).body();
        assertTrue(json.contains("processing -> memory") && json.contains("executing"), json);
        assertTrue(client.story("no-such-key").isEmpty());
    }

    @Test
    void transfersAreReportedAndMarked() throws Exception {
        // inputs spread over both workers: the sum needs at least one from the other worker
        List<Future<Integer>> xs = client.map(DashboardTest::inc, List.of(100, 101, 102, 103, 104, 105, 106, 107));
        client.gather(xs);
        java.util.Set<String> holders = new java.util.HashSet<>();
        for (List<String> h : client.whoHas(xs).values()) {
            holders.addAll(h);
        }
        assertEquals(2, holders.size(), "inputs on both workers: " + holders);
        client.submit(DashboardTest::sum, Futures.all(xs)).result(Duration.ofSeconds(20));
        awaitBody("/api/status", "\"peer\":");
        String metrics = get("/metrics").body();
        assertFalse(metrics.contains("dist_transfer_seconds_count 0"), metrics);
    }

    @Test
    void workerServesItsOwnMetrics() throws Exception {
        // a cluster of its own, so the shared one keeps its two workers
        try (dist.scheduler.SchedulerServer s = dist.scheduler.SchedulerServer.start("127.0.0.1", 0,
                dist.scheduler.SchedulerConfig.defaults(), dist.comm.CommConfig.DEFAULT);
             dist.worker.WorkerServer w = dist.worker.WorkerServer.start(
                     dist.worker.WorkerServer.Options.of(s.address(), 1));
             WorkerDashboard page = WorkerDashboard.start(w, "127.0.0.1", 0);
             Client c = Client.connect(s.address())) {
            assertEquals(8, c.submit(DashboardTest::inc, 7).result(Duration.ofSeconds(20)));
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(page.url())).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertTrue(r.body().contains("dist_worker_tasks_total{worker=\"" + w.address()
                    + "\",outcome=\"memory\"} 1"), r.body());
            assertTrue(r.body().contains("# TYPE dist_worker_transfer_seconds histogram"), r.body());
            assertTrue(r.body().contains("dist_worker_compute_seconds_bucket{le=\"+Inf\"} 1"), r.body());
            assertTrue(r.body().contains("# TYPE dist_worker_heap_used_bytes gauge"), r.body());
            assertTrue(r.body().contains("dist_worker_cpu_ratio{worker=\"" + w.address() + "\"}"), r.body());
        }
    }

    /**
     * A request whose body is malformed (a chunk size past any buffer) is the visitor's fault: no warning
     * with a stack trace per request, the connection is closed, and the next visitor is served. Found by
     * the fuzzer.
     */
    @Test
    void aMalformedRequestBodyIsNoWarningAndTheNextRequestIsServed() throws Exception {
        java.util.logging.Logger log = java.util.logging.Logger.getLogger("dist.dashboard");
        java.util.List<java.util.logging.LogRecord> warnings = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Handler h = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                if (r.getLevel().intValue() >= java.util.logging.Level.WARNING.intValue()) {
                    warnings.add(r);
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        log.addHandler(h);
        try {
            URI u = URI.create(base);
            for (int i = 0; i < 3; i++) {
                try (java.net.Socket s = new java.net.Socket(u.getHost(), u.getPort())) {
                    s.setSoTimeout(10_000); // the server closes the connection: no read waits this long
                    s.getOutputStream().write(("GET /api/status HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
                            + "\r\n\r\nffffffff\r\nab").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
                    s.shutdownOutput();
                    try {
                        s.getInputStream().readAllBytes();
                    } catch (java.net.SocketTimeoutException e) {
                        fail("the dashboard kept a connection with a malformed request open");
                    } catch (java.io.IOException e) {
                        // reset by the server: fine
                    }
                }
            }
            assertEquals(200, get("/api/status").statusCode());
            assertTrue(warnings.isEmpty(), () -> "warnings: " + warnings.stream()
                    .map(java.util.logging.LogRecord::getMessage).toList());
        } finally {
            log.removeHandler(h);
        }
    }
}
