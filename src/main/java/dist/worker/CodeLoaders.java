package dist.worker;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;

/**
 * The class loaders a worker runs user code in. Uploaded jars go into one loader shared by every
 * task; above it, each client gets a loader of its own that asks for the bytes of a class it
 * cannot find (through the scheduler, from that client) and defines it, so two clients with
 * different versions of a class never see each other's.
 *
 * <pre>
 *   per-client loader (asks its client)  -&gt;  jar loader (uploaded jars)  -&gt;  worker's class path
 * </pre>
 *
 * Delegation is parent-first: a class on the worker's class path or in an uploaded jar wins.
 */
public final class CodeLoaders {

    /** Fetches a class file from a client; returns null when it has none (or cannot be reached in time). */
    @FunctionalInterface
    public interface Fetcher {
        byte[] fetch(String clientId, String className);
    }

    private final ClassLoader base;
    private final JarLoader jars;
    private final Fetcher fetcher;
    private final Map<String, ClientLoader> clients = new ConcurrentHashMap<>();
    private final Set<String> jarHashes = ConcurrentHashMap.newKeySet();

    public CodeLoaders(ClassLoader base, Fetcher fetcher) {
        this.base = base;
        this.jars = new JarLoader(base);
        this.fetcher = fetcher;
    }

    /** The loader for tasks of {@code clientId}; null: the loader of uploaded jars. */
    public ClassLoader forClient(String clientId) {
        if (clientId == null) {
            return jars;
        }
        return clients.computeIfAbsent(clientId, id -> new ClientLoader(id, jars, fetcher));
    }

    /** The loader over uploaded jars and the worker's class path. */
    public ClassLoader shared() {
        return jars;
    }

    /**
     * Adds a jar's classes for every task. A jar seen before (same bytes) is ignored; a class
     * already defined keeps its first definition.
     *
     * @return the number of classes the jar brought
     * @throws IOException when {@code bytes} is not a readable jar
     */
    public int addJar(byte[] bytes) throws IOException {
        if (!jarHashes.add(java.util.HexFormat.of().formatHex(sha256(bytes)))) {
            return 0;
        }
        int n = 0;
        try (JarInputStream in = new JarInputStream(new ByteArrayInputStream(bytes))) {
            JarEntry e;
            while ((e = in.getNextJarEntry()) != null) {
                String name = e.getName();
                if (!e.isDirectory() && name.endsWith(".class") && !name.endsWith("module-info.class")) {
                    jars.classes.put(name.substring(0, name.length() - 6).replace('/', '.'), in.readAllBytes());
                    n++;
                }
            }
        } catch (IOException | RuntimeException e) {
            jarHashes.remove(java.util.HexFormat.of().formatHex(sha256(bytes)));
            throw new IOException("not a readable jar: " + e.getMessage(), e);
        }
        if (n == 0) {
            jarHashes.remove(java.util.HexFormat.of().formatHex(sha256(bytes)));
            throw new IOException("the jar holds no class files");
        }
        return n;
    }

    /**
     * The class file of {@code className} as this worker has it: defined from a client, in an
     * uploaded jar, or on the class path. Lets a client running inside a task here serve the
     * classes of the tasks it submits.
     */
    public byte[] classBytes(String className) {
        for (ClientLoader l : clients.values()) {
            byte[] b = l.defined.get(className);
            if (b != null) {
                return b;
            }
        }
        byte[] b = jars.classes.get(className);
        if (b != null) {
            return b;
        }
        try (InputStream in = base.getResourceAsStream(className.replace('.', '/') + ".class")) {
            return in == null ? null : in.readAllBytes();
        } catch (IOException e) {
            return null;
        }
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM lacks SHA-256, which every Java SE runtime provides", e);
        }
    }

    private static final class JarLoader extends ClassLoader {
        static {
            registerAsParallelCapable();
        }

        final Map<String, byte[]> classes = new ConcurrentHashMap<>();

        JarLoader(ClassLoader parent) {
            super("dist-jars", parent);
        }

        @Override
        protected Class<?> findClass(String name) throws ClassNotFoundException {
            byte[] b = classes.get(name);
            if (b == null) {
                throw new ClassNotFoundException(name);
            }
            return defineClass(name, b, 0, b.length);
        }
    }

    /** Defines the classes of one client, fetched on first use. */
    private static final class ClientLoader extends ClassLoader {
        static {
            registerAsParallelCapable();
        }

        final String clientId;
        final Fetcher fetcher;
        final Map<String, byte[]> defined = new ConcurrentHashMap<>();
        /** Names the client said it does not have: asked once, not on every lookup. */
        final Set<String> absent = ConcurrentHashMap.newKeySet();

        ClientLoader(String clientId, ClassLoader parent, Fetcher fetcher) {
            super("dist-client-" + clientId, parent);
            this.clientId = clientId;
            this.fetcher = fetcher;
        }

        @Override
        protected Class<?> findClass(String name) throws ClassNotFoundException {
            if (absent.contains(name) || name.startsWith("java.")) {
                throw new ClassNotFoundException(name);
            }
            byte[] b = fetcher.fetch(clientId, name);
            if (b == null) {
                absent.add(name);
                throw new ClassNotFoundException(name + " (neither on this worker nor sent by client " + clientId + ")");
            }
            Class<?> c = defineClass(name, b, 0, b.length);
            defined.put(name, b);
            return c;
        }

        @Override
        public InputStream getResourceAsStream(String name) {
            InputStream in = super.getResourceAsStream(name);
            if (in == null && name.endsWith(".class")) {
                byte[] b = defined.get(name.substring(0, name.length() - 6).replace('/', '.'));
                if (b != null) {
                    return new ByteArrayInputStream(b);
                }
            }
            return in;
        }
    }
}
