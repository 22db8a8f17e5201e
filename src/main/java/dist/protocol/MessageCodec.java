package dist.protocol;

import dist.serial.DecodeException;
import dist.serial.Registry;
import dist.serial.Serializer;

import java.util.ArrayList;
import java.util.List;

/**
 * {@link Message} to frames and back. Frame 0 is the header, written by the compact serializer with
 * every message record (and {@link TaskSpec}, {@link TaskOptions}, {@link Message.WorkerInfo}) under a
 * numeric alias (and {@link dist.serial.Encoded}, the parts of a user value); every large byte[] inside the message (at least the registry's out-of-band threshold)
 * becomes a frame of its own and is decoded as the very array that was read, without a copy.
 *
 * <p>The registry is {@link Registry#closed() closed}: a header names only protocol records and JDK
 * types, so no endpoint (above all the scheduler) loads or builds a user class while decoding a message;
 * user values are the byte[] fields, decoded (if at all) by clients and workers with their own serializer.
 * A header decodes to no more memory than {@value #MAX_DECODED_PROPERTY} allows (estimated before
 * each allocation), so a small header cannot expand past the heap.
 *
 * <pre>{@code
 * MessageCodec codec = MessageCodec.get();
 * List<byte[]> frames = codec.encode(new Message.Ping(1));
 * Message back = codec.decode(frames);
 * }</pre>
 */
public final class MessageCodec {

    /** First alias id; both ends must agree, so the list below only ever grows at its end. */
    static final int FIRST_ALIAS = 64;

    /**
     * Aliased types: every message record (sorted by name), then the records messages carry. Both
     * ends derive the same list from the same build; the handshake's version keeps builds apart.
     */
    static final List<Class<?>> ALIASED = aliased();

    private static List<Class<?>> aliased() {
        List<Class<?>> list = new java.util.ArrayList<>(List.of(Message.class.getPermittedSubclasses()));
        list.sort(java.util.Comparator.comparing(Class::getName));
        list.addAll(List.of(Message.WorkerInfo.class, TaskSpec.class, TaskOptions.class, dist.serial.Encoded.class));
        return List.copyOf(list);
    }

    private static final class Holder {
        static final MessageCodec INSTANCE = new MessageCodec();
    }

    /**
     * System property bounding the memory one message header may decode to (estimated, see
     * {@link Registry#maxDecodedBytes(long)}): a quarter of the heap by default, at least 32 MiB.
     */
    public static final String MAX_DECODED_PROPERTY = "dist.comm.max-decoded-bytes";

    private final Serializer serializer;

    /** The shared codec (thread-safe). */
    public static MessageCodec get() {
        return Holder.INSTANCE;
    }

    public MessageCodec() {
        this(configuredMaxDecodedBytes());
    }

    /** A codec whose headers may decode to at most {@code maxDecodedBytes} (estimated). */
    public MessageCodec(long maxDecodedBytes) {
        Registry registry = Registry.defaults().closed().maxDecodedBytes(maxDecodedBytes);
        for (int i = 0; i < ALIASED.size(); i++) {
            registry.alias(ALIASED.get(i), FIRST_ALIAS + i);
        }
        registry.register(TaskOptions.class, new TaskOptionsCodec());
        this.serializer = new Serializer(registry);
    }

    private static long configuredMaxDecodedBytes() {
        long dflt = Math.max(32L << 20, Runtime.getRuntime().maxMemory() / 4);
        String v = System.getProperty(MAX_DECODED_PROPERTY);
        if (v != null && !v.isBlank()) {
            try {
                long n = Long.parseLong(v.strip().replace("_", ""));
                if (n > 0) {
                    return n;
                }
            } catch (NumberFormatException ignored) {
                // reported below
            }
            System.getLogger("dist.comm").log(System.Logger.Level.WARNING, "-D" + MAX_DECODED_PROPERTY + "=" + v
                    + " is not a positive number of bytes; using " + dflt);
        }
        return dflt;
    }

    /** The frames of {@code message}: the header, then its out-of-band byte arrays (not copied). */
    public List<byte[]> encode(Message message) {
        List<byte[]> oob = new ArrayList<>();
        TaskOptionsCodec.Memo outer = TaskOptionsCodec.MEMO.get();
        TaskOptionsCodec.MEMO.set(new TaskOptionsCodec.Memo()); // options repeat within one message only
        byte[] header;
        try {
            header = serializer.encode(message, oob, null);
        } finally {
            TaskOptionsCodec.MEMO.set(outer);
        }
        if (oob.isEmpty()) {
            return List.of(header);
        }
        List<byte[]> frames = new ArrayList<>(oob.size() + 1);
        frames.add(header);
        frames.addAll(oob);
        return frames;
    }

    /**
     * The message in {@code frames}.
     *
     * @throws DecodeException when the frames hold no well-formed message
     */
    public Message decode(List<byte[]> frames) {
        TaskOptionsCodec.Memo outer = TaskOptionsCodec.MEMO.get();
        TaskOptionsCodec.MEMO.set(new TaskOptionsCodec.Memo());
        Object value;
        try {
            value = serializer.decode(frames.get(0), frames.subList(1, frames.size()), null, null);
        } finally {
            TaskOptionsCodec.MEMO.set(outer);
        }
        if (value instanceof Message m) {
            return m;
        }
        throw new DecodeException("frame 0 holds a " + (value == null ? "null" : value.getClass().getName())
                + ", not a dist.protocol.Message: the peer speaks another dialect");
    }
}
