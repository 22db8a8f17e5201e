package dist;

import dist.worker.WorkerContext;
import dist.worker.WorkerHooks;

/**
 * Code that runs on every worker, as dask's {@code WorkerPlugin}: {@link #setup} once on each worker
 * there is and on each that joins later, {@link #transition} as the worker's tasks change state, and
 * {@link #teardown} when the plugin is removed or replaced or its worker closes. Register it with
 * {@link Client#registerPlugin(WorkerPlugin)}; every method has an empty default.
 *
 * <p>A plugin is an ordinary object: the client encodes it with its fields (transient ones stay
 * behind) and each worker decodes its own copy; its class is fetched from the registering client as
 * a task's is, or comes from the worker's class path. Plugins are kept by {@link #name()}: one
 * registered under a name already taken replaces the other (teardown of the old, then setup of the
 * new), so the default name, the class's, makes registering a plugin of the same class again a
 * replacement. A plugin outlives the client that registered it, but a worker that joins after that
 * client left can load its classes only from its own class path.
 *
 * <p>All calls of one plugin come in order on a thread of its own on the worker, never on the
 * worker's state machine: a plugin that blocks or throws delays or fails only itself. What setup
 * throws fails the registration ({@link PluginFailedException}) and the worker carries on without
 * the plugin.
 *
 * <pre>{@code
 * public class Announce implements WorkerPlugin {
 *     public void setup(WorkerContext worker) {
 *         System.out.println("ready: " + worker.name() + " at " + worker.address());
 *     }
 *     public void transition(String key, String from, String to) {
 *         if (to.equals("error")) System.err.println(key + " failed here");
 *     }
 * }
 * client.registerPlugin(new Announce());
 * }</pre>
 */
public interface WorkerPlugin extends WorkerHooks {

    /** The plugin's name; see {@link WorkerHooks#name()}. */
    @Override
    default String name() {
        return getClass().getName();
    }

    /** Runs on each worker, now and as workers join; what it throws fails the registration. */
    @Override
    default void setup(WorkerContext worker) throws Exception {
    }

    /** Runs when the plugin is removed or replaced, and when its worker closes. */
    @Override
    default void teardown(WorkerContext worker) throws Exception {
    }

    /** A task of this worker moved from state {@code from} to {@code to}, in dask's state names. */
    @Override
    default void transition(String key, String from, String to) {
    }
}
