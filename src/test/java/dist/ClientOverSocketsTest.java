package dist;

import dist.serial.Encoded;

import dist.comm.CommConfig;
import dist.comm.Connection;
import dist.comm.Handler;
import dist.comm.Server;
import dist.protocol.Message;
import dist.protocol.Role;
import dist.protocol.TaskCall;
import dist.protocol.TaskSpec;
import dist.serial.Serializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The client end to end over real sockets against a tiny in-JVM scheduler that computes each task
 * itself (results over 1 KB stay on a tiny in-JVM worker and must be fetched from it).
 */
class ClientOverSocketsTest {
    static final Duration WAIT = Duration.ofSeconds(20);

    static int inc(int x) {
        return x + 1;
    }

    static int square(int x) {
        return x * x;
    }

    static int sum(List<Integer> xs) {
        return xs.stream().mapToInt(i -> i).sum();
    }

    static byte[] big(int n) {
        byte[] b = new byte[4096];
        java.util.Arrays.fill(b, (byte) n);
        return b;
    }

    static int fail(int x) {
        throw new BadInput("bad input " + x);
    }

    /** A user exception type: it must come back as itself. */
    public static class BadInput extends RuntimeException {
        public BadInput(String message) {
            super(message);
        }
    }

    /** Computes tasks as they arrive; keeps small results inline and large ones on the worker. */
    static final class TinyScheduler implements AutoCloseable {
        final Serializer serializer = Serializer.defaults();
        final Map<String, Object> values = new ConcurrentHashMap<>();
        final Map<String, Message.KeyErred> errors = new ConcurrentHashMap<>();
        final Map<String, byte[]> workerData = new ConcurrentHashMap<>();
        final List<Message> received = new CopyOnWriteArrayList<>();
        final List<Message.GetData> workerRequests = new CopyOnWriteArrayList<>();
        final Server server;
        final Server worker;
        final String workerAddress;

        TinyScheduler() throws IOException {
            worker = Server.listen("127.0.0.1", 0, Role.WORKER, CommConfig.DEFAULT, c -> (conn, m, id) -> {
                if (m instanceof Message.GetData g) {
                    workerRequests.add(g);
                    Map<String, Encoded> out = new HashMap<>();
                    for (String k : g.keys()) {
                        if (workerData.containsKey(k)) {
                            out.put(k, Encoded.of(workerData.get(k)));
                        }
                    }
                    conn.reply(id, new Message.DataReply(out));
                }
            });
            workerAddress = "127.0.0.1:" + worker.port();
            server = Server.listen("127.0.0.1", 0, Role.SCHEDULER, CommConfig.DEFAULT, c -> new Handler() {
                @Override
                public void onMessage(Connection conn, Message m, long id) {
                    received.add(m);
                    switch (m) {
                        case Message.RegisterClient r -> conn.reply(id, new Message.Ack());
                        case Message.UpdateGraph u -> u.tasks().forEach(t -> conn.send(run(t)));
                        case Message.WhoHasRequest w -> {
                            Map<String, List<String>> out = new HashMap<>();
                            w.keys().forEach(k -> out.put(k, workerData.containsKey(k) ? List.of(workerAddress) : List.of()));
                            conn.reply(id, new Message.WhoHasReply(out));
                        }
                        case Message.WorkersRequest w -> conn.reply(id, new Message.WorkersReply(List.of(
                                new Message.WorkerInfo(workerAddress, "w", 2, 0, ProcessHandle.current().pid(), 0, 0, 0))));
                        default -> {
                        }
                    }
                }
            });
        }

        String address() {
            return "127.0.0.1:" + server.port();
        }

        Message run(TaskSpec t) {
            for (String d : t.dependencies()) {
                Message.KeyErred e = errors.get(d);
                if (e != null) {
                    errors.put(t.key(), e);
                    return new Message.KeyErred(t.key(), e.exception(), e.summary(), e.causeKey());
                }
            }
            try {
                TaskCall call = dist.protocol.RunCodec.decode(serializer, t.run(), getClass().getClassLoader(), values::get, null);
                Object v = call.function().invoke(call.args().toArray());
                values.put(t.key(), v);
                byte[] bytes = serializer.encode(v);
                if (bytes.length > 1024) {
                    workerData.put(t.key(), bytes);
                    return new Message.KeyInMemory(t.key(), List.of(workerAddress), bytes.length, null);
                }
                return new Message.KeyInMemory(t.key(), List.of(workerAddress), bytes.length, bytes);
            } catch (Exception e) {
                Message.KeyErred err = new Message.KeyErred(t.key(), serializer.encode(e), e.toString(), t.key());
                errors.put(t.key(), err);
                return err;
            }
        }

