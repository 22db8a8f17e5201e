package dist.comm;

import dist.protocol.Message;
import dist.protocol.Role;
import dist.serial.Encoded;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A sender on a platform thread gets its messages out while no virtual thread can run. The writer of a
 * connection is a virtual thread; a program whose carrier threads are all pinned (blocking pipe reads,
 * native calls, a spinning task) once left a 10-million-task submission waiting for room that writer
 * never made, until the scheduler dropped the silent client. Here a child JVM has one carrier, pins it
 * with a spinning virtual thread, then sends 40 MB past a 1 MB send-queue bound to this process.
 */
class PinnedCarriersTest {
    static final int MESSAGES = 40;
    static final int SIZE = 1 << 20;

    @Test
    @Timeout(120)
    void aPlatformSenderDrainsItsOwnBacklogWhenNoCarrierIsFree() throws Exception {
        AtomicLong received = new AtomicLong();
        java.util.concurrent.CompletableFuture<Long> all = new java.util.concurrent.CompletableFuture<>();
        Path log = Files.createTempFile("dist-pinned", ".log");
        try (Server s = Net.server(Net.FAST, c -> (conn, m, id) -> {
            if (m instanceof Message.DataReply d) {
                long was = received.getAndAdd(d.data().get("x").head().length);
                if (was + d.data().get("x").head().length == (long) MESSAGES * SIZE) {
                    all.complete(received.get());
                }
                if (was == 0) {
                    try {
                        Thread.sleep(1_500); // this reader pauses: the child's socket fills and its writer starts
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        })) {
            String java = ProcessHandle.current().info().command().orElseThrow();
            Process p = new ProcessBuilder(List.of(java, "-Xmx256m",
                    "-Djdk.virtualThreadScheduler.parallelism=1", "-Djdk.virtualThreadScheduler.maxPoolSize=1",
                    "-Ddist.comm.max-send-queue-bytes=1000000",
                    "-cp", System.getProperty("java.class.path"), Child.class.getName(), Integer.toString(s.port())))
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                // a child that fails ends the wait at once; one that succeeds may exit before its last bytes are read
                p.onExit().thenAccept(x -> {
                    if (x.exitValue() != 0) {
                        all.completeExceptionally(new AssertionError("the child exited with " + x.exitValue()));
                    }
                });
                try {
                    all.get(90, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                    // the assertion below says what arrived
                }
                assertEquals((long) MESSAGES * SIZE, received.get(), "bytes that arrived (the child "
                        + (p.isAlive() ? "runs" : "exited with " + p.exitValue()) + "); it said:\n" + Files.readString(log));
                assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the child ends once it sent everything");
                String out = Files.readString(log);
                assertEquals(0, p.exitValue(), out);
                assertTrue(out.contains("pinned, then sent"), out);
            } finally {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /** Runs in the child JVM: connects, pins its one carrier, sends, exits 0. */
    public static final class Child {
        static volatile boolean spin = true;
        static volatile boolean spinning;

        public static void main(String[] args) throws Exception {
            try (Connection c = Connection.connect("127.0.0.1:" + args[0], Role.CLIENT, Net.FAST, (conn, m, id) -> { },
                    Net.CODEC)) {
                Thread pin = Thread.ofVirtual().start(() -> {
                    spinning = true;
                    while (spin) {
                        Thread.onSpinWait(); // holds the only carrier: no other virtual thread runs
                    }
                });
                while (!spinning) {
                    Thread.onSpinWait();
                }
                byte[] block = new byte[SIZE];
                new java.util.Random(7).nextBytes(block); // incompressible: the frames stay 1 MB on the wire
                for (int i = 0; i < MESSAGES; i++) {
                    c.send(new Message.DataReply(Map.of("x", Encoded.of(block))));
                }
                System.out.println("pinned, then sent " + MESSAGES + " messages");
                // the last bytes may still be queued: wait on this thread until they are written
                dist.Wait.until(java.time.Duration.ofSeconds(60), () -> {
                    if (c.queuedBytes() == 0) {
                        return true;
                    }
                    c.send(new Message.Ping(1)); // a platform thread's send writes what waits
                    return false;
                });
                spin = false;
                pin.join(5_000);
            } catch (Throwable t) {
                t.printStackTrace(System.out);
                System.exit(1);
            }
            System.exit(0);
        }
    }
}
