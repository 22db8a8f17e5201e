package dist.security;

import dist.serial.Encoded;

import dist.compress.Compression;
import dist.protocol.Envelope;
import dist.protocol.FrameLimits;
import dist.protocol.FrameReader;
import dist.protocol.FrameWriter;
import dist.protocol.Handshake;
import dist.protocol.Message;
import dist.protocol.MessageCodec;
import dist.protocol.Role;
import dist.protocol.TaskOptions;
import dist.protocol.TaskSpec;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Feeds listeners random and mutated input, one connection per input: a mutated handshake, or a valid
 * handshake followed by mutations of valid encodings of real messages (frame counts, lengths, kinds,
 * compressed frames, headers) and plain garbage. After sending, it half-closes and waits (bounded) for
 * the listener to close: a listener that neither answers nor closes within {@link #HANG_MILLIS} counts
 * as a hang. Inputs that decode to messages a trusted peer may legitimately send to change the cluster
 * (register a worker, report results, shut down) are skipped: they are not hostile bytes but lies, which
 * the token keeps out. Listener-agnostic: a target is a port.
 */
final class FuzzDriver {

    static final int HANG_MILLIS = 10_000;

    /**
     * A listener to feed. {@code frames}: whether a plain handshake gets it to read frames; {@code http}:
     * an HTTP listener (the dashboard), fed mutated requests instead.
     */
    record Target(String name, int port, boolean frames, boolean http) {
        Target(String name, int port, boolean frames) {
            this(name, port, frames, false);
        }
    }

    /** One input in this many is larger than 4 KB; one in {@link #SLOW_EVERY} trickles in slowly. */
    static final int LARGE_EVERY = 8;
    static final int SLOW_EVERY = 400;
    /** A slow peer sends its input in pieces of at most this many bytes, pausing between them. */
    static final int SLOW_PIECE = 64;

    /** What a run did. */
    static final class Report {
        final AtomicLong inputs = new AtomicLong();
        final AtomicLong handshakes = new AtomicLong();
        final AtomicLong frames = new AtomicLong();
        final AtomicLong skipped = new AtomicLong();
        final AtomicLong hangs = new AtomicLong();
        final AtomicLong connectFailures = new AtomicLong();
        final AtomicLong large = new AtomicLong();
        final AtomicLong slow = new AtomicLong();
        final AtomicLong http = new AtomicLong();

        @Override
        public String toString() {
            return inputs + " inputs (" + handshakes + " handshakes, " + frames + " framed), " + skipped
                    + " skipped as legitimate messages, " + http + " HTTP, " + large + " over 4 KB, " + slow + " slow; "
                    + hangs + " hangs, " + connectFailures + " connect failures";
        }
    }

    private static final List<Class<? extends Message>> HARMLESS = List.of(Message.Ping.class,
            Message.WorkersRequest.class, Message.WhoHasRequest.class, Message.Ack.class, Message.ErrorReply.class);
    private static final long[] INTERESTING = {0, 1, 2, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffffL, 0x80000000L,
            0xffffffffL, 1L << 40, Long.MAX_VALUE, -1L, 65536, 65537};

    private final List<byte[]> samples;
    private final byte[] hello = Handshake.encode(Role.CLIENT, Handshake.VERSION);
    private final byte[] tlsClientHello;
    private final FrameLimits limits;

    FuzzDriver(FrameLimits limits) throws Exception {
        this.limits = limits;
        this.samples = samples();
        SSLEngine e = SSLContext.getDefault().createSSLEngine();
        e.setUseClientMode(true);
        ByteBuffer out = ByteBuffer.allocate(e.getSession().getPacketBufferSize());
        e.wrap(ByteBuffer.allocate(0), out);
        tlsClientHello = java.util.Arrays.copyOf(out.array(), out.position());
    }

    /** Valid wire encodings of real messages, plain and compressed. */
    private static List<byte[]> samples() {
        byte[] payload = new byte[4096];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) (i % 7);
        }
        List<Message> ms = List.of(new Message.Ping(1), new Message.WorkersRequest(),
                new Message.WhoHasRequest(List.of("a", "b")), new Message.RegisterClient("fuzz"),
                new Message.UpdateGraph("fuzz", List.of(new TaskSpec("k", new byte[] {1, 2, 3}, List.of("d"), 3,
                        new TaskOptions(List.of("w"), true, Map.of("GPU", 1.0), 2))), List.of("k")),
                new Message.Heartbeat(1, 2, 3, 4), new Message.DataReply(Map.of("x", Encoded.of(payload))),
                new Message.DataReply(Map.of("y", Encoded.of(java.util.Arrays.copyOf(payload, 48 << 10)))),
                new Message.TaskFinished("k", 3, "java.lang.Integer", 1, 2, new byte[] {9}),
                new Message.Batch(List.of(new Message.Ping(2), new Message.Ack())), new Message.GetData(List.of("x")),
                new Message.ErrorReply("e"));
        List<byte[]> out = new ArrayList<>();
        Compression lz4 = Compression.named("lz4");
        for (Message m : ms) {
            List<byte[]> frames = MessageCodec.get().encode(m);
            out.add(concat(FrameWriter.encode(new Envelope(Envelope.Kind.REQUEST, 7, frames))));
            out.add(concat(FrameWriter.encode(new Envelope(Envelope.Kind.ONE_WAY, 0, frames), lz4)));
        }
        return out;
    }

    private static byte[] concat(ByteBuffer[] bufs) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (ByteBuffer x : bufs) {
            byte[] a = new byte[x.remaining()];
            x.duplicate().get(a);
            b.writeBytes(a);
        }
        return b.toByteArray();
    }

    /** Runs {@code inputs} inputs (counted into {@code r}) over {@code threads} virtual threads against {@code targets}. */
    Report run(List<Target> targets, long inputs, int threads, long seed, Report r) throws InterruptedException {
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            SplittableRandom rnd = new SplittableRandom(seed + t * 7919L);
            ts.add(Thread.ofVirtual().name("fuzz-" + t).start(() -> {
                while (r.inputs.get() < inputs) {
                    one(targets.get(rnd.nextInt(targets.size())), rnd, r);
                }
            }));
        }
        for (Thread t : ts) {
            t.join();
        }
        return r;
    }

    private void one(Target target, SplittableRandom rnd, Report r) {
        if (target.http()) {
            http(target, rnd, r);
            return;
        }
        byte[] input;
        boolean framed = target.frames() && rnd.nextInt(4) != 0;
        if (framed) {
            byte[] body = mutateOrRandom(samples.get(rnd.nextInt(samples.size())), rnd);
            if (legitimate(body)) {
                r.skipped.incrementAndGet();
                return;
            }
            input = join(hello, body);
        } else {
            input = switch (rnd.nextInt(4)) {
                case 0 -> mutate(hello, rnd);
                case 1 -> join(mutate(hello, rnd), samples.get(rnd.nextInt(samples.size())));
                case 2 -> mutate(tlsClientHello, rnd);
                default -> random(rnd);
            };
            if (target.frames() && legitimateAfterHello(input)) {
                r.skipped.incrementAndGet();
                return;
            }
        }
        if (rnd.nextInt(LARGE_EVERY) == 0 && input.length <= 4096) {
            input = join(input, random(rnd, 4097 + rnd.nextInt(60 << 10)));
        }
        (framed ? r.frames : r.handshakes).incrementAndGet();
        count(input, r);
        send(target.port(), input, r, rnd.nextInt(SLOW_EVERY) == 0, rnd);
    }

    private static void count(byte[] input, Report r) {
        r.inputs.incrementAndGet();
        if (input.length > 4096) {
            r.large.incrementAndGet();
        }
    }

    /** Requests an HTTP listener would see, mutated, some with headers or bodies past 4 KB. */
    private static final List<byte[]> HTTP_SAMPLES = List.of(
            http("GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
            http("GET /api/tasks HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
            http("GET /api/story?key=fuzz-%ff%00 HTTP/1.1\r\nHost: x\r\n\r\n"),
            http("GET /metrics HTTP/1.0\r\n\r\n"),
            http("GET /status HTTP/1.1\r\nHost: x\r\nCookie: " + "c".repeat(6000) + "\r\n\r\n"),
            http("POST /api/status HTTP/1.1\r\nHost: x\r\nContent-Length: 9000\r\n\r\n" + "b".repeat(9000)),
            http("GET /" + "p".repeat(5000) + " HTTP/1.1\r\nHost: x\r\n\r\n"),
            http("GET /api/status HTTP/1.1\r\nTransfer-Encoding: chunked\r\nHost: x\r\n\r\nffffffff\r\nab"));

    private static byte[] http(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    private void http(Target target, SplittableRandom rnd, Report r) {
        byte[] base = HTTP_SAMPLES.get(rnd.nextInt(HTTP_SAMPLES.size()));
        byte[] input = switch (rnd.nextInt(4)) {
            case 0 -> base;
            case 1 -> random(rnd, rnd.nextInt(8192));
            default -> mutateHttp(base, rnd);
        };
        r.http.incrementAndGet();
        count(input, r);
        send(target.port(), input, r, rnd.nextInt(SLOW_EVERY / 4) == 0, rnd);
    }

    private static byte[] mutateHttp(byte[] b, SplittableRandom rnd) {
        byte[] out = b.clone();
        for (int n = 1 + rnd.nextInt(4); n > 0; n--) {
            out = switch (rnd.nextInt(4)) {
                case 0 -> flipBits(out, rnd);
                case 1 -> setBytes(out, rnd);
                case 2 -> out.length == 0 ? out : java.util.Arrays.copyOf(out, rnd.nextInt(out.length));
                default -> insert(out, rnd);
            };
        }
        return out;
    }

    /** A handshake input that is a valid hello followed by legitimate messages would be a trusted peer's lie. */
    private boolean legitimateAfterHello(byte[] input) {
        if (input.length < Handshake.BYTES) {
            return false;
        }
        try {
            Handshake.readHello(Channels.newChannel(new ByteArrayInputStream(input, 0, Handshake.BYTES)));
        } catch (IOException e) {
            return false;
        }
        return legitimate(java.util.Arrays.copyOfRange(input, Handshake.BYTES, input.length));
    }

    /** Whether the bytes hold a message outside the harmless set, decoded as the listener would. */
    private boolean legitimate(byte[] body) {
        FrameReader reader = new FrameReader(Channels.newChannel(new ByteArrayInputStream(body)), limits);
        try {
            Envelope e;
            while ((e = reader.read()) != null) {
                Message m = MessageCodec.get().decode(e.frames());
                if (!HARMLESS.contains(m.getClass())) {
                    return true;
                }
            }
        } catch (IOException | RuntimeException bad) {
            // the listener drops the connection here; what came before was harmless
        }
        return false;
    }

    private void send(int port, byte[] input, Report r, boolean slow, SplittableRandom rnd) {
        try (Socket s = new Socket()) {
            s.setSoLinger(true, 0); // close with a reset: no TIME_WAIT, so millions of inputs do not exhaust ports
            s.setTcpNoDelay(true);
            try {
                s.connect(new InetSocketAddress("127.0.0.1", port), HANG_MILLIS);
            } catch (IOException e) {
                r.connectFailures.incrementAndGet();
                return;
            }
            s.setSoTimeout(HANG_MILLIS);
            try {
                if (slow) {
                    r.slow.incrementAndGet();
                    trickle(s, input, rnd);
                } else {
                    s.getOutputStream().write(input);
                }
                s.shutdownOutput();
            } catch (IOException e) {
                return; // the listener already dropped us: fine
            }
            InputStream in = s.getInputStream();
            byte[] sink = new byte[8192];
            try {
                while (in.read(sink) >= 0) {
                    // drain replies until the listener closes
                }
            } catch (SocketTimeoutException e) {
                r.hangs.incrementAndGet();
            } catch (IOException e) {
                // reset by the listener: closed
            }
        } catch (IOException e) {
            // closing a reset socket
        }
    }

    /** Sends at most a few KB of the input a few bytes at a time, a pause between pieces: a slow peer. */
    private static void trickle(Socket s, byte[] input, SplittableRandom rnd) throws IOException {
        java.io.OutputStream out = s.getOutputStream();
        int end = Math.min(input.length, 4096 + rnd.nextInt(2048));
        for (int at = 0; at < end; ) {
            int n = Math.min(end - at, 1 + rnd.nextInt(SLOW_PIECE));
            out.write(input, at, n);
            out.flush();
            at += n;
            try {
                Thread.sleep(1 + rnd.nextInt(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private byte[] mutateOrRandom(byte[] base, SplittableRandom rnd) {
        return rnd.nextInt(10) == 0 ? random(rnd) : mutate(base, rnd);
    }

    private static byte[] random(SplittableRandom rnd) {
        return random(rnd, rnd.nextInt(120));
    }

    private static byte[] random(SplittableRandom rnd, int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    private byte[] mutate(byte[] base, SplittableRandom rnd) {
        byte[] b = base.clone();
        int ops = 1 + rnd.nextInt(3);
        for (int i = 0; i < ops; i++) {
            b = switch (rnd.nextInt(9)) {
                case 0 -> flipBits(b, rnd);
                case 1 -> setBytes(b, rnd);
                case 2 -> interesting(b, rnd);
                case 3 -> b.length == 0 ? b : java.util.Arrays.copyOf(b, rnd.nextInt(b.length));
                case 4 -> insert(b, rnd);
                case 5 -> delete(b, rnd);
                case 6 -> duplicate(b, rnd);
                case 7 -> splice(b, samples.get(rnd.nextInt(samples.size())), rnd);
                default -> prefixWord(b, rnd);
            };
        }
        return b;
    }

    private static byte[] flipBits(byte[] b, SplittableRandom rnd) {
        for (int n = 1 + rnd.nextInt(8); n > 0 && b.length > 0; n--) {
            int i = rnd.nextInt(b.length);
            b[i] ^= (byte) (1 << rnd.nextInt(8));
        }
        return b;
    }

    private static byte[] setBytes(byte[] b, SplittableRandom rnd) {
        for (int n = 1 + rnd.nextInt(4); n > 0 && b.length > 0; n--) {
            b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
        }
        return b;
    }

    private static byte[] interesting(byte[] b, SplittableRandom rnd) {
        int width = rnd.nextBoolean() ? 4 : 8;
        if (b.length < width) {
            return b;
        }
        int at = rnd.nextInt(b.length - width + 1);
        long v = INTERESTING[rnd.nextInt(INTERESTING.length)];
        for (int i = width - 1; i >= 0; i--) {
            b[at + i] = (byte) v;
            v >>>= 8;
        }
        return b;
    }

    /** Overwrites the frame count, kind or a length word (big-endian) with an interesting value. */
    private static byte[] prefixWord(byte[] b, SplittableRandom rnd) {
        int[] offsets = {0, 4, 13, 21};
        int at = offsets[rnd.nextInt(offsets.length)];
        int width = at == 0 ? 4 : at == 4 ? 1 : 8;
        if (b.length < at + width) {
            return b;
        }
        long v = INTERESTING[rnd.nextInt(INTERESTING.length)];
        for (int i = width - 1; i >= 0; i--) {
            b[at + i] = (byte) v;
            v >>>= 8;
        }
        return b;
    }

    private static byte[] insert(byte[] b, SplittableRandom rnd) {
        byte[] extra = new byte[1 + rnd.nextInt(16)];
        rnd.nextBytes(extra);
        int at = rnd.nextInt(b.length + 1);
        return join(join(java.util.Arrays.copyOf(b, at), extra), java.util.Arrays.copyOfRange(b, at, b.length));
    }

    private static byte[] delete(byte[] b, SplittableRandom rnd) {
        if (b.length == 0) {
            return b;
        }
        int at = rnd.nextInt(b.length);
        int n = 1 + rnd.nextInt(Math.min(16, b.length - at));
        return join(java.util.Arrays.copyOf(b, at), java.util.Arrays.copyOfRange(b, at + n, b.length));
    }

    private static byte[] duplicate(byte[] b, SplittableRandom rnd) {
        if (b.length == 0 || b.length > 1 << 16) {
            return b;
        }
        int at = rnd.nextInt(b.length);
        int n = 1 + rnd.nextInt(Math.min(64, b.length - at));
        byte[] part = java.util.Arrays.copyOfRange(b, at, at + n);
        return join(join(java.util.Arrays.copyOf(b, at + n), part), java.util.Arrays.copyOfRange(b, at + n, b.length));
    }

    private static byte[] splice(byte[] b, byte[] other, SplittableRandom rnd) {
        int cut = rnd.nextInt(b.length + 1);
        int from = rnd.nextInt(other.length + 1);
        return join(java.util.Arrays.copyOf(b, cut), java.util.Arrays.copyOfRange(other, from, other.length));
    }

    private static byte[] join(byte[] a, byte[] b) {
        byte[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
