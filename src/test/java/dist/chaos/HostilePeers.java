package dist.chaos;

import dist.compress.Deflate;
import dist.protocol.Envelope;
import dist.protocol.FrameWriter;
import dist.protocol.Handshake;
import dist.protocol.Message;
import dist.protocol.MessageCodec;
import dist.protocol.Role;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Raw peers that misbehave on purpose against one listener: each holds its socket until {@link #close()}.
 * None of them reads what the listener sends back.
 */
final class HostilePeers implements AutoCloseable {
    private final int port;
    private record Peer(String what, Socket socket) {
    }

    private final List<Peer> peers = new CopyOnWriteArrayList<>();
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    /** Requests the flooding peers got onto the wire before the listener stopped taking them. */
    final AtomicLong floodedBytes = new AtomicLong();
    private volatile boolean closed;
    /** Set when the flooding peers should stop sending (and so look as silent as they are). */
    private volatile boolean quiet;

    HostilePeers(int port) {
        this.port = port;
    }

    private Socket open(String what) throws IOException {
        Socket s = new Socket();
        peers.add(new Peer(what, s));
        s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
        return s;
    }

    private static byte[] hello() {
        return Handshake.encode(Role.CLIENT, Handshake.VERSION);
    }

    /** Connects and never sends a byte. */
    void silentBeforeHandshake() throws IOException {
        open("silent before the handshake");
    }

    /** Completes its half of the handshake, then says nothing more. */
    void silentAfterHandshake() throws IOException {
        open("silent after the handshake").getOutputStream().write(hello());
    }

    /** Announces a single frame of {@code bytes} bytes and sends nothing of it. */
    void announceFrameAndStall(long bytes) throws IOException {
        ByteBuffer prefix = ByteBuffer.allocate(FrameWriter.prefixBytes(1));
        prefix.putInt(1).put((byte) Envelope.Kind.ONE_WAY.ordinal()).putLong(0).putLong(bytes);
        OutputStream out = open("announced " + bytes + " bytes and stalled").getOutputStream();
        out.write(hello());
        out.write(prefix.array());
        out.flush();
    }

    /**
     * Sends a message whose payload frame is {@code packedBytes()} of deflate blocks that expand to
     * {@code originalMiB} MiB of zeros, then holds the connection.
     */
    void compressionBomb(int originalMiB) throws IOException {
        List<byte[]> header = MessageCodec.get().encode(new Message.Ping(1));
        byte[] bomb = deflateBomb(originalMiB);
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        ByteBuffer prefix = ByteBuffer.allocate(FrameWriter.prefixBytes(2));
        prefix.putInt(2).put((byte) Envelope.Kind.ONE_WAY.ordinal()).putLong(0);
        prefix.putLong(header.get(0).length);
        prefix.putLong(((long) Deflate.ID << 56) | bomb.length);
        wire.writeBytes(hello());
        wire.writeBytes(prefix.array());
        wire.writeBytes(header.get(0));
        wire.writeBytes(bomb);
        OutputStream out = open("compression bomb of " + originalMiB + " MiB").getOutputStream();
        out.write(wire.toByteArray());
        out.flush();
    }

    /** Packed-frame layout: the original length, then the same compressed 1 MiB block of zeros again and again. */
    static byte[] deflateBomb(int originalMiB) {
        byte[] zeros = new byte[1 << 20];
        byte[] scratch = new byte[(1 << 20) + 4];
        int c = Deflate.DEFAULT.compress(zeros, 0, zeros.length, scratch, 4);
        if (c < 0) {
            throw new IllegalStateException("a block of zeros did not compress");
        }
        ByteBuffer b = ByteBuffer.allocate(4 + originalMiB * (4 + c));
        b.putInt(originalMiB << 20);
        for (int i = 0; i < originalMiB; i++) {
            b.putInt(c).put(scratch, 4, c);
        }
        return b.array();
    }

    /**
     * Sends requests of about 1 MB (a who-has for 40,000 keys) as fast as the listener takes them and
     * reads none of the replies, on its own thread, until closed or dropped.
     */
    void floodRequestsAndReadNothing() throws IOException {
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 40_000; i++) {
            keys.add(String.format("chaos-flood-key-%09d", i));
        }
        List<byte[]> frames = MessageCodec.get().encode(new Message.WhoHasRequest(keys));
        Socket s = open("flooded requests, read nothing");
        OutputStream out = s.getOutputStream();
        out.write(hello());
        threads.add(Thread.ofVirtual().name("chaos-flood").start(() -> {
            long id = 1;
            try {
                while (!closed && !quiet) {
                    for (ByteBuffer part : FrameWriter.encode(new Envelope(Envelope.Kind.REQUEST, id++, frames))) {
                        byte[] a = new byte[part.remaining()];
                        part.get(a);
                        out.write(a);
                        floodedBytes.addAndGet(a.length);
                    }
                }
            } catch (IOException e) {
                // dropped by the listener: what should happen
            }
        }));
    }

    /**
     * The peers whose connection the listener has not closed within {@code bound}: each reads (and
     * discards) what it was sent until the end of stream, a reset, or the bound.
     */
    List<String> stillOpenAfter(java.time.Duration bound) throws InterruptedException {
        // reading what it was sent makes a flooding peer an honest, if busy, one: it stops sending first,
        // so that it is what it was, a peer that reads nothing, and now says nothing either
        quiet = true;
        for (Thread t : threads) {
            t.join(bound.toMillis());
        }
        long deadline = System.nanoTime() + bound.toNanos();
        List<String> open = new CopyOnWriteArrayList<>();
        List<Thread> readers = new ArrayList<>();
        for (Peer p : peers) {
            readers.add(Thread.ofVirtual().start(() -> {
                byte[] sink = new byte[64 << 10];
                try {
                    java.io.InputStream in = p.socket().getInputStream();
                    while (true) {
                        long left = (deadline - System.nanoTime()) / 1_000_000;
                        if (left <= 0) {
                            open.add(p.what());
                            return;
                        }
                        p.socket().setSoTimeout((int) left);
                        if (in.read(sink) < 0) {
                            return;
                        }
                    }
                } catch (java.net.SocketTimeoutException e) {
                    open.add(p.what());
                } catch (IOException e) {
                    // reset or closed by the listener
                }
            }));
        }
        for (Thread t : readers) {
            t.join();
        }
        return open;
    }

    @Override
    public void close() {
        closed = true;
        for (Peer p : peers) {
            try {
                p.socket().close();
            } catch (IOException ignored) {
                // already reset by the listener
            }
        }
        for (Thread t : threads) {
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
