package dist.client;

import java.util.concurrent.CancellationException;

/** A wait on a key that was cancelled. Internal: carries the key to the public API's exception. */
public final class KeyCancellation extends CancellationException {
    public final String key;

    KeyCancellation(String key, String message) {
        super(message);
        this.key = key;
    }
}
