package dist.worker;

import dist.protocol.RunCodec;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;

/**
 * The class loaders a worker runs user code in: one per client, holding that client's uploaded jars
 * and the classes it sent, so two clients with different versions of a class (shipped or in a jar)
 * never see each other's. A class a loader cannot find is asked for (through the scheduler, from
 * its client) and defined; a class the client did not send is not asked for again for a while, then
 * is. When the client leaves, {@link #forget} drops its loader; tasks still running keep it until
 * they end. A jar that changes a class the client's loader holds gives the client a new loader, so
 * later tasks see the new class.
 *
 * <pre>
 *   per-client loader (its jars, then asks its client)  -&gt;  worker's class path
 * </pre>
 *
 * Delegation is parent-first: a class on the worker's class path wins, then the client's jars.
 *
 * <pre>{@code
 * CodeLoaders code = new CodeLoaders(getClass().getClassLoader(), (client, name) -> askScheduler(client, name));
 * code.addJar("client-1", Files.readAllBytes(jar));
 * Class<?> c = Class.forName("com.acme.Fn", true, code.forClient("client-1"));
 * }</pre>
 */
public final class CodeLoaders {

    /** Fetches a class file from a client; returns null when it has none (or cannot be reached in time). */
    @FunctionalInterface
    public interface Fetcher {
        byte[] fetch(String clientId, String className);
    }

    /** How long a class a client did not send is taken as absent before it is asked for again. */
    static final Duration ABSENT_FOR = Duration.ofSeconds(5);
    /** Names remembered as absent per client; the oldest is forgotten first. */
    static final int MAX_ABSENT = 4096;
    /** The key of tasks that name no client. */
    private static final String NO_CLIENT = "";

    private final ClassLoader base;
    private final Fetcher fetcher;
    private final long absentNanos;
    private final LongSupplier clock;
    private final Map<String, ClientLoader> clients = new ConcurrentHashMap<>();

    public CodeLoaders(ClassLoader base, Fetcher fetcher) {
        this(base, fetcher, ABSENT_FOR, System::nanoTime);
    }

    /** With {@code absentFor} as the time a missing class is not asked for again, read off {@code clock} (ns). */
    CodeLoaders(ClassLoader base, Fetcher fetcher, Duration absentFor, LongSupplier clock) {
        this.base = base;
        this.fetcher = fetcher;
        this.absentNanos = absentFor.toNanos();
        this.clock = clock;
    }

    /** The loader for tasks of {@code clientId} (null: tasks of no client). */
    public ClassLoader forClient(String clientId) {
        return loader(clientId);
    }

    private ClientLoader loader(String clientId) {
        String id = clientId == null ? NO_CLIENT : clientId;
        return clients.computeIfAbsent(id, k -> new ClientLoader(k, base, fetcher, absentNanos, clock));
    }

    /** The decoded functions of tasks run in {@code loader}: they live and die with it. */
    public RunCodec.FunctionCache functions(ClassLoader loader) {
        return loader instanceof ClientLoader l ? l.functions : loader(null).functions;
    }

    /**
     * Client {@code clientId} has left: its loader, classes and jars are dropped here. Tasks running
     * with it keep it alive until they end; a task of that client that comes later gets a fresh loader.
     *
     * @return whether there was a loader to drop
     */
    public boolean forget(String clientId) {
        return clientId != null && clients.remove(clientId) != null;
    }

    /** How many clients have a loader here (for tests and diagnostics). */
    public int clientCount() {
        return clients.size();
    }

    /**
     * Adds a jar's classes for the tasks of {@code clientId} only. A jar whose classes this client's
     * loader already holds, byte for byte, changes nothing. A jar that changes a class the loader
     * holds starts a new generation of that client's loader, as dask reloads an uploaded module
     * (test_client.py::test_upload_file): tasks that start later resolve through it and see the new
     * classes; tasks running keep the loader they started with.
     *
     * @return the number of classes the jar brought (0 when it changed nothing)
     * @throws IOException when {@code bytes} is not a readable jar
     */
    public int addJar(String clientId, byte[] bytes) throws IOException {
        Map<String, byte[]> found = new LinkedHashMap<>();
        try (JarInputStream in = new JarInputStream(new ByteArrayInputStream(bytes))) {
            JarEntry e;
            while ((e = in.getNextJarEntry()) != null) {
                String name = e.getName();
                if (!e.isDirectory() && name.endsWith(".class") && !name.endsWith("module-info.class")) {
                    found.put(name.substring(0, name.length() - 6).replace('/', '.'), in.readAllBytes());
                }
            }
        } catch (IOException | RuntimeException e) {
            throw new IOException("not a readable jar: " + e.getMessage(), e);
        }
        if (found.isEmpty()) {
            throw new IOException("the jar holds no class files");
        }
        String id = clientId == null ? NO_CLIENT : clientId;
        int[] brought = {0};
        // under the map's per-key lock: two jars of one client never race to replace its loader
        clients.compute(id, (k, l) -> {
            ClientLoader current = l != null ? l : new ClientLoader(k, base, fetcher, absentNanos, clock);
            Map<String, byte[]> changed = new LinkedHashMap<>();
            boolean replaces = false;
            for (Map.Entry<String, byte[]> f : found.entrySet()) {
                byte[] had = current.jarClasses.get(f.getKey());
                if (had == null) {
                    had = current.defined.get(f.getKey());
                }
                if (had == null || !java.util.Arrays.equals(had, f.getValue())) {
                    changed.put(f.getKey(), f.getValue());
                    replaces |= had != null;
                }
            }
            brought[0] = changed.isEmpty() ? 0 : found.size();
            if (!replaces) {
                current.jarClasses.putAll(changed);
                return current;
            }
            // a class defined once keeps that definition in its loader: only a new loader can see the new bytes
            ClientLoader next = new ClientLoader(k, base, fetcher, absentNanos, clock);
            next.jarClasses.putAll(current.jarClasses);
            next.jarClasses.putAll(found);
            return next;
        });
        return brought[0];
    }

