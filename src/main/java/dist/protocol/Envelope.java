package dist.protocol;

import java.util.List;

/**
 * One message as it travels: its kind, a request id that pairs a reply with its request, and its
 * frames (frame 0 is the header; large byte payloads follow as frames of their own).
 *
 * <pre>{@code
 * Envelope e = new Envelope(Envelope.Kind.REQUEST, 7, List.of(header, payload));
 * ByteBuffer[] wire = FrameWriter.encode(e);
 * }</pre>
 *
 * @param requestId 0 for a one-way message; for a request, any id the sender chose; a reply carries its request's id
 */
public record Envelope(Kind kind, long requestId, List<byte[]> frames) {

    /** What the receiver does with a message. */
    public enum Kind {
        /** Delivered; nobody waits for an answer. */
        ONE_WAY,
        /** Delivered; the sender waits for a {@link #REPLY} with the same id. */
        REQUEST,
        /** Completes the sender's request with the same id. */
        REPLY;

        private static final Kind[] ALL = values();

        static Kind of(int code) {
            return code >= 0 && code < ALL.length ? ALL[code] : null;
        }
    }

    public Envelope {
        if (kind == null) {
            throw new IllegalArgumentException("kind is required");
        }
        if (frames == null || frames.isEmpty()) {
            throw new IllegalArgumentException("a message has at least one frame (the header)");
        }
    }

    /** Total bytes of all frames. */
    public long payloadBytes() {
        long n = 0;
        for (byte[] f : frames) {
            n += f.length;
        }
        return n;
    }
}
