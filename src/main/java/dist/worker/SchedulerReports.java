package dist.worker;

import dist.comm.Connection;
import dist.comm.ConnectionClosedException;
import dist.protocol.Message;

import java.lang.System.Logger.Level;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * What a worker tells its scheduler unasked, on its timer: every fifth tick (500 ms) what the fine
 * metrics grew by, every tenth its stats (CPU, memory, fetches) and the values of its own metrics;
 * and, on each registration, its startup values, computed once. Sending never waits: with the link
 * down the stats of that tick are dropped and the fine metrics' delta waits for the link.
 *
 * <pre>{@code
 * SchedulerReports reports = new SchedulerReports(address, name, () -> scheduler, fine, metrics,
 *         reporting, () -> pluginContext(null));
 * ticker = Ticker.start("dist-worker-tick", TICK, now -> reports.tick(), this::tickFailed);
 * }</pre>
 */
final class SchedulerReports {
    private static final System.Logger LOG = System.getLogger("dist.worker");

    private final String address;
    private final Supplier<Connection> link;
    private final FineMetrics fine;
    private final WorkerMetrics metrics;
    private final WorkerReporting reporting;
    private final Supplier<WorkerContext> context;
    private final Map<String, String> startupValues;
    /** Metrics whose failure was logged, so a failing one logs once, not every second. */
    private final Set<String> failedMetrics = ConcurrentHashMap.newKeySet();
    /** Ticks so far; the timer's thread only. */
    private int ticks;

    /**
     * Runs each of {@code reporting}'s startup functions once, now, with the worker's context from
     * {@code context}; {@code link} gives the scheduler connection of the moment (null: none).
     */
    SchedulerReports(String address, String name, Supplier<Connection> link, FineMetrics fine, WorkerMetrics metrics,
                     WorkerReporting reporting, Supplier<WorkerContext> context) {
        this.address = address;
        this.link = link;
        this.fine = fine;
        this.metrics = metrics;
        this.reporting = java.util.Objects.requireNonNull(reporting, "reporting");
        this.context = context;
        this.startupValues = startupValues(name);
    }

    /** One tick of the worker's timer (100 ms). */
    void tick() {
        if (++ticks % 5 == 0) {
            fineMetrics(false);
        }
        if (ticks % 10 == 0) {
            stats();
        }
    }

    /**
     * What the fine metrics grew by since the last report, when they grew; with {@code closing}, the
     * last delta, recorded for the flight recorder even when the link is down.
     */
    void fineMetrics(boolean closing) {
        Connection s = link.get();
        boolean linked = s != null && s.isOpen();
        if (!linked && !closing) {
            return; // the delta waits for the link
        }
        Message.FineMetrics m = fine.report();
        if (m == null) {
            return;
        }
        FlightEvents.timeSpent(address, m);
        if (linked) {
            try {
                s.send(m);
            } catch (ConnectionClosedException e) {
                LOG.log(Level.DEBUG, "fine metrics not sent: the scheduler connection closed");
            }
        }
    }

    /** About once a second: CPU, memory and the fetches since the last report, and the worker's own metrics. */
    void stats() {
        Connection s = link.get();
        if (s != null && s.isOpen()) {
            try {
                s.send(metrics.report());
                if (!reporting.metrics().isEmpty()) {
                    s.send(customMetrics());
                }
            } catch (ConnectionClosedException e) {
                LOG.log(Level.DEBUG, "stats not sent: the scheduler connection closed");
            }
        }
    }

    /** Whether the worker has metrics or startup functions of its own: then a registration carries them. */
    boolean hasCustom() {
        return reporting != WorkerReporting.NONE;
    }

    /** The metrics now and the startup values; a metric that throws is left out (logged the first time). */
    Message.WorkerCustomMetrics customMetrics() {
        Map<String, Double> values = new TreeMap<>();
        WorkerContext me = context.get();
        reporting.metrics().forEach((name, fn) -> {
            try {
                values.put(name, fn.applyAsDouble(me));
            } catch (RuntimeException e) {
                if (failedMetrics.add(name)) {
                    LOG.log(Level.WARNING, "metric " + name + " of worker " + address + " failed; it is left out", e);
                }
            }
        });
        return new Message.WorkerCustomMetrics(values, startupValues);
    }

    /** Runs each startup function once; one that throws is logged and left out, as dask's. */
    private Map<String, String> startupValues(String workerName) {
        if (reporting.startup().isEmpty()) {
            return Map.of();
        }
        Map<String, String> out = new TreeMap<>();
        WorkerContext me = context.get();
        reporting.startup().forEach((name, fn) -> {
            try {
                out.put(name, String.valueOf(fn.apply(me)));
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "startup function " + name + " of worker " + workerName
                        + " failed; it is left out", e);
            }
        });
        return out;
    }
}
