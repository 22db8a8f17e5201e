package dist.protocol;

import dist.compress.CompressedFrame;
import dist.compress.CorruptDataException;
import dist.compress.DecompressionBudget;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ReadableByteChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reads {@link Envelope}s (format in {@link FrameWriter}) from a blocking channel through one reusable
 * buffer. Counts and lengths are checked against {@link FrameLimits} as soon as they are read, before
 * anything is allocated for them; an announced length is never allocated on its word alone: a frame
 * takes at most {@link #FIRST_BYTES} up front and grows as its bytes arrive (see {@link #WHOLE_AFTER}),
 * so a peer holds memory only in proportion to what it really sent.
 * A payload frame whose length word names a codec is decompressed before the message is returned: its
 * declared original length counts against {@code maxFrameBytes} and {@code maxMessageBytes} as if it had
 * travelled plain, and against the process's {@link DecompressionBudget}, all before the output exists.
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
    /** The most a frame takes before its bytes arrive; beyond it, memory follows what arrived. */
    static final int FIRST_BYTES = 64 * 1024;
    /**
     * A larger frame arrives into chunks that double (at most twice what arrived), until
     * 1/{@code WHOLE_AFTER} of it is here: then, if the process's {@link #UNRECEIVED_BUDGET} has room
     * for the rest, its own array is taken, the chunks copied in and the rest read straight into it,
     * so a big honest frame costs one extra copy of a sixteenth of its bytes. Without room it goes on
     * in chunks, joined at the end. A peer that stops sending thus holds about twice what it sent, or
     * sixteen times while all such peers together hold no more than the budget beyond what they sent.
     */
    static final int WHOLE_AFTER = 16;
    /** Bytes of frames allocated before they arrived, for the whole process: half the heap. */
    static final long UNRECEIVED_BUDGET = Runtime.getRuntime().maxMemory() / 2;
    private static final AtomicLong UNRECEIVED = new AtomicLong();
    /** Initial room of the per-message tables (length words, frames), grown as lengths arrive. */
    private static final int FIRST_FRAMES = 16;

    private final ReadableByteChannel channel;
    private final FrameLimits limits;
    private final DecompressionBudget budget;
    private final ByteBuffer buf;

    public FrameReader(ReadableByteChannel channel, FrameLimits limits) {
        this(channel, limits, DecompressionBudget.PROCESS);
    }

    /** A reader whose decompressions take room in {@code budget} (tests use a small one). */
    public FrameReader(ReadableByteChannel channel, FrameLimits limits, DecompressionBudget budget) {
        this.channel = channel;
        this.limits = limits;
        this.budget = budget;
        // direct: the JDK reads into it without staging through a temporary buffer
        this.buf = ByteBuffer.allocateDirect(BUFFER_BYTES).order(ByteOrder.BIG_ENDIAN);
        buf.flip();
    }

    /**
     * Whether the next message has arrived whole already, so that {@link #read()} returns it without
     * waiting for the peer. Looks at the buffered bytes only; a message larger than the buffer is never
     * whole here.
     */
    public boolean hasWholeMessage() {
        int p = buf.position();
        int r = buf.remaining();
        int prefix = FrameWriter.FIXED_PREFIX;
        if (r < prefix) {
            return false;
        }
        long count = Integer.toUnsignedLong(buf.getInt(p));
        if (count == 0 || count > (r - prefix) / 8) {
            return false;
        }
        long need = prefix + 8 * count;
        for (int i = 0; i < count && need <= r; i++) {
            need += buf.getLong(p + prefix + 8 * i) & FrameWriter.LENGTH_MASK;
        }
        return need <= r;
    }

    /**
     * The next message, or null when the peer closed the stream cleanly between messages.
     *
     * @throws FrameLimitException     a count or length over the limits (nothing was allocated for it), or a
     *                                 decompression with no room in the budget
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
        // sized by the lengths that arrived, not by the count: a count alone takes no memory
        long[] words = new long[Math.min(n, FIRST_FRAMES)];
        long total = 0;
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
            }
            if (i == words.length) {
                words = Arrays.copyOf(words, (int) Math.min(n, 2L * words.length));
            }
            words[i] = word;
            total += len;
            if (total > limits.maxMessageBytes()) {
                throw overMessageLimit(n, "announced");
            }
        }
        List<byte[]> frames = new ArrayList<>(Math.min(n, FIRST_FRAMES));
        long taken = 0; // room held in the decompression budget until the message is handed on
        try {
            for (int i = 0; i < n; i++) {
                int len = (int) (words[i] & FrameWriter.LENGTH_MASK);
                byte[] frame = readFrame(i, n, len);
                int codec = (int) (words[i] >>> 56);
                if (codec != 0) {
                    long original = CompressedFrame.declaredLength(frame);
                    if (original > limits.maxFrameBytes()) {
                        throw new FrameLimitException("compressed frame " + i + " of " + n + " declares " + original
                                + " bytes once decompressed, over the limit maxFrameBytes=" + limits.maxFrameBytes()
                                + " (raise CommConfig.maxFrameBytes if the peer is trusted)");
                    }
                    try {
                        CompressedFrame.checkedLength(codec, frame, limits.maxFrameBytes());
                    } catch (CorruptDataException e) {
                        throw new FrameFormatException("frame " + i + " of " + n + " does not decompress: "
                                + e.getMessage(), e);
                    }
                    // decompressed bytes count as if they had travelled plain, and take room before they exist
                    total += original - len;
                    if (total > limits.maxMessageBytes()) {
                        throw overMessageLimit(n, "would decompress to");
                    }
                    take(original, i, n);
                    taken += original;
                    try {
                        frame = CompressedFrame.unpack(codec, frame, original);
                    } catch (CorruptDataException e) {
                        throw new FrameFormatException("frame " + i + " of " + n + " does not decompress: "
                                + e.getMessage(), e);
                    }
                }
                frames.add(frame);
            }
        } finally {
            budget.release(taken);
        }
        return new Envelope(kind, requestId, frames);
    }

    private FrameLimitException overMessageLimit(int n, String verb) {
        return new FrameLimitException("a message of " + n + " frames " + verb + " more than "
                + limits.maxMessageBytes() + " bytes in all, over the limit maxMessageBytes"
                + " (raise CommConfig.maxMessageBytes, dist.comm.max-message-bytes, if the peer is trusted)");
    }

    /** Room in the process's decompression budget for {@code bytes} of output, or a refusal that says why. */
    private void take(long bytes, int index, int count) throws IOException {
        boolean got;
        try {
            got = budget.acquire(bytes);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while waiting for room to decompress frame "
                    + index + " of " + count);
        }
        if (!got) {
            throw new FrameLimitException("compressed frame " + index + " of " + count + " would decompress to "
                    + bytes + " bytes, and the process's decompression budget (" + budget.capacity()
                    + " bytes for all peers at once) " + (bytes > budget.capacity() ? "is smaller"
                    : "had no room within " + TimeUnit.NANOSECONDS.toMillis(budget.waitNanos()) + " ms")
                    + " (raise -D" + DecompressionBudget.BYTES_PROPERTY + " if the peers are trusted)");
        }
    }

    /**
     * Frame {@code index} of {@code count}, {@code len} bytes: small ones in one array, larger ones as
     * their bytes arrive (see {@link #WHOLE_AFTER}).
     */
    private byte[] readFrame(int index, int count, int len) throws IOException {
        if (len <= FIRST_BYTES) {
            byte[] frame = new byte[len];
            readInto(frame, 0, len, 0, index, count, len);
            return frame;
        }
        int whole = (int) ((len + (long) WHOLE_AFTER - 1) / WHOLE_AFTER);
        List<byte[]> chunks = new ArrayList<>();
        int got = 0;
        while (got < len) {
            if (got >= whole && reserve(len - got)) {
                try {
                    byte[] frame = join(chunks, len);
                    readInto(frame, got, len - got, 0, index, count, len);
                    return frame;
                } finally {
                    UNRECEIVED.addAndGet(-(len - got));
                }
            }
            int n = Math.min(Math.max(FIRST_BYTES, got), len - got); // what arrived so far doubles
            if (got < whole) {
                n = Math.min(n, whole - got); // stop where the whole frame may be taken
            }
            byte[] chunk = new byte[n];
            readInto(chunk, 0, n, got, index, count, len);
            chunks.add(chunk);
            got += n;
        }
        return join(chunks, len);
    }

    /** A frame's array with {@code chunks} copied to its start; the chunks list is emptied. */
    private static byte[] join(List<byte[]> chunks, int len) {
        byte[] frame = new byte[len];
        int at = 0;
        for (byte[] c : chunks) {
            System.arraycopy(c, 0, frame, at, c.length);
            at += c.length;
        }
        chunks.clear();
        return frame;
    }

    /** Takes {@code bytes} of the process's budget for frame bytes allocated before they arrived. */
    private static boolean reserve(long bytes) {
        while (true) {
            long now = UNRECEIVED.get();
            if (now + bytes > UNRECEIVED_BUDGET) {
                return false;
            }
            if (UNRECEIVED.compareAndSet(now, now + bytes)) {
                return true;
            }
        }
    }

    /**
     * Fills {@code dst[off, off+n)} from the buffer, then the channel; {@code before} bytes of the
     * frame came earlier (for the error when the stream ends).
     */
    private void readInto(byte[] dst, int off, int n, int before, int index, int count, int len) throws IOException {
        int take = Math.min(n, buf.remaining());
        buf.get(dst, off, take);
        int pos = off + take;
        int end = off + n;
        while (pos < end) {
            int r;
            if (end - pos >= BUFFER_BYTES) {
                // straight into the array, a chunk at a time (the JDK stages each chunk)
                r = channel.read(ByteBuffer.wrap(dst, pos, Math.min(end - pos, FrameWriter.CHUNK)));
                if (r > 0) {
                    pos += r;
                }
            } else {
                buf.clear();
                r = channel.read(buf);
                buf.flip();
                if (r > 0) {
                    int t = Math.min(end - pos, buf.remaining());
                    buf.get(dst, pos, t);
                    pos += t;
                }
            }
            if (r < 0) {
                throw new TruncatedFrameException("the peer closed the connection inside a message: frame "
                        + index + " of " + count + " had " + (before + pos) + " of " + len + " bytes");
            }
        }
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
