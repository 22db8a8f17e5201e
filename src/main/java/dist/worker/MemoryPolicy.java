package dist.worker;

import dist.config.Config;

/**
 * When a worker's {@link DataStore} spills to disk and when the worker pauses, as fractions of its
 * memory limit (dask's {@code distributed.worker.memory.*}). Sizes are the serialized sizes of the
 * results held in memory.
 *
 * <ul>
 *   <li>{@code target}: a new result that takes the held bytes past this fraction makes the least
 *       recently used results go to disk until the held bytes are below it again;</li>
 *   <li>{@code spill}: data read back from disk may take the held bytes up to this fraction before
 *       older results go back to disk;</li>
 *   <li>{@code pause}: past this fraction (spilling failed or is turned off by a target at or above
 *       it) the worker starts no new task until memory falls.</li>
 * </ul>
 *
 * <pre>{@code
 * MemoryPolicy p = MemoryPolicy.fromConfig(64L << 20);   // target 0.6, spill 0.7, pause 0.8 of 64 MiB
 * }</pre>
 *
 * @param limit bytes; 0 means no limit: nothing spills and the worker never pauses
 */
public record MemoryPolicy(long limit, double target, double spill, double pause) {

    public static final String TARGET_KEY = "distributed.worker.memory.target";
    public static final String SPILL_KEY = "distributed.worker.memory.spill";
    public static final String PAUSE_KEY = "distributed.worker.memory.pause";

    public MemoryPolicy {
        if (limit < 0) {
            throw new IllegalArgumentException("memory limit must be 0 (none) or more bytes, got " + limit);
        }
        for (double f : new double[]{target, spill, pause}) {
            if (!(f > 0) || Double.isInfinite(f)) {
                throw new IllegalArgumentException("memory fractions must be positive numbers such as 0.6, got "
                        + target + ", " + spill + ", " + pause);
            }
        }
    }

    /** No limit: keeps everything in memory. */
    public static MemoryPolicy unlimited() {
        return new MemoryPolicy(0, 0.6, 0.7, 0.8);
    }

    /** {@code limit} with the fractions of the config keys {@value #TARGET_KEY}, {@value #SPILL_KEY}, {@value #PAUSE_KEY}. */
    public static MemoryPolicy fromConfig(long limit) {
        return new MemoryPolicy(limit, Config.getDouble(TARGET_KEY), Config.getDouble(SPILL_KEY),
                Config.getDouble(PAUSE_KEY));
    }

    public boolean limited() {
        return limit > 0;
    }

    public long targetBytes() {
        return limited() ? (long) (limit * target) : Long.MAX_VALUE;
    }

    public long spillBytes() {
        return limited() ? (long) (limit * Math.max(target, spill)) : Long.MAX_VALUE;
    }

    public long pauseBytes() {
        return limited() ? (long) (limit * pause) : Long.MAX_VALUE;
    }
}
