package dist.dashboard;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dist.protocol.Message;
import dist.scheduler.ClusterView;
import dist.scheduler.SchedulerServer;
import dist.scheduler.WorkerReports;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The scheduler's web dashboard, served by the JDK's own HTTP server with every script and style
 * inside the jar: {@code /status} (workers, task groups, task stream, cluster CPU and memory, live),
 * {@code /tasks} (the last 20,000 computations), {@code /profile} (the workers' profile as a flame
 * graph, {@code ?group=NAME} for one task group), JSON under {@code /api/}, Prometheus text at
 * {@code /metrics}. It reads the scheduler through {@link SchedulerServer#query} at most a few
 * times a second, whatever the number of viewers.
 *
 * <pre>{@code
 * try (Dashboard d = Dashboard.start(scheduler, "127.0.0.1", 8787)) {
 *     System.out.println("dashboard at " + d.url());
 * }
 * }</pre>
 */
public final class Dashboard implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("dist.dashboard");
    /** How many computations and transfers the live task stream shows. */
    static final int STREAM = 1000;
    /** How many computations {@code /tasks} lists. */
    static final int TASKS = 20_000;
    private static final long STATUS_MAX_AGE = TimeUnit.MILLISECONDS.toNanos(250);
    private static final long TASKS_MAX_AGE = TimeUnit.SECONDS.toNanos(1);
    /** Cluster CPU and memory, one sample a second, for ten minutes. */
    private static final int HISTORY = 600;

    /** Requests served at once; more get 503 rather than a thread each. */
    static final int MAX_REQUESTS = 64;
    /** Stories gathered at once by default: each asks every worker. */
    static final int MAX_STORIES = 4;

    private record Cached(ClusterView view, long at) {}

    private record Sample(long epochMillis, double cpu, long memory, long memoryLimit) {}

    private final SchedulerServer scheduler;
    private final HttpServer server;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final ReentrantLock lock = new ReentrantLock();
    private Cached status;
    private Cached tasks;
    private final ArrayDeque<Sample> history = new ArrayDeque<>();
    private final Thread sampler;
    private final String url;
    private final Access access;
    private final java.util.concurrent.Semaphore requests = new java.util.concurrent.Semaphore(MAX_REQUESTS);
    private final int maxStories;
    private final java.util.concurrent.Semaphore stories;
    private final Duration storyDeadline;
    private volatile boolean closed;

    private Dashboard(SchedulerServer scheduler, String host, int port, dist.comm.Security security,
                      int maxStories, Duration storyDeadline) throws IOException {
        this.scheduler = scheduler;
        this.server = HttpServer.create(new InetSocketAddress(host, port), 64);
        this.access = new Access(security, server.getAddress().getPort());
        this.maxStories = maxStories;
        this.stories = new java.util.concurrent.Semaphore(maxStories);
        this.storyDeadline = storyDeadline;
        server.setExecutor(executor);
        server.createContext("/", this::serve);
        this.url = "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + server.getAddress().getPort()
                + "/status";
        this.sampler = Thread.ofVirtual().name("dist-dashboard-sampler").unstarted(this::sample);
    }

    /**
     * Serves the dashboard of {@code scheduler} on {@code host:port} (port 0 picks a free one) and
     * tells the scheduler's clients where it is. When the scheduler has a token, every page asks for it
     * (see {@link #start(SchedulerServer, String, int, dist.comm.Security)}).
     *
     * @throws IOException when the port cannot be bound (in use, or not allowed)
     */
    public static Dashboard start(SchedulerServer scheduler, String host, int port) throws IOException {
        return start(scheduler, host, port, scheduler.security());
    }

    /**
     * Serves the dashboard, asking every visitor for the token of {@code security} when it has one: an
     * {@code Authorization: Bearer TOKEN} header, or {@code ?token=TOKEN} once in a browser, which sets a
     * session cookie.
     *
     * <pre>{@code
     * Dashboard d = Dashboard.start(scheduler, "0.0.0.0", 8787, Security.none().withToken(secret));
     * // curl -H "Authorization: Bearer $secret" http://host:8787/metrics
     * }</pre>
     */
    public static Dashboard start(SchedulerServer scheduler, String host, int port, dist.comm.Security security)
            throws IOException {
        return start(scheduler, host, port, security, MAX_STORIES, Duration.ofSeconds(3));
    }

    /** As above, with at most {@code maxStories} stories gathered at once, each within {@code storyDeadline}. */
    static Dashboard start(SchedulerServer scheduler, String host, int port, dist.comm.Security security,
                           int maxStories, Duration storyDeadline) throws IOException {
        Dashboard d = new Dashboard(scheduler, host, port, security, maxStories, storyDeadline);
        d.server.start();
        d.sampler.start();
        scheduler.dashboardLink(d.url);
        return d;
    }

    /** Stories being gathered now (for tests). */
    int storiesInFlight() {
        return maxStories - stories.availablePermits();
    }

    /** "http://host:port/status". */
    public String url() {
        return url;
    }

    /** The port it listens on. */
    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        sampler.interrupt();
        if (url.equals(scheduler.dashboardLink())) {
            scheduler.dashboardLink(null);
        }
        server.stop(0);
        executor.shutdownNow();
    }

    // ---------------------------------------------------------------- reading the scheduler

    /** The newest view with up to {@code max} computations, read again only when older than {@code maxAge}. */
    ClusterView view(boolean forTasks) throws TimeoutException {
        long now = System.nanoTime();
        lock.lock();
        try {
            Cached c = forTasks ? tasks : status;
            if (c != null && now - c.at() < (forTasks ? TASKS_MAX_AGE : STATUS_MAX_AGE)) {
                return c.view();
            }
            int max = forTasks ? TASKS : STREAM;
            ClusterView v = scheduler.query(st -> st.view().cluster(0, max), 5, TimeUnit.SECONDS);
            Cached fresh = new Cached(v, System.nanoTime());
            if (forTasks) {
                tasks = fresh;
            } else {
                status = fresh;
            }
            return v;
        } finally {
            lock.unlock();
        }
    }

    private void sample() {
        try {
            while (!closed) {
                try {
                    ClusterView v = view(false);
                    Map<String, Message.WorkerStats> stats = scheduler.reports().latest();
                    double cpu = 0;
                    long mem = 0;
                    long limit = 0;
                    for (ClusterView.Worker w : v.workers()) {
                        Message.WorkerStats s = stats.get(w.address());
                        cpu += s == null ? 0 : s.cpuPercent();
                        mem += memory(w, s);
                        limit += w.memoryLimit();
                    }
                    lock.lock();
                    try {
                        if (history.size() == HISTORY) {
                            history.removeFirst();
                        }
                        history.addLast(new Sample(System.currentTimeMillis(), cpu, mem, limit));
                    } finally {
                        lock.unlock();
                    }
                } catch (TimeoutException | RuntimeException e) {
                    LOG.log(Level.DEBUG, "dashboard sample skipped: " + e);
                }
                Thread.sleep(1000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---------------------------------------------------------------- HTTP

    private void serve(HttpExchange ex) throws IOException {
        try {
            if (!requests.tryAcquire()) {
                send(ex, 503, "text/plain; charset=utf-8", "the dashboard is busy with " + MAX_REQUESTS
                        + " requests; try again\n");
                return;
            }
            try {
                route(ex);
            } finally {
                requests.release();
            }
        } catch (TimeoutException e) {
            answerFailure(ex, 503, "the scheduler did not answer in time; try again\n");
        } catch (IllegalArgumentException e) {
            answerFailure(ex, 400, "bad request: " + e.getMessage() + "\n");
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "dashboard request " + ex.getRequestURI().getPath() + " failed", e);
            answerFailure(ex, 500, "dashboard error: " + e + (e.getCause() != null ? " (" + e.getCause() + ")" : "")
                    + "\n");
        } catch (IOException e) {
            // a broken or malformed exchange: escaping, it makes the server close the connection
            LOG.log(Level.DEBUG, "dashboard request " + ex.getRequestURI().getPath() + ": " + e);
            throw e;
        } finally {
            end(ex); // after any answer, the failures' included
        }
    }

    /**
     * Ends an exchange. Closing drains the request's unread body, and the JDK's server throws on a
     * malformed one: that becomes an IOException, which makes the server close the connection (a
     * swallowed one would leave it open) and is worth a debug line, not a warning.
     */
    static void end(HttpExchange ex) throws IOException {
        try {
            ex.close();
        } catch (RuntimeException e) {
            throw new IOException("the request's body is malformed: " + e, e);
        }
    }

    /** Answers a request that failed before its answer started; one already under way is left as it is. */
    private static void answerFailure(HttpExchange ex, int code, String body) {
        if (ex.getResponseCode() != -1) {
            return;
        }
        try {
            send(ex, code, "text/plain; charset=utf-8", body);
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "could not tell the dashboard's visitor why (" + code + "): " + e);
        }
    }

    private void route(HttpExchange ex) throws IOException, TimeoutException {
        String path = ex.getRequestURI().getPath();
        String method = ex.getRequestMethod();
        boolean login = "POST".equals(method) && "/login".equals(path);
        if (!"GET".equals(method) && !"HEAD".equals(method) && !login) {
            send(ex, 405, "text/plain; charset=utf-8", "only GET is served here\n");
            return;
        }
        if (!access.admit(ex)) {
            return;
        }
        if (login) {
            ex.getResponseHeaders().set("Location", "/status");
            send(ex, 303, "text/plain; charset=utf-8", "see /status\n");
            return;
        }
        switch (path) {
            case "/" -> {
                ex.getResponseHeaders().set("Location", "/status");
                send(ex, 302, "text/plain; charset=utf-8", "see /status\n");
            }
            case "/status" -> resource(ex, "status.html", "text/html; charset=utf-8");
            case "/tasks" -> resource(ex, "tasks.html", "text/html; charset=utf-8");
            case "/static/dashboard.js" -> resource(ex, "dashboard.js", "text/javascript; charset=utf-8");
            case "/static/dashboard.css" -> resource(ex, "dashboard.css", "text/css; charset=utf-8");
            case "/api/status" -> send(ex, 200, "application/json", Json.write(statusJson()));
            case "/api/tasks" -> send(ex, 200, "application/json", Json.write(tasksJson()));
            case "/api/story" -> story(ex);
            case "/api/spans" -> send(ex, 200, "application/json", Json.write(spansJson()));
            case "/metrics" -> send(ex, 200, Prometheus.CONTENT_TYPE, metrics());
            case "/profile" -> profile(ex);
            default -> send(ex, 404, "text/plain; charset=utf-8", "no page " + path
                    + " here; try /status, /tasks, /profile, /api/status, /api/tasks, /api/spans, /api/story?key=KEY or /metrics\n");
        }
    }

    private static void resource(HttpExchange ex, String name, String type) throws IOException {
        try (InputStream in = Dashboard.class.getResourceAsStream("/dist/dashboard/" + name)) {
            if (in == null) {
                send(ex, 500, "text/plain; charset=utf-8", "the jar lacks dist/dashboard/" + name + "\n");
                return;
            }
            send(ex, 200, type, in.readAllBytes());
        }
    }

    static void send(HttpExchange ex, int code, String type, String body) throws IOException {
        send(ex, code, type, body.getBytes(StandardCharsets.UTF_8));
    }

    static void send(HttpExchange ex, int code, String type, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        boolean head = "HEAD".equals(ex.getRequestMethod());
        ex.sendResponseHeaders(code, head ? -1 : body.length == 0 ? -1 : body.length);
        if (!head && body.length > 0) {
            OutputStream out = ex.getResponseBody();
            out.write(body);
            try {
                out.close();
            } catch (RuntimeException e) {
                // closing drains the request's unread body; the JDK's server throws on a malformed one
                // (a chunk size past the buffer): the visitor's fault, not the dashboard's
                throw new IOException("the request's body is malformed: " + e, e);
            }
        }
    }

    static String param(HttpExchange ex, String name) {
        String q = ex.getRequestURI().getRawQuery();
        return q == null ? null : Access.formValue(q, name);
    }

    // ---------------------------------------------------------------- content

    private static double epochMillis(long nanos, long offsetNanos) {
        return (nanos + offsetNanos) / 1e6;
    }

    private static long offsetNanos() {
        java.time.Instant now = java.time.Instant.now();
        return now.getEpochSecond() * 1_000_000_000 + now.getNano() - System.nanoTime();
    }

    /** Spans read at most once a second: counting them walks every task. */
    private List<dist.scheduler.SpanTotals> spans;
    private long spansAt;

    /** The scheduler's totals per span (Client.span), oldest first. */
    Map<String, Object> spansJson() throws TimeoutException {
        List<dist.scheduler.SpanTotals> spans;
        lock.lock();
        try {
            if (this.spans == null || System.nanoTime() - spansAt > TASKS_MAX_AGE) {
                this.spans = scheduler.query(st -> st.view().spans(), 5, TimeUnit.SECONDS);
                spansAt = System.nanoTime();
            }
            spans = this.spans;
        } finally {
            lock.unlock();
        }
        List<Object> l = new ArrayList<>(spans.size());
        for (dist.scheduler.SpanTotals t : spans) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("id", t.id());
            o.put("name", t.name());
            o.put("parent", t.parent());
            o.put("tasks", t.tasks());
            o.put("active", t.active());
            o.put("computeSeconds", t.computeSeconds());
            o.put("errors", t.errors());
            o.put("memoryBytes", t.memoryBytes());
            o.put("done", t.done());
            o.put("transferSeconds", t.transferSeconds());
            o.put("transferBytes", t.transferBytes());
            l.add(o);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("spans", l);
        return m;
    }

    Map<String, Object> statusJson() throws TimeoutException {
        ClusterView v = view(false);
        Map<String, Message.WorkerStats> stats = scheduler.reports().latest();
        long offset = offsetNanos();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("scheduler", scheduler.address());
        m.put("now", System.currentTimeMillis());
        List<Object> workers = new ArrayList<>();
        for (ClusterView.Worker w : v.workers()) {
            Message.WorkerStats s = stats.get(w.address());
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("address", w.address());
            o.put("name", w.name());
            o.put("nthreads", w.nthreads());
            o.put("memory", memory(w, s));
            o.put("memoryLimit", w.memoryLimit());
            o.put("cpu", s == null ? 0.0 : s.cpuPercent());
            o.put("processing", w.processing());
            o.put("keys", w.keysHeld());
            o.put("bytes", w.bytesHeld());
            o.put("pid", w.pid());
            workers.add(o);
        }
        m.put("workers", workers);
        long finished = 0;
        List<Object> groups = new ArrayList<>();
        for (ClusterView.Group g : v.groups()) {
            finished += g.finished();
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("prefix", g.prefix());
            o.put("colour", Palette.colour(g.prefix()));
            o.put("memory", g.memory());
            o.put("released", g.released());
            o.put("waiting", g.waiting());
            o.put("processing", g.processing());
            o.put("erred", g.erred());
            o.put("finished", g.finished());
            groups.add(o);
        }
        Map<String, Object> totals = new LinkedHashMap<>(v.states());
        totals.put("finished", finished);
        totals.put("transitions", v.transitions());
        m.put("totals", totals);
        m.put("groups", groups.size() > 50 ? groups.subList(groups.size() - 50, groups.size()) : groups);
        List<Object> stream = computations(v, offset, STREAM);
        m.put("stream", stream);
        // one colour per group the page draws, chosen here so the page has no rule of its own
        Map<String, String> colours = new LinkedHashMap<>();
        for (Object o : stream) {
            colours.computeIfAbsent((String) ((Map<?, ?>) o).get("group"), Palette::colour);
        }
        m.put("colours", colours);
        List<Object> transfers = new ArrayList<>();
        for (WorkerReports.Transfer t : scheduler.reports().transfersSince(0, STREAM)) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("worker", t.worker());
            o.put("peer", t.peer());
            o.put("start", t.startMicros() / 1000.0);
            o.put("stop", t.stopMicros() / 1000.0);
            o.put("bytes", t.bytes());
            transfers.add(o);
        }
        m.put("transfers", transfers);
        List<Object> hist = new ArrayList<>();
        lock.lock();
        try {
            for (Sample s : history) {
                hist.add(List.of(s.epochMillis(), s.cpu(), s.memory(), s.memoryLimit()));
            }
        } finally {
            lock.unlock();
        }
        m.put("history", hist);
        return m;
    }

    /** The worker process's memory in use when it reported it, else what its heartbeat counts. */
    private static long memory(ClusterView.Worker w, Message.WorkerStats s) {
        return s != null && s.memoryBytes() > 0 ? s.memoryBytes() : w.memoryBytes();
    }

    private static List<Object> computations(ClusterView v, long offset, int max) {
        List<ClusterView.Computation> all = v.stream();
        List<Object> l = new ArrayList<>(Math.min(all.size(), max));
        for (ClusterView.Computation c : all.subList(Math.max(0, all.size() - max), all.size())) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("key", c.key());
            o.put("group", ClusterView.groupOf(c.key()));
            o.put("worker", c.worker());
            o.put("start", epochMillis(c.startNanos(), offset));
            o.put("stop", epochMillis(c.stopNanos(), offset));
            o.put("nbytes", c.nbytes());
            o.put("erred", c.erred());
            l.add(o);
        }
        return l;
    }

    Map<String, Object> tasksJson() throws TimeoutException {
        ClusterView v = view(true);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("scheduler", scheduler.address());
        m.put("tasks", computations(v, offsetNanos(), TASKS));
        return m;
    }

    /** The workers' profile as a flame graph: {@code /profile}, or {@code /profile?group=inc} for one task group. */
    private void profile(HttpExchange ex) throws IOException, TimeoutException {
        String group = param(ex, "group");
        String g = group == null || group.isEmpty() ? null : group;
        Message.ProfileTree t = scheduler.query(st -> st.view().profile(0, Long.MAX_VALUE, g), 5, TimeUnit.SECONDS);
        send(ex, 200, "text/html; charset=utf-8", FlameGraph.page(t, g));
    }

    private void story(HttpExchange ex) throws IOException, TimeoutException {
        String key = param(ex, "key");
        if (key == null || key.isEmpty()) {
            send(ex, 400, "text/plain; charset=utf-8", "give the task's key: /api/story?key=KEY\n");
            return;
        }
        // each story asks every worker: a few at a time, each under a deadline
        if (!stories.tryAcquire()) {
            send(ex, 503, "text/plain; charset=utf-8", maxStories + " stories are being gathered already;"
                    + " try again in a few seconds\n");
            return;
        }
        Message.StoryReply r;
        try {
            r = scheduler.story(key, storyDeadline);
        } finally {
            stories.release();
        }
        List<Object> steps = new ArrayList<>();
        for (int i = 0; i < r.where().size(); i++) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("where", r.where().get(i));
            o.put("event", r.events().get(i));
            o.put("time", r.epochMicros().get(i) / 1000.0);
            o.put("detail", r.details().get(i));
            steps.add(o);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("key", key);
        m.put("story", steps);
        send(ex, 200, "application/json", Json.write(m));
    }

    String metrics() throws TimeoutException {
        ClusterView v = view(false);
        Prometheus p = new Prometheus();
        p.help("dist_tasks", "gauge", "Tasks the scheduler knows, by state.");
        for (Map.Entry<String, Integer> e : v.states().entrySet()) {
            p.sample("dist_tasks", e.getValue(), "state", e.getKey());
        }
        long finished = 0;
        for (ClusterView.Group g : v.groups()) {
            finished += g.finished();
        }
        p.help("dist_tasks_finished_total", "counter", "Times a task reached memory.");
        p.sample("dist_tasks_finished_total", finished);
        p.help("dist_transitions_total", "counter", "Task state changes applied by the scheduler.");
        p.sample("dist_transitions_total", v.transitions());
        p.help("dist_workers", "gauge", "Registered workers.");
        p.sample("dist_workers", v.workers().size());
        int threads = 0;
        long bytes = 0;
        for (ClusterView.Worker w : v.workers()) {
            threads += w.nthreads();
            bytes += w.bytesHeld();
        }
        // names under dist_worker_ are the workers' own pages; these are the scheduler's view of them
        p.help("dist_threads", "gauge", "Task slots over every worker.");
        p.sample("dist_threads", threads);
        p.help("dist_held_bytes", "gauge", "Bytes of results held by workers, as the scheduler counts them.");
        p.sample("dist_held_bytes", bytes);
        p.help("dist_managed_bytes", "gauge", "Bytes of results each worker holds, from its last heartbeat.");
        for (ClusterView.Worker w : v.workers()) {
            p.sample("dist_managed_bytes", w.memoryBytes(), "worker", w.address());
        }
        ClusterView.Histogram c = v.compute();
        p.histogram("dist_compute_seconds", "Run time of tasks, as workers reported it.", c.bounds(), c.counts(),
                c.count(), c.sumSeconds());
        double[] bounds = Message.WorkerStats.TRANSFER_BUCKETS.stream().mapToDouble(Double::doubleValue).toArray();
        long[] counts = new long[bounds.length + 1];
        long count = 0;
        double sum = 0;
        long moved = 0;
        for (Message.WorkerStats s : scheduler.reports().latest().values()) {
            List<Long> b = s.transferBuckets() == null ? List.of() : s.transferBuckets();
            for (int i = 0; i < Math.min(b.size(), counts.length); i++) {
                counts[i] += b.get(i);
            }
            count += s.transferCount();
            sum += s.transferSeconds();
            moved += s.transferBytes();
        }
        p.histogram("dist_transfer_seconds", "Time workers spent fetching inputs from peers.", bounds, counts, count,
                sum);
        p.help("dist_transfer_bytes_total", "counter", "Bytes workers fetched from peers.");
        p.sample("dist_transfer_bytes_total", moved);
        p.process(); // the scheduler's process (a LocalCluster's whole process when it runs in one)
        return p.toString();
    }
}
