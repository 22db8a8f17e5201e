package dist.serial;

import java.util.List;
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
 */
public final class Serializer {

    public Serializer(Registry registry) {
        throw new UnsupportedOperationException("not yet");
    }

    /** A shared serializer over {@link Registry#defaults()}. */
    public static Serializer defaults() {
        throw new UnsupportedOperationException("not yet");
    }

    public Registry registry() {
        throw new UnsupportedOperationException("not yet");
    }

    public byte[] encode(Object value) {
        return encode(value, null, null);
    }

    /**
     * Encodes {@code value}. With {@code oob} non-null, every byte[] of at least
     * {@link Registry#oobThreshold()} bytes is not copied but appended to {@code oob} and referenced
     * by index. {@code replacer}, when non-null, sees every non-null object before it is written and
     * may return a substitute (for example a {@link Ref}).
     */
    public byte[] encode(Object value, List<byte[]> oob, UnaryOperator<Object> replacer) {
        throw new UnsupportedOperationException("not yet");
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
        throw new UnsupportedOperationException("not yet");
    }
}
