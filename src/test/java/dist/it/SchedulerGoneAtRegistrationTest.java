package dist.it;

import dist.comm.CommConfig;
import dist.comm.Connection;
import dist.comm.Handler;
import dist.comm.Server;
import dist.protocol.Message;
import dist.protocol.Role;
import dist.worker.WorkerServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A scheduler that goes away the moment it has accepted a worker: the worker registers again. The
 * link's end then often reached the worker before its state machine existed, and the worker, with
 * nothing to reconnect for, waited for ever; {@code WorkerProcessConformanceTest.schedulerCrashDoesntRestart}
 * (after dask's test_nanny.py::test_scheduler_crash_doesnt_restart) killed its scheduler in that moment.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SchedulerGoneAtRegistrationTest {

    /** Five times: the end of the link lands before or after the state machine exists, by chance. */
    @Test
    void aLinkThatEndsAsTheWorkerIsAcceptedIsReconnected() throws Exception {
        for (int round = 0; round < 5; round++) {
            acceptedThenGone(round);
        }
    }

    private static void acceptedThenGone(int round) throws Exception {
        CountDownLatch twice = new CountDownLatch(2);
        List<Connection> links = new CopyOnWriteArrayList<>();
        Handler scheduler = new Handler() {
            @Override
            public void onMessage(Connection c, Message m, long requestId) {
                if (m instanceof Message.RegisterWorker) {
                    c.reply(requestId, new Message.WorkerAccepted("gone-at-once", 500));
                    links.add(c);
                    twice.countDown();
                    if (links.size() == 1) {
                        c.close(); // the reply goes first, then the link ends
                    }
                }
            }
        };
        try (Server s = Server.listen("127.0.0.1", 0, Role.SCHEDULER, CommConfig.DEFAULT, c -> scheduler);
             WorkerServer w = WorkerServer.start(WorkerServer.Options.of("127.0.0.1:" + s.port(), 1))) {
            assertTrue(twice.await(20, TimeUnit.SECONDS), "round " + round + ": the worker registered " + links.size()
                    + " time(s); it should have come back after the link ended");
            assertTrue(links.get(1).isOpen(), "round " + round + ": the second link stays");
        }
    }
}
