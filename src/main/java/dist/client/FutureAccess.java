package dist.client;

import dist.Future;

/**
 * How the core makes {@link Future}s and reads the key state behind them, while Future's
 * constructor and state stay out of the public API. {@code dist.Client} hands one to its core.
 * Internal.
 */
public interface FutureAccess {

    /** A new Future of this client over {@code state} (the caller counted the reference). */
    <T> Future<T> make(KeyState state);

    /** The key state behind {@code future}. */
    KeyState state(Future<?> future);

    /** Whether {@code future} was made by this client (futures of another client are refused). */
    boolean isOurs(Future<?> future);
}
