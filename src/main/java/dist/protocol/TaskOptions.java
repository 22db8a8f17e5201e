package dist.protocol;

import java.util.List;
import java.util.Map;

/**
 * Per-task options.
 *
 * @param workers            workers (address, host or name) the task may run on; empty means any
 * @param allowOtherWorkers  whether {@code workers} is a preference rather than a rule
 * @param resources          abstract resources the task needs while it runs, e.g. {@code GPU=1}
 * @param retries            how often to retry the task after it throws
 */
public record TaskOptions(List<String> workers, boolean allowOtherWorkers, Map<String, Double> resources,
                          int retries) {
    public static final TaskOptions DEFAULT = new TaskOptions(List.of(), false, Map.of(), 0);
}
