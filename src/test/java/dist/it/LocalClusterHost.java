package dist.it;

import dist.LocalCluster;

/** A process that owns a LocalCluster of worker processes and prints their pids, then waits. */
public final class LocalClusterHost {
    private LocalClusterHost() {
    }

    public static void main(String[] args) throws Exception {
        LocalCluster cluster = LocalCluster.builder().workers(2).threadsPerWorker(1).processes(true).start();
        System.out.println("pids: " + cluster.workerPids().stream().map(String::valueOf)
                .reduce((a, b) -> a + "," + b).orElse(""));
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
