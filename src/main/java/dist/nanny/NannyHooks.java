package dist.nanny;

/**
 * What a nanny calls on a plugin it runs: the nanny's side of {@code dist.NannyPlugin}, which users
 * implement (this layer cannot name it). Calls come one at a time on the nanny's plugin thread,
 * before the nanny starts (or restarts) its worker when the plugin was there first.
 *
 * <pre>{@code
 * class Threads implements dist.NannyPlugin {     // dist.NannyPlugin extends NannyHooks
 *     public boolean restart() { return true; }
 *     public void setup(NannyContext nanny) { nanny.setEnv("OMP_NUM_THREADS", "1"); }
 * }
 * }</pre>
 */
public interface NannyHooks {

    /**
     * The plugin's name on the cluster: registering another of the same name replaces this one.
     * Default: the class's name.
     */
    default String name() {
        return getClass().getName();
    }

    /** Whether the nanny restarts its worker after this plugin's setup, so that the setup takes effect there. */
    default boolean restart() {
        return false;
    }

    /** Runs once in each nanny, now and in every nanny that joins later; what it throws fails the registration. */
    default void setup(NannyContext nanny) throws Exception {
    }

    /** Runs when the plugin is removed or replaced, and when its nanny closes. */
    default void teardown(NannyContext nanny) throws Exception {
    }
}
