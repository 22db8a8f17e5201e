package dist.it;

import dist.Client;
import dist.Future;
import dist.protocol.Envelope;
import dist.protocol.FrameWriter;
import dist.protocol.Handshake;
import dist.protocol.Message;
import dist.protocol.MessageCodec;
import dist.protocol.Role;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A scheduler and two workers in their own JVMs; a peer stops reading, and another client keeps
 * working. A client process stopped with SIGSTOP while thousands of its results flow to it, or a
 * peer that floods requests and reads no reply, is dropped by the scheduler (which says so in its
 * log) once past the write deadline, and meanwhile the honest client's results come back, exact,
 * and the dashboard answers.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class StalledPeerClusterTest {
    static final Duration T = Duration.ofSeconds(30);
    /** The scheduler's write deadline in these tests. */
    static final String WRITE_TIMEOUT = "3s";

    private final Processes procs = new Processes();
    private final List<Long> stopped = new CopyOnWriteArrayList<>();

    @AfterEach
    void cleanup() {
        for (long pid : stopped) {
            signal("CONT", pid);
        }
        procs.close();
    }

    /** 6000 bytes: small enough to travel inline to the client with the notice that the task finished. */
    static byte[] blob(int i) {
        byte[] b = new byte[6000];
        new Random(i).nextBytes(b);
        return b;
    }

    static int square(int x) {
        return x * x;
    }

    /** Client A, in its own JVM: 20,000 tasks in flight, their 120 MB of results flowing back to it. */
    public static final class Flooder {
        public static void main(String[] args) throws Exception {
            try (Client c = Client.connect(args[0])) {
                List<Future<byte[]>> fs = new ArrayList<>();
                for (int round = 0; round < 5; round++) {
                    fs.addAll(c.map(StalledPeerClusterTest::blob,
                            IntStream.range(round * 4000, (round + 1) * 4000).boxed().toList()));
                }
                System.out.println("submitted " + fs.size());
                for (int i = 0; i < fs.size(); i++) {
                    fs.get(i).result(Duration.ofMinutes(5));
                    if (i == 500) {
                        System.out.println("results flowing");
                    }
                }
                System.out.println("all results in");
            }
        }
    }

    /** A scheduler with a short write deadline and a dashboard, and two workers; returns {address, dashboard}. */
    private String[] cluster() throws Exception {
        Processes.Proc s = procs.javaWith(List.of("-Ddist.comm.write-timeout=" + WRITE_TIMEOUT), "dist.Main",
                "scheduler", "--port", "0", "--dashboard-port", "0");
        String address = s.awaitLine(l -> l.startsWith("scheduler at: "), Duration.ofSeconds(60))
                .substring("scheduler at: ".length()).strip();
        String dashboard = s.awaitLine(l -> l.startsWith("dashboard at: "), Duration.ofSeconds(30))
                .substring("dashboard at: ".length()).strip().replaceFirst("/status$", "");
        for (String name : List.of("w1", "w2")) {
            procs.dist("worker", address, "--nthreads", "1", "--name", name, "--no-nanny")
                    .awaitLine(l -> l.startsWith("registered with scheduler at: "), Duration.ofSeconds(60));
        }
        scheduler = s;
        return new String[] {address, dashboard};
    }

    private Processes.Proc scheduler;

    @Test
    void aClientStoppedWithThousandsOfResultsPendingIsDroppedAndAnotherKeepsWorking() throws Exception {
        String[] c = cluster();
        String address = c[0];
        try (Client b = Client.connect(address)) {
            assertEquals(List.of(0, 1, 4), results(b, 0, 3), "client B works before anything happens");
            Processes.Proc a = procs.java(Flooder.class.getName(), address);
            a.awaitLine(l -> l.equals("results flowing"), Duration.ofSeconds(120));
            signal("STOP", a.pid()); // as a laptop whose lid closes, thousands of results on their way to it
            stopped.add(a.pid());

            String dropped = keepWorking(b, c[1], l -> l.contains("(CLIENT): the peer did not read for "
                    + WRITE_TIMEOUT.replace("s", " s")) || l.contains("(CLIENT): the peer fell behind"));
            assertTrue(dropped.contains("dropped connection to 127.0.0.1:"), dropped);

            a.process.destroyForcibly(); // SIGKILL ends a stopped process too
            a.awaitExit(Duration.ofSeconds(30));
            stopped.remove(a.pid());
            assertEquals(List.of(0, 1, 4, 9), results(b, 0, 4), "client B still works after A is gone");
        }
    }

    @Test
    void aPeerFloodingRequestsAndReadingNoReplyIsDroppedAndAnotherClientKeepsWorking() throws Exception {
        String[] c = cluster();
        String address = c[0];
        try (Client b = Client.connect(address);
             SocketChannel flood = SocketChannel.open(hostPort(address))) {
            assertEquals(List.of(0, 1, 4), results(b, 0, 3));
            flood.write(ByteBuffer.wrap(Handshake.encode(Role.CLIENT, Handshake.VERSION)));
            ByteBuffer theirs = ByteBuffer.allocate(Handshake.BYTES);
            while (theirs.hasRemaining() && flood.read(theirs) >= 0) {
                // the scheduler's handshake
            }
            String floodAddress = "127.0.0.1:" + ((InetSocketAddress) flood.getLocalAddress()).getPort();
            // 1 MB writes of ping requests, each answered by the scheduler; the answers are never read
            byte[] one = wire(new Envelope(Envelope.Kind.REQUEST, 1, MessageCodec.get().encode(new Message.Ping(1))));
            ByteBuffer fill = ByteBuffer.allocate((1 << 20) / one.length * one.length);
            while (fill.hasRemaining()) {
                fill.put(one);
            }
            byte[] mb = fill.array();
            AtomicLong written = new AtomicLong();
            Thread writer = Thread.ofVirtual().start(() -> {
                try {
                    for (int i = 0; i < 400; i++) {
                        ByteBuffer chunk = ByteBuffer.wrap(mb);
                        while (chunk.hasRemaining()) { // from a virtual thread a write may take only part
                            written.addAndGet(flood.write(chunk));
                        }
                    }
                } catch (IOException e) {
                    // dropped by the scheduler
                }
            });
            try {
                String dropped = keepWorking(b, c[1], l -> l.contains("dropped connection to " + floodAddress
                        + " (CLIENT)"));
                assertTrue(dropped.contains("did not read for") || dropped.contains("fell behind"),
                        dropped + "\nthe scheduler's output:\n" + scheduler.output());
                assertTrue(writer.join(Duration.ofSeconds(30)), "the flood ends: the scheduler closed the socket");
                assertTrue(written.get() >= 1 << 20, "the flood sent " + written.get() + " bytes");
            } finally {
                flood.close();
            }
            assertEquals(List.of(0, 1, 4, 9), results(b, 0, 4));
        }
    }

    /**
     * Client B submits and checks rounds of tasks, each within {@link #T}, and the dashboard answers,
     * until the scheduler logs a line matching {@code drop}; returns it. B's round trips are printed.
     */
    private String keepWorking(Client b, String dashboard, java.util.function.Predicate<String> drop) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        long start = System.nanoTime();
        List<Long> roundMillis = new ArrayList<>();
        String line = null;
        for (int round = 0; line == null || round < 10; round++) {
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(120),
                    "the scheduler logged no drop within 120 s; its output:\n" + scheduler.output());
            long t0 = System.nanoTime();
            int from = 1000 + round * 20;
            List<Integer> got = results(b, from, 20);
            roundMillis.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
            assertEquals(IntStream.range(from, from + 20).map(x -> x * x).boxed().toList(), got);
            if (round % 3 == 0) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(dashboard + "/api/status"))
                        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode(), r.body());
            }
            if (line == null) {
                line = scheduler.output().lines().filter(drop).findFirst().orElse(null);
            }
        }
        System.out.println("client B rounds of 20 tasks (ms): " + roundMillis);
        System.out.println("scheduler: " + line);
        return line;
    }

    /** Squares of {@code from} .. {@code from + n - 1}, each awaited within {@link #T}. */
    private static List<Integer> results(Client b, int from, int n) throws Exception {
        List<Future<Integer>> fs = b.map(StalledPeerClusterTest::square,
                IntStream.range(from, from + n).boxed().toList());
        List<Integer> out = new ArrayList<>();
        for (Future<Integer> f : fs) {
            out.add(f.result(T));
        }
        return out;
    }

    private static byte[] wire(Envelope e) {
        ByteBuffer[] parts = FrameWriter.encode(e);
        int n = 0;
        for (ByteBuffer p : parts) {
            n += p.remaining();
        }
        ByteBuffer all = ByteBuffer.allocate(n);
        for (ByteBuffer p : parts) {
            all.put(p.duplicate());
        }
        return all.array();
    }

    private static InetSocketAddress hostPort(String address) {
        int colon = address.lastIndexOf(':');
        return new InetSocketAddress(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)));
    }

    private static void signal(String sig, long pid) {
        try {
            new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).inheritIO().start().waitFor(10, TimeUnit.SECONDS);
        } catch (IOException e) {
            throw new IllegalStateException("cannot send SIG" + sig + " to " + pid, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
