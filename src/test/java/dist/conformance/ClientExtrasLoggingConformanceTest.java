package dist.conformance;

import dist.Client;
import dist.LocalCluster;
import dist.Options;
import dist.Wait;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * dask's test_forward_logging, with a worker in a process of its own: a record a task logs there
 * reaches this process only if it is forwarded. java.util.logging stands in for Python's logging:
 * its default level is INFO where Python's is WARNING, so FINE plays dask's INFO record, SEVERE
 * dask's ERROR and CRITICAL, and WARNING the ERROR that a CRITICAL threshold leaves out.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClientExtrasLoggingConformanceTest {
    static final Duration T = Duration.ofSeconds(30);
    static LocalCluster cluster;
    static Client client;

    @BeforeAll
    static void start() throws Exception {
        cluster = LocalCluster.builder().workers(1).threadsPerWorker(1).processes(true).nannies(false).output(null)
                .start();
        client = cluster.client();
        client.waitForWorkers(1, T);
    }

    @AfterAll
    static void stop() {
        if (client != null) client.close();
        if (cluster != null) cluster.close();
    }

    /** captured_logger: what reaches {@code logger}'s handlers here while {@code task} runs on the worker. */
    static String captured(String logger, dist.Fn0<Integer> task, String awaited) throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        Handler h = new Handler() {
            @Override
            public void publish(LogRecord r) {
                seen.add(r.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger log = Logger.getLogger(logger);
        log.addHandler(h);
        try {
            assertEquals(0, client.with(Options.defaults().pure(false)).submit(task).result(T));
            if (awaited != null) {
                Wait.until(T, () -> String.join("\n", seen).contains(awaited));
            }
            return String.join("\n", seen);
        } finally {
            log.removeHandler(h);
        }
    }

    static int doError() {
        Logger.getLogger("test.logger").severe("Hello error");
        return 0;
    }

    static int doException() {
        try {
            throw new IllegalArgumentException("wrong value");
        } catch (IllegalArgumentException e) {
            Logger.getLogger("test.logger").log(Level.SEVERE, "oops", e);
        }
        return 0;
    }

    static int doFine() {
        Logger.getLogger("test.logger").fine("Hello info");
        return 0;
    }

    static int doFine2() {
        Logger logger = Logger.getLogger("test.logger");
        logger.setLevel(Level.FINE);
        logger.fine("Hello info");
        return 0;
    }

    static int doErrorOther() {
        Logger.getLogger("test.other_logger").severe("Hello error");
        return 0;
    }

    static int doErrorYetAnother() {
        Logger.getLogger("test.yet_another_logger").warning("Hello error");
        return 0;
    }

    static int doCriticalYetAnother() {
        Logger.getLogger("test.yet_another_logger").severe("Hello criticality");
        return 0;
    }

    /**
     * dask: test_client.py::test_forward_logging — forwarding the root logger: a task's error record
     * reaches the client's "test.logger", with its exception's text; a record below the worker's
     * level is not forwarded until both sides' levels let it through; after unforwarding nothing
     * comes; forwarding one logger brings only its records; a forwarding level leaves out records
     * below it.
     */
    @Test
    void forwardLogging() throws Exception {
        client.forwardLogging("");
        assertTrue(captured("test.logger", ClientExtrasLoggingConformanceTest::doError, "Hello error")
                .contains("Hello error"));

        String out = captured("test.logger", ClientExtrasLoggingConformanceTest::doException, "wrong value");
        assertTrue(out.contains("oops"), out);
        assertTrue(out.contains("\tat "), out); // the traceback
        assertTrue(out.contains("IllegalArgumentException: wrong value"), out);

        assertFalse(captured("test.logger", ClientExtrasLoggingConformanceTest::doFine, null).contains("Hello info"));

        Logger clientSide = Logger.getLogger("test.logger");
        clientSide.setLevel(Level.FINE);
        try {
            assertTrue(captured("test.logger", ClientExtrasLoggingConformanceTest::doFine2, "Hello info")
                    .contains("Hello info"));
        } finally {
            clientSide.setLevel(null);
        }

        client.unforwardLogging("");
        assertFalse(captured("test.logger", ClientExtrasLoggingConformanceTest::doError, null).contains("Hello error"));

        client.forwardLogging("test.other_logger");
        assertFalse(captured("test.logger", ClientExtrasLoggingConformanceTest::doError, null).contains("Hello error"));
        assertTrue(captured("test.other_logger", ClientExtrasLoggingConformanceTest::doErrorOther, "Hello error")
                .contains("Hello error"));
        client.unforwardLogging("test.other_logger");

        client.forwardLogging("test.yet_another_logger", Level.SEVERE);
        assertFalse(captured("test.yet_another_logger", ClientExtrasLoggingConformanceTest::doErrorYetAnother, null)
                .contains("Hello error"));
        assertTrue(captured("test.yet_another_logger", ClientExtrasLoggingConformanceTest::doCriticalYetAnother,
                "Hello criticality").contains("Hello criticality"));
    }
}
