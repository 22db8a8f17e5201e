package dist.conformance;

import dist.Client;
import dist.Future;
import dist.Futures;
import dist.LocalCluster;
import dist.Options;
import dist.Wait;
import dist.protocol.Message;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Losing workers, ported from dask's test_failed_workers.py. Each case kills a worker process, so
 * each starts its own cluster of process workers (without nannies, so a killed worker stays dead,
 * unless dask uses Nanny) and closes it, leaving no process behind. The restart cases (test_restart, test_restart_sync,
 * test_multiple_clients_restart) are in RestartConformanceTest. Not applicable:
 * <ul>
 * <li>test_submit_after_failed_worker_async[closing] → needs the scheduler's remove_worker patched.</li>
 * <li>test_worker_who_has_clears_after_failed_connection, test_worker_same_host_replicas_missing →
 *     they read and drive worker-internal state (has_what, FreeKeysEvent, a mocked host).</li>
 * <li>test_worker_time_to_live, test_worker_ttl_restarts_worker, test_restart_timeout_on_long_running_task,
 *     test_worker_doesnt_await_task_completion → they stop heartbeats or assert on elapsed time / logs.</li>
 * <li>test_failing_worker_with_additional_replicas_on_cluster, test_forget_data_not_supposed_to_have →
 *     they hold a worker's fetch of its inputs mid-flight at an internal hook (BlockedGatherDep);
 *     dist's worker state machine tests cover both orders (WorkerMachineFetchTest).</li>
 * <li>test_broken_worker_during_computation → not ported yet (kills a nanny's worker twice
 *     mid-computation; slow in dask too).</li>
 * </ul>
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class FailedWorkersConformanceTest {
    static final Duration T = Duration.ofSeconds(30);

    static int inc(int x) {
        return x + 1;
    }

    static int sum(List<Integer> xs) {
        return xs.stream().mapToInt(Integer::intValue).sum();
    }

    static LocalCluster start() throws Exception {
        LocalCluster c = LocalCluster.builder().workers(2).threadsPerWorker(1).processes(true).nannies(false)
                .output(null).start();
        assertTrue(c.awaitWorkers(2, 30, TimeUnit.SECONDS), "two workers");
        return c;
    }


    /** Kills the worker process at {@code address} and waits until the scheduler has dropped it. */
    static void kill(Client client, String address) throws Exception {
        long pid = client.workersInfo().stream().filter(w -> w.address().equals(address))
                .mapToLong(dist.WorkerInfo::pid).findFirst().orElseThrow();
        ProcessHandle p = ProcessHandle.of(pid).orElseThrow();
        p.destroyForcibly();
        p.onExit().get(30, TimeUnit.SECONDS);
        assertTrue(Wait.until(T, () -> {
            try {
                return !client.ncores().containsKey(address);
            } catch (Exception e) {
                return false;
            }
        }), "the scheduler drops the killed worker");
    }

    static List<String> holders(Client c, Future<?> f) {
        try {
            return c.whoHas(List.of(f)).get(f.key());
        } catch (Exception e) {
            return null;
        }
    }

    static String firstWorker(Client client) throws Exception {
        return client.ncores().keySet().iterator().next();
    }

    // dask: test_submit_after_failed_worker (and test_submit_after_failed_worker_sync)
    @Test
    void submitAfterFailedWorker() throws Exception {
        try (LocalCluster cluster = start(); Client c = cluster.client()) {
            List<Future<Integer>> l = c.map(FailedWorkersConformanceTest::inc, IntStream.range(0, 10).boxed().toList());
            Futures.wait(l, T);
            kill(c, firstWorker(c));
            Future<Integer> total = c.<List<Integer>, Integer>submit(FailedWorkersConformanceTest::sum, Futures.all(l));
            assertEquals(IntStream.range(1, 11).sum(), total.result(T));
        }
    }

    // dask: test_gather_after_failed_worker
    @Test
    void gatherAfterFailedWorker() throws Exception {
        try (LocalCluster cluster = start(); Client c = cluster.client()) {
            List<Future<Integer>> l = c.map(FailedWorkersConformanceTest::inc, IntStream.range(0, 10).boxed().toList());
            Futures.wait(l, T);
            kill(c, firstWorker(c));
            assertEquals(IntStream.range(1, 11).boxed().toList(), c.gather(l));
        }
    }

    // dask: test_submit_after_failed_worker_async[closed], all four x/y placements in one cluster run:
    // x and y ask for a worker (the one that fails or the other) but allow others
    @Test
    void submitAfterFailedWorkerAsync() throws Exception {
        for (boolean xOnFailed : new boolean[]{false, true}) {
            for (boolean yOnFailed : new boolean[]{false, true}) {
                try (LocalCluster cluster = start(); Client c = cluster.client()) {
                    List<String> ws = List.copyOf(c.ncores().keySet());
                    String a = ws.get(0), b = ws.get(1);
                    Future<Integer> x = c.with(Options.defaults().key("x").workers(xOnFailed ? b : a)
                            .allowOtherWorkers(true)).submit(FailedWorkersConformanceTest::inc, 1);
                    assertEquals(2, x.result(T));
                    kill(c, b);
                    Future<Integer> y = c.with(Options.defaults().key("y").workers(yOnFailed ? b : a)
                            .allowOtherWorkers(true)).submit(FailedWorkersConformanceTest::inc, x);
                    assertEquals(3, y.result(T), "x on failed " + xOnFailed + ", y on failed " + yOnFailed);
                    assertEquals(List.of(a), c.whoHas(List.of(y)).get("y"));
                }
            }
        }
    }

    // dask: test_gather_then_submit_after_failed_workers (under nannies: each killed worker comes back)
    @Test
    void gatherThenSubmitAfterFailedWorkers() throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(4).threadsPerWorker(1).processes(true)
                .nannies(true).output(null).start(); Client c = cluster.client()) {
            assertTrue(cluster.awaitWorkers(4, 30, TimeUnit.SECONDS), "four workers");
            List<Future<Integer>> l = c.map(FailedWorkersConformanceTest::inc, IntStream.range(0, 20).boxed().toList());
            Futures.wait(l, T);
            kill(c, firstWorker(c));
            Future<Integer> total = c.<List<Integer>, Integer>submit(FailedWorkersConformanceTest::sum, Futures.all(l));
            int expected = IntStream.range(1, 21).sum();
            for (int i = 0; i < 3; i++) {
                assertEquals(expected, total.result(T));
                // the result is recomputed after each loss: wait until a worker holds it again
                List<String> holders = Wait.value(T, () -> holders(c, total), h -> h != null && !h.isEmpty());
                assertTrue(holders != null && !holders.isEmpty(), "total is held again");
                kill(c, holders.get(0));
                assertEquals(List.of(expected), c.gather(List.of(total)));
            }
        }
    }

    static int twice(int x) {
        return 2 * x;
    }

    // dask: test_restart_cleared (a restart leaves no task on the cluster); thread workers restart too
    @Test
    void restartCleared() throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(2).output(null).start(); Client c = cluster.client()) {
            Future<Integer> f = dist.Delayed.of(FailedWorkersConformanceTest::twice, 1)
                    .then(FailedWorkersConformanceTest::inc).persist(c).future();
            assertEquals(3, f.result(T));
            c.restart();
            assertTrue(f.isCancelled());
            assertTrue(c.hasWhat().values().stream().allMatch(List::isEmpty), "no data: " + c.hasWhat());
        }
    }

    // dask: test_forgotten_futures_dont_clean_up_new_futures (releasing a future from before a restart
    // leaves the same key submitted after it alone)
    @Test
    void forgottenFuturesDontCleanUpNewFutures() throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(2).output(null).start(); Client c = cluster.client()) {
            Future<Integer> x = c.submit(FailedWorkersConformanceTest::inc, 1);
            c.restart();
            Future<Integer> y = c.submit(FailedWorkersConformanceTest::inc, 1);
            x.release();
            assertEquals(2, y.result(T));
        }
    }

    static volatile CountDownLatch gate = new CountDownLatch(1);

    static int slowinc(int x) throws InterruptedException {
        gate.await(30, TimeUnit.SECONDS);
        return x + 1;
    }

    // dask: test_restart_during_computation (a restart while tasks run cancels them all and leaves
    // no task processing nor data)
    @Test
    void restartDuringComputation() throws Exception {
        gate = new CountDownLatch(1);
        try (LocalCluster cluster = LocalCluster.builder().workers(2).output(null).start(); Client c = cluster.client()) {
            List<Future<Integer>> xs = c.map(FailedWorkersConformanceTest::slowinc, IntStream.range(0, 50).boxed().toList());
            assertTrue(Wait.until(T, () -> xs.stream().anyMatch(f -> "processing".equals(state(c, f)))),
                    "something is processing");
            c.restart();
            gate.countDown();
            assertTrue(xs.stream().allMatch(Future::isCancelled), "all cancelled");
            assertTrue(c.hasWhat().values().stream().allMatch(List::isEmpty), "no data: " + c.hasWhat());
        } finally {
            gate.countDown();
        }
    }

    static String state(Client c, Future<?> f) {
        try {
            return c.taskStatus(f).state();
        } catch (Exception e) {
            return String.valueOf(e);
        }
    }

    /**
     * dask: test_failed_workers.py::test_restart_scheduler — two workers under nannies; after a
     * restart there are two workers again, each with a process id, and none of them is an old process.
     */
    @Test
    void restartUnderNanniesGivesEveryWorkerANewProcess() throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(2).threadsPerWorker(1).processes(true)
                .output(null).start(); Client c = cluster.client()) {
            assertTrue(cluster.awaitWorkers(2, 30, TimeUnit.SECONDS), "two workers");
            List<dist.WorkerInfo> before = c.workersInfo();
            assertEquals(2, before.size());
            Set<Long> pids = new java.util.HashSet<>();
            for (dist.WorkerInfo w : before) {
                assertTrue(w.pid() > 0, w.toString());
                pids.add(w.pid());
            }

            c.restart();

            List<dist.WorkerInfo> after = c.workersInfo();
            assertEquals(2, after.size(), after.toString());
            for (dist.WorkerInfo w : after) {
                assertTrue(w.pid() > 0, w.toString());
                assertFalse(pids.contains(w.pid()), "an old worker process is still registered: " + w);
            }
            assertEquals(2, c.submit(FailedWorkersConformanceTest::inc, 1).result(T));
        }
    }

    /**
     * dask: test_failed_workers.py::test_restart_hung_worker — a worker whose process no longer
     * answers (stopped with SIGSTOP here; dask blocks its event loop) is restarted by
     * restartWorkers through its nanny: one worker again, a new process.
     */
    @Test
    void restartHungWorker() throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(1).threadsPerWorker(2).processes(true)
                .output(null).start(); Client c = cluster.client()) {
            assertTrue(cluster.awaitWorkers(1, 30, TimeUnit.SECONDS), "one worker");
            dist.WorkerInfo hung = c.workersInfo().get(0);
            assertEquals(2, c.submit(FailedWorkersConformanceTest::inc, 1).result(T));
            signal("STOP", hung.pid());
            try {
                Map<String, String> answer = c.restartWorkers(List.of(hung.address()));
                assertEquals(Map.of(hung.address(), "OK"), answer);
                List<dist.WorkerInfo> after = c.workersInfo();
                assertEquals(1, after.size(), after.toString());
                assertNotEquals(hung.pid(), after.get(0).pid(), "the hung process is not the worker any more");
                assertEquals(3, c.with(dist.Options.defaults().pure(false))
                        .submit(FailedWorkersConformanceTest::inc, 2).result(T));
            } finally {
                ProcessHandle.of(hung.pid()).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    private static void signal(String sig, long pid) throws Exception {
        Process p = new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).inheritIO().start();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS), "kill -" + sig);
    }
}
