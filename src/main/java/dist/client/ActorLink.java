package dist.client;

import dist.ActorLostException;
import dist.Future;
import dist.Options;
import dist.protocol.Invokable;
import dist.protocol.Message;
import dist.protocol.Message.ActorCall;
import dist.protocol.Message.ActorPlaced;
import dist.protocol.Message.CreateActor;
import dist.protocol.Message.RunReply;
import dist.protocol.Message.WhereActor;
import dist.protocol.TaskCall;

import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A client's side of actors: asks the scheduler to place them and where they are, and sends calls
 * straight to the worker holding each (one connection per worker keeps a caller's order). A call's
 * result comes back in the answer and completes a Future held here, which the scheduler never
 * hears of. Internal: public so {@code dist.ActorRef} can use it.
 */
public final class ActorLink {
    private final ClientCore core;
    private final FutureAccess futures;
    /** Where each actor was last seen; dropped when a call there fails, so the next one asks again. */
    private final ConcurrentHashMap<String, String> where = new ConcurrentHashMap<>();
    private final AtomicLong calls = new AtomicLong();

    /** The actors this client made and still holds, as created: told again to a scheduler that came back. */
    private final ConcurrentHashMap<String, CreateActor> owned = new ConcurrentHashMap<>();
    /** The worker each owned actor was last known on, kept while {@link #where} is dropped. */
    private final ConcurrentHashMap<String, String> lastSeen = new ConcurrentHashMap<>();

    public ActorLink(ClientCore core, FutureAccess futures) {
        this.core = core;
        this.futures = futures;
        core.onRelink(this::registerAgain);
    }

    /** A scheduler that came back knows no actor: tell it where each of ours lives. */
    private void registerAgain() {
        for (CreateActor c : owned.values()) {
            String at = lastSeen.get(c.actorId());
            try {
                core.request(new CreateActor(c.actorId(), c.name(), c.constructor(), c.workers(), c.allowOtherWorkers(),
                        c.resources(), c.restarts(), c.concurrent(), at));
            } catch (Exception e) {
                System.getLogger(ActorLink.class.getName()).log(System.Logger.Level.INFO,
                        "actor " + c.name() + " was not registered again with the scheduler: " + e);
            }
        }
    }

    /** Places an actor built by {@code constructor(args)}; returns its id. */
    public String create(String name, Invokable constructor, List<Object> args, Options options, int restarts,
                         boolean concurrent) throws InterruptedException, ExecutionException, TimeoutException {
        String id = name + "-" + UUID.randomUUID();
        byte[] ctor = core.encodeValue(new TaskCall(constructor, List.copyOf(args)));
        CreateActor create = new CreateActor(id, name, ctor, options.workers(), options.allowsOtherWorkers(),
                options.resources(), restarts, concurrent, null);
        Message m = core.request(create);
        if (!(m instanceof ActorPlaced p)) {
            throw new ExecutionException(new IllegalStateException("the scheduler answered " + m + " to CreateActor"));
        }
        owned.put(id, create);
        lastSeen.put(id, p.worker());
        try {
            learn(id, p.worker());
        } catch (ExecutionException | TimeoutException e) {
            // its worker cannot be reached now: the first call asks where the actor is and says why
        }
        return id;
    }

    /** The worker holding the actor now, asking the scheduler when not known. */
    public String locate(String actorId) throws InterruptedException, ExecutionException, TimeoutException {
        String w = where.get(actorId);
        if (w != null) {
            return w;
        }
        Message m = core.request(new WhereActor(actorId));
        if (!(m instanceof ActorPlaced p)) {
            throw new ExecutionException(new IllegalStateException("the scheduler answered " + m + " to WhereActor"));
        }
        learn(actorId, p.worker());
        return p.worker();
    }

    /**
     * Records where an actor is once the connection to its worker is open: calls are then sent on
     * the caller's thread in the order made, never by threads racing to open it.
     */
    private void learn(String actorId, String worker) throws InterruptedException, ExecutionException, TimeoutException {
        core.requestWorker(worker, new Message.Ping(0)).get(core.requestTimeout().toMillis() + 1000,
                java.util.concurrent.TimeUnit.MILLISECONDS);
        where.put(actorId, worker);
        lastSeen.computeIfPresent(actorId, (k, v) -> worker);
    }

    /** Runs {@code fn} on the actor; the Future completes when its worker answers. */
    public <R> Future<R> call(String actorId, String name, Invokable fn) {
        KeyState s = new KeyState(name + "-call-" + calls.incrementAndGet() + "-" + actorId.substring(name.length() + 1));
        s.local = true;
        Future<R> f = futures.make(s);
        byte[] bytes = core.encodeValue(fn);
        String worker;
        try {
            worker = locate(actorId);
        } catch (ExecutionException e) {
            Throwable c = e.getCause() == null ? e : e.getCause();
            String why = String.valueOf(c.getMessage());
            fail(s, new ActorLostException(why.contains(actorId) ? why
                    : "actor " + name + " (" + actorId + ") could not be reached: " + why, c));
            return f;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail(s, new dist.DistInterruptedException("interrupted while finding actor " + name, e));
            return f;
        } catch (TimeoutException e) {
            fail(s, new ActorLostException("finding actor " + name + " (" + actorId + ") timed out", e));
            return f;
        }
        send(s, actorId, name, worker, new ActorCall(actorId, bytes), false);
        return f;
    }

    private void send(KeyState s, String actorId, String name, String worker, ActorCall call, boolean again) {
        core.requestWorker(worker, call).whenComplete((r, e) -> settle(s, actorId, name, worker, call, again, r, e));
    }

    private void settle(KeyState s, String actorId, String name, String worker, ActorCall call, boolean again,
                        Message reply, Throwable error) {
        if (error != null) {
            where.remove(actorId, worker);
            Throwable c = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                    ? error.getCause() : error;
            if (c instanceof java.io.IOException && !again) {
                // never sent (the worker could not be reached): the actor may have been rebuilt elsewhere
                Thread.ofVirtual().name("dist-actor-relocate").start(() -> relocate(s, actorId, name, worker, call, c));
                return;
            }
            fail(s, new ActorLostException("actor " + name + " (" + actorId + ") was lost with worker " + worker
                    + " before it answered: " + c.getMessage(), c));
        } else if (reply instanceof RunReply rr && rr.exception() == null) {
            byte[] v = rr.value();
            s.finished(List.of(), v.length, v);
        } else if (reply instanceof RunReply rr) {
            s.erred(rr.exception(), rr.summary(), null);
        } else if (reply instanceof Message.ErrorReply er) {
            where.remove(actorId, worker);
            fail(s, new ActorLostException("actor " + name + " (" + actorId + "): " + er.message()));
        } else {
            fail(s, new IllegalStateException("worker " + worker + " answered " + reply + " to a call of actor " + name));
        }
    }

    /** Sends a call that never left again, to where the scheduler says the actor lives now; fails when that is nowhere new. */
    private void relocate(KeyState s, String actorId, String name, String worker, ActorCall call, Throwable cause) {
        try {
            String now = locate(actorId);
            if (!now.equals(worker)) {
                send(s, actorId, name, now, call, true);
                return;
            }
        } catch (ExecutionException e) {
            Throwable c = e.getCause() == null ? e : e.getCause();
            String why = String.valueOf(c.getMessage());
            if (why.contains(actorId)) { // the scheduler's words: lost with which worker, restarts left or not
                fail(s, new ActorLostException(why, cause));
                return;
            }
        } catch (InterruptedException | TimeoutException e) {
            // the answer below says what is known
        }
        where.remove(actorId, worker);
        fail(s, new ActorLostException("actor " + name + " (" + actorId + ") was lost with worker " + worker
                + ": " + cause.getMessage(), cause));
    }

    private static void fail(KeyState s, Throwable t) {
        s.failure(t);
        s.erred(null, t.getMessage(), null);
    }

    /** The client let go of the actor: its worker drops it. Sent without waiting. */
    public void release(String actorId) {
        where.remove(actorId);
        owned.remove(actorId);
        lastSeen.remove(actorId);
        if (core.isClosed()) {
            return; // the scheduler drops a leaving client's actors itself
        }
        Thread.ofVirtual().name("dist-actor-release").start(() -> {
            try {
                core.request(new Message.ReleaseActor(actorId));
            } catch (Exception e) {
                System.getLogger(ActorLink.class.getName()).log(System.Logger.Level.DEBUG,
                        "release of actor " + actorId + " not sent: " + e);
            }
        });
    }
}
