package dist;

/**
 * A worker as the scheduler sees it, from {@link Client#workersInfo()} and {@link Client#retireWorkers(java.util.List)}.
 *
 * <pre>{@code
 * for (WorkerInfo w : client.workersInfo()) {
 *     System.out.println(w.address() + " " + w.nthreads() + " threads, " + w.memoryBytes() + " bytes held");
 * }
 * }</pre>
 *
 * @param address     where the worker listens, "host:port"
 * @param name        its name (given with {@code --name}, else its address)
 * @param nthreads    how many tasks it runs at once
 * @param memoryLimit its memory limit in bytes, as it registered
 * @param pid         its process id
 * @param memoryBytes the bytes of results it holds now
 * @param processing  how many tasks the scheduler has given it that have not finished
 * @param keysHeld    how many results it holds
 * @param metrics     the worker's own metrics as it last reported them
 *                    ({@link dist.worker.WorkerReporting}); empty when it has none
 * @param startup     what its startup functions gave, as text; empty when it has none
 */
public record WorkerInfo(String address, String name, int nthreads, long memoryLimit, long pid,
                         long memoryBytes, int processing, int keysHeld, java.util.Map<String, Double> metrics,
                         java.util.Map<String, String> startup) {

    public WorkerInfo {
        metrics = metrics == null ? java.util.Map.of() : java.util.Map.copyOf(metrics);
        startup = startup == null ? java.util.Map.of() : java.util.Map.copyOf(startup);
    }

    /** A worker without metrics or startup values. */
    public WorkerInfo(String address, String name, int nthreads, long memoryLimit, long pid,
                      long memoryBytes, int processing, int keysHeld) {
        this(address, name, nthreads, memoryLimit, pid, memoryBytes, processing, keysHeld, null, null);
    }

    static WorkerInfo of(dist.protocol.Message.WorkerInfo w) {
        return new WorkerInfo(w.address(), w.name(), w.nthreads(), w.memoryLimit(), w.pid(), w.memoryBytes(),
                w.processing(), w.keysHeld(), w.metrics(), w.startup());
    }
}
