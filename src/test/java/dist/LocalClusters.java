package dist;

import dist.scheduler.SchedulerServer;

/** Test access to a LocalCluster's in-process scheduler, which the public API does not expose. */
public final class LocalClusters {
    private LocalClusters() {
    }

    /** The scheduler running in this JVM for {@code cluster}: to query its state in tests. */
    public static SchedulerServer scheduler(LocalCluster cluster) {
        return cluster.scheduler();
    }
}
