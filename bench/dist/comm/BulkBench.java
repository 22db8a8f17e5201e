package dist.comm;

import dist.serial.Encoded;

import dist.protocol.Message;
import dist.protocol.Role;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One 256 MiB payload per operation (a DataReply sent as a request, answered with Ack), beside the
 * same bytes sent raw and acknowledged with one byte. MiB/s = 256 / (seconds per op).
 * The heap is fixed and pre-touched: otherwise the receiver's fresh 256 MiB array per message makes
 * the JVM commit new memory, and the figure measures page faults rather than the wire.
 */
@Fork(jvmArgsAppend = {"-Xms4g", "-Xmx4g", "-XX:+AlwaysPreTouch"})
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class BulkBench {

    static final int SIZE = 256 << 20;

    private Server server;
    private Connection connection;
    private RawPeer raw;
    private byte[] payload;
    private final ByteBuffer ack = ByteBuffer.allocate(1);

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        payload = new byte[SIZE];
        for (int i = 0; i < SIZE; i += 4096) {
            payload[i] = (byte) i;
        }
        server = Server.listen("127.0.0.1", 0, Role.WORKER, CommConfig.DEFAULT,
                c -> (conn, m, id) -> conn.reply(id, new Message.Ack()));
        connection = Connection.connect("127.0.0.1:" + server.port(), Role.CLIENT, CommConfig.DEFAULT,
                (conn, m, id) -> { });
        raw = new RawPeer(SIZE, 1);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        connection.close();
        server.close();
        raw.close();
    }

    @Benchmark
    public Message distBulk256MiB() throws Exception {
        return connection.request(new Message.DataReply(Map.of("x", Encoded.of(payload)))).get(60, TimeUnit.SECONDS);
    }

    @Benchmark
    public ByteBuffer rawBulk256MiB() throws Exception {
        raw.exchange(payload, ack);
        return ack;
    }
}
