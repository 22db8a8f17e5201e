package dist.client;

import java.util.concurrent.ExecutionException;

/**
 * A wait on a key that erred, or was lost with the scheduler connection: the cause is the task's
 * failure. Internal: lets the public API tell a task's failure from a failed request.
 */
public final class KeyFailure extends ExecutionException {
    public final String key;
    /** The scheduler connection ended for good before the key finished, rather than the task failing. */
    public final boolean lost;

    KeyFailure(String key, boolean lost, String message, Throwable cause) {
        super(message, cause);
        this.key = key;
        this.lost = lost;
    }
}
