package dist.serial;

import java.util.List;
import java.util.Objects;

/**
 * A value's encoding kept in parts: the head (the serializer's stream) and the large byte arrays the
 * value holds, referenced from the head and kept out of it. The parts travel as frames of their own
 * and are stored as they are, so a large array is neither copied into the head when encoded nor out
 * of it when decoded: the array a task returned is the one sent, and the frame a peer read is the
 * array the next task receives.
 *
 * <pre>{@code
 * Encoded e = serializer.encodeParts(new byte[1 << 20], null);   // e.buffers() holds that very array
 * byte[] back = (byte[]) serializer.decode(e, null, null);     // and decoding returns it again
 * }</pre>
 *
 * <p>Shared arrays mean a task must not change an argument it received: dask's rule for arrays too.
 *
 * @param head    the serializer's stream, with out-of-band references to {@code buffers}
 * @param buffers the byte arrays of at least {@link #MIN_BUFFER_BYTES} the value holds, by reference
 */
public record Encoded(byte[] head, List<byte[]> buffers) {

    /** Arrays at least this long go out of band; smaller ones are cheaper to copy than to frame. */
    public static final int MIN_BUFFER_BYTES = 64 << 10;

    public Encoded {
        Objects.requireNonNull(head, "an encoded value needs its head bytes");
        Objects.requireNonNull(buffers, "an encoded value needs its buffer list (empty when it has none)");
        for (byte[] b : buffers) {
            Objects.requireNonNull(b, "an encoded value's buffers must not be null");
        }
    }

    /** An encoding without buffers. */
    public static Encoded of(byte[] head) {
        return new Encoded(head, List.of());
    }

    /** Bytes in all parts. */
    public long nbytes() {
        long n = head.length;
        for (byte[] b : buffers) {
            n += b.length;
        }
        return n;
    }
}
