package dist.client;

/**
 * Names for data placement on the client: key prefixes for summaries, and which workers a
 * restriction names. Where data goes is the scheduler's decision. Internal.
 */
public final class Placement {
    private Placement() {
    }

    /**
     * A key's group for {@code nbytes} summaries, the same the scheduler and dashboard use
     * ({@link dist.scheduler.ClusterView#groupOf}: {@code inc-3f1c...} gives {@code inc},
     * {@code my-data-7} gives {@code my-data}).
     */
    public static String keyPrefix(String key) {
        return dist.scheduler.ClusterView.groupOf(key);
    }

    /** Whether a worker (address, its name) matches a restriction: address, host (any port) or name. */
    public static boolean matches(String address, String name, String restriction) {
        if (restriction.equals(address) || restriction.equals(name)) {
            return true;
        }
        int colon = address.lastIndexOf(':');
        return colon > 0 && restriction.equals(address.substring(0, colon));
    }
}
