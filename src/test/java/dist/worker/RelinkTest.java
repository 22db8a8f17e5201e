package dist.worker;

import dist.Client;
import dist.Fn0;
import dist.Future;
import dist.TcpRelay;
import dist.Wait;
import dist.comm.CommConfig;
import dist.scheduler.SchedulerConfig;
import dist.scheduler.SchedulerPlugin;
import dist.scheduler.SchedulerServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.*;

/** A worker that loses its scheduler link and registers again loses no result on the way. */
@Timeout(120)
class RelinkTest {
    static final Duration T = Duration.ofSeconds(30);
    static final CountDownLatch STARTED = new CountDownLatch(1);
    static final CountDownLatch RELEASE = new CountDownLatch(1);

    static String blockUntilReleased() throws InterruptedException {
        STARTED.countDown();
        return RELEASE.await(60, TimeUnit.SECONDS) ? "done" : "not released";
    }

    /** Once armed, holds the scheduler's next worker registration (and so its answer) until opened. */
    static final class RegistrationGate implements SchedulerPlugin {
        final AtomicBoolean armed = new AtomicBoolean();
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch open = new CountDownLatch(1);

        @Override
        public void addWorker(String worker) {
            if (armed.compareAndSet(true, false)) {
                entered.countDown();
                try {
                    open.await(60, TimeUnit.SECONDS); // on the scheduler's thread: nothing goes out meanwhile
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    @Test
    void aTaskThatFinishesWhileItsWorkerRegistersAgainIsReportedOnTheNewLink() throws Exception {
        RegistrationGate gate = new RegistrationGate();
        try (SchedulerServer scheduler = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(),
                CommConfig.DEFAULT, List.of(gate));
             TcpRelay relay = new TcpRelay(port(scheduler.address()), false);
             WorkerServer worker = WorkerServer.start(new WorkerServer.Options(relay.address(), "127.0.0.1", 0, 1,
                     "relinked", 0, 8 * 1024, CommConfig.DEFAULT));
             Client client = Client.connect(scheduler.address())) {
            assertTrue(scheduler.awaitWorkers(1, 10, TimeUnit.SECONDS));
            Future<String> f = client.submit((Fn0<String>) RelinkTest::blockUntilReleased);
            assertTrue(STARTED.await(30, TimeUnit.SECONDS));

            // the link drops and the worker registers again; before the scheduler answers, the task
            // finishes: its result must go out on the new link, not on the dead one
            gate.armed.set(true);
            relay.cut();
            assertTrue(gate.entered.await(30, TimeUnit.SECONDS), "the worker never registered again");
            long registered = relay.bytesToTarget();
            RELEASE.countDown();
            assertTrue(Wait.until(T, () -> worker.dataStore().contains(f.key())), "the task never finished");
            assertTrue(Wait.until(T, () -> relay.bytesToTarget() > registered),
                    "the finished task was not reported on the new link");
            gate.open.countDown();

            assertEquals("done", f.result(T));
        } finally {
            gate.open.countDown();
        }
    }

    private static int port(String address) {
        return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
    }
}
