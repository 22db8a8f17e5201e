package dist;

/**
 * How an actor is kept: how many times it is built again when its worker dies (Ray's
 * {@code max_restarts}; the state is lost, the constructor runs anew on another worker), whether its
 * calls may run at once, and a name for errors and logs. Where it goes follows the submitter's
 * {@link Options} (workers, resources): {@code client.with(opts).actor(...)}.
 *
 * <pre>{@code
 * ActorRef<Counter> c = client.actor(Counter::new, ActorOptions.restarts(3));
 * ActorRef<Cache> cache = client.actor(Cache::new, ActorOptions.defaults().concurrent(true).name("cache"));
 * }</pre>
 *
 * @param restarts   times the actor is built again after its worker dies (0: never, dask's behaviour)
 * @param concurrent whether calls run at once on the worker's threads instead of one at a time in order
 * @param name       a name for errors and logs; null: the class's simple name
 */
public record ActorOptions(int restarts, boolean concurrent, String name) {

    public ActorOptions {
        if (restarts < 0) {
            throw new IllegalArgumentException("actor restarts must be >= 0, got " + restarts);
        }
    }

    /** No restarts, one call at a time, named after the class. */
    public static ActorOptions defaults() {
        return new ActorOptions(0, false, null);
    }

    /** The defaults with {@code n} restarts: {@code ActorOptions.restarts(3)}. */
    public static ActorOptions restarts(int n) {
        return new ActorOptions(n, false, null);
    }

    /** These options with {@code n} restarts. */
    public ActorOptions withRestarts(int n) {
        return new ActorOptions(n, concurrent, name);
    }

    /** These options with calls run at once ({@code true}) or one at a time in order. */
    public ActorOptions concurrent(boolean concurrent) {
        return new ActorOptions(restarts, concurrent, name);
    }

    /** These options with a name for errors and logs. */
    public ActorOptions name(String name) {
        return new ActorOptions(restarts, concurrent, name);
    }
}
