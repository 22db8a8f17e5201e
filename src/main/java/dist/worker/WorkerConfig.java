package dist.worker;

/**
 * Tuning of {@link WorkerMachine}.
 *
 * <pre>{@code
 * WorkerConfig c = WorkerConfig.defaults().withMaxFetchBytes(10_000_000);
 * }</pre>
 *
 * @param maxConcurrentFetchesPerPeer requests in flight to one peer at a time
 * @param maxConcurrentFetches        requests in flight to all peers together
 * @param maxFetchBytes               bytes asked for in one request (a single larger key still goes alone)
 * @param inlineResultLimit           results up to this size may travel inline in TaskFinished (the shell decides)
 * @param heartbeatIntervalNanos      least time between two heartbeats
 * @param seed                        seeds the choice among equally busy peers, so runs repeat
 */
public record WorkerConfig(int maxConcurrentFetchesPerPeer, int maxConcurrentFetches, long maxFetchBytes,
                           int inlineResultLimit, long heartbeatIntervalNanos, long seed) {

    public WorkerConfig {
        if (maxConcurrentFetchesPerPeer < 1) {
            throw new IllegalArgumentException("maxConcurrentFetchesPerPeer must be at least 1, got "
                    + maxConcurrentFetchesPerPeer);
        }
        if (maxConcurrentFetches < 1) {
            throw new IllegalArgumentException("maxConcurrentFetches must be at least 1, got " + maxConcurrentFetches);
        }
        if (maxFetchBytes < 1) {
            throw new IllegalArgumentException("maxFetchBytes must be at least 1, got " + maxFetchBytes);
        }
        if (inlineResultLimit < 0) {
            throw new IllegalArgumentException("inlineResultLimit must not be negative, got " + inlineResultLimit);
        }
        if (heartbeatIntervalNanos < 0) {
            throw new IllegalArgumentException("heartbeatIntervalNanos must not be negative, got "
                    + heartbeatIntervalNanos);
        }
    }

    /** One request per peer, 4 in all, 50 MB per request, 64 KiB inline, a heartbeat a second. */
    public static WorkerConfig defaults() {
        return new WorkerConfig(1, 4, 50_000_000L, 64 * 1024, 1_000_000_000L, 42L);
    }

    public WorkerConfig withMaxConcurrentFetchesPerPeer(int n) {
        return new WorkerConfig(n, maxConcurrentFetches, maxFetchBytes, inlineResultLimit, heartbeatIntervalNanos, seed);
    }

    public WorkerConfig withMaxConcurrentFetches(int n) {
        return new WorkerConfig(maxConcurrentFetchesPerPeer, n, maxFetchBytes, inlineResultLimit, heartbeatIntervalNanos, seed);
    }

    public WorkerConfig withMaxFetchBytes(long n) {
        return new WorkerConfig(maxConcurrentFetchesPerPeer, maxConcurrentFetches, n, inlineResultLimit, heartbeatIntervalNanos, seed);
    }

    public WorkerConfig withHeartbeatIntervalNanos(long n) {
        return new WorkerConfig(maxConcurrentFetchesPerPeer, maxConcurrentFetches, maxFetchBytes, inlineResultLimit, n, seed);
    }

    public WorkerConfig withSeed(long s) {
        return new WorkerConfig(maxConcurrentFetchesPerPeer, maxConcurrentFetches, maxFetchBytes, inlineResultLimit, heartbeatIntervalNanos, s);
    }
}
