package dist;

import dist.client.SharedOps;
import dist.protocol.Message;

import java.util.AbstractQueue;
import java.util.Collection;
import java.util.Iterator;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A FIFO queue on the scheduler, shared by every client and task that names it (dask's
 * {@code Queue}), as a {@link BlockingQueue}. Items are any values the client can serialize,
 * futures too: the scheduler keeps a queued future's data alive, and the taker gets a future of its
 * own client. Made by {@link Client#queue(String, int)}:
 *
 * <pre>{@code
 * BlockingQueue<Integer> q = client.queue("jobs", 100);
 * q.put(1);                                              // waits while 100 items are queued
 * Integer next = q.poll(5, TimeUnit.SECONDS);            // null when none came within 5 s
 * }</pre>
 *
 * <p>Each call is a request to the scheduler. What needs the live contents ({@link #iterator()},
 * {@link #peek()}, {@link #contains}, {@link #remove(Object)}, {@link #toArray()}) throws
 * {@link UnsupportedOperationException}: other clients change them at any moment, and a look
 * without a take could hand one item to two readers. An empty queue nobody waits on is forgotten
 * by the scheduler, so its {@code maxSize} is that of whoever uses it next. The queue's contents
 * live on the scheduler only: they are lost if it restarts. An interrupted put or take tells the
 * scheduler to stop waiting; if the scheduler answered at that very moment, a take's item is lost
 * and a put's item is queued though the put threw InterruptedException.
 */
public final class SharedQueue<T> extends AbstractQueue<T> implements BlockingQueue<T> {
    private static final String WHY = "a distributed queue's contents change under other clients at any moment;"
            + " take items with poll/take/drainTo";

    private final Client client;
    private final SharedOps ops;
    private final String name;
    private final int maxSize;

    SharedQueue(Client client, SharedOps ops, String name, int maxSize) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("a queue needs a non-empty name");
        }
        if (maxSize < 0) {
            throw new IllegalArgumentException("queue '" + name + "': maxSize must be 0 (unbounded) or more, got " + maxSize);
        }
        this.client = client;
        this.ops = ops;
        this.name = name;
        this.maxSize = maxSize;
    }

    /** The queue's name. */
    public String name() {
        return name;
    }

    /** The bound this handle makes the queue with; 0: up to {@code distributed.scheduler.queue-max-items}. */
    public int maxSize() {
        return maxSize;
    }

    @Override
    public void put(T item) throws InterruptedException {
        if (!offer(item, Long.MAX_VALUE, TimeUnit.NANOSECONDS)) {
            throw new IllegalStateException("queue '" + name + "' refused an item");
        }
    }

    @Override
    public boolean offer(T item) {
        try {
            return offer(item, 0, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            throw Calls.interrupted("SharedQueue.offer on '" + name + "'", e);
        }
    }

    @Override
    public boolean offer(T item, long timeout, TimeUnit unit) throws InterruptedException {
        Objects.requireNonNull(item, "a queue holds no null items");
        SharedOps.Wire w = ops.encode(item);
        long waitId = ops.nextWaitId();
        long nanos = unit.toNanos(timeout);
        Message m;
        try {
            m = waiting("SharedQueue.put on '" + name + "'", waitId, () -> ops.await(
                    ms -> new Message.QueuePut(name, maxSize, w.bytes(), w.keys(), ms, waitId), nanos,
                    r -> r instanceof Message.SharedTimedOut));
        } finally {
            // the item's futures keep their keys until the queue holds them: collected earlier, their
            // release could reach the scheduler first and the put would name forgotten keys
            java.lang.ref.Reference.reachabilityFence(item);
        }
        return m instanceof Message.Ack;
    }

    @Override
    public T take() throws InterruptedException {
        return poll(Long.MAX_VALUE, TimeUnit.NANOSECONDS);
    }

    @Override
    public T poll() {
        try {
            return poll(0, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            throw Calls.interrupted("SharedQueue.poll on '" + name + "'", e);
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public T poll(long timeout, TimeUnit unit) throws InterruptedException {
        long waitId = ops.nextWaitId();
        long nanos = unit.toNanos(timeout);
        Message m = waiting("SharedQueue.take on '" + name + "'", waitId, () -> ops.await(
                ms -> new Message.QueueTake(name, maxSize, ms, waitId), nanos, r -> r instanceof Message.SharedTimedOut));
        return m instanceof Message.SharedValue v ? (T) ops.decode(v) : null;
    }

    @Override
    public int size() {
        Message m = Calls.call(client.link, "SharedQueue.size of '" + name + "'", null, Calls.REQUEST_TIMEOUT,
                () -> ops.ask(new Message.QueueSizeRequest(name)));
        return (int) ((Message.SharedCount) m).count();
    }

    /** Room left: the bound less the items queued now (an unbounded queue: {@link Integer#MAX_VALUE}). */
    @Override
    public int remainingCapacity() {
        return maxSize == 0 ? Integer.MAX_VALUE : Math.max(0, maxSize - size());
    }

    @Override
    public int drainTo(Collection<? super T> c) {
        return drainTo(c, Integer.MAX_VALUE);
    }

    @Override
    @SuppressWarnings("unchecked")
    public int drainTo(Collection<? super T> c, int maxElements) {
        Objects.requireNonNull(c, "collection");
        if (c == this) {
            throw new IllegalArgumentException("a queue cannot drain into itself");
        }
        if (maxElements <= 0) {
            return 0;
        }
        Message m = Calls.call(client.link, "SharedQueue.drainTo of '" + name + "'", null, Calls.REQUEST_TIMEOUT,
                () -> ops.ask(new Message.QueueDrain(name, maxElements)));
        int n = 0;
        for (Message.SharedValue v : ((Message.SharedValues) m).values()) {
            c.add((T) ops.decode(v));
            n++;
        }
        return n;
    }

    /** Unsupported: see the class comment. */
    @Override
    public T peek() {
        throw new UnsupportedOperationException("peek: " + WHY);
    }

    /** Unsupported: see the class comment. */
    @Override
    public Iterator<T> iterator() {
        throw new UnsupportedOperationException("iterator: " + WHY);
    }

    @Override
    public boolean contains(Object o) {
        throw new UnsupportedOperationException("contains: " + WHY);
    }

    @Override
    public boolean remove(Object o) {
        throw new UnsupportedOperationException("remove(Object): " + WHY);
    }

    @Override
    public boolean removeAll(Collection<?> c) {
        throw new UnsupportedOperationException("removeAll: " + WHY);
    }

    @Override
    public boolean retainAll(Collection<?> c) {
        throw new UnsupportedOperationException("retainAll: " + WHY);
    }

    @Override
    public Object[] toArray() {
        throw new UnsupportedOperationException("toArray: " + WHY);
    }

    @Override
    public <A> A[] toArray(A[] a) {
        throw new UnsupportedOperationException("toArray: " + WHY);
    }

    @Override
    public boolean isEmpty() {
        return size() == 0;
    }

    /** Takes every item now queued and lets it go. */
    @Override
    public void clear() {
        drainTo(new java.util.ArrayList<>());
    }

    @Override
    public String toString() {
        return "SharedQueue[" + name + (maxSize == 0 ? "" : ", maxSize " + maxSize) + "]";
    }

    /** A wait; interrupted, it tells the scheduler to stop waiting for this caller. */
    private Message waiting(String operation, long waitId, Calls.Op<Message> op) throws InterruptedException {
        try {
            return op.run();
        } catch (InterruptedException e) {
            try {
                ops.tell(new Message.SharedCancelWait(name, waitId));
            } catch (RuntimeException ignored) {
                // the scheduler is gone: it forgets this client's waits with its connection
            }
            throw e;
        } catch (TimeoutException e) {
            throw new DistTimeoutException(operation, null, Calls.REQUEST_TIMEOUT, e.getMessage(), e);
        } catch (ExecutionException e) {
            throw Calls.failed(client.link, operation, e);
        }
    }
}
