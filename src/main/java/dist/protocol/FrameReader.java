package dist.protocol;

import dist.compress.CompressedFrame;
import dist.compress.CorruptDataException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ReadableByteChannel;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads {@link Envelope}s (format in {@link FrameWriter}) from a blocking channel through one reusable
 * buffer. Counts and lengths are checked against {@link FrameLimits} as soon as they are read, before
 * anything is allocated for them. A frame larger than the buffer is read straight into its own array.
 * A payload frame whose length word names a codec is decompressed before the message is returned, its
 * declared original length held to the same {@code maxFrameBytes}.
 * Not thread-safe: one reader per channel.
 *
 * <pre>{@code
 * FrameReader in = new FrameReader(channel, FrameLimits.DEFAULT);
 * Envelope e;
 * while ((e = in.read()) != null) handle(e);   // null: the peer closed at a message boundary
 * }</pre>
 */
public final class FrameReader {

    /** Size of the reusable read buffer. */
    public static final int BUFFER_BYTES = 64 * 1024;
    /**
     * Frames up to this size are allocated at once; larger ones too while the process's frames allocated
     * but not yet received stay within {@link #UNRECEIVED_BUDGET}, else they grow as their bytes arrive.
     */
    static final int EAGER_BYTES = 4 << 20;
    /** Half the heap: big honest transfers take one allocation and no copy; hostile ones cannot pin the heap. */
    static final long UNRECEIVED_BUDGET = Runtime.getRuntime().maxMemory() / 2;
    private static final java.util.concurrent.atomic.AtomicLong UNRECEIVED = new java.util.concurrent.atomic.AtomicLong();
    /** The most a compressed frame may expand: deflate's worst case, rounded up. */
    static final long MAX_EXPANSION = 1100;

    private final ReadableByteChannel channel;
    private final FrameLimits limits;
    private final ByteBuffer buf;

    public FrameReader(ReadableByteChannel channel, FrameLimits limits) {
        this.channel = channel;
        this.limits = limits;
        // direct: the JDK reads into it without staging through a temporary buffer
        this.buf = ByteBuffer.allocateDirect(BUFFER_BYTES).order(ByteOrder.BIG_ENDIAN);
        buf.flip();
    }

