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
}