    /**
     * The class file of {@code className} as this worker has it: defined from a client, in an
     * uploaded jar, or on the class path. Lets a client running inside a task here serve the
     * classes of the tasks it submits.
     */
    public byte[] classBytes(String className) {
        for (ClientLoader l : clients.values()) {
            byte[] b = l.defined.get(className);
            if (b == null) {
                b = l.jarClasses.get(className);
            }
            if (b != null) {
                return b;
            }
        }
        try (InputStream in = base.getResourceAsStream(className.replace('.', '/') + ".class")) {
            return in == null ? null : in.readAllBytes();
        } catch (IOException e) {
            return null;
        }
    }


    /** The classes of one client: from its jars, or fetched from it on first use. */
    private static final class ClientLoader extends ClassLoader {
        static {
            registerAsParallelCapable();
        }

        final String clientId;
        final Fetcher fetcher;
        final long absentNanos;
        final LongSupplier clock;
        final Map<String, byte[]> jarClasses = new ConcurrentHashMap<>();
        final Map<String, byte[]> defined = new ConcurrentHashMap<>();
        final RunCodec.FunctionCache functions = new RunCodec.FunctionCache();
        /** Names the client did not send, until when (clock ns) they are taken as absent; oldest first. */
        private final LinkedHashMap<String, Long> absent = new LinkedHashMap<>();
        private final ReentrantLock absentLock = new ReentrantLock();

        ClientLoader(String clientId, ClassLoader parent, Fetcher fetcher, long absentNanos, LongSupplier clock) {
            super("dist-client-" + clientId, parent);
            this.clientId = clientId;
            this.fetcher = fetcher;
            this.absentNanos = absentNanos;
            this.clock = clock;
        }

        @Override
        protected Class<?> findClass(String name) throws ClassNotFoundException {
            byte[] b = jarClasses.get(name);
            if (b != null) {
                return defineClass(name, b, 0, b.length);
            }
            if (name.startsWith("java.") || clientId.equals(NO_CLIENT) || knownAbsent(name)) {
                throw new ClassNotFoundException(name);
            }
            b = fetcher.fetch(clientId, name);
            if (b == null) {
                markAbsent(name);
                throw new ClassNotFoundException(name + " (neither on this worker nor sent by client " + clientId + ")");
            }
            Class<?> c = defineClass(name, b, 0, b.length);
            defined.put(name, b);
            return c;
        }

        private boolean knownAbsent(String name) {
            absentLock.lock();
            try {
                Long until = absent.get(name);
                if (until == null) {
                    return false;
                }
                if (clock.getAsLong() - until < 0) {
                    return true;
                }
                absent.remove(name); // expired: ask again
                return false;
            } finally {
                absentLock.unlock();
            }
        }

        private void markAbsent(String name) {
            absentLock.lock();
            try {
                absent.remove(name);
                absent.put(name, clock.getAsLong() + absentNanos);
                while (absent.size() > MAX_ABSENT) {
                    absent.pollFirstEntry();
                }
            } finally {
                absentLock.unlock();
            }
        }

        @Override
        public InputStream getResourceAsStream(String name) {
            InputStream in = super.getResourceAsStream(name);
            if (in == null && name.endsWith(".class")) {
                String cls = name.substring(0, name.length() - 6).replace('/', '.');
                byte[] b = defined.get(cls);
                if (b == null) {
                    b = jarClasses.get(cls);
                }
                if (b != null) {
                    return new ByteArrayInputStream(b);
                }
            }
            return in;
        }
    }
}