    /**
     * The next message, or null when the peer closed the stream cleanly between messages.
     *
     * @throws FrameLimitException     a count or length over the limits (nothing was allocated for it)
     * @throws FrameFormatException    bytes that are no message (an unknown kind, zero frames)
     * @throws TruncatedFrameException the stream ended inside a message
     */
    public Envelope read() throws IOException {
        if (!fill(4, true, "the frame count")) {
            return null;
        }
        long count = Integer.toUnsignedLong(buf.getInt());
        if (count == 0) {
            throw new FrameFormatException("a message announced 0 frames; every message has a header frame");
        }
        if (count > limits.maxFrames()) {
            throw new FrameLimitException("a message announced " + count + " frames, over the limit maxFrames="
                    + limits.maxFrames() + " (raise CommConfig.maxFrames if the peer is trusted)");
        }
        fill(9, false, "the message kind and request id");
        int code = buf.get() & 0xff;
        Envelope.Kind kind = Envelope.Kind.of(code);
        if (kind == null) {
            throw new FrameFormatException("unknown message kind " + code + " (expected 0 one-way, 1 request, 2 reply)");
        }
        long requestId = buf.getLong();
        int n = (int) count;
        long[] lengths = new long[n];
        long total = 0;
        int[] codecs = null;
        for (int i = 0; i < n; i++) {
            fill(8, false, "the length of frame " + i + " of " + n);
            long word = buf.getLong();
            long len = word & FrameWriter.LENGTH_MASK;
            if (len > limits.maxFrameBytes()) {
                throw new FrameLimitException("frame " + i + " announced " + Long.toUnsignedString(len)
                        + " bytes, over the limit maxFrameBytes=" + limits.maxFrameBytes()
                        + " (raise CommConfig.maxFrameBytes if the peer is trusted)");
            }
            int codec = (int) (word >>> 56);
            if (codec != 0) {
                if (i == 0 || dist.compress.Compression.codecForId(codec) == null) {
                    throw new FrameFormatException("frame " + i + " of " + n + " names compression codec " + codec
                            + (i == 0 ? ", but the header frame is never compressed" : ", which this version does not know")
                            + " (the peer runs another protocol version?)");
                }
                if (codecs == null) {
                    codecs = new int[n];
                }
                codecs[i] = codec;
            }
            lengths[i] = len;
            total += len;
            if (total > limits.maxMessageBytes()) {
                throw new FrameLimitException("a message of " + n + " frames announced more than "
                        + limits.maxMessageBytes() + " bytes in all, over the limit maxMessageBytes"
                        + " (raise CommConfig.maxMessageBytes, dist.comm.max-message-bytes, if the peer is trusted)");
            }
        }
        List<byte[]> frames = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            byte[] frame = readFrame(i, n, (int) lengths[i]);
            if (codecs != null && codecs[i] != 0) {
                try {
                    // no codec here expands a block more than about 1032:1: a bound that stops a tiny frame
                    // from making us allocate gigabytes for its declared original length
                    long plausible = Math.min(limits.maxFrameBytes(), frame.length * MAX_EXPANSION + 4096);
                    frame = CompressedFrame.unpack(codecs[i], frame, plausible);
                } catch (CorruptDataException e) {
                    throw new FrameFormatException("frame " + i + " of " + n + " does not decompress: " + e.getMessage(), e);
                }
            }
            frames.add(frame);
        }
        return new Envelope(kind, requestId, frames);
    }

    private byte[] readFrame(int index, int count, int len) throws IOException {
        boolean reserved = len > EAGER_BYTES && reserve(len);
        try {
            return readFrame(index, count, len, reserved);
        } finally {
            if (reserved) {
                UNRECEIVED.addAndGet(-len);
            }
        }
    }

    /** Takes {@code len} bytes of the process's budget for frames allocated before their bytes arrived. */
    private static boolean reserve(long len) {
        while (true) {
            long now = UNRECEIVED.get();
            if (now + len > UNRECEIVED_BUDGET) {
                return false;
            }
            if (UNRECEIVED.compareAndSet(now, now + len)) {
                return true;
            }
        }
    }

    private byte[] readFrame(int index, int count, int len, boolean allAtOnce) throws IOException {
        // without budget, a large frame's memory is taken as its bytes arrive (growing 4x), so peers that
        // announce gigabytes and send nothing hold no more than the budget plus about 4x what they sent
        byte[] frame = new byte[allAtOnce ? len : Math.min(len, EAGER_BYTES)];
        int pos = Math.min(len, buf.remaining());
        buf.get(frame, 0, pos);
        while (pos < len) {
            if (pos == frame.length) {
                frame = java.util.Arrays.copyOf(frame, (int) Math.min(len, frame.length * 4L));
            }
            int room = frame.length - pos;
            int r;
            if (buf.hasRemaining()) {
                // bytes of this frame left in the buffer after the array grew
                int take = Math.min(room, buf.remaining());
                buf.get(frame, pos, take);
                pos += take;
                continue;
            }
            if (len - pos >= BUFFER_BYTES) {
                // straight into the frame, a chunk at a time (the JDK stages each chunk)
                r = channel.read(ByteBuffer.wrap(frame, pos, Math.min(room, FrameWriter.CHUNK)));
                if (r > 0) {
                    pos += r;
                }
            } else {
                buf.clear();
                r = channel.read(buf);
                buf.flip();
                if (r > 0) {
                    int take = Math.min(room, buf.remaining());
                    buf.get(frame, pos, take);
                    pos += take;
                }
            }
            if (r < 0) {
                throw new TruncatedFrameException("the peer closed the connection inside a message: frame "
                        + index + " of " + count + " had " + pos + " of " + len + " bytes");
            }
        }
        return frame;
    }

    /** Ensures {@code n} bytes are buffered; false only at a clean end of stream when {@code boundary}. */
    private boolean fill(int n, boolean boundary, String what) throws IOException {
        while (buf.remaining() < n) {
            buf.compact();
            int r;
            try {
                r = channel.read(buf);
            } finally {
                buf.flip();
            }
            if (r < 0) {
                if (boundary && !buf.hasRemaining()) {
                    return false;
                }
                throw new TruncatedFrameException("the peer closed the connection inside a message, while "
                        + "sending " + what + " (" + buf.remaining() + " of " + n + " bytes arrived)");
            }
        }
        return true;
    }
}
