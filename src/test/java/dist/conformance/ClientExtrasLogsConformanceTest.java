package dist.conformance;

import dist.Client;
import dist.Futures;
import dist.LocalCluster;
import dist.LogEntry;
import dist.Options;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * dask's get_scheduler_logs and get_worker_logs (test_client.py), with workers in processes of their own
 * under nannies, so each worker's records are its own: the scheduler keeps those of its dist.scheduler
 * loggers, each worker those of its dist.worker loggers and those its tasks log, each nanny those of
 * its dist.nanny loggers. test_logs_from_worker_submodules' second half logs from inside a nanny with
 * run(nanny=True); dist runs no code on nannies, so there only the worker's half is ported.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClientExtrasLogsConformanceTest {
    static final Duration T = Duration.ofSeconds(30);
    static LocalCluster cluster;
    static Client client;

    @BeforeAll
    static void start() throws Exception {
        cluster = LocalCluster.builder().workers(2).threadsPerWorker(1).processes(true).nannies(true).output(null)
                .start();
        client = cluster.client();
        client.waitForWorkers(2, T);
    }

    @AfterAll
    static void stop() {
        if (client != null) client.close();
        if (cluster != null) cluster.close();
    }

    static int inc(int x) {
        return x + 1;
    }

    /**
     * dask: test_client.py::test_logs — the scheduler's newest records (at most n) all come from its
     * scheduler loggers; each worker answers with its own, from its worker loggers, and only the
     * workers asked answer.
     */
    @Test
    void logs() throws Exception {
        Futures.wait(client.map(ClientExtrasLogsConformanceTest::inc, List.of(0, 1, 2, 3, 4)), T);
        List<LogEntry> logs = client.schedulerLogs(5);
        assertFalse(logs.isEmpty());
        assertTrue(logs.size() <= 5, logs.toString());
        for (LogEntry e : logs) {
            assertTrue(e.toString().contains("dist.scheduler"), e.toString());
            assertFalse(e.level().isEmpty(), e.toString());
        }
        Set<String> workers = client.ncores().keySet();
        Map<String, List<LogEntry>> w = client.workerLogs(5);
        assertEquals(workers, w.keySet());
        for (List<LogEntry> log : w.values()) {
            assertTrue(log.size() <= 5, log.toString());
            for (LogEntry e : log) {
                assertTrue(e.toString().contains("dist.worker"), e.toString());
            }
        }
        String a = workers.iterator().next();
        assertEquals(Set.of(a), client.workerLogs(5, List.of(a)).keySet());

        Map<String, List<LogEntry>> n = client.nannyLogs(0);
        assertEquals(workers, n.keySet());
        for (List<LogEntry> log : n.values()) {
            assertFalse(log.isEmpty(), "each nanny logged its start");
            for (LogEntry e : log) {
                assertTrue(e.toString().contains("dist.nanny"), e.toString());
            }
        }
        n = client.nannyLogs(0, List.of(a));
        assertEquals(Set.of(a), n.keySet());
        for (LogEntry e : n.get(a)) {
            assertTrue(e.toString().contains("dist.nanny"), e.toString());
        }
    }

    static int logFromWorker() {
        System.getLogger("dist.worker").log(System.Logger.Level.INFO, "AAA");
        System.getLogger("dist.worker.memory").log(System.Logger.Level.INFO, "BBB");
        java.util.logging.Logger.getLogger("dist.worker.state").info("CCC");
        return 0;
    }

    static int logFromTask() {
        java.util.logging.Logger.getLogger("com.acme.etl").warning("row 7 is malformed");
        return 0;
    }

    /**
     * dask: test_client.py::test_logs_from_worker_submodules — records of the worker's logger and of
     * loggers below it come back newest first as {@code logger - LEVEL - message}; so does a record a
     * task logs to a logger of its own.
     */
    @Test
    void logsFromWorkerSubmodules() throws Exception {
        String a = client.ncores().keySet().iterator().next();
        client.run(ClientExtrasLogsConformanceTest::logFromWorker, List.of(a));
        List<String> logs = client.workerLogs(0).get(a).stream().map(LogEntry::toString).toList();
        assertEquals(List.of("dist.worker.state - INFO - CCC", "dist.worker.memory - INFO - BBB",
                "dist.worker - INFO - AAA"), logs.subList(0, 3));

        client.with(Options.defaults().workers(a).pure(false)).submit(ClientExtrasLogsConformanceTest::logFromTask)
                .result(T);
        LogEntry newest = client.workerLogs(1, List.of(a)).get(a).get(0);
        assertEquals("com.acme.etl - WARNING - row 7 is malformed", newest.toString());
    }
}
