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
 * @param span               ids of the spans the task was submitted in, outermost first ("etl#3f2a"); null when none
 */
public record TaskOptions(List<String> workers, boolean allowOtherWorkers, Map<String, Double> resources,
                          int retries, List<String> span) {
    public static final TaskOptions DEFAULT = new TaskOptions(List.of(), false, Map.of(), 0);

    /** Options outside any span. */
    public TaskOptions(List<String> workers, boolean allowOtherWorkers, Map<String, Double> resources, int retries) {
        this(workers, allowOtherWorkers, resources, retries, null);
    }
}
