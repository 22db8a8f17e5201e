package dist;

/**
 * The result of a cancelled task was asked for with {@link Future#result()} (or gathered): it was
 * cancelled by {@link Future#cancel(boolean)}, {@link Client#cancel(java.util.Collection)}, a
 * {@link Client#restart()}, a cancelled input, or because its client closed. The message names the
 * key and, when known, why. ({@link Future#get()} throws the JDK's
 * {@link java.util.concurrent.CancellationException} instead.)
 *
 * <pre>{@code
 * f.cancel(true);
 * try {
 *     f.result();
 * } catch (TaskCancelledException e) {
 *     System.err.println(e.key() + " was cancelled");
 * }
 * }</pre>
 */
public class TaskCancelledException extends DistException {
    private final String key;

    public TaskCancelledException(String key, String message, Throwable cause) {
        super(message, cause);
        this.key = key;
    }

    /** The cancelled task's key. */
    public String key() {
        return key;
    }
}
