package dist.client;

import dist.Options;
import dist.protocol.TaskOptions;

import java.util.List;

/** A task's {@link Options} as the scheduler sees them. Internal. */
public final class WireOptions {
    private WireOptions() {
    }

    /** The last options made on this thread, with the (immutable) Options and span list they came from. */
    private record Last(Options options, List<String> span, TaskOptions wire) {}

    private static final ThreadLocal<Last> LAST = new ThreadLocal<>();

    /**
     * The wire form; null for the defaults, so most tasks carry no options at all. The tasks of one
     * call get one instance, which the message codec writes once for them all (every task in a span
     * has options).
     */
    public static TaskOptions of(Options o) {
        List<String> span = SpanScope.current();
        if (span == null && o.workers().isEmpty() && !o.allowsOtherWorkers() && o.resources().isEmpty() && o.retries() == 0) {
            return null;
        }
        Last last = LAST.get();
        if (last != null && last.options == o && last.span == span) {
            return last.wire;
        }
        TaskOptions wire = new TaskOptions(o.workers(), o.allowsOtherWorkers(), o.resources(), o.retries(), span);
        LAST.set(new Last(o, span, wire));
        return wire;
    }
}
