package dist.scheduler;

import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A policy of the scheduler's active memory manager, as dask's {@code ActiveMemoryManagerPolicy}:
 * every {@code distributed.scheduler.active-memory-manager.interval} it looks at a read-only view
 * of who holds what and suggests copies to make and copies to drop. The manager checks each
 * suggestion before it acts: it never drops the last copy of a key (nor one a task running on that
 * worker reads, nor one of the copies {@code client.replicate} asked for), never sends a copy to a
 * paused or closing worker, nor past a receiver's memory limit; a suggestion that fails a check is
 * skipped. Suggestions naming no worker let the manager choose (the receiver with the most room,
 * the holder with the most data).
 *
 * <p>Runs on the scheduler's thread: keep it quick, never block. Loaded by class name from
 * {@code distributed.scheduler.active-memory-manager.policies} (a public class with a public
 * no-argument constructor, on the scheduler's class path):
 *
 * <pre>{@code
 * public class TwoCopiesOfModels implements MemoryManagerPolicy {
 *     public List<Suggestion> suggest(View cluster) {
 *         List<Suggestion> out = new ArrayList<>();
 *         for (MemoryManagerPolicy.Key k : cluster.keys()) {
 *             if (k.key().startsWith("model-") && k.holders().size() < 2) {
 *                 out.add(Suggestion.replicate(k.key(), null));   // the manager picks the worker
 *             }
 *         }
 *         return out;
 *     }
 * }
 * // java -Ddist.scheduler.active-memory-manager.policies=ReduceReplicas,com.acme.TwoCopiesOfModels ...
 * }</pre>
 */
public interface MemoryManagerPolicy {

    /** The copies to make and drop now; empty when all is well. Called every interval. */
    List<Suggestion> suggest(View cluster);

    /** The cluster as the manager sees it at one run; valid during {@link #suggest} only. */
    interface View {
        /** The registered workers, in registration order. */
        Collection<Worker> workers();

        /** The worker at this address, or null. */
        Worker worker(String address);

        /** Every key in memory. */
        Iterable<Key> keys();

        /** The keys in memory on more than one worker. */
        Iterable<Key> replicated();

        /** The key in memory by this name, or null. */
        Key key(String key);
    }

    /**
     * A key in memory.
     *
     * @param key      its name
     * @param nbytes   its size in bytes (-1 when not known)
     * @param holders  the workers holding it, by address
     * @param waiters  how many tasks wait for it or run on it
     * @param neededOn the holders where a task reading it runs now (their copy is never dropped);
     *                 only filled for keys with more than one holder
     */
    record Key(String key, long nbytes, List<String> holders, int waiters, Set<String> neededOn) {}

    /**
     * A worker.
     *
     * @param address     where it listens
     * @param name        its name
     * @param heldBytes   the bytes of the results it holds
     * @param memoryLimit its memory limit (0: none)
     * @param capacity    the bytes it may hold before the manager sends it no more (held plus copies
     *                    on their way): its limit times the smaller of its target and pause fractions
     * @param processing  how many tasks it has been given that have not finished
     * @param status      running, paused or closing_gracefully
     */
    record Worker(String address, String name, long heldBytes, long memoryLimit, long capacity, int processing,
                  String status) {}

    /**
     * Copy {@code key} to {@code worker} ({@code replicate} true) or drop {@code worker}'s copy;
     * a null worker lets the manager choose.
     */
    record Suggestion(boolean replicate, String key, String worker) {
        public Suggestion {
            Objects.requireNonNull(key, "key");
        }

        /** Make one more copy of {@code key} on {@code worker} (null: the running worker with the most room). */
        public static Suggestion replicate(String key, String worker) {
            return new Suggestion(true, key, worker);
        }

        /** Drop one copy of {@code key}, {@code worker}'s (null: the holder holding the most). */
        public static Suggestion drop(String key, String worker) {
            return new Suggestion(false, key, worker);
        }
    }

    /**
     * Creates the policy named {@code className} through {@code loader}.
     *
     * @throws IllegalArgumentException naming the class and the fix when it is missing, not a
     *                                  policy, or has no public no-argument constructor
     */
    static MemoryManagerPolicy load(String className, ClassLoader loader) {
        String name = className == null ? "" : className.strip();
        Class<?> c;
        try {
            c = Class.forName(name, true, loader);
        } catch (ClassNotFoundException | LinkageError e) {
            throw new IllegalArgumentException("memory manager policy " + name + " cannot be loaded (" + e
                    + "); put its jar on the scheduler's class path", e);
        }
        if (!MemoryManagerPolicy.class.isAssignableFrom(c)) {
            throw new IllegalArgumentException("class " + name + " does not implement " + MemoryManagerPolicy.class.getName());
        }
        try {
            return (MemoryManagerPolicy) c.getConstructor().newInstance();
        } catch (NoSuchMethodException e) {
            throw new IllegalArgumentException("memory manager policy " + name + " needs a public no-argument constructor", e);
        } catch (ReflectiveOperationException | RuntimeException e) {
            Throwable cause = e instanceof java.lang.reflect.InvocationTargetException ite ? ite.getCause() : e;
            throw new IllegalArgumentException("memory manager policy " + name + " failed to construct: " + cause, cause);
        }
    }
}
