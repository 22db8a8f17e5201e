package dist.client;

import dist.Future;

import java.util.List;

/**
 * The key table's references: a Future more for a key, one less, and cancelling keys. Internal:
 * what {@code dist.Future}, {@code dist.Client} and {@link DataOps} need of the core.
 */
public interface KeyRefs {

    /** A new Future for {@code key}, sharing its state when one is held already; nothing is sent. */
    <T> Future<T> holdKey(String key);

    /** A Future for {@code state} was released or collected: the key is released once none is left. */
    void releaseRef(KeyState state);

    /** Marks {@code future}'s key as placed by scatter: no recipe of it exists anywhere, only its data. */
    void scattered(Future<?> future);

    /**
     * Cancels these keys here and on the scheduler; {@code finishedToo}: also keys already computed
     * (their data is deleted), as dask's cancel does. Returns how many this call ended.
     */
    int cancelStates(List<KeyState> states, boolean finishedToo);

    /**
     * Waits (at most the request timeout) until the submission of each of {@code keys} that this
     * client holds has gone to the scheduler. Two threads submitting one pure key share its state,
     * and the one that did not make it returns before the other has sent it: a message naming the key
     * (a variable's value, a queue's item) must not overtake that submission.
     */
    void awaitSent(java.util.Collection<String> keys);

    /**
     * Sends the releases queued so far. Before a request whose answer hands this client keys (a
     * queue's take, a variable's get), so a release of an earlier Future of one of them reaches the
     * scheduler before the hand-over, not after it.
     */
    void flushReleases();

    /**
     * Takes the scheduler's report of a key's state ({@code KeyInMemory}, {@code KeyErred}) that came
     * with a value handed to this client, as if it had come on its own; other messages are ignored.
     */
    void known(dist.protocol.Message report);
}
