package dist.serial;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;

/**
 * What a {@link Serializer} may encode and decode beyond its built-in types: user codecs,
 * allow-listed classes, compact numeric aliases for frequent classes, and limits.
 *
 * <pre>{@code
 * Registry r = Registry.defaults()
 *     .register(Point.class, new PointCodec())
 *     .allow("com.acme.model.*");
 * Serializer s = new Serializer(r);
 * }</pre>
 *
 * <p>Safe to use from several threads; configure it before encoding for best speed (every change
 * drops the per-class metadata computed so far).
 */
public final class Registry {

    private final ReentrantLock lock = new ReentrantLock();
    private final Map<Class<?>, Integer> aliasByClass = new LinkedHashMap<>();
    private final Map<Integer, Class<?>> classByAlias = new HashMap<>();
    private final Map<Class<?>, ClassCodec<?>> codecs = new LinkedHashMap<>();
    private final List<String> allowed = new ArrayList<>();
    private int oobThreshold = 2048;
    private int maxDepth = 200;
    private long maxDecodedBytes = Long.MAX_VALUE;
    private boolean closed;
    /** Null: the config key decides, when the first snapshot is taken (a closed registry never asks). */
    private Boolean strict;
    private volatile Snapshot snapshot;

    private Registry() {
    }

    /** The config key that makes {@link #defaults()} strict: {@code distributed.serialization.strict}. */
    public static final String STRICT_KEY = "distributed.serialization.strict";

    /**
     * A new registry with no codecs, aliases nor allow-list entries: open (any ordinary class travels
     * field by field), or {@link #strict(boolean) strict} when the config key {@value #STRICT_KEY} is
     * true as it is first used.
     */
    public static Registry defaults() {
        return new Registry();
    }

    /**
     * Strict ({@code true}): only built-in types, records, enums, exceptions, serializable lambdas,
     * classes with a codec and {@link #allow allow-listed} classes are encoded and decoded; any other
     * class is refused by name, before any of its code runs. Open ({@code false}, the default):
     * any ordinary class also travels, field by field.
     *
     * <pre>{@code
     * Serializer s = new Serializer(Registry.defaults().strict(true).allow("com.acme.model.*"));
     * }</pre>
     */
    public Registry strict(boolean strict) {
        lock.lock();
        try {
            this.strict = strict;
            snapshot = null;
        } finally {
            lock.unlock();
        }
        return this;
    }

    /** Whether only allow-listed classes go field by field; see {@link #strict(boolean)}. */
    public boolean isStrict() {
        return snap().strict;
    }

    /**
     * Adds a compact numeric alias for {@code type} (both ends must register the same alias), so
     * that even its first occurrence in a stream is a small varint rather than its name.
     *
     * @throws IllegalArgumentException if {@code id} is negative or already names another class,
     *                                  or {@code type} already has another id
     */
    public Registry alias(Class<?> type, int id) {
        Objects.requireNonNull(type, "type");
        if (id < 0) {
            throw new IllegalArgumentException("alias id must be >= 0, got " + id + " for " + type.getName());
        }
        lock.lock();
        try {
            Class<?> other = classByAlias.get(id);
            if (other != null && other != type) {
                throw new IllegalArgumentException("alias " + id + " already names " + other.getName()
                        + "; pick another id for " + type.getName());
            }
            Integer old = aliasByClass.get(type);
            if (old != null && old != id) {
                throw new IllegalArgumentException(type.getName() + " already has alias " + old + ", not " + id);
            }
            aliasByClass.put(type, id);
            classByAlias.put(id, type);
            snapshot = null;
        } finally {
            lock.unlock();
        }
        return this;
    }

    /**
     * Allows a class ("com.acme.Point") or a package and its subpackages ("com.acme.*") to be
     * encoded field by field: non-static, non-transient fields, superclasses included, rebuilt
     * as {@link Serializer} describes. Needed only in a {@link #strict(boolean) strict} registry.
     */
    public Registry allow(String classOrPackage) {
        Objects.requireNonNull(classOrPackage, "classOrPackage");
        String p = classOrPackage.strip();
        if (p.isEmpty() || p.equals("*")) {
            throw new IllegalArgumentException("allow(\"" + classOrPackage
                    + "\"): name a class (\"com.acme.Point\") or a package (\"com.acme.*\")");
        }
        lock.lock();
        try {
            allowed.add(p);
            snapshot = null;
        } finally {
            lock.unlock();
        }
        return this;
    }

    /**
     * Registers a codec for {@code type} and its subclasses; it takes precedence over the built-in
     * handling of records, enums, exceptions and allow-listed classes.
     */
    public <T> Registry register(Class<T> type, ClassCodec<T> codec) {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(codec, "codec");
        if (type.isPrimitive() || type == String.class) {
            throw new IllegalArgumentException("cannot register a codec for built-in type " + type.getName());
        }
        lock.lock();
        try {
            codecs.put(type, codec);
            snapshot = null;
        } finally {
            lock.unlock();
        }
        return this;
    }

    /**
     * Closes this registry to user classes: decoding then accepts only the built-in values, aliased
     * classes, and records, enums and exceptions of the JDK ({@code java.*}) and of {@code dist.protocol};
     * any other class name, and every lambda, is refused with a {@link DecodeException} before the class is
     * even loaded. For endpoints that must never run user code while decoding (the scheduler).
     */
    public Registry closed() {
        lock.lock();
        try {
            closed = true;
            snapshot = null;
        } finally {
            lock.unlock();
        }
        return this;
    }

    /** Whether {@link #closed()} was called. */
    public boolean isClosed() {
        return snap().closed;
    }

