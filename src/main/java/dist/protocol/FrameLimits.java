package dist.protocol;

/**
 * Bounds a reader enforces on every incoming message, before it allocates anything.
 *
 * <pre>{@code
 * FrameLimits limits = new FrameLimits(1 << 16, 256L << 20);  // 64 Ki frames, 256 MiB each
 * }</pre>
 *
 * @param maxFrames       most frames in one message (frame 0, the header, counts)
 * @param maxFrameBytes   largest single frame in bytes; at most {@link #MAX_ARRAY} since a frame is one byte[]
 * @param maxMessageBytes largest message: its frames' lengths together (compressed frames count as sent)
 */
public record FrameLimits(int maxFrames, long maxFrameBytes, long maxMessageBytes) {

    /** The largest byte[] a JVM reliably allocates. */
    public static final long MAX_ARRAY = Integer.MAX_VALUE - 16;

    public static final FrameLimits DEFAULT = new FrameLimits(1 << 16, MAX_ARRAY);

    /** Limits with no bound on a message beyond its frames'. */
    public FrameLimits(int maxFrames, long maxFrameBytes) {
        this(maxFrames, maxFrameBytes, Long.MAX_VALUE);
    }

    public FrameLimits {
        if (maxFrames < 1) {
            throw new IllegalArgumentException("maxFrames must be at least 1, got " + maxFrames);
        }
        if (maxFrameBytes < 0 || maxFrameBytes > MAX_ARRAY) {
            throw new IllegalArgumentException("maxFrameBytes must be within 0.." + MAX_ARRAY + ", got " + maxFrameBytes);
        }
        if (maxMessageBytes < 1) {
            throw new IllegalArgumentException("maxMessageBytes must be positive, got " + maxMessageBytes);
        }
    }
}
