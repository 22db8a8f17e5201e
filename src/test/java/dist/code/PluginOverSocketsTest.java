package dist.code;

import dist.TaskFailedException;
import dist.Client;
import dist.Future;
import dist.comm.CommConfig;
import dist.scheduler.SchedulerConfig;
import dist.scheduler.SchedulerPlugin;
import dist.scheduler.SchedulerServer;
import dist.worker.WorkerServer;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Plugins inside a real scheduler: they see the work, and one that throws changes nothing else. */
class PluginOverSocketsTest {

    public static final class Counter implements SchedulerPlugin {
        static final AtomicInteger TRANSITIONS = new AtomicInteger();
        static final AtomicInteger FINISHED = new AtomicInteger();
        static final AtomicInteger ERRED = new AtomicInteger();
        static final AtomicInteger WORKERS = new AtomicInteger();

        @Override
        public void transition(String key, String from, String to) {
            TRANSITIONS.incrementAndGet();
        }

        @Override
        public void taskFinished(String key) {
            FINISHED.incrementAndGet();
        }

        @Override
        public void taskErred(String key) {
            ERRED.incrementAndGet();
        }

        @Override
        public void addWorker(String worker) {
            WORKERS.incrementAndGet();
        }
    }

    public static final class Thrower implements SchedulerPlugin {
        @Override
        public void start(SchedulerServer scheduler) {
            throw new IllegalStateException("plugin failure on purpose");
        }

        @Override
        public void transition(String key, String from, String to) {
            throw new IllegalStateException("plugin failure on purpose");
        }

        @Override
        public void updateGraph(String clientId, List<String> keys) {
            throw new OutOfMemoryError("plugin failure on purpose");
        }
    }

    static int inc(int x) {
        return x + 1;
    }

    static int bad(int x) {
        throw new ArithmeticException("bad " + x);
    }

    @Test
    void pluginsLoadedByNameSeeTransitionsAndAThrowingPluginIsHarmless() throws Exception {
        ClassLoader l = getClass().getClassLoader();
        List<SchedulerPlugin> plugins = List.of(SchedulerPlugin.load(Thrower.class.getName(), l),
                SchedulerPlugin.load(Counter.class.getName(), l));
        try (SchedulerServer s = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT, plugins);
             WorkerServer w = WorkerServer.start(WorkerServer.Options.of(s.address(), 1));
             Client c = Client.connect(s.address())) {
            assertTrue(s.awaitWorkers(1, 10, TimeUnit.SECONDS));
            List<Future<Integer>> fs = c.map(PluginOverSocketsTest::inc, List.of(1, 2, 3));
            assertEquals(List.of(2, 3, 4), c.gather(fs));
            Future<Integer> f = c.submit(PluginOverSocketsTest::bad, 1);
            assertThrows(TaskFailedException.class, () -> f.result(Duration.ofSeconds(30)));
            // callbacks run after the event on the owner thread; a query queued behind them sees them done
            s.query(st -> null, 10, TimeUnit.SECONDS);
            assertEquals(3, Counter.FINISHED.get());
            assertEquals(1, Counter.ERRED.get());
            assertEquals(1, Counter.WORKERS.get());
            assertTrue(Counter.TRANSITIONS.get() >= 4 * 2, "transitions: " + Counter.TRANSITIONS.get());
        }
    }
}
