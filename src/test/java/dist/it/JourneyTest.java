package dist.it;

import dist.Client;
import dist.Future;
import dist.Futures;
import dist.LocalCluster;
import dist.LocalClusters;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A task's journey on a real cluster: futures nested in arguments, identical keys, release. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class JourneyTest {
    static LocalCluster cluster;
    static Client client;

    record Pair(Object left, Object right) {
    }

    @BeforeAll
    static void start() throws Exception {
        cluster = LocalCluster.builder().workers(2).threadsPerWorker(2).start();
        client = cluster.client();
    }

    @AfterAll
    static void stop() {
        client.close();
        cluster.close();
    }

    static int inc(int x) {
        return x + 1;
    }

    static int sumList(List<Integer> xs) {
        return xs.stream().mapToInt(Integer::intValue).sum();
    }

    static int sumSet(Set<Integer> xs) {
        return xs.stream().mapToInt(Integer::intValue).sum();
    }

    static int sumMap(Map<String, Integer> m) {
        return m.values().stream().mapToInt(Integer::intValue).sum();
    }

    static int sumPair(Pair p) {
        return (Integer) p.left() + (Integer) p.right();
    }

    static String stateOf(String key) throws Exception {
        return LocalClusters.scheduler(cluster).query(s -> String.valueOf(s.view().stateOf(key)), 10, TimeUnit.SECONDS);
    }

    @Test
    void futuresInsideListsSetsMapsAndRecordsResolveOnTheWorker() throws Exception {
        Future<Integer> a = client.submit(JourneyTest::inc, 1);   // 2
        Future<Integer> b = client.submit(JourneyTest::inc, 10);  // 11
        Duration t = Duration.ofSeconds(30);
        assertEquals(13, client.submit(JourneyTest::sumList, Futures.all(List.of(a, b))).result(t));
        assertEquals(13, client.submit(JourneyTest::sumSet, Futures.all(Set.of(a, b))).result(t));
        assertEquals(13, client.submit(JourneyTest::sumMap, Futures.all(Map.of("a", a, "b", b))).result(t));
        assertEquals(13, client.submit(JourneyTest::sumPair, new Pair(a, b)).result(t));
    }

    @Test
    void theSamePureCallHasOneKeyAndImpureCallsDoNot() throws Exception {
        Future<Integer> x = client.submit(JourneyTest::inc, 41);
        Future<Integer> y = client.submit(JourneyTest::inc, 41);
        assertEquals(x.key(), y.key());
        assertTrue(x.key().startsWith("inc-"), x.key());
        assertEquals(42, y.result(Duration.ofSeconds(30)));
        Future<Integer> z = client.with(dist.Options.defaults().pure(false)).submit(JourneyTest::inc, 41);
        assertTrue(!z.key().equals(x.key()));
        assertEquals(42, z.result(Duration.ofSeconds(30)));
    }

    @Test
    void releasingTheLastFutureForgetsTheKeyButNotWhileADependentNeedsIt() throws Exception {
        Future<Integer> x = client.submit(JourneyTest::inc, 1000);
        assertEquals(1001, x.result(Duration.ofSeconds(30)));
        assertEquals("memory", stateOf(x.key()));
        String key = x.key();
        x.release();
        assertTrue(Processes.eventually(Duration.ofSeconds(10), () -> uncheckedState(key).equals("null")),
                "a released key should be forgotten");

        Future<Integer> input = client.submit(JourneyTest::inc, 2000);
        Future<Integer> slow = client.submit(JourneyTest::slowInc, 3000);
        Future<Integer> both = client.submit(JourneyTest::add, input, slow);
        input.result(Duration.ofSeconds(30));
        input.release(); // 'both' still needs it: the data must stay until it ran
        assertEquals(2001 + 3001, both.result(Duration.ofSeconds(30)));
    }

    static int slowInc(int x) throws InterruptedException {
        Thread.sleep(300);
        return x + 1;
    }

    static int add(int a, int b) {
        return a + b;
    }

    @Test
    void garbageCollectedFuturesAreReleased() throws Exception {
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            Future<Integer> f = client.submit(JourneyTest::inc, 5000 + i);
            assertNotNull(f.result(Duration.ofSeconds(30)));
            keys.add(f.key());
        }
        // no reference to the futures is left
        assertTrue(Processes.eventually(Duration.ofSeconds(30), () -> {
            System.gc();
            return keys.stream().allMatch(k -> uncheckedState(k).equals("null"));
        }), "collected futures should release their keys");
    }

    private static String uncheckedState(String key) {
        try {
            return stateOf(key);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
