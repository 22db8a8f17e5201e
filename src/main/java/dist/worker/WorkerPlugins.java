package dist.worker;

import dist.protocol.Message;
import dist.serial.Serializer;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The plugins a worker runs ({@link WorkerHooks}), each on a virtual thread of its own that takes
 * its calls from its own queue in order: decoding it (its classes may have to be fetched from its
 * client), setup, transitions, teardown. The state machine only offers transitions to those
 * queues, never waits on a plugin: a plugin that blocks holds up its own queue, and past
 * {@link #MAX_QUEUED} waiting transitions further ones are dropped for it (counted, logged). What a
 * plugin throws is caught, logged and, from setup or teardown, sent to the scheduler with
 * {@link Message.PluginDone}; the worker carries on.
 */
final class WorkerPlugins {
    private static final System.Logger LOG = System.getLogger("dist.worker.plugins");
    /** Transitions waiting for one plugin before more are dropped for it. */
    static final int MAX_QUEUED = 100_000;
    /** How long a replacement waits for the plugin it replaces to tear down, and close for all. */
    static final long TEARDOWN_MILLIS = 10_000;

    private record Transition(String key, String from, String to) {}

    private record Stop(long seq) {}

    private final Serializer serializer;
    private final Function<String, ClassLoader> loaders;
    private final Function<String, WorkerContext> contexts;
    private final Consumer<Message> toScheduler;
    private final ReentrantLock lock = new ReentrantLock();
    private final Map<String, Runner> byName = new LinkedHashMap<>();
    private volatile boolean watching;
    /** Set once the worker closes: plugins that arrive later are not set up. */
    private boolean closed;

    WorkerPlugins(Serializer serializer, Function<String, ClassLoader> loaders,
                  Function<String, WorkerContext> contexts, Consumer<Message> toScheduler) {
        this.serializer = serializer;
        this.loaders = loaders;
        this.contexts = contexts;
        this.toScheduler = toScheduler;
    }

    /** Whether any plugin runs: only then does the state machine record transitions. */
    boolean watching() {
        return watching;
    }

    /** Sets a plugin up (after tearing down one of the same name); on the reader thread, returns at once. */
    void setup(Message.SetupPlugin s) {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            Runner old = byName.get(s.name());
            if (s.seq() == 0 && old != null && java.util.Arrays.equals(old.setup.plugin(), s.plugin())
                    && java.util.Objects.equals(old.setup.clientId(), s.clientId())) {
                return; // sent again as this worker registered again: it runs already
            }
            Runner r = new Runner(s, old);
            byName.put(s.name(), r);
            if (old != null) {
                old.queue.add(new Stop(0));
            }
            watching = true;
            Thread.ofVirtual().name("dist-worker-plugin-" + s.name()).start(r::run);
        } finally {
            lock.unlock();
        }
    }

    /** Tears a plugin down and drops it; answers {@code seq} when done (at once when there is none). */
    void teardown(Message.TeardownPlugin t) {
        Runner r;
        lock.lock();
        try {
            r = byName.remove(t.name());
            watching = !byName.isEmpty();
        } finally {
            lock.unlock();
        }
        if (r == null) {
            done(t.name(), t.seq(), null);
        } else {
            r.queue.add(new Stop(t.seq()));
        }
    }

    /** Offers the transitions of one batch to every plugin; never blocks. */
    void transitions(List<String[]> moves) {
        List<Runner> runners;
        lock.lock();
        try {
            runners = List.copyOf(byName.values());
        } finally {
            lock.unlock();
        }
        for (Runner r : runners) {
            for (String[] m : moves) {
                if (r.queue.size() >= MAX_QUEUED) {
                    long n = r.dropped.incrementAndGet();
                    if (n == 1 || n % 10_000 == 0) {
                        LOG.log(Level.WARNING, "plugin " + r.name + " falls behind: " + n + " transitions dropped");
                    }
                    continue;
                }
                r.queue.add(new Transition(m[0], m[1], m[2]));
            }
        }
    }

    /** The names of the plugins set up or being set up (for tests and diagnostics). */
    List<String> names() {
        lock.lock();
        try {
            return List.copyOf(byName.keySet());
        } finally {
            lock.unlock();
        }
    }

    /** The worker closes: every plugin is torn down, waiting a bounded time for them all. */
    void close() {
        List<Runner> runners;
        lock.lock();
        try {
            closed = true;
            runners = new ArrayList<>(byName.values());
            byName.clear();
            watching = false;
        } finally {
            lock.unlock();
        }
        for (Runner r : runners) {
            r.queue.add(new Stop(0));
        }
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TEARDOWN_MILLIS);
        for (Runner r : runners) {
            try {
                if (!r.finished.await(Math.max(0, end - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    LOG.log(Level.WARNING, "plugin " + r.name + " did not tear down within " + TEARDOWN_MILLIS + " ms");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void done(String name, long seq, Throwable error) {
        byte[] bytes = error == null ? null : TaskErrors.encode(serializer, error);
        String summary = error == null ? null : TaskErrors.summary(error);
        try {
            toScheduler.accept(new Message.PluginDone(name, seq, bytes, summary));
        } catch (RuntimeException e) {
            LOG.log(Level.DEBUG, "could not report plugin " + name + ": " + e);
        }
    }

    /** One plugin: its queue and the thread that drains it. */
    private final class Runner {
        final String name;
        final Message.SetupPlugin setup;
        final Runner previous;
        final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
        final CountDownLatch finished = new CountDownLatch(1);
        final AtomicLong dropped = new AtomicLong();

        Runner(Message.SetupPlugin setup, Runner previous) {
            this.name = setup.name();
            this.setup = setup;
            this.previous = previous;
        }

        void run() {
            try {
                if (previous != null && !previous.finished.await(TEARDOWN_MILLIS, TimeUnit.MILLISECONDS)) {
                    LOG.log(Level.WARNING, "plugin " + name + " replaces one that did not tear down within "
                            + TEARDOWN_MILLIS + " ms");
                }
                ClassLoader loader = loaders.apply(setup.clientId());
                Thread.currentThread().setContextClassLoader(loader);
                WorkerContext context = contexts.apply(setup.clientId());
                WorkerHooks plugin;
                try {
                    Object o = serializer.decode(setup.plugin(), null, loader, null);
                    if (!(o instanceof WorkerHooks h)) {
                        throw new IllegalArgumentException("plugin " + name + " decoded as a "
                                + (o == null ? "null" : o.getClass().getName()) + ", not a worker plugin");
                    }
                    plugin = h;
                    plugin.setup(context);
                } catch (Throwable t) {
                    if (t instanceof Error e && TaskErrors.fatal(e)) {
                        throw e;
                    }
                    LOG.log(Level.WARNING, "plugin " + name + " failed to set up; the worker carries on", t);
                    forget();
                    done(name, setup.seq(), t);
                    return;
                }
                done(name, setup.seq(), null);
                while (true) {
                    Object next = queue.take();
                    if (next instanceof Transition m) {
                        try {
                            plugin.transition(m.key(), m.from(), m.to());
                        } catch (Throwable t) {
                            if (t instanceof Error e && TaskErrors.fatal(e)) {
                                throw e;
                            }
                            LOG.log(Level.WARNING, "plugin " + name + " threw on transition " + m.key() + " "
                                    + m.from() + " -> " + m.to() + "; the worker carries on", t);
                        }
                    } else if (next instanceof Stop s) {
                        Throwable failed = null;
                        try {
                            plugin.teardown(context);
                        } catch (Throwable t) {
                            if (t instanceof Error e && TaskErrors.fatal(e)) {
                                throw e;
                            }
                            failed = t;
                            LOG.log(Level.WARNING, "plugin " + name + " failed to tear down", t);
                        }
                        if (s.seq() != 0) {
                            done(name, s.seq(), failed);
                        }
                        return;
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                finished.countDown();
            }
        }

        /** A plugin that did not set up is no longer counted as running. */
        private void forget() {
            lock.lock();
            try {
                byName.remove(name, this);
                watching = !byName.isEmpty();
            } finally {
                lock.unlock();
            }
        }
    }
}
