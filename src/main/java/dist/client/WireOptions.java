package dist.client;

import dist.Options;
import dist.protocol.TaskOptions;

import java.util.List;

/** A task's {@link Options} as the scheduler sees them. Internal. */
public final class WireOptions {
    private WireOptions() {
    }

    /** The wire form; null for the defaults, so most tasks carry no options at all. */
    public static TaskOptions of(Options o) {
        List<String> span = SpanScope.current();
        if (span == null && o.workers().isEmpty() && !o.allowsOtherWorkers() && o.resources().isEmpty() && o.retries() == 0) {
            return null;
        }
        return new TaskOptions(o.workers(), o.allowsOtherWorkers(), o.resources(), o.retries(), span);
    }
}
