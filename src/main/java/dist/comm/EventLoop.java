package dist.comm;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * Runs events one batch at a time, in arrival order, on whichever submitting thread finds the loop
 * free (the others just queue and return); a backlog beyond two batches goes to a helper thread.
 * A state machine driven through it is touched by one thread at a time, as with a dedicated owner
 * thread, but an event needs no hand-off to another thread: on a lightly loaded loop the thread
 * that received a message also handles it, which saves a park and an unpark per message; under
 * load one thread drains everything queued.
 *
 * <p>What one peer can queue is bounded: a connection's reader that has more than
 * {@link #MAX_QUEUED_PER_READER} events waiting in loops stops (and so stops reading its peer) until
 * the loops have handled most of them, so a peer flooding requests holds up itself, not the events
 * of the others.
 *
 * <pre>{@code
 * EventLoop<Event> loop = new EventLoop<>(batch -> batch.forEach(state::handle), 4096);
 * loop.submit(event);   // handled now, or by the thread that is handling others
 * }</pre>
 */
public final class EventLoop<E> {
    /**
     * Batches a submitting thread handles before it hands the rest off: the second catches the event
     * that another thread queued just as the first ended (a task's result, typically), which would
     * otherwise wait for a helper thread to be scheduled.
     */
    private static final int INLINE_BATCHES = 2;
    /** Events a connection's reader may have waiting, unhandled, before it waits. */
    static final int MAX_QUEUED_PER_READER = 4096;
    /** A waiting reader goes on once no more than this many of its events wait. */
    static final int RESUME_AT = MAX_QUEUED_PER_READER / 4;
    /**
     * Wire bytes of the messages behind a reader's unhandled events before it waits: a count alone lets a
     * peer of 1 MB requests park gigabytes of decoded messages in the loop. A 32nd of the heap, 1..64 MiB.
     */
    static final long MAX_QUEUED_BYTES_PER_READER = Math.min(64L << 20,
            Math.max(1L << 20, Runtime.getRuntime().maxMemory() / 32));
    /** Longest a reader waits for the loops: past it a loop makes no progress at all, and waiting helps nobody. */
    private static final long MAX_THROTTLE_NANOS = TimeUnit.SECONDS.toNanos(60);
    private static final System.Logger LOG = System.getLogger("dist.comm");

    /** The events one thread has queued in any loop and no loop has handled yet. */
    private static final class Source {
        final Thread owner = Thread.currentThread();
        final AtomicInteger queued = new AtomicInteger();
        final java.util.concurrent.atomic.AtomicLong queuedBytes = new java.util.concurrent.atomic.AtomicLong();
        /** Wire bytes of the message this thread is handing over now; its events carry them. */
        long weight;
        volatile boolean waiting;

        boolean over() {
            return queued.get() > MAX_QUEUED_PER_READER || queuedBytes.get() > MAX_QUEUED_BYTES_PER_READER;
        }

        boolean resumable() {
            return queued.get() <= RESUME_AT && queuedBytes.get() <= MAX_QUEUED_BYTES_PER_READER / 4;
        }
    }

    private static final ThreadLocal<Source> SOURCE = ThreadLocal.withInitial(Source::new);
    /** The loops a reader queued events in while more whole messages were at hand (see {@link #deferDrains}). */
    private static final class Deferred {
        boolean on;
        /** Loops queued in since {@code on}; a reader feeds one or two. */
        final List<EventLoop<?>> loops = new ArrayList<>(2);
    }

    private static final ThreadLocal<Deferred> DEFERRED = ThreadLocal.withInitial(Deferred::new);

    private record Entry<E>(E event, Source source, long weight) {
    }

    /**
     * Says that the events the calling thread submits from now on come from a message of {@code wireBytes}
     * bytes (0 when done): a connection's reader weighs what it hands over, so that its backlog is bounded
     * in bytes too.
     */
    public static void weighSubmissions(long wireBytes) {
        SOURCE.get().weight = wireBytes;
    }

    private final ConcurrentLinkedQueue<Entry<E>> queue = new ConcurrentLinkedQueue<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Consumer<List<E>> handler;
    private final int maxBatch;
    private volatile boolean started = true;
    private final java.util.concurrent.atomic.AtomicBoolean helperRunning =
            new java.util.concurrent.atomic.AtomicBoolean();
    /** Set while the thread handles a batch of some loop: a state machine's thread, which no peer may hold up. */
    private static final ThreadLocal<Boolean> HANDLING = new ThreadLocal<>();

    /** {@code handler} gets up to {@code maxBatch} events at a time; it must not block for long. */
    public EventLoop(Consumer<List<E>> handler, int maxBatch) {
        this.handler = handler;
        this.maxBatch = maxBatch;
    }

    /** A loop that only queues until {@link #start()}: for state that is not ready yet. */
    public static <E> EventLoop<E> paused(Consumer<List<E>> handler, int maxBatch) {
        EventLoop<E> loop = new EventLoop<>(handler, maxBatch);
        loop.started = false;
        return loop;
    }

    /** Starts handling events, those queued so far first. */
    public void start() {
        started = true;
        drain();
    }

    /** Queues {@code event} and handles the queue if no other thread is doing so. */
    public void submit(E event) {
        Source s = SOURCE.get();
        long w = s.weight;
        s.weight = 0; // one message's bytes are counted once
        s.queued.incrementAndGet();
        s.queuedBytes.addAndGet(w);
        queue.add(new Entry<>(event, s, w));
        if (!deferred()) {
            drain();
            throttle(s);
        }
    }

    /** Queues all {@code events} (handled together, in order) and handles the queue if free. */
    public void submitAll(java.util.Collection<? extends E> events) {
        Source s = SOURCE.get();
        long w = s.weight;
        s.weight = 0;
        List<Entry<E>> entries = new ArrayList<>(events.size());
        for (E e : events) {
            entries.add(new Entry<>(e, s, entries.isEmpty() ? w : 0));
        }
        s.queued.addAndGet(entries.size());
        s.queuedBytes.addAndGet(w);
        queue.addAll(entries);
        if (!deferred()) {
            drain();
            throttle(s);
        }
    }

    /**
     * From now until {@link #drainDeferred()}, events the calling thread submits wait in their loops
     * instead of being handled at once. A connection's reader with more whole messages at hand defers so
     * that their events form one batch: one pass of the state machine, one write per peer for all of
     * them, where each message alone would cost a write and a wake-up of its own.
     */
    static void deferDrains() {
        DEFERRED.get().on = true;
    }

    /** Ends {@link #deferDrains()}: handles what the calling thread deferred, in every loop it queued in. */
    static void drainDeferred() {
        Deferred d = DEFERRED.get();
        if (!d.on) {
            return;
        }
        d.on = false;
        List<EventLoop<?>> loops = d.loops;
        Source s = SOURCE.get();
        // cleared before any drain: a handler may defer on this thread again
        if (loops.size() == 1) {
            EventLoop<?> only = loops.get(0);
            loops.clear();
            only.drain();
            only.throttle(s);
            return;
        }
        EventLoop<?>[] now = loops.toArray(new EventLoop<?>[0]);
        loops.clear();
        for (EventLoop<?> loop : now) {
            loop.drain();
            loop.throttle(s);
        }
    }

    /** True, and this loop noted for {@link #drainDeferred()}, while the calling thread defers. */
    private boolean deferred() {
        Deferred d = DEFERRED.get();
        if (!d.on) {
            return false;
        }
        if (!d.loops.contains(this)) {
            d.loops.add(this);
        }
        return true;
    }

    /**
     * A connection's reader with too many events waiting waits until the loops handled most of them:
     * meanwhile its peer is not read, and TCP makes the peer wait. Never a thread inside a loop.
     */
    private void throttle(Source s) {
        if (!s.over() || !started || lock.isHeldByCurrentThread()
                || HANDLING.get() != null || !Connection.readingNow()) {
            return;
        }
        long start = System.nanoTime();
        s.waiting = true;
        try {
            while (!s.resumable()) {
                if (System.nanoTime() - start > MAX_THROTTLE_NANOS) {
                    LOG.log(System.Logger.Level.WARNING, Thread.currentThread().getName() + " waited 60 s for the"
                            + " event loop to handle " + s.queued.get() + " of its events; reading on");
                    return;
                }
                LockSupport.parkNanos(this, 10_000_000L);
            }
        } finally {
            s.waiting = false;
        }
    }

    /**
     * Handles up to {@link #INLINE_BATCHES} batches on the calling thread when the loop is free, then
     * hands whatever is still queued to a helper thread: a thread that received a message never stays
     * stuck handling the others' events (its own connection would go unread meanwhile, heartbeats
     * included).
     */
    private void drain() {
        // every thread that unlocks looks at the queue again: an event is never stranded
        for (int batches = 0; started && !queue.isEmpty() && lock.tryLock(); batches++) {
            try {
                runBatch();
            } finally {
                lock.unlock();
            }
            if (batches + 1 >= INLINE_BATCHES && !queue.isEmpty()) {
                handOff();
                return;
            }
        }
    }

    private void runBatch() {
        List<Entry<E>> entries = new ArrayList<>();
        Entry<E> e;
        while (entries.size() < maxBatch && (e = queue.poll()) != null) {
            entries.add(e);
        }
        if (entries.isEmpty()) {
            return;
        }
        List<E> batch = new ArrayList<>(entries.size());
        for (Entry<E> en : entries) {
            batch.add(en.event());
        }
        boolean outer = HANDLING.get() == null;
        if (outer) {
            HANDLING.set(Boolean.TRUE);
        }
        try {
            handler.accept(batch);
        } finally {
            if (outer) {
                HANDLING.remove();
            }
            for (Entry<E> en : entries) {
                Source s = en.source();
                s.queuedBytes.addAndGet(-en.weight());
                if (s.queued.decrementAndGet() <= RESUME_AT && s.waiting && s.resumable()) {
                    LockSupport.unpark(s.owner);
                }
            }
        }
    }

    /**
     * Whether the calling thread is handling a batch of any event loop now. Such a thread drives a
     * state machine and must never wait for a peer: a connection whose peer fell behind drops the peer
     * instead of making it wait ({@link Connection}).
     *
     * <pre>{@code
     * if (!EventLoop.handlingEvents()) waitForRoom(); else dropTheSlowPeer();
     * }</pre>
     */
    public static boolean handlingEvents() {
        return HANDLING.get() != null;
    }

    private void handOff() {
        if (helperRunning.compareAndSet(false, true)) {
            Thread.ofVirtual().name("dist-event-loop").start(this::helperLoop);
        }
    }

    private void helperLoop() {
        while (true) {
            while (started && !queue.isEmpty()) {
                lock.lock();
                try {
                    runBatch();
                } finally {
                    lock.unlock();
                }
            }
            helperRunning.set(false);
            // an event queued after the last look, by a thread that saw the helper still running
            if (queue.isEmpty() || !started || !helperRunning.compareAndSet(false, true)) {
                return;
            }
        }
    }

    /** Whether the calling thread is the one handling events now. */
    public boolean inLoop() {
        return lock.isHeldByCurrentThread();
    }
}
