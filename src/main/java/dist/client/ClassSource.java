package dist.client;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Where a client finds the class files workers ask for: the loader it was created with, the
 * loaders of the functions it submitted, and (for a client inside a task) the worker's own
 * classes. A class file is read as a resource, never loaded, so answering defines nothing here.
 * Internal.
 */
public final class ClassSource {
    /** A binary class name: identifiers joined by dots (nested classes with '$'); nothing else is read. */
    private static final java.util.regex.Pattern CLASS_NAME = java.util.regex.Pattern.compile(
            "\\p{javaJavaIdentifierStart}\\p{javaJavaIdentifierPart}*(\\.\\p{javaJavaIdentifierStart}\\p{javaJavaIdentifierPart}*)*");
    private final ClassLoader main;
    /** Loaders of submitted functions, held weakly: a loader the program dropped is not kept alive here. */
    private final Map<ClassLoader, Boolean> seen = new java.util.WeakHashMap<>();
    /** Guards {@link #seen}: a lock, not a monitor, so a virtual thread waiting here never pins its carrier. */
    private final java.util.concurrent.locks.ReentrantLock seenLock = new java.util.concurrent.locks.ReentrantLock();
    private volatile Function<String, byte[]> first;

    public ClassSource(ClassLoader main) {
        this.main = main;
    }

    /** Remembers where a submitted function's class came from. */
    public void note(Object fn) {
        if (fn == null) {
            return;
        }
        ClassLoader l = fn.getClass().getClassLoader();
        if (l != null && l != main) {
            seenLock.lock();
            try {
                seen.putIfAbsent(l, Boolean.TRUE);
            } finally {
                seenLock.unlock();
            }
        }
    }

    /** Consults {@code lookup} before any loader (null: none). */
    public void preferring(Function<String, byte[]> lookup) {
        this.first = lookup;
    }

    /** The class file of {@code className}, or null when no known loader has it. */
    public byte[] bytes(String className) {
        if (className == null || className.length() > 1024 || !CLASS_NAME.matcher(className).matches()) {
            return null; // arrays, resource paths and the like are no class a worker may ask for
        }
        Function<String, byte[]> f = first;
        if (f != null) {
            byte[] b = f.apply(className);
            if (b != null) {
                return b;
            }
        }
        String resource = className.replace('.', '/') + ".class";
        byte[] b = read(main, resource);
        if (b != null) {
            return b;
        }
        List<ClassLoader> loaders;
        seenLock.lock();
        try {
            loaders = List.copyOf(seen.keySet());
        } finally {
            seenLock.unlock();
        }
        for (ClassLoader l : loaders) {
            b = read(l, resource);
            if (b != null) {
                return b;
            }
        }
        return read(ClassSource.class.getClassLoader(), resource);
    }

    private static byte[] read(ClassLoader l, String resource) {
        if (l == null) {
            return null;
        }
        try (InputStream in = l.getResourceAsStream(resource)) {
            return in == null ? null : in.readAllBytes();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
