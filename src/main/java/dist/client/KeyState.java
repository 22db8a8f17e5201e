package dist.client;

import dist.serial.Encoded;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantLock;

/**
 * What this client knows about one key, shared by every {@link Future} for it. Transitions arrive on
 * the scheduler connection's reader thread and only record facts: decoding and fetching happen later,
 * in the thread that asks for the result. Internal: public so {@code dist.Future} and the waits in
 * {@code dist} can read a key's status; only the core changes it.
 */
public final class KeyState {
    public static final String PENDING = "pending";
    public static final String FINISHED = "finished";
    public static final String ERROR = "error";
    public static final String CANCELLED = "cancelled";
    public static final String LOST = "lost";

    public final String key;
    /** Completes once the key leaves "pending"; never completes exceptionally. */
    public final CompletableFuture<Void> done = new CompletableFuture<>();
    /**
     * Transitions take one of a few shared locks, picked by key: a lock of its own was two more objects,
     * 48 bytes a key, for sections that are short and never wait.
     */
    private static final ReentrantLock[] LOCKS = new ReentrantLock[64];

    static {
        Arrays.setAll(LOCKS, i -> new ReentrantLock());
    }

    private ReentrantLock lock() {
        return LOCKS[key.hashCode() & (LOCKS.length - 1)];
    }

    /** Live Future objects for this key; changed only inside the core's key-table compute. */
    int refs;

    private volatile String status = PENDING;
    private volatile List<String> whoHas = List.of();
    private volatile long nbytes = -1;
    /** The serialized result, inline from the scheduler or fetched from a worker. */
    private volatile Encoded data;
    private volatile byte[] exceptionBytes;
    private volatile String summary;
    private volatile String causeKey;
    private volatile Throwable failure;
    private volatile String reason;
    /** The update that asks for this key was handed to the scheduler link (set after the send). */
    volatile boolean sent;
    /** Known to this client only (an actor call's result): a task it is passed to gets its value. */
    volatile boolean local;
    /** Placed by scatter: no recipe exists anywhere, only the data. */
    volatile boolean scattered;
    /** False once the key failed in a way a new submission of it should not share (refused, lost). */
    private volatile boolean shareable = true;

    KeyState(String key) {
        this.key = key;
    }

    public String status() {
        return status;
    }

    List<String> whoHas() {
        return whoHas;
    }

    long nbytes() {
        return nbytes;
    }

    Encoded data() {
        return data;
    }

    void data(Encoded encoded) {
        data = encoded;
    }

    byte[] exceptionBytes() {
        return exceptionBytes;
    }

    String summary() {
        return summary;
    }

    String causeKey() {
        return causeKey;
    }

    String reason() {
        return reason;
    }

    /** The decoded failure, cached after the first decode. */
    Throwable failure() {
        return failure;
    }

    void failure(Throwable t) {
        failure = t;
    }

    /** An erred key is run again: later references get a fresh state, this one keeps its error. */
    void retire() {
        shareable = false;
    }

    /** A new submission of the same key may share this state (it is not cancelled or lost). */
    boolean reusable() {
        String s = status;
        return shareable && !s.equals(CANCELLED) && !s.equals(LOST);
    }

    public boolean isPending() {
        return status.equals(PENDING);
    }

    /** In memory on {@code holders}; {@code value}, when not null, is the result itself. */
    void finished(List<String> holders, long size, byte[] value) {
        ReentrantLock lock = lock();
        lock.lock();
        try {
            String s = status;
            if (!s.equals(PENDING) && !s.equals(FINISHED)) {
                return;
            }
            List<String> now = holders == null ? List.of() : List.copyOf(holders);
            if (value != null) {
                data = Encoded.of(value);
            } else if (s.equals(FINISHED) && !now.equals(whoHas)) {
                // recomputed elsewhere: fetch again from the new holders; the same holders told again
                // (another update wanting the key) keep the value a gather may be reading
                data = null;
            }
            whoHas = now;
            nbytes = size;
            status = FINISHED;
        } finally {
            lock.unlock();
        }
        done.complete(null);
    }

    void erred(byte[] exception, String summaryText, String cause) {
        ReentrantLock lock = lock();
        lock.lock();
        try {
            // a finished key whose value is not here can only be fetched; once it errs (scattered data
            // lost with its workers) there is nothing left to fetch, so waiting for it would hang
            if (!status.equals(PENDING) && !(status.equals(FINISHED) && data == null)) {
                return;
            }
            exceptionBytes = exception;
            summary = summaryText;
            causeKey = cause;
            status = ERROR;
        } finally {
            lock.unlock();
        }
        done.complete(null);
    }

    /** Returns true when this call moved the key to cancelled. */
    boolean cancelled(String why) {
        return cancel(why, false);
    }

    /**
     * Cancelled whatever the key was, erred and lost included, as dask's FutureState.cancel: for a
     * restart, a cancel the scheduler reports, or this client's {@code cancel} of futures
     * (test_failed_workers.py::test_restart cancels an erred future). Returns true when this call
     * moved the key to cancelled.
     */
    boolean cancelledFromAnyState(String why) {
        return cancel(why, true);
    }

    /** Moves the key to cancelled: from pending or finished, or from any state but cancelled when {@code anyState}. */
    private boolean cancel(String why, boolean anyState) {
        ReentrantLock lock = lock();
        lock.lock();
        try {
            String s = status;
            if (s.equals(CANCELLED) || (!anyState && !s.equals(PENDING) && !s.equals(FINISHED))) {
                return false;
            }
            reason = why;
            data = null;
            status = CANCELLED;
        } finally {
            lock.unlock();
        }
        done.complete(null);
        return true;
    }

    /** The last Future for a key still pending let go of it: nothing will complete it, so it ends here. */
    void abandoned(String why) {
        ReentrantLock lock = lock();
        lock.lock();
        try {
            if (!status.equals(PENDING)) {
                return;
            }
            reason = why;
            status = CANCELLED;
        } finally {
            lock.unlock();
        }
        done.complete(null);
    }

    /**
     * The scheduler refused the update that asked for this key, or never heard of it: fails with
     * {@code why}. A new submission of the key gets a state of its own, so it is tried again.
     */
    boolean refused(String why) {
        ReentrantLock lock = lock();
        lock.lock();
        try {
            if (!status.equals(PENDING)) {
                return false;
            }
            summary = why;
            reason = why;
            failure = new IllegalStateException(why);
            shareable = false;
            status = ERROR;
        } finally {
            lock.unlock();
        }
        done.complete(null);
        return true;
    }

    /** Every copy of the key's data is gone and no recipe to make it again is left: lost, saying why. */
    boolean dataLost(String why) {
        ReentrantLock lock = lock();
        lock.lock();
        try {
            String s = status;
            if (!s.equals(PENDING) && !s.equals(FINISHED)) {
                return false;
            }
            reason = why;
            data = null;
            failure = new IllegalStateException(why);
            status = LOST;
        } finally {
            lock.unlock();
        }
        done.complete(null);
        return true;
    }

    /** The connection to the scheduler ended before the key finished. */
    void lost(Throwable cause, String why) {
        ReentrantLock lock = lock();
        lock.lock();
        try {
            if (!status.equals(PENDING)) {
                return;
            }
            reason = why;
            failure = new IllegalStateException(why, cause);
            status = LOST;
        } finally {
            lock.unlock();
        }
        done.complete(null);
    }

    @Override
    public String toString() {
        return key + " (" + status + ")";
    }
}
