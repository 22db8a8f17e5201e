package dist.dashboard;

import dist.Client;
import dist.Future;
import dist.comm.CommConfig;
import dist.scheduler.SchedulerConfig;
import dist.scheduler.SchedulerServer;
import dist.worker.WorkerServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The scheduler's and a worker's /metrics pass Prometheus' own checker, {@code promtool check metrics}
 * (names, units, counters ending in _total, HELP and TYPE, escaping). promtool comes from Debian's
 * {@code prometheus} package, installed here with apt-get when missing, with services kept from
 * starting; no prometheus server is left running.
 */
@Timeout(value = 600, unit = TimeUnit.SECONDS)
class PromtoolTest {
    static final Path PROMTOOL = Path.of("/usr/bin/promtool");
    static final Path POLICY = Path.of("/usr/sbin/policy-rc.d");
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    static int inc(int x) {
        return x + 1;
    }

    static int sum(List<Integer> xs) {
        return xs.stream().mapToInt(i -> i).sum();
    }

    static int boom(int x) {
        throw new IllegalStateException("boom \"" + x + "\"\\\n");
    }

    @Test
    void schedulerAndWorkerMetricsPassPromtool() throws Exception {
        Path promtool = promtool();
        try (SchedulerServer s = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT);
             Dashboard page = Dashboard.start(s, "127.0.0.1", 0);
             WorkerServer a = WorkerServer.start(WorkerServer.Options.of(s.address(), 2));
             WorkerServer b = WorkerServer.start(WorkerServer.Options.of(s.address(), 2));
             WorkerDashboard workerPage = WorkerDashboard.start(a, "127.0.0.1", 0);
             Client c = Client.connect(s.address())) {
            List<Future<Integer>> xs = c.map(PromtoolTest::inc, List.of(1, 2, 3, 4, 5, 6, 7, 8));
            assertEquals(44, c.submit(PromtoolTest::sum, dist.Futures.all(xs)).result(Duration.ofSeconds(30)));
            Future<Integer> bad = c.submit(PromtoolTest::boom, 1);
            assertThrows(Exception.class, () -> bad.result(Duration.ofSeconds(30)));
            String base = page.url().substring(0, page.url().length() - "/status".length());
            String scheduler = dist.Wait.value(Duration.ofSeconds(15), () -> body(base + "/metrics"),
                    m -> m.contains("dist_tasks{state=\"erred\"} 1") && m.contains("dist_managed_bytes{worker="));
            assertTrue(scheduler.contains("dist_managed_bytes{worker="), scheduler);
            assertFalse(scheduler.contains("dist_worker_"), "the workers' names are theirs alone: " + scheduler);
            String worker = body(workerPage.url());
            assertTrue(worker.contains("dist_worker_heap_used_bytes{worker=\"" + a.address() + "\"}"), worker);
            assertTrue(worker.contains("# TYPE dist_worker_tasks_total counter"), worker);

            for (String[] m : new String[][] {{"scheduler", scheduler}, {"worker", worker}}) {
                Result r = exec(List.of(promtool.toString(), "check", "metrics"), m[1], 60);
                System.out.println("promtool check metrics < " + m[0] + " /metrics: exit " + r.exit + "\n" + r.out);
                assertEquals(0, r.exit, m[0] + " /metrics fails promtool:\n" + r.out + "\n--- page:\n" + m[1]);
                assertTrue(r.out.isBlank(), m[0] + " /metrics has lint findings:\n" + r.out);
            }
        }
    }

    /** promtool checks what a scrape would: a name that breaks the conventions is reported. */
    @Test
    void promtoolFindsABadName() throws Exception {
        Path promtool = promtool();
        String bad = new Prometheus().help("dist_things_bytes_count_total", "gauge", "Not a counter.")
                .sample("dist_things_bytes_count_total", 1).toString();
        Result r = exec(List.of(promtool.toString(), "check", "metrics"), bad, 60);
        assertFalse(r.out.isBlank(), "promtool said nothing about a gauge named _total:\n" + bad);
    }

    private static String body(String url) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    /**
     * Debian's promtool; installed with apt-get (package prometheus) when missing. Fails, saying why,
     * when it cannot be had: this check is not optional.
     */
    static Path promtool() throws IOException, InterruptedException {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, "promtool");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        if (Files.isExecutable(PROMTOOL)) {
            return PROMTOOL;
        }
        assertEquals("0", exec(List.of("id", "-u"), "", 10).out.strip(),
                "promtool is missing and only root may install it: apt-get install --no-install-recommends prometheus");
        assertTrue(Files.isExecutable(Path.of("/usr/bin/apt-get")), "promtool is missing and there is no apt-get");
        Instant began = Instant.now();
        // the package would start a prometheus server on install; the policy tells invoke-rc.d not to
        boolean ownPolicy = !Files.exists(POLICY);
        if (ownPolicy) {
            Files.writeString(POLICY, "#!/bin/sh\nexit 101\n");
            POLICY.toFile().setExecutable(true);
        }
        StringBuilder log = new StringBuilder();
        try {
            if (exec(List.of("apt-cache", "show", "prometheus"), "", 60).exit != 0) {
                log.append(exec(List.of("apt-get", "update", "-qq"), "", 150).out);
            }
            Result r = exec(List.of("apt-get", "install", "-y", "-qq", "--no-install-recommends", "prometheus"), "",
                    300);
            log.append(r.out);
        } finally {
            if (ownPolicy) {
                Files.deleteIfExists(POLICY);
            }
        }
        System.out.println("apt-get install prometheus took " + Duration.between(began, Instant.now()).toSeconds()
                + " s");
        stopServersStartedSince(began);
        assertTrue(Files.isExecutable(PROMTOOL), "apt-get install prometheus did not give " + PROMTOOL + ":\n" + log);
        return PROMTOOL;
    }

    /** A prometheus server the install started anyway (no policy honoured) is stopped: it is ours. */
    private static void stopServersStartedSince(Instant began) {
        List<ProcessHandle> left = new ArrayList<>();
        ProcessHandle.allProcesses()
                .filter(p -> p.info().command().map(c -> c.equals("/usr/bin/prometheus")).orElse(false))
                .filter(p -> p.info().startInstant().map(t -> !t.isBefore(began)).orElse(false))
                .forEach(left::add);
        for (ProcessHandle p : left) {
            System.out.println("stopping prometheus " + p.pid() + " that the install started");
            p.destroy();
            p.onExit().completeOnTimeout(p, 10, TimeUnit.SECONDS).join();
            p.destroyForcibly();
        }
    }

    record Result(int exit, String out) {}

    /** Runs {@code cmd} with {@code input} on stdin; past {@code seconds} it is killed and the result is exit -1. */
    static Result exec(List<String> cmd, String input, int seconds) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
        Process p = pb.start();
        // read on another thread so a silent, hung command still times out
        CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> {
            try {
                return p.getInputStream().readAllBytes();
            } catch (IOException e) {
                return new byte[0];
            }
        });
        try (var in = p.getOutputStream()) {
            in.write(input.getBytes(StandardCharsets.UTF_8));
        }
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Result(-1, cmd + " did not finish within " + seconds + " s");
        }
        try {
            return new Result(p.exitValue(), new String(out.get(5, TimeUnit.SECONDS), StandardCharsets.UTF_8));
        } catch (Exception e) {
            return new Result(p.exitValue(), "");
        }
    }
}
