package dist.scheduler;

import java.util.HashMap;

/**
 * One log line per failed handler: the message type, the peer, and why. Refused input (a peer's
 * mistake) is a warning; anything else is a bug in the scheduler and is logged with its stack. A
 * peer that repeats one mistake gets a line per {@link #INTERVAL_NANOS}, not one per message, and
 * that line says how many were not logged. Time is passed in, as the state machine's is.
 */
final class FailureLog {
    /** A failure of one kind is logged again at most this often. */
    static final long INTERVAL_NANOS = 10_000_000_000L;

    private final System.Logger logger;
    /** Per kind (what failed, and how): when it was last logged and how many since. */
    private final HashMap<String, long[]> seen = new HashMap<>();

    FailureLog(System.Logger logger) {
        this.logger = logger;
    }

    void log(String what, String sender, Throwable e, String why, long now) {
        String kind = what + "/" + e.getClass().getName();
        long[] last = seen.get(kind);
        if (last != null && now - last[0] < INTERVAL_NANOS) {
            last[1]++;
            return;
        }
        long skipped = last == null ? 0 : last[1];
        if (seen.size() >= 1000) {
            seen.clear(); // many kinds: keep the bound, at worst a few more lines
        }
        seen.put(kind, new long[]{now, 0});
        boolean refused = e instanceof IllegalArgumentException;
        String line = "scheduler " + (refused ? "refused " : "failed to handle ") + what
                + (sender == null ? "" : " from " + sender) + ": " + why
                + (skipped == 0 ? "" : " (and " + skipped + " more like it since the last such line)");
        if (refused) {
            logger.log(System.Logger.Level.WARNING, line);
        } else {
            logger.log(System.Logger.Level.ERROR, line + "; the scheduler carries on", e);
        }
    }
}