        <M extends Message> List<M> receivedOf(Class<M> type) {
            List<M> out = new ArrayList<>();
            received.stream().filter(type::isInstance).forEach(m -> out.add(type.cast(m)));
            return out;
        }

        @Override
        public void close() {
            server.close();
            worker.close();
        }
    }

    TinyScheduler scheduler;
    Client client;

    @BeforeEach
    void setUp() throws Exception {
        scheduler = new TinyScheduler();
        client = Client.connect(scheduler.address(), Duration.ofSeconds(10));
    }

    @AfterEach
    void tearDown() {
        client.close();
        scheduler.close();
    }

    @Test
    void quickstart() throws Exception {
        Future<Integer> x = client.submit(ClientOverSocketsTest::inc, 10);
        Future<Integer> y = client.submit(ClientOverSocketsTest::inc, x);
        List<Future<Integer>> sq = client.map(ClientOverSocketsTest::square, List.of(0, 1, 2, 3));
        Future<Integer> total = client.submit(ClientOverSocketsTest::sum, Futures.all(sq));
        assertEquals(12, y.result(WAIT));
        assertEquals(14, total.result(WAIT));
        assertEquals(List.of(0, 1, 4, 9), client.gather(sq));
        assertEquals(Map.of("a", 11, "b", List.of(12, 14)),
                client.gather(Map.of("a", x, "b", List.of(y, total)), WAIT));
        assertEquals(14, total.toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS));
        assertEquals(Map.of(scheduler.workerAddress, 2), client.ncores());
    }

    @Test
    void largeResultsAreFetchedFromTheWorkerInOneRequest() throws Exception {
        List<Future<byte[]>> fs = client.map(ClientOverSocketsTest::big, List.of(1, 2, 3));
        List<byte[]> out = client.gather(fs);
        for (int i = 0; i < 3; i++) {
            assertEquals(4096, out.get(i).length);
            assertEquals(i + 1, out.get(i)[100]);
        }
        assertEquals(1, scheduler.workerRequests.size(), "one GetData for the worker's three keys");
        assertEquals(3, scheduler.workerRequests.get(0).keys().size());
        assertArrayEquals(big(2), fs.get(1).result(WAIT));
    }

    @Test
    void userExceptionsComeBackAsThemselves() throws Exception {
        Future<Integer> bad = client.submit(ClientOverSocketsTest::fail, 7);
        Future<Integer> after = client.submit(ClientOverSocketsTest::inc, bad);
        TaskFailedException e = assertThrows(TaskFailedException.class, () -> after.result(WAIT));
        BadInput cause = assertInstanceOf(BadInput.class, e.getCause());
        assertEquals("bad input 7", cause.getMessage());
        assertTrue(bad.remoteStackTrace().contains("fail"), bad.remoteStackTrace());
        assertEquals(Future.State.FAILED, bad.state());
    }

    @Test
    void releaseReachesTheScheduler() throws Exception {
        Future<Integer> x = client.submit(ClientOverSocketsTest::inc, 1);
        assertEquals(2, x.result(WAIT));
        x.release();
        Wait.until(WAIT, () -> !scheduler.receivedOf(Message.ReleaseKeys.class).isEmpty());
        assertEquals(List.of(x.key()), scheduler.receivedOf(Message.ReleaseKeys.class).get(0).keys());
        assertEquals(client.id(), scheduler.receivedOf(Message.RegisterClient.class).get(0).clientId());
    }

    @Test
    void unreachableSchedulerFailsWithinTheTimeout() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        SchedulerUnavailableException e = assertThrows(SchedulerUnavailableException.class,
                () -> Client.connect("127.0.0.1:" + port, Duration.ofMillis(300)));
        assertNotNull(e.getMessage());
    }
}
