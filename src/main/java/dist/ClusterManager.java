package dist;

import java.util.List;

/**
 * A cluster whose workers can be added and removed: {@link LocalCluster}, the {@code ssh} launcher,
 * or a manager of your own that starts workers on Kubernetes or a batch queue (extend
 * {@link AbstractClusterManager}: write how one worker starts and stops, and scaling and
 * {@link #adapt} work unchanged). As dask's {@code Cluster.scale} and {@code Cluster.adapt}.
 *
 * <pre>{@code
 * try (LocalCluster cluster = LocalCluster.builder().workers(1).processes(true).start();
 *      Client client = cluster.client()) {
 *     cluster.scale(4);                            // three more workers: worker-1, worker-2, worker-3
 *     client.waitForWorkers(4, Duration.ofSeconds(60));
 *     cluster.scale(2);                            // two retire gracefully: their results move first
 *     Adaptive adaptive = cluster.adapt(1, 8);     // from now on the scheduler's load decides
 *     ...
 *     adaptive.stop();
 * }
 * }</pre>
 */
public interface ClusterManager extends AutoCloseable {

    /**
     * Brings the cluster to {@code n} workers. Up: starts the missing workers (named on from the
     * last, {@code worker-4}, {@code worker-5}...) and returns once they are started; they register
     * with the scheduler soon after ({@link Client#waitForWorkers}). Down: workers that have not
     * registered yet go first, then those the scheduler picks (idle first, then the least data),
     * through graceful retirement (their results move to the workers that stay); returns once they
     * are stopped. A worker the retirement keeps (its data has nowhere to go) keeps running.
     *
     * @throws IllegalArgumentException when {@code n} is negative
     * @throws IllegalStateException    when the manager was closed
     */
    void scale(int n);

    /**
     * Lets the scheduler's load decide the number of workers from now on, between {@code minimum}
     * and {@code maximum}, as dask's {@code Cluster.adapt}: polled every
     * {@code distributed.adaptive.interval}; up at once, down only for a worker the scheduler
     * recommended closing {@code distributed.adaptive.wait-count} times in a row. Replaces an
     * adaptive policy started before.
     *
     * <pre>{@code
     * Adaptive a = cluster.adapt(1, 4);
     * ... work ...
     * a.stop();
     * a.events().forEach(System.out::println);   // ScaleEvent[time=..., from=1, to=4, reason=...]
     * }</pre>
     *
     * @throws IllegalArgumentException unless {@code 0 <= minimum <= maximum}
     */
    Adaptive adapt(int minimum, int maximum);

    /**
     * {@link #adapt(int, int)} within the configured bounds, {@code distributed.adaptive.minimum}
     * (0) and {@code distributed.adaptive.maximum} ({@code inf}: no limit), as dask's {@code adapt()}.
     *
     * <pre>{@code
     * Adaptive a = cluster.adapt();   // 0 .. no limit, unless configured otherwise
     * }</pre>
     *
     * @throws IllegalArgumentException when the configured bounds are not {@code 0 <= minimum <= maximum}
     */
    default Adaptive adapt() {
        return adapt(Adaptive.configuredMinimum(), Adaptive.configuredMaximum());
    }

    /** The names of the workers this manager runs (started or starting, not yet stopped). */
    List<String> workers();

    /** Stops adapting and stops every worker this manager started. */
    @Override
    void close();
}
