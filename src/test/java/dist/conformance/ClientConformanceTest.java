package dist.conformance;

import dist.Client;
import dist.Future;
import dist.LocalCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Client behaviour ported from dask's distributed/tests/test_client.py, one cluster of thread
 * workers for the class. Each test names the dask test it follows and asserts what that test does.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClientConformanceTest {
    static final Duration T = Duration.ofSeconds(30);
    static LocalCluster cluster;
    static Client client;

    static int add(int x, int y) {
        return x + y;
    }

    @BeforeAll
    static void start() throws Exception {
        cluster = LocalCluster.builder().workers(2).threadsPerWorker(2).output(null).start();
        client = cluster.client();
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    /** dask: test_client.py::test_map_different_lengths — {@code len(c.map(add, [1, 2], [1, 2, 3])) == 2}. */
    @Test
    void mapDifferentLengths() {
        assertEquals(2, client.map(ClientConformanceTest::add, List.of(1, 2), List.of(1, 2, 3)).size());
    }

    /**
     * dask: test_client.py::test_map — {@code L4 = c.map(add, range(3), range(4))} gathers to
     * {@code list(map(add, range(3), range(4)))}: the lists are zipped, the extra element unused.
     */
    @Test
    void mapZipsListsOfDifferentLengths() throws Exception {
        List<Future<Integer>> l4 = client.map(ClientConformanceTest::add, List.of(0, 1, 2), List.of(0, 1, 2, 3));
        assertEquals(List.of(0, 2, 4), client.gather((Object) l4, T));
    }
}
