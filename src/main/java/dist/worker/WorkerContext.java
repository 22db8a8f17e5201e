package dist.worker;

/**
 * The worker a plugin runs on, as its {@code setup} and {@code teardown} see it.
 *
 * <pre>{@code
 * public void setup(WorkerContext worker) {
 *     System.out.println("plugin up on " + worker.name() + " at " + worker.address());
 * }
 * }</pre>
 */
public interface WorkerContext {

    /** The worker's address, e.g. "127.0.0.1:40321". */
    String address();

    /** The worker's name (its address when it was given none). */
    String name();

    /** The scheduler's address. */
    String schedulerAddress();

    /** Task slots of the worker. */
    int nthreads();

    /** The worker's memory limit in bytes (0: none). */
    long memoryLimit();

    /** "running", "paused" (memory) or "closing", as dask's worker status. */
    String status();

    /**
     * Adds a jar's classes for the tasks of the client that registered this plugin, as
     * {@code Client.uploadJar} does (see {@code dist.UploadJar}).
     *
     * @throws java.io.IOException when the bytes are not a jar
     */
    void addJar(String name, byte[] jar) throws java.io.IOException;

    /**
     * Sets {@code name} to {@code value} in the metadata of task {@code key}, as a dask plugin sets
     * TaskState.metadata: the scheduler keeps it with the task until the task is forgotten, and clients
     * read it with {@code Client.taskMetadata} or {@code Client.collectTaskMetadata}. Sent in order
     * with what the worker tells the scheduler; a task the scheduler forgot meanwhile takes none.
     *
     * <pre>{@code
     * public void transition(String key, String from, String to) {
     *     if (to.equals("executing")) worker.setTaskMetadata(key, "start_time", Instant.now().toString());
     * }
     * }</pre>
     */
    default void setTaskMetadata(String key, String name, String value) {
        throw new UnsupportedOperationException("this worker keeps no task metadata");
    }
}
