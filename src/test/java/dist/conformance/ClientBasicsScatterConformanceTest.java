package dist.conformance;

import dist.Client;
import dist.Delayed;
import dist.Future;
import dist.Options;
import dist.Submitter;
import dist.worker.WorkerServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Scatter (types, hashed keys, directed, broadcast) ported from dask's
 * distributed/tests/test_client.py, on one scheduler with four one-thread workers named w0..w3. dask's
 * direct=True is how dist always scatters: the values go from the client straight to the workers.
 * Values differ between tests, so their hashed keys do too.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClientBasicsScatterConformanceTest {
    static final Duration T = ClientBasicsCluster.T;
    static ClientBasicsCluster cluster;
    static Client client;

    static int inc(int x) {
        return x + 1;
    }

    static int add(int x, int y) {
        return x + y;
    }

    @BeforeAll
    static void start() throws Exception {
        cluster = ClientBasicsCluster.start(1, 1, 1, 1);
        client = cluster.client;
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** The workers whose store holds {@code key} (dask's {@code key in a.data}). */
    static Set<String> holders(String key) {
        return cluster.workers.stream().filter(w -> w.dataStore().contains(key)).map(WorkerServer::address)
                .collect(Collectors.toSet());
    }

    /**
     * dask: test_client.py::test_scatter — {"y": 20} lands on a worker the scheduler lists, with its
     * size known, and gathers to [20]; [10] likewise; add on the two futures gives 30, and gather of
     * [z, x] is [30, 10].
     */
    @Test
    void scatter() throws Exception {
        Map<String, Future<Integer>> d = client.scatter(Map.of("sc-y", 20));
        assertInstanceOf(Future.class, d.get("sc-y"));
        assertEquals(1, holders("sc-y").size());
        assertEquals(holders("sc-y"), Set.copyOf(cluster.whoHas("sc-y")));
        assertTrue(client.nbytes(false).get("sc-y") > 0);
        assertEquals(List.of(20), client.gather((Object) List.of(d.get("sc-y")), T));

        Future<Integer> x = client.scatter(List.of(10_010)).get(0);
        assertEquals(1, holders(x.key()).size());
        assertEquals(List.of(10_010), client.gather((Object) List.of(x), T));
        assertEquals(holders(x.key()), Set.copyOf(cluster.whoHas(x.key())));
        Map<String, Long> nbytes = client.nbytes(false);
        assertTrue(nbytes.containsKey("sc-y") && nbytes.containsKey(x.key()), nbytes.toString());

        Future<Integer> z = client.submit(ClientBasicsScatterConformanceTest::add, x, d.get("sc-y"));
        assertEquals(10_030, z.result(T));
        assertEquals(List.of(10_030, 10_010), client.gather((Object) List.of(z, x), T));
    }

    /**
     * dask: test_client.py::test_scatter_types — a map scatters to a map with the same keys; a list
     * of one to a list of one (sets and tuples have no scatter of their own here).
     */
    @Test
    void scatterTypes() throws Exception {
        Map<String, Future<Integer>> d = client.scatter(Map.of("st-x", 1));
        assertEquals(Set.of("st-x"), d.keySet());
        assertEquals(1, client.scatter(List.of(20_001)).size());
        List<Future<Integer>> seq = client.scatter(List.of(20_010, 20_011, 20_012, 20_013, 20_014));
        assertEquals(5, seq.size());
    }

    /**
     * dask: test_client.py::test_scatter_non_list, test_scatter_direct — one scattered value is a
     * finished future the scheduler lists on a worker, and gives the value back.
     */
    @Test
    void scatterNonList() throws Exception {
        Future<Integer> x = client.scatter(List.of(30_123)).get(0);
        assertEquals(Future.State.SUCCESS, x.state());
        assertFalse(cluster.whoHas(x.key()).isEmpty());
        assertEquals(1, holders(x.key()).size());
        assertEquals(30_123, x.result(T));
    }

    /** dask: test_client.py::test_scatter_typename — the key of a scattered 123 starts with its type's name. */
    @Test
    void scatterTypename() throws Exception {
        assertTrue(client.scatter(List.of(123)).get(0).key().startsWith("Integer"));
    }

    /** dask: test_client.py::test_scatter_hash_2 — scattering the same value twice gives the same key. */
    @Test
    void scatterHash() throws Exception {
        Future<Integer> x = client.scatter(List.of(40_123)).get(0);
        Future<Integer> y = client.scatter(List.of(40_123)).get(0);
        assertEquals(x.key(), y.key());
        assertEquals(40_123, y.result(T));
    }

    /**
     * dask: test_client.py::test_scatter_hash — equal values scattered twice share a key; scattered
     * without hashing ({@code pure(false)}, dask's hash=False) the value gets a fresh key, every time.
     */
    @Test
    void scatterHashFalse() throws Exception {
        Future<Integer> x = client.scatter(List.of(41_123)).get(0);
        Future<Integer> y = client.scatter(List.of(41_123)).get(0);
        assertEquals(x.key(), y.key());
        Submitter unhashed = client.with(Options.defaults().pure(false));
        Future<Integer> z = unhashed.scatter(List.of(41_123)).get(0);
        assertNotEquals(y.key(), z.key());
        assertNotEquals(z.key(), unhashed.scatter(List.of(41_123)).get(0).key());
        assertEquals(41_123, z.result(T));
        assertTrue(z.key().startsWith("Integer"), z.key());
    }

    /**
     * dask: test_client.py::test_directed_scatter — [1, 2, 3] scattered to worker a by address all
     * land there and nowhere else; [4, 5] scattered to worker b by name land there.
     */
    @Test
    void directedScatter() throws Exception {
        WorkerServer a = cluster.w(0), b = cluster.w(1);
        List<Future<Integer>> abc = client.scatter(List.of(50_001, 50_002, 50_003), List.of(a.address()), false);
        for (Future<Integer> f : abc) {
            assertEquals(Set.of(a.address()), holders(f.key()));
        }
        List<Future<Integer>> de = client.scatter(List.of(50_004, 50_005), List.of(b.name()), false);
        for (Future<Integer> f : de) {
            assertEquals(Set.of(b.address()), holders(f.key()));
        }
    }

    /**
     * dask: test_client.py::test_scatter_direct_broadcast_target — [123, 456] to workers[0] both land
     * there; broadcast to the first three workers, each of them holds both and the scheduler lists them.
     */
    @Test
    void scatterDirectBroadcastTarget() throws Exception {
        List<Future<Integer>> fs = client.scatter(List.of(60_123, 60_456), List.of(cluster.w(0).address()), false);
        for (Future<Integer> f : fs) {
            assertTrue(holders(f.key()).contains(cluster.w(0).address()));
        }
        List<String> three = List.of(cluster.w(0).address(), cluster.w(1).address(), cluster.w(2).address());
        fs = client.scatter(List.of(61_123, 61_456), three, true);
        for (Future<Integer> f : fs) {
            assertEquals(Set.copyOf(three), holders(f.key()));
            assertEquals(Set.copyOf(three), Set.copyOf(cluster.whoHas(f.key())));
        }
    }

    /**
     * dask: test_client.py::test_scatter_direct_spread_evenly — ten values scattered one at a time
     * leave data on every worker.
     */
    @Test
    void scatterDirectSpreadEvenly() throws Exception {
        for (int i = 0; i < 10; i++) {
            client.scatter(List.of(70_000 + i));
        }
        for (WorkerServer w : cluster.workers) {
            boolean any = false;
            for (int i = 0; i < 10; i++) {
                Future<Integer> f = client.scatter(List.of(70_000 + i)).get(0);
                any |= w.dataStore().contains(f.key());
            }
            assertTrue(any, w.name() + " holds none of them");
        }
    }

    /**
     * dask: test_client.py::test_scatter_gather_sync, test_remote_scatter_gather — [1, 2, 3]
     * scattered (broadcast or not) each land on a worker and gather back to [1, 2, 3]; a delayed inc
     * still computes.
     */
    @Test
    void scatterGatherSync() throws Exception {
        for (boolean broadcast : new boolean[]{true, false}) {
            List<Future<Integer>> fs = client.scatter(List.of(80_001, 80_002, 80_003), List.of(), broadcast);
            for (Future<Integer> f : fs) {
                assertFalse(holders(f.key()).isEmpty());
            }
            assertEquals(List.of(80_001, 80_002, 80_003), client.gather((Object) fs, T));
        }
        assertEquals(2, Delayed.of(ClientBasicsScatterConformanceTest::inc, 1).compute(client, T));
    }

    /** dask: test_client.py::test_get_nbytes — the sizes of a scattered value and of a task on it are known. */
    @Test
    void getNbytes() throws Exception {
        Future<Integer> x = client.scatter(List.of(90_001)).get(0);
        assertTrue(client.nbytes(false).containsKey(x.key()));
        Future<Integer> y = client.submit(ClientBasicsScatterConformanceTest::inc, x);
        y.result(T);
        Map<String, Long> nb = client.nbytes(List.of(x, y), false);
        assertEquals(Set.of(x.key(), y.key()), nb.keySet());
        assertTrue(nb.get(x.key()) > 0 && nb.get(y.key()) > 0);
    }

    /**
     * dask: test_client.py::test__broadcast, test__broadcast_dict — broadcast values (a list, a map)
     * are held by every worker.
     */
    @Test
    void broadcast() throws Exception {
        List<Future<Integer>> xy = client.scatter(List.of(100_001, 100_002), List.of(), true);
        Map<String, Future<Integer>> d = client.scatter(Map.of("bc-x", 1), List.of(), true);
        Set<String> all = cluster.workers.stream().map(WorkerServer::address).collect(Collectors.toSet());
        for (Future<Integer> f : xy) {
            assertEquals(all, holders(f.key()));
        }
        assertEquals(all, holders("bc-x"));
        assertEquals(1, d.get("bc-x").result(T));
    }

    /**
     * dask: test_client.py::test__broadcast_integer — two copies of each value among four workers
     * (dask's broadcast=2; here a scatter and then replicate to n=2).
     */
    @Test
    void broadcastInteger() throws Exception {
        List<Future<Integer>> xy = client.scatter(List.of(110_001, 110_002));
        client.replicate(xy, 2, List.of(), 2);
        for (Future<Integer> f : xy) {
            assertEquals(2, cluster.whoHas(f.key()).size());
        }
    }

    /**
     * dask: test_client.py::test_async_compute_with_scatter — add(inc(x), inc(y)) of delayed calls
     * on scattered x = 1, y = 2 gives 5.
     */
    @Test
    void asyncComputeWithScatter() throws Exception {
        Map<String, Future<Integer>> d = client.scatter(Map.of("acs-x-1", 1, "acs-y-1", 2));
        Delayed<Integer> z = Delayed.of(ClientBasicsScatterConformanceTest::add,
                Delayed.of(ClientBasicsScatterConformanceTest::inc, d.get("acs-x-1")),
                Delayed.of(ClientBasicsScatterConformanceTest::inc, d.get("acs-y-1")));
        assertEquals(List.of(5), client.gather((Object) List.of(client.compute(z)), T));
    }

    /**
     * dask: test_client.py::test_garbage_collection_with_scatter — a scattered future is finished and
     * wanted; once let go of, no worker keeps its data.
     */
    @Test
    void garbageCollectionWithScatter() throws Exception {
        Future<Integer> f = client.scatter(List.of(120_001)).get(0);
        assertEquals(Future.State.SUCCESS, f.state());
        assertEquals("memory", cluster.stateOf(f.key()));
        String key = f.key();
        f.release();
        assertTrue(cluster.forgets(key));
        assertTrue(dist.Wait.until(T, () -> holders(key).isEmpty()));
    }
}
