package dist.dashboard;

import com.sun.net.httpserver.HttpServer;
import dist.comm.CommConfig;
import dist.comm.Security;
import dist.worker.WorkerMetrics;
import dist.worker.WorkerServer;

import java.io.IOException;
import java.net.InetSocketAddress;
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
    private final java.util.concurrent.Semaphore busy = new java.util.concurrent.Semaphore(16);

    private WorkerDashboard(WorkerServer worker, String host, int port, Security security) throws IOException {
        server = HttpServer.create(new InetSocketAddress(host, port), 16);
        server.setExecutor(executor);
        Access access = new Access(security, server.getAddress().getPort());
        server.createContext("/", ex -> {
            try {
                if (!busy.tryAcquire()) {
                    Dashboard.send(ex, 503, "text/plain; charset=utf-8", "busy; try again\n");
                    return;
                }
                try {
                    String method = ex.getRequestMethod();
                    if (!"GET".equals(method) && !"HEAD".equals(method)
                            && !("POST".equals(method) && "/login".equals(ex.getRequestURI().getPath()))) {
                        Dashboard.send(ex, 405, "text/plain; charset=utf-8", "only GET is served here\n");
                    } else if (access.admit(ex)) {
                        boolean known = ex.getRequestURI().getPath().equals("/metrics");
                        Dashboard.send(ex, known ? 200 : 404, known ? Prometheus.CONTENT_TYPE
                                : "text/plain; charset=utf-8", known ? render(worker) : "this worker serves /metrics only\n");
                    }
                } finally {
                    busy.release();
                }
            } catch (RuntimeException e) {
                if (ex.getResponseCode() == -1) {
                    Dashboard.send(ex, 500, "text/plain; charset=utf-8", "metrics error: " + e + "\n");
                }
            } finally {
                Dashboard.end(ex);
            }
        });
        url = "http://" + host + ":" + server.getAddress().getPort() + "/metrics";
    }

    /**
     * Serves {@code worker}'s metrics on {@code host:port} (0: any free port), asking for the token of the
     * environment's settings ({@code DIST_TOKEN}, {@code -Ddist.comm.token-file}) when there is one.
     */
    public static WorkerDashboard start(WorkerServer worker, String host, int port) throws IOException {
        return start(worker, host, port, CommConfig.DEFAULT.security());
    }

    /**
     * Serves {@code worker}'s metrics, asking for the token of {@code security} when it has one, as an
     * {@code Authorization: Bearer TOKEN} header (Prometheus: {@code authorization: {credentials: TOKEN}}).
     */
    public static WorkerDashboard start(WorkerServer worker, String host, int port, Security security)
            throws IOException {
        WorkerDashboard d = new WorkerDashboard(worker, host, port, security);
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
        p.help("dist_worker_cpu_ratio", "gauge", "CPU use of the worker's process, in cores (1 is one core busy).");
        p.sample("dist_worker_cpu_ratio", s.cpuPercent() / 100, "worker", w);
        p.help("dist_worker_heap_used_bytes", "gauge", "Java heap in use in the worker's process.");
        p.sample("dist_worker_heap_used_bytes", s.memoryBytes(), "worker", w);
        WorkerMetrics.Memory m = worker.memory();
        p.help("dist_worker_heap_after_gc_peak_bytes", "gauge", "The most Java heap in use right after a garbage collection.");
        p.sample("dist_worker_heap_after_gc_peak_bytes", m.heapAfterGcPeak(), "worker", w);
        p.help("dist_worker_held_bytes", "gauge", "Bytes of results held in memory.");
        p.sample("dist_worker_held_bytes", m.held(), "worker", w);
        p.help("dist_worker_held_peak_bytes", "gauge", "The most bytes of results held in memory at once.");
        p.sample("dist_worker_held_peak_bytes", m.heldPeak(), "worker", w);
        p.help("dist_worker_spilled_bytes_total", "counter", "Bytes of results written to disk.");
        p.sample("dist_worker_spilled_bytes_total", m.spilledBytes(), "worker", w);
        p.histogram("dist_worker_compute_seconds", "Run time of tasks on this worker.", WorkerMetrics.BUCKETS,
                s.compute().counts(), s.compute().count(), s.compute().sumSeconds());
        p.histogram("dist_worker_transfer_seconds", "Time spent fetching inputs from peers.", WorkerMetrics.BUCKETS,
                s.transfer().counts(), s.transfer().count(), s.transfer().sumSeconds());
        p.process("worker", w);
        return p.toString();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
