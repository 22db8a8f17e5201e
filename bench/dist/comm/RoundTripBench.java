package dist.comm;

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
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A small request and its reply over loopback, beside a raw 16-byte ping-pong in the same run: one raw
 * pair blocks in {@code read}, as plain socket code does; the other polls for its reply, as dist's
 * {@link Connection#call} does before it parks. dist's call runs with each choice of reader threads
 * ({@code dist.comm.platform-readers}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class RoundTripBench {

    private Server server;
    private Connection connection;
    private RawPeer raw;
    private RawPeer rawPolling;
    private final byte[] rawMessage = new byte[16];
    private final ByteBuffer rawReply = ByteBuffer.allocateDirect(16);
    private long seq;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        server = Server.listen("127.0.0.1", 0, Role.SCHEDULER, CommConfig.DEFAULT, c -> (conn, m, id) -> conn.reply(id, m));
        connection = Connection.connect("127.0.0.1:" + server.port(), Role.CLIENT, CommConfig.DEFAULT,
                (conn, m, id) -> { });
        raw = new RawPeer(16, 16);
        rawPolling = new RawPeer(16, 16);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        connection.close();
        server.close();
        raw.close();
        rawPolling.close();
    }

    /**
     * The blocking call: polls for the reply briefly, then parks. The readers are the defaults of a
     * process with few connections: a platform thread on each side.
     */
    @Benchmark
    public Message distRequestReply() throws Exception {
        return connection.call(new Message.Ping(++seq), Duration.ofSeconds(10));
    }

    /** As above, only the link to the scheduler reading on a platform thread: the scheduler's side is virtual. */
    @Benchmark
    @Fork(jvmArgsAppend = "-Ddist.comm.platform-readers=scheduler")
    public Message distRequestReplyVirtualSchedulerSide() throws Exception {
        return connection.call(new Message.Ping(++seq), Duration.ofSeconds(10));
    }

    /** As above, both ends reading on virtual threads. */
    @Benchmark
    @Fork(jvmArgsAppend = "-Ddist.comm.platform-readers=none")
    public Message distRequestReplyVirtualReaders() throws Exception {
        return connection.call(new Message.Ping(++seq), Duration.ofSeconds(10));
    }

    /** The same request, the caller parked on its future at once: every reply is a thread wake-up. */
    @Benchmark
    public Message distRequestReplyParked() throws Exception {
        return connection.request(new Message.Ping(++seq)).get(10, TimeUnit.SECONDS);
    }

    @Benchmark
    public ByteBuffer rawPingPong16() throws Exception {
        raw.exchange(rawMessage, rawReply);
        return rawReply;
    }

    /** The raw pair again, the caller polling for the reply as {@link Connection#call} does. */
    @Benchmark
    public ByteBuffer rawPingPong16Polling() throws Exception {
        rawPolling.exchangePolling(rawMessage, rawReply);
        return rawReply;
    }
}
