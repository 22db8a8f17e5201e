package dist.scheduler;

import dist.Client;
import dist.Future;
import dist.Wait;
import dist.comm.CommConfig;
import dist.comm.Connection;
import dist.protocol.Message;
import dist.protocol.Role;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * An Error thrown while the scheduler's timer drives an event (here by a plugin) is logged and the
 * timer goes on: workers that stop sending heartbeats are still removed afterwards.
 */
@Timeout(120)
class TickerSurvivalTest {

    /** Once armed, throws an Error from the next transition it sees. */
    static final class ErrOnce implements SchedulerPlugin {
        final AtomicBoolean armed = new AtomicBoolean();
        final AtomicInteger thrown = new AtomicInteger();

        @Override
        public void transition(String key, String from, String to) {
            if (armed.compareAndSet(true, false)) {
                thrown.incrementAndGet();
                throw new InternalError("a plugin failed on purpose");
            }
        }
    }

    static int inc(int x) {
        return x + 1;
    }

    /** A worker that registers and then says nothing more: no heartbeats, no answers. */
    private static Connection silentWorker(SchedulerServer s, String address) throws Exception {
        Connection c = Connection.connect(s.address(), Role.WORKER, CommConfig.DEFAULT, (conn, m, id) -> { });
        Message reply = c.request(new Message.RegisterWorker(address, address, 1, 0, 1, Map.of()))
                .get(10, TimeUnit.SECONDS);
        assertInstanceOf(Message.WorkerAccepted.class, reply);
        return c;
    }

    @Test
    void theTimerOutlivesAnErrorAndStillRemovesSilentWorkers() throws Exception {
        ErrOnce plugin = new ErrOnce();
        SchedulerConfig config = SchedulerConfig.defaults().withWorkerTimeout(Duration.ofMillis(1500));
        try (SchedulerServer s = SchedulerServer.start("127.0.0.1", 0, config, CommConfig.DEFAULT, List.of(plugin));
             Connection first = silentWorker(s, "10.9.9.1:1");
             Client client = Client.connect(s.address())) {
            // a task placed on the silent worker: removing that worker changes the task's state
            Future<Integer> f = client.submit(TickerSurvivalTest::inc, 1);
            assertTrue(Wait.until(Duration.ofSeconds(10),
                    () -> "processing".equals(query(s, st -> st.view().stateOf(f.key())))), "the task was not placed");
            plugin.armed.set(true);
            // the timer removes the silent worker, and the plugin throws on that transition
            assertTrue(Wait.until(Duration.ofSeconds(15), () -> plugin.thrown.get() == 1), "the plugin was not called");
            assertTrue(Wait.until(Duration.ofSeconds(15), () -> s.workerCount() == 0), "the first worker stayed");

            // a second silent worker must go the same way: the timer still runs
            try (Connection second = silentWorker(s, "10.9.9.2:1")) {
                assertTrue(Wait.until(Duration.ofSeconds(10), () -> s.workerCount() == 1));
                assertTrue(Wait.until(Duration.ofSeconds(15), () -> s.workerCount() == 0),
                        "a worker without heartbeats was never removed: the timer died");
            }
        }
    }

    private static <T> T query(SchedulerServer s, java.util.function.Function<SchedulerState, T> read) {
        try {
            return s.query(read, 5, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("the scheduler did not answer a query", e);
        }
    }
}
