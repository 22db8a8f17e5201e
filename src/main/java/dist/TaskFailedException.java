package dist;

/**
 * A task failed, and its result was asked for with {@link Future#result()} (or gathered, or computed).
 * {@link #getCause()} is the task's own exception (its class when loadable here, else a
 * {@code dist.serial.RemoteException} with the remote class name and stack), a
 * {@link KilledWorkerException} when its workers kept dying, or a {@link NoValidWorkerException}
 * when no worker could take it. The message names the key and the cause's message.
 * ({@link Future#get()} throws the JDK's {@link java.util.concurrent.ExecutionException} instead.)
 *
 * <pre>{@code
 * try {
 *     client.submit(Demo::div, 1, 0).result();
 * } catch (TaskFailedException e) {
 *     if (e.getCause() instanceof ArithmeticException) { ... }   // thrown on the worker
 * }
 * }</pre>
 */
public class TaskFailedException extends DistException {
    private final String key;

    public TaskFailedException(String key, Throwable cause) {
        super("task " + key + " failed: " + describe(cause), cause);
        this.key = key;
    }

    /** The failed task's key. */
    public String key() {
        return key;
    }

    private static String describe(Throwable cause) {
        if (cause == null) {
            return "no cause was reported";
        }
        String m = cause.getMessage();
        return cause.getClass().getName() + (m == null ? "" : ": " + m);
    }
}
