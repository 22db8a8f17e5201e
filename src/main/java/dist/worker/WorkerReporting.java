package dist.worker;

import java.util.Map;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * Figures a worker reports to the scheduler beside its own, as dask's {@code Worker(metrics=...,
 * startup_information=...)}: each metric is read about once a second, each startup function once as
 * the worker starts (its value kept as text). Both show in {@code Client.workersInfo()}. A function
 * that throws is left out and logged; the worker carries on. Metrics are read on the worker's timer,
 * beside its heartbeats, so they should be quick.
 *
 * <pre>{@code
 * WorkerReporting r = new WorkerReporting(
 *         Map.of("open_files", w -> OpenFiles.count()),
 *         Map.of("gpu", w -> Gpu.describe()));
 * WorkerServer.start(WorkerServer.Options.of("127.0.0.1:8786", 4), Map.of(), null, r);
 * }</pre>
 *
 * @param metrics names to functions of the worker giving a number
 * @param startup names to functions of the worker run once at its start
 */
public record WorkerReporting(Map<String, ToDoubleFunction<WorkerContext>> metrics,
                              Map<String, Function<WorkerContext, ?>> startup) {

    /** Nothing beyond the worker's own figures. */
    public static final WorkerReporting NONE = new WorkerReporting(Map.of(), Map.of());

    public WorkerReporting {
        metrics = Map.copyOf(metrics);
        startup = Map.copyOf(startup);
    }
}
