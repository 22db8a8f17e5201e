package dist.worker;

/**
 * What a worker calls on a plugin it runs: the worker's side of {@code dist.WorkerPlugin}, which
 * users implement (this layer cannot name it). Every method has an empty default. All calls of one
 * plugin come in order on a thread of that plugin's own, never on the worker's state machine: a
 * plugin that blocks or throws delays and fails only itself.
 *
 * <pre>{@code
 * class Count implements dist.WorkerPlugin {       // dist.WorkerPlugin extends WorkerHooks
 *     transient int done;
 *     public void transition(String key, String from, String to) { if (to.equals("memory")) done++; }
 * }
 * }</pre>
 */
public interface WorkerHooks {

    /**
     * The plugin's name on the cluster: registering another plugin of the same name replaces this
     * one (torn down, then the new one set up). Default: the class's name, so registering a plugin of
     * the same class again replaces it.
     */
    default String name() {
        return getClass().getName();
    }

    /** Runs once on each worker, now and on every worker that joins later; what it throws fails the registration. */
    default void setup(WorkerContext worker) throws Exception {
    }

    /** Runs when the plugin is removed or replaced, and when its worker closes. */
    default void teardown(WorkerContext worker) throws Exception {
    }

    /**
     * A task on this worker changed state, as dask's: "released", "waiting", "ready", "constrained",
     * "executing", "memory", "error", "fetch", "flight", "missing", "forgotten". Called after the fact,
     * in order; when the plugin falls far behind, transitions are dropped (and the drop logged).
     */
    default void transition(String key, String from, String to) {
    }
}
