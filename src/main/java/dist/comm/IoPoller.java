package dist.comm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;

/**
 * One platform thread that waits, for the virtual threads of the process, until non-blocking
 * channels can be read or written. Before JDK 25 a virtual thread inside {@link Selector#select}
 * holds its carrier thread, so a process with hundreds of waiting readers would run out of carriers;
 * here they park instead, and this thread unparks them. Platform threads wait on selectors of their own.
 *
 * <pre>{@code
 * if (channel.read(buf) == 0) IoPoller.get().await(channel, SelectionKey.OP_READ, 0);
 * }</pre>
 */
final class IoPoller {

    private static final class Holder {
        static final IoPoller INSTANCE = new IoPoller();
    }

    /** A thread waiting for one operation on one channel, or (op 0) a request to wake all waiters of a channel. */
    private static final class Waiter {
        final SelectableChannel channel;
        final int op;
        final Thread thread = Thread.currentThread();
        volatile boolean fired;

        Waiter(SelectableChannel channel, int op) {
            this.channel = channel;
            this.op = op;
        }

        void fire() {
            fired = true;
            LockSupport.unpark(thread);
        }
    }

    /** Who waits on a registered channel; touched by the poller thread only. */
    private static final class Slots {
        Waiter read;
        Waiter write;
    }

    private final Selector selector;
    private final ConcurrentLinkedQueue<Waiter> requests = new ConcurrentLinkedQueue<>();

    private IoPoller() {
        try {
            selector = Selector.open();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the selector for waiting sockets", e);
        }
        Thread.ofPlatform().daemon(true).name("dist-comm-poller").start(this::run);
    }

    static IoPoller get() {
        return Holder.INSTANCE;
    }

    /**
     * Parks the caller until {@code channel} is ready for {@code op} (OP_READ or OP_WRITE), it is closed
     * (and {@link #wake} called), or {@code timeoutNanos} passed (0: no timeout). True unless timed out;
     * readiness may be spurious: the caller tries its operation again.
     */
    boolean await(SelectableChannel channel, int op, long timeoutNanos) {
        Waiter w = new Waiter(channel, op);
        requests.add(w);
        selector.wakeup();
        long deadline = System.nanoTime() + timeoutNanos;
        while (!w.fired) {
            if (!channel.isOpen()) {
                return true; // the caller's next operation reports the close
            }
            if (timeoutNanos > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                LockSupport.parkNanos(this, left);
            } else {
                LockSupport.park(this);
            }
        }
        return true;
    }

    /** Wakes whoever waits on {@code channel} (call after closing it; its key is then let go). */
    void wake(SelectableChannel channel) {
        requests.add(new Waiter(channel, 0));
        selector.wakeup();
    }

    private void run() {
        while (true) {
            try {
                selector.select(this::ready, 0);
                Waiter w;
                while ((w = requests.poll()) != null) {
                    take(w);
                }
            } catch (IOException | RuntimeException e) {
                // a broken selector strands every virtual waiter: say so, keep going
                Connection.LOG.log(System.Logger.Level.ERROR, "the socket poller failed; carrying on", e);
            }
        }
    }

    private void ready(SelectionKey key) {
        Slots s = (Slots) key.attachment();
        int ready;
        try {
            ready = key.readyOps();
        } catch (CancelledKeyException e) {
            ready = SelectionKey.OP_READ | SelectionKey.OP_WRITE;
        }
        if ((ready & SelectionKey.OP_READ) != 0 && s.read != null) {
            s.read.fire();
            s.read = null;
        }
        if ((ready & SelectionKey.OP_WRITE) != 0 && s.write != null) {
            s.write.fire();
            s.write = null;
        }
        interest(key, s);
    }

    private void take(Waiter w) {
        SelectionKey key = w.channel.keyFor(selector);
        if (w.op == 0) {
            if (key != null) {
                Slots s = (Slots) key.attachment();
                fireAll(s);
                key.cancel();
            }
            return;
        }
        try {
            if (key == null || !key.isValid()) {
                key = w.channel.register(selector, 0, key == null ? new Slots() : key.attachment());
            }
            Slots s = (Slots) key.attachment();
            if (w.op == SelectionKey.OP_READ) {
                s.read = w;
            } else {
                s.write = w;
            }
            interest(key, s);
        } catch (ClosedChannelException | CancelledKeyException | IllegalArgumentException e) {
            w.fire(); // closed meanwhile: the waiter finds out for itself
        }
    }

    private static void interest(SelectionKey key, Slots s) {
        try {
            key.interestOps((s.read != null ? SelectionKey.OP_READ : 0) | (s.write != null ? SelectionKey.OP_WRITE : 0));
        } catch (CancelledKeyException e) {
            fireAll(s);
        }
    }

    private static void fireAll(Slots s) {
        if (s.read != null) {
            s.read.fire();
            s.read = null;
        }
        if (s.write != null) {
            s.write.fire();
            s.write = null;
        }
    }
}
