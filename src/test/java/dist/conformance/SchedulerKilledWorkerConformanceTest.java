package dist.conformance;

import dist.Client;
import dist.Future;
import dist.KilledWorkerException;
import dist.LocalCluster;
import dist.LocalClusters;
import dist.Options;
import dist.TaskFailedException;
import dist.config.Config;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A task that kills its worker, ported from dask's test_scheduler.py: worker processes under
 * nannies (the task ends its process), with {@code distributed.scheduler.allowed-failures} set to 0;
 * nannies closed with their workers; a restart through the nannies. A cluster of processes per
 * test, since workers die. The other cases of test_scheduler.py are listed in
 * {@link SchedulerWorkersConformanceTest}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SchedulerKilledWorkerConformanceTest {
    static final Duration T = Duration.ofSeconds(60);

    static int exit(int code) {
        Runtime.getRuntime().halt(code);
        return code;
    }

    /**
     * dask: test_scheduler.py::test_failing_task_increments_suspicious,
     * test_KilledWorker_informative_message, test_allowed_failures_config,
     * test_close_scheduler__close_workers_Nanny — with no failure allowed, the first worker death
     * fails the task with KilledWorkerException naming the task and the worker, and the task counts
     * one suspicious death; then shutting the scheduler down ends the worker and nanny processes.
     * (dask's task calls sys.exit(0); here the task ends its process with code 1, since a worker
     * process that exits 0 closed on purpose and its nanny closes with it.)
     */
    @Test
    void failingTaskIncrementsSuspicious() throws Exception {
        try (var o = Config.set("distributed.scheduler.allowed-failures", 0);
             LocalCluster cluster = LocalCluster.builder().workers(1).threadsPerWorker(1).processes(true)
                     .nannies(true).output(null).start();
             Client c = cluster.client()) {
            Future<Integer> f = c.with(Options.defaults().key("exit-1")).submit(SchedulerKilledWorkerConformanceTest::exit, 1);
            TaskFailedException e = assertThrows(TaskFailedException.class, () -> f.result(T));
            KilledWorkerException k = assertInstanceOf(KilledWorkerException.class, e.getCause());
            String where = c.story("exit-1").stream().filter(s -> s.where().equals("scheduler")
                    && s.event().endsWith("-> processing")).map(s -> s.detail()).findFirst().orElseThrow();
            assertTrue(k.getMessage().contains("exit-1"), k.getMessage());
            assertTrue(k.getMessage().contains(where), k.getMessage() + " names " + where);
            assertEquals(1, (int) LocalClusters.scheduler(cluster).<Integer>query(s -> s.view().suspiciousCount("exit-1"), 10, TimeUnit.SECONDS));
            assertEquals(List.of(), c.whoHas(List.of(f)).getOrDefault("exit-1", List.of()));

            // the nanny started a fresh worker; closing the scheduler closes it and its nanny
            assertTrue(cluster.awaitWorkers(1, 30, TimeUnit.SECONDS), "the nanny's new worker");
            List<ProcessHandle> procs = new java.util.ArrayList<>();
            for (long pid : cluster.workerPids()) {
                ProcessHandle.of(pid).ifPresent(procs::add);
            }
            for (long pid : cluster.nannyPids()) {
                ProcessHandle.of(pid).ifPresent(procs::add);
            }
            assertFalse(procs.isEmpty());
            c.shutdown();
            for (ProcessHandle p : procs) {
                p.onExit().get(30, TimeUnit.SECONDS);
                assertFalse(p.isAlive(), "process " + p.pid() + " ended");
            }
        }
    }

    /**
     * dask: test_scheduler.py::test_restart_waits_for_new_workers — after a restart under nannies
     * as many workers are registered as before, none of the old ones, each a new process.
     */
    @Test
    void restartWaitsForNewWorkers() throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(2).threadsPerWorker(1).processes(true)
                .nannies(true).output(null).start();
             Client c = cluster.client()) {
            java.util.Set<String> before = c.ncores().keySet();
            java.util.Set<Long> pids = java.util.Set.copyOf(cluster.workerPids());
            c.restart();
            java.util.Set<String> after = c.ncores().keySet();
            assertEquals(before.size(), after.size());
            for (String w : before) {
                assertFalse(after.contains(w), "old worker " + w + " is gone");
            }
            List<Long> fresh = cluster.workerPids();
            assertEquals(before.size(), fresh.size());
            for (long pid : fresh) {
                assertFalse(pids.contains(pid), "worker process " + pid + " is new");
            }
        }
    }

    /**
     * dask: test_scheduler.py::test_retire_nannies_close — retiring workers under nannies closes
     * the nannies too: no worker comes back, and their processes end.
     */
    @Test
    void retireNanniesClose() throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(2).threadsPerWorker(1).processes(true)
                .nannies(true).output(null).start();
             Client c = cluster.client()) {
            List<ProcessHandle> procs = new java.util.ArrayList<>();
            for (long pid : cluster.workerPids()) {
                ProcessHandle.of(pid).ifPresent(procs::add);
            }
            for (long pid : cluster.nannyPids()) {
                ProcessHandle.of(pid).ifPresent(procs::add);
            }
            assertEquals(4, procs.size());
            List<String> all = List.copyOf(c.ncores().keySet());
            assertEquals(java.util.Set.copyOf(all), c.retireWorkers(all).retired().keySet());
            assertTrue(c.ncores().isEmpty());
            for (ProcessHandle p : procs) {
                p.onExit().get(30, TimeUnit.SECONDS);
            }
            assertEquals(0, cluster.workerCount(), "no worker came back");
        }
    }
}
