package dist.dashboard;

import dist.comm.CommConfig;
import dist.comm.Connection;
import dist.comm.Security;
import dist.protocol.Message;
import dist.protocol.Role;
import dist.scheduler.SchedulerConfig;
import dist.scheduler.SchedulerServer;
import dist.worker.WorkerServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The web pages with a token: nothing without it, everything with it (header or login cookie);
 * the story fan-out bounded; failures delivered to the visitor as 503 and 500.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class DashboardAccessTest {
    private static final String TOKEN = "dashboard-token-0123456789";
    /** No redirects followed, no cookies kept: each step is checked as sent. */
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NEVER).build();

    static int inc(int x) {
        return x + 1;
    }

    private static HttpResponse<String> get(String url, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static CommConfig withToken() {
        return CommConfig.DEFAULT.withSecurity(Security.none().withToken(TOKEN));
    }

    @Test
    void withATokenEveryPageAndApiNeedsItAndMetricsTakeTheHeader() throws Exception {
        try (SchedulerServer s = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), withToken());
             Dashboard d = Dashboard.start(s, "127.0.0.1", 0)) {
            String base = "http://127.0.0.1:" + d.port();
            for (String path : List.of("/status", "/tasks", "/api/status", "/api/tasks", "/api/story?key=x",
                    "/metrics", "/static/dashboard.js", "/")) {
                HttpResponse<String> r = get(base + path);
                assertEquals(401, r.statusCode(), path + ": " + r.body());
                assertFalse(r.body().contains("\"workers\"") || r.body().contains("dist_tasks"), path + ": " + r.body());
                assertEquals(401, get(base + path, "Authorization", "Bearer wrong-token").statusCode(), path);
            }
            assertTrue(get(base + "/status").body().contains("<form method=\"post\" action=\"/login\""),
                    "a browser gets a login form");
            HttpResponse<String> metrics = get(base + "/metrics", "Authorization", "Bearer " + TOKEN);
            assertEquals(200, metrics.statusCode(), metrics.body());
            assertTrue(metrics.body().contains("dist_workers 0"), metrics.body());
            assertEquals(200, get(base + "/api/status", "Authorization", "Bearer " + TOKEN).statusCode());

            // ?token= once: a cookie, and the address without the token
            HttpResponse<String> login = get(base + "/tasks?token=" + TOKEN);
            assertEquals(303, login.statusCode(), login.body());
            assertEquals("/tasks", login.headers().firstValue("Location").orElseThrow());
            String cookie = login.headers().firstValue("Set-Cookie").orElseThrow();
            assertFalse(cookie.contains(TOKEN), "the cookie is not the token: " + cookie);
            assertTrue(cookie.contains("HttpOnly"), cookie);
            String session = cookie.substring(0, cookie.indexOf(';'));
            HttpResponse<String> page = get(base + "/api/status", "Cookie", session);
            assertEquals(200, page.statusCode(), page.body());
            assertTrue(page.body().contains("\"workers\""), page.body());
            assertEquals(401, get(base + "/api/status", "Cookie", session + "0").statusCode());
            assertEquals(401, get(base + "/status?token=wrong").statusCode());

            // the login form posts the token
            HttpResponse<String> form = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/login"))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString("token=" + URLEncoder.encode(TOKEN, StandardCharsets.UTF_8)
                            + "&next=%2Fstatus")).timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(303, form.statusCode(), form.body());
            assertEquals("/status", form.headers().firstValue("Location").orElseThrow());
            assertTrue(form.headers().firstValue("Set-Cookie").isPresent());
        }
    }

    @Test
    void aWorkersMetricsNeedTheTokenToo() throws Exception {
        try (SchedulerServer s = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), withToken());
             WorkerServer w = WorkerServer.start(new WorkerServer.Options(s.address(), "127.0.0.1", 0, 1, null, 0,
                     8 * 1024, withToken(), null));
             WorkerDashboard page = WorkerDashboard.start(w, "127.0.0.1", 0, withToken().security())) {
            assertEquals(401, get(page.url()).statusCode());
            HttpResponse<String> r = get(page.url(), "Authorization", "Bearer " + TOKEN);
            assertEquals(200, r.statusCode(), r.body());
            assertTrue(r.body().contains("dist_worker_tasks_total"), r.body());
        }
    }

    /**
     * Every story asks every worker: past the bound, a story request is answered 503 at once (the body
     * reaches the visitor) instead of adding one more round of questions to every worker.
     */
    @Test
    void storiesPastTheBoundAre503AndTheVisitorGetsTheBody() throws Exception {
        AtomicInteger asked = new AtomicInteger();
        try (SchedulerServer s = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT);
             // a worker that never tells a story: each story waits out its deadline
             Connection silent = Connection.connect(s.address(), Role.WORKER, CommConfig.DEFAULT, (c, m, id) -> {
                 if (m instanceof Message.StoryRequest) {
                     asked.incrementAndGet();
                 }
             });
             Dashboard d = Dashboard.start(s, "127.0.0.1", 0, Security.none(), 2, Duration.ofSeconds(60))) {
            String base = "http://127.0.0.1:" + d.port();
            List<CompletableFuture<HttpResponse<String>>> waiting = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                waiting.add(HTTP.sendAsync(HttpRequest.newBuilder(URI.create(base + "/api/story?key=k" + i)).build(),
                        HttpResponse.BodyHandlers.ofString()));
            }
            assertTrue(dist.Wait.until(Duration.ofSeconds(30), () -> asked.get() == 2), "both stories asked the worker");
            HttpResponse<String> over = get(base + "/api/story?key=k2");
            assertEquals(503, over.statusCode(), over.body());
            assertTrue(over.body().contains("stories are being gathered"), over.body());
            assertEquals(2, asked.get(), "the refused story asked no worker");
            assertEquals(200, get(base + "/api/status").statusCode(), "other pages are still served");
            waiting.forEach(f -> f.cancel(true));
        }
    }

    @Test
    void aFailedRequestIsAnswered500WithItsReason() throws Exception {
        SchedulerServer s = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT);
        try (Dashboard d = Dashboard.start(s, "127.0.0.1", 0)) {
            s.close(); // the dashboard outlives it: reading the scheduler now fails
            HttpResponse<String> r = get("http://127.0.0.1:" + d.port() + "/api/tasks");
            assertEquals(500, r.statusCode(), r.body());
            assertTrue(r.body().contains("dashboard error") && r.body().contains("closed"), r.body());
        } finally {
            s.close();
        }
    }
}
