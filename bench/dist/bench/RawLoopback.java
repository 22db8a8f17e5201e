package dist.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The loopback floor between two processes: a 16-byte ping-pong round trip and a bulk transfer
 * over plain blocking socket channels, no framing. {@link #main} runs the peer side.
 */
public final class RawLoopback {
    private RawLoopback() {
    }

    /** Round-trip times in nanoseconds, sorted, of {@code n} 16-byte ping-pongs with a child JVM. */
    static long[] pingPong(int warm, int n) throws Exception {
        return pingPong(warm, n, List.of());
    }

    /** As {@link #pingPong(int, int)}, the peer started behind {@code prefix} (e.g. taskset -c 1). */
    private static long[] pingPong(int warm, int n, List<String> prefix) throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
            Process peer = startPeer("echo", server, prefix);
            try (SocketChannel ch = server.accept()) {
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                ByteBuffer buf = ByteBuffer.allocateDirect(16);
                long[] times = new long[n];
                for (int i = 0; i < warm + n; i++) {
                    buf.clear();
                    buf.putLong(0, i);
                    long s = System.nanoTime();
                    while (buf.hasRemaining()) {
                        ch.write(buf);
                    }
                    buf.clear();
                    while (buf.hasRemaining()) {
                        if (ch.read(buf) < 0) {
                            throw new IOException("peer closed");
                        }
                    }
                    long d = System.nanoTime() - s;
                    if (i >= warm) {
                        times[i - warm] = d;
                    }
                }
                Arrays.sort(times);
                return times;
            } finally {
                peer.destroyForcibly().waitFor();
            }
        }
    }

    /** MB/s of {@code bytes} sent by a child JVM and read here into a reused buffer. */
    static double bulk(long bytes) throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
            Process peer = startPeer("send:" + bytes, server);
            try (SocketChannel ch = server.accept()) {
                ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
                long got = 0;
                long s = System.nanoTime();
                while (got < bytes) {
                    buf.clear();
                    int r = ch.read(buf);
                    if (r < 0) {
                        throw new IOException("peer closed after " + got + " bytes");
                    }
                    got += r;
                }
                return bytes / 1e6 / ((System.nanoTime() - s) / 1e9);
            } finally {
                peer.destroyForcibly().waitFor();
            }
        }
    }

    /**
     * MB/s of one {@code size}-byte array sent by a child JVM and read here into a new array: the memory
     * work a 100 MB worker-to-worker transfer cannot avoid (a fresh array to fill, bytes that are not in
     * cache), which a stream through one reused buffer skips. The median of {@code n} after one warm-up.
     */
    static double arrays(int size, int n) throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
            Process peer = startPeer("arrays:" + size, server);
            try (SocketChannel ch = server.accept()) {
                double[] rates = new double[n];
                for (int i = -1; i < n; i++) {
                    long s = System.nanoTime();
                    ch.write(ByteBuffer.wrap(new byte[] {1}));
                    byte[] into = new byte[size];
                    int got = 0;
                    while (got < size) {
                        int r = ch.read(ByteBuffer.wrap(into, got, Math.min(CHUNK, size - got)));
                        if (r < 0) {
                            throw new IOException("peer closed after " + got + " bytes");
                        }
                        got += r;
                    }
                    if (i >= 0) {
                        rates[i] = size / 1e6 / ((System.nanoTime() - s) / 1e9);
                    }
                }
                Arrays.sort(rates);
                return rates[n / 2];
            } finally {
                peer.destroyForcibly().waitFor();
            }
        }
    }

    private static final int CHUNK = 1 << 20;

    private static Process startPeer(String mode, ServerSocketChannel server) throws IOException {
        return startPeer(mode, server, List.of());
    }

    private static Process startPeer(String mode, ServerSocketChannel server, List<String> prefix) throws IOException {
        int port = ((InetSocketAddress) server.getLocalAddress()).getPort();
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(List.of(ProcessHandle.current().info().command().orElseThrow(), "-cp",
                System.getProperty("java.class.path"), RawLoopback.class.getName(), mode, String.valueOf(port)));
        return new ProcessBuilder(cmd).inheritIO().start();
    }

    /**
     * The median round trip, in nanoseconds, of a ping-pong whose two ends are child JVMs pinned with
     * {@code taskset} to {@code driverCpu} and {@code peerCpu}: the same CPU, or two that must wake
     * each other. -1 when the pinned run fails (no taskset, say).
     */
    static long pinnedPingPongMedian(int driverCpu, int peerCpu, int warm, int n) throws Exception {
        String out = runChild(List.of("taskset", "-c", String.valueOf(driverCpu),
                ProcessHandle.current().info().command().orElseThrow(), "-cp", System.getProperty("java.class.path"),
                RawLoopback.class.getName(), "drive:" + peerCpu + ":" + warm + ":" + n, "0"), Map.of());
        return out == null ? -1 : Long.parseLong(out.strip());
    }

    /**
     * What {@code cmd} printed, or null (after saying why on stderr) when it failed or ran past 5
     * minutes; {@code env} is added to its environment and its stderr is dropped.
     */
    static String runChild(List<String> cmd, Map<String, String> env) throws Exception {
        Path out = Files.createTempFile("dist-bench-child", ".txt");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile())
                .redirectError(ProcessBuilder.Redirect.DISCARD);
        pb.environment().putAll(env);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            System.err.println("cannot run " + cmd.get(0) + ": " + e.getMessage());
            Files.deleteIfExists(out);
            return null;
        }
        try {
            boolean done = p.waitFor(5, TimeUnit.MINUTES);
            if (!done || p.exitValue() != 0) {
                System.err.println(String.join(" ", cmd.subList(0, Math.min(4, cmd.size()))) + " ... "
                        + (done ? "exited with " + p.exitValue() : "ran past 5 minutes"));
                return null;
            }
            return Files.readString(out);
        } finally {
            p.destroyForcibly().waitFor();
            Files.deleteIfExists(out);
        }
    }

    /**
     * A child side. "drive:PEER_CPU:WARM:N 0" runs a ping-pong with a peer pinned to PEER_CPU and
     * prints its median. The peers: "echo PORT" answers every 16 bytes; "send:N PORT" writes N bytes;
     * "arrays:N PORT" writes one array of N random bytes for every byte it reads.
     */
    public static void main(String[] args) throws Exception {
        if (args[0].startsWith("drive:")) { // drive:PEER_CPU:WARM:N prints the median round trip in ns
            String[] f = args[0].split(":");
            long[] rtt = pingPong(Integer.parseInt(f[2]), Integer.parseInt(f[3]), List.of("taskset", "-c", f[1]));
            System.out.println(rtt[rtt.length / 2]);
            return;
        }
        try (SocketChannel ch = SocketChannel.open(new InetSocketAddress("127.0.0.1", Integer.parseInt(args[1])))) {
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            if (args[0].equals("echo")) {
                ByteBuffer buf = ByteBuffer.allocateDirect(16);
                while (true) {
                    buf.clear();
                    while (buf.hasRemaining()) {
                        if (ch.read(buf) < 0) {
                            return;
                        }
                    }
                    buf.flip();
                    while (buf.hasRemaining()) {
                        ch.write(buf);
                    }
                }
            } else if (args[0].startsWith("arrays:")) {
                byte[] data = new byte[Integer.parseInt(args[0].substring(7))];
                new java.util.SplittableRandom(42).nextBytes(data);
                ByteBuffer ask = ByteBuffer.allocate(1);
                while (true) {
                    ask.clear();
                    if (ch.read(ask) < 0) {
                        return;
                    }
                    for (int off = 0; off < data.length; off += CHUNK) {
                        ByteBuffer b = ByteBuffer.wrap(data, off, Math.min(CHUNK, data.length - off));
                        while (b.hasRemaining()) {
                            ch.write(b);
                        }
                    }
                }
            } else {
                long n = Long.parseLong(args[0].substring(5));
                ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
                long sent = 0;
                while (sent < n) {
                    buf.clear();
                    buf.limit((int) Math.min(buf.capacity(), n - sent));
                    sent += ch.write(buf);
                }
                Thread.sleep(60_000); // the reader kills this process when done
            }
        }
    }
}
