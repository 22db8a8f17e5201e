package dist;

import dist.nanny.NannyContext;

import java.util.Map;
import java.util.TreeMap;

/**
 * A nanny plugin that sets environment variables of every nannied worker, as dask's
 * {@code Environ}: each nanny sets them for the worker processes it starts and restarts its worker
 * so that they take effect; a nanny that starts later sets them before its first worker starts.
 * Registering another {@code Environ} replaces this one (its name is {@code environ}); removing it
 * leaves the running workers as they are.
 *
 * <pre>{@code
 * client.registerPlugin(new Environ(Map.of("OMP_NUM_THREADS", "1")));
 * // a task then reads System.getenv("OMP_NUM_THREADS") == "1"
 * }</pre>
 */
public final class Environ implements NannyPlugin {
    private final TreeMap<String, String> environ;

    /** For the serializer, which fills the map in on the nanny. */
    private Environ() {
        this.environ = null;
    }

    /** Sets these variables, e.g. {@code new Environ(Map.of("OMP_NUM_THREADS", "1"))}. */
    public Environ(Map<String, String> environ) {
        this.environ = new TreeMap<>(environ);
    }

    @Override
    public String name() {
        return "environ";
    }

    @Override
    public boolean restart() {
        return true;
    }

    @Override
    public void setup(NannyContext nanny) {
        environ.forEach(nanny::setEnv);
    }

    @Override
    public String toString() {
        return "Environ(" + environ + ")";
    }
}
