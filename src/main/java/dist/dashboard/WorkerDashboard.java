package dist.dashboard;

import com.sun.net.httpserver.HttpServer;
import dist.worker.WorkerMetrics;
import dist.worker.WorkerServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A worker's own {@code /metrics} page (Prometheus text): tasks run and erred, tasks executing,
 * keys held, bytes fetched, CPU, memory, and compute and transfer time histograms.
 *
 * <pre>{@code
 * try (WorkerDashboard d = WorkerDashboard.start(worker, "127.0.0.1", 0)) {
 *     System.out.println(d.url());   // http://127.0.0.1:41234/metrics
 * }
 * }</pre>
 */
public final class WorkerDashboard implements AutoCloseable {
    private final HttpServer server;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final String url;

    private WorkerDashboard(WorkerServer worker, String host, int port) throws IOException {
        server = HttpServer.create(new InetSocketAddress(host, port), 16);
        server.setExecutor(executor);
        server.createContext("/", ex -> {
            try (ex) {
                boolean known = ex.getRequestURI().getPath().equals("/metrics");
                byte[] body = (known ? render(worker) : "this worker serves /metrics only\n")
                        .getBytes(StandardCharsets.UTF_8);
                ex.getResponseHeaders().set("Content-Type", known ? Prometheus.CONTENT_TYPE : "text/plain; charset=utf-8");
                ex.sendResponseHeaders(known ? 200 : 404, body.length);
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(body);
                }
            }
        });
        url = "http://" + host + ":" + server.getAddress().getPort() + "/metrics";
    }

    /** Serves {@code worker}'s metrics on {@code host:port} (0: any free port). */
    public static WorkerDashboard start(WorkerServer worker, String host, int port) throws IOException {
        WorkerDashboard d = new WorkerDashboard(worker, host, port);
        d.server.start();
        return d;
    }

    /** "http://host:port/metrics". */
    public String url() {
        return url;
    }

    static String render(WorkerServer worker) {
        WorkerMetrics.Snapshot s = worker.metrics();
        Prometheus p = new Prometheus();
        String w = worker.address();
        p.help("dist_worker_tasks_total", "counter", "Tasks this worker ran, by outcome.");
        p.sample("dist_worker_tasks_total", s.tasksCompleted(), "worker", w, "outcome", "memory");
        p.sample("dist_worker_tasks_total", s.tasksErred(), "worker", w, "outcome", "erred");
        p.help("dist_worker_executing", "gauge", "Tasks executing now.");
        p.sample("dist_worker_executing", s.executing(), "worker", w);
        p.help("dist_worker_keys", "gauge", "Results held by this worker.");
        p.sample("dist_worker_keys", s.keysHeld(), "worker", w);
        p.help("dist_worker_transfer_bytes_total", "counter", "Bytes fetched from peers.");
        p.sample("dist_worker_transfer_bytes_total", s.bytesFetched(), "worker", w);
        p.help("dist_worker_cpu_percent", "gauge", "CPU use of the worker's process, percent of one core.");
        p.sample("dist_worker_cpu_percent", s.cpuPercent(), "worker", w);
        p.help("dist_worker_memory_bytes", "gauge", "Heap in use in the worker's process.");
        p.sample("dist_worker_memory_bytes", s.memoryBytes(), "worker", w);
        p.histogram("dist_worker_compute_seconds", "Run time of tasks on this worker.", WorkerMetrics.BUCKETS,
                s.compute().counts(), s.compute().count(), s.compute().sumSeconds());
        p.histogram("dist_worker_transfer_seconds", "Time spent fetching inputs from peers.", WorkerMetrics.BUCKETS,
                s.transfer().counts(), s.transfer().count(), s.transfer().sumSeconds());
        return p.toString();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
