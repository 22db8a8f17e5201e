package dist.dashboard;

import dist.Client;
import dist.Future;
import dist.LocalCluster;
import dist.LocalClusters;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The dashboard as a person sees it: a cluster runs tasks, headless Chromium opens /status, the page
 * renders the workers and the finished count with its own script, and a screenshot lands in
 * target/dashboard.png. Chromium is installed with apt-get when missing (as root); without it the
 * test is skipped, saying why.
 */
@Timeout(value = 170, unit = TimeUnit.SECONDS)
class DashboardBrowserTest {

    static int slowSquare(int x) throws InterruptedException {
        Thread.sleep(20);
        return x * x;
    }

    /** How many CPU and memory samples the dashboard at {@code pageUrl} holds (0 when it does not answer). */
    static int resourceSamples(String pageUrl) {
        try {
            String body = java.net.http.HttpClient.newHttpClient().send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create(pageUrl).resolve("/api/status"))
                            .timeout(Duration.ofSeconds(5)).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            int at = body.indexOf("\"history\":[");
            int samples = 0;
            int depth = 0;
            for (int i = at < 0 ? body.length() : at + "\"history\":".length(); i < body.length(); i++) {
                char c = body.charAt(i);
                if (c == '[' && ++depth == 2) {
                    samples++; // each sample is a list inside the history list
                } else if (c == ']' && --depth == 0) {
                    break;
                }
            }
            return samples;
        } catch (IOException | RuntimeException e) {
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }

    static int add(int a, int b) {
        return a + b;
    }

    @Test
    void statusPageShowsWorkersAndFinishedCount() throws Exception {
        String chromium = chromium();
        try (LocalCluster cluster = LocalCluster.builder().workers(3).threadsPerWorker(2).dashboard(0).start();
             Client client = cluster.client()) {
            List<Future<Integer>> squares = client.map(DashboardBrowserTest::slowSquare, range(60));
            List<Future<Integer>> sums = new ArrayList<>();
            for (int i = 0; i + 1 < squares.size(); i += 2) {
                sums.add(client.submit(DashboardBrowserTest::add, squares.get(i), squares.get(i + 1)));
            }
            int total = 0;
            for (Future<Integer> f : sums) {
                total += f.result(Duration.ofSeconds(30));
            }
            assertEquals(70_210, total); // sum of squares 0..59
            int finished = 60 + 30;
            String url = cluster.dashboardLink().orElseThrow();
            Set<String> workers = LocalClusters.scheduler(cluster).query(st -> st.view().workers(), 5, TimeUnit.SECONDS);
            assertEquals(3, workers.size());
            assertTrue(dist.Wait.until(Duration.ofSeconds(20), () -> resourceSamples(url) >= 2),
                    "the resource plot has samples to draw");

            String dom = run(chromium, "--dump-dom", url);
            for (String w : workers) {
                assertTrue(dom.contains(">" + w + "<"), "the page lists worker " + w + ":\n" + dom);
            }
            assertTrue(dom.contains("<b id=\"finished\">" + finished + "</b>"),
                    "the page shows " + finished + " finished tasks:\n" + dom);
            assertTrue(dom.contains("<b id=\"worker-count\">3</b>"), dom);
            assertTrue(dom.contains("class=\"task\""), "the task stream drew bars:\n" + dom);

            Path png = Path.of("target", "dashboard.png").toAbsolutePath();
            Files.deleteIfExists(png);
            run(chromium, "--screenshot=" + png, url);
            assertTrue(Files.size(png) > 10_000, "a screenshot at " + png);
        }
    }

    /** About {@code millis} of arithmetic for the workers' profiler to sample. */
    static double spin(int millis) {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        double x = 1;
        while (System.nanoTime() < end) {
            for (int i = 0; i < 1000; i++) {
                x = Math.sqrt(x + i);
            }
        }
        return x;
    }

    /** /profile draws the workers' samples of a task group as a flame graph, the task's method among its frames. */
    @Test
    void profilePageDrawsAFlameGraph() throws Exception {
        String chromium = chromium();
        try (LocalCluster cluster = LocalCluster.builder().workers(1).threadsPerWorker(2).dashboard(0).start();
             Client client = cluster.client()) {
            List<Future<Double>> fs = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                fs.add(client.with(dist.Options.defaults().key("spin-" + i)).submit(DashboardBrowserTest::spin, 300));
            }
            for (Future<Double> f : fs) {
                f.result(Duration.ofSeconds(30));
            }
            assertTrue(dist.Wait.until(Duration.ofSeconds(20),
                    () -> client.profile("spin").find("DashboardBrowserTest.spin(").isPresent()),
                    "the profile of group spin has samples in spin");
            String url = java.net.URI.create(cluster.dashboardLink().orElseThrow()).resolve("/profile?group=spin").toString();
            String dom = run(chromium, "--dump-dom", url);
            assertTrue(dom.contains("<svg id=\"flamegraph\""), "the page holds the flame graph:\n" + dom);
            assertTrue(dom.contains("<title>dist.dashboard.DashboardBrowserTest.spin(DashboardBrowserTest.java) ("),
                    "a frame names the task's method:\n" + dom);
            assertTrue(dom.split("class=\"frame\"", -1).length > 2, "more frames than the root:\n" + dom);
            Path png = Path.of("target", "profile.png").toAbsolutePath();
            Files.deleteIfExists(png);
            run(chromium, "--screenshot=" + png, url);
            assertTrue(Files.size(png) > 5_000, "a screenshot at " + png);
        }
    }

    private static List<Integer> range(int n) {
        List<Integer> l = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            l.add(i);
        }
        return l;
    }

    /** Runs headless Chromium on {@code url} and returns what it printed; fails past 60 s. */
    static String run(String chromium, String what, String url) throws IOException, InterruptedException {
        Path profile = Files.createTempDirectory("dist-chromium-");
        try {
            List<String> cmd = List.of(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--user-data-dir=" + profile, "--window-size=1400,1000",
                    "--virtual-time-budget=5000", what, url);
            Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail("chromium did not finish within 60 s: " + cmd);
            }
            assertEquals(0, p.exitValue(), "chromium failed: " + cmd);
            return new String(out, StandardCharsets.UTF_8);
        } finally {
            deleteTree(profile);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** Debian's chromium, installed with apt-get when missing; skips the test when it cannot be had. */
    static String chromium() throws IOException, InterruptedException {
        for (String c : List.of("/usr/bin/chromium", "/usr/bin/chromium-browser")) {
            if (Files.isExecutable(Path.of(c))) {
                return c;
            }
        }
        boolean root = "0".equals(exec(List.of("id", "-u"), 10).strip());
        Assumptions.assumeTrue(root, "chromium is not installed and only root may install it: apt-get install chromium");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/apt-get")),
                "chromium is not installed and there is no apt-get to install it");
        exec(List.of("apt-get", "update", "-qq"), 120);
        exec(List.of("apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"), 150);
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/chromium")),
                "chromium could not be installed with apt-get (no network or no package?)");
        return "/usr/bin/chromium";
    }

    private static String exec(List<String> cmd, int seconds) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
        Process p = pb.start();
        // read on another thread so a silent, hung command still times out
        java.util.concurrent.CompletableFuture<byte[]> out = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return p.getInputStream().readAllBytes();
            } catch (IOException e) {
                return new byte[0];
            }
        });
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return "";
        }
        try {
            return new String(out.get(5, TimeUnit.SECONDS), StandardCharsets.UTF_8);
        } catch (Exception e) {
            return "";
        }
    }
}
