package dist.api;

import dist.Client;
import dist.LocalCluster;
import dist.LocalClusters;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** A thread-worker cluster and client per test class, and bounded polling. */
public final class ClusterFixture implements AutoCloseable {
    final LocalCluster cluster;
    final Client client;

    private ClusterFixture(int workers, int threads) throws Exception {
        cluster = LocalCluster.builder().workers(workers).threadsPerWorker(threads).output(null).start();
        client = cluster.client();
    }

    static ClusterFixture start(int workers, int threads) throws Exception {
        return new ClusterFixture(workers, threads);
    }

    /** The scheduler's state of {@code key} as text ("null" when unknown). */
    String stateOf(String key) {
        return stateOf(cluster, key);
    }

    /** The state of {@code key} on {@code cluster}'s scheduler as text ("null" when unknown). */
    public static String stateOf(LocalCluster cluster, String key) {
        try {
            String s = LocalClusters.scheduler(cluster).query(st -> st.view().stateOf(key), 10, TimeUnit.SECONDS);
            return String.valueOf(s);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static boolean eventually(Duration bound, BooleanSupplier condition) throws InterruptedException {
        return dist.Wait.until(bound, condition);
    }

    @Override
    public void close() {
        client.close();
        cluster.close();
    }
}
