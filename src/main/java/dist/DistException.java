package dist;

/**
 * The base of every exception the dist API throws on its own (all unchecked, as Hazelcast's and Ray's
 * Java APIs). Thrown as it is when an operation failed on the remote side: then {@link #getCause()} is
 * what failed there, e.g. the exception the function given to {@link Client#run(Fn0)} threw on a worker,
 * or an {@link IllegalStateException} carrying the scheduler's refusal.
 *
 * <pre>{@code
 * try {
 *     Map<String, Long> sizes = client.run(() -> Files.size(Path.of("/data/part-0")));
 * } catch (DistException e) {   // e.getCause(): the NoSuchFileException thrown on a worker
 *     System.err.println(e.getMessage());
 * }
 * }</pre>
 *
 * <p>The subclasses: {@link DistTimeoutException}, {@link DistInterruptedException},
 * {@link SchedulerUnavailableException}, {@link TaskCancelledException}, {@link TaskFailedException},
 * and the causes a failed task may carry, {@link KilledWorkerException} and {@link NoValidWorkerException}.
 * {@code java.util.concurrent.Future#get()} keeps the JDK's checked exceptions.
 */
public class DistException extends RuntimeException {
    public DistException(String message) {
        super(message);
    }

    public DistException(String message, Throwable cause) {
        super(message, cause);
    }
}
