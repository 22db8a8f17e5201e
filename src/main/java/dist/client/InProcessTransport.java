package dist.client;

import dist.comm.ConnectionClosedException;
import dist.comm.Peer;
import dist.protocol.Message;
import dist.protocol.Role;
import dist.scheduler.SchedulerServer;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A client's link to a scheduler in the same process ({@link dist.LocalCluster#client()}): messages pass as
 * objects, with no socket and no encoding. Toward the scheduler one thread hands messages over in
 * order, as a connection's reader does: the scheduler's handling never runs on a caller's thread, whose
 * interrupt would close the worker sockets it writes to. Toward the client, the scheduler's thread that
 * sends delivers at once: the client only records what a message says and completes futures (its
 * callbacks and the futures it hands out complete on threads of their own), and a hand-over there
 * cost a thread wake-up on every result. Internal: public for {@code LocalCluster} only.
 */
public final class InProcessTransport implements Transport {
    private static final System.Logger LOG = System.getLogger("dist.client");
    private static final Runnable STOP = () -> { };

    private final String address;
    private final Inbox inbox;
    private final SchedulerServer.Inlet inlet;
    private final LinkedBlockingQueue<Runnable> toScheduler = new LinkedBlockingQueue<>();
    private final Map<Long, CompletableFuture<Message>> pending = new ConcurrentHashMap<>();
    private final AtomicLong nextRequestId = new AtomicLong();
    private final AtomicBoolean open = new AtomicBoolean(true);

    /** Links to {@code scheduler}, whatever address the client names. */
    public static Connector to(SchedulerServer scheduler) {
        return (address, inbox) -> new InProcessTransport(scheduler, address, inbox);
    }

    private InProcessTransport(SchedulerServer scheduler, String address, Inbox inbox) throws IOException {
        this.address = address;
        this.inbox = inbox;
        this.inlet = scheduler.attach(toClient);
        // a platform thread: one wakes in one step, where a virtual one needs the poller and a carrier
        Thread.ofPlatform().daemon().name("dist-local-to-scheduler").start(() -> run(toScheduler));
    }

    /** The client as the scheduler sees it. */
    private final Peer toClient = new Peer() {
        @Override
        public void send(Message message) {
            checkOpen();
            try {
                inbox.onMessage(message);
            } catch (RuntimeException e) { // the client's trouble, not the scheduler's
                LOG.log(System.Logger.Level.WARNING, "the client in this process failed on "
                        + message.getClass().getSimpleName(), e);
            }
        }

        @Override
        public void reply(long requestId, Message message) {
            checkOpen();
            CompletableFuture<Message> f = pending.remove(requestId);
            if (f != null) {
                f.complete(message);
            }
        }

        @Override
        public Role peerRole() {
            return Role.CLIENT;
        }

        @Override
        public boolean isOpen() {
            return open.get();
        }

        @Override
        public void close() { // the scheduler closed
            end();
        }
    };

    @Override
    public void send(Message message) {
        checkOpen();
        toScheduler.add(() -> inlet.accept(message, 0));
    }

    @Override
    public CompletableFuture<Message> request(Message message, Duration timeout) {
        long id = nextRequestId.incrementAndGet();
        CompletableFuture<Message> f = new CompletableFuture<>();
        pending.put(id, f);
        if (!open.get()) { // as over a connection: a failed future, not a throw
            pending.remove(id);
            return CompletableFuture.failedFuture(closed());
        }
        f.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).whenComplete((m, e) -> pending.remove(id));
        toScheduler.add(() -> inlet.accept(message, id));
        return f.exceptionallyCompose(e -> CompletableFuture.failedFuture(e instanceof TimeoutException
                ? new TimeoutException("no reply from the scheduler at " + address + " to "
                        + message.getClass().getSimpleName() + " within " + timeout.toMillis() + " ms")
                : e));
    }

    @Override
    public void close() {
        if (open.get()) {
            toScheduler.add(inlet::close); // after what was sent before, as a socket's end of stream
        }
        end();
    }

    /**
     * Stops the thread toward the scheduler after what is queued; the client hears of a clean close, as
     * at a socket's end, on a thread of its own (never the scheduler's, nor a closing caller's).
     */
    private void end() {
        if (!open.compareAndSet(true, false)) {
            return;
        }
        toScheduler.add(STOP);
        Thread.ofVirtual().name("dist-local-close").start(() -> {
            ConnectionClosedException closed = closed();
            pending.values().forEach(f -> f.completeExceptionally(closed));
            pending.clear();
            inbox.onClose(null);
        });
    }

    private void checkOpen() {
        if (!open.get()) {
            throw closed();
        }
    }

    private ConnectionClosedException closed() {
        return new ConnectionClosedException("the link to the scheduler at " + address + " is closed");
    }

    private static void run(LinkedBlockingQueue<Runnable> queue) {
        try {
            while (true) {
                Runnable r = queue.take();
                if (r == STOP) {
                    return;
                }
                try {
                    r.run();
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "a message between a client and its scheduler in this"
                            + " process failed", e);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
