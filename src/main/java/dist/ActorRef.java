package dist;

import dist.client.ActorLink;

import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An object living on one worker, as dask's actors: {@link Client#actor(Fn0)} places it and
 * {@link #call(Fn1)} runs a function of it there. Calls go from the caller straight to the
 * actor's worker, never through the scheduler; a caller's calls run in the order it made them, one
 * at a time per actor (unless the actor is {@linkplain ActorOptions#concurrent(boolean) concurrent}).
 * Each call gives a {@link Future}: {@code result()} or gather it like any other.
 *
 * <pre>{@code
 * ActorRef<Counter> counter = client.actor(Counter::new);
 * Future<Integer> f = counter.call(c -> c.add(5));
 * int n = f.result();                                 // 5
 * counter.release();                                  // its worker drops it
 * }</pre>
 *
 * <p>A ref passed to a task as an argument works there too, through the worker's client. The actor
 * is dropped when the ref its client made is {@linkplain #release() released}, collected, or its
 * client closes. When its worker dies, calls under way and later calls fail with an
 * {@link ActorLostException} naming the actor and the worker, unless {@link ActorOptions#restarts}
 * allows building it again elsewhere (its state is then lost: the constructor runs anew).
 *
 * @param <T> the actor's type
 */
public final class ActorRef<T> {
    private static final Cleaner CLEANER = Cleaner.create();

    private String id;
    private String name;
    /** Null in a copy passed to a task: it finds its worker's client when first used. */
    private transient ActorLink link;
    private transient Cleaner.Cleanable cleanable;

    ActorRef(String id, String name, ActorLink link) {
        this.id = id;
        this.name = name;
        this.link = link;
        // the serializer builds a task's copy through this constructor with nulls: only the client's ref owns the actor
        this.cleanable = link == null ? null : CLEANER.register(this, new Releaser(link, id));
    }

    private static final class Releaser implements Runnable {
        private final ActorLink link;
        private final String id;
        private final AtomicBoolean done = new AtomicBoolean();

        Releaser(ActorLink link, String id) {
            this.link = link;
            this.id = id;
        }

        @Override
        public void run() {
            if (done.compareAndSet(false, true)) {
                link.release(id);
            }
        }
    }

    /**
     * Runs {@code method} on the actor, on its worker, and returns its result as a Future.
     *
     * <pre>{@code
     * Future<Integer> f = counter.call(c -> c.add(5));
     * }</pre>
     *
     * <p>The Future fails with the method's own exception (as a task's) or with an
     * {@link ActorLostException} when the actor's worker died or the actor was released.
     */
    public <R> Future<R> call(Fn1<? super T, ? extends R> method) {
        if (method == null) {
            throw new IllegalArgumentException("ActorRef.call needs a function of the actor, got null");
        }
        @SuppressWarnings("unchecked")
        Future<R> f = (Future<R>) link().call(id, name, method);
        return f;
    }

    /** {@link #call(Fn1)} waiting for its result: {@code int n = counter.callSync(c -> c.add(1));} */
    public <R> R callSync(Fn1<? super T, ? extends R> method) {
        Future<R> f = call(method);
        return f.result();
    }

    /** The actor's id, unique in the cluster, e.g. {@code Counter-5f0c...}. */
    public String id() {
        return id;
    }

    /** The actor's name, for errors and logs. */
    public String name() {
        return name;
    }

    /**
     * The worker holding the actor now (asking the scheduler when this ref does not know).
     *
     * @throws ActorLostException when the actor is gone
     */
    public String worker() {
        try {
            return link().locate(id);
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable c = e.getCause() == null ? e : e.getCause();
            throw new ActorLostException(c.getMessage(), c);
        } catch (InterruptedException e) {
            throw Calls.interrupted("the worker of actor " + name, e);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new DistTimeoutException("finding the worker of actor " + name, null, Calls.REQUEST_TIMEOUT, e.getMessage(), e);
        }
    }

    /** Lets the actor go: its worker drops it. Idempotent; only the client that made the actor can. */
    public void release() {
        if (cleanable != null) {
            cleanable.clean();
        }
    }

    private ActorLink link() {
        ActorLink l = link;
        if (l == null) {
            l = WorkerClient.get().actors();
            link = l;
        }
        return l;
    }

    @Override
    public String toString() {
        return "ActorRef[" + name + " " + id + "]";
    }
}
