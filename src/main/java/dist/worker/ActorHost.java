package dist.worker;

import dist.comm.Connection;
import dist.comm.ConnectionClosedException;
import dist.protocol.Invokable;
import dist.protocol.Message;
import dist.protocol.Message.ActorCall;
import dist.protocol.Message.RunReply;
import dist.protocol.Message.StartActor;
import dist.protocol.TaskCall;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The actors this worker holds, as dask's {@code Worker.actors}: each object is built from its
 * constructor when the scheduler says so, and callers' functions run on it. Calls run on virtual
 * threads of their own, never on the worker's state machine or its I/O threads; a plain actor runs
 * one call at a time in the order they arrived (one connection keeps a caller's order), a
 * concurrent one runs them at once.
 */
final class ActorHost {
    private static final Logger LOG = System.getLogger(ActorHost.class.getName());

    private final WorkerServices worker;
    private final int maxPending;
    private final ExecutorService threads = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("dist-actor-", 0).factory());
    private final ConcurrentHashMap<String, Hosted> actors = new ConcurrentHashMap<>();
    /**
     * Calls that came before their actor's StartActor: the scheduler answers the creator and tells
     * the worker at once, so a caller can be here first. They wait {@link #START_GRACE_MILLIS} at most.
     */
    private final ConcurrentHashMap<String, ConcurrentLinkedQueue<Pending>> early = new ConcurrentHashMap<>();
    /** Actors dropped here lately, so a call for one fails at once instead of waiting for a start. */
    private final java.util.Set<String> stopped = ConcurrentHashMap.newKeySet();
    private final ConcurrentLinkedQueue<String> stoppedOrder = new ConcurrentLinkedQueue<>();
    static final long START_GRACE_MILLIS = 10_000;
    /** Orders a start against calls that came before it: each early call is handed over exactly once, in order. */
    private final java.util.concurrent.locks.ReentrantLock handover = new java.util.concurrent.locks.ReentrantLock();

    ActorHost(WorkerServices worker, int maxPending) {
        this.worker = worker;
        this.maxPending = maxPending;
    }

    /** One call waiting to run: where its answer goes. */
    private record Pending(Connection caller, long requestId, ActorCall call) {}

    /** One actor: its object (built once), and its queue when calls run one at a time. */
    private final class Hosted {
        final StartActor spec;
        final CompletableFuture<Object> instance = new CompletableFuture<>();
        final ConcurrentLinkedQueue<Pending> queue = new ConcurrentLinkedQueue<>();
        final AtomicInteger queued = new AtomicInteger();
        volatile boolean stopped;

        Hosted(StartActor spec) {
            this.spec = spec;
        }

        void submit(Pending p) {
            if (spec.concurrent()) {
                queued.incrementAndGet(); // counts calls under way, for the bound on waiting calls
                threads.execute(() -> {
                    try {
                        run(p);
                    } finally {
                        queued.decrementAndGet();
                    }
                });
                return;
            }
            queue.add(p);
            if (queued.getAndIncrement() == 0) {
                threads.execute(this::drain);
            }
        }

        /** Runs queued calls in order until none is left; only one drain runs at a time. */
        private void drain() {
            do {
                Pending p = queue.poll();
                run(p);
            } while (queued.decrementAndGet() > 0);
        }

        private void run(Pending p) {
            RunReply reply;
            try {
                if (stopped) {
                    throw new IllegalStateException(gone(spec.actorId()));
                }
                Object target = instance.join();
                Invokable fn = (Invokable) worker.serializer().decode(p.call().call(), null, worker.loader(), null);
                Object result = worker.server().runForActor(spec.actorId(), worker.loader(), () -> fn.invoke(new Object[] {target}));
                reply = new RunReply(worker.serializer().encode(result), null, null);
            } catch (Throwable t) {
                Throwable cause = t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
                if (TaskErrors.fatal(cause)) {
                    worker.fatal("running a call of actor " + spec.name(), cause);
                    return;
                }
                reply = new RunReply(null, TaskErrors.encode(worker.serializer(), cause), TaskErrors.summary(cause));
            }
            answer(p.caller(), p.requestId(), reply);
        }
    }

    /** Builds actor {@code s} on a thread of its own; calls that come first wait for it. */
    void start(StartActor s) {
        Hosted h = new Hosted(s);
        handover.lock();
        try {
            Hosted old = actors.put(s.actorId(), h);
            if (old != null) {
                old.stopped = true;
            }
            ConcurrentLinkedQueue<Pending> waiting = early.remove(s.actorId());
            if (waiting != null) {
                for (Pending p : waiting) {
                    h.submit(p);
                }
            }
        } finally {
            handover.unlock();
        }
        threads.execute(() -> {
            try {
                TaskCall ctor = (TaskCall) worker.serializer().decode(s.constructor(), null, worker.loader(), null);
                h.instance.complete(worker.server().runForActor(s.actorId(), worker.loader(),
                        () -> ctor.function().invoke(ctor.args().toArray())));
            } catch (Throwable t) {
                LOG.log(Level.WARNING, "actor " + s.name() + " (" + s.actorId() + ") could not be built: " + t);
                h.instance.completeExceptionally(t);
            }
        });
    }

    /** Drops an actor: calls still queued fail, a call running finishes. */
    void stop(String actorId) {
        if (stopped.add(actorId)) {
            stoppedOrder.add(actorId);
            while (stopped.size() > 10_000) { // bounded: the oldest are forgotten
                String old = stoppedOrder.poll();
                if (old == null) {
                    break;
                }
                stopped.remove(old);
            }
        }
        Hosted h = actors.remove(actorId);
        failEarly(actorId);
        if (h != null) {
            h.stopped = true;
            h.instance.cancel(false);
        }
    }

    /** A caller's call: queued for the actor's thread; the answer goes back from there. */
    void call(Connection caller, ActorCall call, long requestId) {
        Hosted h = actors.get(call.actorId());
        if (h == null && !stopped.contains(call.actorId())) {
            handover.lock();
            try {
                h = actors.get(call.actorId());
                if (h == null) {
                    ConcurrentLinkedQueue<Pending> q = early.get(call.actorId());
                    if (q == null) {
                        q = new ConcurrentLinkedQueue<>();
                        early.put(call.actorId(), q);
                        CompletableFuture.delayedExecutor(START_GRACE_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS)
                                .execute(() -> failEarly(call.actorId()));
                    }
                    if (q.size() < maxPending) {
                        q.add(new Pending(caller, requestId, call));
                        return;
                    }
                }
            } finally {
                handover.unlock();
            }
        }
        if (h == null) {
            answer(caller, requestId, new Message.ErrorReply(gone(call.actorId())));
            return;
        }
        if (h.queued.get() >= maxPending) {
            answer(caller, requestId, new Message.ErrorReply("actor " + h.spec.name() + " on worker " + worker.address()
                    + " has " + maxPending + " calls waiting (distributed.worker.actor-pending-calls); call again later"));
            return;
        }
        h.submit(new Pending(caller, requestId, call));
    }

    /** Calls still waiting for an actor that never started (or was stopped first) fail. */
    private void failEarly(String actorId) {
        ConcurrentLinkedQueue<Pending> q;
        handover.lock();
        try {
            q = early.remove(actorId);
        } finally {
            handover.unlock();
        }
        if (q != null) {
            for (Pending p : q) {
                answer(p.caller(), p.requestId(), new Message.ErrorReply(gone(actorId)));
            }
        }
    }

    /** How many actors live here, for tests and the worker's info. */
    int count() {
        return actors.size();
    }

    private String gone(String actorId) {
        return "worker " + worker.address() + " holds no actor " + actorId + " (released, or built again elsewhere)";
    }

    private static void answer(Connection caller, long requestId, Message reply) {
        if (requestId == 0) {
            return;
        }
        try {
            caller.reply(requestId, reply);
        } catch (ConnectionClosedException e) {
            LOG.log(Level.DEBUG, "an actor's caller left before its answer");
        }
    }

    void close() {
        for (String id : actors.keySet()) {
            stop(id);
        }
        threads.shutdownNow();
    }
}
