package dist;

import dist.client.PayloadCodec;
import dist.protocol.Message;
import dist.protocol.TaskCall;
import dist.protocol.TaskSpec;
import dist.serial.Serializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** The client's wire conventions with the project's own serializer, no sockets. */
class SerializerWireTest {
    static int inc(int x) {
        return x + 1;
    }

    record Pair(Object left, Object right) {
    }

    final Serializer serializer = Serializer.defaults();
    FakeCluster cluster;
    Client client;

    @BeforeEach
    void setUp() throws Exception {
        cluster = new FakeCluster();
        client = newClient(cluster);
    }

    Client newClient(FakeCluster c) throws Exception {
        return new Client(FakeCluster.SCHEDULER, c, PayloadCodec.of(serializer), getClass().getClassLoader(), Duration.ofSeconds(5));
    }

    @AfterEach
    void tearDown() {
        client.close();
    }

    TaskSpec task(FakeCluster c, String key) {
        return c.sentOf(Message.UpdateGraph.class).stream().flatMap(u -> u.tasks().stream())
                .filter(t -> t.key().equals(key)).findFirst().orElseThrow();
    }

    @Test
    void pureKeysAgreeAcrossClients() throws Exception {
        FakeCluster otherCluster = new FakeCluster();
        try (Client other = newClient(otherCluster)) {
            Future<Integer> a = client.submit(SerializerWireTest::inc, 10);
            Future<Integer> b = other.submit(SerializerWireTest::inc, 10);
            assertEquals(a.key(), b.key());
            assertTrue(a.key().startsWith("inc-"), a.key());
            assertNotEquals(a.key(), client.submit(SerializerWireTest::inc, 11).key());
            Fn2<String, Integer, String> rep = String::repeat;
            assertEquals(client.submit(rep, "ab", 3).key(), other.submit(rep, "ab", 3).key());
            assertTrue(client.submit(rep, "ab", 3).key().startsWith("repeat-"));
        }
    }

    @Test
    void workerSideDecodeResolvesNestedFutures() throws Exception {
        Future<Integer> x = client.submit(SerializerWireTest::inc, 1);
        Future<Integer> y = client.submit(SerializerWireTest::inc, 2);
        Future<Integer> z = client.submit(SerializerWireTest::inc, 3);
        Fn3<List<Integer>, Map<String, Integer>, Pair, Integer> f = (l, m, p) -> l.get(0) + m.get("y") + (Integer) p.left();
        Future<Integer> t = client.submit(f, Futures.all(List.of(x)), Futures.all(Map.of("y", y)), new Pair(z, Set.of(x)));
        TaskSpec spec = task(cluster, t.key());
        assertEquals(Set.of(x.key(), y.key(), z.key()), Set.copyOf(spec.dependencies()));
        Map<String, Object> values = Map.of(x.key(), 2, y.key(), 3, z.key(), 4);
        TaskCall call = dist.protocol.RunCodec.decode(serializer, spec.run(), getClass().getClassLoader(), values::get, null);
        assertEquals(List.of(2), call.args().get(0));
        assertEquals(new Pair(4, Set.of(2)), call.args().get(2));
        assertEquals(9, call.function().invoke(call.args().toArray()));
    }

    @Test
    void resultsAndErrorsDecode() throws Exception {
        Future<Integer> ok = client.submit(SerializerWireTest::inc, 1);
        Future<Integer> bad = client.submit(SerializerWireTest::inc, 2);
        cluster.push(new Message.KeyInMemory(ok.key(), List.of(), 1, serializer.encode(2)));
        Exception boom = new UnsupportedOperationException("nope");
        cluster.push(new Message.KeyErred(bad.key(), serializer.encode(boom), "UnsupportedOperationException: nope", bad.key()));
        assertEquals(2, ok.result(Duration.ofSeconds(5)));
        assertInstanceOf(UnsupportedOperationException.class, bad.exception());
        assertTrue(bad.remoteStackTrace().contains("resultsAndErrorsDecode"), bad.remoteStackTrace());
    }
}
