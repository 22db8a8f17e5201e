package dist;

import dist.nanny.NannyContext;
import dist.nanny.NannyHooks;

/**
 * Code that runs in every nanny, as dask's {@code NannyPlugin}: {@link #setup} once in each nanny
 * there is and in each that starts later (before its first worker starts), {@link #teardown} when
 * the plugin is removed or replaced or its nanny closes. With {@link #restart()} true, a nanny
 * restarts its worker after the setup, so what the setup changed (the worker's environment, as
 * {@link Environ} does) takes effect. Register it with {@link Client#registerPlugin(NannyPlugin)};
 * workers started without a nanny do not run it.
 *
 * <p>As a {@link WorkerPlugin}'s, its classes come from the registering client (a nanny asks for those
 * its class path lacks through the scheduler) or from the nanny's class path; a nanny that starts
 * after that client left finds them only on its class path.
 *
 * <pre>{@code
 * public class Threads implements NannyPlugin {
 *     public boolean restart() { return true; }
 *     public void setup(NannyContext nanny) { nanny.setEnv("OMP_NUM_THREADS", "1"); }
 * }
 * client.registerPlugin(new Threads());
 * }</pre>
 */
public interface NannyPlugin extends NannyHooks {

    /** The plugin's name; see {@link NannyHooks#name()}. */
    @Override
    default String name() {
        return getClass().getName();
    }

    /** Whether the nanny restarts its worker after the setup (default false). */
    @Override
    default boolean restart() {
        return false;
    }

    /** Runs in each nanny, now and as nannies start; what it throws fails the registration. */
    @Override
    default void setup(NannyContext nanny) throws Exception {
    }

    /** Runs when the plugin is removed or replaced, and when its nanny closes. */
    @Override
    default void teardown(NannyContext nanny) throws Exception {
    }
}
