package dist.comm;

import dist.serial.Encoded;

import dist.protocol.Message;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A 1 GiB payload crosses a real socket intact, in a child JVM whose heap holds two copies and not
 * three: one more copy anywhere (sender, writer, reader, decoder) ends in OutOfMemoryError.
 */
class BigPayloadTest {

    static final int SIZE = 1 << 30;

    /** Both with compression off (the straight path) and on (the default). */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"none", "lz4"})
    @Timeout(150)
    void oneGibPayloadArrivesIntactWithoutExtraCopies(String compression) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Path out = Files.createTempFile("dist-big-payload", ".log");
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx2300m", "-XX:+UseG1GC",
                "-Ddist.comm.compression=" + compression,
                "-cp", System.getProperty("java.class.path"), Child.class.getName()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        try {
            boolean exited = p.waitFor(120, TimeUnit.SECONDS);
            String log = Files.readString(out);
            assertTrue(exited, "the child did not finish within 120 s:\n" + log);
            assertEquals(0, p.exitValue(), "the child failed:\n" + log);
            assertTrue(log.contains("intact"), log);
        } finally {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
            Files.deleteIfExists(out);
        }
    }

    /** Runs in the child JVM: exit 0 when the payload arrived with the right checksum. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            try {
                run();
                System.exit(0);
            } catch (Throwable t) {
                t.printStackTrace(System.out);
                System.exit(1);
            }
        }

        private static void run() throws Exception {
            CompletableFuture<long[]> received = new CompletableFuture<>();
            try (Server s = Net.server(Net.FAST, c -> new Handler() {
                @Override
                public void onMessage(Connection conn, Message m, long id) {
                    byte[] got = ((Message.DataReply) m).data().get("x").head();
                    received.complete(new long[] {got.length, crc(got)});
                }

                @Override
                public void onClose(Connection conn, Throwable cause) {
                    received.completeExceptionally(new AssertionError("connection closed before the payload came", cause));
                }
            }); Connection c = Net.connect(s, Net.echo())) {
                long want;
                {
                    byte[] payload = new byte[SIZE];
                    for (int i = 0; i < payload.length; i++) {
                        payload[i] = (byte) (i * 31 + (i >>> 11));
                    }
                    want = crc(payload);
                    c.send(new Message.DataReply(Map.of("x", Encoded.of(payload))));
                }
                long[] got = received.get(90, TimeUnit.SECONDS);
                if (got[0] != SIZE || got[1] != want) {
                    throw new AssertionError("payload damaged: " + got[0] + " bytes, crc " + got[1] + " vs " + want);
                }
                System.out.println("1 GiB payload intact, crc " + Long.toHexString(want)
                        + ", max heap " + (Runtime.getRuntime().maxMemory() >> 20) + " MiB");
            }
        }

        static long crc(byte[] b) {
            CRC32 c = new CRC32();
            c.update(b);
            return c.getValue();
        }
    }
}
