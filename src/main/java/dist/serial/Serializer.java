package dist.serial;

import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * The compact tagged serializer. Thread-safe; one instance per {@link Registry}.
 *
 * <pre>{@code
 * Serializer s = Serializer.defaults();
 * byte[] bytes = s.encode(List.of(1, "two", 3.0));
 * List<?> back = (List<?>) s.decode(bytes);
 * }</pre>
 *
 * <p>Built in: null, booleans, every primitive box, String, primitive arrays, object arrays, List
 * and other collections (decoded as ArrayList), Set (LinkedHashSet, or TreeSet for a naturally
 * ordered SortedSet), Map (LinkedHashMap, or TreeMap), Optional, {@link Ref}, records, enums,
 * exceptions and serializable lambdas. Iteration order is kept.
 *
 * <p>Any other class travels field by field: every non-static, non-transient field of it and its
 * superclasses, private and final ones too (a class need not implement Serializable; its
 * writeObject, readObject and readResolve are not called). The reader creates the instance with the
 * class's no-arg constructor, of any access, else with another of its constructors given null, 0
 * and false, then sets every field; transient fields keep what that constructor gave them. A class
 * of a module that does not open its package to dist (the JDK's own, such as java.time.LocalDate)
 * is refused with the {@code --add-opens} option or {@code opens} line to add, or needs a
 * {@link ClassCodec}. A {@link Registry#strict(boolean) strict} registry takes only
 * {@link Registry#allow allow-listed} classes that way.
 *
 * <p>Identity is kept within one value: an object, array, collection or map reachable twice is
 * written once and then as a back-reference, so shared and cyclic references come back as they
 * were. Records, boxes, strings and Optionals are values: one reachable twice is written twice, and
 * a cycle through a record is cut there (the record is copied once, its own fields still shared).
 */
public final class Serializer {

    private static final Serializer OPEN = new Serializer(Registry.defaults().strict(false));
    private static final Serializer STRICT = new Serializer(Registry.defaults().strict(true));

    private final Registry registry;

    public Serializer(Registry registry) {
        this.registry = Objects.requireNonNull(registry, "registry");
    }

    /**
     * A shared serializer over {@link Registry#defaults()}: open, or strict while the config key
     * {@value Registry#STRICT_KEY} is true.
     */
    public static Serializer defaults() {
        return dist.config.Config.getBoolean(Registry.STRICT_KEY) ? STRICT : OPEN;
    }

    public Registry registry() {
        return registry;
    }

    public byte[] encode(Object value) {
        return encode(value, null, null);
    }

    /**
     * Encodes {@code value}. With {@code oob} non-null, every byte[] of at least
     * {@link Registry#oobThreshold()} bytes is not copied but appended to {@code oob} and referenced
     * by index. {@code replacer}, when non-null, sees every non-null object before it is written and
     * may return a substitute (for example a {@link Ref}).
     *
     * @throws EncodeException when a value cannot be encoded; the message names its class and the fix
     */
    public byte[] encode(Object value, List<byte[]> oob, UnaryOperator<Object> replacer) {
        Registry.Snapshot snap = registry.snap();
        return encode(value, oob, snap.oobThreshold, replacer, snap);
    }

    /**
     * Encodes {@code value} in parts: every byte[] of at least {@link Encoded#MIN_BUFFER_BYTES} it holds
     * is kept by reference, not copied. For results and data that travel between workers and clients.
     *
     * @throws EncodeException as {@link #encode(Object, List, UnaryOperator)}
     */
    public Encoded encodeParts(Object value, UnaryOperator<Object> replacer) {
        List<byte[]> buffers = new java.util.ArrayList<>(0);
        byte[] head = encode(value, buffers, Encoded.MIN_BUFFER_BYTES, replacer, registry.snap());
        return new Encoded(head, buffers.isEmpty() ? List.of() : buffers);
    }

    /** Decodes what {@link #encodeParts} wrote; its buffers come back as the very arrays. */
    public Object decode(Encoded encoded, ClassLoader loader, Function<String, Object> refs) {
        if (encoded == null) {
            throw new DecodeException("no encoded value to decode (null)");
        }
        return decode(encoded.head(), encoded.buffers(), loader, refs);
    }

    private byte[] encode(Object value, List<byte[]> oob, int oobThreshold, UnaryOperator<Object> replacer,
                          Registry.Snapshot snap) {
        int oobBefore = oob == null ? 0 : oob.size();
        SerialWriter w = SerialWriter.acquire(snap, oob, oobThreshold, replacer);
        try {
            w.writeObject(value);
            return w.toByteArray();
        } catch (EncodeException e) {
            trim(oob, oobBefore);
            throw e;
        } catch (StackOverflowError e) {
            trim(oob, oobBefore);
            throw new EncodeException("value nests too deeply to encode (does it contain itself?)", e);
        } catch (RuntimeException e) {
            trim(oob, oobBefore);
            throw new EncodeException("cannot encode " + (value == null ? "null" : value.getClass().getName())
                    + ": " + e, e);
        } finally {
            w.release();
        }
    }

    private static void trim(List<byte[]> oob, int size) {
        if (oob != null) {
            while (oob.size() > size) {
                oob.remove(oob.size() - 1);
            }
        }
    }

    public Object decode(byte[] bytes) {
        return decode(bytes, null, null, null);
    }

    /**
     * Decodes what {@link #encode(Object, List, UnaryOperator)} wrote. Out-of-band byte[] are
     * returned as the very arrays in {@code oob} (no copy). User classes load through
     * {@code loader} (null: this class's loader). Each {@link Ref} becomes {@code refs.apply(key)}
     * when {@code refs} is non-null.
     *
     * @throws DecodeException for any malformed input; never another exception or error
     */
    public Object decode(byte[] bytes, List<byte[]> oob, ClassLoader loader, Function<String, Object> refs) {
        if (bytes == null) {
            throw new DecodeException("no bytes to decode (null)");
        }
        return decode(bytes, 0, bytes.length, oob, loader, refs);
    }

    /** Decodes {@code len} bytes of {@code bytes} from {@code off}; as {@link #decode(byte[], List, ClassLoader, Function)}. */
    public Object decode(byte[] bytes, int off, int len, List<byte[]> oob, ClassLoader loader,
                         Function<String, Object> refs) {
        if (bytes == null) {
            throw new DecodeException("no bytes to decode (null)");
        }
        if (off < 0 || len < 0 || off > bytes.length - len) {
            throw new DecodeException("range " + off + "+" + len + " outside a byte[" + bytes.length + "]");
        }
        SerialReader r = new SerialReader(bytes, off, len, registry.snap(), oob, loader, refs);
        try {
            Object v = r.readObject();
            if (r.position() != r.limit()) {
                throw r.error((r.limit() - r.position()) + " unexpected bytes after the value");
            }
            return v;
        } catch (DecodeException e) {
            throw e;
        } catch (StackOverflowError e) {
            throw new DecodeException("input nests too deeply to decode (at byte " + r.position() + ")", e);
        } catch (VirtualMachineError e) {
            throw e;
        } catch (RuntimeException | Error e) {
            throw new DecodeException("malformed input at byte " + r.position() + " of " + len + ": " + e, e);
        }
    }
}
