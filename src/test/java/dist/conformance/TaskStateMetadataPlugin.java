package dist.conformance;

import dist.WorkerPlugin;
import dist.worker.WorkerContext;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * dask's utils_test.TaskStateMetadataPlugin: sets "start_time" on a task as it starts executing and
 * "stop_time" as it goes to memory. What it set is also kept here per key (the worker's view, as dask's
 * worker-side TaskState.metadata), for the tests to compare with the scheduler's.
 */
public class TaskStateMetadataPlugin implements WorkerPlugin {
    static final Map<String, Map<String, String>> SET = new ConcurrentHashMap<>();
    private transient WorkerContext worker;

    @Override
    public void setup(WorkerContext worker) {
        this.worker = worker;
    }

    @Override
    public void transition(String key, String from, String to) {
        if (to.equals("executing")) {
            set(key, "start_time");
        } else if (from.equals("executing") && to.equals("memory")) {
            set(key, "stop_time");
        }
    }

    private void set(String key, String name) {
        String now = Long.toString(System.nanoTime());
        SET.computeIfAbsent(key, k -> new ConcurrentHashMap<>()).put(name, now);
        worker.setTaskMetadata(key, name, now);
    }
}