    /** byte[] of at least this many bytes go out of band when the caller collects them. */
    public int oobThreshold() {
        return snap().oobThreshold;
    }

    /** Sets the size from which byte[] go out of band (default 2048). */
    public Registry oobThreshold(int bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("oobThreshold must be >= 0, got " + bytes);
        }
        lock.lock();
        try {
            oobThreshold = bytes;
            snapshot = null;
        } finally {
            lock.unlock();
        }
        return this;
    }

    /** The most memory one decode may allocate, as estimated from the sizes it reads (no bound by default). */
    public long maxDecodedBytes() {
        return snap().maxDecodedBytes;
    }

    /**
     * Bounds what one decode may allocate: strings, arrays, collections and objects, each estimated
     * from the count or length it reads, before it allocates. Counts are already held to the bytes
     * that remain; this bounds what those bytes expand to (a one-byte varint becomes an 8-byte long,
     * a two-byte empty string a 40-byte object). Past it the decode fails with a {@link DecodeException}.
     */
    public Registry maxDecodedBytes(long bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("maxDecodedBytes must be positive, got " + bytes);
        }
        lock.lock();
        try {
            maxDecodedBytes = bytes;
            snapshot = null;
        } finally {
            lock.unlock();
        }
        return this;
    }

    /** How deeply values may nest (collections, records, causes...) when encoding and decoding. */
    public int maxDepth() {
        return snap().maxDepth;
    }

    /** Sets the nesting limit (default 200). */
    public Registry maxDepth(int depth) {
        if (depth < 1 || depth > 10_000) {
            throw new IllegalArgumentException("maxDepth must be in 1..10000, got " + depth);
        }
        lock.lock();
        try {
            maxDepth = depth;
            snapshot = null;
        } finally {
            lock.unlock();
        }
        return this;
    }

    /** The current immutable view; rebuilt after a change. */
    Snapshot snap() {
        Snapshot s = snapshot;
        if (s != null) {
            return s;
        }
        lock.lock();
        try {
            s = snapshot;
            if (s == null) {
                boolean st = closed || (strict != null ? strict : dist.config.Config.getBoolean(STRICT_KEY));
                s = new Snapshot(aliasByClass, codecs, allowed, oobThreshold, maxDepth, maxDecodedBytes, closed, st);
                snapshot = s;
            }
            return s;
        } finally {
            lock.unlock();
        }
    }

    /** An immutable copy of the configuration plus the per-class metadata derived from it. */
    static final class Snapshot {
        final Map<Class<?>, Integer> aliasByClass;
        final Class<?>[] aliasSmall;
        final Map<Integer, Class<?>> aliasLarge;
        final Map<Class<?>, ClassCodec<?>> codecs;
        final String[] exact;
        final String[] prefixes;
        final int oobThreshold;
        final int maxDepth;
        final long maxDecodedBytes;
        final boolean closed;
        /** Only allow-listed classes go field by field (a closed registry is strict too). */
        final boolean strict;
        /**
         * Whether streams keep identity: objects, arrays, collections and maps met again are written as
         * back-references. Off for closed registries, whose stream stays as it was.
         */
        final boolean tracks;
        final ClassValue<ClassInfo> infos = new ClassValue<>() {
            @Override
            protected ClassInfo computeValue(Class<?> type) {
                return ClassInfo.of(type, Snapshot.this);
            }
        };

        Snapshot(Map<Class<?>, Integer> aliases, Map<Class<?>, ClassCodec<?>> codecs, List<String> allowed,
                 int oobThreshold, int maxDepth, long maxDecodedBytes, boolean closed, boolean strict) {
            this.closed = closed;
            this.strict = strict || closed;
            this.tracks = !closed;
            this.aliasByClass = Map.copyOf(aliases);
            int max = -1;
            for (int id : aliases.values()) {
                if (id < 1024) {
                    max = Math.max(max, id);
                }
            }
            this.aliasSmall = new Class<?>[max + 1];
            Map<Integer, Class<?>> large = new HashMap<>();
            for (Map.Entry<Class<?>, Integer> e : aliases.entrySet()) {
                if (e.getValue() < 1024) {
                    aliasSmall[e.getValue()] = e.getKey();
                } else {
                    large.put(e.getValue(), e.getKey());
                }
            }
            this.aliasLarge = Map.copyOf(large);
            this.codecs = Map.copyOf(codecs);
            List<String> ex = new ArrayList<>();
            List<String> pre = new ArrayList<>();
            for (String a : allowed) {
                if (a.endsWith(".*")) {
                    pre.add(a.substring(0, a.length() - 1));
                } else {
                    ex.add(a);
                }
            }
            this.exact = ex.toArray(String[]::new);
            this.prefixes = pre.toArray(String[]::new);
            this.oobThreshold = oobThreshold;
            this.maxDepth = maxDepth;
            this.maxDecodedBytes = maxDecodedBytes;
        }

        Class<?> aliased(long id) {
            if (id >= 0 && id < aliasSmall.length) {
                return aliasSmall[(int) id];
            }
            return id > Integer.MAX_VALUE ? null : aliasLarge.get((int) id);
        }

        boolean allowed(String className) {
            for (String e : exact) {
                if (e.equals(className)) {
                    return true;
                }
            }
            for (String p : prefixes) {
                if (className.startsWith(p)) {
                    return true;
                }
            }
            return false;
        }

        /** In a closed registry, whether a class named on the wire may be loaded at all. */
        boolean admits(String className) {
            return !closed || className.startsWith("java.") || className.startsWith("dist.protocol.");
        }

        ClassInfo info(Class<?> type) {
            return infos.get(type);
        }
    }
}
