package dist;


import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Per-call task options, immutable: every method returns a changed copy. Pass them with
 * {@link Client#with(Options)}.
 *
 * <pre>{@code
 * Options opts = Options.defaults().pure(false).retries(2).priority(5).workers("10.0.0.7:40001");
 * Future<Double> r = client.with(opts).submit(Math::random);
 * }</pre>
 *
 * <ul>
 * <li>{@code pure} (default true): the key is a hash of the call, so the same call gives the same
 *     key and computes once; false gives every call its own key (for random or side-effecting work).</li>
 * <li>{@code key}: an explicit key, overriding both (for {@code map}: the prefix of its keys);
 *     {@code keyPrefix} and {@code keys} name a map's tasks.</li>
 * <li>{@code priority}: higher runs earlier; among equal priorities earlier submissions run first.</li>
 * <li>{@code retries}: how often to run the task again after it throws.</li>
 * <li>{@code workers}/{@code allowOtherWorkers}: where the task may run.</li>
 * <li>{@code resources}: abstract resources it holds while running, e.g. {@code GPU=1}.</li>
 * </ul>
 */
public final class Options {
    /** User priorities are bounded so they fit with the submission counter in one long. */
    public static final int MAX_PRIORITY = 1_000_000;

    private static final Options DEFAULTS = new Options(true, null, 0, 0, List.of(), false, Map.of(), null, List.of());

    private final boolean pure;
    private final String key;
    private final int priority;
    private final int retries;
    private final List<String> workers;
    private final boolean allowOtherWorkers;
    private final Map<String, Double> resources;
    private final String keyPrefix;
    private final List<String> keys;

    private Options(boolean pure, String key, int priority, int retries, List<String> workers,
                    boolean allowOtherWorkers, Map<String, Double> resources, String keyPrefix, List<String> keys) {
        this.keyPrefix = keyPrefix;
        this.keys = keys;
        this.pure = pure;
        this.key = key;
        this.priority = priority;
        this.retries = retries;
        this.workers = workers;
        this.allowOtherWorkers = allowOtherWorkers;
        this.resources = resources;
    }

    /** Pure, no key, priority 0, no retries, any worker, no resources. */
    public static Options defaults() {
        return DEFAULTS;
    }

    public Options pure(boolean pure) {
        return new Options(pure, key, priority, retries, workers, allowOtherWorkers, resources, keyPrefix, keys);
    }

    /** An explicit key; {@code null} goes back to a computed key. Only for single submissions. */
    public Options key(String key) {
        if (key != null && key.isBlank()) {
            throw new IllegalArgumentException("a task key must not be blank; pass null for a computed key");
        }
        return new Options(pure, key, priority, retries, workers, allowOtherWorkers, resources, keyPrefix, keys);
    }

    /**
     * The name part of computed keys, in place of the function's name: with it,
     * {@code client.with(Options.defaults().keyPrefix("INC")).map(Demo::inc, xs)} gives keys
     * {@code INC-<hash>}. {@code map} takes a {@link #key(String)} as this prefix, as dask's
     * {@code map(..., key="INC")} does.
     */
    public Options keyPrefix(String prefix) {
        if (prefix != null && prefix.isBlank()) {
            throw new IllegalArgumentException("a key prefix must not be blank; pass null for the function's name");
        }
        return new Options(pure, key, priority, retries, workers, allowOtherWorkers, resources, prefix, keys);
    }

    /**
     * One explicit key per task of a {@code map}, in order, as dask's {@code map(..., key=[...])}:
     * {@code client.with(Options.defaults().keys(List.of("inc-1", "inc-2"))).map(Demo::inc, List.of(0, 1))}.
     * The map must make exactly as many tasks.
     */
    public Options keys(List<String> keys) {
        for (String k : keys) {
            if (k == null || k.isBlank()) {
                throw new IllegalArgumentException("every key of a map must be non-empty, got " + keys);
            }
        }
        return new Options(pure, key, priority, retries, workers, allowOtherWorkers, resources, keyPrefix,
                List.copyOf(keys));
    }

    /** The key prefix, or null for the function's name. */
    public String keyPrefix() {
        return keyPrefix;
    }

    /** The explicit keys of a map's tasks, or empty. */
    public List<String> keys() {
        return keys;
    }

    /** Higher runs earlier; between -{@value #MAX_PRIORITY} and {@value #MAX_PRIORITY}. */
    public Options priority(int priority) {
        if (Math.abs(priority) > MAX_PRIORITY) {
            throw new IllegalArgumentException("priority " + priority + " is out of range; use a value between -"
                    + MAX_PRIORITY + " and " + MAX_PRIORITY);
        }
        return new Options(pure, key, priority, retries, workers, allowOtherWorkers, resources, keyPrefix, keys);
    }

    public Options retries(int retries) {
        if (retries < 0) {
            throw new IllegalArgumentException("retries must be 0 or more, got " + retries);
        }
        return new Options(pure, key, priority, retries, workers, allowOtherWorkers, resources, keyPrefix, keys);
    }

    /** Workers (address "host:port", host, or name) the task may run on; none means any. */
    public Options workers(String... workers) {
        return workers(Arrays.asList(workers));
    }

    public Options workers(List<String> workers) {
        for (String w : workers) {
            if (w == null || w.isBlank()) {
                throw new IllegalArgumentException("a worker restriction must name a worker, got " + workers);
            }
        }
        return new Options(pure, key, priority, retries, List.copyOf(workers), allowOtherWorkers, resources, keyPrefix, keys);
    }

    /** Whether {@link #workers(String...)} is a preference rather than a rule. */
    public Options allowOtherWorkers(boolean allow) {
        return new Options(pure, key, priority, retries, workers, allow, resources, keyPrefix, keys);
    }

    /** Adds one resource requirement, e.g. {@code resource("GPU", 1)}. */
    public Options resource(String name, double amount) {
        Objects.requireNonNull(name, "resource name");
        if (!(amount > 0)) {
            throw new IllegalArgumentException("resource " + name + " needs a positive amount, got " + amount);
        }
        Map<String, Double> m = new LinkedHashMap<>(resources);
        m.put(name, amount);
        return new Options(pure, key, priority, retries, workers, allowOtherWorkers, Map.copyOf(m), keyPrefix, keys);
    }

    public boolean isPure() {
        return pure;
    }

    /** The explicit key, or null. */
    public String key() {
        return key;
    }

    public int priority() {
        return priority;
    }

    public int retries() {
        return retries;
    }

    public List<String> workers() {
        return workers;
    }

    public boolean allowsOtherWorkers() {
        return allowOtherWorkers;
    }

    public Map<String, Double> resources() {
        return resources;
    }

    @Override
    public String toString() {
        return "Options[pure=" + pure + ", key=" + key + ", priority=" + priority + ", retries=" + retries
                + ", workers=" + workers + ", allowOtherWorkers=" + allowOtherWorkers + ", resources=" + resources
                + (keyPrefix == null ? "" : ", keyPrefix=" + keyPrefix) + (keys.isEmpty() ? "" : ", keys=" + keys) + "]";
    }
}
