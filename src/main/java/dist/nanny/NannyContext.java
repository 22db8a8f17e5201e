package dist.nanny;

import java.util.Map;

/**
 * The nanny a plugin runs in, as its {@code setup} and {@code teardown} see it.
 *
 * <pre>{@code
 * public void setup(NannyContext nanny) {
 *     nanny.setEnv("MALLOC_ARENA_MAX", "2");   // the next worker process started has it
 * }
 * }</pre>
 */
public interface NannyContext {

    /** The nanny's id, as the scheduler knows it. */
    String id();

    /** The scheduler's address. */
    String schedulerAddress();

    /** The address of the worker it runs now, or null while none is registered. */
    String workerAddress();

    /**
     * Sets an environment variable of the worker processes this nanny starts from now on, over the
     * nanny's own and its options' (null {@code value}: removes one a plugin set). A running worker
     * sees it after a restart ({@link NannyHooks#restart()}).
     */
    void setEnv(String name, String value);

    /** The environment variables plugins set, e.g. {@code {OMP_NUM_THREADS=1}}. */
    Map<String, String> pluginEnv();
}
